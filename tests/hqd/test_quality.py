"""The Great Expectations quality gate: suite files, the runner's verdicts and severities, and Data Docs.

Most tests build a small DuckDB warehouse from the marts' dbt contracts (column names and types from the model
YAML) instead of running dbt, so they take seconds. The last test runs every suite on a real warehouse when
HQD_TEST_WAREHOUSE points to one.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from hqd import quality

PROJECT_DIR = Path(__file__).resolve().parents[2]
MODELS_DIR = PROJECT_DIR / "models"


def _contracts() -> dict[str, list[tuple[str, str]]]:
    """Mart name → [(column, data type)] from the enforced contracts in models/marts/*/_*__models.yml. The
    composite engine's marts are left out: built on demand into their own schema, never by the job the gate
    checks (tests/models/test_composite_hdi.py checks them)."""
    contracts = {}
    for path in sorted((MODELS_DIR / "marts").glob("*/_*__models.yml")):
        if path.parent.name == "composite":
            continue
        for model in yaml.safe_load(path.read_text(encoding="utf-8"))["models"]:
            contracts[model["name"]] = [(c["name"], c["data_type"]) for c in model["columns"]]
    return contracts


CONTRACTS = _contracts()


def _create(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict[str, Any]]) -> None:
    """A mart exactly as its contract declares it, holding `rows` (columns left out are null)."""
    schema, name = table.split(".")
    columns = CONTRACTS[name]
    con.execute(f"create schema if not exists {schema}")
    con.execute(f"create or replace table {table} ({', '.join(f'{c} {t}' for c, t in columns)})")
    for row in rows:
        unknown = set(row) - {c for c, _ in columns}
        assert not unknown, f"{table} has no column(s) {unknown}"
        names = list(row)
        con.execute(
            f"insert into {table} ({', '.join(names)}) values ({', '.join('?' for _ in names)})",
            [row[n] for n in names],
        )


def _score(region_code: str, indicator_code: str, weight: float, points: float) -> dict[str, Any]:
    return {
        "indicator_score_key": f"2024-{region_code}-{indicator_code}",
        "assessment_year": 2024,
        "level": "city",
        "class_code": "I",
        "region_code": region_code,
        "indicator_code": indicator_code,
        "direction": "higher",
        "scoring_method": "efficacy",
        "weight": weight,
        "submission_id": f"hash:{region_code}:{indicator_code}",
        "indicator_value": 10.0,
        "is_value_missing": False,
        "peer_group_size": 2,
        "peer_values_count": 2,
        "efficacy_coefficient": 100 * points / weight,
        "rank_in_class": 1 if points == weight else 2,
        "score_points": points,
        "score_points_display": round(points, 2),
        "points_lost": weight - points,
    }


GOOD_SCORES = [
    _score("320100", "E01", 3, 3),
    _score("320200", "E01", 3, 2.5),
    _score("320100", "E02", 2, 1.2),
    _score("320200", "E02", 2, 2),
]


