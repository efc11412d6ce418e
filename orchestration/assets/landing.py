"""The ingest step as an asset: landing files → raw.submissions (hqd.landing.ingest does the work)."""

from dagster import (
    AssetExecutionContext,
    AssetSpec,
    BackfillPolicy,
    Failure,
    MaterializeResult,
    MetadataValue,
    multi_asset,
)

from hqd import warehouse
from hqd.landing import ingest
from orchestration.partitions import PERIODS, period_code
from orchestration.resources import HqdSettings, RunLock

RAW_SPECS = [
    AssetSpec(
        ["raw", "submissions"],
        group_name="landing",
        description="Every row of every landing file, verbatim beside its decoded form, with file lineage.",
        kinds={"python", "duckdb"},
    ),
    AssetSpec(
        ["raw", "landing_files"],
        group_name="landing",
        description="One row per loaded file (its hash).",
        kinds={"python", "duckdb"},
    ),
    AssetSpec(
        ["raw", "load_errors"],
        group_name="landing",
        description="Files that could not be read, and why.",
        kinds={"python", "duckdb"},
    ),
]


@multi_asset(
    specs=RAW_SPECS,
    name="raw_submissions",
    partitions_def=PERIODS,
    backfill_policy=BackfillPolicy.single_run(),
)
def raw_submissions(context: AssetExecutionContext, hqd: HqdSettings, run_lock: RunLock):
    """Loads every file of the landing folder not loaded before (by content hash), whatever period it is
    for: a correction may concern any earlier period, and the dbt models recompute from the first year the new
    rows touch. The partition says which period the run is for."""
    settings = hqd.get()
    files = ingest.landing_files(settings.landing_dir) if settings.landing_dir.is_dir() else []
    if not files:
        raise Failure(
            f"no submissions in {settings.landing_dir}: put the bureaus' CSV or XLSX files there "
            "(or `hqd sample` for the generated sample), then run again"
        )
    report = ingest.land(settings)
    con = warehouse.connect(settings)
    try:
        total_rows = con.execute("select count(*) from raw.submissions").fetchone()[0]
    finally:
        con.close()
    context.log.info(
        f"ingest: {report.files_loaded} new files, {report.rows_loaded} rows; {report.files_skipped} already loaded"
    )
    for _file, reason in report.failures:
        # submitted data never fails the run: the file is reported, everything else loads
        context.log.warning(f"unreadable landing file: {reason}")
    for name, reason in report.waiting:
        context.log.warning(f"not loaded yet, {name}: {reason}; a later run loads it once it is complete")
    for _file, note in report.notes:
        context.log.info(note)
    keys = context.partition_keys if context.has_partition_key_range else [context.partition_key]
    yield MaterializeResult(
        asset_key=["raw", "submissions"],
        metadata={
            "files_seen": report.files_seen,
            "files_loaded": report.files_loaded,
            "files_skipped": report.files_skipped,
            "rows_loaded": report.rows_loaded,
            "raw_rows_total": total_rows,
            "unreadable_files": MetadataValue.json([{"file": n, "reason": r} for n, r in report.failures]),
            "waiting_files": MetadataValue.json([{"file": n, "reason": r} for n, r in report.waiting]),
            "notes": MetadataValue.json([{"file": n, "note": r} for n, r in report.notes]),
            "periods": ", ".join(period_code(k) for k in (keys[0], keys[-1]))
            if len(keys) > 1
            else period_code(keys[0]),
        },
    )
    yield MaterializeResult(asset_key=["raw", "landing_files"], metadata={"files_loaded": report.files_loaded})
    yield MaterializeResult(asset_key=["raw", "load_errors"], metadata={"unreadable_files": len(report.failures)})
