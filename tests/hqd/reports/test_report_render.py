"""The pack the Dagster job wrote, rendered in headless Chromium: a city's and a county's letter, the overview and
the warnings notice. The numbers in the rendered DOM are compared with the published marts queried here; the
map must colour all 95 counties; the net log must show no request made by a page.

Needs Debian's chromium and fonts-noto-cjk (`make test` runs tools/ensure_browser.sh first); skipped, with
what to install, when they are missing."""

from __future__ import annotations

import html
import re
from pathlib import Path

import duckdb
import pytest

from hqd.reports.charts import NO_DATA, TIER_COLOURS
from tools import browser

pytestmark = pytest.mark.skipif(browser.missing() is not None, reason=f"report render test {browser.missing()}")

CITY, COUNTY = "321000", "320583"  # 扬州 (class Ⅱ, seed 001) and 昆山 (the articles' county)
YEAR, QUARTER = 2024, 4  # the job's period: the last configured, 2024Q4


@pytest.fixture(scope="module")
def pack(built_warehouse) -> Path:
    assert built_warehouse.exit_code == 0, built_warehouse.output
    folder = built_warehouse.root / "reports" / f"{YEAR}Q{QUARTER}"
    assert f"report pack ({YEAR}Q{QUARTER}): {folder / 'index.html'}" in built_warehouse.output.replace("\n", "")
    return folder


@pytest.fixture(scope="module")
def marts(built_warehouse):
    con = duckdb.connect(str(built_warehouse.root / "published" / "current" / "hqd_marts.duckdb"), read_only=True)
    yield lambda sql, params=None: con.execute(sql, params or []).fetchall()
    con.close()


@pytest.fixture(scope="module")
def rendered(pack, tmp_path_factory) -> dict[str, browser.Rendered]:
    work = tmp_path_factory.mktemp("render")
    pages = {
        "city": pack / "letters" / f"{CITY}.html",
        "county": pack / "letters" / f"{COUNTY}.html",
        "overview": pack / "overview.html",
        "warnings": pack / "warnings.html",
    }
    return {name: browser.render(page, work) for name, page in pages.items()}


def _field(dom: str, name: str) -> str:
    return html.unescape(re.search(rf'data-field="{name}"[^>]*>([^<]*)<', dom).group(1)).strip()


def _rows(dom: str, attribute: str, table: str | None = None) -> dict[str, str]:
    if table:
        dom = re.search(rf'<table class="{table}".*?</table>', dom, re.S).group(0)
    return dict(re.findall(rf'<tr {attribute}="([^"]+)"[^>]*>(.*?)</tr>', dom, re.S))


def _num(value) -> str:
    return f"{float(value):,.2f}"


@pytest.mark.parametrize("kind, code", [("city", CITY), ("county", COUNTY)])
def test_a_letter_prints_the_marts_numbers(rendered, marts, kind, code):
    dom = rendered[kind].dom
    [(total, rank, tier_name, first, top_two, province_rank)] = marts(
        "select total_score, rank_in_class, tier_name_zh, indicators_ranked_first, indicators_in_class_top_two, "
        "province_rank from marts.fct_region_assessment where assessment_year = ? and region_code = ?",
        [YEAR, code],
    )
    assert _field(dom, "total_score") == _num(total)
    assert _field(dom, "rank_in_class") == str(rank)
    assert _field(dom, "tier_name_zh") == tier_name
    assert _field(dom, "indicators_ranked_first") == str(first)
    assert _field(dom, "indicators_in_class_top_two") == str(top_two)
    if kind == "county":
        assert _field(dom, "province_rank") == str(province_rank)
    expected = marts(
        "select indicator_code, points_won, points_lost, rank_in_class, peer_group_size "
        "from marts.fct_region_feedback where assessment_year = ? and region_code = ? "
        "order by points_lost desc, indicator_code",
        [YEAR, code],
    )
    rows = _rows(dom, "data-indicator", "indicators")
    assert list(rows) == [row[0] for row in expected]  # every indicator, most points lost first
    for indicator, won, lost, rank_k, size in expected:
        assert _field(rows[indicator], "points_won") == _num(won), indicator
        assert _field(rows[indicator], "points_lost") == _num(lost), indicator
        assert _field(rows[indicator], "rank_in_class") == f"{rank_k}/{size}", indicator
    # the dimension chart: each subtotal as fct_region_assessment holds it
    dims = marts(
        "select economy_points, reform_points, urban_rural_points, culture_points, ecology_points, "
        "livelihood_points from marts.fct_region_assessment where assessment_year = ? and region_code = ?",
        [YEAR, code],
    )[0]
    shown = re.findall(r'<g class="dimension" data-dimension="(\w+)">.*?font-weight="700">([^<]*)<', dom, re.S)
    assert [value for _, value in shown] == [_num(v) for v in dims]
    warned = marts(
        "select indicator_code from marts.fct_monitoring_warnings where period_code = ? and region_code = ? "
        "and is_warning order by indicator_code",
        [f"{YEAR}Q4", code],
    )
    assert sorted(_rows(dom, "data-indicator", "warnings")) == [w for (w,) in warned]
    departments = _rows(dom, "data-department")
    assert len(departments) == (16 if kind == "city" else 0)  # department lines are a city's


