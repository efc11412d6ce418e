"""The composite-index engine is built by composite_job alone: never by the main, monitoring or engine jobs."""

from __future__ import annotations

from orchestration.definitions import defs

ENGINE_ASSETS = {
    "config/composite_indices",
    "config/composite_dimensions",
    "config/composite_indicators",
    "config/composite_tiers",
    "staging/stg_undp_hdr__indicator_values",
    "intermediate/int_composite_input_values",
    "marts/fct_composite_indicator_scores",
    "marts/fct_composite_dimension_scores",
    "marts/fct_composite_index",
}


def _assets(job_name: str) -> set[str]:
    job = defs.resolve_job_def(job_name)
    return {"/".join(key.path) for key in job.asset_layer.selected_asset_keys}


def test_composite_job_builds_exactly_the_engine():
    assert _assets("composite_job") == ENGINE_ASSETS
    assert defs.resolve_job_def("composite_job").partitions_def is None


def test_no_other_job_builds_any_of_it():
    for job_name in ("annual_assessment_job", "quarterly_monitoring_job", "engine_build_job"):
        assert not _assets(job_name) & ENGINE_ASSETS, job_name
