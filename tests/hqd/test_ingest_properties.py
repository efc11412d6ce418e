"""Property-based tests of hqd.landing.ingest: junk in the cells of a well-formed CSV never crashes the
load and never loses a row, and every cell lands verbatim in the *_raw columns.

Three ingest bugs found this way are kept as regression tests at the end: a line separator (U+0085, U+2028,
U+2029) in a cell, a file with a header and no data row, and GB18030 files that charset-normalizer misjudged.
"""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from hqd.landing.ingest import FIELDS, ingest_landing

HEADER = ("地区代码", "地区名称", "指标代码", "指标名称", "统计期", "数值", "单位")
RAW_COLUMNS = [f"{f}_raw" for f in FIELDS]  # same order as HEADER
VALUE = HEADER.index("数值")
FILE = Path("2023/2023/320500_苏州市_2023.csv")
GOOD_ROW = ["320583", "昆山市", "E06", "规上工业总产值", "2023", "11433", "亿元"]

# U+0085, U+2028 and U+2029 are line boundaries for str.splitlines (once a bug in ingest: see the end)
LINE_SEPARATORS = "\x85\u2028\u2029"

# Cells a bureau really writes, so that junk sits among plausible neighbours.
TOKENS = [
    *("320583", "昆山市", "崑山市", "昆山", "蘇州市", "鼓楼区", "E06", "e06", "规上工业总产值", "規上工業總產值"),
    *("2023", "2023年", "2023年第1季度", "2023-Q1", "11433", "11,433", "１２３４．５", "59.5%", "—", "暂无"),
    *("亿元", "万元", "萬元", "%", "％", "", " ", "\u3000", ",", '"', "'", "\n", "\r\n", "\r", "\t", ";", "|"),
]
REALISTIC = st.sampled_from(TOKENS)
# Characters that break naive CSV handling or decoding: delimiters, quotes, line breaks, NUL, BOM, full-width
# and traditional characters, emoji, zero-width and bidi marks.
NASTY = st.sampled_from(
    list(",;\t|\"'\n\r\x00\x0b\x0c\x1b\x1c\x1d\x1e\x1f\x7f\ufeff\u200b\u202e\u3000\xa0 ")
    + list("０１２３４５６７８９．，－％崑蘇萬億區縣🎉👍🏽")
)
ANY_CHAR = st.characters(codec="utf-8")  # any character but lone surrogates
JUNK = st.one_of(
    st.text(ANY_CHAR, max_size=30),  # any Unicode text, control characters included
    st.text(st.one_of(NASTY, ANY_CHAR), max_size=30),
    st.text(NASTY, min_size=1, max_size=10),
    st.lists(REALISTIC, min_size=2, max_size=6).map("".join),
    st.text(ANY_CHAR, min_size=1000, max_size=3000),  # very long cells
)
ROWS = st.lists(st.lists(st.one_of(REALISTIC, JUNK), min_size=7, max_size=7), min_size=1, max_size=8)

# any text GB18030 can encode (it covers all of Unicode), junk included
GB18030_CELL = st.one_of(st.lists(REALISTIC, max_size=6).map("".join), st.text(ANY_CHAR, max_size=30))
GB18030_ROWS = st.lists(st.lists(GB18030_CELL, min_size=7, max_size=7), min_size=1, max_size=8)


def _is_blank(row: list[str]) -> bool:
    return all(not cell.strip() for cell in row)


def _csv_bytes(rows: list[list[str]], encoding: str, lineterminator: str, quoting: int) -> bytes:
    if lineterminator == "\n" and any("\r" in cell for row in rows for cell in row):
        quoting = csv.QUOTE_ALL  # the csv module leaves a bare CR unquoted unless CR is in the line terminator
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator=lineterminator, quoting=quoting)
    writer.writerow(HEADER)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def _ingest_bytes(data: bytes) -> tuple[list[tuple[str, str]], dict[int, tuple[str, ...]]]:
    """Ingest one CSV file from a fresh landing folder into a fresh DuckDB file: (failures, raw cells by
    row number, the header being row 1)."""
    with tempfile.TemporaryDirectory() as tmp:
        landing = Path(tmp) / "landing"
        (landing / FILE).parent.mkdir(parents=True)
        (landing / FILE).write_bytes(data)
        con = duckdb.connect(str(Path(tmp) / "warehouse.duckdb"))  # not "raw.duckdb": catalog and schema clash
        try:
            report = ingest_landing(landing, con)
            got = con.execute(f"select row_number, {', '.join(RAW_COLUMNS)} from raw.submissions").fetchall()
        finally:
            con.close()
    numbers = [r[0] for r in got]
    assert len(numbers) == len(set(numbers)), "a row landed twice"
    return report.failures, {r[0]: tuple("" if c is None else c for c in r[1:]) for r in got}


def _assert_every_row_kept(rows: list[list[str]], data: bytes) -> None:
    failures, got = _ingest_bytes(data)
    assert not failures  # a rejected file loses all its rows
    want = {i + 2: tuple(row) for i, row in enumerate(rows) if not _is_blank(row)}
    assert sorted(got) == sorted(want)  # every non-empty row once, none invented
    for number, cells in want.items():
        assert got[number][VALUE] == cells[VALUE], number  # the value cell verbatim, first of all
        assert got[number] == cells, number


COMMON = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)


