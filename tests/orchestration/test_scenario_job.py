"""scenario_job: its own asset in group `scenarios`; the main job and the dbt assets never build a scenario."""

from orchestration.assets.dbt import hqd_dbt_assets
from orchestration.definitions import defs


def test_scenario_job_runs_one_asset_and_the_main_job_none():
    scenario = defs.resolve_job_def("scenario_job")
    assert [node.name for node in scenario.graph.node_defs] == ["scenarios__fct_scenario_changes"]
    graph = defs.resolve_asset_graph()
    keys = {"/".join(key.path): key for key in graph.get_all_asset_keys()}
    assert graph.get(keys["scenarios/fct_scenario_changes"]).group_name == "scenarios"
    for name in ("annual_assessment_job", "quarterly_monitoring_job", "engine_build_job"):
        nodes = [node.name for node in defs.resolve_job_def(name).graph.node_defs]
        assert "scenarios__fct_scenario_changes" not in nodes, name


def test_dbt_assets_leave_out_the_on_demand_nodes():
    names = {key.path[-1] for key in hqd_dbt_assets.keys}
    assert "fct_region_assessment" in names
    assert not names & {"fct_scenario_changes", "scenarios", "scenario_indicator_rules"}
