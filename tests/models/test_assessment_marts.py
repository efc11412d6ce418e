"""Scores, ranks, tiers and the advanced list, checked against an independent pandas implementation of
DESIGN.md's formulas that reads the configuration straight from the seed files (tests/support/assessment_model)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.support import assessment_model as model


@pytest.fixture(scope="module")
def expected(built_warehouse) -> dict[str, pd.DataFrame]:
    values = built_warehouse.query(
        "select region_code, indicator_code, assessment_year, cast(indicator_value as double) as x "
        "from marts.fct_indicator_values where is_current and period_type = 'year'"
    )
    scored = model.score(model.assessment_grid(values))
    return {"scores": scored, "totals": model.totals(scored)}


def test_every_indicator_score_matches_the_independent_formula(built_warehouse, expected):
    actual = built_warehouse.query(
        "select assessment_year, region_code, indicator_code, cast(score_points as double) as score_points, "
        "rank_in_class from marts.fct_indicator_scores"
    )
    merged = expected["scores"].merge(
        actual, on=["assessment_year", "region_code", "indicator_code"], how="outer", indicator=True
    )
    assert (merged["_merge"] == "both").all(), merged[merged["_merge"] != "both"].head()
    assert len(merged) == 7 * (13 + 95) * 32 + 3 * 32  # 96 counties in 2018-2020, 95 after
    assert np.allclose(merged["points"], merged["score_points"], atol=1e-8, rtol=0)
    assert (merged["rank"] == merged["rank_in_class"]).all()


def test_totals_ranks_and_tiers_match(built_warehouse, expected):
    actual = built_warehouse.query(
        "select assessment_year, region_code, cast(total_score as double) as total_score, rank_in_class as rank_actual,"
        " tier as tier_actual, is_vetoed from marts.fct_region_assessment"
    )
    merged = expected["totals"].merge(actual, on=["assessment_year", "region_code"], validate="one_to_one")
    assert len(merged) == len(actual) == len(expected["totals"])
    assert np.allclose(merged["total"], merged["total_score"], atol=1e-8, rtol=0)
    assert (merged["rank_in_class"] == merged["rank_actual"]).all()
    assert (merged["tier"] == merged["tier_actual"]).all()
    assert (merged["veto"] == merged["is_vetoed"]).all()


def test_county_counts_follow_the_division_history(built_warehouse):
    counts = built_warehouse.query(
        "select assessment_year, level, count(*) as n from marts.fct_region_assessment group by 1, 2 order by 1, 2"
    )
    by_year = {(r.assessment_year, r.level): r.n for r in counts.itertuples()}
    for year in range(2018, 2025):
        assert by_year[(year, "city")] == 13
        assert by_year[(year, "county")] == (96 if year <= 2020 else 95)
    codes = built_warehouse.query("select assessment_year, region_code from marts.fct_region_assessment")
    in_year = codes.groupby("assessment_year")["region_code"].apply(set)
    assert {"320602", "320611", "320684"} <= in_year[2020] and "320613" not in in_year[2020]
    assert {"320613", "320614"} <= in_year[2021] and not {"320602", "320611", "320684"} & in_year[2021]


def test_province_rank_orders_all_counties_by_total(built_warehouse):
    df = built_warehouse.query(
        "select assessment_year, province_rank, total_score from marts.fct_region_assessment where level = 'county' "
        "order by assessment_year, province_rank"
    )
    for _, g in df.groupby("assessment_year"):
        assert g["province_rank"].tolist() == list(range(1, len(g) + 1))
        assert g["total_score"].is_monotonic_decreasing


def test_advanced_counties_18_a_year_by_class_quota_and_never_vetoed(built_warehouse):
    df = built_warehouse.query(
        "select a.assessment_year, a.class_code, a.region_code, r.rank_in_class, r.is_vetoed "
        "from marts.fct_advanced_counties a join marts.fct_region_assessment r using (assessment_year, region_code)"
    )
    assert df.groupby("assessment_year").size().tolist() == [18] * 7
    per_class = df.groupby(["assessment_year", "class_code"]).size().unstack()
    assert (per_class["I"] == 6).all() and (per_class["II"] == 5).all() and (per_class["III"] == 7).all()
    assert not df["is_vetoed"].any()
    # 响水县 is vetoed in 2019 by the reference configuration: never first tier nor advanced that year
    xiangshui = built_warehouse.query(
        "select tier, is_vetoed from marts.fct_region_assessment "
        "where assessment_year = 2019 and region_code = '320921'"
    )
    assert xiangshui["is_vetoed"][0] and xiangshui["tier"][0] == 3


def test_efficacy_worked_example_is_reachable_from_the_configuration(built_warehouse):
    # E13 uses fixed bounds x_h = 12, x_s = 6: whatever value a region reports, d follows the formula
    df = built_warehouse.query(
        "select cast(indicator_value as double) as x, cast(efficacy_coefficient as double) as d, "
        "cast(satisfactory_value_used as double) as xh, cast(not_allowed_value_used as double) as xs "
        "from marts.fct_indicator_scores where indicator_code = 'E13' and not is_value_missing"
    )
    assert (df["xh"] == 12).all() and (df["xs"] == 6).all()
    assert np.allclose(df["d"], np.clip(60 + 40 * (df["x"] - 6) / 6, 0, 100), atol=1e-8)
