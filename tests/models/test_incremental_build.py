"""An incremental build after new submissions land gives exactly what a full rebuild gives: every mart, every row.

The sample (2022-2024) is built without its last quarter (2024Q4) and without the 苏州 2023 correction; then both
land and the next run of the main job is incremental. A copy of that warehouse rebuilt by the job with
full_refresh is the reference. Every build here is the Dagster job that `make run` runs, checks included.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import numpy as np
import pytest

from tests.support import jobs
from tools import sample_data

LATE = ("2024/2024Q4/", "_更正.csv")
Builds = tuple[Path, Path, Path, int, dict[str, Path]]
# statistics summed in floating point, whose last digits follow the order rows are read in (a full build and an
# incremental one store a mart's rows in different orders): compared to 1e-9, the rest of the row exactly
FLOAT_STATISTICS = {
    "fct_indicator_screening": (
        "indicator_screening_key",
        ["mean_value", "standard_deviation", "skewness", "kurtosis"],
    ),
    "fct_indicator_correlations": ("indicator_correlation_key", ["pearson_r"]),
}


def _tables(con: duckdb.DuckDBPyConnection, schema: str) -> list[str]:
    return [
        name
        for (name,) in con.execute(
            "select table_name from information_schema.tables where table_catalog = current_database() "
            "and table_schema = ? and table_type = 'BASE TABLE' order by 1",
            [schema],
        ).fetchall()
    ]


@pytest.fixture(scope="module")
def incremental_and_full(tmp_path_factory: pytest.TempPathFactory) -> Builds:
    """(incremental warehouse, its full-refresh copy, the incremental run's dbt target, files of the first run,
    the quality records of the incremental and the full-refresh runs)"""
    root = tmp_path_factory.mktemp("incremental")
    landing, held_back = root / "landing", root / "held_back"
    sample_data.generate_sample(landing, years=[2022, 2023, 2024])  # three years keep it quick
    for path in sorted(landing.rglob("*.csv")):
        rel = path.relative_to(landing).as_posix()
        if any(part in rel for part in LATE):
            (held_back / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.move(path, held_back / rel)
    warehouse = root / "incremental.duckdb"
    settings = jobs.overrides(root, warehouse=warehouse, landing=landing)
    first = jobs.run_job(settings)
    assert first.success, jobs.dbt_result(first, settings).failures
    first_files = jobs.materialization_metadata(first, "raw/submissions")["files_loaded"]

    shutil.copytree(held_back, landing, dirs_exist_ok=True)
    second = jobs.run_job(settings)
    assert second.success, jobs.dbt_result(second, settings).failures
    # 13 cities' 2024Q4 files and the correction
    assert jobs.materialization_metadata(second, "raw/submissions")["files_loaded"] == 14

    full = root / "full.duckdb"
    shutil.copyfile(warehouse, full)
    # the full refresh publishes beside a copy of the incremental run's releases: it must not reuse them
    shutil.copytree(root / "published", root / "full" / "published", symlinks=True)
    full_settings = jobs.overrides(root / "full", warehouse=full, landing=landing)
    rebuilt = jobs.run_job(full_settings, full_refresh=True)
    assert rebuilt.success, jobs.dbt_result(rebuilt, full_settings).failures
    records = {
        "incremental": root / "quality" / "runs" / f"{second.run_id}.json",
        "full_refresh": root / "full" / "quality" / "runs" / f"{rebuilt.run_id}.json",
    }
    return warehouse, full, jobs.dbt_target(second, settings), first_files, records


def test_incremental_build_equals_full_rebuild(incremental_and_full: Builds) -> None:
    warehouse, full, *_ = incremental_and_full
    # dbt-duckdb may still hold both files open in this process: one connection each, same configuration
    mine, theirs = duckdb.connect(str(warehouse)), duckdb.connect(str(full))
    compared = 0
    for schema in ("marts", "intermediate"):
        tables = _tables(mine, schema)
        assert tables and tables == _tables(theirs, schema)
        for table in tables:
            # every row, order aside: the row count and the sum of the rows' hashes
            key, floats = FLOAT_STATISTICS.get(table, (None, []))
            relation = f'{schema}."{table}"'
            rows = f"(select * exclude ({', '.join(floats)}) from {relation})" if floats else relation
            sql = f"select count(*), sum(hash(t)::hugeint) from {rows} t"
            signature = mine.execute(sql).fetchone()
            if signature != theirs.execute(sql).fetchone():
                a = mine.execute(f'select * from {schema}."{table}"').df()
                b = theirs.execute(f'select * from {schema}."{table}"').df()
                diff = a.merge(b, how="outer", indicator=True).query("_merge != 'both'")
                pytest.fail(f"{schema}.{table} differs from the full rebuild:\n{diff.head(6).to_string()}")
            compared += signature[0]
            for column in floats:
                sql = f"select {key}, cast({column} as double) as v from {schema}.{table}"
                both = mine.execute(sql).df().merge(theirs.execute(sql).df(), on=key, suffixes=("_mine", "_full"))
                assert len(both) == signature[0]
                assert np.allclose(both["v_mine"], both["v_full"], rtol=1e-9, atol=1e-12, equal_nan=True), column
    assert compared > 200_000
    assert mine.execute("select count(*) from marts.fct_monitoring_warnings where period_code = '2024Q4'").fetchone()[0]


def test_incremental_build_recomputed_only_the_touched_years(
    incremental_and_full: Builds,
) -> None:
    """The correction touches 2023 and the new quarter 2024: the year models recompute 2023 onwards only, the
    load models only the 14 new files."""
    warehouse, _, target, first_files, _ = incremental_and_full
    # the run's year-rebuild plan (on-run-start) is dropped when the build state moves: none is left to go stale
    con = duckdb.connect(str(warehouse))  # as the other tests here open it: one configuration per file
    try:
        left = con.execute("select count(*) from duckdb_tables() where table_name = 'hqd_rebuild_plan'").fetchone()
    finally:
        con.close()
    assert left == (0,)
    run = target / "compiled" / "hqd" / "models"
    scores = (run / "marts" / "assessment" / "fct_indicator_scores.sql").read_text(encoding="utf-8")
    assert "assessment_year >= 2023" in scores
    warnings = (run / "marts" / "monitoring" / "fct_monitoring_warnings.sql").read_text(encoding="utf-8")
    assert "assessment_year = 2022 and quarter = 4" in warnings  # carried in from 2022Q4
    validated = (run / "intermediate" / "submissions" / "int_submissions_validated.sql").read_text(encoding="utf-8")
    assert f"load_seq > {first_files}" in validated  # the files of the first build, not one more


def test_incremental_data_tests_read_only_the_rebuilt_years(incremental_and_full: Builds) -> None:
    """The data tests of a model rebuilt by year, and of a view over one, read the years this build rebuilt
    (macros/incremental.sql, get_where_subquery); those of a model rebuilt by load or whole read everything."""
    _, _, target, first_files, _ = incremental_and_full
    tests = target / "compiled" / "hqd" / "models" / "marts"
    key = tests / "assessment" / "_assessment__models.yml" / "unique_fct_indicator_scores_indicator_score_key.sql"
    assert '"fct_indicator_scores" where assessment_year >= 2023) dbt_subquery' in key.read_text(encoding="utf-8")
    tier = tests / "assessment" / "_assessment__models.yml" / "not_null_fct_region_assessment_tier.sql"
    assert "fct_region_assessment" in tier.read_text(encoding="utf-8")  # a table rebuilt whole: every year
    assert "dbt_subquery" not in tier.read_text(encoding="utf-8")
    submissions = tests / "submissions" / "_submissions__models.yml"
    rejected = submissions / "not_null_fct_rejected_submissions_submission_id.sql"
    assert "dbt_subquery" not in rejected.read_text(encoding="utf-8")  # rebuilt by load: every row
    condition = "where assessment_year >= 2023) dbt_subquery"
    # a Chinese-labelled view over a year-rebuilt mart follows it (its other inputs are dims made from seeds)
    zh = target / "compiled" / "hqd" / "models" / "marts_zh" / "_marts_zh__models.yml"
    assert condition in (zh / "unique_fct_indicator_scores_zh_indicator_score_key.sql").read_text(encoding="utf-8")
    assert "dbt_subquery" not in (zh / "unique_fct_region_assessment_zh_region_assessment_key.sql").read_text("utf-8")
    # the staging view's tests read the loads validation had not taken in: the 14 new files
    staged = target / "compiled" / "hqd" / "models" / "staging" / "landing" / "_landing__models.yml"
    unique = next(staged.glob("unique_stg_landing__submissions_*.sql")).read_text(encoding="utf-8")
    assert f'"stg_landing__submissions" where load_seq > {first_files}) dbt_subquery' in unique
    filtered = [p for p in tests.rglob("*.sql") if condition in p.read_text(encoding="utf-8")]
    # the year-partitioned marts' generic tests, never more than the tests there are
    assert 30 <= len(filtered) < len(list(tests.rglob("*.sql")))


def _releases(publish_dir: Path) -> list[dict]:
    """The manifests of the complete releases in a publication folder, oldest first."""
    names = sorted(p.name for p in (publish_dir / "releases").iterdir() if not p.name.startswith("."))
    return [json.loads((publish_dir / "releases" / n / "manifest.json").read_text(encoding="utf-8")) for n in names]


def test_incremental_publication_rewrote_only_the_touched_years(
    incremental_and_full: Builds,
) -> None:
    """After the correction (2023) and the new quarter (2024), the second release links every 2022 file and every
    unchanged file of the first release (same inode and bytes), writes the changed ones, and reads exactly as the
    warehouse's marts, every row of every mart."""
    warehouse = incremental_and_full[0]
    publish_dir = warehouse.parent / "published"
    first, second = _releases(publish_dir)
    assert second["reuse"]["base_release"] == first["release"]
    assert second["reuse"]["duckdb_from"] == "base_release"
    before = {(t, p["key"]): p for t, info in first["marts"].items() for p in info["parts"]}
    old, new = publish_dir / "releases" / first["release"], publish_dir / "releases" / second["release"]
    written, reused = set(), set()
    for table, info in second["marts"].items():
        for part in info["parts"]:
            key, path = (table, part["key"]), new / part["file"]
            same = key in before and before[key]["fingerprint"] == part["fingerprint"]
            if same:
                assert path.stat().st_ino == (old / before[key]["file"]).stat().st_ino, key
                reused.add(key)
            else:
                assert key not in before or path.read_bytes() != (old / before[key]["file"]).read_bytes(), key
                written.add(key)
    # nothing of 2022 was written; 2024 and the 2023 correction were
    assert not {k for k in written if k[1] == "2022"}
    assert {
        ("fct_indicator_values", "2024"),
        ("fct_indicator_values", "2023"),
        ("fct_monitoring_warnings", "2024"),
    } <= (written)
    assert {k for k in reused if k[1] == "2022"} == {k for k in before if k[1] == "2022"}
    assert (len(written), len(reused)) == (second["reuse"]["parquet_written"], second["reuse"]["parquet_reused"])
    # the marts rebuilt by year were fingerprinted from 2023 on only, the earlier years taken from the first
    # release (dbt's build state took in the new loads and nothing else); the rows below prove the result
    through = [release["marts"]["fct_two_colour"]["build"]["load_seq_through"] for release in (first, second)]
    assert through[0] < through[1]
    assert second["rows_fingerprinted"] < first["rows_fingerprinted"]
    # the release reads exactly as the warehouse: DuckDB file and Parquet folders, every row of every mart
    con = duckdb.connect(str(warehouse))  # dbt-duckdb may hold the file open in this process: same configuration
    try:
        con.execute(f"attach '{new / 'hqd_marts.duckdb'}' as rel (read_only)")
        for table in second["marts"]:
            for published in (f"rel.marts.{table}", f"read_parquet('{new / 'parquet' / table}/*.parquet')"):
                for a, b in ((published, f"marts.{table}"), (f"marts.{table}", published)):
                    extra = con.execute(f"select count(*) from (from {a} except all from {b})").fetchone()[0]
                    assert extra == 0, (table, a, b)
    finally:
        con.close()


