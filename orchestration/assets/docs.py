"""Documentation after publication: dbt's docs site as one static file beside the release (hqd.docs does the
work). The report pack (orchestration/assets/reports.py) follows it and copies the file, with the run's quality
page, into the period's report folder.

dbt runs a second time here (`dbt docs generate --static`, with the same profile and the run's own dbt folder),
only when what the site shows changed: the key is the hash of the dbt sources and the warehouse's schema. It
connects to the warehouse after the publication has closed its connection; this step opens it only to read the
schema for the key, and closes it before dbt starts (DuckDB allows one process to hold the file).
"""

import time

from dagster import AssetExecutionContext, BackfillPolicy, Failure, MaterializeResult, MetadataValue, asset
from dagster_dbt import DbtCliResource

from hqd import dbt as hqd_dbt
from hqd import warehouse
from hqd.docs import dbt_docs
from orchestration.assets.publication import published_marts
from orchestration.partitions import PERIODS
from orchestration.resources import HqdSettings, RunLock


@asset(
    key=["published", "docs"],
    deps=[published_marts.key],
    group_name="publication",
    description=(
        "dbt's docs as one offline file, <publish_dir>/docs/dbt-docs.html, regenerated when the dbt sources or the "
        "warehouse schema changed."
    ),
    kinds={"dbt", "html"},
    partitions_def=PERIODS,
    backfill_policy=BackfillPolicy.single_run(),
)
def published_docs(context: AssetExecutionContext, dbt: DbtCliResource, hqd: HqdSettings, run_lock: RunLock):
    settings = hqd.get()
    con = warehouse.connect(settings)
    try:
        key = dbt_docs.docs_key(settings, con)
    finally:
        con.close()

    started = time.perf_counter()
    regenerated = not dbt_docs.is_current(settings.publish_dir, key)
    if regenerated:
        target = dbt_docs.docs_target_path(hqd_dbt.run_target_path(settings, context.run.run_id))
        with hqd_dbt.dbt_environment(settings):
            invocation = dbt.cli(
                dbt_docs.docs_args(settings, compiled=dbt_docs.has_build_manifest(target)),
                target_path=target,
                manifest=settings.manifest_path,
                raise_on_error=False,
            ).wait()
        if not invocation.is_successful():
            raise Failure(
                f"dbt docs generate failed (the publication itself is done): see {target / 'dbt.log'}; "
                "the previous dbt-docs.html is kept"
            )
        try:
            dbt_docs.install_static_docs(target / dbt_docs.STATIC_INDEX, settings.publish_dir, key)
        except ValueError as exc:
            raise Failure(str(exc)) from exc
    seconds = time.perf_counter() - started
    page = dbt_docs.published_docs_path(settings.publish_dir)
    context.log.info(
        f"dbt docs {'generated' if regenerated else 'unchanged (same sources and schema)'} in {seconds:.1f} s: {page}"
    )
    return MaterializeResult(
        metadata={
            "dbt_docs": MetadataValue.path(str(page)),
            "regenerated": regenerated,
            "dbt_docs_seconds": round(seconds, 2),
            "docs_key": key,
        }
    )
