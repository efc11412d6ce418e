"""The set-based ingest path for well-formed files writes exactly the rows the careful path writes."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from hqd.landing import ingest
from tools import national, sample_data

COLUMNS = (
    "file_hash, file_name, sheet_name, row_number, column_number, "
    + ", ".join(f"{f}_raw, {f}_text" for f in ingest.FIELDS)
    + ", source_row_json"
)


def _load(landing: Path, *, fast: bool, monkeypatch: pytest.MonkeyPatch):
    con = duckdb.connect()
    with monkeypatch.context() as mp:
        if not fast:
            mp.setattr(ingest, "_fast_rows", lambda raw: None)
        report = ingest.ingest_landing(landing, con)
    rows = con.execute(f"select {COLUMNS} from raw.submissions order by all").df()
    files = con.execute(
        "select file_name, file_format, encoding, sheet_count, row_count from raw.landing_files order by load_seq"
    ).df()
    return report, rows, files


@pytest.mark.parametrize("kind", ["sample_2023", "national_small", "messy_fixtures"])
def test_fast_path_writes_the_same_raw_rows(kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if kind == "sample_2023":
        landing = tmp_path / "landing"
        sample_data.generate_sample(landing, years=[2023], messy_rate=0.05)
    elif kind == "national_small":
        landing = national.generate_national(tmp_path, prefectures=3, years=[2023, 2024]).landing_dir
    else:
        landing = Path(__file__).resolve().parents[1] / "fixtures" / "messy_submissions" / "landing"
    slow_report, slow_rows, slow_files = _load(landing, fast=False, monkeypatch=monkeypatch)
    fast_report, fast_rows, fast_files = _load(landing, fast=True, monkeypatch=monkeypatch)
    assert fast_report.rows_loaded == slow_report.rows_loaded == len(slow_rows) > 0
    assert fast_report.failures == slow_report.failures
    assert fast_rows.equals(slow_rows)
    assert fast_files.equals(slow_files)


def test_fast_path_takes_only_well_formed_files() -> None:
    header = ingest.FAST_HEADER + b"\n"
    row = "320583,昆山市,E01,地区生产总值,2023,5140.6,亿元\n".encode()
    assert ingest._fast_rows(header + row + row) == 2
    assert ingest._fast_rows(b"\xef\xbb\xbf" + header + row) is None  # BOM
    assert ingest._fast_rows(header + row.replace(b",5140.6", b',"5,140.6"')) is None  # quoting
    assert ingest._fast_rows(header + row + b",,,,,,\n") is None  # a blank row
    assert ingest._fast_rows(header + row.rstrip(b"\n")) is None  # no final newline
    assert ingest._fast_rows(header + "320583,崑山市,E01,地区生产总值,2023,5140.6,亿元\n".encode("gb18030")) is None
    assert ingest._fast_rows(header) is None  # header only
    assert ingest._fast_rows(header + row.replace(b"E01", b"E\x1f01")) is None  # a control character
    assert ingest._fast_rows(header + row + ",\u3000,,,,,\n".encode()) is None  # blank but for an ideographic space
    assert ingest._fast_rows(header + b",,,,,,\n" + row) is None  # the first row blank
    assert ingest._fast_rows(header + row + b"\n") is None  # an empty last line
    assert ingest._fast_rows(header + b" " + row) == 1  # a cell with a leading space is not a blank row


def test_fast_path_rerun_loads_nothing(tmp_path: Path) -> None:
    landing = national.generate_national(tmp_path, prefectures=3, years=[2024]).landing_dir
    con = duckdb.connect()
    first = ingest.ingest_landing(landing, con)
    second = ingest.ingest_landing(landing, con)
    assert first.files_loaded == 3 * 5 and second.files_loaded == 0 and second.files_skipped == 15
    assert con.execute("select count(*) from raw.submissions").fetchone()[0] == first.rows_loaded
    seqs = con.execute("select count(distinct load_seq) from raw.submissions").fetchone()[0]
    assert seqs == 15


def test_load_seqs_follow_file_order_across_both_paths_and_a_rerun_takes_one_number(tmp_path: Path) -> None:
    """A later file's rows win downstream (the highest load_seq), so numbers must rise in file order whichever path
    a file takes; numbers come in blocks, and a run that loads one file among many loaded ones takes one."""
    landing = tmp_path / "landing"
    landing.mkdir()
    template = ingest.FAST_HEADER.decode() + "\n"
    for i in range(7):
        row = f"320583,昆山市,E01,地区生产总值,2023,{i},亿元\n"
        # every third file is quoted, so it takes the careful path between set-based ones
        text = template + (row.replace(f",{i},", f',"{i}",') if i % 3 == 0 else row)
        (landing / f"f{i}.csv").write_text(text, encoding="utf-8")
    con = duckdb.connect()
    assert ingest.ingest_landing(landing, con, settle_seconds=0).files_loaded == 7
    order = con.execute("select file_name, load_seq from raw.landing_files order by load_seq").fetchall()
    assert [name for name, _ in order] == [f"f{i}.csv" for i in range(7)]
    assert [seq for _, seq in order] == sorted({seq for _, seq in order})
    (landing / "f3b.csv").write_text(template + "320583,昆山市,E01,地区生产总值,2023,9,亿元\n", encoding="utf-8")
    before = con.execute("select max(load_seq) from raw.landing_files").fetchone()[0]
    assert ingest.ingest_landing(landing, con, settle_seconds=0).files_loaded == 1
    assert con.execute("select max(load_seq) from raw.landing_files").fetchone()[0] == before + 1
    assert con.execute("select nextval('raw.load_seq')").fetchone()[0] == before + 2
