"""The landing sensor records what is there, then starts a run for new or changed files only."""

from pathlib import Path

from dagster import RunRequest, SkipReason, build_sensor_context

from orchestration.partitions import PERIODS
from orchestration.resources import HqdSettings
from orchestration.sensors import landing_files_sensor


def test_baseline_then_new_file_then_nothing(tmp_path: Path):
    landing = tmp_path / "landing"
    (landing / "2024" / "2024Q1").mkdir(parents=True)
    (landing / "2024" / "2024Q1" / "a.csv").write_text("x\n", encoding="utf-8")
    resources = {"hqd": HqdSettings(warehouse=str(tmp_path / "w.duckdb"), landing_dir=str(landing))}

    first = build_sensor_context(resources=resources)
    assert isinstance(landing_files_sensor(first), SkipReason)

    (landing / "2024" / "2024Q1" / "b.csv").write_text("y\n", encoding="utf-8")
    second = build_sensor_context(resources=resources, cursor=first.cursor)
    request = landing_files_sensor(second)
    assert isinstance(request, RunRequest) and request.tags["hqd/new_files"] == "1"
    assert request.partition_key == PERIODS.get_last_partition_key()

    third = build_sensor_context(resources=resources, cursor=second.cursor)
    assert isinstance(landing_files_sensor(third), SkipReason)
