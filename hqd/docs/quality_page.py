"""The data quality page (数据质量报告): every Great Expectations suite of a run on one static, offline page.

It replaces Great Expectations' Data Docs as the quality report people are pointed to: those fetch every
stylesheet and script from public CDNs (blank on an office's closed network) and showed only the suites of the
last check step. This page is built from the same validation results, which the run's checks persist with their
outcomes (`hqd.quality.suite_record` in `<quality_dir>/runs/<run id>.json`), and lists every suite in
expectations/: passed or failed, each expectation with its outcome, observed value, unexpected counts and the
first failing rows (file, sheet, row and column where the suite keys its rows by them), and whether the failure
blocks publication. Styles are inline (with a print stylesheet for A4); the page loads nothing.
"""

from __future__ import annotations

import datetime
import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2

from hqd import quality, quality_scope

PAGE_NAME = "quality.html"
TIMEZONE = ZoneInfo("Asia/Shanghai")  # the office's time, as the report pack prints it
TEMPLATE = "quality.html.j2"

LAYERS = {
    "raw": "原始层 raw（落地的原始行与文件）",
    "staging": "清洗层 staging（类型化的报送行）",
    "intermediate": "中间层 intermediate",
    "marts": "数据集市 marts（发布给 BI 与报告的表）",
}
RULE_NAMES_ZH = {
    "expect_column_values_to_not_be_null": "不得为空",
    "expect_column_values_to_be_null": "必须为空",
    "expect_column_values_to_be_in_set": "取值在允许集合内",
    "expect_column_values_to_be_between": "取值在范围内",
    "expect_column_values_to_be_unique": "取值唯一",
    "expect_column_values_to_match_regex": "符合格式（正则）",
    "expect_column_pair_values_a_to_be_greater_than_b": "A 列大于 B 列",
    "expect_column_pair_values_to_be_equal": "两列相等",
    "expect_compound_columns_to_be_unique": "组合键唯一",
    "expect_table_columns_to_match_set": "列与约定一致",
    "expect_table_row_count_to_be_between": "行数在范围内",
    "query": "查询",
}
# where a suite keys its rows by the submission's place, the place is named as the office knows it
KEY_LABELS = {
    "file_name": "文件 file",
    "sheet_name": "工作表 sheet",
    "row_number": "行 row",
    "column_number": "列 column",
    "file_hash": "文件哈希 file hash",
    "value": "值 value",
}
STATUS_LABELS = {
    "passed": "通过",
    "warning": "警告（不阻止发布）",
    "blocking": "未通过：阻止发布",
    "error": "查询失败",
    "not_run": "本次未运行",
    "unchanged": "未变：上次已通过",
}
PARAMS_HIDDEN = {"batch_id", "result_format", "column", "column_A", "column_B", "column_list"}
SET_ITEMS_SHOWN = 12
TEXT_MAX_CHARS = 300


@dataclass
class ExpectationView:
    number: int
    type: str
    rule_zh: str
    column: str
    params: str
    success: bool
    severity: str
    blocks: bool  # failed, and its severity is blocking
    observed: str
    element_count: int | None
    unexpected_count: int | None
    unexpected_percent: float | None
    missing_count: int | None
    why: str = ""
    error: str = ""
    rows_header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)


@dataclass
class SuiteView:
    name: str
    asset: str
    layer: str
    notes: str
    severity: str
    status: str  # a key of STATUS_LABELS
    blocks: bool
    evaluated: int
    failed: int
    rows_validated: int | None
    seconds: float | None
    error: str
    expectations: list[ExpectationView]
    scope: str = "全部行"  # the rows validated: all, or the slice rebuilt since the suite last passed

    @property
    def status_label(self) -> str:
        if self.status == "error":
            return "查询失败：阻止发布" if self.blocks else "查询失败（警告）"
        return STATUS_LABELS[self.status]

    @property
    def anchor(self) -> str:
        return f"suite-{self.name}"


@dataclass
class PageView:
    suites: list[SuiteView]
    run_id: str
    period: str
    generated_at: str

    def count(self, status: str) -> int:
        return sum(s.status == status for s in self.suites)

    @property
    def blocking_suites(self) -> list[SuiteView]:
        return [s for s in self.suites if s.blocks]

    @property
    def publication_allowed(self) -> bool:
        return not self.blocking_suites

    def layers(self) -> list[tuple[str, list[SuiteView]]]:
        return [
            (label, [s for s in self.suites if s.layer == key])
            for key, label in LAYERS.items()
            if any(s.layer == key for s in self.suites)
        ]


# ---------------------------------------------------------------------------------------------------- views


