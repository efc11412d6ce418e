"""The jobs. `annual_assessment_job` is the main one: `hqd run` (make run), both schedules, the sensor and the
bench execute it; the UI launches and backfills its periods. The other two are subsets of the same assets."""

from dagster import AssetSelection, define_asset_job

from orchestration.checks import warehouse_quality_checks

RAW = AssetSelection.groups("landing")
# the publication and what follows it (dbt docs, report folder): they read the embedded warehouse
PUBLICATION = AssetSelection.groups("publication")
REPORTS = AssetSelection.groups("reports")
# scenario runs (方案测算) are on demand: scenario_job only, never the main job
SCENARIOS = AssetSelection.groups("scenarios")
# the composite-index engine (tag on_demand): only composite_job builds it
COMPOSITE = AssetSelection.groups("composite")
DBT = AssetSelection.all() - RAW - PUBLICATION - REPORTS - COMPOSITE - SCENARIOS

annual_assessment_job = define_asset_job(
    "annual_assessment_job",
    selection=AssetSelection.all() - COMPOSITE - SCENARIOS,
    description=(
        "Ingest, quality checks on raw, one dbt build (seeds, models, tests), quality checks on staging and "
        "marts, publication, dbt docs, the report pack. A partition is a quarter; 2023-10 (2023Q4) is the annual "
        "assessment of 2023."
    ),
    tags={"hqd/kind": "assessment"},
)

# monitoring needs the monitoring marts and what they stand on (which is most of the scoring), not the
# feedback marts; the Great Expectations checks of the selected assets come with them
quarterly_monitoring_job = define_asset_job(
    "quarterly_monitoring_job",
    selection=(
        RAW
        | AssetSelection.groups("marts_monitoring").upstream()
        | AssetSelection.groups("marts_core", "marts_submissions")
        | PUBLICATION
        | REPORTS
    ),
    description=(
        "Ingest the quarter's year-to-date submissions, rebuild monitoring and warnings, publish, write the "
        "quarter's report pack."
    ),
    tags={"hqd/kind": "monitoring"},
)

# the same landing and dbt build on PostgreSQL or Spark (HQD_TARGET): Great Expectations and the publication
# read the embedded warehouse, so there the dbt data and unit tests are the gate
engine_build_job = define_asset_job(
    "engine_build_job",
    selection=(RAW | DBT) - AssetSelection.checks(warehouse_quality_checks),
    description="Ingest into the DuckDB landing store, copy raw to HQD_TARGET's engine, one dbt build there.",
    tags={"hqd/kind": "engine"},
)

# 方案测算: one scenario (config: scenario_code, years) scored by the same models beside the official result
scenario_job = define_asset_job(
    "scenario_job",
    selection=SCENARIOS,
    description=(
        "One scenario of seeds/scenarios/ (config: scenario_code, years) built by the assessment models into "
        "scenario_<code>_marts, compared with the official result in scenarios.fct_scenario_changes. Never "
        "touches the official marts, the build state or the publication."
    ),
    tags={"hqd/kind": "scenario"},
)

# a composite index (seeds/composite; the UNDP HDI is shipped) from its inputs: one dbt build of the tag
# `composite`, on DuckDB, into schema `composite`; unpartitioned, no publication (`hqd composite build`)
composite_job = define_asset_job(
    "composite_job",
    selection=COMPOSITE,
    description=(
        "The composite-index engine: one dbt build of its seeds, staging, models, data and unit tests (DuckDB, "
        "schema composite). Config: the index to report (composite_dbt_assets.config.index_code)."
    ),
    tags={"hqd/kind": "composite"},
)
