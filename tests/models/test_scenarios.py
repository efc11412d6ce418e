"""Scenarios (方案测算) through scenario_job on a copy of the end-to-end warehouse.

The expected numbers are worked out here from the official marts and the seeds (pandas), never read back from
the scenario's own output: a scenario equal to the official rules reproduces the official marts; a scenario with
one changed weight changes exactly what re-scoring that indicator, re-ranking and re-tiering by hand says; the
official marts and build state are untouched, and the official job runs on as before.
"""

from __future__ import annotations

import io
import shutil
import uuid
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from hqd import cli
from hqd.settings import PROJECT_DIR
from orchestration import runner
from orchestration.assets.scenarios import scenario_changes
from orchestration.resources import HqdSettings
from tests.support import jobs

MARTS = {
    "fct_indicator_scores": "indicator_score_key",
    "fct_region_assessment": "region_assessment_key",
    "fct_advanced_counties": "advanced_county_key",
}
# the test-only scenario: one weight changed, county class I's air quality (N01) in 2024, 6 → 16 points
ONE_WEIGHT = {"code": "test-one-weight", "year": 2024, "level": "county", "class_code": "I", "indicator": "N01"}
NEW_WEIGHT = 16


def _table(con: duckdb.DuckDBPyConnection, relation: str, key: str) -> pd.DataFrame:
    return con.execute(f"select * from {relation} order by {key}").df()


def _snapshot(path: Path) -> dict[str, pd.DataFrame]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        frames = {name: _table(con, f"marts.{name}", key) for name, key in MARTS.items()}
        frames["hqd_build_state"] = _table(con, "main.hqd_build_state", "model_id")
        return frames
    finally:
        con.close()


def _run_scenario(warehouse: Path, code: str, years: list[int]) -> runner.JobRun:
    return runner.execute(
        HqdSettings(warehouse=str(warehouse)),
        job_name="scenario_job",
        run_config={"ops": {scenario_changes.op.name: {"config": {"scenario_code": code, "years": years}}}},
    )


def _seeds_with_one_weight_scenario(folder: Path) -> Path:
    """A copy of seeds/ with the test-only scenario added (HQD_SEEDS_DIR must name a folder in the project)."""
    shutil.copytree(PROJECT_DIR / "seeds", folder)
    rules = pd.read_csv(folder / "config" / "indicator_rules.csv", dtype=str, keep_default_na=False)
    rule = rules[
        (rules.level == ONE_WEIGHT["level"])
        & (rules.class_code == ONE_WEIGHT["class_code"])
        & (rules.indicator_code == ONE_WEIGHT["indicator"])
        & (rules.year_to == "")
    ].iloc[0]
    with (folder / "scenarios" / "scenarios.csv").open("a", encoding="utf-8") as out:
        out.write(f"{ONE_WEIGHT['code']},测试,one weight changed (test),,test only\n")
    with (folder / "scenarios" / "scenario_indicator_rules.csv").open("a", encoding="utf-8") as out:
        year = ONE_WEIGHT["year"]
        out.write(
            f"{ONE_WEIGHT['code']},{year},{year},{rule.level},{rule.class_code},{rule.indicator_code},{NEW_WEIGHT},"
            f"{rule.scoring_method},{rule.target_value},{rule.satisfactory_value},{rule.not_allowed_value},"
            "false,test only\n"
        )
    return folder


@pytest.fixture(scope="module")
def scenario_warehouse(built_warehouse, tmp_path_factory):
    """The end-to-end warehouse copied, its official marts and build state recorded, then two scenario runs:
    `official` over every year and the one-weight scenario over 2024."""
    assert built_warehouse.exit_code == 0, built_warehouse.output
    root = tmp_path_factory.mktemp("scenarios")
    warehouse = root / "hqd.duckdb"
    shutil.copyfile(built_warehouse.path, warehouse)
    before = _snapshot(warehouse)
    official_run = _run_scenario(warehouse, "official", [])
    seeds = _seeds_with_one_weight_scenario(PROJECT_DIR / "data" / f"test_scenario_seeds_{uuid.uuid4().hex[:8]}")
    mp = pytest.MonkeyPatch()
    mp.setenv("HQD_SEEDS_DIR", str(seeds))
    try:
        one_weight_run = _run_scenario(warehouse, ONE_WEIGHT["code"], [ONE_WEIGHT["year"]])
    finally:
        mp.undo()
        shutil.rmtree(seeds, ignore_errors=True)
    return {
        "root": root,
        "warehouse": warehouse,
        "before": before,
        "runs": {"official": official_run, ONE_WEIGHT["code"]: one_weight_run},
        "landing": built_warehouse.landing_dir,
    }