def _text(value: Any) -> str:
    """A cell as a person writes it: null for a missing value, '' shown as such, long text cut."""
    if value is None or (isinstance(value, float) and value != value):
        text = "null"
    elif value == "":
        text = "''"
    elif isinstance(value, float) and value.is_integer():
        text = str(int(value))
    elif isinstance(value, list | tuple):
        text = "[" + ", ".join(_text(v) for v in value) + "]"
    elif isinstance(value, dict):
        text = json.dumps(value, ensure_ascii=False, default=str)
    else:
        text = str(value)
    return text if len(text) <= TEXT_MAX_CHARS else text[: TEXT_MAX_CHARS - 1] + "…"


def _listed(value: Any) -> str:
    """A long list (a column set, a value set) as its first items and how many there are."""
    if isinstance(value, list) and len(value) > SET_ITEMS_SHOWN:
        return "[" + ", ".join(_text(v) for v in value[:SET_ITEMS_SHOWN]) + f", … 共 {len(value)} 项]"
    return _text(value)


def _params(kwargs: Mapping[str, Any]) -> str:
    return "; ".join(f"{name}={_listed(value)}" for name, value in kwargs.items() if name not in PARAMS_HIDDEN)


def _exception(info: Mapping[str, Any] | None) -> str:
    # GE reports an exception either flat or per failed metric
    for item in [info or {}, *((info or {}).values())]:
        if isinstance(item, dict) and item.get("raised_exception"):
            lines = str(item.get("exception_message") or "").strip().splitlines()
            return lines[-1] if lines else "the expectation raised an exception"
    return ""


def _failing_rows(result: Mapping[str, Any], column: str | None) -> tuple[list[str], list[list[str]]]:
    """The first failing rows GE kept: keyed rows (file, sheet, row, column, or the suite's key) if the suite
    names key columns, else the bare unexpected values."""
    indexed = [x for x in result.get("partial_unexpected_index_list") or [] if isinstance(x, dict)]
    if indexed:
        keys = list(result.get("unexpected_index_column_names") or [])
        columns = keys + [c for x in indexed for c in x if c not in keys]
        columns = list(dict.fromkeys(columns))
        header = [KEY_LABELS.get(c, c) for c in columns]
        return header, [[_text(x.get(c)) for c in columns] for x in indexed]
    values = result.get("partial_unexpected_list") or []
    if values:
        return [column or KEY_LABELS["value"]], [[_text(v)] for v in values]
    return [], []


def _observed(result: Mapping[str, Any]) -> str:
    mismatched = (result.get("details") or {}).get("mismatched")
    if mismatched:
        parts = []
        if mismatched.get("missing"):
            parts.append(f"缺少 missing {_text(sorted(mismatched['missing']))}")
        if mismatched.get("unexpected"):
            parts.append(f"多出 unexpected {_text(sorted(mismatched['unexpected']))}")
        return "; ".join(parts)
    if "observed_value" in result:
        return _listed(result["observed_value"])
    return ""


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _expectation_view(number: int, item: Mapping[str, Any], default_severity: str) -> ExpectationView:
    config = item.get("expectation_config") or {}
    kwargs = config.get("kwargs") or {}
    meta = config.get("meta") or {}
    result = item.get("result") or {}
    kind = config.get("type", "")
    severity = meta.get("severity", default_severity)
    success = bool(item.get("success"))
    header, rows = ([], []) if success else _failing_rows(result, quality._column_of(kwargs))
    percent = result.get("unexpected_percent")
    return ExpectationView(
        number=number,
        type=kind,
        rule_zh=RULE_NAMES_ZH.get(kind, ""),
        column=quality._column_of(kwargs) or "",
        params=_params(kwargs),
        success=success,
        severity=severity,
        blocks=not success and severity == "blocking",
        observed=_observed(result),
        element_count=_int(result.get("element_count")),
        unexpected_count=_int(result.get("unexpected_count")),
        unexpected_percent=None if percent is None else float(percent),
        missing_count=_int(result.get("missing_count")),
        why=str(meta.get("why", "")),
        error=_exception(item.get("exception_info")),
        rows_header=header,
        rows=rows,
    )


def _as_record(item: quality.SuiteOutcome | Mapping[str, Any]) -> Mapping[str, Any]:
    if isinstance(item, quality.SuiteOutcome):
        return quality.suite_record(item)
    # a check's entry in the run's outcomes file carries the suite's record under "result"
    return item.get("result", item)


def scope_text(scope: Mapping[str, Any] | None) -> str:
    """The rows a suite read, for people (hqd/quality_scope.py): all, new loads, or the years rebuilt."""
    if not scope or not scope.get("condition"):
        return "全部行"
    after = scope.get("after_load_seq")
    if scope.get("from_year") is None:
        return f"增量：第 {after} 批之后落地的行（此前各批已校验通过）"
    if scope["from_year"] >= quality_scope.NOTHING_LANDED_YEAR:
        return f"增量：第 {after} 批之后没有落地涉及本对象的数据"
    return f"增量：{scope['from_year']} 年及以后（第 {after} 批之后落地的数据所涉年份；更早年份已校验通过）"


