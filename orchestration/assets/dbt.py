"""Every dbt seed and model as a Dagster asset, dbt tests as asset checks; one `dbt build` per run.

The manifest is read from target/manifest.json, which `make manifest` (dbt parse) writes: definitions never run
dbt parse at import time. On PostgreSQL or Spark (HQD_TARGET, the engine job) the landed raw tables are copied
there first; the build is the same.
"""

from dagster import AssetExecutionContext, BackfillPolicy, Config, Failure
from dagster_dbt import DbtCliResource, dbt_assets

from hqd import dbt as hqd_dbt
from hqd import engines
from hqd.settings import Settings
from orchestration.partitions import PERIODS
from orchestration.resources import HqdSettings, RunLock
from orchestration.translator import HqdDbtTranslator


def manifest_path():
    path = Settings().manifest_path
    if not path.exists():
        raise FileNotFoundError(
            f"{path} is missing: run `make manifest` (dbt parse) before loading the Dagster definitions"
        )
    return path


class DbtBuildConfig(Config):
    """`full_refresh` rebuilds every incremental model from scratch (after a change of rules or a repair)."""

    full_refresh: bool = False


@dbt_assets(
    manifest=manifest_path(),
    dagster_dbt_translator=HqdDbtTranslator(),
    partitions_def=PERIODS,
    backfill_policy=BackfillPolicy.single_run(),
    # scenario seeds and models (方案测算) are built only by scenario_job (orchestration/assets/scenarios.py)
    exclude="tag:on_demand",
)
def hqd_dbt_assets(
    context: AssetExecutionContext, config: DbtBuildConfig, dbt: DbtCliResource, hqd: HqdSettings, run_lock: RunLock
):
    settings = hqd.get()
    if settings.target != "duckdb":
        copied = engines.replicate_raw(settings)
        context.log.info(f"raw copied to {settings.target}: " + ", ".join(f"{t} {n:,}" for t, n in copied.items()))
    target_path = hqd_dbt.run_target_path(settings, context.run.run_id)
    try:
        with hqd_dbt.dbt_environment(settings):
            invocation = dbt.cli(
                hqd_dbt.build_args(settings, full_refresh=config.full_refresh),
                context=context,
                target_path=target_path,
                raise_on_error=False,
            )
            yield from invocation.stream()
        if invocation.is_successful():
            hqd_dbt.keep_partial_parse(settings, target_path)
    finally:
        # this run's folder counts among the kept ones; those of killed runs go too
        hqd_dbt.prune_run_folders(settings, keep_run_id=context.run.run_id)
    result = hqd_dbt.read_run_results(target_path / "run_results.json")
    context.log.info(f"dbt build on {settings.target}: {result.nodes} nodes, {len(result.failures)} failed")
    if not invocation.is_successful():
        failed = "; ".join(f"{f.unique_id} ({f.status}): {f.message[:300]}" for f in result.failures[:5])
        raise Failure(
            f"dbt build failed on {settings.target}: {failed or 'see the log'}. "
            f"dbt's log: {target_path}; a model or test failing on submitted data is a product defect — report it",
            metadata={"failed_nodes": len(result.failures), "nodes": result.nodes},
        )
