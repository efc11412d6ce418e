"""The report pack: the office's documents for one period, made from the published release only.

    <reports_dir>/<YYYY>Q<q>/
        index.html              links to everything below (and quality.html, dbt-docs.html when present)
        warnings.html           监测预警督办通知 for the quarter
        overview.html           全省概览 of the year            (Q4 packs only)
        letters/<code>.html     点对点反馈 per region and year   (Q4 packs only: 13 cities + 95 counties)

The annual pages are made by the Q4 pack alone, the annual assessment's period: a Q1–Q3 pack links the previous
year's Q4 pack instead of copying its 110 pages, so a year's results have one copy, which a re-run after a
correction replaces everywhere at once.

The release is opened read-only; every page part is one set-based query for all regions (hqd.reports.queries),
then Jinja2 renders. The pack is written into a temporary folder beside the target and renamed into place, so a
reader sees either the previous pack or the new one whole (the old folder is renamed away first: for a moment
the period has no folder, never a half-written one).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from hqd.reports import charts, labels, queries

TMP_PREFIX, OLD_PREFIX = ".tmp-", ".old-"
STALE_SECONDS = 3600  # a temporary folder this old belongs to no pack still being written
TIMEZONE = ZoneInfo("Asia/Shanghai")
QUALITY_PAGE, DBT_DOCS_PAGE = "quality.html", "dbt-docs.html"
MOVERS_SHOWN = 10  # the overview lists the counties that rose and fell most; every change is in the tier tables


class ReportPackError(ValueError):
    """The release cannot give this period's pack (no such year or quarter in it, no release at all)."""


@dataclass
class ReportPack:
    """What was written: the folder, each page's size, and where the time went."""

    period: str
    path: Path
    pages: dict[str, int] = field(default_factory=dict)  # relative path → bytes
    seconds: dict[str, float] = field(default_factory=dict)  # query, render, write, total

    @property
    def index(self) -> Path:
        return self.path / "index.html"

    @property
    def page_count(self) -> int:
        return len(self.pages)

    @property
    def bytes_total(self) -> int:
        return sum(self.pages.values())

    def size_of(self, prefix: str) -> int:
        return sum(size for name, size in self.pages.items() if name.startswith(prefix))


def period_code(year: int, quarter: int) -> str:
    return f"{year}Q{quarter}"


def pack_dir(reports_dir: Path, year: int, quarter: int) -> Path:
    return Path(reports_dir) / period_code(year, quarter)


# ----------------------------------------------------------------------------------------------- formatting
def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _num(value, digits: int = 2) -> str:
    return "—" if _missing(value) else f"{float(value):,.{digits}f}"


def _signed(value, digits: int = 2) -> str:
    if _missing(value):
        return "—"
    return f"较上年 {'+' if value > 0 else ''}{float(value):,.{digits}f}" if round(value, digits) else "与上年持平"


def _period_zh(code) -> str:
    if _missing(code):
        return "—"
    year, _, quarter = str(code).partition("Q")
    return f"{year}年{labels.QUARTERS[int(quarter)]}" if quarter else f"{year}年度"


def _rank_change_text(r: dict) -> str:
    change = r.get("rank_change")
    if r.get("previous_year_basis") == "first_assessment_year":
        return "首个考核年度"
    if change is None:
        return {"new_region_after_merger": "合并新设，无上年可比名次", "class_changed": "类别调整，无可比名次"}.get(
            r.get("previous_year_basis"), "无上年可比名次"
        )
    previous = f"上年第 {r['previous_rank_in_class']} 名，"
    if change > 0:
        return previous + f"进位 {change} 名"
    if change < 0:
        return previous + f"退位 {-change} 名"
    return previous + "名次持平"


def _rank_change_short(r: dict) -> str:
    change = r.get("rank_change")
    if change is None:
        return "—"
    return f"↑{change}" if change > 0 else (f"↓{-change}" if change < 0 else "0")


