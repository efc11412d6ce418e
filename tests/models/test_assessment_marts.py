"""Scores, ranks, tiers and the advanced list, checked against an independent pandas implementation of
DESIGN.md's formulas that reads the configuration straight from the seed files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
OPEN_END = 9999


def _read(rel: str) -> pd.DataFrame:
    return pd.read_csv(SEEDS / rel, dtype={"region_code": str, "parent_code": str})


def _by_year(frame: pd.DataFrame, years: list[int]) -> pd.DataFrame:
    frame = frame.assign(year_to=frame["year_to"].fillna(OPEN_END))
    out = frame.merge(pd.DataFrame({"assessment_year": years}), how="cross")
    return out[(out["assessment_year"] >= out["year_from"]) & (out["assessment_year"] <= out["year_to"])]


@pytest.fixture(scope="module")
def expected(built_warehouse) -> dict[str, pd.DataFrame]:
    years = _read("config/assessment_years.csv")["assessment_year"].tolist()
    regions = _read("reference/regions.csv")
    regions["valid_to_year"] = regions["valid_to_year"].fillna(OPEN_END)
    region_years = regions.merge(pd.DataFrame({"assessment_year": years}), how="cross")
    region_years = region_years[
        (region_years["assessment_year"] >= region_years["valid_from_year"])
        & (region_years["assessment_year"] <= region_years["valid_to_year"])
    ]
    city_classes = _by_year(_read("config/region_classes.csv"), years)[["region_code", "assessment_year", "class_code"]]
    region_years = region_years.merge(
        city_classes.rename(columns={"region_code": "parent_code"}), on=["parent_code", "assessment_year"], how="left"
    ).merge(city_classes, on=["region_code", "assessment_year"], how="left", suffixes=("_parent", ""))
    region_years["class_code"] = region_years["class_code"].fillna(region_years["class_code_parent"])

    rules = _by_year(_read("config/indicator_rules.csv"), years)
    indicators = _read("reference/indicators.csv")[["indicator_code", "direction"]]
    grid = (
        region_years[["assessment_year", "region_code", "level", "class_code"]]
        .merge(rules, on=["assessment_year", "level", "class_code"])
        .merge(indicators, on="indicator_code")
    )
    values = built_warehouse.query(
        "select region_code, indicator_code, assessment_year, cast(indicator_value as double) as x "
        "from marts.fct_indicator_values where is_current and period_type = 'year'"
    )
    grid = grid.merge(values, on=["region_code", "indicator_code", "assessment_year"], how="left")

    def score_group(g: pd.DataFrame) -> pd.DataFrame:
        g = g.copy()
        lower = g["direction"].iloc[0] == "lower"
        x = g["x"]
        better = (lambda a, b: a < b) if lower else (lambda a, b: a > b)
        reported = x.dropna().to_numpy()
        # rank = 1 + number of strictly better reported values; missing after all reported ones
        g["rank"] = [
            len(reported) + 1 if np.isnan(v) else 1 + int(sum(better(r, v) for r in reported)) for v in x.to_numpy()
        ]
        w = g["weight"]
        method = g["scoring_method"].iloc[0]
        if method == "efficacy":
            best, worst = (reported.min(), reported.max()) if lower else (reported.max(), reported.min())
            xh = g["satisfactory_value"].fillna(best)
            xs = g["not_allowed_value"].fillna(worst)
            d = np.where(xh == xs, 100.0, 60 + 40 * (x - xs) / (xh - xs).replace(0, np.nan))
            points = w * np.clip(d, 0, 100) / 100
        elif method == "target":
            t = g["target_value"]
            with np.errstate(divide="ignore", invalid="ignore"):
                r = (t / x) if lower else (x / t)
            met = (x <= t) if lower else (x >= t)
            undefined = (x == 0) if lower else (t == 0)
            r = np.where(undefined, met.astype(float), r)
            points = w * np.clip(r, 0, 1)
        elif method == "target_binary":
            met = (x <= g["target_value"]) if lower else (x >= g["target_value"])
            points = np.where(met, w, 0.0)
        else:  # rank
            points = w * np.maximum(0, 1 - 0.05 * (g["rank"] - 1))
        g["points"] = np.where(x.isna(), 0.0, points)
        return g

    keys = ["assessment_year", "level", "class_code", "indicator_code"]
    scored = pd.concat([score_group(g) for _, g in grid.groupby(keys)], ignore_index=True)

    adjustments = _read("config/adjustments.csv")
    adj = (
        adjustments.assign(
            bonus=np.where(adjustments["adjustment_type"] == "bonus", adjustments["points"], 0.0),
            deduction=np.where(
                adjustments["adjustment_type"].isin(["deduction", "provisional_deduction"]), adjustments["points"], 0.0
            ),
            veto=adjustments["adjustment_type"] == "veto",
        )
        .groupby(["assessment_year", "region_code"], as_index=False)[["bonus", "deduction", "veto"]]
        .agg({"bonus": "sum", "deduction": "sum", "veto": "max"})
    )
    scored["first"] = (scored["rank"] == 1) & scored["x"].notna()
    totals = (
        scored.groupby(["assessment_year", "region_code", "level", "class_code"], as_index=False)
        .agg(points=("points", "sum"), firsts=("first", "sum"))
        .merge(adj, on=["assessment_year", "region_code"], how="left")
    )
    totals[["bonus", "deduction"]] = totals[["bonus", "deduction"]].fillna(0.0)
    totals["veto"] = totals["veto"].fillna(False).astype(bool)
    totals["total"] = totals["points"] + totals["bonus"] - totals["deduction"]
    totals = totals.sort_values(
        ["assessment_year", "level", "class_code", "total", "firsts", "region_code"],
        ascending=[True, True, True, False, False, True],
    )
    totals["rank_in_class"] = totals.groupby(["assessment_year", "level", "class_code"]).cumcount() + 1
    quotas = _by_year(_read("config/tier_quotas.csv"), years)
    totals = totals.merge(quotas, on=["assessment_year", "level", "class_code"])
    totals = totals.sort_values(["assessment_year", "level", "class_code", "veto", "rank_in_class"])
    position = totals.groupby(["assessment_year", "level", "class_code"]).cumcount() + 1
    totals["tier"] = np.select(
        [position <= totals["first_tier_count"], position <= totals["first_tier_count"] + totals["second_tier_count"]],
        [1, 2],
        3,
    )
    return {"scores": scored, "totals": totals}


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
