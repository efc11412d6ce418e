"""The blocking raw suites pass on a warehouse that landed real-world files, wide workbooks included.

A wide row lands once per indicator column, so a raw row is identified by (file_hash, sheet_name, row_number,
column_number); a key without the column stopped every run before dbt once a wide file had landed.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from hqd import quality
from hqd.landing.ingest import ingest_landing

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "messy_submissions" / "landing"
RAW_SUITES = [name for name, suite in quality.load_suites().items() if suite["meta"]["asset"].startswith("raw/")]


@pytest.fixture(scope="module")
def landed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("raw_suites")
    shutil.copytree(FIXTURES, root / "landing")
    warehouse = root / "w.duckdb"
    con = duckdb.connect(str(warehouse))
    try:
        ingest_landing(root / "landing", con)
        wide = con.execute(
            "select count(*) from raw.submissions where file_name = 'd_workbook.xlsx' and column_number is not null"
        ).fetchone()[0]
        assert wide > 1, "the fixture must hold a wide sheet"
    finally:
        con.close()
    return warehouse


def test_the_raw_suites_exist():
    assert {"raw__submissions", "raw__landing_files", "raw__submissions__schema"} <= set(RAW_SUITES)


@pytest.mark.parametrize("suite", RAW_SUITES)
def test_raw_suite_passes_on_landed_wide_files(landed: Path, suite: str):
    outcome = quality.run_suite(landed, suite)
    assert not outcome.blocking_failed, [o.describe() for o in outcome.failed_outcomes]
    assert outcome.failed == 0


def test_a_raw_row_landed_twice_still_fails_the_key(landed: Path, tmp_path: Path):
    copy = tmp_path / "copy.duckdb"
    shutil.copy(landed, copy)
    con = duckdb.connect(str(copy))
    try:
        con.execute(
            "insert into raw.submissions select * from raw.submissions "
            "where file_name = 'd_workbook.xlsx' and column_number is not null limit 1"
        )
        outcome = quality.run_suite(con, "raw__submissions")
    finally:
        con.close()
    assert outcome.blocking_failed
    assert any(o.expectation_type == "expect_compound_columns_to_be_unique" for o in outcome.failed_outcomes)