def suite_view(suite: Mapping[str, Any], record: Mapping[str, Any] | None) -> SuiteView:
    """One suite as the page shows it; `record` is its hqd.quality.suite_record, None if it did not run."""
    meta = suite["meta"]
    severity = meta["severity"]
    common = {
        "name": suite["name"],
        "asset": meta["asset"],
        "layer": meta["asset"].split("/")[0],
        "notes": str(suite.get("notes") or ""),
        "severity": severity,
    }
    if record is None:
        return SuiteView(
            **common,
            status="not_run",
            blocks=False,
            evaluated=0,
            failed=0,
            rows_validated=None,
            seconds=None,
            error="",
            expectations=[],
        )
    scope = scope_text(record.get("scope"))
    if record.get("unchanged"):  # a slice without rows: nothing rebuilt since the suite last passed
        return SuiteView(
            **common,
            status="unchanged",
            blocks=False,
            evaluated=0,
            failed=0,
            rows_validated=0,
            seconds=record.get("seconds"),
            error="",
            expectations=[],
            scope=scope,
        )
    validation = record.get("validation")
    if validation is None:  # the query failed: no GE result
        return SuiteView(
            **common,
            status="error",
            blocks=bool(record.get("blocking_failed")),
            evaluated=0,
            failed=1,
            rows_validated=0,
            seconds=record.get("seconds"),
            error=_text(record.get("error") or "the query failed"),
            expectations=[],
        )
    expectations = [_expectation_view(i, item, severity) for i, item in enumerate(validation["results"], 1)]
    failed = [e for e in expectations if not e.success]
    blocks = any(e.blocks for e in failed)
    status = "passed" if not failed else ("blocking" if blocks else "warning")
    return SuiteView(
        **common,
        status=status,
        blocks=blocks,
        evaluated=len(expectations),
        failed=len(failed),
        rows_validated=record.get("rows_validated"),
        seconds=record.get("seconds"),
        error="",
        expectations=expectations,
        scope=scope,
    )


def page_view(
    results: Iterable[quality.SuiteOutcome | Mapping[str, Any]],
    *,
    suites: Mapping[str, Mapping[str, Any]] | None = None,
    run_id: str = "",
    period: str = "",
    generated_at: datetime.datetime | None = None,
) -> PageView:
    """Every suite of `suites` (default: expectations/) with its result where `results` has one; a result of a
    suite no longer in the folder is shown too."""
    records = {r["suite"]: r for r in map(_as_record, results)}
    suites = dict(suites if suites is not None else quality.load_suites())
    for name, record in records.items():
        if name not in suites:  # shown from its record alone
            suites[name] = {
                "name": name,
                "notes": record.get("notes", ""),
                "meta": {"asset": record["asset"], "severity": record["severity"]},
            }
    layer_order = {key: i for i, key in enumerate(LAYERS)}
    views = [suite_view(suite, records.get(name)) for name, suite in suites.items()]
    views.sort(key=lambda v: (layer_order.get(v.layer, len(layer_order)), v.name))
    when = (generated_at or datetime.datetime.now(TIMEZONE)).astimezone(TIMEZONE)
    return PageView(views, run_id, period, when.strftime("%Y-%m-%d %H:%M 北京时间"))


# ---------------------------------------------------------------------------------------------------- writing


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("hqd.docs", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["thousands"] = lambda n: "" if n is None else f"{n:,}"
    return env


def render_quality_page(view: PageView) -> str:
    return _environment().get_template(TEMPLATE).render(page=view, status_labels=STATUS_LABELS)


def write_atomically(text: str, out_path: Path) -> Path:
    """Write a file so that a reader sees the old or the new one, never half of it."""
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out_path.name}.", suffix=".tmp", dir=out_path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, out_path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out_path


def write_quality_page(
    results: Iterable[quality.SuiteOutcome | Mapping[str, Any]],
    out_path: Path,
    *,
    suites: Mapping[str, Mapping[str, Any]] | None = None,
    run_id: str = "",
    period: str = "",
) -> Path:
    """Write the page for these validation results (SuiteOutcomes, suite records or a run's outcome entries) to
    out_path, replacing it atomically; every suite in `suites` (default expectations/) is listed."""
    view = page_view(results, suites=suites, run_id=run_id, period=period)
    return write_atomically(render_quality_page(view), out_path)


def read_run_results(quality_dir: Path, run_id: str) -> list[dict[str, Any]]:
    """The suite records a run's checks persisted (raw and warehouse steps); [] if no check ran."""
    path = quality.run_outcomes_path(quality_dir, run_id)
    if not path.is_file():
        return []
    return [entry["result"] for entry in json.loads(path.read_text(encoding="utf-8")) if "result" in entry]


def write_run_quality_page(quality_dir: Path, run_id: str, out_path: Path, *, period: str = "") -> Path:
    """The page of one run, from what its checks persisted, at out_path (e.g. the report folder's
    quality.html). Suites the run did not check are listed as not run."""
    return write_quality_page(read_run_results(quality_dir, run_id), out_path, run_id=run_id, period=period)
