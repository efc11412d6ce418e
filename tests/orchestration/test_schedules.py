"""Schedules aim each run at the period it is about."""

from datetime import datetime
from zoneinfo import ZoneInfo

from dagster import build_schedule_context

from orchestration.schedules import (
    annual_assessment_schedule,
    period_run_config,
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
    assert request.run_config == period_run_config(2024, 1)
    assert request.run_config["ops"]["raw_submissions"]["config"] == {"assessment_year": 2024, "quarter": 1}


def test_annual_run_on_15_march_is_aimed_at_the_year_before():
    context = build_schedule_context(scheduled_execution_time=datetime(2025, 3, 15, 9, tzinfo=SHANGHAI))
    request = annual_assessment_schedule(context)
    assert request.run_key == "assessment-2024"
    assert request.run_config["ops"]["published__marts"]["config"] == {"assessment_year": 2024}
