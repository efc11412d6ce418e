"""Dagster entry point: `dagster dev -m orchestration.definitions`. Thin by design: everything lives in its
own module (assets/, checks.py, jobs.py, schedules.py, sensors.py, resources.py)."""

from __future__ import annotations

from dagster import Definitions

from orchestration.assets.dbt import hqd_dbt_assets
from orchestration.assets.landing import raw_submissions
from orchestration.assets.publication import published_marts
from orchestration.checks import raw_quality_checks, warehouse_quality_checks
from orchestration.jobs import annual_assessment_job, quarterly_monitoring_job
from orchestration.resources import WarehouseResource, dbt_cli_resource
from orchestration.schedules import annual_assessment_schedule, quarterly_monitoring_schedule
from orchestration.sensors import landing_files_sensor


def make_definitions(warehouse: WarehouseResource | None = None, loggers: dict | None = None) -> Definitions:
    return Definitions(
        assets=[raw_submissions, hqd_dbt_assets, published_marts],
        asset_checks=[raw_quality_checks, warehouse_quality_checks],
        jobs=[annual_assessment_job, quarterly_monitoring_job],
        schedules=[annual_assessment_schedule, quarterly_monitoring_schedule],
        sensors=[landing_files_sensor],
        resources={"warehouse": warehouse or WarehouseResource(), "dbt": dbt_cli_resource()},
        loggers=loggers,
    )


defs = make_definitions()
