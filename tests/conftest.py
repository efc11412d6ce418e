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
    mp.setenv("HQD_QUALITY_DIR", str(root / "quality"))
    mp.setenv("HQD_DATA_DOCS_DIR", str(root / "data_docs"))
    mp.setenv("HQD_PUBLISH_DIR", str(root / "published"))
    mp.setenv("HQD_REPORTS_DIR", str(root / "reports"))
    # the default settle time, as a user has it: the sample `hqd run` writes must load in the same run
    mp.delenv("HQD_LANDING_SETTLE_SECONDS", raising=False)
    buffer = io.StringIO()
    mp.setattr(cli, "console", Console(file=buffer, width=160, force_terminal=False))
    try:
        code = cli.main(
            ["run", "--warehouse", str(root / "hqd.duckdb"), "--landing-dir", str(root / "landing"), "--year", "2023"]
        )
    finally:
        mp.undo()
    return BuiltWarehouse(root / "hqd.duckdb", root / "landing", code, buffer.getvalue())


@pytest.fixture(scope="session", autouse=True)
def dagster_home(tmp_path_factory: pytest.TempPathFactory):
    """Every run of the session on one throwaway Dagster instance, never the project's .dagster_home."""
    home = tmp_path_factory.mktemp("dagster_home")
    mp = pytest.MonkeyPatch()
    mp.setenv("DAGSTER_HOME", str(home))
    yield home
    mp.undo()


@pytest.fixture(scope="session", autouse=True)
def reports_dir(tmp_path_factory: pytest.TempPathFactory):
    """Report packs a test's job run writes go to a throwaway folder, never the project's data/reports."""
    folder = tmp_path_factory.mktemp("reports")
    mp = pytest.MonkeyPatch()
    mp.setenv("HQD_REPORTS_DIR", str(folder))
    yield folder
    mp.undo()


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


def _engine_build(built_warehouse: BuiltWarehouse, root: Path, target: str, env: dict[str, str]):
    """The engine job on the end-to-end run's landing store (nothing new to ingest): its raw tables copied to the
    engine, one dbt build there. Returns (raw rows copied, the dbt build's result)."""
    from tests.support import jobs

    mp = pytest.MonkeyPatch()
    for key, value in env.items():
        mp.setenv(key, value)
    try:
        settings = jobs.overrides(
            root, warehouse=built_warehouse.path, landing=built_warehouse.landing_dir, target=target
        )
        job_run = jobs.run_job(settings, job_name="engine_build_job")
        return jobs.raw_copied(job_run), jobs.dbt_result(job_run, settings)
    finally:
        mp.undo()


@pytest.fixture(scope="session")
def postgres_build(built_warehouse, postgres_cluster, tmp_path_factory):
    """The engine job on the private cluster."""
    root = tmp_path_factory.mktemp("postgres")
    return _engine_build(built_warehouse, root, "postgres", postgres_cluster.connection().env())


@pytest.fixture(scope="session")
def spark_build(built_warehouse, tmp_path_factory):
    """The engine job on a local Spark session whose tables and metastore live in a temporary folder."""
    from hqd import engines

    root = tmp_path_factory.mktemp("spark")
    copied, result = _engine_build(built_warehouse, root, "spark", {"HQD_SPARK_DIR": str(root / "spark")})
    spark = engines.spark_session(engines.SparkLocation(root / "spark"))
    yield spark, copied, result
    spark.stop()


@pytest.fixture(scope="session")
def expected_build_nodes() -> int:
    """What one `dbt build` runs: every seed, model and data test in the manifest, every unit test, and every
    exposure (dbt 1.11 lists exposures among a build's results)."""
    import json

    manifest = json.loads((PROJECT_DIR / "target" / "manifest.json").read_text())
    runnable = {"model", "seed", "test"}
    # on-demand nodes (tag on_demand: the composite-index engine, the scenarios) are left out of the main and
    # engine builds, with the data tests on them and their unit tests
    on_demand = {uid for uid, node in manifest["nodes"].items() if "on_demand" in node.get("tags", [])}
    nodes = sum(
        1
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] in runnable
        and uid not in on_demand
        and not (node["resource_type"] == "test" and set(node["depends_on"]["nodes"]) & on_demand)
    )
    unit_tests = sum(
        1 for test in manifest.get("unit_tests", {}).values() if "on_demand" not in test["config"].get("tags", [])
    )
    return nodes + unit_tests + len(manifest.get("exposures", {}))
