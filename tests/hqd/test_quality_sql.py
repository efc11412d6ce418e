"""The gate's metrics computed in DuckDB (hqd/quality_sql.py) against hand-counted failures and against GE's own
pandas engine on the same small table: the same verdicts, counts, percentages and failing rows with their keys."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest

from hqd import quality
from hqd.landing.ingest import ingest_landing

# six rows, each rule's failures counted by hand in EXPECTED below
ROWS = """
    (1, 'a',  10.0, 5.0,  true,  2020, 'x1', 2.50::decimal(10, 2), date '2024-01-01'),
    (2, 'a',  1.0,  5.0,  false, 2021, 'x2', 1.25::decimal(10, 2), date '2024-02-01'),
    (3, null, null, 5.0,  null,  2022, '3z', null,                 date '2024-03-01'),
    (4, 'b',  7.0,  null, true,  null, 'x4', 3.00::decimal(10, 2), null),
    (4, 'c',  3.0,  3.0,  true,  2024, null, 3.00::decimal(10, 2), date '2024-05-01'),
    (6, 'a',  null, null, true,  2024, 'x6', 0.00::decimal(10, 2), date '2024-06-01')
"""
COLUMNS = "k, s, a, b, flag, yr, code, amount, day"

# (type, kwargs) → (success, unexpected_count, missing_count or None, keys k of the failing rows)
EXPECTED: list[tuple[str, dict[str, Any], tuple[bool, int, int | None, list[int]]]] = [
    ("expect_column_values_to_not_be_null", {"column": "s"}, (False, 1, None, [3])),
    ("expect_column_values_to_be_null", {"column": "s"}, (False, 5, None, [1, 2, 4, 4, 6])),
    ("expect_column_values_to_be_in_set", {"column": "s", "value_set": ["a", "b"]}, (False, 1, 1, [4])),
    # 1 false of 5 known flags: 80 % ≥ 50 %, a pass with one unexpected row
    ("expect_column_values_to_be_in_set", {"column": "flag", "value_set": [True], "mostly": 0.5}, (True, 1, 1, [2])),
    ("expect_column_values_to_be_in_set", {"column": "flag", "value_set": [True], "mostly": 0.9}, (False, 1, 1, [2])),
    ("expect_column_values_to_be_in_set", {"column": "yr", "value_set": [2020, 2021, 2022]}, (False, 2, 1, [4, 6])),
    # 10 > 7 and 1 is not strictly above 1; 7 and 3 pass; two nulls are missing
    (
        "expect_column_values_to_be_between",
        {"column": "a", "min_value": 1, "max_value": 7, "strict_min": True},
        (False, 2, 2, [1, 2]),
    ),
    ("expect_column_values_to_be_between", {"column": "a", "min_value": 0, "max_value": None}, (True, 0, 2, [])),
    (
        "expect_column_values_to_be_between",
        {"column": "amount", "min_value": 0, "max_value": 2.5},
        (False, 2, 1, [4, 4]),
    ),
    ("expect_column_values_to_be_unique", {"column": "k"}, (False, 2, 0, [4, 4])),
    ("expect_column_values_to_be_unique", {"column": "s"}, (False, 3, 1, [1, 2, 6])),
    # unique among the rows that have a value: proved by the distinct count of the first pass
    ("expect_column_values_to_be_unique", {"column": "code"}, (True, 0, 1, [])),
    ("expect_compound_columns_to_be_unique", {"column_list": ["k", "s"]}, (True, 0, 0, [])),
    ("expect_column_values_to_match_regex", {"column": "code", "regex": "^x[0-9]$"}, (False, 1, 1, [3])),
    ("expect_compound_columns_to_be_unique", {"column_list": ["k", "flag"]}, (False, 2, 0, [4, 4])),
    # row 3 misses both and is ignored; (a, true) occurs in rows 1 and 6
    ("expect_compound_columns_to_be_unique", {"column_list": ["s", "flag"]}, (False, 2, 1, [1, 6])),
    # a ≥ b: row 2 (1 < 5) fails; rows 3, 4 and 6 lack a value and are ignored
    (
        "expect_column_pair_values_a_to_be_greater_than_b",
        {"column_A": "a", "column_B": "b", "or_equal": True, "ignore_row_if": "either_value_is_missing"},
        (False, 1, 3, [2]),
    ),
    # GE's default ignores only rows missing both (row 6): rows 3 and 4 miss one value and fail with row 2
    (
        "expect_column_pair_values_a_to_be_greater_than_b",
        {"column_A": "a", "column_B": "b", "or_equal": True},
        (False, 3, 1, [2, 3, 4]),
    ),
    # strictly greater: the second row keyed 4 (3 = 3) fails too
    (
        "expect_column_pair_values_a_to_be_greater_than_b",
        {"column_A": "a", "column_B": "b", "or_equal": False, "ignore_row_if": "either_value_is_missing"},
        (False, 2, 3, [2, 4]),
    ),
    # neither ignores anything: only the second row keyed 4 is equal; a null is never equal, not even to null
    (
        "expect_column_pair_values_to_be_equal",
        {"column_A": "a", "column_B": "b", "ignore_row_if": "neither"},
        (False, 5, 0, [1, 2, 3, 4, 6]),
    ),
]


def _suite(directory: Path, expectations: list[dict[str, Any]], key_columns: list[str] | None) -> str:
    meta: dict[str, Any] = {"asset": "marts/t", "query": "select * from t", "severity": "blocking"}
    if key_columns is not None:
        meta["key_columns"] = key_columns
    name = "marts__t"
    suite = {"name": name, "meta": meta, "expectations": expectations}
    (directory / f"{name}.json").write_text(json.dumps(suite), encoding="utf-8")
    return name


@pytest.fixture
def table(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(tmp_path / "t.duckdb"))
    con.execute(f"create table t as select * from (values {ROWS}) as v({COLUMNS})")
    return con


def _both(con: duckdb.DuckDBPyConnection, directory: Path, name: str) -> tuple[Any, Any]:
    by_sql = quality.run_suite(con, name, directory=directory, engine="duckdb")
    by_pandas = quality.run_suite(con, name, directory=directory, engine="pandas")
    return by_sql, by_pandas


def _results(outcome: quality.SuiteOutcome) -> dict[str, dict[str, Any]]:
    """Each expectation's result by its configuration as GE completes it (GE's pandas engine returns them in an
    order of its own)."""
    results = {}
    for item in outcome.result.to_json_dict()["results"]:
        config = item["expectation_config"]
        kwargs = {k: v for k, v in config["kwargs"].items() if k != "batch_id"}
        results[config["type"] + json.dumps(kwargs, sort_keys=True)] = {"success": item["success"], **item["result"]}
    return results


def _observed(outcome: quality.SuiteOutcome) -> list[tuple[str, str | None, bool, str]]:
    return sorted((o.expectation_type, o.column, o.success, o.observed) for o in outcome.outcomes)


def test_sql_finds_the_hand_counted_failures_with_their_keys(table: duckdb.DuckDBPyConnection, tmp_path: Path):
    expectations = [{"type": kind, "kwargs": kwargs} for kind, kwargs, _ in EXPECTED]
    name = _suite(tmp_path, expectations, ["k"])
    outcome = quality.run_suite(table, name, directory=tmp_path)
    assert outcome.result.meta["batch_spec"]["computed_in"] == "duckdb"
    assert outcome.rows_validated == 6
    for (kind, kwargs, (success, unexpected, missing, keys)), validation in zip(
        EXPECTED, outcome.result.results, strict=True
    ):
        result = validation.result
        label = f"{kind} {kwargs}"
        assert validation.success is success, label
        assert result["element_count"] == 6, label
        assert result["unexpected_count"] == unexpected, label
        assert result.get("missing_count") == missing, label
        assert [x["k"] for x in result["partial_unexpected_index_list"]] == keys, label


def test_sql_and_pandas_engines_give_the_same_results(table: duckdb.DuckDBPyConnection, tmp_path: Path):
    expectations = [{"type": kind, "kwargs": kwargs} for kind, kwargs, _ in EXPECTED]
    expectations += [
        {"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 1, "max_value": 5}},
        {"type": "expect_table_columns_to_match_set", "kwargs": {"column_set": ["k", "s", "zz"], "exact_match": True}},
        {
            "type": "expect_table_columns_to_match_set",
            "kwargs": {"column_set": COLUMNS.split(", "), "exact_match": True},
        },
    ]
    name = _suite(tmp_path, expectations, ["k"])
    by_sql, by_pandas = _both(table, tmp_path, name)
    ours_by_config, theirs_by_config = _results(by_sql), _results(by_pandas)
    assert len(ours_by_config) == len(expectations) and ours_by_config.keys() == theirs_by_config.keys()
    for label, ours in ours_by_config.items():
        theirs = theirs_by_config[label]
        # the counts of failing values may list tied values in another order
        for result in (ours, theirs):
            result.pop("partial_unexpected_counts", None)
        assert ours == theirs, label  # 2024 == 2024.0: pandas reads a nullable INTEGER as float
    # the lines people read are the same, but for that float: yr=2024 where pandas says yr=2024.0
    assert [o for o in _observed(by_sql) if o[1] != "yr"] == [o for o in _observed(by_pandas) if o[1] != "yr"]
    # 16 of the 18 hand-counted rules fail (two pass), six rows exceed five, and column zz is missing
    assert (by_sql.success, by_sql.failed, by_sql.blocking_failed) == (False, 18, True)
    assert (by_pandas.success, by_pandas.failed, by_pandas.blocking_failed) == (False, 18, True)


def test_without_key_columns_failing_rows_are_named_by_position(table: duckdb.DuckDBPyConnection, tmp_path: Path):
    expectations = [
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "a"}},
        {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "s", "value_set": ["a"]}},
    ]
    name = _suite(tmp_path, expectations, None)
    by_sql, by_pandas = _both(table, tmp_path, name)
    # rows 3 and 6 (positions 2 and 5) have no a; rows 4 and 5 (positions 3 and 4) are b and c
    assert [r["partial_unexpected_index_list"] for r in _results(by_sql).values()] == [[2, 5], [3, 4]]
    assert _observed(by_sql) == _observed(by_pandas)


def test_a_column_that_is_not_there_fails_that_expectation_only(table: duckdb.DuckDBPyConnection, tmp_path: Path):
    expectations = [
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "nope"}},
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "k"}},
    ]
    name = _suite(tmp_path, expectations, ["k"])
    by_sql, by_pandas = _both(table, tmp_path, name)
    assert [o.success for o in by_sql.outcomes] == [False, True]
    assert sorted(o.success for o in by_pandas.outcomes) == [False, True]
    assert 'column "nope"' in by_sql.outcomes[0].observed
    assert [o.observed for o in by_sql.failed_outcomes] == [o.observed for o in by_pandas.failed_outcomes]


def test_only_the_failing_examples_reach_python(tmp_path: Path):
    """200,000 rows with three duplicated keys: the counts come from DuckDB and five example rows are fetched."""
    con = duckdb.connect(str(tmp_path / "big.duckdb"))
    con.execute("create table t as select range as k, range % 7 as s from range(200000)")
    con.execute("insert into t values (10, 3), (20, 6), (30, 2)")
    name = _suite(tmp_path, [{"type": "expect_column_values_to_be_unique", "kwargs": {"column": "k"}}], ["k"])
    outcome = quality.run_suite(con, name, directory=tmp_path)
    result = outcome.result.results[0].result
    assert (result["element_count"], result["unexpected_count"]) == (200003, 6)
    assert sorted(x["k"] for x in result["partial_unexpected_index_list"]) == [10, 10, 20, 20, 30]


def _verdicts(outcomes: list[quality.SuiteOutcome]) -> list[tuple[Any, ...]]:
    """Per expectation: verdict, severity and the counts (not the example text: pandas prints 2024.0 for 2024)."""
    rows = []
    for outcome in outcomes:
        results = outcome.result.results if outcome.result is not None else []
        for validation in results:
            config, result = validation.expectation_config, validation.result or {}
            counts = tuple(result.get(k) for k in ("element_count", "unexpected_count", "missing_count"))
            severity = (config.meta or {}).get("severity", outcome.severity)
            kwargs = repr({k: v for k, v in config.kwargs.items() if k != "batch_id"})  # only GE's batch names it
            rows.append((outcome.suite_name, config.type, kwargs, validation.success, severity, counts))
    return sorted(rows)


def test_every_suite_gives_the_same_verdicts_and_counts_on_the_sample_by_both_engines(built_warehouse):
    by_sql = quality.run_all(built_warehouse.path, build_docs=False)
    by_pandas = quality.run_all(built_warehouse.path, build_docs=False, engine="pandas")
    assert all(o.result.meta["batch_spec"].get("computed_in") == "duckdb" for o in by_sql)
    assert [(o.suite_name, o.rows_validated, o.success, o.blocking_failed) for o in by_sql] == [
        (o.suite_name, o.rows_validated, o.success, o.blocking_failed) for o in by_pandas
    ]
    assert _verdicts(by_sql) == _verdicts(by_pandas)


def test_the_raw_suites_give_the_same_verdicts_on_the_messy_files_and_a_twice_landed_row(tmp_path: Path):
    landing = Path(__file__).resolve().parents[1] / "fixtures" / "messy_submissions" / "landing"
    shutil.copytree(landing, tmp_path / "landing")
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    ingest_landing(tmp_path / "landing", con)
    con.execute(  # a wide workbook row landed twice breaks the raw key
        "insert into raw.submissions select * from raw.submissions "
        "where file_name = 'd_workbook.xlsx' and column_number is not null limit 1"
    )
    names = [n for n, s in quality.load_suites().items() if s["meta"]["asset"].startswith("raw/")]
    by_sql = [quality.run_suite(con, name) for name in names]
    by_pandas = [quality.run_suite(con, name, engine="pandas") for name in names]
    assert _verdicts(by_sql) == _verdicts(by_pandas)
    (key,) = [o for o in by_sql if o.suite_name == "raw__submissions" for f in o.failed_outcomes]
    assert key.blocking_failed
    failure = key.failed_outcomes[0]
    assert failure.expectation_type == "expect_compound_columns_to_be_unique"
    # the row and its copy, named by file, sheet, row and column
    assert failure.observed.startswith("2 unexpected of ") and "file_name=d_workbook.xlsx" in failure.observed