def test_the_overview_prints_every_tier_and_the_advanced_list(rendered, marts):
    dom = rendered["overview"].dom
    expected = marts(
        "select region_code, total_score, tier_name_zh from marts.fct_region_assessment where assessment_year = ?",
        [YEAR],
    )
    rows = {}
    for table in re.findall(r'<table class="tiers".*?</table>', dom, re.S):
        rows.update(_rows(table, "data-region"))
    assert len(rows) == 108
    for code, total, tier_name in expected:
        assert _field(rows[code], "total_score") == _num(total), code
        assert _field(rows[code], "tier_name_zh") == tier_name, code
    advanced = marts(
        "select region_code, advanced_streak_years from marts.fct_advanced_counties where assessment_year = ?", [YEAR]
    )
    assert _field(dom, "advanced_count") == str(len(advanced)) == "18"
    listed = _rows(dom, "data-region", "advanced")
    assert {code: _field(row, "advanced_streak_years") for code, row in listed.items()} == {
        code: f"{streak} 年" for code, streak in advanced
    }


def test_the_maps_colour_all_95_counties(rendered, marts):
    dom = rendered["overview"].dom
    tiers = dict(
        marts(
            "select region_code, tier from marts.fct_region_assessment where assessment_year = ? and level = 'county'",
            [YEAR],
        )
    )
    assert len(tiers) == 95
    for name in ("tier", "total"):
        figure = re.search(rf'<figure class="map" data-map="{name}">(.*?)</figure>', dom, re.S).group(1)
        paths = [
            dict(re.findall(r'([\w-]+)="([^"]*)"', attrs))
            for attrs in re.findall(r"<path class=\"county\"([^>]*)>", figure)
        ]
        assert len(paths) == 95
        assert {p["data-adcode"] for p in paths} == set(tiers)  # 2024 codes are the map's codes
        coloured = [p for p in paths if p["fill"] not in (NO_DATA, "none", "")]
        assert len(coloured) == 95, name
        if name == "tier":
            assert {p["data-adcode"]: p["fill"] for p in paths} == {c: TIER_COLOURS[t] for c, t in tiers.items()}


def test_the_warnings_notice_prints_the_marts_warnings(rendered, marts):
    dom = rendered["warnings"].dom
    period = f"{YEAR}Q{QUARTER}"
    [(red, yellow, cleared)] = marts(
        "select count(*) filter (where warning_level = 'red'), count(*) filter (where warning_level = 'yellow'), "
        "count(*) filter (where is_cleared) from marts.fct_monitoring_warnings where period_code = ?",
        [period],
    )
    assert (_field(dom, "red_count"), _field(dom, "yellow_count"), _field(dom, "cleared_count")) == (
        str(red),
        str(yellow),
        str(cleared),
    )
    expected = marts(
        "select region_code, indicator_code, warning_level, shortfall_pct, warning_since_period_code, "
        "consecutive_warning_quarters, pro_rata_target from marts.fct_monitoring_warnings "
        "where period_code = ? and warning_level in ('red', 'yellow')",
        [period],
    )
    blocks = dict(re.findall(r'<div class="region-block" id="r\d+" data-region="(\d+)">(.*?)</div>', dom, re.S))
    seen = 0
    for region, indicator, level, shortfall, since, quarters, target in expected:
        row = _rows(blocks[region], "data-indicator")[indicator]
        assert f'data-level="{level}"' in re.search(rf'<tr data-indicator="{indicator}"[^>]*>', blocks[region]).group(0)
        assert _field(row, "shortfall_pct") == f"{float(shortfall):,.1f}%"
        year, q = since.split("Q")
        assert _field(row, "warning_since_period_code") == f"{year}年第{'一二三四'[int(q) - 1]}季度"
        assert _field(row, "consecutive_warning_quarters") == str(quarters)
        assert _field(row, "pro_rata_target") == _num(target)
        seen += 1
    assert seen == red + yellow == sum(len(_rows(b, "data-indicator")) for b in blocks.values())


def test_no_page_made_a_network_request(rendered):
    for name, page in rendered.items():
        assert page.page_requests == [], name
        # and nothing in the DOM would fetch from elsewhere (the pages also forbid it by their CSP)
        assert not re.findall(r'(?:src|href)="(?:https?:)?//', page.dom), name


def test_the_net_log_check_sees_a_page_that_does_fetch(tmp_path):
    # the check above can fail: a page that loads an image from a server shows in the net log
    page = tmp_path / "fetching.html"
    page.write_text('<html><body><img src="http://127.0.0.1:9/logo.png"></body></html>', encoding="utf-8")
    assert browser.render(page, tmp_path).page_requests == ["http://127.0.0.1:9/logo.png"]
