"""The pages' data, read from the published release: one set-based query per page part for every region at once
(never one query per region), returned as pandas frames for the templates.

Numbers are cast to double here (the marts hold decimal(38, 10)); rounding is the template's, to 2 decimals as
the methodology prints scores.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import pandas as pd

# the gap-analysis marts are optional in a release (built by a later model set): a page section reads them only
# when the release holds these columns
GAP_COLUMNS = {
    "fct_region_gaps": {
        "assessment_year",
        "region_code",
        "indicator_code",
        "points_lost",
        "next_rank_value",
        "next_rank_points_gained",
        "rank_one_value",
        "rank_one_points_gained",
        "target_value",
        "target_points_gained",
    },
    "fct_region_gap_plans": {
        "assessment_year",
        "region_code",
        "goal_code",
        "indicator_code",
        "step",
        "improved_value",
        "points_gained",
        "cumulative_points_gained",
        "points_needed",
        "is_goal_reachable",
    },
}

# regions valid in the year, with their city's name: dim_region is an SCD (valid_from_year..valid_to_year)
NAMES = """
named as (
    select r.region_code, r.region_name, r.level, r.parent_code,
        case when r.level = 'city' then r.region_code else r.parent_code end as city_code,
        case when r.level = 'city' then r.region_name else p.region_name end as city_name
    from marts.dim_region as r
    left join marts.dim_region as p
        on p.region_code = r.parent_code
        and $year between p.valid_from_year and coalesce(p.valid_to_year, 9999)
    where $year between r.valid_from_year and coalesce(r.valid_to_year, 9999)
)"""


def _frame(con: duckdb.DuckDBPyConnection, sql: str, **params) -> pd.DataFrame:
    return con.execute(sql, params).df()


def dimensions(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The six dimensions in their order (each has a `<code>_points` subtotal column in fct_region_assessment)."""
    return _frame(
        con,
        """select distinct dimension_code, dimension_name_zh, dimension_sort_order
        from marts.dim_indicator order by dimension_sort_order""",
    )


def regions(con: duckdb.DuckDBPyConnection, year: int) -> pd.DataFrame:
    """Every region assessed in the year: total, rank, tier, progress, and last year's total and tier, found
    through the lineage as the mart's rank change is (same code, or the one code a recoded region replaced)."""
    return _frame(
        con,
        f"""
        with {NAMES},
        predecessor as (
            -- a code that replaced exactly one code continues it (海门市 320684 → 海门区 320614)
            select successor_code as region_code, min(region_code) as previous_code
            from marts.dim_region where successor_code is not null
            group by successor_code having count(*) = 1
        )
        select a.region_code, n.region_name, n.city_code, n.city_name, a.level, a.class_code, a.class_size,
            a.total_score::double as total_score, a.rank_in_class, a.province_rank, a.tier, a.tier_name_zh,
            a.is_vetoed, a.indicators_assessed, a.missing_values, a.indicators_ranked_first,
            a.indicators_in_class_top_two, a.bonus_points::double as bonus_points,
            a.deduction_points::double as deduction_points, a.previous_year_basis, a.previous_rank_in_class,
            a.rank_change, a.first_tier_streak_years, a.is_progress_award,
            p.total_score::double as previous_total_score, p.tier as previous_tier,
            p.tier_name_zh as previous_tier_name_zh,
            coalesce(v.is_advanced, false) as is_advanced, v.advanced_streak_years, v.is_first_time
        from marts.fct_region_assessment as a
        inner join named as n on a.region_code = n.region_code
        left join predecessor as pr on a.region_code = pr.region_code
        left join marts.fct_region_assessment as p
            on p.assessment_year = a.assessment_year - 1
            and p.region_code = case a.previous_year_basis
                when 'predecessor_code' then pr.previous_code
                when 'new_region_after_merger' then null
                else a.region_code
            end
        left join (
            select region_code, true as is_advanced, advanced_streak_years, is_first_time
            from marts.fct_advanced_counties where assessment_year = $year
        ) as v on a.region_code = v.region_code
        where a.assessment_year = $year
        order by a.level, a.class_code, a.rank_in_class
        """,
        year=year,
    )


