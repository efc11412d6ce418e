"""Landing → raw: verbatim cells, decoded text, lineage, no double loads, unreadable files named."""

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
