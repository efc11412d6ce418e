"""Feedback, department lines and progress on the sample, against pandas recomputations."""

from __future__ import annotations

import numpy as np
import pandas as pd


def test_department_lines_sum_the_scores_and_rank_within_class(built_warehouse):
    scores = built_warehouse.query(
        "select assessment_year, region_code, level, class_code, lead_department, cast(weight as double) as w, "
        "cast(score_points as double) as p from marts.fct_indicator_scores"
    )
    expected = (
        scores.groupby(["assessment_year", "region_code", "level", "class_code", "lead_department"])
        .agg(n=("w", "size"), weight=("w", "sum"), score=("p", "sum"))
        .reset_index()
    )
    expected["rank"] = expected.groupby(["assessment_year", "level", "class_code", "lead_department"])["score"].rank(
        method="min", ascending=False
    )
    lines = built_warehouse.query(
        "select assessment_year, region_code, lead_department, indicators_owned, cast(weight_total as double) as wt, "
        "cast(score_total as double) as st, cast(score_rate as double) as rate, rank_in_class "
        "from marts.fct_department_lines"
    )
    df = expected.merge(lines, on=["assessment_year", "region_code", "lead_department"], validate="one_to_one")
    assert len(df) == len(lines) == len(expected)
    assert (df["n"] == df["indicators_owned"]).all()
    assert np.allclose(df["weight"], df["wt"]) and np.allclose(df["score"], df["st"], atol=1e-8)
    assert np.allclose(df["rate"], df["score"] / df["weight"], atol=1e-9)
    assert (df["rank"] == df["rank_in_class"]).all()


def test_yangzhou_development_commission_line_has_the_shape_the_article_quotes(built_warehouse):
    # seed 001: 市发改委 owns 6 provincial indicators worth 19 points (class Ⅱ), 2024
    line = built_warehouse.query(
        "select indicators_owned, cast(weight_total as double) as wt, class_code, departments_in_class "
        "from marts.fct_department_lines "
        "where assessment_year = 2024 and region_code = '321000' and lead_department = '发改委'"
    ).iloc[0]
    assert (line["indicators_owned"], line["wt"], line["class_code"], line["departments_in_class"]) == (6, 19, "II", 4)


def test_feedback_counts_and_flags(built_warehouse):
    fb = built_warehouse.query(
        "select assessment_year, region_code, indicator_code, rank_in_class, peer_group_size, "
        "cast(points_lost as double) as lost, is_strength, is_weakness, region_indicators_ranked_first, "
        "region_indicators_in_class_top_two, is_value_missing from marts.fct_region_feedback"
    )
    totals = built_warehouse.query(
        "select assessment_year, region_code, indicators_ranked_first, indicators_in_class_top_two "
        "from marts.fct_region_assessment"
    )
    counts = (
        fb.groupby(["assessment_year", "region_code"])
        .first()
        .reset_index()
        .merge(totals, on=["assessment_year", "region_code"])
    )
    assert (counts["region_indicators_ranked_first"] == counts["indicators_ranked_first"]).all()
    assert (counts["region_indicators_in_class_top_two"] == counts["indicators_in_class_top_two"]).all()
    assert (fb["is_strength"] == ((fb["rank_in_class"] <= 2) & ~fb["is_value_missing"])).all()
    # the biggest losses: ranked as the methodology ranks equal values (they share the better rank), so every
    # loss equal to the third-biggest counts; the indicator's code never decides
    loss_rank = fb.groupby(["assessment_year", "region_code"])["lost"].rank(method="min", ascending=False)
    biggest = (loss_rank <= 3) & (fb["lost"] > 0)
    weakness = (fb["rank_in_class"] >= fb["peer_group_size"] - 1) | biggest
    assert (fb["is_weakness"] == weakness).all()
    # the sample has such ties: region-years with more than three biggest losses
    assert (biggest.groupby([fb["assessment_year"], fb["region_code"]]).sum() > 3).any()


def test_progress_rank_change_uses_the_previous_year_and_handles_the_2021_changes(built_warehouse):
    df = built_warehouse.query(
        "select assessment_year, region_code, class_code, rank_in_class, previous_rank_in_class, rank_change, "
        "previous_year_basis, is_progress_award, level from marts.fct_region_assessment"
    )
    indexed = df.set_index(["assessment_year", "region_code"])
    same = df[df["previous_year_basis"] == "same_code"]
    prev = indexed.loc[list(zip(same["assessment_year"] - 1, same["region_code"], strict=True)), "rank_in_class"]
    assert (same["previous_rank_in_class"].to_numpy() == prev.to_numpy()).all()
    assert (same["rank_change"] == same["previous_rank_in_class"] - same["rank_in_class"]).all()
    row = lambda y, c: indexed.loc[(y, c)]  # noqa: E731
    assert row(2021, "320613")["previous_year_basis"] == "new_region_after_merger"
    assert pd.isna(row(2021, "320613")["rank_change"])
    assert row(2021, "320614")["previous_year_basis"] == "predecessor_code"
    assert row(2021, "320614")["previous_rank_in_class"] == row(2020, "320684")["rank_in_class"]
    assert (df.loc[df["assessment_year"] == 2018, "previous_year_basis"] == "first_assessment_year").all()
    awards = df[df["is_progress_award"]]
    assert (awards["level"] == "city").all()
    for year, group in df[(df["level"] == "city") & (df["rank_change"] > 0)].groupby("assessment_year"):
        winner = awards[awards["assessment_year"] == year]
        assert len(winner) == 1 and winner["rank_change"].iloc[0] == group["rank_change"].max()


def test_advanced_streaks_count_consecutive_years(built_warehouse):
    adv = built_warehouse.query(
        "select assessment_year, region_code, advanced_streak_years, is_first_time from marts.fct_advanced_counties"
    )
    listed = set(zip(adv["assessment_year"], adv["region_code"], strict=True))
    continued = {"320614": "320684"}
    for row in adv.itertuples():
        run, year, code = 1, row.assessment_year - 1, row.region_code
        while (year, code) in listed or (year, continued.get(code)) in listed:
            code = code if (year, code) in listed else continued[code]
            run, year = run + 1, year - 1
        assert row.advanced_streak_years == run, row
    assert adv.loc[adv["assessment_year"] == 2018, "is_first_time"].isna().all()