def _query(warehouse: Path, sql: str) -> pd.DataFrame:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql).df()
    finally:
        con.close()


def test_official_scenario_reproduces_the_official_marts(scenario_warehouse):
    run = scenario_warehouse["runs"]["official"]
    assert run.success
    warehouse = scenario_warehouse["warehouse"]
    for name in MARTS:
        counts = _query(
            warehouse,
            f"""
            select
                (select count(*) from marts.{name}) as official_rows,
                (select count(*) from scenario_official_marts.{name}) as scenario_rows,
                (select count(*) from (select * from marts.{name}
                    except all select * from scenario_official_marts.{name})) as only_official,
                (select count(*) from (select * from scenario_official_marts.{name}
                    except all select * from marts.{name})) as only_scenario
            """,
        ).iloc[0]
        assert counts.official_rows > 0
        assert counts.official_rows == counts.scenario_rows, name
        assert counts.only_official == 0 and counts.only_scenario == 0, name
    changes = _query(warehouse, "select * from scenarios.fct_scenario_changes where scenario_code = 'official'")
    assert len(changes) == len(scenario_warehouse["before"]["fct_region_assessment"])
    flags = ["has_total_changed", "has_rank_changed", "has_tier_changed", "has_advanced_changed"]
    assert not changes[flags].any().any()


def _in_force(frame: pd.DataFrame, year: int) -> pd.DataFrame:
    year_to = pd.to_numeric(frame.year_to, errors="coerce").fillna(9999)
    return frame[(frame.year_from.astype(int) <= year) & (year_to >= year)]


def _rank_and_tier(assessment: pd.DataFrame, year: int) -> pd.DataFrame:
    """The ranking rules of the README, independently: rank in class by total desc, indicators ranked first desc,
    region code; counties' province rank the same over the level; tiers by the quotas with a vetoed region dealt
    after every other of its class; the advanced list per county class among the non-vetoed by rank."""
    seeds = PROJECT_DIR / "seeds" / "config"
    quotas = _in_force(pd.read_csv(seeds / "tier_quotas.csv", dtype={"year_to": str}), year)
    advanced = _in_force(pd.read_csv(seeds / "advanced_county_quotas.csv", dtype={"year_to": str}), year)
    frame = assessment.copy()
    order = ["total_score", "indicators_ranked_first", "region_code"]
    ascending = [False, False, True]
    frame = frame.sort_values(order, ascending=ascending)
    frame["rank_in_class"] = frame.groupby(["level", "class_code"]).cumcount() + 1
    frame["province_rank"] = (frame.groupby("level").cumcount() + 1).astype("Int64")
    frame.loc[frame.level != "county", "province_rank"] = pd.NA
    frame = frame.sort_values(["is_vetoed", *order], ascending=[True, *ascending])
    position = frame.groupby(["level", "class_code"]).cumcount() + 1
    limits = frame.merge(quotas, on=["level", "class_code"], how="left").set_index(frame.index)
    frame["tier"] = 3
    frame.loc[position <= limits.first_tier_count + limits.second_tier_count, "tier"] = 2
    frame.loc[position <= limits.first_tier_count, "tier"] = 1
    eligible = frame[(frame.level == "county") & ~frame.is_vetoed].sort_values("rank_in_class")
    eligible = eligible.assign(position=eligible.groupby("class_code").cumcount() + 1).merge(
        advanced[["class_code", "advanced_quota"]], on="class_code"
    )
    listed = set(eligible.loc[eligible.position <= eligible.advanced_quota, "region_code"])
    frame["is_advanced"] = frame.region_code.map(lambda code: code in listed).astype("boolean")
    frame.loc[frame.level != "county", "is_advanced"] = pd.NA
    return frame.set_index("region_code")


