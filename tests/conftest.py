"""Shared fixtures: one end-to-end run of the main job on the generated sample, in a throwaway folder."""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

PROJECT_DIR = Path(__file__).resolve().parents[1]

# tests write landing files and load them at once: no settle time (tests of the settle time set their own)
os.environ.setdefault("HQD_LANDING_SETTLE_SECONDS", "0")


@dataclass
class BuiltWarehouse:
    path: Path
    landing_dir: Path
    exit_code: int
    output: str

    @property
    def root(self) -> Path:
        return self.path.parent

    def connect(self) -> duckdb.DuckDBPyConnection:
        # same configuration as dbt-duckdb's in-process connection, which may still be open
        return duckdb.connect(str(self.path))

    def query(self, sql: str, params: list | None = None):
        con = self.connect()
        try:
            return con.execute(sql, params or []).df()
        finally:
            con.close()


@pytest.fixture(scope="session")
def built_warehouse(tmp_path_factory: pytest.TempPathFactory) -> BuiltWarehouse:
    """`hqd run` exactly as a user runs it, but on a throwaway warehouse, landing folder and dbt target."""
    from rich.console import Console

    from hqd import cli

    root = tmp_path_factory.mktemp("e2e")
    mp = pytest.MonkeyPatch()
    mp.setenv("DBT_TARGET_PATH", str(root / "target"))
    mp.setenv("DBT_LOG_PATH", str(root / "logs"))
    mp.setenv("HQD_QUALITY_DIR", str(root / "quality"))
    mp.setenv("HQD_DATA_DOCS_DIR", str(root / "data_docs"))
    mp.setenv("HQD_PUBLISH_DIR", str(root / "published"))
    buffer = io.StringIO()
    mp.setattr(cli, "console", Console(file=buffer, width=160, force_terminal=False))
    try:
        code = cli.main(
            ["run", "--warehouse", str(root / "hqd.duckdb"), "--landing-dir", str(root / "landing"), "--year", "2023"]
        )
    finally:
        mp.undo()
    return BuiltWarehouse(root / "hqd.duckdb", root / "landing", code, buffer.getvalue())


def pytest_sessionstart(session: pytest.Session) -> None:
    """The Dagster definitions read dbt's manifest; write it once if `make manifest` has not."""
    manifest = PROJECT_DIR / "target" / "manifest.json"
    if manifest.exists():
        return
    import os

    from dbt.cli.main import dbtRunner

    previous = os.environ.get("HQD_WAREHOUSE")
    os.environ["HQD_WAREHOUSE"] = ":memory:"  # parsing needs no warehouse
    try:
        result = dbtRunner().invoke(
            ["parse", "--quiet", "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR)]
        )
    finally:
        if previous is None:
            os.environ.pop("HQD_WAREHOUSE", None)
        else:
            os.environ["HQD_WAREHOUSE"] = previous
    assert result.success, f"dbt parse failed: {result.exception}"


@pytest.fixture(scope="session")
def postgres_cluster():
    """A private PostgreSQL cluster on a free port for this test session, removed afterwards."""
    from tests.support.pg_cluster import PostgresCluster

    cluster = PostgresCluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


def _settings_for_engine_build(built_warehouse: BuiltWarehouse, root: Path):
    """dbt on another engine reads the end-to-end run's landed data; its target and logs go to `root`."""
    from hqd import pipeline

    return pipeline.Settings(
        warehouse=built_warehouse.path,
        landing_dir=built_warehouse.landing_dir,
        dbt_target_path=root / "target",
        dbt_log_path=root / "logs",
    )


@pytest.fixture(scope="session")
def postgres_build(built_warehouse, postgres_cluster, tmp_path_factory):
    """The end-to-end run's landed raw tables copied into the private cluster, and one dbt build there."""
    from hqd import engines

    root = tmp_path_factory.mktemp("postgres")
    mp = pytest.MonkeyPatch()
    for key, value in postgres_cluster.connection().env().items():
        mp.setenv(key, value)
    try:
        source = built_warehouse.connect()
        try:
            copied = engines.copy_raw("postgres", source)
        finally:
            source.close()
        result = engines.build_with_dbt("postgres", _settings_for_engine_build(built_warehouse, root))
    finally:
        mp.undo()
    return copied, result


@pytest.fixture(scope="session")
def spark_build(built_warehouse, tmp_path_factory):
    """The same on a local Spark session whose tables and metastore live in a temporary folder."""
    from hqd import engines

    root = tmp_path_factory.mktemp("spark")
    spark = engines.spark_session(engines.SparkLocation(root / "spark"))
    source = built_warehouse.connect()
    try:
        copied = engines.replicate_raw_to_spark(source, spark)
    finally:
        source.close()
    result = engines.build_with_dbt("spark", _settings_for_engine_build(built_warehouse, root))
    yield spark, copied, result
    spark.stop()


@pytest.fixture(scope="session")
def expected_build_nodes() -> int:
    """What one `dbt build` runs: every seed, model and data test in the manifest, and every unit test."""
    import json

    manifest = json.loads((PROJECT_DIR / "target" / "manifest.json").read_text())
    runnable = {"model", "seed", "test"}
    nodes = sum(1 for node in manifest["nodes"].values() if node["resource_type"] in runnable)
    return nodes + len(manifest.get("unit_tests", {}))
