"""The periods a run is about: one quarterly time-window partition per assessment quarter.

A job has one partitions definition in Dagster, and the main job calls dbt once for every model, so the whole
job shares this one: the partition `2023-10` is 2023Q4, whose run is also the annual assessment of 2023 (the
annual schedule runs it in March). The range runs from the first to the last year configured in
`seeds/config/assessment_years.csv` (the configuration check keeps that seed sound), so the UI shows exactly
the periods the rules cover.
"""

from __future__ import annotations

import csv
import datetime as dt

from dagster import TimeWindowPartitionsDefinition

from hqd.settings import Settings

TIMEZONE = "Asia/Shanghai"
FORMAT = "%Y-%m"


def configured_years(settings: Settings | None = None) -> tuple[int, int]:
    path = (settings or Settings()).seeds_dir / "config" / "assessment_years.csv"
    with path.open(encoding="utf-8") as handle:
        years = [int(row["assessment_year"]) for row in csv.DictReader(handle)]
    return min(years), max(years)


def quarterly_partitions(settings: Settings | None = None) -> TimeWindowPartitionsDefinition:
    first, last = configured_years(settings)
    return TimeWindowPartitionsDefinition(
        cron_schedule="0 0 1 1,4,7,10 *",
        fmt=FORMAT,
        start=f"{first}-01",
        end=f"{last + 1}-01",
        timezone=TIMEZONE,
    )


def partition_key(year: int, quarter: int) -> str:
    return f"{year}-{3 * quarter - 2:02d}"


def period_of(key: str) -> tuple[int, int]:
    """`2023-10` → (2023, 4)."""
    start = dt.datetime.strptime(key, FORMAT)
    return start.year, (start.month - 1) // 3 + 1


def period_code(key: str) -> str:
    year, quarter = period_of(key)
    return f"{year}Q{quarter}"


def parse_period(text: str) -> str:
    """A period as people write it (`2023Q4`, `2023-Q4`, `2023`, or a key `2023-10`) → its partition key.
    A bare year means its fourth quarter, the run that assesses the year."""
    text = text.strip().upper().replace("-Q", "Q")
    if len(text) == 4 and text.isdigit():
        return partition_key(int(text), 4)
    if "Q" in text:
        year, quarter = text.split("Q")
        if year.isdigit() and quarter in {"1", "2", "3", "4"}:
            return partition_key(int(year), int(quarter))
    try:
        period_of(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a period: write 2023Q4, 2023-Q4 or 2023") from None
    return text


PERIODS = quarterly_partitions()
