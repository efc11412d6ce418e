"""The hand-made messy files (tests/fixtures/messy_submissions) through dbt on PostgreSQL: the build succeeds and
every row ends where expected_outcomes.csv says, as on DuckDB. PostgreSQL has no try_cast, so this is where an
unsafe cast of a junk cell (an 18-digit ID number, 1e400, NaN) would fail the build."""

from __future__ import annotations

import dataclasses
import shutil
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from tests.support import jobs

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "messy_submissions"
DATABASE = "hqd_messy"


@pytest.fixture(scope="module")
def messy_postgres(postgres_cluster, tmp_path_factory):
    """The fixtures through the engine job (ingest into DuckDB, raw copied, one dbt build on PostgreSQL)."""
    root = tmp_path_factory.mktemp("messy_postgres")
    shutil.copytree(FIXTURES / "landing", root / "landing")
    con = postgres_cluster.connect(dbname="postgres")
    con.autocommit = True
    with con.cursor() as cur:
        cur.execute(f"create database \"{DATABASE}\" encoding 'UTF8'")
    con.close()
    connection = dataclasses.replace(postgres_cluster.connection(), dbname=DATABASE)
    mp = pytest.MonkeyPatch()
    for key, value in connection.env().items():
        mp.setenv(key, value)
    try:
        settings = jobs.overrides(root, warehouse=root / "hqd.duckdb", landing=root / "landing", target="postgres")
        job_run = jobs.run_job(settings, job_name="engine_build_job")
        return jobs.dbt_result(job_run, settings)
    finally:
        mp.undo()


def test_messy_files_build_on_postgres_as_expected(messy_postgres, postgres_cluster):
    assert messy_postgres.error is None, messy_postgres.error
    assert messy_postgres.failures == [], [f"{f.unique_id}: {f.message[:500]}" for f in messy_postgres.failures]
    con = postgres_cluster.connect(dbname=DATABASE)
    try:
        with con.cursor() as cur:
            cur.execute(
                """
                select file_name, sheet_name, row_number, column_number, 'accepted', indicator_value
                from marts.fct_indicator_values
                union all
                select file_name, sheet_name, row_number, column_number, rejection_reason, null
                from marts.fct_rejected_submissions
                """
            )
            got = {(f, s, r, c): (outcome, value) for f, s, r, c, outcome, value in cur.fetchall()}
    finally:
        con.close()
    expected = pd.read_csv(FIXTURES / "expected_outcomes.csv", dtype=str, keep_default_na=False)
    assert len(got) == len(expected)
    for row in expected.to_dict("records"):
        key = (row["file_name"], row["sheet_name"], int(row["row_number"]), int(row["column_number"] or 0) or None)
        outcome, value = got[key]
        assert outcome == row["outcome"], f"{key} ({row['case']})"
        if row["outcome"] == "accepted" and row["value"]:
            assert abs(Decimal(str(value)) - Decimal(row["value"])) < Decimal("1e-9"), key
