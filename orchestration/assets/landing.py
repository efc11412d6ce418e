"""The ingest step as an asset: landing files → raw.submissions."""

from dagster import AssetExecutionContext, AssetSpec, Config, MaterializeResult, MetadataValue, multi_asset

from hqd.landing import ingest
from orchestration.resources import WarehouseResource


class PeriodConfig(Config):
    """Aim a run at one period: only landing files under `<year>/` (or `<year>/<year>Q<n>/`) are loaded."""

    assessment_year: int | None = None
    quarter: int | None = None


def files_for_period(landing_dir, assessment_year: int | None, quarter: int | None):
    files = ingest.landing_files(landing_dir)
    if assessment_year is None:
        return files
    prefix = f"{assessment_year}/" + (f"{assessment_year}Q{quarter}/" if quarter else "")
    return [p for p in files if p.relative_to(landing_dir).as_posix().startswith(prefix)]


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


@multi_asset(specs=RAW_SPECS, name="raw_submissions")
def raw_submissions(context: AssetExecutionContext, config: PeriodConfig, warehouse: WarehouseResource):
    import duckdb

    from tools import sample_data

    landing = warehouse.landing_path
    if warehouse.generate_sample_if_empty and sample_data.landing_is_empty(landing):
        report = sample_data.generate_sample(landing)
        context.log.info(f"landing folder was empty: generated the sample ({report.files_written} files)")
    files = files_for_period(landing, config.assessment_year, config.quarter)
    warehouse.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(warehouse.warehouse_path))
    try:
        report = ingest.ingest_landing(landing, con, files=files)
        total_rows = con.execute("select count(*) from raw.submissions").fetchone()[0]
    finally:
        con.close()
    context.log.info(
        f"ingest: {report.files_loaded} new files, {report.rows_loaded} rows; {report.files_skipped} already loaded"
    )
    for _file, reason in report.failures:
        context.log.error(f"unreadable landing file: {reason}")
    yield MaterializeResult(
        asset_key=["raw", "submissions"],
        metadata={
            "files_seen": report.files_seen,
            "files_loaded": report.files_loaded,
            "files_skipped": report.files_skipped,
            "rows_loaded": report.rows_loaded,
            "raw_rows_total": total_rows,
            "unreadable_files": MetadataValue.json([{"file": n, "reason": r} for n, r in report.failures]),
            "period": f"{config.assessment_year or 'all'}" + (f"Q{config.quarter}" if config.quarter else ""),
        },
    )
    yield MaterializeResult(asset_key=["raw", "landing_files"], metadata={"files_loaded": report.files_loaded})
    yield MaterializeResult(asset_key=["raw", "load_errors"], metadata={"unreadable_files": len(report.failures)})
