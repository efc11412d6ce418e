"""The documentation a period's report folder carries beside the reports: quality.html and dbt-docs.html.

hqd.reports.build_report_pack calls `write_report_docs` through its `extra_pages` hook while it writes the
folder (before the index, which links both, and before the folder is switched into place).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from hqd.docs import dbt_docs, quality_page
from hqd.settings import Settings


def write_report_docs(settings: Settings, folder: Path, *, run_id: str | None = None, period: str = "") -> list[Path]:
    """Write the quality page and a copy of the published dbt docs into `folder`; returns what was written.

    With a run id the page is made from that run's persisted validation results; without one (`hqd report`
    outside a run) the latest page in the quality folder is copied, if there is one. dbt-docs.html is copied
    when the publication has one."""
    folder = Path(folder)
    written = []
    page = folder / quality_page.PAGE_NAME
    latest = settings.quality_dir / quality_page.PAGE_NAME
    if run_id:
        written.append(quality_page.write_run_quality_page(settings.quality_dir, run_id, page, period=period))
    elif latest.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(latest, page)
        written.append(page)
    if dbt_docs.published_docs_path(settings.publish_dir).is_file():
        written.append(dbt_docs.copy_into(folder, settings.publish_dir))
    return written
