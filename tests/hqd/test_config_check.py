"""The configuration check names the seed, the row, the key and the problem for each kind of mistake."""

import shutil
from pathlib import Path

import pytest

from hqd.config_check import ConfigError, check_config, validate_config

SEEDS = Path(__file__).resolve().parents[2] / "seeds"


@pytest.fixture
def seeds(tmp_path: Path) -> Path:
    target = tmp_path / "seeds"
    shutil.copytree(SEEDS, target)
    return target


def _edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def test_reference_configuration_is_consistent():
    assert check_config(SEEDS) == []


def test_weights_not_summing_to_100_name_seed_years_and_class(seeds: Path):
    # line 2 is the first rule: 2018-2020, city, class I, E01, weight 3
    _edit(seeds / "config/indicator_rules.csv", "2018,2020,city,I,E01,3,", "2018,2020,city,I,E01,4,")
    problems = check_config(seeds)
    assert [str(p) for p in problems] == [
        "seeds/config/indicator_rules.csv row 2-33 [2018-2020, city, class I]: weights sum to 101, not 100"
    ]


def test_unknown_indicator_and_unknown_class(seeds: Path):
    rules = seeds / "config/indicator_rules.csv"
    _edit(rules, "2021,,county,III,L07,", "2021,,county,III,L99,")
    with rules.open("a", encoding="utf-8") as f:
        f.write("2021,,city,IV,E01,0,efficacy,,,\n")
    messages = [str(p) for p in check_config(seeds)]
    assert any("indicator_rules.csv" in m and "unknown indicator 'L99'" in m for m in messages), messages
    assert any("[level=city, class_code=IV]" in m and "unknown class" in m for m in messages), messages


def test_tier_quota_larger_than_class(seeds: Path):
    _edit(seeds / "config/tier_quotas.csv", "2018,,city,II,2,1", "2018,,city,II,4,1")
    messages = [str(p) for p in check_config(seeds)]
    assert messages == [
        "seeds/config/tier_quotas.csv row 3 [2018-2024, city, class II]: "
        "first + second tier quotas (5) exceed the class's 4 regions"
    ]


def test_advanced_quota_larger_than_class(seeds: Path):
    _edit(seeds / "config/advanced_county_quotas.csv", "2018,,II,5,", "2018,,II,40,")
    messages = [str(p) for p in check_config(seeds)]
    # class II has 26 counties in 2018-2020 (崇川, 港闸 and 海门市 before the 2021 changes) and 25 after
    assert messages == [
        "seeds/config/advanced_county_quotas.csv row 3 [2018-2020, class II]: "
        "advanced quota (40) exceeds the class's 26 counties",
        "seeds/config/advanced_county_quotas.csv row 3 [2021-2024, class II]: "
        "advanced quota (40) exceeds the class's 25 counties",
    ]


def test_overlapping_rule_years_and_missing_target(seeds: Path):
    rules = seeds / "config/indicator_rules.csv"
    _edit(rules, "2021,,city,I,E08,5,target,3.5,", "2020,,city,I,E08,5,target,,")
    messages = [str(p) for p in check_config(seeds)]
    assert any("level=city, class_code=I, indicator_code=E08" in m and "overlap in [2020]" in m for m in messages)
    assert any("needs a target_value" in m for m in messages)


def test_adjustment_for_a_region_that_did_not_exist_that_year(seeds: Path):
    with (seeds / "config/adjustments.csv").open("a", encoding="utf-8") as f:
        f.write("2022,320611,bonus,1,港闸区 was merged in 2021,test\n")
    messages = [str(p) for p in check_config(seeds)]
    assert messages == ["seeds/config/adjustments.csv row 7 [2022, 320611]: no such region in that assessment year"]


def test_validate_raises_with_every_problem(seeds: Path):
    _edit(
        seeds / "reference/indicators.csv",
        ",higher,flow,统计局,0,,county_facts",
        ",upwards,flow,统计局,0,,county_facts",
    )
    with pytest.raises(ConfigError) as excinfo:
        validate_config(seeds)
    assert "unknown direction 'upwards'" in str(excinfo.value)
    assert "seeds/reference/indicators.csv row 2" in str(excinfo.value)


def test_missing_seed_file_is_named(seeds: Path):
    (seeds / "config/tier_quotas.csv").unlink()
    assert [str(p) for p in check_config(seeds)] == ["seeds/config/tier_quotas.csv [file]: the seed file is missing"]


def test_warning_thresholds_out_of_order_and_years_without_thresholds(seeds: Path):
    (seeds / "config/warning_thresholds.csv").write_text(
        "year_from,year_to,red_shortfall_pct,yellow_shortfall_pct,blue_shortfall_pct\n2020,,10,20,0\n",
        encoding="utf-8",
    )
    assert [str(p) for p in check_config(seeds)] == [
        "seeds/config/warning_thresholds.csv row 2 [thresholds]: "
        "need red ≥ yellow ≥ blue ≥ 0 (shortfalls in % of the pro-rata target)",
        "seeds/config/warning_thresholds.csv [2018-2019]: no warning thresholds for these years",
    ]


