"""Schedules request the partition of the period each run is about."""

from datetime import datetime
from zoneinfo import ZoneInfo

from dagster import build_schedule_context

from orchestration.schedules import (
    annual_assessment_schedule,
    previous_quarter,
    quarterly_monitoring_schedule,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_previous_quarter():
    assert previous_quarter(2024, 1) == (2023, 4)
    assert previous_quarter(2024, 4) == (2024, 1)
    assert previous_quarter(2024, 7) == (2024, 2)
    assert previous_quarter(2024, 10) == (2024, 3)


def test_quarterly_run_on_20_april_is_aimed_at_q1():
    context = build_schedule_context(scheduled_execution_time=datetime(2024, 4, 20, 9, tzinfo=SHANGHAI))
    request = quarterly_monitoring_schedule(context)
    assert request.run_key == "monitoring-2024Q1"
    assert request.partition_key == "2024-01"  # 2024Q1
    assert request.job_name in (None, "quarterly_monitoring_job")


def test_annual_run_on_15_march_is_aimed_at_the_year_before():
    context = build_schedule_context(scheduled_execution_time=datetime(2025, 3, 15, 9, tzinfo=SHANGHAI))
    request = annual_assessment_schedule(context)
    assert request.run_key == "assessment-2024"
    assert request.partition_key == "2024-10"  # 2024Q4: the run that assesses 2024


def test_a_period_outside_the_configured_years_is_skipped_with_the_reason():
    context = build_schedule_context(scheduled_execution_time=datetime(2031, 3, 15, 9, tzinfo=SHANGHAI))
    skipped = annual_assessment_schedule(context)
    assert "outside the configured assessment years" in skipped.skip_message
