"""On PostgreSQL too, an incremental build after a new quarter lands gives the marts of a full build.

The sample (2023-2024) without 2024Q4 is built on PostgreSQL (a database of its own in the session's private
cluster), 2024Q4 lands, the second build is incremental (delete+insert from 2024 on), and every mart is compared
key by key and cell by cell with a full DuckDB build of the same landed rows.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from hqd import engines
from hqd.settings import PROJECT_DIR
from tests.support import jobs
from tools import sample_data

DATABASE = "hqd_incremental"


def test_incremental_build_on_postgres_equals_a_full_build(
    postgres_cluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    landing, held_back = tmp_path / "landing", tmp_path / "held_back"
    sample_data.generate_sample(landing, years=[2023, 2024])
    for path in sorted(landing.rglob("*.csv")):
        rel = path.relative_to(landing).as_posix()
        if "2024/2024Q4/" in rel:
            (held_back / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.move(path, held_back / rel)

    admin = postgres_cluster.connect()
    admin.autocommit = True  # create database cannot run inside a transaction
    with admin.cursor() as cur:
        cur.execute(f"drop database if exists {DATABASE}")
        cur.execute(f"create database {DATABASE}")
    admin.close()
    for key, value in postgres_cluster.connection().env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("HQD_PG_DATABASE", DATABASE)

    on_postgres = jobs.overrides(
        tmp_path, warehouse=tmp_path / "landing_store.duckdb", landing=landing, target="postgres"
    )
    first_run = jobs.run_job(on_postgres, job_name="engine_build_job")
    first = jobs.dbt_result(first_run, on_postgres)
    assert first.success, [f.message[:300] for f in first.failures] or first.error
    shutil.copytree(held_back, landing, dirs_exist_ok=True)
    second_run = jobs.run_job(on_postgres, job_name="engine_build_job")
    second = jobs.dbt_result(second_run, on_postgres)
    assert second.success, [f.message[:300] for f in second.failures] or second.error
    compiled = jobs.dbt_target(second_run, on_postgres) / "compiled" / "hqd" / "models" / "marts"
    # a quarter's files: the quarter's marts rebuild 2024, the scoring path (annual values only) nothing
    assert "assessment_year >= 2024" in (compiled / "monitoring" / "fct_two_colour.sql").read_text(encoding="utf-8")
    scores = (compiled / "assessment" / "fct_indicator_scores.sql").read_text(encoding="utf-8")
    assert "assessment_year >= 10000" in scores

    # DuckDB, first build there: a full one (the main job, its checks and publication included)
    settings = jobs.overrides(tmp_path, warehouse=tmp_path / "landing_store.duckdb", landing=landing)
    reference = jobs.run_job(settings)
    assert reference.success, jobs.dbt_result(reference, settings).failures
    keys = engines.mart_primary_keys(PROJECT_DIR / "target" / "manifest.json")
    assert len(keys) == 19  # 15 + tier robustness and the three screening marts
    duck = duckdb.connect(str(tmp_path / "landing_store.duckdb"))
    pg = postgres_cluster.connect(dbname=DATABASE)
    try:
        differences = engines.compare_marts(
            keys,
            lambda relation: engines.read_relation_duckdb(duck, relation),
            lambda relation: engines.read_relation_postgres(pg, relation),
        )
    finally:
        pg.close()
        duck.close()
    assert {mart: problems for mart, problems in differences.items() if problems} == {}
