"""Schedules in Asia/Shanghai: monitoring on the 20th of the month after a quarter ends, the assessment on
15 March for the year before (its fourth quarter). Each requests the partition of the period it is about."""

from dagster import DefaultScheduleStatus, RunRequest, ScheduleEvaluationContext, SkipReason, schedule

from orchestration.jobs import annual_assessment_job, quarterly_monitoring_job
from orchestration.partitions import PERIODS, TIMEZONE, partition_key


def previous_quarter(year: int, month: int) -> tuple[int, int]:
    quarter = (month - 1) // 3  # the quarter that ended before this month's quarter began
    return (year - 1, 4) if quarter == 0 else (year, quarter)


def _request(key: str, run_key: str) -> RunRequest | SkipReason:
    if not PERIODS.has_partition_key(key):
        return SkipReason(
            f"period {key} is outside the configured assessment years: add its rules to "
            "seeds/config (assessment_years.csv and the year's rows) first"
        )
    return RunRequest(run_key=run_key, partition_key=key)


@schedule(
    cron_schedule="0 9 20 1,4,7,10 *",
    job=quarterly_monitoring_job,
    execution_timezone=TIMEZONE,
    default_status=DefaultScheduleStatus.RUNNING,
)
def quarterly_monitoring_schedule(context: ScheduleEvaluationContext):
    when = context.scheduled_execution_time
    year, quarter = previous_quarter(when.year, when.month)
    return _request(partition_key(year, quarter), f"monitoring-{year}Q{quarter}")


@schedule(
    cron_schedule="0 9 15 3 *",
    job=annual_assessment_job,
    execution_timezone=TIMEZONE,
    default_status=DefaultScheduleStatus.RUNNING,
)
def annual_assessment_schedule(context: ScheduleEvaluationContext):
    year = context.scheduled_execution_time.year - 1
    return _request(partition_key(year, 4), f"assessment-{year}")
