"""The documentation a period's report folder carries beside the reports: quality.html and dbt-docs.html."""

from __future__ import annotations

from pathlib import Path

from hqd.docs import dbt_docs, quality_page
from hqd.settings import Settings


def report_dir(settings: Settings, period: str) -> Path:
    """`<reports_dir>/<YYYY>Q<q>/`, the folder of a period's report pack (its index links these files)."""
    return settings.reports_dir / period


def write_report_docs(settings: Settings, run_id: str, period: str, folder: Path | None = None) -> dict[str, Path]:
    """Write the run's quality page and a copy of the published dbt docs (if there is one) into the report folder
    of the period; returns what was written by name. The report asset may call this after it has written its
    own pages, so that the folder it hands on holds both."""
    folder = folder or report_dir(settings, period)
    written = {
        quality_page.PAGE_NAME: quality_page.write_run_quality_page(
            settings.quality_dir, run_id, folder / quality_page.PAGE_NAME, period=period
        )
    }
    if dbt_docs.published_docs_path(settings.publish_dir).is_file():
        written[dbt_docs.DOCS_FILE] = dbt_docs.copy_into(folder, settings.publish_dir)
    return written