def dimension_scores(con: duckdb.DuckDBPyConnection, year: int, dimension_codes: list[str]) -> pd.DataFrame:
    """Per region and dimension: its subtotal, the class's average and best subtotal, and the dimension's full
    marks (the weights of its indicators for the region's class)."""
    columns = ", ".join(f'"{code}_points"' for code in dimension_codes)
    return _frame(
        con,
        f"""
        with subtotals as (
            unpivot (
                select region_code, level, class_code, {columns}
                from marts.fct_region_assessment where assessment_year = $year
            ) on {columns} into name dimension_column value points
        ),
        full_marks as (
            select region_code, dimension_code, sum(weight)::double as dimension_weight
            from marts.fct_indicator_scores where assessment_year = $year
            group by region_code, dimension_code
        ),
        coded as (
            select region_code, level, class_code, points::double as points,
                regexp_replace(dimension_column, '_points$', '') as dimension_code
            from subtotals
        )
        select c.region_code, c.dimension_code, c.points,
            avg(c.points) over w as class_average, max(c.points) over w as class_best,
            f.dimension_weight
        from coded as c
        left join full_marks as f on c.region_code = f.region_code and c.dimension_code = f.dimension_code
        window w as (partition by c.level, c.class_code, c.dimension_code)
        order by c.region_code
        """,
        year=year,
    )


def indicators(con: duckdb.DuckDBPyConnection, year: int) -> pd.DataFrame:
    """Every region's every indicator: value, rank, points won and lost, class average and best, strength or
    weakness, sorted by points lost (most first) as the letter lists them."""
    return _frame(
        con,
        """
        select f.region_code, f.indicator_code, i.indicator_name_zh, i.unit, i.dimension_name_zh,
            i.dimension_sort_order, f.lead_department, f.direction, f.scoring_method,
            f.weight::double as weight, f.indicator_value::double as indicator_value, f.is_value_missing,
            f.class_average_value::double as class_average_value,
            f.class_best_value::double as class_best_value, f.rank_in_class, f.peer_group_size,
            f.points_won::double as points_won, f.points_lost::double as points_lost, f.is_ranked_first,
            f.is_strength, f.is_weakness, f.weakness_reason
        from marts.fct_region_feedback as f
        inner join marts.dim_indicator as i on f.indicator_code = i.indicator_code
        where f.assessment_year = $year
        order by f.region_code, f.points_lost desc, f.indicator_code
        """,
        year=year,
    )


def department_lines(con: duckdb.DuckDBPyConnection, year: int, level: str = "city") -> pd.DataFrame:
    return _frame(
        con,
        """
        select region_code, class_code, lead_department, indicators_owned, weight_total::double as weight_total,
            score_total::double as score_total, score_rate::double as score_rate, rank_in_class,
            departments_in_class
        from marts.fct_department_lines
        where assessment_year = $year and level = $level
        order by region_code, lead_department
        """,
        year=year,
        level=level,
    )


def category_labels(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, str]]:
    """The release's labels (marts.dim_category_label, made from the seeds): category → code → Chinese label, each
    category's codes in their sort order. The pages print these words and no others."""
    labels: dict[str, dict[str, str]] = {}
    rows = con.execute(
        "select category, code, label_zh from marts.dim_category_label order by category, sort_order, code"
    ).fetchall()
    for category, code, label in rows:
        labels.setdefault(category, {})[code] = label
    return labels


