"""Staging and the rejected model on the generated sample: values as the bureaus sent them, nothing lost."""

from __future__ import annotations

import pandas as pd


def test_raw_rows_reconcile_with_accepted_plus_rejected(built_warehouse):
    counts = built_warehouse.query(
        "select (select count(*) from raw.submissions) as raw_rows, "
        "(select count(*) from marts.fct_indicator_values) as accepted, "
        "(select count(*) from marts.fct_rejected_submissions) as rejected"
    ).iloc[0]
    assert counts["raw_rows"] == 121_449
    assert counts["raw_rows"] == counts["accepted"] + counts["rejected"]


def test_defects_are_rejected_with_reason_file_and_row(built_warehouse):
    rejected = built_warehouse.query(
        "select rejection_reason, file_name, row_number, region_code_raw, indicator_code_raw, value_raw "
        "from marts.fct_rejected_submissions order by file_name"
    )
    assert rejected[["rejection_reason", "file_name", "region_code_raw", "indicator_code_raw", "value_raw"]].to_dict(
        "records"
    )[1:] == [
        {
            "rejection_reason": "unknown_indicator",
            "file_name": "2023/2023/320800_淮安市_2023.csv",
            "region_code_raw": "320800",
            "indicator_code_raw": "E99",
            "value_raw": rejected["value_raw"][1],
        },
        {
            "rejection_reason": "unparseable_value",
            "file_name": "2023/2023/320900_盐城市_2023.csv",
            "region_code_raw": "320981",
            "indicator_code_raw": "L01",
            "value_raw": "12..5",
        },
        {
            "rejection_reason": "value_out_of_range",
            "file_name": "2024/2024/321100_镇江市_2024.csv",
            "region_code_raw": "321181",
            "indicator_code_raw": "E07",
            "value_raw": "135",
        },
    ]
    first = rejected.iloc[0]
    assert (first["rejection_reason"], first["file_name"], first["region_code_raw"]) == (
        "region_not_valid_in_year",
        "2022/2022/320600_南通市_2022.csv",
        "320611",
    )
    # the row number points at the line in the file
    for row in rejected.itertuples():
        lines = (built_warehouse.landing_dir / row.file_name).read_text(encoding="utf-8").splitlines()
        assert lines[row.row_number - 1].split(",")[0] == row.region_code_raw


def test_real_figures_survive_encoding_and_unit_conversion(built_warehouse):
    values = built_warehouse.query(
        "select region_code, indicator_code, cast(indicator_value as double) as v from marts.fct_indicator_values "
        "where is_current and period_code = '2023'"
    ).set_index(["region_code", "indicator_code"])["v"]
    assert values[("320583", "E06")] == 11433  # 昆山 规上工业总产值, seed 000
    assert values[("320583", "E07")] == 59.5  # 昆山 战略性新兴产业占比
    assert values[("320583", "E01")] > 5000
    assert values[("320312", "E06")] == 945  # 铜山区, from a GBK file
    assert values[("320681", "E01")] == 1447.28  # 启东


def test_wanyuan_submissions_are_converted_to_yiyuan(built_warehouse):
    path = built_warehouse.landing_dir / "2023/2023/320100_南京市_2023.csv"
    sent = pd.read_csv(path, dtype=str)
    row = sent[(sent["地区代码"] == "320115") & (sent["指标代码"] == "E01")].iloc[0]
    assert row["单位"] == "万元"
    stored = built_warehouse.query(
        "select cast(indicator_value as double) as v, submitted_unit from marts.fct_indicator_values "
        "where region_code = '320115' and indicator_code = 'E01' and period_code = '2023'"
    ).iloc[0]
    assert stored["submitted_unit"] == "万元"
    assert abs(stored["v"] - float(row["数值"]) / 10000) < 1e-9


def test_correction_file_supersedes_and_both_stay_queryable(built_warehouse):
    corrected = pd.read_csv(built_warehouse.landing_dir / "2023/2023/320500_苏州市_2023_更正.csv", dtype=str)
    history = built_warehouse.query(
        "select region_code, cast(indicator_value as double) as v, file_name, is_current "
        "from marts.fct_indicator_values "
        "where indicator_code = 'E02' and period_code = '2023' and region_code in ("
        + ", ".join(f"'{c}'" for c in corrected["地区代码"])
        + ")"
    )
    assert len(history) == 2 * len(corrected) == 10
    current = history[history["is_current"]].set_index("region_code")
    assert set(current["file_name"]) == {"2023/2023/320500_苏州市_2023_更正.csv"}
    for row in corrected.itertuples():
        assert current.loc[row.地区代码, "v"] == float(row.数值)
    scored = built_warehouse.query(
        "select s.region_code, cast(s.indicator_value as double) as v from marts.fct_indicator_scores s "
        "where s.indicator_code = 'E02' and s.assessment_year = 2023"
    ).set_index("region_code")["v"]
    for row in corrected.itertuples():
        assert scored[row.地区代码] == float(row.数值)


def test_missing_values_are_flagged_scored_zero_and_ranked_last(built_warehouse):
    missing = built_warehouse.query(
        "select rank_in_class, peer_values_count, cast(score_points as double) as points "
        "from marts.fct_indicator_scores where is_value_missing"
    )
    assert len(missing) > 0
    assert (missing["points"] == 0).all()
    assert (missing["rank_in_class"] == missing["peer_values_count"] + 1).all()
