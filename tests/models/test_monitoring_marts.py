"""Quarterly warnings and the two-colour analysis on the sample, recomputed independently in pandas from
the submitted values and the seed files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

SEEDS = Path(__file__).resolve().parents[2] / "seeds"


@pytest.fixture(scope="module")
def warnings(built_warehouse) -> pd.DataFrame:
    return built_warehouse.query(
        "select assessment_year, quarter, region_code, level, class_code, indicator_code, direction, accumulation, "
        "cast(ytd_value as double) as ytd, cast(pro_rata_target as double) as pro_rata, "
        "cast(shortfall_pct as double) as shortfall, warning_level, consecutive_warning_quarters, "
        "warning_since_period_code, is_cleared, is_evaluated, is_half_year_evaluation "
        "from marts.fct_monitoring_warnings"
    )


def test_pro_rata_targets_and_levels_follow_the_configuration(built_warehouse, warnings):
    targets = pd.read_csv(SEEDS / "config/monitoring_targets.csv")
    values = built_warehouse.query(
        "select region_code, indicator_code, assessment_year, cast(indicator_value as double) as v "
        "from marts.fct_indicator_values where is_current and period_type = 'year'"
    )
    # last year's actual: own code, or the single code a recoded region continues (海门市 → 海门区)
    continued = {"320614": "320684", "320685": "320621"}
    last = warnings[["region_code", "indicator_code", "assessment_year"]].drop_duplicates()
    last["source_code"] = last["region_code"]
    own = last.merge(
        values.assign(assessment_year=values["assessment_year"] + 1).rename(columns={"region_code": "source_code"}),
        on=["source_code", "indicator_code", "assessment_year"],
        how="left",
    )
    missing = own["v"].isna() & own["region_code"].isin(continued)
    own.loc[missing, "source_code"] = own.loc[missing, "region_code"].map(continued)
    own = own.drop(columns="v").merge(
        values.assign(assessment_year=values["assessment_year"] + 1).rename(columns={"region_code": "source_code"}),
        on=["source_code", "indicator_code", "assessment_year"],
        how="left",
    )
    df = warnings.merge(targets, on=["level", "class_code", "indicator_code"]).merge(
        own[["region_code", "indicator_code", "assessment_year", "v"]],
        on=["region_code", "indicator_code", "assessment_year"],
        how="left",
    )
    annual = np.where(df["target_kind"] == "annual_level", df["target_value"], df["v"] * (1 + df["target_value"] / 100))
    expected = np.where(df["accumulation"] == "flow", annual * df["quarter"] / 4, annual)
    both = ~np.isnan(expected)
    assert (np.isnan(df["pro_rata"]) == ~both).all()
    assert np.allclose(df["pro_rata"][both], expected[both], rtol=1e-9)
    # 崇川区 320613, formed by the 2021 merger, has no previous year: no growth target in 2021
    merged_2021 = df[(df["region_code"] == "320613") & (df["assessment_year"] == 2021)]
    assert merged_2021.loc[merged_2021["target_kind"] == "growth_over_previous_year", "pro_rata"].isna().all()

    gap = np.where(df["direction"] == "higher", df["pro_rata"] - df["ytd"], df["ytd"] - df["pro_rata"])
    shortfall = np.clip(gap, 0, None) * 100 / np.abs(df["pro_rata"])
    known = df["shortfall"].notna()
    assert np.allclose(df.loc[known, "shortfall"], shortfall[known], atol=1e-8)
    level = np.select(
        [df["shortfall"] > 20, df["shortfall"] > 10, df["shortfall"] > 0], ["red", "yellow", "blue"], "none"
    )
    assert (df["warning_level"] == level).all()
    assert set(df["warning_level"]) == {"red", "yellow", "blue", "none"}


def _lineage() -> dict[str, str]:
    """Each code -> the code its run continues under: a region recoded into a successor that has no other
    predecessor (海门市 320684 -> 海门区 320614) continues there; the parts of a merger do not."""
    regions = pd.read_csv(SEEDS / "reference/regions.csv", dtype=str)
    recoded = regions.dropna(subset=["successor_code"])
    single = recoded.groupby("successor_code").filter(lambda g: len(g) == 1)
    lineage = dict(zip(regions["region_code"], regions["region_code"], strict=True))
    lineage.update(zip(single["region_code"], single["successor_code"], strict=True))
    return lineage


def test_runs_and_clearing_follow_the_quarters_along_the_lineage(warnings):
    lineage = _lineage()
    assert lineage["320684"] == "320614" and lineage["320602"] == "320602"  # a recode; a part of a merger
    warned = warnings.assign(
        seq=warnings["assessment_year"] * 4 + warnings["quarter"], lineage=warnings["region_code"].map(lineage)
    ).sort_values("seq")
    unevaluated_after_a_warning = 0
    for (_, _), g in warned.groupby(["lineage", "indicator_code"]):
        run, since, previous_seq, previous_warned = 0, None, None, False
        for row in g.itertuples():
            # evaluated: a target and a value; otherwise neither warned nor cleared, and the run ends
            evaluated = not (pd.isna(row.ytd) or pd.isna(row.pro_rata))
            is_warning = row.warning_level != "none"
            assert row.is_evaluated == evaluated and (evaluated or not is_warning)
            contiguous = previous_seq == row.seq - 1
            if is_warning:
                run = run + 1 if (contiguous and previous_warned) else 1
                since = since if (contiguous and previous_warned) else f"{row.assessment_year}Q{row.quarter}"
            assert row.consecutive_warning_quarters == (run if is_warning else 0)
            recorded_since = None if pd.isna(row.warning_since_period_code) else row.warning_since_period_code
            assert recorded_since == (since if is_warning else None)
            assert row.is_cleared == (evaluated and not is_warning and previous_warned and contiguous)
            unevaluated_after_a_warning += not evaluated and previous_warned and contiguous
            previous_seq, previous_warned = row.seq, is_warning
    # the sample has quarters without a target or a value right after a warned one (none of them cleared)
    assert unevaluated_after_a_warning > 0


def test_haimen_runs_continue_across_the_2021_recode(built_warehouse, warnings):
    # 海门市 320684 became 海门区 320614 in 2021. C02 (years of schooling, stock, county class II target 11.2)
    # is below target in every quarter 2018Q1-2021Q1: a run of 13 quarters since 2018Q1, not one since 2021Q1.
    c02 = built_warehouse.query(
        "select assessment_year, quarter, cast(indicator_value as double) as v from marts.fct_indicator_values "
        "where is_current and period_type = 'quarter' and indicator_code = 'C02' "
        "and ((region_code = '320684' and assessment_year <= 2020) "
        "or (region_code = '320614' and assessment_year = 2021 and quarter = 1))"
    )
    assert len(c02) == 13 and (c02["v"] < 11.2).all()
    at = warnings.set_index(["region_code", "indicator_code", "assessment_year", "quarter"])
    row = at.loc[("320614", "C02", 2021, 1)]
    assert (row["consecutive_warning_quarters"], row["warning_since_period_code"]) == (13, "2018Q1")
    # C01 (target 5.0): 4.98 in 2020Q4 under 320684 (blue), 5.04 in 2021Q1 under 320614: cleared
    assert at.loc[("320684", "C01", 2020, 4), "warning_level"] == "blue"
    assert at.loc[("320614", "C01", 2021, 1), "ytd"] >= 5.0 and at.loc[("320614", "C01", 2021, 1), "is_cleared"]


def test_half_year_evaluation_is_the_q2_view(warnings):
    assert (warnings["is_half_year_evaluation"] == (warnings["quarter"] == 2)).all()


def test_two_colour_against_class_average_and_last_year(built_warehouse):
    df = built_warehouse.query(
        "select period_code, level, class_code, indicator_code, direction, cast(indicator_value as double) as v, "
        "cast(class_average_value as double) as avg, class_colour, trend_on_last_year, "
        "cast(last_year_value as double) as last from marts.fct_two_colour"
    )
    average = df.groupby(["period_code", "level", "class_code", "indicator_code"])["v"].transform("mean")
    assert np.allclose(df["avg"], average, rtol=1e-9)
    better = np.where(df["direction"] == "higher", df["v"] > df["avg"], df["v"] < df["avg"])
    expected = np.where(np.isclose(df["v"], df["avg"], rtol=0, atol=1e-9), "equal", np.where(better, "green", "red"))
    assert (df["class_colour"] == expected).mean() > 0.999  # a value within 1e-9 of the average may go either way
    improved = np.where(df["direction"] == "higher", df["v"] > df["last"], df["v"] < df["last"])
    trend = np.where(
        df["last"].isna(),
        "no_previous_year",
        np.where(df["v"] == df["last"], "unchanged", np.where(improved, "improved", "declined")),
    )
    assert (df["trend_on_last_year"] == trend).all()
    first_year = df[df["period_code"].str.startswith("2018")]
    assert (first_year["trend_on_last_year"] == "no_previous_year").all()
