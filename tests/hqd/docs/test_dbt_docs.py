"""dbt's static docs beside the publication: what counts as a network fetch, the key that saves a second dbt
invocation, and the atomic install that refuses a page that would fetch."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from hqd.docs import dbt_docs
from hqd.settings import settings

FETCHING = """<!DOCTYPE html><html><head>
<link rel="stylesheet" href="https://cdn.example.com/bootstrap.css">
<link rel="icon" href="favicon.ico">
<script src="//cdn.example.com/sp.js"></script>
<style>body { background: url("http://example.com/bg.png") } @import 'https://fonts.example.com/x.css';</style>
<script>var s = document.createElement('script'); s.src = "//d1fc8wv8zag5ca.cloudfront.net/2.9.0/sp.js";
var t = '<img src="https://in.a.string/x.png">';</script>
</head><body>
<img srcset="local.png 1x, https://img.example.com/x2.png 2x">
<a href="https://docs.getdbt.com">a link is not fetched when the page loads</a>
<div style="background-image: url(//cdn.example.com/tile.png)"></div>
</body></html>"""


def test_fetched_urls_are_those_the_browser_loads_with_the_page():
    assert dbt_docs.fetched_urls(FETCHING) == [
        "https://cdn.example.com/bootstrap.css",
        "//cdn.example.com/sp.js",
        "http://example.com/bg.png",
        "https://fonts.example.com/x.css",
        "https://img.example.com/x2.png",
        "//cdn.example.com/tile.png",
    ]
    assert dbt_docs.fetched_urls("<html><body><script>var a = 1;</script><img src='x.png'></body></html>") == []


def test_docs_args_never_turn_tracking_on():
    args = dbt_docs.docs_args(settings(target="duckdb"))
    assert args[:3] == ["docs", "generate", "--static"] and "--no-send-anonymous-usage-stats" in args


def test_the_key_follows_the_warehouse_schema(tmp_path: Path):
    config = settings(warehouse=tmp_path / "w.duckdb")
    con = duckdb.connect(str(config.warehouse))
    try:
        con.execute("create schema marts; create table marts.t (a integer)")
        first = dbt_docs.docs_key(config, con)
        assert dbt_docs.docs_key(config, con) == first  # nothing changed: the same key
        con.execute("insert into marts.t values (1), (2)")
        assert dbt_docs.docs_key(config, con) == first  # rows are not what the docs show
        con.execute("comment on column marts.t.a is '地区代码'")
        commented = dbt_docs.docs_key(config, con)
        con.execute("alter table marts.t add column b varchar")
        widened = dbt_docs.docs_key(config, con)
        other_engine = dbt_docs.docs_key(config.with_overrides(target="postgres"), con)
    finally:
        con.close()
    assert len({first, commented, widened, other_engine}) == 4


def test_install_replaces_the_page_with_its_key_and_refuses_a_fetching_page(tmp_path: Path):
    publish = tmp_path / "published"
    good = tmp_path / "static_index.html"
    good.write_text("<html><body><script>var manifest = {};</script>dbt</body></html>", encoding="utf-8")
    page = dbt_docs.install_static_docs(good, publish, "k1")
    assert page == publish / "docs" / "dbt-docs.html" and page.read_text(encoding="utf-8") == good.read_text()
    assert dbt_docs.is_current(publish, "k1") and not dbt_docs.is_current(publish, "k2")

    bad = tmp_path / "bad.html"
    bad.write_text(FETCHING, encoding="utf-8")
    with pytest.raises(ValueError, match="would fetch 6 URL"):
        dbt_docs.install_static_docs(bad, publish, "k2")
    # the installed page and its key are untouched, and nothing half-written is left beside them
    assert page.read_text(encoding="utf-8") == good.read_text() and dbt_docs.is_current(publish, "k1")
    assert sorted(p.name for p in page.parent.iterdir()) == ["dbt-docs.html", "dbt-docs.key"]

    report = dbt_docs.copy_into(tmp_path / "reports" / "2024Q4", publish)
    assert report.name == "dbt-docs.html" and report.read_bytes() == page.read_bytes()


def test_the_docs_run_in_their_own_folder_with_the_builds_partial_parse(tmp_path: Path):
    run = tmp_path / "runs" / "r1"
    run.mkdir(parents=True)
    (run / "partial_parse.msgpack").write_bytes(b"parsed")
    (run / "run_results.json").write_text("{}", encoding="utf-8")
    target = dbt_docs.docs_target_path(run)
    assert target == run / "docs" and (target / "partial_parse.msgpack").read_bytes() == b"parsed"
    # without the build's manifest dbt must compile; with it, it reuses the build's compiled SQL
    assert not dbt_docs.has_build_manifest(target)
    assert "--no-compile" not in dbt_docs.docs_args(settings(target="duckdb"), compiled=False)
    (run / "manifest.json").write_text('{"nodes": {}}', encoding="utf-8")
    target = dbt_docs.docs_target_path(run)
    assert (
        dbt_docs.has_build_manifest(target)
        and (target / "manifest.json").read_text(encoding="utf-8") == '{"nodes": {}}'
    )
    assert dbt_docs.docs_args(settings(target="duckdb"), compiled=True)[-1] == "--no-compile"
