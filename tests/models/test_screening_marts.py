"""The analysts' screening marts against independent computations: skewness and kurtosis by scipy (bias-corrected,
COINr's e1071 type 2), COINr's outlier rule, Pearson correlations by pandas on pairwise complete values oriented by
the indicators' direction (read from the seed), the flags, and the availability counts from the indicator values."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from tests.support import assessment_model as model


@pytest.fixture(scope="module")
def values(built_warehouse) -> pd.DataFrame:
    """Every assessed (year, region, indicator) with its value (NaN when missing), from the independent grid."""
    annual = built_warehouse.query(
        "select region_code, indicator_code, assessment_year, cast(indicator_value as double) as x "
        "from marts.fct_indicator_values where is_current and period_type = 'year'"
    )
    grid = model.assessment_grid(annual)
    dimensions = model.read_seed("reference/indicators.csv")[["indicator_code", "dimension_code"]]
    return grid.merge(dimensions, on="indicator_code")


def test_skewness_kurtosis_and_outlier_flags_match_scipy(built_warehouse, values):
    mart = built_warehouse.query(
        "select assessment_year, level, indicator_code, regions_assessed, values_reported, values_missing, "
        "cast(availability_share as double) as availability_share, cast(mean_value as double) as mean_value, "
        "cast(standard_deviation as double) as standard_deviation, cast(skewness as double) as skewness, "
        "cast(kurtosis as double) as kurtosis, is_outlier_flagged from marts.fct_indicator_screening"
    ).set_index(["assessment_year", "level", "indicator_code"])
    expected = []
    for (year, level, indicator), group in values.groupby(["assessment_year", "level", "indicator_code"]):
        x = group["x"].dropna().to_numpy()
        skew = stats.skew(x, bias=False) if len(x) >= 3 else np.nan
        kurt = stats.kurtosis(x, bias=False, fisher=True) if len(x) >= 4 else np.nan
        expected.append(
            {
                "assessment_year": year,
                "level": level,
                "indicator_code": indicator,
                "assessed": len(group),
                "reported": len(x),
                "mean": x.mean(),
                "sd": x.std(ddof=1),
                "skew": skew,
                "kurt": kurt,
                "flag": bool(abs(skew) >= 2 and kurt >= 3.5),
            }
        )
    expected = pd.DataFrame(expected).set_index(["assessment_year", "level", "indicator_code"])
    assert len(expected) == len(mart) == 7 * 2 * 32
    both = expected.join(mart, how="inner")
    assert len(both) == len(expected)
    assert (both["regions_assessed"] == both["assessed"]).all()
    assert (both["values_reported"] == both["reported"]).all()
    assert (both["values_missing"] == both["regions_assessed"] - both["values_reported"]).all()
    assert np.allclose(both["availability_share"], both["values_reported"] / both["regions_assessed"], rtol=1e-12)
    assert np.allclose(both["mean_value"], both["mean"], rtol=1e-9)
    assert np.allclose(both["standard_deviation"], both["sd"], rtol=1e-7)
    assert np.allclose(both["skewness"], both["skew"], rtol=1e-7, atol=1e-9)
    assert np.allclose(both["kurtosis"], both["kurt"], rtol=1e-7, atol=1e-9)
    assert (both["is_outlier_flagged"] == both["flag"]).all()
    # the sample's county GDP (E01) is right-skewed by 昆山 and its peers: flagged, as COINr would
    assert both.loc[(2024, "county", "E01"), "is_outlier_flagged"]
    assert 0 < both["is_outlier_flagged"].sum() < len(both) / 4


def test_correlations_and_flags_match_pandas(built_warehouse, values):
    mart = built_warehouse.query(
        "select assessment_year, level, dimension_code, indicator_code, other_indicator_code, regions_with_both, "
        "cast(pearson_r as double) as pearson_r, is_collinear, is_negatively_correlated "
        "from marts.fct_indicator_correlations"
    )
    directions = model.read_seed("reference/indicators.csv").set_index("indicator_code")["direction"]
    oriented = values.assign(v=values["x"] * np.where(values["indicator_code"].map(directions) == "lower", -1, 1))
    expected = []
    for (year, level, dimension), group in oriented.groupby(["assessment_year", "level", "dimension_code"]):
        wide = group.pivot(index="region_code", columns="indicator_code", values="v")
        for a, b in itertools.combinations(sorted(wide.columns), 2):
            pair = wide[[a, b]].dropna()
            r = pair[a].corr(pair[b]) if len(pair) > 1 else np.nan
            expected.append((year, level, dimension, a, b, len(pair), r))
    expected = pd.DataFrame(
        expected,
        columns=["assessment_year", "level", "dimension_code", "indicator_code", "other_indicator_code", "n", "r"],
    )
    merged = expected.merge(
        mart, on=["assessment_year", "level", "dimension_code", "indicator_code", "other_indicator_code"], how="outer"
    )
    assert len(merged) == len(expected) == len(mart)
    assert (merged["n"] == merged["regions_with_both"]).all()
    assert np.allclose(merged["r"], merged["pearson_r"], rtol=0, atol=1e-9, equal_nan=True)
    assert (merged["is_collinear"] == (merged["r"] > 0.9)).all()
    assert (merged["is_negatively_correlated"] == (merged["r"] < -0.4)).all()


def test_region_availability_counts_the_missing_values(built_warehouse, values):
    mart = built_warehouse.query(
        "select assessment_year, region_code, indicators_assessed, values_reported, values_missing, "
        "cast(availability_share as double) as share from marts.fct_region_data_availability"
    )
    expected = (
        values.groupby(["assessment_year", "region_code"])
        .agg(assessed=("indicator_code", "size"), reported=("x", "count"))
        .reset_index()
    )
    merged = expected.merge(mart, on=["assessment_year", "region_code"], validate="one_to_one")
    assert len(merged) == len(expected) == len(mart)
    assert (merged["assessed"] == merged["indicators_assessed"]).all()
    assert (merged["reported"] == merged["values_reported"]).all()
    assert np.allclose(merged["share"], merged["reported"] / merged["assessed"], rtol=1e-12)
    assert (merged["values_missing"] == merged["assessed"] - merged["reported"]).all()
    assert merged["values_missing"].sum() > 0  # the sample has missing values
