"""What the main job documents (the end-to-end run of tests/conftest.py): the quality page of every suite, dbt's
docs as one offline file beside the publication, and both in the period's report folder. Both pages are opened in
headless Chromium, which must make no network request."""

from __future__ import annotations

import html.parser
import json
import shutil
from pathlib import Path

import duckdb
import pytest
from dagster import DagsterInstance, materialize

from hqd import quality
from hqd.docs import dbt_docs
from orchestration.assets.docs import published_docs
from orchestration.partitions import PERIODS
from orchestration.resources import HqdSettings, RunLock, dbt_cli_resource
from tools import browser

PERIOD = "2024Q4"  # the last configured quarter, which `hqd run` runs


class _Suites(html.parser.HTMLParser):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.suites: dict[str, dict[str, str]] = {}
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "section" and "data-suite" in a:
            self.suites[a["data-suite"]] = a


def _run_record(root: Path) -> list[dict]:
    (path,) = (root / "quality" / "runs").glob("*.json")  # the session's one run
    return json.loads(path.read_text(encoding="utf-8"))


def test_the_job_writes_the_quality_page_of_every_suite(built_warehouse):
    assert built_warehouse.exit_code == 0, built_warehouse.output
    latest = built_warehouse.root / "quality" / "quality.html"
    in_report = built_warehouse.root / "reports" / PERIOD / "quality.html"
    assert latest.is_file() and in_report.is_file()
    # the report pack's index links both documents beside it
    index = (built_warehouse.root / "reports" / PERIOD / "index.html").read_text(encoding="utf-8")
    assert 'href="quality.html"' in index and 'href="dbt-docs.html"' in index
    record = {r["name"].removeprefix("ge_"): r for r in _run_record(built_warehouse.root)}
    suites = set(quality.load_suites())
    assert set(record) == suites  # the raw step's suites too: every suite persisted its result
    for page in (latest, in_report):
        shown = _Suites(page.read_text(encoding="utf-8")).suites
        assert set(shown) == suites
        for name, section in shown.items():
            result = record[name]["result"]
            assert section["data-status"] in {"passed", "warning"}, name  # the sample passes every blocking rule
            assert int(section["data-evaluated"]) == result["validation"]["statistics"]["evaluated_expectations"]
            assert int(section["data-failed"]) == result["validation"]["statistics"]["unsuccessful_expectations"]


def test_dbt_docs_are_one_offline_file_beside_the_publication_and_in_the_report_folder(built_warehouse):
    page = built_warehouse.root / "published" / "docs" / "dbt-docs.html"
    copy = built_warehouse.root / "reports" / PERIOD / "dbt-docs.html"
    assert page.is_file() and copy.read_bytes() == page.read_bytes()
    text = page.read_text(encoding="utf-8")
    assert dbt_docs.fetched_urls(text) == []
    # the manifest and catalog are inside: the marts, their columns and the exposures of the reports
    nodes = ("model.hqd.fct_region_assessment", "exposure.hqd.region_feedback_letters", "exposure.hqd.bi_publication")
    for name in nodes:
        assert name in text, name
    assert '"send_anonymous_usage_stats": false' in text  # the page inserts a tracker script from a CDN otherwise
    assert "dbt docs: " in built_warehouse.output


def _docs_only(root: Path, warehouse: Path, publish: Path) -> dict:
    """The docs step alone, as the job runs it after publishing, on the given warehouse and publication."""
    hqd = HqdSettings(warehouse=str(warehouse), publish_dir=str(publish), quality_dir=str(root / "quality"))
    result = materialize(
        [published_docs],
        partition_key=PERIODS.get_last_partition_key(),
        resources={"dbt": dbt_cli_resource(), "hqd": hqd, "run_lock": RunLock(hqd=hqd)},
        instance=DagsterInstance.ephemeral(),
    )
    assert result.success
    (materialization,) = result.asset_materializations_for_node("published__docs")
    return {k: v.value for k, v in materialization.metadata.items()}


def test_dbt_docs_are_regenerated_only_when_the_schema_changed(built_warehouse, tmp_path: Path):
    shutil.copy(built_warehouse.path, tmp_path / "hqd.duckdb")
    publish = tmp_path / "published"
    shutil.copytree(built_warehouse.root / "published" / "docs", publish / "docs")
    page = publish / "docs" / "dbt-docs.html"
    before = page.read_bytes()

    same = _docs_only(tmp_path, tmp_path / "hqd.duckdb", publish)
    assert same["regenerated"] is False and page.read_bytes() == before

    con = duckdb.connect(str(tmp_path / "hqd.duckdb"))
    try:
        con.execute("comment on column marts.dim_region.region_code is '地区代码（测试注释）'")
    finally:
        con.close()
    changed = _docs_only(tmp_path, tmp_path / "hqd.duckdb", publish)
    assert changed["regenerated"] is True and changed["docs_key"] != same["docs_key"]
    # dbt's catalog read the new comment (the page holds the catalog as JSON with \\u escapes)
    assert json.dumps("地区代码（测试注释）") in page.read_text(encoding="utf-8")


@pytest.mark.skipif(browser.missing() is not None, reason=str(browser.missing()))
def test_both_pages_make_no_network_request_in_chromium(built_warehouse, tmp_path: Path):
    # the check can fail: a page that fetches is seen
    control = tmp_path / "control.html"
    control.write_text('<html><body><img src="http://example.invalid/x.png"></body></html>', encoding="utf-8")
    assert browser.render(control, tmp_path).page_requests == ["http://example.invalid/x.png"]

    folder = built_warehouse.root / "reports" / PERIOD
    # what each page shows once loaded (dbt's is drawn by its scripts from the manifest inside)
    for name, shown in (("quality.html", "数据质量报告"), ("dbt-docs.html", "fct_region_assessment")):
        rendered = browser.render(folder / name, tmp_path)
        assert rendered.page_requests == [], name
        assert shown in rendered.dom, name
