"""dbt's documentation site as one static file beside the publication: `<publish_dir>/docs/dbt-docs.html`.

`dbt docs generate --static` writes the site with its manifest and catalog inlined (target/static_index.html),
which opens from a file. It loads nothing from the network as long as dbt's usage tracking is off (the page
would otherwise insert a tracker script from a CDN): the project turns it off and the arguments here do too;
`fetched_urls` finds any tag or stylesheet that would still fetch, and `install_static_docs` refuses such a file.

Generating it is a second dbt invocation per run (about 4 s on the sample: parse, compile, catalog queries), so it
is keyed: the hash of what the site shows (the project's dbt sources, dbt's version, the target, and the
warehouse's schemas, columns, types and comments) is kept beside the file, and the site is regenerated only
when that key changes.
"""

from __future__ import annotations

import hashlib
import html.parser
import os
import re
import shutil
from importlib import metadata
from pathlib import Path

import duckdb

from hqd.settings import Settings

DOCS_DIR = "docs"
DOCS_FILE = "dbt-docs.html"
KEY_FILE = "dbt-docs.key"
STATIC_INDEX = "static_index.html"
# the dbt sources the site is made of (dbt_project.yml's model, macro, seed and test paths)
SOURCE_DIRS = ("models", "macros", "tests/dbt", "analyses")
SOURCE_FILES = ("dbt_project.yml",)

# attributes through which a browser fetches a resource when the page loads (<a href> is only followed on click)
FETCHING_ATTRIBUTES = {
    "script": ("src",),
    "link": ("href",),
    "img": ("src", "srcset"),
    "iframe": ("src",),
    "frame": ("src",),
    "source": ("src", "srcset"),
    "video": ("src", "poster"),
    "audio": ("src",),
    "embed": ("src",),
    "object": ("data",),
    "input": ("src",),
    "track": ("src",),
}
REMOTE = re.compile(r"^\s*(https?:)?//", re.IGNORECASE)
CSS_REMOTE = re.compile(r"""(?:url\(\s*['"]?|@import\s+['"])\s*((?:https?:)?//[^'")\s]+)""", re.IGNORECASE)


def published_docs_path(publish_dir: Path) -> Path:
    return Path(publish_dir) / DOCS_DIR / DOCS_FILE


def docs_args(settings: Settings, *, compiled: bool = False) -> list[str]:
    """`dbt docs generate --static` on the settings' target, never tracking (the page would load a tracker).
    `compiled`: the folder holds the build's manifest, whose compiled SQL the site shows, so dbt compiles nothing
    again (`--no-compile`: 5.6 s instead of 15.6 s on the sample, measured under load)."""
    args = ["docs", "generate", "--static", "--target", settings.target, "--no-send-anonymous-usage-stats"]
    return [*args, "--no-compile"] if compiled else args


def docs_target_path(run_target: Path) -> Path:
    """The docs invocation's own folder inside the run's dbt folder: it writes a manifest and run results of its
    own, which must not replace the build's. The build's partial parse and manifest (with the SQL it compiled)
    are copied in, so dbt neither parses nor compiles again (`has_build_manifest`)."""
    target = Path(run_target) / "docs"
    target.mkdir(parents=True, exist_ok=True)
    for name in ("partial_parse.msgpack", "manifest.json"):
        built = Path(run_target) / name
        if built.is_file():
            shutil.copyfile(built, target / name)
    return target


def has_build_manifest(target: Path) -> bool:
    return (Path(target) / "manifest.json").is_file()


def _source_files(project_dir: Path, seeds_dir: Path) -> list[Path]:
    files = [project_dir / name for name in SOURCE_FILES if (project_dir / name).is_file()]
    for folder in [*(project_dir / d for d in SOURCE_DIRS), seeds_dir]:
        if folder.is_dir():
            files.extend(p for p in folder.rglob("*") if p.is_file())
    return sorted(set(files))


