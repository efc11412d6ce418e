"""The quarterly monitoring job, aimed at one quarter the way its schedule aims it, runs end to end."""

import json
import shutil
from pathlib import Path

import duckdb
from dagster import DagsterInstance

from orchestration.definitions import make_definitions
from orchestration.resources import WarehouseResource
from orchestration.schedules import period_run_config


def test_quarterly_job_aimed_at_2024q4_loads_only_that_quarter_and_publishes(built_warehouse, tmp_path: Path):
    shutil.copy(built_warehouse.path, tmp_path / "hqd.duckdb")
    landing = tmp_path / "landing"
    shutil.copytree(built_warehouse.landing_dir, landing)
    # a resubmission for the quarter lands after the last run
    quarter_dir = landing / "2024" / "2024Q4"
    (quarter_dir / "320500_苏州市_2024Q4_更正.csv").write_text(
        "地区代码,地区名称,指标代码,指标名称,统计期,数值,单位\n320583,昆山市,N01,,2024Q4,95.5,%\n", encoding="utf-8"
    )
    resource = WarehouseResource(
        warehouse=str(tmp_path / "hqd.duckdb"),
        landing_dir=str(landing),
        publish_dir=str(tmp_path / "published"),
        quality_dir=str(tmp_path / "quality"),
        data_docs_dir=str(tmp_path / "docs"),
    )
    job = make_definitions(resource).resolve_job_def("quarterly_monitoring_job")
    result = job.execute_in_process(
        run_config=period_run_config(2024, 4), instance=DagsterInstance.ephemeral(), raise_on_error=False
    )
    assert result.success
    ingest = next(
        e.event_specific_data.materialization.metadata
        for e in result.all_events
        if e.event_type_value == "ASSET_MATERIALIZATION"
        and e.event_specific_data.materialization.asset_key.path == ["raw", "submissions"]
    )
    # 13 city files and the resubmission under 2024/2024Q4/, nothing else; only the resubmission is new
    assert (ingest["files_seen"].value, ingest["files_loaded"].value, ingest["rows_loaded"].value) == (14, 1, 1)
    assert ingest["period"].value == "2024Q4"
    manifest = json.loads((tmp_path / "published" / "current" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["assessment_year"] == 2024
    con = duckdb.connect(str(tmp_path / "published" / "current" / "hqd_marts.duckdb"), read_only=True)
    try:
        row = con.execute(
            "select cast(ytd_value as double), warning_level from marts.fct_monitoring_warnings "
            "where monitoring_key = '2024Q4-320583-N01'"
        ).fetchone()
    finally:
        con.close()
    assert row[0] == 95.5
