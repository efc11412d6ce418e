"""One path: `hqd run` (make run), the schedules, the sensor, the UI and the bench all execute the same Dagster
job of the same definitions, which calls the library; the library itself imports no Dagster."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from datetime import datetime
from zoneinfo import ZoneInfo

from dagster import RunRequest, build_schedule_context, build_sensor_context

from hqd.settings import PROJECT_DIR
from orchestration import runner
from orchestration.definitions import defs
from orchestration.resources import HqdSettings
from orchestration.schedules import annual_assessment_schedule, quarterly_monitoring_schedule
from orchestration.sensors import landing_files_sensor


def test_the_library_imports_no_dagster():
    modules = sorted(
        ".".join(p.relative_to(PROJECT_DIR).with_suffix("").parts)
        for p in (PROJECT_DIR / "hqd").rglob("*.py")
        if p.name != "__init__.py"
    )
    roots = ("dagster", "dagster_dbt", "orchestration")
    code = (
        f"import sys\nfor m in {modules!r}: __import__(m)\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {roots!r}))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_DIR, capture_output=True, text=True, check=True)
    assert len(modules) >= 10
    assert out.stdout.strip() == "[]"


def test_cli_schedule_sensor_and_bench_target_the_main_job(built_warehouse, tmp_path):
    # the CLI: its run is recorded on the instance under the main job's name, for a partition of that job
    runs = [r for r in runner.instance_for(HqdSettings().get()).get_runs() if r.job_name == runner.MAIN_JOB]
    assert runs, "hqd run left no run of the main job on the shared instance"
    assert built_warehouse.exit_code == 0
    assert any(r.tags.get("dagster/partition") for r in runs)

    # the annual schedule and the sensor request runs of that same job; the quarterly schedule a subset of it
    annual = annual_assessment_schedule.job_name
    assert annual == runner.MAIN_JOB == landing_files_sensor.job_name
    request = annual_assessment_schedule(
        build_schedule_context(scheduled_execution_time=datetime(2025, 3, 15, 9, tzinfo=ZoneInfo("Asia/Shanghai")))
    )
    assert isinstance(request, RunRequest)
    assert defs.resolve_job_def(annual).partitions_def.has_partition_key(request.partition_key)
    main_assets = set(defs.resolve_job_def(runner.MAIN_JOB).asset_layer.executable_asset_keys)
    quarterly = defs.resolve_job_def(quarterly_monitoring_schedule.job_name)
    assert set(quarterly.asset_layer.executable_asset_keys) < main_assets

    landing = tmp_path / "landing"
    landing.mkdir()
    resources = {"hqd": HqdSettings(landing_dir=str(landing))}
    first = build_sensor_context(resources=resources)
    landing_files_sensor(first)
    (landing / "a.csv").write_text("x\n", encoding="utf-8")
    assert isinstance(landing_files_sensor(build_sensor_context(resources=resources, cursor=first.cursor)), RunRequest)


def test_the_bench_runs_the_main_job_through_the_runner(tmp_path, monkeypatch):
    from tools import bench

    calls = []

    class Stop(Exception):
        pass

    def recording_execute(overrides, *, partition_key, job_name=runner.MAIN_JOB, **kwargs):
        calls.append((job_name, partition_key, overrides.get().warehouse))
        raise Stop

    monkeypatch.setattr(runner, "execute", recording_execute)
    with contextlib.suppress(Stop):
        bench._child_ours(tmp_path)
    assert calls == [(runner.MAIN_JOB, "2024-10", tmp_path / "warehouse" / "hqd.duckdb")]