def schema_listing(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    """Every relation's columns, types and comments in the warehouse: what dbt's catalog reads from it."""
    return con.execute(
        """
        select 'column', schema_name, table_name, column_name, data_type, coalesce(comment, '')
        from duckdb_columns()
        where database_name = current_database() and not internal
        union all
        select 'table', schema_name, table_name, '', '', coalesce(comment, '')
        from duckdb_tables()
        where database_name = current_database() and not internal
        union all
        select 'view', schema_name, view_name, '', '', coalesce(comment, '')
        from duckdb_views()
        where database_name = current_database() and not internal
        order by all
        """
    ).fetchall()


def docs_key(settings: Settings, con: duckdb.DuckDBPyConnection) -> str:
    """The hash of everything the static site shows; equal keys mean the file on disk is still right."""
    digest = hashlib.sha256()
    versions = f"dbt {metadata.version('dbt-core')} {metadata.version('dbt-duckdb')}"
    digest.update(f"{versions}\ntarget {settings.target}\n".encode())
    project = settings.project_dir
    for path in _source_files(project, settings.seeds_dir):
        name = path.relative_to(project).as_posix() if path.is_relative_to(project) else str(path)
        digest.update(f"{name}\n".encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    for row in schema_listing(con):
        digest.update(repr(row).encode())
    return digest.hexdigest()


def is_current(publish_dir: Path, key: str) -> bool:
    """The published site was made from the same sources and schema."""
    page = published_docs_path(publish_dir)
    key_file = page.with_name(KEY_FILE)
    return page.is_file() and key_file.is_file() and key_file.read_text(encoding="utf-8").strip() == key


class _FetchFinder(html.parser.HTMLParser):
    """Collects the URLs a browser would fetch while loading the page: tag attributes and CSS in <style>
    blocks and style attributes. Script text is not read as markup (HTMLParser keeps it as data)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is None:
                continue
            if name in FETCHING_ATTRIBUTES.get(tag, ()):
                candidates = [part.strip().split(" ")[0] for part in value.split(",")] if name == "srcset" else [value]
                self.urls.extend(c.strip() for c in candidates if REMOTE.match(c))
            elif name == "style":
                self.urls.extend(CSS_REMOTE.findall(value))
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.urls.extend(CSS_REMOTE.findall(data))


def fetched_urls(text: str) -> list[str]:
    """The http(s) or protocol-relative URLs that loading this HTML would fetch (script, link, img, … and CSS)."""
    finder = _FetchFinder()
    finder.feed(text)
    finder.close()
    return finder.urls


def install_static_docs(static_index: Path, publish_dir: Path, key: str) -> Path:
    """Put dbt's static site at <publish_dir>/docs/dbt-docs.html (replaced atomically) with its key beside it.

    ValueError if the page would fetch anything from the network: it must open on a closed network.
    """
    text = Path(static_index).read_text(encoding="utf-8")
    remote = fetched_urls(text)
    if remote:
        raise ValueError(f"{static_index} would fetch {len(remote)} URL(s) from the network, e.g. {remote[:3]}")
    page = published_docs_path(publish_dir)
    page.parent.mkdir(parents=True, exist_ok=True)
    tmp = page.with_name(f".{page.name}.{os.getpid()}.tmp")
    try:
        shutil.copyfile(static_index, tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, page)
    finally:
        tmp.unlink(missing_ok=True)
    key_tmp = page.with_name(f".{KEY_FILE}.{os.getpid()}.tmp")
    key_tmp.write_text(key + "\n", encoding="utf-8")
    os.replace(key_tmp, page.with_name(KEY_FILE))
    return page


def copy_into(report_dir: Path, publish_dir: Path) -> Path:
    """A copy of the published site in a report folder as dbt-docs.html (a copy, not a link: the folder is
    handed on as it is)."""
    source = published_docs_path(publish_dir)
    target = Path(report_dir) / DOCS_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        shutil.copyfile(source, tmp)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target
