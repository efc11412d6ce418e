"""The data quality page, built from real Great Expectations results of two small suites on a tiny warehouse:
one that fails (a blocking and a warning expectation) and one that passes. The page's counts are checked against
the GE result and against counts worked out by hand from the rows below."""

from __future__ import annotations

import html.parser
import json
from pathlib import Path
from typing import Any

import duckdb
import pytest

from hqd import quality, quality_scope
from hqd.docs import dbt_docs, quality_page

# five landed rows: two without a region (rows 2 and 4 of a.csv), one share of 135 (b.xlsx, Sheet1, row 7)
ROWS = [
    ("a.csv", "", 1, 0, "320100", 12.5),
    ("a.csv", "", 2, 0, None, 40.0),
    ("a.csv", "", 3, 0, "320200", 99.0),
    ("a.csv", "", 4, 0, None, 50.0),
    ("b.xlsx", "Sheet1", 7, 3, "320583", 135.0),
]
SUITES = {
    "raw__tiny": {
        "name": "raw__tiny",
        "notes": "Tiny raw rows <b>escaped</b>.",
        "meta": {
            "asset": "raw/submissions",
            "severity": "blocking",
            "query": "select * from raw.tiny",
            "key_columns": ["file_name", "sheet_name", "row_number", "column_number"],
        },
        "expectations": [
            {"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 1, "max_value": 10}},
            {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "region_code"}},
            {
                "type": "expect_column_values_to_be_between",
                "kwargs": {"column": "share", "min_value": 0, "max_value": 100},
                "meta": {"severity": "warning"},
            },
        ],
    },
    "marts__tiny_ok": {
        "name": "marts__tiny_ok",
        "notes": "Passes.",
        "meta": {"asset": "marts/fct_tiny", "severity": "blocking", "query": "select * from raw.tiny"},
        "expectations": [
            {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "file_name"}},
            {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "share"}},
        ],
    },
    "marts__tiny_broken": {
        "name": "marts__tiny_broken",
        "notes": "Its table is missing.",
        "meta": {"asset": "marts/fct_gone", "severity": "blocking", "query": "select * from marts.gone"},
        "expectations": [{"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 1}}],
    },
}


class _Page(html.parser.HTMLParser):
    """The data-* attributes of every suite section and expectation row, and each failing-rows table."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.suites: dict[str, dict[str, str]] = {}
        self.expectations: dict[str, list[dict[str, str]]] = {}
        self.tables: dict[str, list[list[str]]] = {}  # "<suite>#<number>" → header + rows of failing rows
        self._suite = ""
        self._rows_of = ""
        self._cell: list[str] | None = None
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "section" and "data-suite" in a:
            self._suite = a["data-suite"]
            self.suites[self._suite] = a
            self.expectations[self._suite] = []
        elif tag == "tr" and "data-type" in a:
            self.expectations[self._suite].append(a)
            self._rows_of = ""
        elif tag == "tr" and a.get("class", "").startswith("rows-of-"):
            self._rows_of = f"{self._suite}#{a['class'].removeprefix('rows-of-')}"
            self.tables[self._rows_of] = []
        elif tag == "tr" and self._rows_of:
            self.tables[self._rows_of].append([])
        elif tag in ("td", "th") and self._rows_of and self.tables[self._rows_of]:
            self._cell = []

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.tables[self._rows_of][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table" and self._rows_of:
            self._rows_of = ""


@pytest.fixture
def suites_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "expectations"
    folder.mkdir()
    for name, suite in SUITES.items():
        (folder / f"{name}.json").write_text(json.dumps(suite), encoding="utf-8")
    return folder


def _tiny_warehouse(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    """The five landed rows in raw.tiny."""
    con = duckdb.connect(str(tmp_path / "tiny.duckdb"))
    con.execute("create schema raw")
    con.execute(
        "create table raw.tiny (file_name varchar, sheet_name varchar, row_number integer, column_number integer,"
        " region_code varchar, share double)"
    )
    con.executemany("insert into raw.tiny values (?, ?, ?, ?, ?, ?)", ROWS)
    return con


@pytest.fixture
def outcomes(tmp_path: Path, suites_dir: Path) -> list[quality.SuiteOutcome]:
    con = _tiny_warehouse(tmp_path)
    try:
        return [quality.run_suite(con, name, directory=suites_dir) for name in SUITES]
    finally:
        con.close()


def _write(tmp_path: Path, results: list[Any], suites_dir: Path) -> tuple[str, _Page]:
    out = quality_page.write_quality_page(
        results, tmp_path / "out" / "quality.html", suites=quality.load_suites(suites_dir), run_id="r1", period="2024Q4"
    )
    text = out.read_text(encoding="utf-8")
    return text, _Page(text)


def test_page_counts_equal_the_validation_results(tmp_path: Path, suites_dir: Path, outcomes):
    text, page = _write(tmp_path, outcomes, suites_dir)
    for outcome in outcomes:
        section = page.suites[outcome.suite_name]
        assert (int(section["data-evaluated"]), int(section["data-failed"])) == (outcome.evaluated, outcome.failed)
        if outcome.result is None:
            continue
        rows = page.expectations[outcome.suite_name]
        assert [r["data-type"] for r in rows] == [r.expectation_config.type for r in outcome.result.results]
        for row, result in zip(rows, outcome.result.results, strict=True):
            assert row["data-success"] == str(result.success).lower()
            assert row["data-unexpected-count"] == str(result.result.get("unexpected_count", ""))
            assert row["data-element-count"] == str(result.result.get("element_count", ""))

    # by hand: 5 rows, 2 without a region (40 %), 1 share above 100 (20 %, a warning)
    tiny = page.expectations["raw__tiny"]
    assert [(r["data-success"], r["data-unexpected-count"]) for r in tiny] == [
        ("true", ""),
        ("false", "2"),
        ("false", "1"),
    ]
    assert "2 (40.00%)" in text and "1 (20.00%)" in text
    assert page.suites["raw__tiny"]["data-status"] == "blocking"
    assert page.suites["marts__tiny_ok"]["data-status"] == "passed"
    assert page.suites["marts__tiny_broken"]["data-status"] == "error"
    assert "Catalog Error" in text or "does not exist" in text  # DuckDB's reason for the missing table
    assert "发布门禁：未通过" in text and "阻止发布" in text

    # the first failing rows name the file, sheet, row and column
    nulls = page.tables["raw__tiny#2"]
    assert nulls[0][:4] == ["文件 file", "工作表 sheet", "行 row", "列 column"]
    assert [r[:4] for r in nulls[1:]] == [["a.csv", "''", "2", "0"], ["a.csv", "''", "4", "0"]]
    shares = page.tables["raw__tiny#3"]
    assert [r[:4] for r in shares[1:]] == [["b.xlsx", "Sheet1", "7", "3"]]
    assert shares[1][-1] == "135"
    # text from the suites is escaped, never markup
    assert "<b>escaped</b>" not in text and "&lt;b&gt;escaped&lt;/b&gt;" in text


def test_a_warning_only_failure_does_not_block(tmp_path: Path, suites_dir: Path, outcomes):
    """The same rows with the region present: only the warning expectation fails."""
    con = duckdb.connect(str(tmp_path / "tiny.duckdb"))
    con.execute("update raw.tiny set region_code = '320000' where region_code is null")
    try:
        outcome = quality.run_suite(con, "raw__tiny", directory=suites_dir)
    finally:
        con.close()
    text, page = _write(tmp_path, [outcome], suites_dir)
    assert page.suites["raw__tiny"]["data-status"] == "warning"
    assert "发布门禁：通过" in text
    # the suites without a result are listed, as not run in this run
    assert page.suites["marts__tiny_ok"]["data-status"] == "not_run"


def test_the_persisted_run_record_gives_the_same_page(tmp_path: Path, suites_dir: Path, outcomes):
    """What the checks write per run (a JSON file) is enough to rebuild the page, e.g. in the report folder."""
    record = [{"stage": "raw", "name": f"ge_{o.suite_name}", "result": quality.suite_record(o)} for o in outcomes]
    path = quality.run_outcomes_path(tmp_path / "quality", "run-1")
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    from_outcomes = _Page(_write(tmp_path, outcomes, suites_dir)[0])
    from_record = _Page(_write(tmp_path, quality_page.read_run_results(tmp_path / "quality", "run-1"), suites_dir)[0])
    assert from_record.suites == from_outcomes.suites
    assert from_record.expectations == from_outcomes.expectations
    assert from_record.tables == from_outcomes.tables


def test_the_default_page_lists_every_suite_in_expectations(tmp_path: Path, outcomes):
    out = quality_page.write_quality_page(outcomes[:1], tmp_path / "quality.html")
    page = _Page(out.read_text(encoding="utf-8"))
    assert set(page.suites) == set(quality.load_suites()) | {"raw__tiny"}
    assert {s["data-status"] for n, s in page.suites.items() if n != "raw__tiny"} == {"not_run"}


def test_the_page_loads_nothing_and_prints_on_a4(tmp_path: Path, suites_dir: Path, outcomes):
    text, _ = _write(tmp_path, outcomes, suites_dir)
    assert dbt_docs.fetched_urls(text) == []
    assert "<script" not in text and "@import" not in text
    assert "@page { size: A4" in text and "@media print" in text


def test_the_generation_time_is_beijing_time(outcomes):
    import datetime

    utc_midnight = datetime.datetime(2025, 3, 15, 0, 30, tzinfo=datetime.UTC)
    view = quality_page.page_view(outcomes, suites={}, generated_at=utc_midnight)
    assert view.generated_at == "2025-03-15 08:30 北京时间"


def test_a_slice_shows_its_scope_and_an_empty_slice_shows_unchanged(tmp_path: Path, suites_dir: Path):
    """What the incremental gate validated (hqd/quality_scope.py) is on the page: rows 3, 4 and 7 of the five (one
    of them without a region), and a suite whose slice is empty is unchanged, not passed, failed or missing."""
    con = _tiny_warehouse(tmp_path)
    later = quality_scope.Scope(condition="row_number >= 3", description="later rows", watermark=2)
    nothing = quality_scope.Scope(condition="row_number > 100", description="no rows", watermark=7)
    try:
        sliced = quality.run_suite(con, "raw__tiny", directory=suites_dir, scope=later)
        unchanged = quality.run_suite(con, "marts__tiny_ok", directory=suites_dir, scope=nothing)
    finally:
        con.close()
    assert sliced.rows_validated == 3 and not unchanged.evaluated and unchanged.success
    text, page = _write(tmp_path, [sliced, unchanged], suites_dir)
    assert [r["data-unexpected-count"] for r in page.expectations["raw__tiny"]] == ["", "1", "1"]
    assert "增量：第 2 批之后落地的行" in text
    assert page.suites["marts__tiny_ok"]["data-status"] == "unchanged"
    assert "本次不重复校验" in text and "发布门禁：通过" not in text  # raw__tiny still blocks
