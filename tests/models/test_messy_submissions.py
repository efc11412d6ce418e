"""Hand-made messy files (tests/fixtures/messy_submissions): every row ends where expected_outcomes.csv says,
nothing is lost, unreadable files are named, and the file-quality report adds up."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from hqd.landing import ingest
from hqd.settings import Settings
from tests.support import jobs
from tools import sample_data

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "messy_submissions"
SAMPLE_FILES = 456


@dataclass
class IngestOutcome:
    files_loaded: int
    files_skipped: int
    failures: list[tuple[str, str]]
    waiting: list[tuple[str, str]]
    notes: list[tuple[str, str]]


@dataclass
class Loaded:
    warehouse: Path
    report: IngestOutcome
    job_run: object

    def query(self, sql: str) -> pd.DataFrame:
        con = duckdb.connect(str(self.warehouse))
        try:
            return con.execute(sql).df()
        finally:
            con.close()


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Loaded:
    """The hand-made files beside the generated sample, through the main job exactly as `make run` runs it:
    its quality checks on, and the publication made."""
    root = tmp_path_factory.mktemp("messy")
    landing = root / "landing"
    sample_data.generate_sample(landing)  # in year folders; the fixtures sit at the top of the landing folder
    shutil.copytree(FIXTURES / "landing", landing, dirs_exist_ok=True)
    settings = jobs.overrides(root, warehouse=root / "hqd.duckdb", landing=landing)
    job_run = jobs.run_job(settings)
    assert job_run.success, [e.message for e in job_run.result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert (root / "published" / "current" / "hqd_marts.duckdb").exists()
    meta = jobs.materialization_metadata(job_run, "raw/submissions")
    report = IngestOutcome(
        meta["files_loaded"],
        meta["files_skipped"],
        [(f["file"], f["reason"]) for f in meta["unreadable_files"]],
        [(f["file"], f["reason"]) for f in meta["waiting_files"]],
        [(f["file"], f["note"]) for f in meta["notes"]],
    )
    return Loaded(root / "hqd.duckdb", report, job_run)


# the fixtures' rows: the sample's files all live in year folders
FIXTURE_ROWS = "file_name not like '%/%'"


def test_unreadable_files_are_named_and_the_rest_loads(loaded):
    failures = dict(loaded.report.failures)
    assert sorted(failures) == ["c_corrupt.xlsx", "c_empty.csv", "c_instructions_only.xlsx", "c_no_header.csv"]
    assert failures["c_empty.csv"] == "c_empty.csv: the file is empty"
    assert failures["c_corrupt.xlsx"].startswith("c_corrupt.xlsx: not a readable Excel workbook")
    assert failures["c_no_header.csv"].startswith("c_no_header.csv: no header row found")
    assert failures["c_instructions_only.xlsx"].startswith("c_instructions_only.xlsx: no sheet has a header row")
    assert "'填报说明', '指标解释'" in failures["c_instructions_only.xlsx"]
    # the copy has the same bytes as b_traditional_gb18030.csv: skipped, not loaded twice
    assert (loaded.report.files_loaded - SAMPLE_FILES, loaded.report.files_skipped) == (8, 1)
    assert loaded.report.waiting == []


def test_a_sheet_without_header_beside_data_sheets_is_skipped_with_a_note(loaded):
    note = "h_real_workbook.xlsx sheet '填报说明' skipped: no header row (not a data sheet?)"
    assert loaded.report.notes == [("h_real_workbook.xlsx", note)]
    report = loaded.query("select * from marts.fct_submission_file_quality where file_name = 'h_real_workbook.xlsx'")
    skipped = report[report["outcome"] == "skipped_sheet"]
    assert skipped["error_message"].tolist() == [note]
    assert skipped["outcome_rows"].tolist() == [0]


def test_big5_file_is_decoded_as_big5(loaded):
    encodings = dict(loaded.query("select file_name, encoding from raw.landing_files").values.tolist())
    assert encodings["g_big5.csv"] == "big5"


def _int_or_none(value) -> int | None:
    return None if value is None or value != value else int(value)  # NaN is unequal to itself


def test_every_row_has_its_expected_outcome(loaded):
    expected = pd.read_csv(FIXTURES / "expected_outcomes.csv", dtype=str, keep_default_na=False)
    actual = loaded.query(
        f"""
        select file_name, sheet_name, row_number, column_number, 'accepted' as outcome, region_code,
               indicator_code, period_code, indicator_value as value, is_missing_value, is_current
        from marts.fct_indicator_values where {FIXTURE_ROWS}
        union all
        select file_name, sheet_name, row_number, column_number, rejection_reason, resolved_region_code,
               resolved_indicator_code, period_code, null, null, null
        from marts.fct_rejected_submissions where {FIXTURE_ROWS}
        """
    )
    assert len(actual) == len(expected) == 79
    actual = actual.astype(object).where(actual.notna(), None)
    by_key = {
        (r["file_name"], r["sheet_name"], int(r["row_number"]), _int_or_none(r["column_number"])): r
        for r in actual.to_dict("records")
    }
    for written in expected.to_dict("records"):
        row = {k: (None if v == "" and k != "sheet_name" else v) for k, v in written.items()}
        key = (row["file_name"], row["sheet_name"], int(row["row_number"]), _int_or_none(row["column_number"]))
        got = by_key[key]
        where = f"{key} ({row['case']})"
        for column in ("outcome", "region_code", "indicator_code", "period_code"):
            assert got[column] == row[column], f"{where}: {column} {got[column]!r} != {row[column]!r}"
        if row["outcome"] == "accepted":
            if row["value"] is None:
                assert got["value"] is None, where
            else:
                assert abs(Decimal(str(got["value"])) - Decimal(row["value"])) < Decimal("1e-9"), where
            assert got["is_missing_value"] == (row["is_missing_value"] == "true"), where
            assert got["is_current"] == (row["is_current"] == "true"), where


def test_rows_reconcile_and_keep_their_original_text(loaded):
    counts = loaded.query(
        f"select (select count(*) from raw.submissions where {FIXTURE_ROWS}) as raw_rows, "
        f"(select count(*) from marts.fct_indicator_values where {FIXTURE_ROWS}) as accepted, "
        f"(select count(*) from marts.fct_rejected_submissions where {FIXTURE_ROWS}) as rejected"
    ).iloc[0]
    assert counts["raw_rows"] == counts["accepted"] + counts["rejected"] == 79
    raw = loaded.query(
        "select region_name_raw, value_raw, unit_raw from marts.fct_rejected_submissions "
        "where file_name = 'a_long_utf8_bom.csv' and row_number = 25"
    ).iloc[0]
    assert (raw["value_raw"], raw["unit_raw"]) == ("8,5", "%")
    original = loaded.query(
        "select region_name_raw, region_name_text from raw.submissions where row_number = 2 "
        "and file_name = 'b_traditional_gb18030.csv'"
    ).iloc[0]
    assert (original["region_name_raw"], original["region_name_text"]) == ("蘇州市", "苏州市")


def test_file_quality_report(loaded):
    report = loaded.query(f"select * from marts.fct_submission_file_quality where {FIXTURE_ROWS}")
    a = report[report["file_name"] == "a_long_utf8_bom.csv"].set_index("outcome")
    assert a["file_rows"].unique().tolist() == [25]
    assert a.loc["accepted", "outcome_rows"] == 11
    assert a.loc["value_out_of_range", "outcome_rows"] == 2
    assert a.loc["conflicting_duplicate_in_file", "example_rows"] == "row 20: 4; row 21: 5"
    assert a["outcome_rows"].sum() == 25
    unreadable = report[report["outcome"] == "unreadable_file"].set_index("file_name")
    assert sorted(unreadable.index) == ["c_corrupt.xlsx", "c_empty.csv", "c_instructions_only.xlsx", "c_no_header.csv"]
    assert unreadable.loc["c_empty.csv", "error_message"] == "c_empty.csv: the file is empty"
    wide = report[(report["file_name"] == "d_workbook.xlsx") & (report["outcome"] == "value_out_of_range")]
    assert wide["example_rows"].tolist() == ["row 4 col 6: 101"]


def test_loading_the_folder_again_changes_nothing(loaded, tmp_path):
    before = loaded.query("select count(*) as n from raw.submissions")["n"][0]
    settings = Settings(warehouse=loaded.warehouse, landing_dir=loaded.warehouse.parent / "landing")
    again = ingest.land(settings)
    assert again.files_loaded == 0 and again.rows_loaded == 0
    assert loaded.query("select count(*) as n from raw.submissions")["n"][0] == before
