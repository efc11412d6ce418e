"""The report pack as a Dagster asset: after publication, in the annual and quarterly jobs, never in the engine
job; the end-to-end run materialised it with its path, page count, size and time."""

from dagster import AssetKey

from orchestration.definitions import defs
from orchestration.partitions import PERIODS

PACK = AssetKey(["reports", "pack"])


def test_the_pack_follows_the_publication_in_its_own_group():
    graph = defs.resolve_asset_graph()
    node = graph.get(PACK)
    assert node.group_name == "reports"
    # after the dbt docs, which it copies into its folder with the run's quality page
    assert set(node.parent_keys) == {AssetKey(["published", "marts"]), AssetKey(["published", "docs"])}
    assert node.partitions_def == PERIODS


def test_the_assessment_and_monitoring_jobs_write_it_and_the_engine_job_does_not():
    for name, included in [
        ("annual_assessment_job", True),
        ("quarterly_monitoring_job", True),
        ("engine_build_job", False),
    ]:
        keys = defs.resolve_job_def(name).asset_layer.selected_asset_keys
        assert (PACK in keys) is included, name


def test_the_run_materialised_the_pack_with_its_metadata(built_warehouse):
    from orchestration import runner
    from orchestration.resources import HqdSettings

    assert built_warehouse.exit_code == 0
    instance = runner.instance_for(HqdSettings().get())
    index = built_warehouse.root / "reports" / "2024Q4" / "index.html"
    # the instance is the session's: later tests run the job too, so find this run's materialisation by its pack
    records = instance.fetch_materializations(PACK, limit=1000).records
    found = [
        {k: v.value for k, v in r.asset_materialization.metadata.items()}
        for r in records
        if r.asset_materialization.metadata["index"].value == str(index)
    ]
    assert len(found) == 1, [r.asset_materialization.metadata["index"].value for r in records]
    metadata = found[0]
    assert metadata["period"] == "2024Q4"
    assert index.exists()
    assert metadata["pages"] == 113  # index, overview, warnings, 108 letters, quality.html and dbt-docs.html
    assert metadata["size_mb"] > 0 and metadata["seconds"] < 30