@COMMON
@given(
    rows=ROWS,
    encoding=st.sampled_from(["utf-8", "utf-8-sig"]),
    lineterminator=st.sampled_from(["\r\n", "\n"]),
    quoting=st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]),
)
@example(
    rows=[GOOD_ROW, ['"', "a,b", "x\ny", "\x00", "🎉" * 500, "１２３４．５", "\r"]],
    encoding="utf-8-sig",
    lineterminator="\r\n",
    quoting=csv.QUOTE_MINIMAL,
)
def test_junk_cells_never_crash_and_never_lose_a_row(
    rows: list[list[str]], encoding: str, lineterminator: str, quoting: int
) -> None:
    _assert_every_row_kept(rows, _csv_bytes(rows, encoding, lineterminator, quoting))


@COMMON
@given(
    rows=GB18030_ROWS,
    lineterminator=st.sampled_from(["\r\n", "\n"]),
    quoting=st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]),
)
def test_gb18030_files_never_lose_a_row(rows: list[list[str]], lineterminator: str, quoting: int) -> None:
    _assert_every_row_kept(rows, _csv_bytes(rows, "gb18030", lineterminator, quoting))


# --- ingest bugs this property found, kept as regression tests with their minimal inputs ------------------


def _header_and(body: str, encoding: str = "utf-8") -> bytes:
    return (",".join(HEADER) + "\n" + body).encode(encoding)


@pytest.mark.parametrize("char", list(LINE_SEPARATORS), ids=["U+0085", "U+2028", "U+2029"])
def test_line_separator_in_a_cell_is_kept(char: str) -> None:
    row = [*GOOD_ROW[:5], f"11433{char}", GOOD_ROW[6]]
    _assert_every_row_kept([row], _header_and(",".join(row) + "\n"))


@pytest.mark.parametrize("body", ["", ",,,,,,\n"], ids=["header-only", "blank-row"])
def test_file_without_data_rows_loads_nothing_and_does_not_crash(body: str) -> None:
    _assert_every_row_kept([[""] * 7] if body else [], _header_and(body))


@pytest.mark.parametrize(
    "row",
    [
        [*GOOD_ROW[:5], "11433\x1b", GOOD_ROW[6]],  # an escape character left in a cell
        [*GOOD_ROW[:5], "11433ÀĴ", GOOD_ROW[6]],  # Latin letters (4-byte GB18030)
        ["", "", "", "", "", "è", "è"],  # pinyin letters in a small file: decoded as another encoding
    ],
    ids=["escape", "latin", "pinyin"],
)
def test_gb18030_file_charset_normalizer_misjudged_is_read(row: list[str]) -> None:
    _assert_every_row_kept([row], _header_and(",".join(row) + "\n", "gb18030"))


# --- junk value cells never fail the build ----------------------------------------------------------------------
# A value cell is parsed by dbt (stg_landing__submissions, int_submissions_validated): whatever it holds, the build
# succeeds and the row ends accepted or rejected with a reason; an ID number, 1e400 or NaN is never an error.

NUMBERISH = st.one_of(
    st.integers(min_value=-(10**40), max_value=10**40).map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.floats().map(repr),
    st.builds(lambda m, e: f"{m}e{e}", st.integers(-999, 999), st.integers(-99999, 99999)),
    st.text("0123456789.,eE+-−–‐（）()%　 ", min_size=1, max_size=25),
    st.sampled_from(["110105199003071234", "1e400", "-1e-400", "NaN", "Infinity", "-inf", "(0.57)", "（4.3）", "−"]),
)


@settings(max_examples=1, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(values=st.lists(st.one_of(NUMBERISH, JUNK), min_size=20, max_size=60))
@example(
    values=[
        "110105199003071234",
        "9" * 40,
        "1e400",
        "1e-99999",
        "1e99999",
        "NaN",
        "-Infinity",
        "(1e999)",
        "−5.21",
        "99999999",
        "0.0000000000001",
        "1_000",
        "0x1F",
        "1,234,567,890,123,456,789",
    ]
)
def test_junk_value_cells_never_fail_the_build(values: list[str]) -> None:
    from tests.support import jobs

    rows = [
        [
            "320583",
            "昆山市",
            ("E01", "E03", "E07", "E02")[i % 4],
            "",
            f"20{18 + i % 7}",
            value,
            ("亿元", "元", "%", "万元")[i % 4],
        ]
        for i, value in enumerate(values)
    ]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        landing = root / "landing"
        landing.mkdir()
        (landing / "junk.csv").write_bytes(_csv_bytes(rows, "utf-8", "\n", csv.QUOTE_ALL))
        settings_ = jobs.overrides(root, warehouse=root / "w.duckdb", landing=landing)
        # the main job; its mart checks may withhold a publication of one county's junk, the build must not fail
        job_run = jobs.run_job(settings_)
        assert not jobs.materialization_metadata(job_run, "raw/submissions")["unreadable_files"]
        build = jobs.dbt_result(job_run, settings_)  # the whole build: every model and test downstream too
        assert build.success, build.failures or build.error
        con = duckdb.connect(str(root / "w.duckdb"))
        try:
            raw_rows, validated, errors = con.execute(
                "select (select count(*) from raw.submissions), count(*), "
                "count(*) filter (where rejection_reason is null and not is_missing_value "
                "and indicator_value is null) from intermediate.int_submissions_validated"
            ).fetchone()
        finally:
            con.close()
    assert raw_rows == validated == sum(not _is_blank(r) for r in rows)
    assert errors == 0  # an accepted row that is not missing has a value
