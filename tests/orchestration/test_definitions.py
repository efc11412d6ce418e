"""The Dagster definitions load and hold what the platform team runs: jobs, schedules, sensor, checks."""

from dagster import AssetKey

from orchestration import checks
from orchestration.definitions import defs


def test_jobs_schedules_and_sensor_exist():
    assert {j.name for j in defs.jobs} >= {"annual_assessment_job", "quarterly_monitoring_job"}
    schedules = {s.name: s for s in defs.schedules}
    assert schedules["annual_assessment_schedule"].cron_schedule == "0 9 15 3 *"
    assert schedules["quarterly_monitoring_schedule"].cron_schedule == "0 9 20 1,4,7,10 *"
    assert {s.execution_timezone for s in schedules.values()} == {"Asia/Shanghai"}
    assert [s.name for s in defs.sensors] == ["landing_files_sensor"]


def test_assets_are_keyed_and_grouped_by_dbt_folder():
    graph = defs.resolve_asset_graph()
    groups = {"/".join(key.path): graph.get(key).group_name for key in graph.get_all_asset_keys()}
    assert groups["raw/submissions"] == "landing"
    assert groups["staging/stg_landing__submissions"] == "staging_landing"
    assert groups["intermediate/int_region_totals_computed"] == "intermediate_scoring"
    assert groups["marts/fct_region_assessment"] == "marts_assessment"
    assert groups["marts/fct_monitoring_warnings"] == "marts_monitoring"
    assert groups["config/indicator_rules"] == "seeds_config"
    assert groups["published/marts"] == "publication"
    # dbt docs after the publication, in its group (so the engine job, which never publishes, leaves it out)
    assert groups["published/docs"] == "publication"
    assert set(graph.get(AssetKey(["published", "docs"])).parent_keys) == {AssetKey(["published", "marts"])}
    # dbt reads the ingest asset: the source landing.submissions is the same asset
    assert AssetKey(["raw", "submissions"]) in graph.get(AssetKey(["staging", "stg_landing__submissions"])).parent_keys
    # the composite-index engine's marts form their own group (composite_job), never published
    assert groups["marts/fct_composite_index"] == groups["config/composite_indices"] == "composite"
    marts = {k for k in groups if k.startswith("marts/") and groups[k] != "composite"}
    assert len(marts) == 19  # 15 + tier robustness and the three screening marts
    assert set(graph.get(AssetKey(["published", "marts"])).parent_keys) == {AssetKey(m.split("/")) for m in marts}


def test_every_suite_is_a_check_on_an_existing_asset_and_marts_checks_block_publication():
    graph = defs.resolve_asset_graph()
    keys = graph.get_all_asset_keys()
    for name, spec in checks.CHECK_SPECS.items():
        assert spec.asset_key in keys, name
    mart_specs = [s for s in checks.CHECK_SPECS.values() if s.asset_key.path[0] == "marts"]
    assert len({s.asset_key for s in mart_specs}) == 19  # every mart has at least one suite
    blocking = {s.name for s in mart_specs if s.blocking}
    assert "ge_marts__fct_region_assessment" in blocking
    assert "ge_marts__fct_indicator_values__freshness" not in blocking  # a warning only
    dbt_checks = [k for k in graph.asset_check_keys if not k.name.startswith("ge_")]
    assert len(dbt_checks) > 50  # dbt data tests arrive as asset checks too


def test_jobs_run_each_step_once():
    # one dbt invocation per run: the dbt assets must not be split into several steps
    for job_name in ("annual_assessment_job", "quarterly_monitoring_job"):
        nodes = [n.name for n in defs.resolve_job_def(job_name).graph.nodes]
        assert sorted(nodes) == sorted(
            [
                "raw_submissions",
                "raw_quality_checks",
                "hqd_dbt_assets",
                "warehouse_quality_checks",
                "published__marts",
                "published__docs",
                "reports__pack",
            ]
        ), nodes


def test_every_job_is_partitioned_by_quarter_over_the_configured_years():
    from orchestration.partitions import PERIODS, period_code

    for job_name in ("annual_assessment_job", "quarterly_monitoring_job", "engine_build_job"):
        assert defs.resolve_job_def(job_name).partitions_def == PERIODS
    keys = PERIODS.get_partition_keys()
    # seeds/config/assessment_years.csv: 2018-2024, four quarters each
    assert (period_code(keys[0]), period_code(keys[-1]), len(keys)) == ("2018Q1", "2024Q4", 28)


def test_engine_job_builds_with_dbt_but_neither_runs_great_expectations_on_duckdb_nor_publishes_nor_documents():
    nodes = sorted(n.name for n in defs.resolve_job_def("engine_build_job").graph.nodes)
    assert nodes == ["hqd_dbt_assets", "raw_quality_checks", "raw_submissions"]