def test_one_changed_weight_changes_exactly_what_the_hand_calculation_says(scenario_warehouse):
    assert scenario_warehouse["runs"][ONE_WEIGHT["code"]].success
    before = scenario_warehouse["before"]
    year = ONE_WEIGHT["year"]
    scores = before["fct_indicator_scores"]
    scores = scores[scores.assessment_year == year]
    assessment = before["fct_region_assessment"]
    assessment = assessment[assessment.assessment_year == year].copy()
    assessment["total_score"] = assessment.total_score.astype(float)

    # the official ranking rules, applied by hand to the official totals, give the official result back
    official = _rank_and_tier(assessment, year)
    marts = assessment.set_index("region_code")
    official_advanced = set(before["fct_advanced_counties"].query("assessment_year == @year").region_code)
    assert (official.rank_in_class == marts.rank_in_class.loc[official.index]).all()
    assert (official.tier == marts.tier.loc[official.index]).all()
    assert set(official.index[official.is_advanced.fillna(False).astype(bool)]) == official_advanced

    # the changed weight: that indicator's points scale with the weight (efficacy: weight·d/100), nothing else moves
    changed = (
        (scores.level == ONE_WEIGHT["level"])
        & (scores.class_code == ONE_WEIGHT["class_code"])
        & (scores.indicator_code == ONE_WEIGHT["indicator"])
    )
    assert changed.sum() > 0
    old_weight = scores.loc[changed, "weight"].astype(float).unique()
    assert len(old_weight) == 1 and old_weight[0] != NEW_WEIGHT
    delta = (
        (scores.loc[changed, "score_points"].astype(float) * (NEW_WEIGHT / old_weight[0] - 1))
        .groupby(scores.loc[changed, "region_code"])
        .sum()
    )
    hand = assessment.copy()
    hand["total_score"] = hand.total_score + hand.region_code.map(delta).fillna(0.0)
    expected = _rank_and_tier(hand, year)
    official = official.loc[expected.index]

    result = _query(
        scenario_warehouse["warehouse"],
        f"select * from scenarios.fct_scenario_changes where scenario_code = '{ONE_WEIGHT['code']}'",
    ).set_index("region_code")
    assert set(result.index) == set(expected.index)
    assert (result.assessment_year == year).all()
    result = result.loc[expected.index]
    assert ((result.scenario_total_score.astype(float) - expected.total_score).abs() < 1e-6).all()
    assert (result.scenario_rank_in_class == expected.rank_in_class).all()
    counties = expected.level == "county"
    assert (result.scenario_province_rank[counties] == expected.province_rank[counties].astype(int)).all()
    assert result.scenario_province_rank[~counties].isna().all()
    assert (result.scenario_tier == expected.tier).all()
    assert (result.is_scenario_advanced[counties] == expected.is_advanced[counties].astype(bool)).all()

    # every change flagged is one the hand calculation makes, and the other way round
    expected_total_changed = expected.index.map(lambda code: abs(delta.get(code, 0.0)) > 0)
    assert list(result.has_total_changed) == list(expected_total_changed)
    assert list(result.has_rank_changed) == list(
        (expected.rank_in_class != official.rank_in_class)
        | (expected.province_rank.fillna(0) != official.province_rank.fillna(0))
    )
    assert list(result.has_tier_changed) == list(expected.tier != official.tier)
    assert list(result.has_advanced_changed) == list(
        expected.is_advanced.fillna(False).astype(bool) != official.is_advanced.fillna(False).astype(bool)
    )
    # the weight is large enough to move tiers and the advanced list, so the test covers them
    assert result.has_tier_changed.any() and result.has_advanced_changed.any()

    # indicator points: the changed indicator's scaled, every other one as official
    scenario_scores = _query(
        scenario_warehouse["warehouse"],
        "select indicator_score_key, score_points from scenario_test_one_weight_marts.fct_indicator_scores",
    ).set_index("indicator_score_key")
    official_points = scores.set_index("indicator_score_key")
    assert set(scenario_scores.index) == set(official_points.index)
    changed_keys = set(scores.loc[changed, "indicator_score_key"])
    factor = official_points.index.map(lambda key: NEW_WEIGHT / old_weight[0] if key in changed_keys else 1.0)
    expected_points = official_points.score_points.astype(float) * factor
    gap = (scenario_scores.score_points.astype(float).loc[official_points.index] - expected_points).abs()
    assert (gap < 1e-8).all()


