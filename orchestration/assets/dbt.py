"""Every dbt seed and model as a Dagster asset, dbt tests as asset checks; one `dbt build` per run.

The manifest is read from target/manifest.json, which `make manifest` (dbt parse) writes: definitions never run
dbt parse at import time.
"""

import os
from pathlib import Path

from dagster import AssetExecutionContext
from dagster_dbt import DbtCliResource, dbt_assets

from orchestration.resources import PROJECT_DIR, WarehouseResource
from orchestration.translator import HqdDbtTranslator

MANIFEST_PATH = Path(os.environ.get("HQD_DBT_MANIFEST", PROJECT_DIR / "target" / "manifest.json"))


def manifest_path() -> Path:
    if not MANIFEST_PATH.exists():
        raise FileNotFoundError(
            f"{MANIFEST_PATH} is missing: run `make manifest` (dbt parse) before loading the Dagster definitions"
        )
    return MANIFEST_PATH


@dbt_assets(manifest=manifest_path(), dagster_dbt_translator=HqdDbtTranslator())
def hqd_dbt_assets(context: AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource):
    # profiles.yml reads the warehouse path from the environment of the dbt process
    os.environ["HQD_WAREHOUSE"] = str(warehouse.warehouse_path)
    yield from dbt.cli(["build"], context=context).stream()