@pytest.fixture
def warehouse(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect(str(tmp_path / "small.duckdb"))
    yield con
    con.close()


def _failed(outcome: quality.SuiteOutcome) -> dict[tuple[str, str | None], quality.ExpectationOutcome]:
    return {(o.expectation_type, o.column): o for o in outcome.failed_outcomes}


# ---------------------------------------------------------------------------------------------------- suite files


def test_every_suite_file_loads_and_names_an_existing_asset_and_severity():
    suites = quality.load_suites(check_gx=True)  # GE builds every expectation: types and kwargs are valid
    sources = yaml.safe_load((MODELS_DIR / "staging/landing/_landing__sources.yml").read_text(encoding="utf-8"))
    raw_tables = {t["name"] for source in sources["sources"] for t in source["tables"]}
    assert len(suites) >= 20
    for name, suite in suites.items():
        meta = suite["meta"]
        assert quality.ASSET_PATTERN.match(meta["asset"]), name
        assert meta["severity"] in quality.SEVERITIES, name
        assert all(e.get("meta", {}).get("severity", "blocking") in quality.SEVERITIES for e in suite["expectations"])
        layer, model = meta["asset"].split("/")
        if layer == "raw":
            assert model in raw_tables, f"{name}: no raw table {model}"
        else:
            assert list((MODELS_DIR / layer).rglob(f"{model}.sql")), f"{name}: no model {meta['asset']}"
        assert meta["query"].strip(), name


def test_every_mart_has_a_suite_checking_its_contract_columns_and_key():
    suites = quality.load_suites()
    for mart, columns in CONTRACTS.items():
        suite = suites[f"marts__{mart}"]
        assert suite["meta"]["asset"] == f"marts/{mart}"
        by_type = {}
        for e in suite["expectations"]:
            by_type.setdefault(e["type"], []).append(e["kwargs"])
        schema = by_type["expect_table_columns_to_match_set"][0]
        assert schema["exact_match"] is True
        assert sorted(schema["column_set"]) == sorted(c for c, _ in columns), mart
        key = columns[0][0]  # every mart's first column is its primary key
        assert {"column": key} in by_type["expect_column_values_to_be_unique"], mart
        assert {"column": key} in by_type["expect_column_values_to_not_be_null"], mart


def test_suites_for_asset_lists_every_suite_guarding_it():
    assert quality.suites_for_asset("marts/fct_region_assessment") == [
        "marts__fct_region_assessment",
        "marts__fct_region_assessment__classes",
        "marts__fct_region_assessment__regions",
    ]
    assert quality.suites_for_asset("raw/submissions") == ["raw__submissions", "raw__submissions__schema"]
    assert quality.suites_for_asset("marts/no_such_model") == []


def _write_suite(directory: Path, file_stem: str, **changes: Any) -> Path:
    suite: dict[str, Any] = {
        "name": file_stem,
        "meta": {"asset": "marts/dim_period", "severity": "blocking", "query": "select * from marts.dim_period"},
        "expectations": [{"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 1}}],
    }
    suite.update(changes)
    path = directory / f"{file_stem}.json"
    path.write_text(json.dumps(suite), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"meta": {"asset": "marts/dim_period", "query": "select 1"}}, "meta lacks ['severity']"),
        ({"meta": {"asset": "marts/dim_period", "query": "select 1", "severity": "fatal"}}, "'fatal'"),
        ({"meta": {"asset": "dim_period", "query": "select 1", "severity": "warning"}}, "meta.asset"),
        ({"name": "another_name"}, "must equal the file name"),
        ({"expectations": []}, "non-empty list"),
        ({"expectations": [{"type": "row_count", "kwargs": {}}]}, "expectation 0"),
        ({"expectations": [{"type": "expect_x", "kwargs": {}, "meta": {"severity": "high"}}]}, "'high'"),
        ({"suite_meta": {}}, "unknown top-level key"),
    ],
)
def test_malformed_suite_file_raises_value_error_naming_the_file(tmp_path: Path, changes: dict, problem: str):
    _write_suite(tmp_path, "good_suite")
    _write_suite(tmp_path, "bad_suite", **changes)
    with pytest.raises(ValueError, match="bad_suite.json") as raised:
        quality.load_suites(tmp_path)
    assert problem in str(raised.value)


def test_invalid_json_and_unknown_expectation_type_name_the_file(tmp_path: Path):
    (tmp_path / "broken.json").write_text('{"name": "broken", ', encoding="utf-8")
    with pytest.raises(ValueError, match=r"broken\.json: not valid JSON"):
        quality.load_suites(tmp_path)
    (tmp_path / "broken.json").unlink()
    _write_suite(tmp_path, "typo", expectations=[{"type": "expect_column_values_to_be_uniqe", "kwargs": {}}])
    quality.load_suites(tmp_path)  # the structure is fine ...
    with pytest.raises(ValueError, match=r"typo\.json: expectation 0 \(expect_column_values_to_be_uniqe\)"):
        quality.load_suites(tmp_path, check_gx=True)  # ... but GE has no such expectation


# ---------------------------------------------------------------------------------------------------- verdicts


