"""Tier robustness (fct_rank_robustness) recomputed independently: the draws' uniform numbers from hashlib, the
weights perturbed and renormalised, every draw scored from the independent pandas model's points
(tests/support/assessment_model), totalled, ranked, tiered and the advanced list picked in pandas, then the
percentiles and probabilities — every column of the mart for the latest year of the sample."""

from __future__ import annotations

import hashlib
import math

import numpy as np
import pandas as pd
import pytest

from tests.support import assessment_model as model

YEAR = 2024


def uniform(*parts) -> float:
    """hqd.hash_uniform: md5 of the parts joined by '|', first 8 hex digits, (n + 0.5) / 2^32."""
    text = "|".join(str(p) for p in parts)
    return (int(hashlib.md5(text.encode()).hexdigest()[:8], 16) + 0.5) / 2**32


def test_uniform_matches_the_sql_macro_on_known_text():
    # md5('a') = 0cc175b9c0f1b6a831c399e269772661 → 0x0cc175b9 = 214005177
    assert uniform("a") == (214005177 + 0.5) / 2**32


@pytest.fixture(scope="module")
def mart(built_warehouse) -> pd.DataFrame:
    return built_warehouse.query(f"select * from marts.fct_rank_robustness where assessment_year = {YEAR}")


@pytest.fixture(scope="module")
def expected(built_warehouse) -> pd.DataFrame:
    values = built_warehouse.query(
        "select region_code, indicator_code, assessment_year, cast(indicator_value as double) as x "
        "from marts.fct_indicator_values where is_current and period_type = 'year'"
    )
    scored = model.score(model.assessment_grid(values))
    scored = scored[scored["assessment_year"] == YEAR]
    official = model.totals(scored)
    official_advanced = set(model.advanced_counties(official)["region_code"])

    parameters = model.by_year(model.read_seed("config/robustness_parameters.csv"), [YEAR]).iloc[0]
    draws = int(parameters["draw_count"])
    spread = float(parameters["weight_spread"])
    assert float(parameters["method_switch_share"]) == 0  # the sample's configuration: weights only

    # the draws' weights: factor U(1 - spread, 1 + spread) per (draw, level, class, indicator), renormalised
    groups = scored[["level", "class_code", "indicator_code", "weight"]].drop_duplicates()
    weights = groups.loc[groups.index.repeat(draws)].reset_index(drop=True)
    weights["draw"] = np.tile(np.arange(1, draws + 1), len(groups))
    seed = int(parameters["random_seed"])
    weights["u"] = [
        uniform(seed, "weight", d, YEAR, lv, cl, ind)
        for d, lv, cl, ind in zip(
            weights["draw"], weights["level"], weights["class_code"], weights["indicator_code"], strict=True
        )
    ]
    weights["perturbed"] = weights["weight"] * (1 + spread * (2 * weights["u"] - 1))
    by_class = weights.groupby(["draw", "level", "class_code"])
    weights["draw_weight"] = (
        weights["perturbed"] * by_class["weight"].transform("sum") / by_class["perturbed"].transform("sum")
    )

    # every region's points in every draw: the drawn weight times points per unit of weight
    scored = scored.assign(achievement=np.where(scored["weight"] > 0, scored["points"] / scored["weight"], 0.0))
    points = (
        weights.merge(scored[["region_code", "level", "class_code", "indicator_code", "achievement"]])
        .assign(points=lambda f: f["draw_weight"] * f["achievement"])
        .groupby(["draw", "region_code"], as_index=False)["points"]
        .sum()
    )
    drawn = points.merge(
        official[["region_code", "level", "class_code", "firsts", "bonus", "deduction", "veto"]], on="region_code"
    )
    drawn["total"] = drawn["points"] + drawn["bonus"] - drawn["deduction"]
    drawn = drawn.sort_values(
        ["draw", "level", "class_code", "total", "firsts", "region_code"],
        ascending=[True, True, True, False, False, True],
    )
    drawn["rank"] = drawn.groupby(["draw", "level", "class_code"]).cumcount() + 1
    quotas = model.by_year(model.read_seed("config/tier_quotas.csv"), [YEAR])
    drawn = drawn.merge(quotas[["level", "class_code", "first_tier_count", "second_tier_count"]])
    drawn = drawn.sort_values(["draw", "level", "class_code", "veto", "rank"])
    position = drawn.groupby(["draw", "level", "class_code"]).cumcount() + 1
    drawn["tier"] = np.select(
        [position <= drawn["first_tier_count"], position <= drawn["first_tier_count"] + drawn["second_tier_count"]],
        [1, 2],
        3,
    )
    advanced_quotas = model.by_year(model.read_seed("config/advanced_county_quotas.csv"), [YEAR])
    eligible = drawn[(drawn["level"] == "county") & ~drawn["veto"]].merge(
        advanced_quotas[["class_code", "advanced_quota"]]
    )
    eligible = eligible.sort_values(["draw", "class_code", "rank"])
    eligible = eligible[eligible.groupby(["draw", "class_code"]).cumcount() + 1 <= eligible["advanced_quota"]]
    listed = set(zip(eligible["draw"], eligible["region_code"], strict=True))
    drawn["advanced"] = [(d, r) in listed for d, r in zip(drawn["draw"], drawn["region_code"], strict=True)]

    rows = []
    low_k = math.ceil(int(parameters["lower_percentile"]) * draws / 100)
    mid_k = math.ceil(50 * draws / 100)
    high_k = math.ceil(int(parameters["upper_percentile"]) * draws / 100)
    robust = float(parameters["robust_share"])
    class_sizes = official.groupby(["level", "class_code"]).size()
    for region in official.itertuples():
        mine = drawn[drawn["region_code"] == region.region_code]
        ranks = np.sort(mine["rank"].to_numpy())
        tiers = mine["tier"].to_numpy()
        share = {t: float((tiers == t).sum()) / draws for t in (1, 2, 3)}
        county = region.level == "county"
        is_advanced = region.region_code in official_advanced
        advanced_share = float(mine["advanced"].sum()) / draws
        rows.append(
            {
                "rank_robustness_key": f"{YEAR}-{region.region_code}",
                "assessment_year": YEAR,
                "region_code": region.region_code,
                "level": region.level,
                "class_code": region.class_code,
                "class_size": class_sizes[(region.level, region.class_code)],
                "draws": draws,
                "weight_spread": spread,
                "method_switch_share": 0.0,
                "official_rank_in_class": region.rank_in_class,
                "official_tier": region.tier,
                "is_official_advanced": is_advanced if county else None,
                "band_lower_percentile": int(parameters["lower_percentile"]),
                "band_upper_percentile": int(parameters["upper_percentile"]),
                "rank_band_low": ranks[low_k - 1],
                "rank_median": ranks[mid_k - 1],
                "rank_band_high": ranks[high_k - 1],
                "rank_band_width": ranks[high_k - 1] - ranks[low_k - 1],
                "best_rank_in_draws": ranks.min(),
                "worst_rank_in_draws": ranks.max(),
                "tier_1_probability": share[1],
                "tier_2_probability": share[2],
                "tier_3_probability": share[3],
                "official_tier_probability": share[region.tier],
                "advanced_probability": advanced_share if county else None,
                "is_tier_robust": share[region.tier] >= robust - 1e-12,
                "is_advanced_status_robust": (
                    (advanced_share if is_advanced else 1 - advanced_share) >= robust - 1e-12 if county else None
                ),
            }
        )
    return pd.DataFrame(rows)


