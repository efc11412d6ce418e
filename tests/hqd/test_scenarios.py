"""hqd.scenarios: what a scenario run is, checked before anything runs (no warehouse, no dbt)."""

from __future__ import annotations

import shutil

import pytest

from hqd import scenarios
from hqd.settings import PROJECT_DIR, Settings

SEEDS = PROJECT_DIR / "seeds"


def test_parse_years():
    assert scenarios.parse_years("2021-2024") == [2021, 2022, 2023, 2024]
    assert scenarios.parse_years("2024") == [2024]
    assert scenarios.parse_years("2023, 2021,2023") == [2021, 2023]
    for bad in ("2024-2021", "24", "2021..2024", ""):
        with pytest.raises(scenarios.ScenarioError):
            scenarios.parse_years(bad)


def test_shipped_scenarios():
    configured = scenarios.load_scenarios(SEEDS)
    assert list(configured) == ["official", "draft-2025"]
    assert configured["official"].rules_year is None
    assert configured["draft-2025"].rules_year == 2025
    assert "illustrative" in configured["draft-2025"].basis


def test_resolve_checks_code_and_years():
    scenario, years = scenarios.resolve(SEEDS, "draft-2025", [2024])
    assert (scenario.code, years) == ("draft-2025", [2024])
    assert scenarios.resolve(SEEDS, "official", None)[1] == list(range(2018, 2025))
    with pytest.raises(scenarios.ScenarioError, match="not configured.*official, draft-2025.*hqd scenario list"):
        scenarios.resolve(SEEDS, "draft-2026", [2024])
    with pytest.raises(scenarios.ScenarioError, match="2010, 2011 are not assessment years"):
        scenarios.resolve(SEEDS, "official", [2010, 2011, 2024])


def test_override_naming_an_unknown_scenario_or_method_is_an_error(tmp_path):
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS, seeds)
    with (seeds / "scenarios" / "scenario_indicator_rules.csv").open("a", encoding="utf-8") as out:
        out.write("nobody,2024,2024,city,I,E01,3,efficacy,,,,false,x\n")
        out.write("draft-2025,2024,2024,city,I,E02,3,best_effort,,,,false,x\n")
    with pytest.raises(scenarios.ScenarioError) as error:
        scenarios.resolve(seeds, "draft-2025", [2024])
    assert "'nobody' is not in scenarios.csv" in str(error.value)
    assert "scoring_method 'best_effort'" in str(error.value)


def test_build_args_select_the_scenario_path_with_the_vars():
    args = scenarios.build_args(Settings(), "draft-2025", [2023, 2024])
    assert args[:3] == ["build", "--target", "duckdb"]
    assert args[args.index("--select") + 1] == "tag:scenario_path tag:scenario"
    assert args[args.index("--vars") + 1] == "{scenario: 'draft-2025', scenario_years: [2023, 2024]}"
    assert scenarios.schema_name("draft-2025") == "scenario_draft_2025_marts"