def warnings(con: duckdb.DuckDBPyConnection, year: int, quarter: int, *, levels: tuple[str, ...]) -> pd.DataFrame:
    """The quarter's warnings of the given levels and the warnings cleared since the quarter before, for every
    region, with the indicator's name, unit and lead department."""
    return _frame(
        con,
        f"""
        with {NAMES}
        select w.region_code, n.region_name, n.city_code, n.city_name, w.level, w.class_code, w.indicator_code,
            i.indicator_name_zh, i.unit, i.lead_department, w.direction, w.accumulation, w.target_kind,
            w.ytd_value::double as ytd_value, w.is_value_missing, w.annual_target::double as annual_target,
            w.pro_rata_target::double as pro_rata_target, w.shortfall_pct::double as shortfall_pct,
            w.warning_level, o.label_zh as warning_level_zh, o.sort_order as warning_sort, w.is_warning,
            w.consecutive_warning_quarters,
            w.warning_since_period_code, w.is_cleared, w.is_half_year_evaluation
        from marts.fct_monitoring_warnings as w
        inner join marts.dim_indicator as i on w.indicator_code = i.indicator_code
        inner join named as n on w.region_code = n.region_code
        left join marts.dim_category_label as o on o.category = 'warning_level' and w.warning_level = o.code
        where w.assessment_year = $year and w.quarter = $quarter
            and (w.warning_level in (select unnest($levels)) or w.is_cleared)
        order by n.city_code, w.level, w.region_code, o.sort_order, w.shortfall_pct desc, w.indicator_code
        """,
        year=year,
        quarter=quarter,
        levels=list(levels),
    )


def warning_counts(con: duckdb.DuckDBPyConnection, year: int, quarter: int) -> pd.DataFrame:
    """Per region the quarter's warnings by level and the warnings cleared."""
    return _frame(
        con,
        f"""
        with {NAMES}
        select w.region_code, n.region_name, n.city_code, n.city_name, w.level,
            count(*) filter (where w.warning_level = 'red') as red,
            count(*) filter (where w.warning_level = 'yellow') as yellow,
            count(*) filter (where w.warning_level = 'blue') as blue,
            count(*) filter (where w.is_cleared) as cleared,
            count(*) as indicators
        from marts.fct_monitoring_warnings as w
        inner join named as n on w.region_code = n.region_code
        where w.assessment_year = $year and w.quarter = $quarter
        group by all
        order by n.city_code, w.level, w.region_code
        """,
        year=year,
        quarter=quarter,
    )


def county_map(con: duckdb.DuckDBPyConnection, year: int, adcodes: list[str]) -> pd.DataFrame:
    """Every county of the year with the map polygon it is drawn in: its own code when the map has it, else the
    code its lineage leads to (2018–2020: 海门市 320684 → 320614; 崇川 320602 and 港闸 320611 → 320613)."""
    con.register("map_polygons", pd.DataFrame({"adcode": adcodes}))
    return _frame(
        con,
        f"""
        with recursive {NAMES},
        lineage (region_code, map_code, steps) as (
            select region_code, region_code, 0 from marts.dim_region
            union all
            select l.region_code, r.successor_code, l.steps + 1
            from lineage as l
            inner join marts.dim_region as r on l.map_code = r.region_code
            where r.successor_code is not null and l.steps < 10
        ),
        drawn as (
            select l.region_code, l.map_code as adcode
            from lineage as l inner join map_polygons as m on l.map_code = m.adcode
            qualify row_number() over (partition by l.region_code order by l.steps) = 1
        )
        select a.region_code, n.region_name, n.city_name, d.adcode, a.class_code, a.tier, a.tier_name_zh,
            a.total_score::double as total_score, a.rank_in_class, a.is_vetoed,
            a.region_code in (
                select region_code from marts.fct_advanced_counties where assessment_year = $year
            ) as is_advanced
        from marts.fct_region_assessment as a
        inner join named as n on a.region_code = n.region_code
        left join drawn as d on a.region_code = d.region_code
        where a.assessment_year = $year and a.level = 'county'
        order by a.region_code
        """,
        year=year,
    )


@dataclass
class GapData:
    available: bool
    note: str = ""
    gaps: pd.DataFrame = field(default_factory=pd.DataFrame)
    plans: pd.DataFrame = field(default_factory=pd.DataFrame)


