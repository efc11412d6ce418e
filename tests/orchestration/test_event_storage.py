"""The runner's event log storage: Dagster's own files, fewer engines, readable by Dagster's default storage."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from dagster import DagsterInstance, job, op
from dagster._core.instance.ref import InstanceRef

from hqd.settings import Settings
from orchestration import runner
from orchestration.event_storage import PooledSqliteEventLogStorage


@op
def count_to_three(context) -> int:
    for step in range(3):
        context.log.info(f"step {step}")
    return 3


@job
def tiny_job():
    count_to_three()


def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, yaml_text: str | None = None) -> Path:
    home = tmp_path / "dagster_home"
    home.mkdir()
    if yaml_text is not None:
        (home / "dagster.yaml").write_text(yaml_text, encoding="utf-8")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    return home


def test_runs_executed_here_are_written_once_and_read_by_dagsters_default_storage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    home = _home(tmp_path, monkeypatch)
    instance = runner.instance_for(Settings())
    storage = instance.event_log_storage
    assert isinstance(storage, PooledSqliteEventLogStorage)

    runs = [tiny_job.execute_in_process(instance=instance) for _ in range(3)]
    assert all(r.success for r in runs)
    # the index and the run being written: an earlier run's engine is let go
    assert len(storage._engines) == 2

    # what `dagster dev` opens: the same folder with Dagster's default storage
    default = DagsterInstance.from_ref(InstanceRef.from_dir(str(home)))
    assert type(default.event_log_storage).__name__ == "SqliteEventLogStorage"
    for run in runs:
        written = [e.user_message for e in instance.all_logs(run.run_id)]
        read = [e.user_message for e in default.all_logs(run.run_id)]
        assert read == written
        assert sum(m.startswith("step ") for m in read) == 3
        assert default.get_run_by_id(run.run_id).is_success
    # the run files are Dagster's own, in WAL mode as Dagster creates them
    run_file = home / "history" / "runs" / f"{runs[0].run_id}.db"
    with sqlite3.connect(run_file) as con:
        assert con.execute("pragma journal_mode").fetchone() == ("wal",)
    instance.dispose()
    assert storage._engines == {}


def test_an_event_log_storage_configured_in_dagster_yaml_is_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    home = _home(
        tmp_path,
        monkeypatch,
        "event_log_storage:\n"
        "  module: dagster._core.storage.event_log\n"
        "  class: SqliteEventLogStorage\n"
        "  config:\n"
        f"    base_dir: {tmp_path / 'elsewhere'}\n",
    )
    instance = runner.instance_for(Settings())
    assert type(instance.event_log_storage).__name__ == "SqliteEventLogStorage"
    assert tiny_job.execute_in_process(instance=instance).success
    assert list((tmp_path / "elsewhere").glob("*.db"))
    assert not (home / "history" / "runs").exists()