def test_scenarios_leave_official_marts_and_build_state_alone(scenario_warehouse):
    warehouse = scenario_warehouse["warehouse"]
    before = scenario_warehouse["before"]
    after = _snapshot(warehouse)
    for name, frame in before.items():
        pd.testing.assert_frame_equal(after[name], frame, obj=name)
    # a scenario run materialises its one asset: no ingest, no official dbt build, no publication
    for run in scenario_warehouse["runs"].values():
        materialized = {
            "/".join(event.event_specific_data.materialization.asset_key.path)
            for event in run.result.all_events
            if event.event_type_value == "ASSET_MATERIALIZATION"
        }
        assert materialized == {"scenarios/fct_scenario_changes"}
    assert not (scenario_warehouse["root"] / "published").exists()


def test_cli_scenario_run_and_configuration_errors(scenario_warehouse, monkeypatch, tmp_path):
    from rich.console import Console

    warehouse = str(scenario_warehouse["warehouse"])
    monkeypatch.setenv("HQD_SCENARIOS_DIR", str(tmp_path / "scenarios"))
    buffer = io.StringIO()
    monkeypatch.setattr(cli, "console", Console(file=buffer, width=200, force_terminal=False))

    assert cli.main(["scenario", "run", "no-such-scenario", "--years", "2024", "--warehouse", warehouse]) == 2
    assert "not configured" in buffer.getvalue() and "draft-2025" in buffer.getvalue()
    assert cli.main(["scenario", "run", "draft-2025", "--years", "2010-2011", "--warehouse", warehouse]) == 2
    assert "not assessment years" in buffer.getvalue()
    assert cli.main(["scenario", "list"]) == 0
    assert "draft-2025" in buffer.getvalue()

    assert cli.main(["scenario", "run", "draft-2025", "--years", "2024", "--warehouse", warehouse]) == 0
    output = buffer.getvalue()
    assert "Who moves under draft-2025" in output
    path = tmp_path / "scenarios" / "draft-2025" / "changes.csv"
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    changes = pd.read_csv(path, encoding="utf-8-sig", dtype={"region_code": str})
    official_2024 = scenario_warehouse["before"]["fct_region_assessment"].query("assessment_year == 2024")
    assert sorted(changes.region_code) == sorted(official_2024.region_code)
    assert (changes.assessment_year == 2024).all()
    # the draft moves a point from E01 to N01 in every class and scores E10 by rank: totals change
    assert changes.has_total_changed.any()
    # the configured scenarios accumulate beside each other; the test-only one, not in seeds/, is gone
    codes = _query(scenario_warehouse["warehouse"], "select distinct scenario_code from scenarios.fct_scenario_changes")
    assert set(codes.scenario_code) == {"official", "draft-2025"}


def test_official_job_runs_on_after_scenarios(scenario_warehouse):
    """The official incremental run after scenario runs: nothing new landed, so it recomputes nothing and the
    marts and watermarks stay as they were; the scenarios' tables stay beside them."""
    root = scenario_warehouse["root"]
    settings = jobs.overrides(root, warehouse=scenario_warehouse["warehouse"], landing=scenario_warehouse["landing"])
    job_run = jobs.run_job(settings)
    assert job_run.success
    result = jobs.dbt_result(job_run, settings)
    assert result.success and not result.failures
    before = scenario_warehouse["before"]
    after = _snapshot(scenario_warehouse["warehouse"])
    for name in MARTS:
        pd.testing.assert_frame_equal(after[name], before[name], obj=name)
    state = after["hqd_build_state"].set_index("model_id")
    state_before = before["hqd_build_state"].set_index("model_id")
    assert (state.load_seq_through.loc[state_before.index] == state_before.load_seq_through).all()
    assert (state.fingerprint == state_before.fingerprint.iloc[0]).all()
    assert not any("scenario" in model_id for model_id in state.index)
    left = _query(scenario_warehouse["warehouse"], "select count(*) as n from scenarios.fct_scenario_changes")
    assert left.n.iloc[0] > 0
