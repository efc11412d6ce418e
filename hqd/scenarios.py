"""Scenarios (方案测算): the year's rules with a named set of overrides, scored beside the official result.

A scenario lives in `seeds/scenarios/` (scenarios.csv and the override tables). A run builds the assessment path
of dbt models once more with `--vars {scenario: CODE, scenario_years: [...]}`: the path goes to the scenario's
own schemas (scenario_<code>_intermediate, scenario_<code>_marts), everything else resolves to the official
relations, and `scenarios.fct_scenario_changes` lists every change against the official result
(macros/scenarios.sql). Nothing official is written: not the marts, not the build state, not the publication.

This module says what a run is (the scenario and years checked, the dbt arguments) and reads what it wrote;
the Dagster asset (orchestration/assets/scenarios.py) runs it, `hqd scenario run` prints and saves it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from hqd.settings import Settings

# the models a scenario run builds: the assessment path (tag scenario_path), the scenario seeds and comparison
# (tag scenario; also on_demand, so the main job leaves them out)
SELECTION = ["tag:scenario_path", "tag:scenario"]
OVERRIDE_SEEDS = ("scenario_indicator_rules", "scenario_tier_quotas", "scenario_advanced_county_quotas")
SCORING_METHODS = {"efficacy", "target", "target_binary", "rank"}


class ScenarioError(ValueError):
    """A scenario or its years that are not configured: a configuration error (exit code 2)."""


@dataclass(frozen=True)
class Scenario:
    code: str
    description_zh: str
    description: str
    rules_year: int | None
    basis: str


def _read(seeds_dir: Path, relative: str) -> pd.DataFrame:
    path = seeds_dir / relative
    if not path.is_file():
        raise ScenarioError(f"{path} is missing: scenarios are configured in {seeds_dir / 'scenarios'}/")
    return pd.read_csv(path, dtype=str, keep_default_na=False).map(str.strip)


def load_scenarios(seeds_dir: Path) -> dict[str, Scenario]:
    """The configured scenarios, in file order."""
    frame = _read(seeds_dir, "scenarios/scenarios.csv")
    scenarios = {}
    for row in frame.itertuples(index=False):
        if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", row.scenario_code):
            raise ScenarioError(
                f"scenarios.csv: scenario_code {row.scenario_code!r} must be lower-case letters, digits, - or _ "
                "(it names the scenario's schemas)"
            )
        rules_year = int(row.rules_year) if row.rules_year else None
        scenarios[row.scenario_code] = Scenario(
            row.scenario_code, row.description_zh, row.description, rules_year, row.basis
        )
    return scenarios


def assessment_years(seeds_dir: Path) -> list[int]:
    return sorted(int(y) for y in _read(seeds_dir, "config/assessment_years.csv")["assessment_year"])


def parse_years(text: str) -> list[int]:
    """`2021-2024`, `2024` or `2021,2023` → the years, sorted."""
    years: set[int] = set()
    for part in (p.strip() for p in text.split(",")):
        match = re.fullmatch(r"(\d{4})(?:\s*[-–]\s*(\d{4}))?", part)
        if not match:
            raise ScenarioError(f"--years {text!r}: expected e.g. 2024, 2021-2024 or 2021,2023")
        first, last = int(match.group(1)), int(match.group(2) or match.group(1))
        if last < first:
            raise ScenarioError(f"--years {text!r}: {first}-{last} runs backwards")
        years.update(range(first, last + 1))
    return sorted(years)


def check_overrides(seeds_dir: Path, known: set[str]) -> None:
    """Every override row names a configured scenario; a method is one the scoring knows."""
    problems = []
    for seed in OVERRIDE_SEEDS:
        frame = _read(seeds_dir, f"scenarios/{seed}.csv")
        for number, row in enumerate(frame.to_dict("records"), start=2):
            if row["scenario_code"] not in known:
                problems.append(f"{seed}.csv row {number}: scenario {row['scenario_code']!r} is not in scenarios.csv")
            method = row.get("scoring_method")
            dropped = row.get("is_dropped", "").lower() == "true"
            if method is not None and not dropped and method not in SCORING_METHODS:
                problems.append(
                    f"{seed}.csv row {number}: scoring_method {method!r} is not one of {sorted(SCORING_METHODS)}"
                )
    if problems:
        raise ScenarioError("the scenario seeds are not valid:\n  " + "\n  ".join(problems))


def resolve(seeds_dir: Path, code: str, years: list[int] | None) -> tuple[Scenario, list[int]]:
    """The scenario and the years to assess (every configured year when none given), or ScenarioError
    saying what to do."""
    scenarios = load_scenarios(seeds_dir)
    if code not in scenarios:
        raise ScenarioError(
            f"scenario {code!r} is not configured; configured: {', '.join(scenarios) or 'none'}. "
            f"Add it to {seeds_dir / 'scenarios' / 'scenarios.csv'} (and its overrides beside it), "
            "or see `hqd scenario list`"
        )
    check_overrides(seeds_dir, set(scenarios))
    configured = assessment_years(seeds_dir)
    years = sorted(set(years)) if years else configured
    outside = [y for y in years if y not in configured]
    if outside:
        raise ScenarioError(
            f"years {', '.join(map(str, outside))} are not assessment years "
            f"({configured[0]}–{configured[-1]} in config/assessment_years.csv): choose years with data and rules"
        )
    return scenarios[code], years


def schema_name(code: str, layer: str = "marts") -> str:
    """The scenario's own schema (macros/scenarios.sql: scenario_schema)."""
    return f"scenario_{code.lower().replace('-', '_')}_{layer}"