def test_rejection_reason_duplicated_and_without_description(seeds: Path):
    reasons = seeds / "config/rejection_reasons.csv"
    _edit(reasons, "missing_region,3,未填写地区代码或地区名称,", "unknown_region,3,,")
    assert [str(p) for p in check_config(seeds)] == [
        "seeds/config/rejection_reasons.csv row 4-5 [reason_code=unknown_region]: the key appears more than once",
        "seeds/config/rejection_reasons.csv row 4 [reason_code=unknown_region]: description_zh is blank",
    ]


def test_tier_names_unknown_and_missing_tier(seeds: Path):
    _edit(seeds / "config/tier_names.csv", "3,第三等次,Third tier,3,", "4,第三等次,Third tier,3,")
    assert [str(p) for p in check_config(seeds)] == [
        "seeds/config/tier_names.csv row 4 [tier=4]: unknown tier '4'",
        "seeds/config/tier_names.csv [tier=3]: no row for the tier '3' the models give",
    ]


def test_warning_level_misspelt(seeds: Path):
    _edit(seeds / "config/warning_levels.csv", "yellow,黄,", "amber,黄,")
    assert [str(p) for p in check_config(seeds)] == [
        "seeds/config/warning_levels.csv row 3 [warning_level=amber]: unknown warning level 'amber'",
        "seeds/config/warning_levels.csv [warning_level=yellow]: no row for the warning level 'yellow' the models give",
    ]


def test_missing_value_marker_listed_twice(seeds: Path):
    with (seeds / "config/missing_value_markers.csv").open("a", encoding="utf-8") as f:
        f.write("暂无,again,test\n")
    assert [str(p) for p in check_config(seeds)] == [
        "seeds/config/missing_value_markers.csv row 9, 18 [marker=暂无]: the key appears more than once",
    ]


def test_scoring_parameters_overlap_bad_values_and_uncovered_years(seeds: Path):
    params = seeds / "config/scoring_parameters.csv"
    _edit(params, "2018,,60,40,0.05,", "2018,2020,60,50,0.05,")
    with params.open("a", encoding="utf-8") as f:
        f.write("2020,2022,60,40,0,test\n")
    assert [str(p) for p in check_config(seeds)] == [
        "seeds/config/scoring_parameters.csv row 2 [efficacy_base=60, efficacy_span=50]: "
        "need efficacy_base ≥ 0, efficacy_span > 0 and base + span ≤ 100",
        "seeds/config/scoring_parameters.csv row 3 [rank_step=0]: rank_step must be above 0 and at most 1",
        "seeds/config/scoring_parameters.csv row 2-3 [scope=all]: year ranges overlap in [2020]",
        "seeds/config/scoring_parameters.csv [2023-2024]: no scoring parameters for these years",
    ]


def test_new_seed_file_missing_is_named(seeds: Path):
    (seeds / "config/rejection_reasons.csv").unlink()
    assert [str(p) for p in check_config(seeds)] == [
        "seeds/config/rejection_reasons.csv [file]: the seed file is missing"
    ]


def test_robustness_and_screening_parameters_out_of_range_and_unknown_switch(seeds: Path):
    _edit(
        seeds / "config/robustness_parameters.csv",
        "2023,,1000,0.20,0,20250315,5,95,0.95,",
        "2023,,20000,1.5,0,7,60,95,0,",
    )
    _edit(seeds / "config/robustness_method_switches.csv", "2018,,city,E01,rank,", "2018,,city,E99,ranking,")
    _edit(seeds / "config/screening_parameters.csv", "2018,,2,3.5,", "2018,,two,3.5,")
    assert [str(p) for p in check_config(seeds)] == [
        "seeds/config/robustness_parameters.csv row 2 [draw_count=20000]: must be 1 to 10,000",
        "seeds/config/robustness_parameters.csv row 2 [weight_spread=1.5]: must be at least 0 and below 1",
        "seeds/config/robustness_parameters.csv row 2 [lower_percentile=60]: "
        "need 1 ≤ lower_percentile ≤ 50 ≤ upper_percentile ≤ 100",
        "seeds/config/robustness_parameters.csv row 2 [robust_share=0]: must be above 0 and at most 1",
        "seeds/config/robustness_method_switches.csv row 2 [level=city, indicator_code=E99]: "
        "unknown scoring method 'ranking'",
        "seeds/config/robustness_method_switches.csv row 2 [level=city]: unknown indicator 'E99'",
        "seeds/config/screening_parameters.csv row 2 [skewness_threshold='two']: must be a number",
    ]
