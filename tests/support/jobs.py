"""Tests run the warehouse the way users do: the Dagster job, in process, through orchestration.runner."""

from __future__ import annotations

from pathlib import Path

from hqd import dbt as hqd_dbt
from hqd.dbt import DbtBuildResult
from orchestration import runner
from orchestration.partitions import PERIODS
from orchestration.resources import HqdSettings


def overrides(root: Path, *, warehouse: Path, landing: Path, target: str | None = None) -> HqdSettings:
    """The job's settings with every file it writes under `root` (the warehouse and landing as given)."""
    return HqdSettings(
        warehouse=str(warehouse),
        landing_dir=str(landing),
        publish_dir=str(root / "published"),
        quality_dir=str(root / "quality"),
        data_docs_dir=str(root / "data_docs"),
        reports_dir=str(root / "reports"),
        target=target,
    )


def run_job(
    settings: HqdSettings,
    *,
    job_name: str = runner.MAIN_JOB,
    full_refresh: bool = False,
    partition_key: str | None = None,
) -> runner.JobRun:
    run_config = {"ops": {"hqd_dbt_assets": {"config": {"full_refresh": True}}}} if full_refresh else None
    return runner.execute(
        settings,
        job_name=job_name,
        partition_key=partition_key or PERIODS.get_last_partition_key(),
        run_config=run_config,
    )


def dbt_target(job_run: runner.JobRun, settings: HqdSettings) -> Path:
    """The run's own dbt target folder (run_results.json, compiled SQL)."""
    return hqd_dbt.run_target_path(settings.get(), job_run.run_id)


def dbt_result(job_run: runner.JobRun, settings: HqdSettings) -> DbtBuildResult:
    return hqd_dbt.read_run_results(dbt_target(job_run, settings) / "run_results.json")


def materialization_metadata(job_run: runner.JobRun, asset: str) -> dict:
    for event in job_run.result.all_events:
        if event.event_type_value == "ASSET_MATERIALIZATION":
            materialization = event.event_specific_data.materialization
            if "/".join(materialization.asset_key.path) == asset:
                return {k: v.value for k, v in materialization.metadata.items()}
    return {}


def raw_copied(job_run: runner.JobRun) -> dict[str, int]:
    """The raw row counts the engine job's dbt step says it copied to the engine (from the run's log)."""
    for entry in job_run.instance.all_logs(job_run.run_id):
        if entry.user_message.startswith("raw copied to "):
            counts = entry.user_message.split(": ", 1)[1]
            return {name: int(n.replace(",", "")) for name, n in (part.split(" ") for part in counts.split(", "))}
    return {}
