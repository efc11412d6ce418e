"""The gap marts (上分空间) on the sample, re-scored independently: each value fct_region_gaps names is put in
the region's place and its peer group scored again by the pandas implementation in tests/support/
assessment_model (which reads the seeds, never the models); each plan of fct_region_gap_plans is applied to the
region's values, its whole class re-scored, re-totalled, re-ranked and re-tiered, and the region must then have
reached the goal."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.support import assessment_model as model

YEAR = 2023  # the year the end-to-end run summarises
ATOL = 1e-6
CANDIDATES = {
    "next_rank_value": "next_rank_points_gained",
    "rank_one_value": "rank_one_points_gained",
    "target_value": "target_points_gained",
}


@pytest.fixture(scope="module")
def baseline(built_warehouse) -> dict[str, pd.DataFrame]:
    values = built_warehouse.query(
        "select region_code, indicator_code, assessment_year, cast(indicator_value as double) as x "
        "from marts.fct_indicator_values where is_current and period_type = 'year' and assessment_year = ?",
        [YEAR],
    )
    grid = model.assessment_grid(values)
    grid = grid[grid["assessment_year"] == YEAR].reset_index(drop=True)
    scored = model.score(grid)
    return {"scored": scored, "totals": model.totals(scored)}


def _peer_group(scored: pd.DataFrame, level: str, class_code: str, indicator_code: str) -> pd.DataFrame:
    return scored[
        (scored["level"] == level) & (scored["class_code"] == class_code) & (scored["indicator_code"] == indicator_code)
    ]


def _with_value(scored: pd.DataFrame, level: str, class_code: str, changes: dict[tuple[str, str], float]):
    """The class scored again after the region-indicator values in `changes` are replaced."""
    in_class = scored[(scored["level"] == level) & (scored["class_code"] == class_code)].copy()
    touched = {indicator for _, indicator in changes}
    for (region, indicator), value in changes.items():
        in_class.loc[(in_class["region_code"] == region) & (in_class["indicator_code"] == indicator), "x"] = value
    rescored = [
        model.score_group(g) if indicator in touched else g
        for indicator, g in in_class.groupby("indicator_code", sort=False)
    ]
    out = pd.concat(rescored, ignore_index=True)
    out["first"] = (out["rank"] == 1) & out["x"].notna()
    return out


def _points(scored: pd.DataFrame, region: str, indicator: str) -> float:
    row = scored[(scored["region_code"] == region) & (scored["indicator_code"] == indicator)]
    assert len(row) == 1
    return float(row["points"].iloc[0])


def test_every_gain_of_a_city_year_and_a_county_class_is_the_rescored_difference(built_warehouse, baseline):
    gaps = built_warehouse.query(
        "select region_code, level, class_code, indicator_code, rank_in_class, "
        "cast(points_won as double) as points_won, "
        + ", ".join(
            f"cast({value} as double) as {value}, cast({gain} as double) as {gain}"
            for value, gain in CANDIDATES.items()
        )
        + ", next_rank_in_class from marts.fct_region_gaps where assessment_year = ? "
        "and (level = 'city' or class_code = 'II')",
        [YEAR],
    )
    assert len(gaps) == (13 + 25) * 32
    scored = baseline["scored"]
    checked = 0
    for row in gaps.itertuples():
        group = _peer_group(scored, row.level, row.class_code, row.indicator_code)
        own = (group["region_code"] == row.region_code).to_numpy()
        own_value = group.loc[own, "x"].iloc[0]
        assert np.isclose(group.loc[own, "points"].iloc[0], row.points_won, atol=ATOL)
        lower = group["direction"].iloc[0] == "lower"
        reported, others = group["x"].dropna(), group.loc[~own, "x"].dropna()
        best = np.nan if reported.empty else (reported.min() if lower else reported.max())
        # the nearest better-ranked region's value: the worst strictly better one (any, when the own is missing)
        if not np.isnan(own_value):
            others = others[others < own_value] if lower else others[others > own_value]
        nearest = np.nan if others.empty else (others.max() if lower else others.min())
        assert np.isclose(row.next_rank_value, nearest, equal_nan=True)
        assert np.isclose(row.rank_one_value, best, equal_nan=True)
        for value_column, gain_column in CANDIDATES.items():
            value = getattr(row, value_column)
            if np.isnan(value):
                assert np.isnan(getattr(row, gain_column))
                continue
            regrouped = group.copy()
            regrouped.loc[own, "x"] = value
            rescored = model.score_group(regrouped)
            expected_gain = rescored.loc[own, "points"].iloc[0] - row.points_won
            assert np.isclose(getattr(row, gain_column), expected_gain, atol=ATOL), (row, value_column)
            if value_column == "next_rank_value":
                assert rescored.loc[own, "rank"].iloc[0] == row.next_rank_in_class < row.rank_in_class
            checked += 1
    assert checked > 2 * len(gaps)


@pytest.fixture(scope="module")
def plans(built_warehouse) -> pd.DataFrame:
    return built_warehouse.query(
        "select region_code, level, class_code, goal_code, step, indicator_code, improvement_basis, "
        "cast(improved_value as double) as improved_value, cast(points_gained as double) as points_gained, "
        "cast(cumulative_points_gained as double) as cumulative_points_gained, "
        "cast(points_needed as double) as points_needed, is_goal_reachable, rival_region_code "
        "from marts.fct_region_gap_plans where assessment_year = ? order by region_code, goal_code, step",
        [YEAR],
    )


def _goal_reached(goal: str, region: str, totals: pd.DataFrame, before: pd.Series) -> bool:
    after = totals.set_index("region_code").loc[region]
    if goal == "up_one_rank":
        return after["rank_in_class"] <= before["rank_in_class"] - 1
    if goal == "first_tier":
        return after["tier"] == 1
    return region in set(model.advanced_counties(totals)["region_code"])


def test_every_reachable_plan_reaches_its_goal_when_the_class_is_rescored(baseline, plans):
    scored, totals = baseline["scored"], baseline["totals"].set_index("region_code")
    reachable = plans[plans["is_goal_reachable"]]
    kinds = set(zip(reachable["level"], reachable["goal_code"], strict=True))
    assert kinds == {
        ("city", "up_one_rank"),
        ("city", "first_tier"),
        ("county", "up_one_rank"),
        ("county", "first_tier"),
        ("county", "advanced_list"),
    }
    for (region, goal), plan in reachable.groupby(["region_code", "goal_code"]):
        level, class_code = plan["level"].iloc[0], plan["class_code"].iloc[0]
        assert plan["step"].tolist() == list(range(1, len(plan) + 1))
        # steps take the largest gains first, and the last one is needed: without it the gain falls short
        assert plan["points_gained"].is_monotonic_decreasing
        needed = plan["points_needed"].iloc[0]
        assert plan["cumulative_points_gained"].iloc[-1] >= needed - ATOL
        assert plan["cumulative_points_gained"].iloc[-1] - plan["points_gained"].iloc[-1] <= needed + ATOL
        # the points needed are the rival's total minus the region's, from the independent totals
        rival = totals.loc[plan["rival_region_code"].iloc[0]]
        assert np.isclose(needed, rival["total"] - totals.loc[region, "total"], atol=ATOL)

        changes = {(region, i): v for i, v in zip(plan["indicator_code"], plan["improved_value"], strict=True)}
        rescored = _with_value(scored, level, class_code, changes)
        # each step's gain is the region's own re-scored points on that indicator minus its points now
        for indicator, gain in zip(plan["indicator_code"], plan["points_gained"], strict=True):
            assert np.isclose(
                _points(rescored, region, indicator) - _points(scored, region, indicator), gain, atol=ATOL
            )
        new_totals = model.totals(rescored)
        assert _goal_reached(goal, region, new_totals, totals.loc[region]), (region, goal, plan)


def test_unreachable_goals_list_every_improvement_and_vetoed_regions_need_no_number(built_warehouse):
    # every year: on the sample only a vetoed county has an unreachable goal
    goals = built_warehouse.query(
        "select assessment_year, region_code, goal_code, count(*) as steps, "
        "count(distinct is_goal_reachable) as answers, bool_or(is_goal_reachable) as reachable, "
        "count(points_needed) as with_number from marts.fct_region_gap_plans group by all"
    )
    assert (goals["answers"] == 1).all()  # every row of a goal says the same about it
    improvable = built_warehouse.query(
        "select assessment_year, region_code, count(*) as improvable from marts.fct_region_gaps "
        "where rank_one_points_gained > 0 or target_points_gained > 0 group by all"
    )
    unreachable = goals[~goals["reachable"]].merge(improvable, on=["assessment_year", "region_code"])
    assert (unreachable["steps"] == unreachable["improvable"]).all()
    # 响水县, vetoed in 2019: no points reach the first tier or the advanced list; up one rank is not barred
    xiangshui = goals[(goals["assessment_year"] == 2019) & (goals["region_code"] == "320921")].set_index("goal_code")
    for goal in ("first_tier", "advanced_list"):
        assert not xiangshui.loc[goal, "reachable"] and xiangshui.loc[goal, "with_number"] == 0
    assert xiangshui.loc["up_one_rank", "reachable"]
    assert set(unreachable["region_code"]) == {"320921"}


def test_goals_already_reached_have_no_plan(built_warehouse):
    reached = built_warehouse.query(
        "select count(*) as n from marts.fct_region_gap_plans p join marts.fct_region_assessment a "
        "using (assessment_year, region_code) where (p.goal_code = 'up_one_rank' and a.rank_in_class = 1) "
        "or (p.goal_code = 'first_tier' and a.tier = 1) or (p.goal_code = 'advanced_list' and exists ("
        "select 1 from marts.fct_advanced_counties c where c.assessment_year = p.assessment_year "
        "and c.region_code = p.region_code)) or (p.goal_code = 'advanced_list' and a.level = 'city')"
    )
    assert reached["n"].iloc[0] == 0