def test_passing_table_passes(warehouse: duckdb.DuckDBPyConnection):
    _create(warehouse, "marts.fct_indicator_scores", GOOD_SCORES)
    outcome = quality.run_suite(warehouse, "marts__fct_indicator_scores")
    assert outcome.success, [o.describe() for o in outcome.failed_outcomes]
    assert not outcome.blocking_failed
    assert outcome.failed == 0
    assert outcome.evaluated == len(quality.load_suites()["marts__fct_indicator_scores"]["expectations"])
    assert outcome.rows_validated == len(GOOD_SCORES)
    assert outcome.asset == "marts/fct_indicator_scores"


def test_duplicated_primary_key_fails_and_is_blocking(warehouse: duckdb.DuckDBPyConnection):
    _create(warehouse, "marts.fct_indicator_scores", [*GOOD_SCORES, GOOD_SCORES[0]])
    outcome = quality.run_suite(warehouse, "marts__fct_indicator_scores")
    assert not outcome.success
    assert outcome.blocking_failed
    duplicate = _failed(outcome)[("expect_column_values_to_be_unique", "indicator_score_key")]
    assert duplicate.severity == "blocking"
    assert duplicate.observed.startswith("2 unexpected of 5")
    assert "indicator_score_key=2024-320100-E01" in duplicate.observed
    # the compound natural key fails too; nothing else does
    assert set(_failed(outcome)) == {
        ("expect_column_values_to_be_unique", "indicator_score_key"),
        ("expect_compound_columns_to_be_unique", "assessment_year, region_code, indicator_code"),
    }


def test_score_above_its_weight_fails(warehouse: duckdb.DuckDBPyConnection):
    over = _score("320300", "E01", 3, 3.5) | {"points_lost": 0.0}
    _create(warehouse, "marts.fct_indicator_scores", [*GOOD_SCORES, over])
    outcome = quality.run_suite(warehouse, "marts__fct_indicator_scores")
    assert outcome.blocking_failed
    failed = _failed(outcome)
    above = failed[("expect_column_pair_values_a_to_be_greater_than_b", "weight, score_points")]
    assert above.severity == "blocking"
    assert above.observed.startswith("1 unexpected of 5")
    assert "2024-320300-E01" in above.observed
    # the efficacy coefficient (116.7) is out of 0-100 as well
    assert ("expect_column_values_to_be_between", "efficacy_coefficient") in failed


def test_warning_failure_sets_success_false_but_not_blocking(warehouse: duckdb.DuckDBPyConnection):
    # 2024 is configured, but the latest annual values are 2023's (quarters reach 2023Q4, which is enough)
    warehouse.execute("create schema config")
    warehouse.execute(
        "create table config.assessment_years as select range::integer as assessment_year from range(2018, 2025)"
    )
    values = [
        {"submission_id": f"h:{period}", "period_code": period, "period_type": kind, "assessment_year": 2023}
        | ({"quarter": int(period[-1])} if kind == "quarter" else {})
        for period, kind in [("2023", "year"), ("2023Q3", "quarter"), ("2023Q4", "quarter")]
    ]
    _create(warehouse, "marts.fct_indicator_values", values)
    outcome = quality.run_suite(warehouse, "marts__fct_indicator_values__freshness")
    assert not outcome.success
    assert not outcome.blocking_failed
    assert outcome.severity == "warning"
    [(kind, columns)] = _failed(outcome)
    assert (kind, columns) == ("expect_column_pair_values_to_be_equal", "latest_annual_year, latest_configured_year")
    assert _failed(outcome)[(kind, columns)].observed == "1 unexpected of 1: (2023, 2024)"
    assert quality.gate_passed([outcome])


def test_expectation_level_warning_overrides_a_blocking_suite(warehouse: duckdb.DuckDBPyConnection):
    # 2 of 4 values missing: above the 1 % the suite tolerates, but only a warning
    missing = [{**s, "is_value_missing": True, "indicator_value": None} for s in GOOD_SCORES[:2]]
    _create(warehouse, "marts.fct_indicator_scores", [*missing, *GOOD_SCORES[2:]])
    outcome = quality.run_suite(warehouse, "marts__fct_indicator_scores")
    assert outcome.severity == "blocking"
    assert [(o.column, o.severity) for o in outcome.failed_outcomes] == [("is_value_missing", "warning")]
    assert not outcome.success and not outcome.blocking_failed


