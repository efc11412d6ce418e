"""Executes a job of these definitions in this process, on the persistent Dagster instance that `make ui`
shows: `hqd run`, `hqd engines build` and the bench all come through here."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path

import yaml
from dagster import DagsterInstance, DagsterRunStatus, ExecuteInProcessResult, RunsFilter
from dagster._core.instance.ref import InstanceRef

from hqd.settings import Settings
from orchestration.definitions import make_definitions
from orchestration.resources import HqdSettings

MAIN_JOB = "annual_assessment_job"


def instance_for(settings: Settings) -> DagsterInstance:
    """DAGSTER_HOME when set (as `dagster dev` uses it), else the project's .dagster_home: one instance, so
    every run made in the terminal shows in the UI with its checks."""
    home = Path(os.environ.get("DAGSTER_HOME") or settings.dagster_home)
    home.mkdir(parents=True, exist_ok=True)
    ensure_instance_config(home)
    return DagsterInstance.from_ref(InstanceRef.from_dir(str(home), overrides=_event_log_storage(home)))


def _event_log_storage(home: Path) -> dict:
    """The runs executed here write Dagster's event log files through PooledSqliteEventLogStorage (one engine per
    file, orchestration/event_storage.py), unless dagster.yaml names an event log storage of its own."""
    configured = yaml.safe_load((home / "dagster.yaml").read_text(encoding="utf-8")) or {}
    if "event_log_storage" in configured or "storage" in configured:
        return {}
    return {
        "event_log_storage": {
            "module": "orchestration.event_storage",
            "class": "PooledSqliteEventLogStorage",
            # where Dagster's default SqliteEventLogStorage keeps them, so `dagster dev` reads the same files
            "config": {"base_dir": str(home / "history" / "runs")},
        }
    }


INSTANCE_CONFIG = """# written by the HQD warehouse: offices run on closed networks, so nothing is sent anywhere
telemetry:
  enabled: false
"""


def ensure_instance_config(home: Path) -> None:
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(INSTANCE_CONFIG, encoding="utf-8")


@dataclass
class JobRun:
    job_name: str
    partition_key: str | None  # None for an unpartitioned job (composite_job, scenario_job)
    result: ExecuteInProcessResult
    instance: DagsterInstance

    @property
    def run_id(self) -> str:
        return self.result.run_id

    @property
    def success(self) -> bool:
        return self.result.success

    def step_seconds(self) -> dict[str, float]:
        """Each step's wall time, from the run's own event log (what the UI shows)."""
        stats = self.instance.get_run_step_stats(self.run_id)
        return {s.step_key: (s.end_time or 0) - (s.start_time or 0) for s in stats}


def execute(
    overrides: HqdSettings | None = None,
    *,
    partition_key: str | None = None,
    job_name: str = MAIN_JOB,
    run_config: dict | None = None,
    loggers: dict | None = None,
    instance: DagsterInstance | None = None,
    tags: dict[str, str] | None = None,
) -> JobRun:
    overrides = overrides or HqdSettings()
    defs = make_definitions(overrides, loggers=loggers)
    job = defs.resolve_job_def(job_name)
    settings = overrides.get()
    instance = instance or instance_for(settings)
    fail_abandoned_runs(instance, settings)
    result = job.execute_in_process(
        run_config=run_config or {},
        instance=instance,
        partition_key=partition_key,
        raise_on_error=False,
        tags={**_process_tags(settings), **(tags or {})},
    )
    return JobRun(job_name, partition_key, result, instance)


# who runs a run in process: a run whose process is gone (killed) can then be told from one still going
WAREHOUSE_TAG, HOST_TAG, PID_TAG = "hqd/warehouse", "hqd/host", "hqd/pid"


def _process_tags(settings: Settings) -> dict[str, str]:
    return {WAREHOUSE_TAG: str(settings.warehouse), HOST_TAG: socket.gethostname(), PID_TAG: str(os.getpid())}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def fail_abandoned_runs(instance: DagsterInstance, settings: Settings) -> list[str]:
    """Runs on this warehouse left STARTED by a process of this machine that no longer exists (killed, or the
    machine went down) are marked FAILURE, so the run history never shows a dead run as still going."""
    abandoned = []
    runs = instance.get_runs(
        RunsFilter(statuses=[DagsterRunStatus.STARTED], tags={WAREHOUSE_TAG: str(settings.warehouse)})
    )
    for run in runs:
        pid = run.tags.get(PID_TAG, "")
        if run.tags.get(HOST_TAG) != socket.gethostname() or not pid.isdigit() or _alive(int(pid)):
            continue
        instance.report_run_failed(
            run,
            message=f"the process running it (pid {pid}) ended without finishing it (killed?); the next run on "
            "this warehouse completes the work",
        )
        abandoned.append(run.run_id)
    return abandoned
