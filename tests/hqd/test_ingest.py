"""Landing → raw: verbatim cells, decoded text, lineage, no double loads, unreadable files named."""

import os
import time
from pathlib import Path

import duckdb
import pytest
from openpyxl import Workbook

from hqd.landing.ingest import decode_text, ingest_landing

HEADER = "地区代码,地区名称,指标代码,指标名称,统计期,数值,单位\n"


@pytest.fixture
def con(tmp_path: Path):
    connection = duckdb.connect(str(tmp_path / "w.duckdb"))
    yield connection
    connection.close()


def rows(con, sql="select * from raw.submissions order by file_name, row_number"):
    return con.execute(sql).df()


def test_decode_text_nfkc_and_traditional_to_simplified():
    assert decode_text(" 崑山市 ") == "昆山市"
    assert decode_text("蘇州") == "苏州"
    assert decode_text("１２３４．５") == "1234.5"
    assert decode_text("（助理）") == "(助理)"


def test_utf8_and_gbk_files_land_verbatim_with_lineage(tmp_path: Path, con):
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "a.csv").write_text(HEADER + '320583,崑山市,E06,,2023,"11,433",亿元\n', encoding="utf-8")
    (landing / "b.csv").write_bytes((HEADER + "320312,銅山區,E06,,2023,９４５,亿元\n\n").encode("gb18030"))
    report = ingest_landing(landing, con)
    assert (report.files_loaded, report.rows_loaded, report.failures) == (2, 2, [])
    df = rows(con)
    assert list(df["file_name"]) == ["a.csv", "b.csv"]
    assert list(df["row_number"]) == [2, 2]
    assert list(df["region_name_raw"]) == ["崑山市", "銅山區"]
    assert list(df["region_name_text"]) == ["昆山市", "铜山区"]
    assert list(df["value_raw"]) == ["11,433", "９４５"]
    assert list(df["value_text"]) == ["11,433", "945"]
    assert df["load_seq"].tolist() == [1, 2]
    encodings = con.execute("select file_name, encoding from raw.landing_files order by 1").fetchall()
    assert encodings == [("a.csv", "utf-8"), ("b.csv", "gb18030")]


def test_same_file_twice_is_loaded_once_and_a_changed_file_again(tmp_path: Path, con):
    landing = tmp_path / "landing"
    landing.mkdir()
    path = landing / "a.csv"
    path.write_text(HEADER + "320583,,E06,,2023,1,亿元\n", encoding="utf-8")
    assert ingest_landing(landing, con).files_loaded == 1
    again = ingest_landing(landing, con)
    assert (again.files_loaded, again.files_skipped) == (0, 1)
    path.write_text(HEADER + "320583,,E06,,2023,2,亿元\n", encoding="utf-8")
    assert ingest_landing(landing, con).files_loaded == 1
    assert con.execute("select count(*) from raw.submissions").fetchone()[0] == 2


def test_unreadable_files_are_named_and_the_others_still_load(tmp_path: Path, con):
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "empty.csv").write_bytes(b"")
    (landing / "no_header.csv").write_text("a,b,c\n1,2,3\n", encoding="utf-8")
    (landing / "broken.xlsx").write_bytes(b"this is not a workbook")
    (landing / "good.csv").write_text(HEADER + "320583,,E06,,2023,1,亿元\n", encoding="utf-8")
    report = ingest_landing(landing, con)
    assert report.files_loaded == 1
    failures = dict(report.failures)
    assert failures["empty.csv"] == "empty.csv: the file is empty"
    assert failures["no_header.csv"].startswith("no_header.csv: no header row found")
    assert failures["broken.xlsx"].startswith("broken.xlsx: not a readable Excel workbook")
    logged = con.execute("select file_name from raw.load_errors order by 1").fetchall()
    assert logged == [("broken.xlsx",), ("empty.csv",), ("no_header.csv",)]