def _suite_records(path: Path) -> dict[str, dict]:
    """A run's quality outcomes (the check steps' record) by suite name."""
    return {r["result"]["suite"]: r["result"] for r in json.loads(path.read_text(encoding="utf-8"))}


def _count(warehouse: Path, sql: str) -> int:
    con = duckdb.connect(str(warehouse))
    try:
        return con.execute(sql).fetchone()[0]
    finally:
        con.close()


def test_incremental_checks_read_only_what_changed(incremental_and_full: Builds) -> None:
    """The gate of the incremental run validates the 14 new files' raw and staged rows and the years they rebuilt
    (the 2023 correction: 2023 onwards); the full refresh validates everything again."""
    warehouse, full, _, first_files, records = incremental_and_full
    incremental = _suite_records(records["incremental"])
    # the sample's scores miss values in its configured years without data (a warning): a suite that failed
    # anything is read whole until it passes; every other suite passed
    scores = incremental["marts__fct_indicator_scores"]
    assert scores["scope"]["condition"] is None and not scores["success"] and not scores["blocking_failed"]
    assert all(r["success"] for name, r in incremental.items() if name != "marts__fct_indicator_scores")
    staged = incremental["staging__stg_landing__submissions"]
    assert staged["scope"]["condition"] == f"load_seq > {first_files}"
    assert staged["rows_validated"] == _count(
        warehouse, f"select count(*) from raw.submissions where load_seq > {first_files}"
    )
    for suite, mart in [
        ("marts__fct_two_colour", "fct_two_colour"),
        ("marts__fct_region_feedback", "fct_region_feedback"),
        ("marts__fct_monitoring_warnings__regions", "fct_monitoring_warnings"),
    ]:
        assert incremental[suite]["scope"]["condition"] == "assessment_year >= 2023", suite
        expected = _count(warehouse, f"select count(*) from marts.{mart} where assessment_year >= 2023")
        everything = _count(warehouse, f"select count(*) from marts.{mart}")
        assert 0 < incremental[suite]["rows_validated"] == expected < everything, suite
    # a suite without a partition reads everything every time
    assert incremental["marts__fct_region_assessment"]["scope"]["condition"] is None
    full_refresh = _suite_records(records["full_refresh"])
    assert all(r["scope"]["condition"] is None and not r["blocking_failed"] for r in full_refresh.values())
    assert full_refresh["marts__fct_two_colour"]["rows_validated"] == _count(
        full, "select count(*) from marts.fct_two_colour"
    )