def build_args(settings: Settings, code: str, years: list[int]) -> list[str]:
    """One `dbt build` of the scenario: its seeds, the assessment path into its schemas, the comparison, and
    the data tests whose every parent is among them (unit tests run in the official build only: their
    fixtures stand for the official seeds)."""
    return [
        "build",
        "--target",
        settings.target,
        "--select",
        " ".join(SELECTION),
        "--exclude",
        "resource_type:unit_test",
        "--indirect-selection",
        "cautious",
        "--vars",
        f"{{scenario: '{code}', scenario_years: [{', '.join(map(str, years))}]}}",
    ]


CHANGE_COLUMNS = [
    "scenario_code",
    "assessment_year",
    "region_code",
    "region_name",
    "level",
    "class_code",
    "official_total_score",
    "scenario_total_score",
    "total_score_change",
    "official_rank_in_class",
    "scenario_rank_in_class",
    "official_province_rank",
    "scenario_province_rank",
    "official_tier",
    "scenario_tier",
    "is_official_advanced",
    "is_scenario_advanced",
    "has_total_changed",
    "has_rank_changed",
    "has_tier_changed",
    "has_advanced_changed",
]


def read_changes(con: duckdb.DuckDBPyConnection, code: str) -> pd.DataFrame:
    """The scenario's rows of fct_scenario_changes with the region's name, by year, level, class and rank."""
    return con.execute(
        f"""
        select {", ".join("regions.region_name" if c == "region_name" else "changes." + c for c in CHANGE_COLUMNS)}
        from scenarios.fct_scenario_changes as changes
        left join config.regions as regions on changes.region_code = regions.region_code
        where changes.scenario_code = ?
        order by changes.assessment_year, changes.level, changes.class_code, changes.scenario_rank_in_class
        """,
        [code],
    ).df()


def movers(changes: pd.DataFrame) -> pd.DataFrame:
    """Who moves: the rows whose rank, tier or advanced status changed (a total alone moves nobody)."""
    moved = changes["has_rank_changed"] | changes["has_tier_changed"] | changes["has_advanced_changed"]
    return changes[moved.fillna(False).astype(bool)]


def write_changes_csv(changes: pd.DataFrame, path: Path) -> Path:
    """Every row of the run, UTF-8 with a BOM so that Excel reads the Chinese names."""
    path.parent.mkdir(parents=True, exist_ok=True)
    changes.to_csv(path, index=False, encoding="utf-8-sig")
    return path
