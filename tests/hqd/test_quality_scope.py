"""The quality gate's slices (hqd/quality_scope.py) on a warehouse small enough to reason about by hand.

Loads 1 and 2 land 2022 and 2023 annual values; the mart `marts.fct_demo` is rebuilt by year. Each case says
which rows the next check must read and why; the expected conditions and row counts are worked out from the rows
inserted here, not read from the code.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from hqd import quality
from hqd import quality_scope as qs

FINGERPRINT = "definitions-1"


def _suite(name: str, asset: str, query: str, partition: dict, keys: list[str]) -> dict:
    return {
        "name": name,
        "meta": {"asset": asset, "query": query, "severity": "blocking", "key_columns": keys, "partition": partition},
        "expectations": [
            {"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 1, "max_value": None}},
            {"type": "expect_column_values_to_be_unique", "kwargs": {"column": keys[0]}},
            {"type": "expect_column_values_to_be_between", "kwargs": {"column": "score", "min_value": 0}},
        ],
    }


@pytest.fixture
def warehouse(tmp_path: Path) -> tuple[duckdb.DuckDBPyConnection, Path, dict[str, dict]]:
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute(
        """
        create schema raw; create schema staging; create schema marts;
        create table raw.submissions (submission_id integer, load_seq integer, score integer);
        -- the staging view parses periods; here a table with the parsed columns is enough
        create table staging.stg_landing__submissions (
            submission_id integer, load_seq integer, period_year integer, period_quarter integer, score integer);
        create table marts.fct_demo (demo_key varchar, assessment_year integer, score integer);
        create table main.hqd_build_state (
            model_id varchar, load_seq_through integer, fingerprint varchar, built_at timestamp);
        insert into raw.submissions values (1, 1, 5), (2, 1, 6), (3, 2, 7);
        insert into staging.stg_landing__submissions values (1, 1, 2022, null, 5), (2, 1, 2022, null, 6),
            (3, 2, 2023, null, 7);
        insert into marts.fct_demo values ('2022-a', 2022, 5), ('2022-b', 2022, 6), ('2023-a', 2023, 7);
        """
    )
    _built(con, through=2)
    suites = {
        "demo_raw": _suite(
            "demo_raw", "raw/submissions", "select * from raw.submissions", {"by": "load"}, ["submission_id"]
        ),
        "demo_mart": _suite(
            "demo_mart", "marts/fct_demo", "select * from marts.fct_demo", {"by": "year"}, ["demo_key"]
        ),
        "demo_annual": _suite(
            "demo_annual",
            "marts/fct_demo",
            "select * from marts.fct_demo",
            {"by": "year", "annual_only": True},
            ["demo_key"],
        ),
    }
    directory = tmp_path / "expectations"
    directory.mkdir()
    for name, suite in suites.items():
        (directory / f"{name}.json").write_text(json.dumps(suite), encoding="utf-8")
    yield con, directory, quality.load_suites(directory)
    con.close()


def _built(con: duckdb.DuckDBPyConnection, through: int, fingerprint: str = FINGERPRINT) -> None:
    con.execute("delete from main.hqd_build_state")
    con.execute("insert into main.hqd_build_state values ('model.hqd.fct_demo', ?, ?, now())", [through, fingerprint])


def _land(con: duckdb.DuckDBPyConnection, load_seq: int, year: int, quarter: int | None, score: int = 1) -> None:
    submission = con.execute("select max(submission_id) + 1 from raw.submissions").fetchone()[0]
    con.execute("insert into raw.submissions values (?, ?, ?)", [submission, load_seq, score])
    con.execute(
        "insert into staging.stg_landing__submissions values (?, ?, ?, ?, ?)",
        [submission, load_seq, year, quarter, score],
    )


def _check(con, directory, suites, whole=False) -> dict[str, quality.SuiteOutcome]:
    """As the Dagster check step does: plan, validate, record what passed."""
    scopes = qs.plan(con, suites, whole=whole)
    outcomes = {name: quality.run_suite(con, name, directory=directory, scope=scopes[name]) for name in suites}
    qs.record_passed(con, {n: (suites[n], scopes[n]) for n, o in outcomes.items() if o.success})
    return outcomes


def test_first_check_reads_everything_then_only_what_landed_since(warehouse) -> None:
    con, directory, suites = warehouse
    first = _check(con, directory, suites)
    assert all(o.scope.is_whole and o.success for o in first.values())
    assert first["demo_mart"].rows_validated == 3

    # load 3: a 2023 quarter; dbt rebuilt the mart's 2023 and later (one new row) and took in load 3
    _land(con, 3, 2023, 2)
    con.execute("insert into marts.fct_demo values ('2023-q2', 2023, 8)")
    _built(con, through=3)
    scopes = qs.plan(con, suites)
    assert scopes["demo_raw"].condition == "load_seq > 2"
    assert scopes["demo_mart"].condition == "assessment_year >= 2023"
    # the annual-only suite: a quarter touches no annual value, its mart rows are as they were
    assert scopes["demo_annual"].condition == f"assessment_year >= {qs.NOTHING_LANDED_YEAR}"
    second = _check(con, directory, suites)
    assert second["demo_raw"].rows_validated == 1  # the one row of load 3
    assert second["demo_mart"].rows_validated == 2  # 2023-a and 2023-q2; 2022 passed before
    assert second["demo_annual"].unchanged and second["demo_annual"].success
    assert all(o.success for o in second.values())

    # nothing new: every slice is empty, nothing is validated, and nothing fails for want of rows
    third = _check(con, directory, suites)
    assert all(o.unchanged and o.success for o in third.values())


def test_a_slice_sees_broken_rows_of_the_years_rebuilt_and_not_the_ones_that_passed(warehouse) -> None:
    con, directory, suites = warehouse
    _check(con, directory, suites)
    # a 2024 load; dbt rebuilt 2024: one row breaks the minimum, one duplicates a key of 2024
    _land(con, 3, 2024, None)
    con.execute("insert into marts.fct_demo values ('2024-a', 2024, -1), ('2024-a', 2024, 3)")
    _built(con, through=3)
    outcomes = _check(con, directory, suites)
    mart = outcomes["demo_mart"]
    assert mart.scope.condition == "assessment_year >= 2024"
    assert mart.rows_validated == 2 and not mart.success and mart.blocking_failed
    failed = {o.expectation_type: o.observed for o in mart.failed_outcomes}
    assert failed["expect_column_values_to_be_unique"].startswith("2 unexpected of 2")
    assert failed["expect_column_values_to_be_between"].startswith("1 unexpected of 2")
    # the failed suite keeps its watermark: the next run reads 2024 again, though nothing new landed
    assert qs.plan(con, suites)["demo_mart"].condition == "assessment_year >= 2024"
    # the suites that passed moved on
    assert qs.plan(con, suites)["demo_raw"].condition == "load_seq > 3"


@pytest.mark.parametrize(
    "change",
    ["suite file", "dbt definitions", "full refresh", "raw rebuilt", "no state"],
)
def test_reads_everything_again_when_the_slice_cannot_be_trusted(warehouse, change: str) -> None:
    con, directory, suites = warehouse
    _check(con, directory, suites)
    _land(con, 3, 2024, None)
    _built(con, through=3)
    whole = False
    if change == "suite file":
        suites["demo_mart"]["expectations"][2]["kwargs"]["min_value"] = 1
    elif change == "dbt definitions":
        _built(con, through=3, fingerprint="definitions-2")
    elif change == "full refresh":
        whole = True
    elif change == "raw rebuilt":  # raw emptied and landed again from load 1: fewer loads than the watermark
        con.execute("delete from raw.submissions where load_seq > 1")
    elif change == "no state":
        con.execute("drop table main.hqd_quality_state")
    scopes = qs.plan(con, suites, whole=whole)
    assert scopes["demo_mart"].is_whole
    # raw rows depend on neither dbt's definitions nor the mart's suite file
    assert scopes["demo_raw"].is_whole == (change in ("full refresh", "raw rebuilt", "no state"))


def test_a_mart_whose_build_lags_is_read_from_the_loads_it_has_not_been_checked_with(warehouse) -> None:
    con, directory, suites = warehouse
    _check(con, directory, suites)
    # load 3 (a 2022 correction) lands but the mart's build fails: its build state stays at load 2
    _land(con, 3, 2022, None)
    _check(con, directory, suites)
    states = dict(con.execute("select suite_name, load_seq_through from main.hqd_quality_state").fetchall())
    assert states["demo_raw"] == 3 and states["demo_mart"] == 2
    # load 4 (2024) lands and the mart is rebuilt with both: its slice starts after load 2, so at 2022, not 2024
    _land(con, 4, 2024, None)
    _built(con, through=4)
    assert qs.plan(con, suites)["demo_mart"].condition == "assessment_year >= 2022"


def test_a_partitioned_suite_may_not_have_rules_that_need_every_row(tmp_path: Path) -> None:
    suite = _suite("demo_mart", "marts/fct_demo", "select 1", {"by": "year"}, ["demo_key"])
    suite["expectations"][0]["kwargs"]["max_value"] = 10
    (tmp_path / "demo_mart.json").write_text(json.dumps(suite), encoding="utf-8")
    with pytest.raises(ValueError, match="needs every row"):
        quality.load_suites(tmp_path)
    suite["expectations"][0]["kwargs"]["max_value"] = None
    suite["meta"]["partition"] = {"by": "month"}
    (tmp_path / "demo_mart.json").write_text(json.dumps(suite), encoding="utf-8")
    with pytest.raises(ValueError, match="meta.partition"):
        quality.load_suites(tmp_path)
