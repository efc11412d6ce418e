"""The full-job floor (tools/floor.py) builds the warehouse's value-level marts: equal to the job's in every row and
shared column on a small generated configuration; its validation gives the reasons worked out by hand; the
bench's memory sampler measures a child process and restarts per stage; `hqd quality` applies the memory cap."""

from __future__ import annotations

import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import duckdb
import pytest

from tests.support import jobs
from tools import bench, floor, national

PROJECT_DIR = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def small_national(tmp_path_factory: pytest.TempPathFactory):
    """The job and the floor on one generated configuration (3 prefectures, 26 counties, 2023-2024). The seeds
    must lie inside the project (dbt reads them from HQD_SEEDS_DIR); they are removed afterwards."""
    root = tmp_path_factory.mktemp("floor")
    config = PROJECT_DIR / "data" / f"test_floor_{uuid.uuid4().hex[:8]}"
    report = national.generate_national(config, prefectures=3, years=[2023, 2024])
    mp = pytest.MonkeyPatch()
    mp.setenv("HQD_SEEDS_DIR", report.seeds_dir.relative_to(PROJECT_DIR).as_posix())
    mp.setenv("HQD_LANDING_SETTLE_SECONDS", "0")
    try:
        settings = jobs.overrides(root, warehouse=root / "hqd.duckdb", landing=report.landing_dir)
        job_run = jobs.run_job(settings)
        assert job_run.success, "the job failed on the generated configuration"
        result = floor.run(report.landing_dir, report.seeds_dir, root / "floor")
        yield report, root / "hqd.duckdb", result, root / "floor"
    finally:
        mp.undo()
        shutil.rmtree(config, ignore_errors=True)


def test_floor_marts_equal_the_jobs_in_every_row_and_column(small_national) -> None:
    report, warehouse, result, out = small_national
    regions = 3 + report.counties
    # independent figures: what the generator wrote, the grid of regions × 100 indicators × 2 years
    assert result["rows"]["raw_submissions"] == report.rows_written
    assert result["rows"]["fct_indicator_values"] + result["rows"]["fct_rejected_submissions"] == report.rows_written
    assert result["rows"]["fct_indicator_scores"] == regions * 100 * 2
    assert result["rows"]["fct_region_assessment"] == regions * 2
    assert result["rows"]["fct_monitoring_warnings"] == regions * 100 * 2 * 4
    assert result["checks_failed"] == {}
    compared = floor.compare_marts(warehouse, out / "floor.duckdb")
    assert floor.differences(compared) == []
    # the floor builds every column of ours (loaded_at is the clock, compared for presence only)
    assert {m: e["columns_not_in_floor"] for m, e in compared.items() if e["columns_not_in_floor"]} == {}
    assert set(result["stages"]) == set(floor.STAGES)


def test_comparison_finds_a_changed_score_and_a_missing_row(small_national, tmp_path: Path) -> None:
    _, warehouse, _, out = small_national
    changed = tmp_path / "changed.duckdb"
    shutil.copy(out / "floor.duckdb", changed)
    con = duckdb.connect(str(changed))
    try:
        key = con.execute("select min(indicator_score_key) from fct_indicator_scores").fetchone()[0]
        con.execute(
            "update fct_indicator_scores set score_points = score_points + 0.001 where indicator_score_key = ?", [key]
        )
        con.execute(
            "delete from fct_two_colour where two_colour_key = (select min(two_colour_key) from fct_two_colour)"
        )
    finally:
        con.close()
    problems = floor.differences(floor.compare_marts(warehouse, changed))
    assert "fct_indicator_scores.score_points: 1 rows differ" in problems
    assert any(p.startswith("fct_two_colour: ") and "1 keys only in ours" in p for p in problems)


def test_floor_export_is_a_readable_release(small_national) -> None:
    _, _, result, out = small_national
    current = out / "published" / "current"
    assert current.is_symlink()
    con = duckdb.connect(str(current / "hqd_marts.duckdb"), read_only=True)
    try:
        for mart in floor.MARTS:
            assert con.execute(f"select count(*) from marts.{mart}").fetchone()[0] == result["rows"][mart]
            parquet = current / "parquet" / f"{mart}.parquet"
            assert con.execute(f"select count(*) from '{parquet}'").fetchone()[0] == result["rows"][mart]
    finally:
        con.close()


# a hand-made landing folder: each row's expected reason worked out from the seeds by hand
HEADER = "地区代码,地区名称,指标代码,指标名称,统计期,数值,单位"