def gap_analysis(con: duckdb.DuckDBPyConnection, year: int) -> GapData:
    """The 上分空间 marts when the release holds them; else what is missing, said on the page."""
    found = con.execute(
        """select table_name, list(column_name) from information_schema.columns
        where table_schema = 'marts' and table_name in ('fct_region_gaps', 'fct_region_gap_plans')
        group by table_name"""
    ).fetchall()
    present = {table: set(columns) for table, columns in found}
    missing = [
        f"{table}" + (f" ({', '.join(sorted(needed - present[table]))})" if table in present else "")
        for table, needed in GAP_COLUMNS.items()
        if table not in present or needed - present[table]
    ]
    if missing:
        return GapData(False, "本期发布未包含上分空间分析所需的数据表：" + "、".join(missing))
    gaps = _frame(
        con,
        """
        select g.region_code, g.indicator_code, i.indicator_name_zh, i.unit, g.points_lost::double as points_lost,
            g.next_rank_value::double as next_rank_value,
            g.next_rank_points_gained::double as next_rank_points_gained,
            g.rank_one_value::double as rank_one_value, g.rank_one_points_gained::double as rank_one_points_gained,
            g.target_value::double as target_value, g.target_points_gained::double as target_points_gained
        from marts.fct_region_gaps as g
        inner join marts.dim_indicator as i on g.indicator_code = i.indicator_code
        where g.assessment_year = $year and g.points_lost > 0
        order by g.region_code, g.points_lost desc, g.indicator_code
        """,
        year=year,
    )
    plans = _frame(
        con,
        """
        select p.region_code, p.goal_code, p.indicator_code, i.indicator_name_zh, i.unit, p.step,
            p.improved_value::double as improved_value, p.points_gained::double as points_gained,
            p.cumulative_points_gained::double as cumulative_points_gained,
            p.points_needed::double as points_needed, p.is_goal_reachable
        from marts.fct_region_gap_plans as p
        left join marts.dim_indicator as i on p.indicator_code = i.indicator_code
        where p.assessment_year = $year
        order by p.region_code, p.goal_code, p.step
        """,
        year=year,
    )
    return GapData(True, gaps=gaps, plans=plans)


def has_year(con: duckdb.DuckDBPyConnection, year: int) -> bool:
    return (
        con.execute("select count(*) from marts.fct_region_assessment where assessment_year = $1", [year]).fetchone()[0]
        > 0
    )


def has_quarter(con: duckdb.DuckDBPyConnection, year: int, quarter: int) -> bool:
    return (
        con.execute(
            "select count(*) from marts.fct_monitoring_warnings where assessment_year = $1 and quarter = $2",
            [year, quarter],
        ).fetchone()[0]
        > 0
    )


def _has_tables(con: duckdb.DuckDBPyConnection, tables: tuple[str, ...]) -> list[str]:
    """Those of `tables` the release's schema marts lacks."""
    found = {
        row[0]
        for row in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'"
        ).fetchall()
    }
    return [t for t in tables if t not in found]


@dataclass
class RobustnessData:
    available: bool
    note: str = ""
    regions: pd.DataFrame = field(default_factory=pd.DataFrame)


def robustness(con: duckdb.DuckDBPyConnection, year: int) -> RobustnessData:
    """The year's tier robustness (fct_rank_robustness): regions whose tier is not robust first, then by level,
    class and rank; an explanation instead when the release or the year has none (robustness_parameters)."""
    missing = _has_tables(con, ("fct_rank_robustness",))
    if missing:
        return RobustnessData(False, "本期发布未包含等次稳健性分析（fct_rank_robustness）。")
    regions = _frame(
        con,
        f"""
        with {NAMES}
        select r.region_code, n.region_name, n.city_name, r.level, r.class_code, r.draws,
            r.weight_spread::double as weight_spread, r.method_switch_share::double as method_switch_share,
            r.official_rank_in_class, r.official_tier, r.is_official_advanced,
            r.band_lower_percentile, r.band_upper_percentile, r.rank_band_low, r.rank_median, r.rank_band_high,
            r.tier_1_probability::double as tier_1_probability, r.tier_2_probability::double as tier_2_probability,
            r.tier_3_probability::double as tier_3_probability,
            r.official_tier_probability::double as official_tier_probability,
            r.advanced_probability::double as advanced_probability, r.is_tier_robust, r.is_advanced_status_robust
        from marts.fct_rank_robustness as r
        inner join named as n on r.region_code = n.region_code
        where r.assessment_year = $year
        order by r.is_tier_robust, case r.level when 'city' then 0 else 1 end, r.class_code,
            r.official_rank_in_class
        """,
        year=year,
    )
    if regions.empty:
        return RobustnessData(False, f"{year}年度未做等次稳健性分析（见配置 robustness_parameters 的年份范围）。")
    return RobustnessData(True, regions=regions)


