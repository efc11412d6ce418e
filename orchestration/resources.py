"""Dagster resources: where the warehouse, landing folder, publication and quality results live, and dbt."""

import os
import sys
from pathlib import Path

from dagster import ConfigurableResource
from dagster_dbt import DbtCliResource

from hqd import pipeline
from hqd.pipeline import PROJECT_DIR


def default_paths() -> dict[str, str]:
    """The paths as the environment gives them now (the resource's defaults are read once, at import)."""
    return {name: str(path) for name, path in pipeline.default_paths().items()}


_DEFAULTS = default_paths()


class WarehouseResource(ConfigurableResource):
    """Paths of the embedded warehouse; every one can be moved by an environment variable."""

    warehouse: str = _DEFAULTS["warehouse"]
    landing_dir: str = _DEFAULTS["landing_dir"]
    publish_dir: str = _DEFAULTS["publish_dir"]
    quality_dir: str = _DEFAULTS["quality_dir"]
    data_docs_dir: str = _DEFAULTS["data_docs_dir"]
    generate_sample_if_empty: bool = True
    # also load each publication into a PostgreSQL schema for BI (server from HQD_PG_*; see publish_postgres.py)
    publish_postgres: bool = os.environ.get("HQD_PUBLISH_POSTGRES", "").lower() in {"1", "true", "yes"}
    postgres_publish_schema: str = os.environ.get("HQD_PG_PUBLISH_SCHEMA", "hqd_marts")
    postgres_reader_role: str = os.environ.get("HQD_PG_READER_ROLE", "hqd_bi")

    @property
    def warehouse_path(self) -> Path:
        return Path(self.warehouse)

    @property
    def landing_path(self) -> Path:
        return Path(self.landing_dir)

    @property
    def publish_path(self) -> Path:
        return Path(self.publish_dir)

    @property
    def quality_path(self) -> Path:
        return Path(self.quality_dir)

    @property
    def data_docs_path(self) -> Path:
        return Path(self.data_docs_dir)


def dbt_cli_resource() -> DbtCliResource:
    # the dbt beside this interpreter: Dagster may run without the virtualenv on PATH
    return DbtCliResource(
        project_dir=str(PROJECT_DIR),
        profiles_dir=str(PROJECT_DIR),
        dbt_executable=str(Path(sys.executable).parent / "dbt"),
    )
