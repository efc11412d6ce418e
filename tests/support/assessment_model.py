"""An independent pandas implementation of DESIGN.md's scoring, ranking, tiers and advanced list that reads the
configuration straight from the seed files, never from the warehouse's models. The tests compare the marts with
it (tests/models/test_assessment_marts.py) and re-score changed values with it (test_gap_marts.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
OPEN_END = 9999
PEER_GROUP = ["assessment_year", "level", "class_code", "indicator_code"]
CLASS = ["assessment_year", "level", "class_code"]


def read_seed(rel: str) -> pd.DataFrame:
    return pd.read_csv(SEEDS / rel, dtype={"region_code": str, "parent_code": str})


def by_year(frame: pd.DataFrame, years: list[int]) -> pd.DataFrame:
    frame = frame.assign(year_to=frame["year_to"].fillna(OPEN_END))
    out = frame.merge(pd.DataFrame({"assessment_year": years}), how="cross")
    return out[(out["assessment_year"] >= out["year_from"]) & (out["assessment_year"] <= out["year_to"])]


def years() -> list[int]:
    return read_seed("config/assessment_years.csv")["assessment_year"].tolist()


def assessment_grid(values: pd.DataFrame) -> pd.DataFrame:
    """Every (year, region, indicator) the rules assess, with its rule and the value `x` (NaN when missing).
    `values`: region_code, indicator_code, assessment_year, x (the current annual values)."""
    all_years = years()
    regions = read_seed("reference/regions.csv")
    regions["valid_to_year"] = regions["valid_to_year"].fillna(OPEN_END)
    region_years = regions.merge(pd.DataFrame({"assessment_year": all_years}), how="cross")
    region_years = region_years[
        (region_years["assessment_year"] >= region_years["valid_from_year"])
        & (region_years["assessment_year"] <= region_years["valid_to_year"])
    ]
    city_classes = by_year(read_seed("config/region_classes.csv"), all_years)[
        ["region_code", "assessment_year", "class_code"]
    ]
    region_years = region_years.merge(
        city_classes.rename(columns={"region_code": "parent_code"}), on=["parent_code", "assessment_year"], how="left"
    ).merge(city_classes, on=["region_code", "assessment_year"], how="left", suffixes=("_parent", ""))
    region_years["class_code"] = region_years["class_code"].fillna(region_years["class_code_parent"])

    rules = by_year(read_seed("config/indicator_rules.csv"), all_years)
    indicators = read_seed("reference/indicators.csv")[["indicator_code", "direction"]]
    grid = (
        region_years[["assessment_year", "region_code", "level", "class_code"]]
        .merge(rules, on=["assessment_year", "level", "class_code"])
        .merge(indicators, on="indicator_code")
    )
    return grid.merge(values, on=["region_code", "indicator_code", "assessment_year"], how="left")


def score_group(g: pd.DataFrame) -> pd.DataFrame:
    """One peer group (year, level, class, indicator): rank and points of every region."""
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


def score(grid: pd.DataFrame) -> pd.DataFrame:
    scored = pd.concat([score_group(g) for _, g in grid.groupby(PEER_GROUP)], ignore_index=True)
    scored["first"] = (scored["rank"] == 1) & scored["x"].notna()
    return scored


def totals(scored: pd.DataFrame) -> pd.DataFrame:
    """Per (year, region): total with adjustments, rank in class (total, then first places, then code), tier."""
    adjustments = read_seed("config/adjustments.csv")
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
    out = (
        scored.groupby(["assessment_year", "region_code", "level", "class_code"], as_index=False)
        .agg(points=("points", "sum"), firsts=("first", "sum"))
        .merge(adj, on=["assessment_year", "region_code"], how="left")
    )
    out[["bonus", "deduction"]] = out[["bonus", "deduction"]].fillna(0.0)
    out["veto"] = out["veto"].fillna(False).astype(bool)
    out["total"] = out["points"] + out["bonus"] - out["deduction"]
    out = out.sort_values(
        ["assessment_year", "level", "class_code", "total", "firsts", "region_code"],
        ascending=[True, True, True, False, False, True],
    )
    out["rank_in_class"] = out.groupby(CLASS).cumcount() + 1
    quotas = by_year(read_seed("config/tier_quotas.csv"), years())
    out = out.merge(quotas, on=CLASS)
    out = out.sort_values(["assessment_year", "level", "class_code", "veto", "rank_in_class"])
    position = out.groupby(CLASS).cumcount() + 1
    out["tier"] = np.select(
        [position <= out["first_tier_count"], position <= out["first_tier_count"] + out["second_tier_count"]],
        [1, 2],
        3,
    )
    return out


def advanced_counties(region_totals: pd.DataFrame) -> pd.DataFrame:
    """高质量发展先进县: per class the quota of counties with the best rank in class, no veto."""
    quotas = by_year(read_seed("config/advanced_county_quotas.csv"), years())
    eligible = region_totals[(region_totals["level"] == "county") & ~region_totals["veto"]].sort_values(
        ["assessment_year", "class_code", "rank_in_class"]
    )
    eligible = eligible.merge(
        quotas[["assessment_year", "class_code", "advanced_quota"]], on=["assessment_year", "class_code"]
    )
    position = eligible.groupby(["assessment_year", "class_code"]).cumcount() + 1
    return eligible[position <= eligible["advanced_quota"]]