@dataclass
class ScreeningData:
    available: bool
    note: str = ""
    outliers: pd.DataFrame = field(default_factory=pd.DataFrame)
    correlations: pd.DataFrame = field(default_factory=pd.DataFrame)
    indicator_availability: pd.DataFrame = field(default_factory=pd.DataFrame)
    region_availability: pd.DataFrame = field(default_factory=pd.DataFrame)


def screening(con: duckdb.DuckDBPyConnection, year: int, shown: int = 10) -> ScreeningData:
    """The analysts' screening of the year: outlier-flagged indicators, flagged pairs within a dimension, and the
    lowest data availability (indicators and regions with a missing value, the `shown` lowest of each)."""
    missing = _has_tables(
        con, ("fct_indicator_screening", "fct_indicator_correlations", "fct_region_data_availability")
    )
    if missing:
        return ScreeningData(False, "本期发布未包含指标筛查数据表：" + "、".join(missing))
    outliers = _frame(
        con,
        """
        select s.level, s.indicator_code, i.indicator_name_zh, i.unit, s.values_reported,
            s.skewness::double as skewness, s.kurtosis::double as kurtosis
        from marts.fct_indicator_screening as s
        inner join marts.dim_indicator as i on s.indicator_code = i.indicator_code
        where s.assessment_year = $year and s.is_outlier_flagged
        order by s.level, abs(s.skewness) desc, s.indicator_code
        """,
        year=year,
    )
    correlations = _frame(
        con,
        """
        select c.level, c.dimension_code, i.dimension_name_zh, c.indicator_code, i.indicator_name_zh,
            c.other_indicator_code, o.indicator_name_zh as other_indicator_name_zh, c.regions_with_both,
            c.pearson_r::double as pearson_r, c.is_collinear, c.is_negatively_correlated
        from marts.fct_indicator_correlations as c
        inner join marts.dim_indicator as i on c.indicator_code = i.indicator_code
        inner join marts.dim_indicator as o on c.other_indicator_code = o.indicator_code
        where c.assessment_year = $year and (c.is_collinear or c.is_negatively_correlated)
        order by c.level, c.is_collinear desc, abs(c.pearson_r) desc, c.indicator_code, c.other_indicator_code
        """,
        year=year,
    )
    indicator_availability = _frame(
        con,
        f"""
        select s.level, s.indicator_code, i.indicator_name_zh, s.regions_assessed, s.values_reported,
            s.availability_share::double as availability_share
        from marts.fct_indicator_screening as s
        inner join marts.dim_indicator as i on s.indicator_code = i.indicator_code
        where s.assessment_year = $year and s.values_missing > 0
        order by s.availability_share, s.level, s.indicator_code
        limit {int(shown)}
        """,
        year=year,
    )
    region_availability = _frame(
        con,
        f"""
        with {NAMES}
        select a.region_code, n.region_name, n.city_name, a.level, a.indicators_assessed, a.values_reported,
            a.availability_share::double as availability_share
        from marts.fct_region_data_availability as a
        inner join named as n on a.region_code = n.region_code
        where a.assessment_year = $year and a.values_missing > 0
        order by a.availability_share, a.level, a.region_code
        limit {int(shown)}
        """,
        year=year,
    )
    return ScreeningData(
        True,
        outliers=outliers,
        correlations=correlations,
        indicator_availability=indicator_availability,
        region_availability=region_availability,
    )