def test_workbook_with_title_rows_and_two_sheets(tmp_path: Path, con):
    landing = tmp_path / "landing"
    landing.mkdir()
    wb = Workbook()
    first = wb.active
    first.title = "苏州"
    first.append(["2023年度高质量发展监测数据报送表"])
    first.append([])
    first.append(["地区代码", "地区名称", "指标代码", "统计期", "数值", "单位"])
    first.append([320583, "昆山市", "E07", "2023", 59.5, "%"])
    second = wb.create_sheet("无锡")
    second.append(["地区名称", "指标名称", "统计期", "数值"])
    second.append(["江阴市", "地区生产总值", "2021", "4580.33"])
    wb.save(landing / "book.xlsx")
    assert ingest_landing(landing, con).rows_loaded == 2
    landed = con.execute(
        "select sheet_name, row_number, region_code_raw, indicator_name_text, value_raw from raw.submissions order by 1"
    ).fetchall()
    assert landed == [
        ("无锡", 2, None, "地区生产总值", "4580.33"),
        ("苏州", 4, "320583", None, "59.5"),
    ]


# --- files still being copied -------------------------------------------------------------------------------

QUARTERLY = HEADER + "".join(f"320200,无锡市,E01,,2024Q{q},{2534 + q},亿元\n" for q in range(1, 5))


def _age(path: Path, seconds: float) -> None:
    """Make the file look as if it was last written `seconds` ago."""
    old = time.time() - seconds
    os.utime(path, (old, old))


def test_a_file_cut_mid_row_waits_and_the_whole_file_loads_once(tmp_path: Path, con, monkeypatch):
    monkeypatch.setenv("HQD_LANDING_SETTLE_SECONDS", "60")
    landing = tmp_path / "landing"
    landing.mkdir()
    path = landing / "320200_无锡市_2024.csv"
    whole = QUARTERLY.encode()
    path.write_bytes(whole[: whole.index(b"2538") + 4])  # "...,2024Q4,2538": the unit cell and line end not yet there
    for _look in range(2):  # a second look at the same bytes: still young and still cut
        report = ingest_landing(landing, con)
        assert (report.files_loaded, report.rows_loaded, report.failures) == (0, 0, [])
        [(name, reason)] = report.waiting
        assert name == "320200_无锡市_2024.csv"
        assert reason.startswith("waiting: still being copied (its last line has 6 of 7 columns")
        assert con.execute("select count(*) from raw.submissions").fetchone()[0] == 0
    assert con.execute("select file_name from raw.landing_waiting").fetchall() == [("320200_无锡市_2024.csv",)]

    path.write_bytes(whole)
    _age(path, 120)
    report = ingest_landing(landing, con)
    assert (report.files_loaded, report.rows_loaded, report.waiting, report.failures) == (1, 4, [], [])
    landed = con.execute("select period_raw, value_raw, unit_raw from raw.submissions order by row_number").fetchall()
    assert landed == [(f"2024Q{q}", str(2534 + q), "亿元") for q in range(1, 5)]
    assert con.execute("select count(*) from raw.landing_files").fetchone()[0] == 1
    assert con.execute("select count(*) from raw.load_errors").fetchone()[0] == 0
    assert con.execute("select count(*) from raw.landing_waiting").fetchone()[0] == 0
    assert ingest_landing(landing, con).files_loaded == 0  # and once only


def test_a_young_file_loads_when_it_has_not_changed_since_the_last_look(tmp_path: Path, con, monkeypatch):
    monkeypatch.setenv("HQD_LANDING_SETTLE_SECONDS", "3600")
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "a.csv").write_text(QUARTERLY, encoding="utf-8")
    first = ingest_landing(landing, con)
    assert first.files_loaded == 0
    assert "changed since the last look" in first.waiting[0][1]
    second = ingest_landing(landing, con)  # same size and time as at the first look
    assert (second.files_loaded, second.rows_loaded, second.waiting) == (1, 4, [])


