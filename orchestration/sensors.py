"""A sensor that starts the main job when new or changed files land.

It watches the folder itself (name, size, modification time) rather than the warehouse, so it never takes
the warehouse's lock; the ingest step decides by content hash what is really new. The first tick records
what is already there without starting a run. The run is for the latest configured period.
"""

import hashlib
import json

from dagster import DefaultSensorStatus, RunRequest, SensorEvaluationContext, SkipReason, sensor

from hqd.landing.ingest import landing_files
from orchestration.jobs import annual_assessment_job
from orchestration.partitions import PERIODS
from orchestration.resources import HqdSettings


def snapshot(hqd: HqdSettings) -> dict[str, list[int]]:
    landing = hqd.get().landing_dir
    if not landing.exists():
        return {}
    return {p.relative_to(landing).as_posix(): [p.stat().st_size, p.stat().st_mtime_ns] for p in landing_files(landing)}


@sensor(
    job=annual_assessment_job,
    minimum_interval_seconds=60,
    default_status=DefaultSensorStatus.RUNNING,
    description="Starts the assessment job when a new or changed file appears in the landing folder.",
)
def landing_files_sensor(context: SensorEvaluationContext, hqd: HqdSettings):
    current = snapshot(hqd)
    if context.cursor is None:
        context.update_cursor(json.dumps(current))
        return SkipReason(f"baseline recorded: {len(current)} files already in the landing folder")
    seen = json.loads(context.cursor)
    new = sorted(name for name, stat in current.items() if seen.get(name) != stat)
    context.update_cursor(json.dumps(current))
    if not new:
        return SkipReason("no new landing files")
    run_key = hashlib.sha256(json.dumps({n: current[n] for n in new}).encode()).hexdigest()[:16]
    return RunRequest(
        run_key=run_key, partition_key=PERIODS.get_last_partition_key(), tags={"hqd/new_files": str(len(new))}
    )