def test_missing_table_fails_the_suite_instead_of_raising(warehouse: duckdb.DuckDBPyConnection):
    outcome = quality.run_suite(warehouse, "marts__dim_period")
    assert not outcome.success and outcome.blocking_failed
    assert outcome.error and "dim_period" in outcome.error
    assert outcome.outcomes[0].expectation_type == "query"
    assert outcome.metadata()["error"]


def test_run_suite_on_a_path_and_metadata_is_flat_json(tmp_path: Path):
    path = tmp_path / "file.duckdb"
    con = duckdb.connect(str(path))
    _create(con, "marts.fct_indicator_scores", [*GOOD_SCORES, GOOD_SCORES[1]])
    con.close()
    outcome = quality.run_suite(path, "marts__fct_indicator_scores")
    metadata = outcome.metadata()
    json.dumps(metadata)
    assert all(isinstance(v, str | int | float | bool) for v in metadata.values())
    assert metadata["blocking_failed"] is True
    assert metadata["failed"] == 2 and metadata["failed_blocking"] == 2 and metadata["failed_warning"] == 0
    failed_text = metadata["failed_expectations"]
    assert "[blocking] expect_column_values_to_be_unique(indicator_score_key): 2 unexpected" in failed_text
    with pytest.raises(FileNotFoundError):
        quality.run_suite(tmp_path / "nowhere.duckdb", "marts__fct_indicator_scores")


# ---------------------------------------------------------------------------------------------------- data docs


def test_data_docs_index_is_written(warehouse: duckdb.DuckDBPyConnection, tmp_path: Path):
    _create(warehouse, "marts.fct_indicator_scores", [*GOOD_SCORES, GOOD_SCORES[0]])
    outcome = quality.run_suite(warehouse, "marts__fct_indicator_scores")
    index = quality.build_data_docs([outcome], tmp_path / "docs")
    assert index == tmp_path / "docs" / "index.html"
    assert "marts__fct_indicator_scores" in index.read_text(encoding="utf-8")
    pages = list((tmp_path / "docs" / "validations" / "marts__fct_indicator_scores").rglob("*.html"))
    assert len(pages) == 1
    assert "indicator_score_key" in pages[0].read_text(encoding="utf-8")
    # a bare GE result works too, and a rebuild shows only the results given
    index = quality.build_data_docs([outcome.result], tmp_path / "docs")
    assert len(list((tmp_path / "docs" / "validations").rglob("*.html"))) == 1


# ---------------------------------------------------------------------------------------------------- real warehouse


def test_every_blocking_expectation_passes_on_the_sample_warehouse(built_warehouse, tmp_path: Path):
    """Every suite on the warehouse the end-to-end run built from the generated sample."""
    outcomes = quality.run_all(built_warehouse.path, data_docs_dir=tmp_path / "docs")
    assert len(outcomes) == len(quality.load_suites())
    failures = [(o.suite_name, f) for o in outcomes for f in o.failed_outcomes]
    blocking = [f"{name}: {f.describe()}" for name, f in failures if f.severity == "blocking"]
    assert blocking == []
    assert all(o.error is None for o in outcomes)
    assert quality.gate_passed(outcomes)
    assert (tmp_path / "docs" / "index.html").is_file()


def test_run_records_are_pruned_to_the_newest_and_never_the_current_run(tmp_path: Path):
    runs = tmp_path / "runs"
    runs.mkdir()
    for age, run_id in enumerate(["r5", "r4", "r3", "r2", "r1"]):  # r5 newest
        record = runs / f"{run_id}.json"
        record.write_text("[]", encoding="utf-8")
        os.utime(record, (1_000_000 - age, 1_000_000 - age))
    # the current run's record is the oldest here (a long run), yet it stays
    removed = quality.prune_run_records(tmp_path, keep=2, keep_run_id="r1")
    assert sorted(p.stem for p in removed) == ["r2", "r3"]
    assert sorted(p.stem for p in runs.iterdir()) == ["r1", "r4", "r5"]
