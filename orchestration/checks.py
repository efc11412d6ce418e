"""Great Expectations suites (expectations/*.json) as Dagster asset checks.

One multi-asset check runs every suite whose asset is in the run, reports each as the check `ge_<suite>` of
its asset with the results as metadata, writes the outcomes (with each suite's GE validation result) for the
publication step, and writes the quality page of the run (every suite, offline: hqd.docs.quality_page) to
<quality_dir>/quality.html. A suite with any blocking expectation is a blocking check: its failure stops
everything downstream, publication included; a failure of warning expectations only is reported with WARN
severity. A partitioned suite reads only the loads or years rebuilt since it last passed in full
(hqd/quality_scope.py); a full-refresh run reads everything.

Great Expectations' own Data Docs are not built by the job: they fetch their styles and scripts from public CDNs
and are blank on a closed network; `hqd quality` still writes them for whoever has a network.
"""

import json
from pathlib import Path

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckKey,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetKey,
    MetadataValue,
    multi_asset_check,
)

from hqd import quality, quality_scope, warehouse
from hqd.docs import quality_page
from orchestration.partitions import period_code
from orchestration.resources import HqdSettings, RunLock


def suite_asset_key(suite: dict) -> AssetKey:
    return AssetKey(suite["meta"]["asset"].split("/"))


def suite_is_blocking(suite: dict) -> bool:
    default = suite["meta"].get("severity", "blocking")
    return any(e.get("meta", {}).get("severity", default) == "blocking" for e in suite["expectations"])


SUITES = quality.load_suites()


def _spec(name: str, suite: dict, *, blocking: bool) -> AssetCheckSpec:
    return AssetCheckSpec(
        f"ge_{name}",
        asset=suite_asset_key(suite),
        blocking=blocking,
        description=suite["meta"].get("description", f"Great Expectations suite {name} ({suite['meta']['asset']})"),
    )


# Raw suites run in their own step between ingest and dbt; staging and mart suites together after dbt. Submitted
# data must never stop the landing and staging of the other files, so no suite blocks a Dagster step except the
# marts' (which only the publication follows): the publication step itself refuses to publish when any blocking
# suite of the run failed, raw and staging ones included, and says which and where.
RAW_SPECS = {
    name: _spec(name, suite, blocking=False)
    for name, suite in sorted(SUITES.items())
    if suite["meta"]["asset"].startswith("raw/")
}
WAREHOUSE_SPECS = {
    name: _spec(name, suite, blocking=suite_is_blocking(suite) and suite["meta"]["asset"].startswith("marts/"))
    for name, suite in sorted(SUITES.items())
    if not suite["meta"]["asset"].startswith("raw/")
}
CHECK_SPECS = {**RAW_SPECS, **WAREHOUSE_SPECS}


def outcomes_path(quality_dir: Path, run_id: str) -> Path:
    return quality.run_outcomes_path(quality_dir, run_id)


def quality_page_path(quality_dir: Path) -> Path:
    """The quality page of the latest run that ran checks (replaced atomically by each check step)."""
    return quality_dir / quality_page.PAGE_NAME


def _run_selected(context: AssetCheckExecutionContext, hqd: HqdSettings, specs: dict, stage: str):
    settings = hqd.get()
    selected = context.selected_asset_check_keys
    names = [n for n, spec in specs.items() if AssetCheckKey(spec.asset_key, spec.name) in selected]
    # one connection for every suite; same configuration as any dbt-duckdb connection in this process
    con = warehouse.connect(settings)
    try:
        # what changed since each suite last passed; a full refresh rebuilt everything, so everything is read
        scopes = quality_scope.plan(con, {n: SUITES[n] for n in names}, whole=_is_full_refresh(context))
        outcomes = [quality.run_suite(con, name, scope=scopes[name]) for name in names]
        quality_scope.record_passed(
            con, {o.suite_name: (SUITES[o.suite_name], scopes[o.suite_name]) for o in outcomes if o.success}
        )
    finally:
        con.close()
    path = outcomes_path(settings.quality_dir, context.run.run_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    record = json.loads(path.read_text(encoding="utf-8")) if path.exists() else []
    record = [r for r in record if r["stage"] != stage]
    for outcome in outcomes:
        spec = specs[outcome.suite_name]
        record.append(
            {
                "stage": stage,
                "name": spec.name,
                "asset": "/".join(spec.asset_key.path),
                "passed": not outcome.blocking_failed,
                "blocking": suite_is_blocking(SUITES[outcome.suite_name]),
                "all_expectations_passed": outcome.success,
                "detail": f"{outcome.failed} of {outcome.evaluated} expectations failed",
                "result": quality.suite_record(outcome),
            }
        )
        yield AssetCheckResult(
            asset_key=spec.asset_key,
            check_name=spec.name,
            passed=outcome.success,
            severity=AssetCheckSeverity.ERROR if outcome.blocking_failed else AssetCheckSeverity.WARN,
            metadata={
                **outcome.metadata(),
                "quality_page": MetadataValue.path(str(quality_page_path(settings.quality_dir))),
            },
        )
    path.write_text(json.dumps(record, ensure_ascii=False, default=str), encoding="utf-8")
    quality.prune_run_records(settings.quality_dir, settings.quality_runs_kept, keep_run_id=context.run.run_id)
    # after each step, so that a run stopped later (a dbt failure) still has the page of what was checked
    quality_page.write_quality_page(
        [r["result"] for r in record if "result" in r],
        quality_page_path(settings.quality_dir),
        run_id=context.run.run_id,
        period=_period(context),
    )


def _is_full_refresh(context: AssetCheckExecutionContext) -> bool:
    """The run's dbt build rebuilds every incremental model (the job's `full_refresh` config, `hqd run
    --full-refresh`)."""
    dbt_config = (context.run.run_config.get("ops") or {}).get("hqd_dbt_assets", {}).get("config") or {}
    return bool(dbt_config.get("full_refresh", False))


def _period(context: AssetCheckExecutionContext) -> str:
    """The run's quarter (2024Q4), or '' for a run without a partition."""
    if not context.has_partition_key and not context.has_partition_key_range:
        return ""
    return period_code(context.partition_key_range.end if context.has_partition_key_range else context.partition_key)


@multi_asset_check(specs=list(RAW_SPECS.values()), can_subset=True, name="raw_quality_checks")
def raw_quality_checks(context: AssetCheckExecutionContext, hqd: HqdSettings, run_lock: RunLock):
    yield from _run_selected(context, hqd, RAW_SPECS, "raw")


@multi_asset_check(specs=list(WAREHOUSE_SPECS.values()), can_subset=True, name="warehouse_quality_checks")
def warehouse_quality_checks(context: AssetCheckExecutionContext, hqd: HqdSettings, run_lock: RunLock):
    yield from _run_selected(context, hqd, WAREHOUSE_SPECS, "warehouse")
