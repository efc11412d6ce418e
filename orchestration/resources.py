"""Dagster resources: where the warehouse, landing folder, publication and quality results live, and dbt."""

import os
import sys
from pathlib import Path

from dagster import ConfigurableResource
from dagster_dbt import DbtCliResource

PROJECT_DIR = Path(__file__).resolve().parents[1]


def _path_from_env(name: str, default: str) -> str:
    value = Path(os.environ.get(name, default))
    return str(value if value.is_absolute() else PROJECT_DIR / value)


def default_paths() -> dict[str, str]:
    """The paths as the environment gives them now (the resource's defaults are read once, at import)."""
    return {
        "warehouse": _path_from_env("HQD_WAREHOUSE", "data/warehouse/hqd.duckdb"),
        "landing_dir": _path_from_env("HQD_LANDING_DIR", "data/landing"),
        "publish_dir": _path_from_env("HQD_PUBLISH_DIR", "data/published"),
        "quality_dir": _path_from_env("HQD_QUALITY_DIR", "data/quality"),
        "data_docs_dir": _path_from_env("HQD_DATA_DOCS_DIR", "gx/uncommitted/data_docs/local_site"),
    }


class WarehouseResource(ConfigurableResource):
    """Paths of the embedded warehouse; every one can be moved by an environment variable."""

    warehouse: str = _path_from_env("HQD_WAREHOUSE", "data/warehouse/hqd.duckdb")
    landing_dir: str = _path_from_env("HQD_LANDING_DIR", "data/landing")
    publish_dir: str = _path_from_env("HQD_PUBLISH_DIR", "data/published")
    quality_dir: str = _path_from_env("HQD_QUALITY_DIR", "data/quality")
    data_docs_dir: str = _path_from_env("HQD_DATA_DOCS_DIR", "gx/uncommitted/data_docs/local_site")
    generate_sample_if_empty: bool = True

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