def test_a_cut_workbook_waits_while_young_and_is_unreadable_once_settled(tmp_path: Path, con, monkeypatch):
    monkeypatch.setenv("HQD_LANDING_SETTLE_SECONDS", "60")
    landing = tmp_path / "landing"
    landing.mkdir()
    wb = Workbook()
    wb.active.append(["地区代码", "指标代码", "统计期", "数值", "单位"])
    wb.active.append(["320200", "E01", "2024", 2538, "亿元"])
    wb.save(tmp_path / "whole.xlsx")
    cut = landing / "book.xlsx"
    cut.write_bytes((tmp_path / "whole.xlsx").read_bytes()[:2000])
    _age(cut, 10)
    report = ingest_landing(landing, con)
    assert report.failures == []
    assert report.waiting[0][1].startswith("waiting: still being copied (it is not a whole workbook")
    _age(cut, 600)
    report = ingest_landing(landing, con)
    assert report.waiting == []
    assert report.failures[0][1].startswith("book.xlsx: not a readable Excel workbook")


def test_a_settled_csv_with_a_cut_last_line_is_unreadable_not_half_loaded(tmp_path: Path, con):
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "a.csv").write_text(QUARTERLY[:-4], encoding="utf-8")  # "...,2538" and no unit, no line end
    report = ingest_landing(landing, con)
    assert report.rows_loaded == 0
    assert report.failures[0][1].startswith("a.csv: the file is cut short (its last line has 6 of 7 columns")
    # a last line with every column but no line end is whole: the last line of many hand-made files
    (landing / "a.csv").write_text(QUARTERLY.rstrip("\n"), encoding="utf-8")
    assert ingest_landing(landing, con).rows_loaded == 4


def test_settle_time_must_be_a_number(tmp_path: Path, con, monkeypatch):
    monkeypatch.setenv("HQD_LANDING_SETTLE_SECONDS", "soon")
    with pytest.raises(ValueError, match="landing_settle_seconds"):
        ingest_landing(tmp_path, con)


# --- sheets, encodings and headers ----------------------------------------------------------------------------


def test_instructions_sheet_is_skipped_with_a_note_and_kept_in_raw(tmp_path: Path, con):
    landing = tmp_path / "landing"
    landing.mkdir()
    wb = Workbook()
    wb.active.title = "填报说明"
    wb.active.append(["请按模板填报"])
    data = wb.create_sheet("数据")
    data.append(["地区名称", "指标代码", "年份", "数值（万元）"])
    data.append(["江阴市", "E01", "2023", "45803300"])
    wb.save(landing / "book.xlsx")
    report = ingest_landing(landing, con)
    assert (report.files_loaded, report.rows_loaded, report.failures) == (1, 1, [])
    assert report.notes == [("book.xlsx", "book.xlsx sheet '填报说明' skipped: no header row (not a data sheet?)")]
    assert con.execute("select sheet_name from raw.landing_notes").fetchall() == [("填报说明",)]
    assert con.execute("select period_raw, value_raw, unit_raw from raw.submissions").fetchall() == [
        ("2023", "45803300", "万元")
    ]


def test_big5_is_decoded_and_an_undecodable_header_names_the_encoding(tmp_path: Path, con):
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "big5.csv").write_bytes(
        "地區代碼,地區名稱,指標代碼,統計期,數值,單位\n320582,張家港市,E01,2023,1,億元\n".encode("big5")
    )
    (landing / "latin.csv").write_bytes("Région,Période,Valeur\nÎle,2023,1\n".encode("latin-1"))
    report = ingest_landing(landing, con)
    assert report.files_loaded == 1
    assert con.execute("select encoding from raw.landing_files").fetchall() == [("big5",)]
    assert con.execute("select region_name_text from raw.submissions").fetchall() == [("张家港市",)]
    [(name, reason)] = report.failures
    assert name == "latin.csv" and reason.startswith("latin.csv: no header row found") and "(read as " in reason
