"""Great Expectations suites (expectations/*.json) as Dagster asset checks.

One multi-asset check runs every suite whose asset is in the run, reports each as the check `ge_<suite>` of
its asset with the results as metadata, writes the outcomes for the publication step, and builds the Data
Docs. A suite with any blocking expectation is a blocking check: its failure stops everything downstream,
publication included; a failure of warning expectations only is reported with WARN severity.
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

from hqd import quality, warehouse
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
    return quality_dir / "runs" / f"{run_id}.json"


def _run_selected(context: AssetCheckExecutionContext, hqd: HqdSettings, specs: dict, stage: str):
    settings = hqd.get()
    selected = context.selected_asset_check_keys
    names = [n for n, spec in specs.items() if AssetCheckKey(spec.asset_key, spec.name) in selected]
    # one connection for every suite; same configuration as any dbt-duckdb connection in this process
    con = warehouse.connect(settings)
    try:
        outcomes = [quality.run_suite(con, name) for name in names]
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
            }
        )
        yield AssetCheckResult(
            asset_key=spec.asset_key,
            check_name=spec.name,
            passed=outcome.success,
            severity=AssetCheckSeverity.ERROR if outcome.blocking_failed else AssetCheckSeverity.WARN,
            metadata={
                **outcome.metadata(),
                "data_docs": MetadataValue.path(str(settings.data_docs_dir / "index.html")),
            },
        )
    path.write_text(json.dumps(record, ensure_ascii=False, indent=2), encoding="utf-8")
    if stage == "warehouse":
        quality.build_data_docs(outcomes, settings.data_docs_dir)


@multi_asset_check(specs=list(RAW_SPECS.values()), can_subset=True, name="raw_quality_checks")
def raw_quality_checks(context: AssetCheckExecutionContext, hqd: HqdSettings, run_lock: RunLock):
    yield from _run_selected(context, hqd, RAW_SPECS, "raw")


@multi_asset_check(specs=list(WAREHOUSE_SPECS.values()), can_subset=True, name="warehouse_quality_checks")
def warehouse_quality_checks(context: AssetCheckExecutionContext, hqd: HqdSettings, run_lock: RunLock):
    yield from _run_selected(context, hqd, WAREHOUSE_SPECS, "warehouse")
