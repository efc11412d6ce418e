"""Every dbt seed and model as a Dagster asset, dbt tests as asset checks; one `dbt build` per run.

The manifest is read from target/manifest.json, which `make manifest` (dbt parse) writes: definitions never run
dbt parse at import time. On PostgreSQL or Spark (HQD_TARGET, the engine job) the landed raw tables are copied
there first; the build is the same.
"""

from dagster import AssetExecutionContext, BackfillPolicy, Config, Failure
from dagster_dbt import DbtCliResource, dbt_assets

from hqd import composite, engines
from hqd import dbt as hqd_dbt
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
    # on-demand models and seeds (the composite-index engine, composite_dbt_assets; the scenarios, scenario_job
    # in orchestration/assets/scenarios.py) never build here
    exclude="tag:on_demand",
    dagster_dbt_translator=HqdDbtTranslator(),
    partitions_def=PERIODS,
    backfill_policy=BackfillPolicy.single_run(),
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
            threads = hqd_dbt.build_threads(settings, full_refresh=config.full_refresh)
            if threads is not None:
                context.log.info(f"dbt threads: {threads} (HQD_DBT_THREADS, else by the rows this build takes in)")
            invocation = dbt.cli(
                hqd_dbt.build_args(settings, full_refresh=config.full_refresh, threads=threads),
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
        failed = result.failure_summary()
        raise Failure(
            f"dbt build failed on {settings.target}: {failed or 'see the log'}. "
            f"dbt's log: {target_path}; a model or test failing on submitted data is a product defect — report it",
            metadata={"failed_nodes": len(result.failures), "nodes": result.nodes},
        )


class CompositeBuildConfig(Config):
    """`index_code`: the index the run reports on (seeds/composite/composite_indices.csv); the build covers every
    configured index, which share the marts."""

    index_code: str = "hdi"


@dbt_assets(manifest=manifest_path(), select="tag:composite", dagster_dbt_translator=HqdDbtTranslator())
def composite_dbt_assets(
    context: AssetExecutionContext,
    config: CompositeBuildConfig,
    dbt: DbtCliResource,
    hqd: HqdSettings,
    run_lock: RunLock,
):
    """The composite-index engine (seeds/composite, models/*/composite, the UNDP HDR staging): one `dbt build` of
    the tag, DuckDB only, into schema `composite`; never part of the main or engine builds (tag on_demand)."""
    settings = hqd.get()
    if settings.target != "duckdb":
        raise Failure(f"the composite-index engine runs on DuckDB only (HQD_TARGET is {settings.target})")
    known = composite.index_codes(settings.seeds_dir)
    if config.index_code not in known:
        raise Failure(
            f"unknown index {config.index_code!r}: configured are {', '.join(known) or 'none'} "
            f"({settings.seeds_dir / composite.INDICES_SEED})"
        )
    target_path = hqd_dbt.run_target_path(settings, context.run.run_id)
    try:
        with hqd_dbt.dbt_environment(settings):
            invocation = dbt.cli(
                # an on-demand analysis: its unit tests run with it
                hqd_dbt.build_args(settings, unit_tests=True),
                context=context,
                target_path=target_path,
                raise_on_error=False,
            )
            yield from invocation.stream()
    finally:
        hqd_dbt.prune_run_folders(settings, keep_run_id=context.run.run_id)
    result = hqd_dbt.read_run_results(target_path / "run_results.json")
    context.log.info(f"composite dbt build: {result.nodes} nodes, {len(result.failures)} failed")
    if not invocation.is_successful():
        failed = result.failure_summary()
        raise Failure(f"composite dbt build failed: {failed or 'see the log'}. dbt's log: {target_path}")
    ranking = composite.top_ranking(settings.warehouse, config.index_code, limit=3)
    context.log.info(
        f"{config.index_code} {ranking.year}: {ranking.units_ranked} units ranked; first "
        + ", ".join(f"{rank} {code}" for rank, code, *_ in ranking.rows)
    )
