"""The dbt exposures: every report and the BI publication declared with the marts it reads."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

PROJECT_DIR = Path(__file__).resolve().parents[2]
EXPOSURES = PROJECT_DIR / "models" / "marts" / "_marts__exposures.yml"
# the published marts: models/marts/composite (the composite-index engine, schema composite) is never published
MARTS = {p.stem for p in (PROJECT_DIR / "models" / "marts").rglob("*.sql") if "composite" not in p.parts}
REF = re.compile(r"^ref\('([a-z0-9_]+)'\)$")


def _exposures() -> dict[str, dict]:
    return {e["name"]: e for e in yaml.safe_load(EXPOSURES.read_text(encoding="utf-8"))["exposures"]}


def _reads(exposure: dict) -> set[str]:
    refs = [REF.match(item) for item in exposure["depends_on"]]
    assert all(refs), exposure["depends_on"]
    return {m.group(1) for m in refs}


def test_each_report_reads_what_it_shows():
    exposures = _exposures()
    assert _reads(exposures["province_overview"]) == {
        "fct_region_assessment",
        "fct_advanced_counties",
        "fct_department_lines",
        "dim_region",
        "dim_indicator",
        "fct_rank_robustness",
        "fct_indicator_screening",
        "fct_indicator_correlations",
        "fct_region_data_availability",
    }
    assert _reads(exposures["region_feedback_letters"]) >= {
        "fct_region_assessment",
        "fct_region_feedback",
        "fct_indicator_scores",
        "fct_region_gaps",
        "fct_region_gap_plans",
        "fct_monitoring_warnings",
        "fct_department_lines",
        "dim_region",
        "dim_indicator",
    }
    assert _reads(exposures["quarterly_warnings_notice"]) == {"fct_monitoring_warnings", "dim_region", "dim_indicator"}
    assert _reads(exposures["data_quality_page"]) == {"fct_rejected_submissions", "fct_submission_file_quality"}


def test_the_bi_publication_reads_every_mart_and_every_ref_is_a_mart():
    exposures = _exposures()
    # a new mart is published too: declare it here when it is added
    assert _reads(exposures["bi_publication"]) == MARTS
    for name, exposure in exposures.items():
        assert _reads(exposure) <= MARTS, name


def test_exposures_name_type_owner_and_maturity_and_no_absolute_url():
    for name, exposure in _exposures().items():
        assert exposure["type"] in {"dashboard", "application"}, name
        assert "考核办公室" in exposure["owner"]["name"], name
        assert exposure["maturity"] in {"low", "medium", "high"}, name
        assert exposure.get("description"), name
        url = exposure.get("url")
        assert url is None or not re.match(r"^([a-z]+:|/)", url), f"{name}: {url} must be relative"