def _environment(words: dict[str, dict[str, str]]) -> Environment:
    """`words`: the release's labels (queries.category_labels)."""
    env = Environment(
        loader=PackageLoader("hqd.reports", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(num=_num, signed=_signed, period_zh=_period_zh)
    env.globals.update(
        class_label=labels.class_label,
        level_label=lambda code: words.get("level", {}).get(code, code),
        tier_label=lambda tier: words.get("tier", {}).get(str(tier), str(tier)),
        weakness_label=lambda code: words.get("weakness_reason", {}).get(code, code or ""),
        rank_change_text=_rank_change_text,
        rank_change_short=_rank_change_short,
    )
    return env


def _records(frame: pd.DataFrame) -> list[dict]:
    """Rows as dicts with None for every missing value (pandas' NA is neither falsy nor comparable)."""
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


def _by_region(frame: pd.DataFrame) -> dict[str, list[dict]]:
    """The rows of each region, converted once for the whole frame (per-group conversion costs seconds)."""
    rows = _records(frame)
    return {
        code: [rows[i] for i in positions]
        for code, positions in frame.groupby("region_code", sort=False).indices.items()
    }


# ------------------------------------------------------------------------------------------------ the pack
def build_report_pack(
    published_duckdb: Path,
    out_dir: Path,
    *,
    year: int,
    quarter: int,
    extra_pages: Iterable[Callable[[Path], object]] = (),
) -> ReportPack:
    """Writes the pack of (year, quarter) from the release `published_duckdb` (opened read-only) into
    `out_dir/<YYYY>Q<q>/`, replacing that period's previous pack. `extra_pages` are called with the folder being
    written, before the index (which links quality.html and dbt-docs.html when they are there)."""
    started = time.perf_counter()
    published_duckdb = Path(published_duckdb)
    if not published_duckdb.exists():
        raise ReportPackError(f"no publication at {published_duckdb}: run the job (hqd run) first")
    if quarter not in (1, 2, 3, 4):
        raise ReportPackError(f"quarter {quarter}: expected 1 to 4")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(out_dir)
    period = period_code(year, quarter)
    annual = quarter == 4
    seconds: dict[str, float] = {}

    con = duckdb.connect(str(published_duckdb), read_only=True)
    try:
        has_quarter = queries.has_quarter(con, year, quarter)
        if annual and not queries.has_year(con, year):
            raise ReportPackError(f"the publication holds no assessment results for {year}")
        if not has_quarter and not annual:
            raise ReportPackError(f"the publication holds no monitoring for {period}")
        data = _read(con, year, quarter, annual)
    finally:
        con.close()
    seconds["query"] = time.perf_counter() - started

    tick = time.perf_counter()
    env = _environment(data["labels"])
    common = {
        "year": year,
        "quarter": quarter,
        "period_label": f"{year}年{labels.QUARTERS[quarter]}",
        "release": _release(published_duckdb),
        "generated_at": datetime.now(TIMEZONE).strftime("%Y-%m-%d %H:%M"),
    }
    pages: dict[str, str] = {"warnings.html": _render_warnings(env, common, data)}
    if annual:
        pages["overview.html"] = _render_overview(env, common, data)
        pages.update(_render_letters(env, common, data))
    seconds["render"] = time.perf_counter() - tick

    tick = time.perf_counter()
    tmp = out_dir / f"{TMP_PREFIX}{period}-{uuid.uuid4().hex[:12]}"
    try:
        (tmp / "letters").mkdir(parents=True) if annual else tmp.mkdir(parents=True)
        for name, html in pages.items():
            (tmp / name).write_text(html, encoding="utf-8")
        for write in extra_pages:
            write(tmp)
        previous = out_dir / period_code(year - 1, 4) / "index.html"
        index = env.get_template("index.html").render(
            **common,
            annual=annual,
            letters=data.get("regions", []),
            city_letters=data.get("city_letters", []),
            county_letters=data.get("county_letters", []),
            has_quality=(tmp / QUALITY_PAGE).exists(),
            has_dbt_docs=(tmp / DBT_DOCS_PAGE).exists(),
            previous_annual=f"../{period_code(year - 1, 4)}/index.html" if not annual and previous.exists() else None,
        )
        (tmp / "index.html").write_text(index, encoding="utf-8")
        sizes = {p.relative_to(tmp).as_posix(): p.stat().st_size for p in sorted(tmp.rglob("*")) if p.is_file()}
        final = out_dir / period
        _swap_into_place(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    seconds["write"] = time.perf_counter() - tick
    seconds["total"] = time.perf_counter() - started
    return ReportPack(period, final, sizes, seconds)


def _swap_into_place(tmp: Path, final: Path) -> None:
    old = None
    if final.exists():
        old = final.with_name(f"{OLD_PREFIX}{final.name}-{uuid.uuid4().hex[:12]}")
        os.rename(final, old)
    os.rename(tmp, final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _remove_leftovers(out_dir: Path) -> None:
    """Temporary folders of a pack that was killed while being written."""
    now = time.time()
    for entry in out_dir.iterdir():
        if entry.name.startswith((TMP_PREFIX, OLD_PREFIX)) and now - entry.stat().st_mtime > STALE_SECONDS:
            shutil.rmtree(entry, ignore_errors=True)


def _release(published_duckdb: Path) -> dict:
    manifest = published_duckdb.resolve().parent / "manifest.json"
    info = {"name": published_duckdb.resolve().parent.name, "published_at": "—"}
    if manifest.exists():
        text = json.loads(manifest.read_text(encoding="utf-8"))
        published_at = text.get("published_at")
        if published_at:  # the manifest's UTC time, said in the office's time zone like the generation time
            published_at = datetime.fromisoformat(published_at).astimezone(TIMEZONE).strftime("%Y-%m-%d %H:%M")
        info = {"name": text.get("release", info["name"]), "published_at": published_at or "—"}
    return info


def _read(con: duckdb.DuckDBPyConnection, year: int, quarter: int, annual: bool) -> dict:
    data: dict = {
        "labels": queries.category_labels(con),
        "notice": queries.warnings(con, year, quarter, levels=("red", "yellow")),
        "counts": queries.warning_counts(con, year, quarter),
    }
    if not annual:
        return data
    dims = queries.dimensions(con)
    regions = queries.regions(con, year)
    data.update(
        dimensions=dims,
        regions=_records(regions),
        regions_frame=regions,
        dimension_scores=queries.dimension_scores(con, year, list(dims["dimension_code"])),
        indicators=queries.indicators(con, year),
        # the letter's "last quarter": the year's Q4 monitoring, every level that is a warning
        letter_warnings=queries.warnings(con, year, 4, levels=("red", "yellow", "blue")),
        departments=queries.department_lines(con, year, "city"),
        gaps=queries.gap_analysis(con, year),
        robustness=queries.robustness(con, year),
        screening=queries.screening(con, year),
        county_map=queries.county_map(con, year, [c.adcode for c in charts.jiangsu_map().counties]),
    )
    cities = regions[regions["level"] == "city"]
    counties = regions[regions["level"] == "county"].sort_values(["city_code", "region_code"])
    data["city_letters"] = [(cls, _records(group)) for cls, group in cities.groupby("class_code", sort=True)]
    data["county_letters"] = [
        (group["city_name"].iloc[0], _records(group)) for _, group in counties.groupby("city_code", sort=True)
    ]
    return data


# ------------------------------------------------------------------------------------------------ the pages
def _render_warnings(env: Environment, common: dict, data: dict) -> str:
    notice, counts = data["notice"], data["counts"]
    warned = notice[notice["warning_level"].isin(["red", "yellow"])]
    rows_by_region = _by_region(warned)
    count_of = {row["region_code"]: row for row in _records(counts)}
    cities: dict[str, dict] = {}
    for code, rows in rows_by_region.items():  # in the query's order: city, then its counties
        city = cities.setdefault(rows[0]["city_code"], {"city_name": rows[0]["city_name"], "regions": []})
        city["regions"].append(
            {
                "region_code": code,
                "region_name": rows[0]["region_name"],
                "level": rows[0]["level"],
                "red": count_of[code]["red"],
                "yellow": count_of[code]["yellow"],
                "rows": rows,
            }
        )
    totals = {
        "red": int(counts["red"].sum()),
        "yellow": int(counts["yellow"].sum()),
        "blue": int(counts["blue"].sum()),
        "cleared": int(counts["cleared"].sum()),
        "red_regions": int((counts["red"] > 0).sum()),
        "yellow_regions": int((counts["yellow"] > 0).sum()),
    }
    return env.get_template("warnings.html").render(
        **common,
        is_half_year=common["quarter"] == 2,
        totals=totals,
        counts_halves=_halves(_records(counts[(counts["red"] + counts["yellow"] + counts["cleared"]) > 0])),
        indicator_count=int(counts["indicators"].max()) if len(counts) else 0,
        cities=list(cities.values()),
        cleared=_records(notice[notice["is_cleared"]]),
    )


def _halves(rows: list) -> list[list]:
    middle = (len(rows) + 1) // 2
    return [rows[:middle], rows[middle:]] if rows else []


def _render_overview(env: Environment, common: dict, data: dict) -> str:
    regions: pd.DataFrame = data["regions_frame"]
    cities = regions[regions["level"] == "city"].sort_values(["class_code", "rank_in_class"])
    counties = regions[regions["level"] == "county"].sort_values(["class_code", "rank_in_class"])
    comparable = counties[counties["rank_change"].notna()]
    order = ["class_code", "rank_in_class"]
    risers = comparable[comparable["rank_change"] > 0].sort_values(
        ["rank_change", *order], ascending=[False, True, True]
    )
    fallers = comparable[comparable["rank_change"] < 0].sort_values(
        ["rank_change", *order], ascending=[True, True, True]
    )
    if (regions["previous_year_basis"] == "first_assessment_year").all():
        not_comparable = "首个考核年度，无上年名次。"
    else:
        lost = counties[counties["rank_change"].isna()]
        not_comparable = "、".join(f"{r['region_name']}（{_rank_change_text(r)}）" for r in _records(lost))
    advanced = counties[counties["is_advanced"]].sort_values(["class_code", "rank_in_class"])
    mapped = data["county_map"]
    return env.get_template("overview.html").render(
        **common,
        county_count=len(counties),
        city_first_tier=int((cities["tier"] == 1).sum()),
        county_first_tier=int((counties["tier"] == 1).sum()),
        advanced=_records(advanced),
        awards=_records(regions[regions["is_progress_award"]]),
        city_classes=[(cls, _records(g)) for cls, g in cities.groupby("class_code", sort=True)],
        county_classes=[(cls, _records(g)) for cls, g in counties.groupby("class_code", sort=True)],
        city_changes=_records(cities),
        county_risers=_records(risers.head(MOVERS_SHOWN)),
        county_fallers=_records(fallers.head(MOVERS_SHOWN)),
        movers_shown=MOVERS_SHOWN,
        not_comparable=not_comparable,
        tier_map=charts.tier_map(mapped),
        total_map=charts.total_map(mapped),
        map_note=_map_note(mapped),
        department_classes=_department_matrix(data["departments"], cities),
        robustness=_robustness(data["robustness"]),
        screening=_screening(data["screening"]),
    )


def _robustness(found: queries.RobustnessData) -> dict:
    """The overview's robustness table: every region, those whose tier is not robust first (the query's order)."""
    if not found.available:
        return {"available": False, "note": found.note}
    regions = found.regions
    first = regions.iloc[0]
    return {
        "available": True,
        "levels": [
            (level, _records(regions[regions["level"] == level]))
            for level in ("city", "county")
            if (regions["level"] == level).any()
        ],
        "not_robust": int((~regions["is_tier_robust"]).sum()),
        "draws": int(first["draws"]),
        "spread_percent": round(float(first["weight_spread"]) * 100),
        "method_switch_percent": round(float(first["method_switch_share"]) * 100),
        "lower": int(first["band_lower_percentile"]),
        "upper": int(first["band_upper_percentile"]),
    }


def _screening(found: queries.ScreeningData) -> dict:
    if not found.available:
        return {"available": False, "note": found.note}
    correlations = found.correlations
    return {
        "available": True,
        "outliers": _records(found.outliers),
        "collinear": _records(correlations[correlations["is_collinear"]]),
        "negative": _records(correlations[correlations["is_negatively_correlated"]]),
        "indicator_availability": _records(found.indicator_availability),
        "region_availability": _records(found.region_availability),
    }


def _map_note(mapped: pd.DataFrame) -> str:
    """Says which regions of the year are drawn in a polygon of another code (the map has 2021+ codes)."""
    notes = []
    polygon_names = {county.adcode: county.name for county in charts.jiangsu_map().counties}
    moved = mapped[mapped["adcode"].notna() & (mapped["adcode"] != mapped["region_code"])]
    for adcode, group in moved.groupby("adcode", sort=True):
        names = "、".join(group["region_name"])
        shared = len(mapped[mapped["adcode"] == adcode]) > 1
        notes.append(
            f"{names}绘于今{polygon_names.get(adcode, '')}（{adcode}）范围"
            + ("（两区合并前，条纹为各自颜色）" if shared or len(group) > 1 else "")
        )
    unmapped = mapped[mapped["adcode"].isna()]
    if len(unmapped):
        notes.append("未能绘制：" + "、".join(unmapped["region_name"]))
    drawn = mapped["adcode"].nunique()
    lead = f"图中 {drawn} 个县级区划绘出本年度 {len(mapped)} 个县(市、区)"
    return lead + ("；" + "；".join(notes) if notes else "") + "。"


def _department_matrix(departments: pd.DataFrame, cities: pd.DataFrame) -> list:
    """Per class: departments × cities (in rank order), each cell a city's score rate and rank."""
    out = []
    for cls, members in cities.groupby("class_code", sort=True):
        codes = list(members["region_code"])
        lines = departments[departments["region_code"].isin(codes)]
        cells = {(r["lead_department"], r["region_code"]): r for r in _records(lines)}
        names = sorted(lines["lead_department"].unique())
        out.append(
            (
                cls,
                {
                    "regions": list(members["region_name"]),
                    "rows": [(name, [cells.get((name, code)) for code in codes]) for name in names],
                },
            )
        )
    return out


def _render_letters(env: Environment, common: dict, data: dict) -> dict[str, str]:
    template = env.get_template("letter.html")
    dims = data["dimensions"][["dimension_code", "dimension_name_zh", "dimension_sort_order"]]
    dimension_scores = _by_region(
        data["dimension_scores"].merge(dims, on="dimension_code").sort_values(["region_code", "dimension_sort_order"])
    )
    indicators = _by_region(data["indicators"])
    letter_warnings = data["letter_warnings"]
    warnings_by_region = _by_region(letter_warnings[letter_warnings["is_warning"]])
    departments = _by_region(data["departments"])
    gaps: queries.GapData = data["gaps"]
    gap_rows = _by_region(gaps.gaps) if gaps.available else {}
    plans = _plans(gaps.plans, data["labels"].get("goal_code", {})) if gaps.available else {}
    pages = {}
    for region in data["regions"]:
        code = region["region_code"]
        rows = indicators.get(code, [])
        pages[f"letters/{code}.html"] = template.render(
            **common,
            region=region,
            chart=charts.dimension_bars(dimension_scores.get(code, [])),
            indicators=rows,
            strengths=sorted((i for i in rows if i["is_strength"]), key=lambda i: (i["rank_in_class"], -i["weight"])),
            weaknesses=[i for i in rows if i["is_weakness"]],
            gaps=gaps,
            gap_rows=gap_rows.get(code, []),
            plans=plans.get(code, []),
            warnings=warnings_by_region.get(code, []),
            departments=departments.get(code, []) if region["level"] == "city" else [],
        )
    return pages


def _plans(plans: pd.DataFrame, goals_labels: dict[str, str]) -> dict[str, list[dict]]:
    """Per region its goals in the labels' sort order, each with its steps."""
    out: dict[str, list[dict]] = {}
    order = {code: i for i, code in enumerate(goals_labels)}
    for (code, goal), rows in plans.groupby(["region_code", "goal_code"], sort=False):
        first = _records(rows.head(1))[0]
        out.setdefault(code, []).append(
            {
                "goal_code": goal,
                "label": goals_labels.get(goal, goal),
                "points_needed": first["points_needed"],
                "is_goal_reachable": bool(rows["is_goal_reachable"].fillna(False).all()),
                "steps": _records(rows[rows["indicator_code"].notna()].sort_values("step")),
            }
        )
    for goals in out.values():
        goals.sort(key=lambda g: order.get(g["goal_code"], len(order)))
    return out
