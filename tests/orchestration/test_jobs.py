"""The quarterly monitoring job, run for the partition its schedule requests, runs end to end."""

import json
import shutil
from pathlib import Path

import duckdb

from orchestration.partitions import partition_key
from tests.support import jobs


def test_quarterly_job_for_2024q4_loads_the_new_file_and_publishes(built_warehouse, tmp_path: Path):
    shutil.copy(built_warehouse.path, tmp_path / "hqd.duckdb")
    landing = tmp_path / "landing"
    shutil.copytree(built_warehouse.landing_dir, landing)
    # a resubmission for the quarter lands after the last run
    quarter_dir = landing / "2024" / "2024Q4"
    (quarter_dir / "320500_苏州市_2024Q4_更正.csv").write_text(
        "地区代码,地区名称,指标代码,指标名称,统计期,数值,单位\n320583,昆山市,N01,,2024Q4,95.5,%\n", encoding="utf-8"
    )
    settings = jobs.overrides(tmp_path, warehouse=tmp_path / "hqd.duckdb", landing=landing)
    job_run = jobs.run_job(settings, job_name="quarterly_monitoring_job", partition_key=partition_key(2024, 4))
    result = job_run.result
    assert result.success
    ingest = next(
        e.event_specific_data.materialization.metadata
        for e in result.all_events
        if e.event_type_value == "ASSET_MATERIALIZATION"
        and e.event_specific_data.materialization.asset_key.path == ["raw", "submissions"]
    )
    # every landing file is looked at (a correction may concern any period); only the resubmission is new
    assert (ingest["files_seen"].value, ingest["files_loaded"].value, ingest["rows_loaded"].value) == (457, 1, 1)
    assert ingest["periods"].value == "2024Q4"
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