def test_full_refresh_publication_writes_everything(incremental_and_full: Builds) -> None:
    full = incremental_and_full[1]
    publish_dir = full.parent / "full" / "published"
    *copied, rebuilt = _releases(publish_dir)
    assert copied  # it had a current release to reuse, and did not
    assert rebuilt["reuse"] == {
        "base_release": None,
        "duckdb_from": "warehouse",
        "rows_copied": sum(info["row_count"] for info in rebuilt["marts"].values()),
        "parquet_written": sum(len(info["parts"]) for info in rebuilt["marts"].values()),
        "parquet_reused": 0,
    }


def test_a_quarter_alone_leaves_the_scoring_path_untouched(incremental_and_full: Builds) -> None:
    """Runs last: one more load on the incremental warehouse, a 2024Q3 correction whose period cells read
    `2024年1-9月` (year-to-date, as statistics bureaus write it). The quarter's models rebuild 2024; the scoring
    path (rebuilt_on='annual_values') reads no quarter and rebuilds nothing; the cumulative period text is found
    by the same parse as staging's (before, it matched no year and the quarter never reached the marts)."""
    warehouse = incremental_and_full[0]
    root = warehouse.parent
    landing = root / "landing"
    source = next((landing / "2024" / "2024Q3").glob("320100_*.csv"))
    lines = source.read_text(encoding="utf-8").splitlines()
    header, first = lines[0], lines[1].split(",")
    assert first[4] == "2024Q3"
    first[4], first[5] = "2024年1-9月", str(float(first[5]) + 1)
    (landing / "2024" / "2024Q3" / "320100_南京市_2024Q3_累计更正.csv").write_text(
        "\n".join([header, ",".join(first)]) + "\n", encoding="utf-8"
    )
    scoring = ("fct_indicator_scores", "fct_region_feedback", "fct_region_gaps", "fct_rank_robustness")
    # the screening marts read the annual scores only: incremental by year on the scoring path (national: 20 s of
    # a quarter's build when they were tables rebuilt whole)
    screening = ("fct_indicator_screening", "fct_indicator_correlations", "fct_region_data_availability")

    def signatures() -> dict[str, tuple]:
        con = duckdb.connect(str(warehouse))
        try:
            return {
                t: con.execute(f"select count(*), sum(hash(t)::hugeint) from marts.{t} t").fetchone()
                for t in (*scoring, *screening)
            }
        finally:
            con.close()

    before = signatures()
    settings = jobs.overrides(root, warehouse=warehouse, landing=landing)
    third = jobs.run_job(settings)
    assert third.success, jobs.dbt_result(third, settings).failures
    assert signatures() == before
    run = jobs.dbt_target(third, settings) / "compiled" / "hqd" / "models" / "marts"
    assert "assessment_year >= 10000" in (run / "assessment" / "fct_indicator_scores.sql").read_text(encoding="utf-8")
    for mart in screening:
        assert "assessment_year >= 10000" in (run / "screening" / f"{mart}.sql").read_text(encoding="utf-8"), mart
    warnings = (run / "monitoring" / "fct_monitoring_warnings.sql").read_text(encoding="utf-8")
    assert "assessment_year >= 2024" in warnings
    con = duckdb.connect(str(warehouse))
    try:
        current = con.execute(
            "select submitted_value, file_name from marts.fct_indicator_values where is_current and region_code = ? "
            "and indicator_code = ? and period_code = '2024Q3'",
            [first[0], first[2]],
        ).fetchone()
    finally:
        con.close()
    # the year-to-date text reached the marts as 2024Q3 and is now the current value of its key
    assert current == (first[5], "2024/2024Q3/320100_南京市_2024Q3_累计更正.csv")
    # the gate: the one new row, the quarter's year in the quarter's marts, nothing in the scoring path's
    checked = _suite_records(root / "quality" / "runs" / f"{third.run_id}.json")
    assert checked["staging__stg_landing__submissions"]["rows_validated"] == 1
    assert checked["marts__fct_two_colour"]["scope"]["condition"] == "assessment_year >= 2024"
    for suite in ("marts__fct_region_feedback", "marts__fct_region_gaps", "marts__fct_rank_robustness"):
        assert checked[suite]["unchanged"] and checked[suite]["rows_validated"] == 0, suite
    assert not any(r["blocking_failed"] for r in checked.values())
