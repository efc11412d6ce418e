"""The report pack from the end-to-end run's publication: its pages, the one-copy rule for annual pages, the
atomic replacement, the guarded gap section, the lineage on letters and maps, and `hqd report`. Numbers are
checked against the marts queried here, independently of hqd.reports.queries."""

from __future__ import annotations

import hashlib
import html
import io
import re
import shutil
from pathlib import Path

import duckdb
import pytest

from hqd.reports import ReportPackError, build_report_pack
from hqd.reports.charts import TIER_COLOURS


@pytest.fixture(scope="module")
def published(built_warehouse) -> Path:
    assert built_warehouse.exit_code == 0, built_warehouse.output
    return built_warehouse.root / "published" / "current" / "hqd_marts.duckdb"


def _query(path: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _links(page: Path) -> set[str]:
    return set(re.findall(r'href="([^"#]+)"', _text(page)))


def test_annual_pack_has_a_letter_per_region_the_overview_the_notice_and_an_index(published, tmp_path):
    pack = build_report_pack(published, tmp_path, year=2023, quarter=4)
    codes = {
        c
        for (c,) in _query(
            published, "select region_code from marts.fct_region_assessment where assessment_year = 2023"
        )
    }
    assert len(codes) == 108  # 13 cities + 95 counties
    folder = tmp_path / "2023Q4"
    assert pack.path == folder and pack.index == folder / "index.html"
    assert {p.stem for p in (folder / "letters").glob("*.html")} == codes
    assert set(pack.pages) == {"index.html", "overview.html", "warnings.html"} | {f"letters/{c}.html" for c in codes}
    assert pack.page_count == 111
    assert pack.bytes_total == sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    links = _links(folder / "index.html")
    assert {"overview.html", "warnings.html"} | {f"letters/{c}.html" for c in codes} <= links
    assert not {"quality.html", "dbt-docs.html"} & links  # not in the folder, so not linked
    assert [p.name for p in tmp_path.iterdir()] == ["2023Q4"]  # no temporary folder left
    assert set(pack.seconds) == {"query", "render", "write", "total"}


def test_a_quarter_pack_has_the_notice_and_links_the_previous_annual_pack(published, tmp_path):
    build_report_pack(published, tmp_path, year=2023, quarter=4)
    pack = build_report_pack(published, tmp_path, year=2024, quarter=2)
    assert sorted(pack.pages) == ["index.html", "warnings.html"]
    assert "../2023Q4/index.html" in _links(pack.index)
    assert "半年评估" in _text(pack.path / "warnings.html")  # Q2 is the half-year evaluation


def test_extra_pages_land_with_the_pack_and_the_index_links_them(published, tmp_path):
    def quality(folder: Path):
        (folder / "quality.html").write_text("<html>quality</html>", encoding="utf-8")

    def dbt_docs(folder: Path):
        (folder / "dbt-docs.html").write_text("<html>docs</html>", encoding="utf-8")

    pack = build_report_pack(published, tmp_path, year=2024, quarter=1, extra_pages=[quality, dbt_docs])
    assert {"quality.html", "dbt-docs.html"} <= _links(pack.index)
    assert {"quality.html", "dbt-docs.html"} <= set(pack.pages)


def test_a_new_pack_replaces_the_old_one_whole_and_a_failed_one_changes_nothing(published, tmp_path):
    first = build_report_pack(published, tmp_path, year=2024, quarter=3)
    (first.path / "stray.html").write_text("left from before", encoding="utf-8")
    second = build_report_pack(published, tmp_path, year=2024, quarter=3)
    assert not (second.path / "stray.html").exists()
    before = {p.name: p.read_bytes() for p in second.path.iterdir()}

    def broken(folder: Path):
        raise RuntimeError("disk trouble")

    with pytest.raises(RuntimeError, match="disk trouble"):
        build_report_pack(published, tmp_path, year=2024, quarter=3, extra_pages=[broken])
    assert {p.name: p.read_bytes() for p in second.path.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["2024Q3"]


def test_the_release_is_only_read(published, tmp_path):
    # the published file may be read-only on disk: the pack opens it read_only and changes nothing in it
    release = tmp_path / "release"
    release.mkdir()
    copy = release / "hqd_marts.duckdb"
    shutil.copy(published, copy)
    copy.chmod(0o444)
    digest = hashlib.sha256(copy.read_bytes()).hexdigest()
    build_report_pack(copy, tmp_path / "reports", year=2024, quarter=4)
    assert hashlib.sha256(copy.read_bytes()).hexdigest() == digest


def test_a_period_the_release_does_not_hold_is_refused(published, tmp_path):
    with pytest.raises(ReportPackError, match="no assessment results for 2031"):
        build_report_pack(published, tmp_path, year=2031, quarter=4)
    with pytest.raises(ReportPackError, match="no monitoring for 2031Q2"):
        build_report_pack(published, tmp_path, year=2031, quarter=2)
    with pytest.raises(ReportPackError, match="no publication"):
        build_report_pack(tmp_path / "missing.duckdb", tmp_path, year=2024, quarter=4)
    assert not (tmp_path / "2031Q4").exists()


def test_a_recoded_region_is_compared_with_the_code_it_replaced(published, tmp_path):
    # 海门区 320614 continues 海门市 320684 (2021); 崇川区 320613, a merger, has no previous year
    pack = build_report_pack(published, tmp_path, year=2021, quarter=4)
    [(haimen_2020,)] = _query(
        published,
        "select total_score::double from marts.fct_region_assessment where assessment_year = 2020 "
        "and region_code = '320684'",
    )
    [(haimen_2021,)] = _query(
        published,
        "select total_score::double from marts.fct_region_assessment where assessment_year = 2021 "
        "and region_code = '320614'",
    )
    letter = _text(pack.path / "letters" / "320614.html")
    assert f"上年 {haimen_2020:,.2f}" in letter
    assert re.search(rf"较上年 \+?{haimen_2021 - haimen_2020:.2f}", letter)
    assert "合并新设，无上年可比名次" in _text(pack.path / "letters" / "320613.html")
    assert "上年无可比得分" in _text(pack.path / "letters" / "320613.html")


def _county_paths(page: str, name: str) -> tuple[dict[str, dict[str, str]], str]:
    figure = re.search(rf'<figure class="map" data-map="{name}">(.*?)</figure>', page, re.S).group(1)
    paths = {}
    for attrs in re.findall(r'<path class="county"([^>]*)>', figure):
        fields = dict(re.findall(r'([\w-]+)="([^"]*)"', attrs))
        paths[fields["data-adcode"]] = fields
    return paths, figure


def test_a_96_county_year_is_drawn_on_the_95_polygons_through_the_lineage(published, tmp_path):
    pack = build_report_pack(published, tmp_path, year=2019, quarter=4)
    page = _text(pack.path / "overview.html")
    paths, figure = _county_paths(page, "tier")
    assert len(paths) == 95
    assert paths["320613"]["data-regions"] == "320602 320611"  # 崇川 and 港闸 before their merger
    assert paths["320614"]["data-regions"] == "320684"  # 海门市 before it became 海门区
    tiers = dict(
        _query(
            published,
            "select region_code, tier from marts.fct_region_assessment where assessment_year = 2019 "
            "and region_code in ('320602', '320611', '320684')",
        )
    )
    assert paths["320614"]["fill"] == TIER_COLOURS[tiers["320684"]]
    if tiers["320602"] == tiers["320611"]:
        assert paths["320613"]["fill"] == TIER_COLOURS[tiers["320602"]]
    else:  # stripes of both tiers' colours
        assert paths["320613"]["fill"] == "url(#stripes-tier-320613)"
        pattern = re.search(r'<pattern id="stripes-tier-320613".*?</pattern>', figure, re.S).group(0)
        assert re.findall(r'fill="(#\w+)"', pattern) == [TIER_COLOURS[tiers["320602"]], TIER_COLOURS[tiers["320611"]]]
    drawn = sorted(code for path in paths.values() for code in path["data-regions"].split())
    counties = sorted(
        c
        for (c,) in _query(
            published,
            "select region_code from marts.fct_region_assessment where assessment_year = 2019 and level = 'county'",
        )
    )
    assert drawn == counties and len(counties) == 96
    assert "崇川区、港闸区绘于今崇川区（320613）范围" in html.unescape(page)


GAPS_DDL = """
create table marts.fct_region_gaps as
select * from (values
    (2024, '321000', 'N01', 2.4, 84.1, 1.2, 87.33, 2.4, 90.0, 2.4),
    (2024, '321000', 'E05', 2.0, 78.5, 2.0, 78.88, 2.0, null, null)
) as t(assessment_year, region_code, indicator_code, points_lost, next_rank_value, next_rank_points_gained,
       rank_one_value, rank_one_points_gained, target_value, target_points_gained);
create table marts.fct_region_gap_plans as
select * from (values
    (2024, '321000', 'up_one_rank', 'N01', 1, 87.33, 2.4, 2.4, 0.1, true),
    (2024, '321000', 'first_tier', 'N01', 1, 87.33, 2.4, 2.4, 0.1, true),
    (2024, '320700', 'first_tier', null, null, null, null, null, 14.2, false)
) as t(assessment_year, region_code, goal_code, indicator_code, step, improved_value, points_gained,
       cumulative_points_gained, points_needed, is_goal_reachable);
"""


def _release_without_gap_marts(published: Path, copy: Path) -> Path:
    # a release published before the gap marts existed (the job's release has them)
    shutil.copy(published, copy)
    con = duckdb.connect(str(copy))
    con.execute("drop table if exists marts.fct_region_gaps; drop table if exists marts.fct_region_gap_plans")
    con.close()
    return copy


def test_the_gap_section_reads_the_gap_marts_when_the_release_has_them(published, tmp_path):
    older = _release_without_gap_marts(published, tmp_path / "without_gaps.duckdb")
    absent = build_report_pack(older, tmp_path / "without", year=2024, quarter=4)
    assert "fct_region_gaps、fct_region_gap_plans" in _text(absent.path / "letters" / "321000.html")

    copy = _release_without_gap_marts(published, tmp_path / "with_gaps.duckdb")
    con = duckdb.connect(str(copy))
    con.execute(GAPS_DDL)
    con.close()
    pack = build_report_pack(copy, tmp_path / "with", year=2024, quarter=4)
    letter = html.unescape(_text(pack.path / "letters" / "321000.html"))
    section = letter[letter.index("<h2>上分空间</h2>") : letter.index("第四季度监测预警")]
    assert "进位一名（需增 0.10 分）" in section and "进入第一等次（需增 0.10 分）" in section
    rows = re.findall(r'<tr data-indicator="(\w+)">(.*?)</tr>', section, re.S)
    assert [code for code, _ in rows] == ["N01", "E05"]  # by points lost
    n01 = re.findall(r'<td class="num">([^<]*)</td>', rows[0][1])
    assert n01 == ["2.40", "84.10", "1.20", "87.33", "2.40", "90.00", "2.40"]
    e05 = re.findall(r'<td class="num">([^<]*)</td>', rows[1][1])
    assert e05[-2:] == ["—", "—"]  # no target: nothing to print
    other = html.unescape(_text(pack.path / "letters" / "320700.html"))
    assert "进入第一等次（需增 14.20 分）" in other and "仅靠提升单项指标在本年度无法达到" in other
    assert "本年度无失分指标" in other  # the table is there, with no rows for this region


def test_hqd_report_writes_a_period_and_says_where(published, tmp_path, monkeypatch):
    from rich.console import Console

    from hqd import cli

    buffer = io.StringIO()
    monkeypatch.setattr(cli, "console", Console(file=buffer, width=400, force_terminal=False))
    publish_dir = str(published.parent.parent)
    reports = tmp_path / "reports"
    common = ["--publish-dir", publish_dir, "--reports-dir", str(reports)]
    assert cli.main(["report", "--period", "2024Q3", *common]) == 0
    assert str(reports / "2024Q3" / "index.html") in buffer.getvalue()
    assert cli.main(["report", "--year", "2023", *common]) == 0
    assert (reports / "2023Q4" / "letters" / "320583.html").exists()
    assert cli.main(["report", "--period", "2031Q4", *common]) == 2
    assert cli.main(["report", "--period", "Q4", *common]) == 2
    empty = ["--publish-dir", str(tmp_path / "nothing"), "--reports-dir", str(reports)]
    assert cli.main(["report", "--year", "2024", *empty]) == 1
    assert "nothing published yet" in buffer.getvalue()


def test_the_overview_shows_the_year_s_tier_robustness_and_screening(published, tmp_path):
    build_report_pack(published, tmp_path, year=2024, quarter=4)
    page = _text(tmp_path / "2024Q4" / "overview.html")
    marts = {
        code: (low, high, robust)
        for code, low, high, robust in _query(
            published,
            "select region_code, rank_band_low, rank_band_high, is_tier_robust from marts.fct_rank_robustness "
            "where assessment_year = 2024",
        )
    }
    assert len(marts) == 108
    for level in ("city", "county"):
        table = re.search(rf'<table class="robustness" data-level="{level}">(.*?)</table>', page, re.S).group(1)
        rows = re.findall(
            r'<tr data-region="(\d+)"( class="not-robust")?>.*?data-field="rank_band">(\d+)–(\d+)<', table, re.S
        )
        assert len(rows) == (13 if level == "city" else 95)
        flags = [bool(not_robust) for _, not_robust, _, _ in rows]
        assert flags == sorted(flags, reverse=True)  # the regions whose tier is not robust come first
        for code, not_robust, low, high in rows:
            assert marts[code] == (int(low), int(high), not not_robust), code
    flagged = {
        code
        for (code,) in _query(
            published,
            "select indicator_code from marts.fct_indicator_screening "
            "where assessment_year = 2024 and is_outlier_flagged",
        )
    }
    outliers = re.search(r'<table class="screening-outliers">(.*?)</table>', page, re.S).group(1)
    assert set(re.findall(r'data-indicator="([A-Z0-9]+)"', outliers)) == flagged != set()


def test_a_year_without_robustness_draws_says_so(published, tmp_path):
    # robustness_parameters covers 2023 onwards: 2022 has no draws
    build_report_pack(published, tmp_path, year=2022, quarter=4)
    page = _text(tmp_path / "2022Q4" / "overview.html")
    assert '<table class="robustness"' not in page
    assert "2022年度未做等次稳健性分析" in page
