"""Through Dagster: a failing blocking expectation stops publication and leaves the previous one untouched;
a reader holding the published file keeps working while a later run publishes."""

import json
import re
import shutil
from pathlib import Path

import duckdb
import pytest

from hqd import quality
from orchestration import checks
from orchestration.resources import HqdSettings
from tests.support import jobs
from tests.support.publication import record_memory_caps


@pytest.fixture
def copy_of_built(built_warehouse, tmp_path: Path) -> HqdSettings:
    """The end-to-end run's warehouse, landing folder and publication, copied so this test may change them."""
    shutil.copy(built_warehouse.path, tmp_path / "hqd.duckdb")
    shutil.copytree(built_warehouse.landing_dir, tmp_path / "landing")
    shutil.copytree(built_warehouse.root / "published", tmp_path / "published", symlinks=True)
    return jobs.overrides(tmp_path, warehouse=tmp_path / "hqd.duckdb", landing=tmp_path / "landing")


def _run(settings: HqdSettings):
    return jobs.run_job(settings).result


def test_failing_expectation_blocks_publication_and_readers_keep_working(copy_of_built, tmp_path, monkeypatch):
    published = Path(copy_of_built.publish_dir)
    before_target = (published / "current").readlink()
    before_manifest = (published / "current" / "manifest.json").read_bytes()
    reader = duckdb.connect(str(published / "current" / "hqd_marts.duckdb"), read_only=True)
    count_sql = "select count(*) from marts.fct_region_assessment"
    rows_before = reader.execute(count_sql).fetchone()[0]

    # a copy of the suites in which one blocking expectation cannot hold: no total can exceed 1 point
    broken = tmp_path / "expectations"
    shutil.copytree(quality.EXPECTATIONS_DIR, broken)
    suite_file = broken / "marts__fct_region_assessment.json"
    suite = json.loads(suite_file.read_text(encoding="utf-8"))
    suite["expectations"].append(
        {"type": "expect_column_max_to_be_between", "kwargs": {"column": "total_score", "max_value": 1}}
    )
    suite_file.write_text(json.dumps(suite, ensure_ascii=False), encoding="utf-8")
    real_run_suite = quality.run_suite
    monkeypatch.setattr(
        checks.quality, "run_suite", lambda con, name, **kw: real_run_suite(con, name, directory=broken, **kw)
    )

    blocked = _run(copy_of_built)
    assert not blocked.success
    failed_checks = [
        e.event_specific_data
        for e in blocked.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION" and not e.event_specific_data.passed
    ]
    assert [(c.check_name, c.severity.value) for c in failed_checks] == [("ge_marts__fct_region_assessment", "ERROR")]
    assert "published__marts" not in {e.step_key for e in blocked.all_events if e.event_type_value == "STEP_SUCCESS"}
    assert (published / "current").readlink() == before_target
    assert (published / "current" / "manifest.json").read_bytes() == before_manifest
    assert reader.execute(count_sql).fetchone()[0] == rows_before
    # the blocked run's quality page says so, and names the failing expectation and its observed maximum
    page = (Path(copy_of_built.quality_dir) / "quality.html").read_text(encoding="utf-8")
    assert "发布门禁：未通过" in page
    assert 'data-suite="marts__fct_region_assessment" data-status="blocking"' in page
    assert re.search(r'data-type="expect_column_max_to_be_between"\s+data-success="false"', page)

    # with the real suites the next run publishes a new release while the reader still holds the old one; the
    # publication's own DuckDB connection has the run's memory cap (uncapped it held 6.6 GB at national scale)
    monkeypatch.setattr(checks.quality, "run_suite", real_run_suite)
    caps = record_memory_caps(monkeypatch)
    monkeypatch.setenv("HQD_DUCKDB_MEMORY_LIMIT", "1GiB")
    ok = _run(copy_of_built)
    assert ok.success
    assert caps == ["1.0 GiB"]
    assert (published / "current").readlink() != before_target
    assert reader.execute(count_sql).fetchone()[0] == rows_before
    reader.close()
    manifest = json.loads((published / "current" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["marts"]["fct_region_assessment"]["row_count"] == rows_before
    assert all(c["passed"] for c in manifest["checks"] if c["blocking"])
    fresh = duckdb.connect(str(published / "current" / "hqd_marts.duckdb"), read_only=True)
    try:
        assert fresh.execute(count_sql).fetchone()[0] == rows_before
        schemas = {s for (s,) in fresh.execute("select distinct schema_name from duckdb_tables()").fetchall()}
        assert schemas == {"marts"}  # BI sees the marts and nothing else
    finally:
        fresh.close()


def test_publication_also_loads_postgres_when_asked(copy_of_built, postgres_cluster, monkeypatch):
    for key, value in postgres_cluster.connection().env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("HQD_PUBLISH_POSTGRES", "1")
    monkeypatch.setenv("HQD_PG_PUBLISH_SCHEMA", "bi_from_dagster")
    monkeypatch.setenv("HQD_PG_READER_ROLE", "bi_from_dagster_readers")
    resource = copy_of_built
    result = _run(resource)
    assert result.success
    manifest = json.loads((Path(resource.publish_dir) / "current" / "manifest.json").read_text(encoding="utf-8"))
    with postgres_cluster.connect() as con, con.cursor() as cur:
        for mart, info in manifest["marts"].items():
            cur.execute(f"select count(*) from bi_from_dagster.{mart}")
            assert cur.fetchone()[0] == info["row_count"], mart
        cur.execute("select has_schema_privilege('bi_from_dagster_readers', 'bi_from_dagster', 'usage')")
        assert cur.fetchone()[0] is True
