"""Dagster entry point: `dagster dev -m orchestration.definitions`. Thin by design: the work is in the library
(hqd/), each Dagster piece in its own module (assets/, checks.py, jobs.py, schedules.py, sensors.py)."""

from __future__ import annotations

from dagster import Definitions, in_process_executor

from orchestration.assets.dbt import composite_dbt_assets, hqd_dbt_assets
from orchestration.assets.docs import published_docs
from orchestration.assets.landing import raw_submissions
from orchestration.assets.publication import published_marts
from orchestration.assets.reports import report_pack
from orchestration.assets.scenarios import scenario_changes
from orchestration.checks import raw_quality_checks, warehouse_quality_checks
from orchestration.jobs import (
    annual_assessment_job,
    composite_job,
    engine_build_job,
    quarterly_monitoring_job,
    scenario_job,
)
from orchestration.resources import HqdSettings, RunLock, dbt_cli_resource
from orchestration.schedules import annual_assessment_schedule, quarterly_monitoring_schedule
from orchestration.sensors import landing_files_sensor


def make_definitions(hqd: HqdSettings | None = None, loggers: dict | None = None) -> Definitions:
    hqd = hqd or HqdSettings()
    return Definitions(
        assets=[
            raw_submissions,
            hqd_dbt_assets,
            composite_dbt_assets,
            published_marts,
            published_docs,
            report_pack,
            scenario_changes,
        ],
        asset_checks=[raw_quality_checks, warehouse_quality_checks],
        jobs=[annual_assessment_job, quarterly_monitoring_job, engine_build_job, composite_job, scenario_job],
        schedules=[annual_assessment_schedule, quarterly_monitoring_schedule],
        sensors=[landing_files_sensor],
        resources={"hqd": hqd, "run_lock": RunLock(hqd=hqd), "dbt": dbt_cli_resource()},
        # one process per run, as `hqd run` executes it: the run lock spans every step, DuckDB sees one writer
        executor=in_process_executor,
        loggers=loggers,
    )


defs = make_definitions()