def test_floor_validation_gives_the_reasons_by_hand(tmp_path: Path) -> None:
    report = national.generate_national(tmp_path / "config", prefectures=3, years=[2024])
    regions = duckdb.sql(f"select * from read_csv('{report.seeds_dir}/reference/regions.csv', all_varchar=true)")
    city, name = regions.filter("level = 'city'").order("region_code").fetchone()[:2]
    indicators = duckdb.sql(
        f"select indicator_code, unit from read_csv('{report.seeds_dir}/reference/indicators.csv', all_varchar=true)"
    )
    code, unit = indicators.filter("unit = '亿元'").order("indicator_code").fetchone()
    rows = [
        (f"{city},,{code},,2024,12.5,{unit}", None),  # accepted
        (f"{city},,{code},,2024Q1,—,{unit}", None),  # a missing-value marker: accepted, flagged
        (f'{city},,{code},,2024年1-6月,"(1.5)",{unit}'.replace('"', ""), "value_out_of_range"),  # -1.5 < min 0
        (f"{city},,{code},,2024Q5,1,{unit}", "invalid_period"),
        (f"{city},,{code},,2019,1,{unit}", "period_out_of_range"),
        (f",,{code},,2024,1,{unit}", "missing_region"),
        (f"999999,,{code},,2024,1,{unit}", "unknown_region"),
        (f",{name},{code},,2024Q3,2,{unit}", None),  # by its name
        (f"{city},,,,2024,1,{unit}", "missing_indicator"),
        (f"{city},,ZZ9,,2024,1,{unit}", "unknown_indicator"),
        (f"{city},,{code},,2024,12..5,{unit}", "unparseable_value"),
        (f"{city},,{code},,2024,1,公斤", "unconvertible_unit"),
        (f"{city},,{code},,2024Q2,3,{unit}", "conflicting_duplicate_in_file"),
        (f"{city},,{code},,2024Q2,4,{unit}", "conflicting_duplicate_in_file"),
    ]
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "a.csv").write_text(HEADER + "\n" + "\n".join(r for r, _ in rows) + "\n", encoding="utf-8")
    result = floor.run(landing, report.seeds_dir, tmp_path / "floor")
    con = duckdb.connect(str(tmp_path / "floor" / "floor.duckdb"), read_only=True)
    try:
        got = dict(con.execute("select row_number, rejection_reason from fct_rejected_submissions").fetchall())
        accepted = con.execute(
            "select row_number, indicator_value, is_missing_value, region_code from fct_indicator_values "
            "order by row_number"
        ).fetchall()
    finally:
        con.close()
    assert got == {i + 2: reason for i, (_, reason) in enumerate(rows) if reason}
    assert [(r, float(v) if v is not None else None, m, c) for r, v, m, c in accepted] == [
        (2, 12.5, False, city),
        (3, None, True, city),
        (9, 2.0, False, city),
    ]
    assert result["rows"]["raw_submissions"] == len(rows)


def test_tree_peak_measures_a_child_and_restarts_per_stage() -> None:
    peak = bench.TreePeak(interval=0.01)
    try:
        peak.reset()
        baseline = peak.peak_mb()
        # a child holding 300 MB for half a second: getrusage would carry it into every later stage
        subprocess.run(
            [
                sys.executable,
                "-c",
                "import time; b = bytearray(300 * 1024 * 1024); b[::4096] = b'x' * len(b[::4096]); time.sleep(0.5)",
            ],
            check=True,
        )
        assert peak.peak_mb() >= baseline + 250
        peak.reset()
        assert peak.peak_mb() < baseline + 100
    finally:
        peak.stop()


def test_hqd_quality_applies_the_memory_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from hqd import cli
    from hqd import quality as gate

    warehouse = tmp_path / "hqd.duckdb"
    duckdb.connect(str(warehouse)).close()
    seen: list[str] = []

    def fake_run_all(con, **_kwargs):
        seen.append(con.execute("select current_setting('memory_limit')").fetchone()[0])
        return []

    monkeypatch.setattr(gate, "run_all", fake_run_all)
    monkeypatch.setenv("HQD_DUCKDB_MEMORY_LIMIT", "300MB")
    monkeypatch.setenv("HQD_QUALITY_DIR", str(tmp_path / "quality"))
    code = cli.main(["quality", "--warehouse", str(warehouse)])
    assert code == 0
    # DuckDB reports 300 MB as 286.1 MiB
    assert seen and seen[0].endswith("MiB") and 280 < float(seen[0].split()[0]) < 290
