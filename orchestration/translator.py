"""One translator from dbt nodes to Dagster assets: keys and groups come from the dbt folders.

models/marts/assessment/fct_region_assessment.sql → key marts/fct_region_assessment, group marts_assessment
seeds/config/indicator_rules.csv                  → key config/indicator_rules,      group seeds_config
source landing.submissions                        → key raw/submissions (the ingest asset writes it)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dagster import AssetKey
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings


class HqdDbtTranslator(DagsterDbtTranslator):
    def __init__(self) -> None:
        super().__init__(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        resource_type = dbt_resource_props["resource_type"]
        name = dbt_resource_props["name"]
        if resource_type == "source":
            return AssetKey([dbt_resource_props["schema"], name])
        if resource_type == "seed":
            return AssetKey(["config", name])
        return AssetKey([dbt_resource_props["fqn"][1], name])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        resource_type = dbt_resource_props["resource_type"]
        fqn = dbt_resource_props["fqn"]
        # the composite-index engine's seeds and models: one group, which composite_job builds
        if "composite" in (dbt_resource_props.get("tags") or []):
            return "composite"
        if resource_type == "source":
            return "landing"
        if resource_type == "seed":
            return f"seeds_{fqn[1]}" if len(fqn) > 2 else "seeds"
        return "_".join(fqn[1:-1])
