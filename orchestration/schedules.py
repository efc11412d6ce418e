"""Schedules in Asia/Shanghai: monitoring on the 20th of the month after a quarter ends, the assessment on
15 March for the year before. Each run is aimed at the period it is about."""

from dagster import DefaultScheduleStatus, RunRequest, ScheduleEvaluationContext, schedule

from orchestration.jobs import annual_assessment_job, quarterly_monitoring_job

TIMEZONE = "Asia/Shanghai"


def previous_quarter(year: int, month: int) -> tuple[int, int]:
    quarter = (month - 1) // 3  # the quarter that ended before this month's quarter began
    return (year - 1, 4) if quarter == 0 else (year, quarter)


def period_run_config(assessment_year: int, quarter: int | None = None) -> dict:
    ingest = {"assessment_year": assessment_year}
    if quarter:
        ingest["quarter"] = quarter
    return {
        "ops": {
            "raw_submissions": {"config": ingest},
            "published__marts": {"config": {"assessment_year": assessment_year}},
        }
    }


@schedule(
    cron_schedule="0 9 20 1,4,7,10 *",
    job=quarterly_monitoring_job,
    execution_timezone=TIMEZONE,
    default_status=DefaultScheduleStatus.RUNNING,
)
def quarterly_monitoring_schedule(context: ScheduleEvaluationContext):
    when = context.scheduled_execution_time
    year, quarter = previous_quarter(when.year, when.month)
    return RunRequest(
        run_key=f"monitoring-{year}Q{quarter}",
        run_config=period_run_config(year, quarter),
        tags={"hqd/period": f"{year}Q{quarter}"},
    )


@schedule(
    cron_schedule="0 9 15 3 *",
    job=annual_assessment_job,
    execution_timezone=TIMEZONE,
    default_status=DefaultScheduleStatus.RUNNING,
)
def annual_assessment_schedule(context: ScheduleEvaluationContext):
    year = context.scheduled_execution_time.year - 1
    return RunRequest(run_key=f"assessment-{year}", run_config=period_run_config(year), tags={"hqd/period": str(year)})
