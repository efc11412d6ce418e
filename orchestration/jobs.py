"""The two jobs: the annual assessment and the quarterly monitoring run."""

from dagster import AssetSelection, define_asset_job

RAW = AssetSelection.groups("landing")
PUBLICATION = AssetSelection.groups("publication")

annual_assessment_job = define_asset_job(
    "annual_assessment_job",
    selection=AssetSelection.all(),
    description="Ingest, dbt build (seeds, models, tests), quality gate, publication: every mart.",
    tags={"hqd/kind": "annual"},
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
    ),
    description="Ingest the quarter's year-to-date submissions, rebuild monitoring and warnings, publish.",
    tags={"hqd/kind": "quarterly"},
)
