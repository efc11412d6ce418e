"""Scenarios (方案测算): one dbt build of a scenario beside the official result (hqd/scenarios.py says what it
is). An asset of its own in group `scenarios`, run by `scenario_job` (`hqd scenario run`, or the UI's Launchpad
with the scenario and years as config); the main job never selects it, and it never touches the official marts,
the build state or the publication."""

from dagster import AssetExecutionContext, Config, Failure, MaterializeResult, MetadataValue, asset
from dagster_dbt import DbtCliResource

from hqd import dbt as hqd_dbt
from hqd import scenarios
from hqd.warehouse import connect
from orchestration.assets.dbt import manifest_path
from orchestration.resources import HqdSettings, RunLock


class ScenarioConfig(Config):
    """`scenario_code` from seeds/scenarios/scenarios.csv; `years` the assessed years (empty: every one)."""

    scenario_code: str = "official"
    years: list[int] = []


@asset(
    key=["scenarios", "fct_scenario_changes"],
    group_name="scenarios",
    description=(
        "A scenario's scores, ranks, tiers and advanced list (scenario_<code>_marts) and its changes against the "
        "official result (scenarios.fct_scenario_changes), by one dbt build with the scenario's overrides."
    ),
    kinds={"dbt", "duckdb"},
)
def scenario_changes(
    context: AssetExecutionContext, config: ScenarioConfig, dbt: DbtCliResource, hqd: HqdSettings, run_lock: RunLock
) -> MaterializeResult:
    settings = hqd.get()
    try:
        scenario, years = scenarios.resolve(settings.seeds_dir, config.scenario_code, config.years)
    except scenarios.ScenarioError as exc:
        raise Failure(f"configuration error: {exc}") from None
    context.log.info(f"scenario {scenario.code} ({scenario.description_zh}) for {', '.join(map(str, years))}")
    target_path = hqd_dbt.run_target_path(settings, context.run.run_id)
    try:
        with hqd_dbt.dbt_environment(settings):
            invocation = dbt.cli(
                scenarios.build_args(settings, scenario.code, years),
                manifest=manifest_path(),
                target_path=target_path,
                raise_on_error=False,
            )
            invocation.wait()
    finally:
        hqd_dbt.prune_run_folders(settings, keep_run_id=context.run.run_id)
    result = hqd_dbt.read_run_results(target_path / "run_results.json")
    context.log.info(f"dbt build of scenario {scenario.code}: {result.nodes} nodes, {len(result.failures)} failed")
    if not invocation.is_successful():
        failed = result.failure_summary()
        raise Failure(
            f"dbt build of scenario {scenario.code} failed: {failed or result.error or 'see the log'}. dbt's log: "
            f"{target_path}",
            metadata={"failed_nodes": len(result.failures), "nodes": result.nodes},
        )
    con = connect(settings, read_only=True)
    try:
        changes = scenarios.read_changes(con, scenario.code)
    finally:
        con.close()
    return MaterializeResult(
        metadata={
            "scenario_code": scenario.code,
            "years": ", ".join(map(str, years)),
            "schema": scenarios.schema_name(scenario.code),
            "regions": len(changes),
            "totals_changed": int(changes["has_total_changed"].sum()),
            "ranks_changed": int(changes["has_rank_changed"].sum()),
            "tiers_changed": int(changes["has_tier_changed"].sum()),
            "advanced_changed": int(changes["has_advanced_changed"].sum()),
            "dbt_nodes": result.nodes,
            "movers": MetadataValue.md(_movers_markdown(scenarios.movers(changes))),
        }
    )


def _movers_markdown(moved) -> str:
    if moved.empty:
        return "nobody moves"
    lines = ["| year | region | rank | tier | advanced |", "|---|---|---|---|---|"]
    for row in moved.head(50).itertuples(index=False):
        lines.append(
            f"| {row.assessment_year} | {row.region_name or row.region_code} | "
            f"{row.official_rank_in_class} → {row.scenario_rank_in_class} | {row.official_tier} → {row.scenario_tier} "
            f"| {row.is_official_advanced} → {row.is_scenario_advanced} |"
        )
    return "\n".join(lines)