def test_every_column_of_the_latest_year_matches_the_independent_draws(mart, expected):
    assert sorted(mart.columns) == sorted(expected.columns)
    assert len(mart) == len(expected) == 13 + 95
    merged = expected.merge(mart, on="rank_robustness_key", suffixes=("_expected", ""), validate="one_to_one")
    assert len(merged) == len(expected)
    for column in expected.columns.drop("rank_robustness_key"):
        want, got = merged[f"{column}_expected"], merged[column]
        if column.endswith(("_probability", "_spread", "_share")):
            assert np.allclose(want.astype(float), got.astype(float), atol=1e-12, equal_nan=True), column
        else:
            mismatched = merged[want.astype(object).where(want.notna()) != got.astype(object).where(got.notna())]
            mismatched = mismatched[~(mismatched[f"{column}_expected"].isna() & mismatched[column].isna())]
            assert mismatched.empty, (column, mismatched[["region_code", f"{column}_expected", column]].head())


def test_the_sample_has_regions_whose_tier_is_not_robust_and_robust_ones(mart):
    # the sample's classes hold close totals: some tiers move with ±20 % weights, most do not
    assert 0 < (~mart["is_tier_robust"]).sum() < len(mart) / 2
    assert (
        (mart["tier_1_probability"] + mart["tier_2_probability"] + mart["tier_3_probability"]) - 1
    ).abs().max() < 1e-9
