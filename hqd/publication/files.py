"""Publishes the marts for readers: an immutable, read-only release per run, switched in atomically.

DuckDB allows one writer or many readers of a file, never both, so BI tools must never open the warehouse
itself. After a run whose blocking checks pass, every table in schema `marts` is copied (by DuckDB, set-based)
into a release of its own:

    <publish_dir>/releases/<YYYYmmddTHHMMSSffffff>-<run_id>/
        hqd_marts.duckdb          schema marts (one table per mart) and marts_zh (the Chinese-labelled views,
                                  over the release's own tables); every table, view and column commented
        hqd_marts.duckdb.wal      a symlink that cannot be followed: see "Read-only on disk" below
        parquet/<table>/          one folder per mart, descriptions as Arrow field and schema metadata:
            <table>_<year>.parquet    a mart with an `assessment_year` column: one file per assessment year
            <table>.parquet           a mart without one (or with no rows): one file
        manifest.json             run, row counts, columns, each file's fingerprint and sha256, check outcomes
    <publish_dir>/current -> releases/<name>   (relative symlink, replaced atomically)

Incremental: each mart's rows are fingerprinted per assessment year in DuckDB (count and the sum of the rows'
64-bit hashes, order-independent) and the fingerprints go into the manifest with the mart's shape (its DDL,
columns and descriptions). The next publication compares them with the current release's: a Parquet file whose
year is unchanged is hard-linked from that release (same inode, never written again: every released file is
0444 and nothing opens one for writing), and the release's DuckDB file starts as a byte copy of the current one
(verified against its manifest sha256 while copying), in which only the changed years are deleted and inserted
again from the warehouse. Marts without a year column (dim_indicator, dim_region, fct_rejected_submissions,
fct_submission_file_quality) are compared whole and rewritten whole when they changed; a mart whose shape changed
is rewritten whole; `full_refresh=True`, another DuckDB version or a current release of an older manifest version
write everything from the warehouse. The switch, immutability and read-only guard are unchanged: the new release
is complete in its `.tmp-` folder before `current` moves.

Memory and time at national scale (54.6 M mart rows, a 3 GB DuckDB file, 140 Parquet files): the connection the
publication opens is capped at HQD_DUCKDB_MEMORY_LIMIT (`memory_limit`), else DuckDB keeps every block it read and
wrote cached (6.6 GB resident; 3.4 GB with 2500MB); the current release's DuckDB file is copied by the kernel,
hashed by a thread, while DuckDB fingerprints the marts; Parquet files are encoded on two threads while the next
batch is read. What remains is DuckDB's own work: the inserts (the full copy's largest part), the fingerprints'
scan of every row, pyarrow's encoding.

Readers open `<publish_dir>/current/hqd_marts.duckdb` with read_only=True. A release is never modified after
the switch, only removed later by retention, so a reader that opened an earlier release keeps a valid file.
A blocked or failed publication leaves `current` and every existing release exactly as they were.

Descriptions come from dbt's manifest (`descriptions_from_dbt_manifest`): `COMMENT ON` in the DuckDB file (what
duckdb_columns().comment, DBeaver and SQLAlchemy's inspector show) and `description` metadata in the Parquet files.

Read-only on disk: the files are mode 0444, which root ignores, and DuckDB keeps no read-only flag in a database
file. What stops a client that opens the file read-write (duckdb.connect(path), a BI driver's default) is the
write-ahead log: DuckDB commits every change through `<file>.wal` beside the file, and in a release that name is a
symlink into a folder that does not exist. Opening, reading and read-only attaching work as usual (a missing WAL
is no WAL); every commit fails with "Cannot open file ...wal: No such file or directory", even as root, and no
row, table or comment changes. A large failed insert may still append unused blocks to the end of the file (its
first bytes, what the manifest's sha256 covered, stay as published). Someone who deletes the symlink can write:
it stops accidents, not intent; BI logins should still open read-only.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import re
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent import futures
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from hqd import build_state

logger = logging.getLogger(__name__)

MARTS_SCHEMA = "marts"
RELEASES_DIR = "releases"
CURRENT_LINK = "current"
DUCKDB_FILE = "hqd_marts.duckdb"
PARQUET_DIR = "parquet"
MANIFEST_FILE = "manifest.json"
TMP_PREFIX = ".tmp-"
MANIFEST_VERSION = 3  # 2: views (marts_zh) and descriptions; 3: Parquet per mart and year, fingerprints, reuse
# a mart with this integer column is published (and compared) per value of it
PARTITION_COLUMN = "assessment_year"
# the part key of a mart published as one file (no year column, or no rows)
WHOLE_PART = "all"
NULL_PART = "null"
COPY_CHUNK_BYTES = 8 << 20
# the Chinese-labelled views for BI (models/marts_zh): recreated in the release over its own tables
VIEW_SCHEMAS = ("marts_zh",)
# where `<file>.wal` points in a release: a folder that never exists, so DuckDB can open no WAL to commit into
WAL_GUARD_TARGET = ".read-only-release/no-wal-here"
PARQUET_ROWS_PER_BATCH = 100_000
# threads encoding Parquet beside the one reading DuckDB's batches (the publication's machines have 2 cores or more)
PARQUET_WRITE_THREADS = 2
READ_ONLY_MODE = 0o444
# a .tmp- dir this old cannot belong to a publication still running (one writer process at a time)
STALE_TMP_SECONDS = 3600
# run ids become part of a directory name: no separators, no leading dot
RUN_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")
RELEASE_NAME_PATTERN = re.compile(r"\d{8}T\d{12}-.+")


@dataclass
class CheckOutcome:
    """One quality check's result, as recorded in the manifest."""

    name: str  # e.g. "ge_fct_region_assessment"
    asset: str  # e.g. "marts/fct_region_assessment"
    passed: bool
    blocking: bool  # False = a warning only
    detail: str = ""


@dataclass
class RelationDocs:
    """What BI shows about a published table or view: its description and its columns' descriptions."""

    description: str = ""
    columns: dict[str, str] | None = None


def descriptions_from_dbt_manifest(manifest_path: Path) -> dict[tuple[str, str], RelationDocs]:
    """(schema, relation name) → its dbt description and column descriptions, from dbt's manifest.json.

    Every model of the project is listed under the schema and alias dbt built it as; the publication uses those
    of the schemas it publishes. A missing manifest is an error: a release must not lose its descriptions
    silently."""
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    docs: dict[tuple[str, str], RelationDocs] = {}
    for node in manifest["nodes"].values():
        if node.get("resource_type") != "model":
            continue
        name = node.get("alias") or node["name"]
        docs[(node["schema"], name)] = RelationDocs(
            description=(node.get("description") or "").strip(),
            columns={c["name"]: (c.get("description") or "").strip() for c in node.get("columns", {}).values()},
        )
    return docs


class PublicationBlocked(RuntimeError):
    """A blocking check failed: nothing was written and the previous publication is untouched."""

    def __init__(self, failed: Sequence[CheckOutcome]) -> None:
        self.failed = list(failed)
        names = "; ".join(
            f"{c.name} on {c.asset} ({c.detail})" if c.detail else f"{c.name} on {c.asset}" for c in self.failed
        )
        super().__init__(
            f"publication withheld: {len(self.failed)} blocking check(s) failed: {names}. Everything landed and "
            "staged; the previous publication is untouched. The failed expectations (with the file, sheet, row and "
            "column of the first rows) are listed with each check and on the run's quality page (quality.html in the "
            "quality folder): correct the submission "
            "(a corrected file supersedes) or, if the rule is wrong, the suite in expectations/, then run again"
        )


@dataclass
class Publication:
    release_dir: Path
    duckdb_path: Path
    parquet_dir: Path
    manifest_path: Path
    manifest: dict[str, Any]


def publish_marts(
    warehouse: Path,
    publish_dir: Path,
    *,
    run_id: str,
    assessment_year: int | None,
    checks: list[CheckOutcome],
    keep_releases: int = 3,
    connection: duckdb.DuckDBPyConnection | None = None,
    descriptions: dict[tuple[str, str], RelationDocs] | None = None,
    full_refresh: bool = False,
    memory_limit: str = "",
) -> Publication:
    """Copy every table of schema `marts` and every view of `VIEW_SCHEMAS` into a new release and point
    `<publish_dir>/current` at it.

    `connection`, if given, must be a connection to `warehouse` (e.g. the one dbt-duckdb holds in this
    process); it is left open. `descriptions` ((schema, name) → RelationDocs, see descriptions_from_dbt_manifest)
    become comments and Parquet metadata. What is unchanged since the current release is reused from it (see the
    module's docstring) unless `full_refresh`. `memory_limit` (e.g. "2500MB", HqdSettings.duckdb_memory_limit)
    caps DuckDB in the connection opened here (not in a given one, whose owner set it): without it DuckDB keeps
    every block it read and wrote cached up to 80 % of the machine's memory. Raises PublicationBlocked, before
    writing anything, if a blocking check failed.
    """
    failed = [c for c in checks if c.blocking and not c.passed]
    if failed:
        raise PublicationBlocked(failed)
    if keep_releases < 1:
        raise ValueError(f"keep_releases must be at least 1, got {keep_releases}")
    if not RUN_ID_PATTERN.fullmatch(run_id):
        raise ValueError(f"run_id {run_id!r} is not usable in a directory name (letters, digits, '_', '.', '-')")
    current = publish_dir / CURRENT_LINK
    if os.path.lexists(current) and not current.is_symlink():
        raise ValueError(f"{current} exists and is not a symlink; refusing to replace it")
    # duckdb.connect would silently create an empty warehouse
    if connection is None and not warehouse.is_file():
        raise FileNotFoundError(f"warehouse file not found: {warehouse}")

    docs = descriptions or {}
    con = connection if connection is not None else duckdb.connect(str(warehouse))
    if connection is None and memory_limit:
        con.execute(f"set memory_limit = {_quote_literal(memory_limit)}")
    try:
        tables = _mart_tables(con, warehouse)
        base = None if full_refresh else _reusable_base(publish_dir)
        now = datetime.now(UTC)
        name = f"{now:%Y%m%dT%H%M%S%f}-{run_id}"
        releases = publish_dir / RELEASES_DIR
        releases.mkdir(parents=True, exist_ok=True)
        final = releases / name
        tmp = releases / f"{TMP_PREFIX}{name}"
        tmp.mkdir()
        renamed = False
        copying = None
        try:
            # the current release's DuckDB file is copied (the kernel's copy and a hashing thread, off the GIL)
            # while DuckDB fingerprints the marts: at national scale a 3 GB file beside 54 M rows hashed
            copying = _start_copy_of_base(base, tmp / DUCKDB_FILE)
            builds = build_state.models(con)
            # None: no staging view (a warehouse built by something else), so every row is fingerprinted
            landed = functools.cache(functools.partial(build_state.first_year_landed_after, con))
            plans = [
                _plan_mart(con, table, docs, _years_since_base(table, base, builds.get(table), landed))
                for table in tables
            ]
            marts, views, written, stats = _copy_marts(con, plans, tmp, docs, base, name, copying)
            for table, built in builds.items():
                if table in marts:  # what the next publication compares its build with
                    marts[table]["build"] = {"load_seq_through": built[0], "fingerprint": built[1]}
            manifest = {
                "manifest_version": MANIFEST_VERSION,
                "release": name,
                "run_id": run_id,
                "assessment_year": assessment_year,
                "published_at": now.isoformat(),
                "source_warehouse": warehouse.name,  # file name only: paths of the build machine stay private
                "duckdb_version": duckdb.__version__,
                "duckdb_file": DUCKDB_FILE,
                "duckdb_sha256": _sha256(tmp / DUCKDB_FILE),
                "reuse": stats,
                # rows read to fingerprint the marts: all of them, or of a mart rebuilt by year only the years
                # new loads touched since the base release (_years_since_base)
                "rows_fingerprinted": sum(plan.rows_fingerprinted for plan in plans),
                "marts": marts,
                "views": views,
                "checks": [asdict(c) for c in checks],
            }
            manifest_path = tmp / MANIFEST_FILE
            manifest_path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
            # a reused Parquet file is a hard link to a released file: already 0444 and durable, never touched
            for path in [tmp / DUCKDB_FILE, manifest_path, *written]:
                path.chmod(READ_ONLY_MODE)
                _fsync(path)
            # after the last write of the file (the checkpoint): from here no DuckDB client can commit to it
            os.symlink(WAL_GUARD_TARGET, tmp / f"{DUCKDB_FILE}.wal")
            for folder in (tmp / PARQUET_DIR).iterdir():
                _fsync(folder)
            _fsync(tmp / PARQUET_DIR)
            _fsync(tmp)
            if os.path.lexists(final):
                raise FileExistsError(f"release {final} already exists")
            tmp.rename(final)
            renamed = True
            _fsync(releases)
            _switch_current(publish_dir, name)
        except BaseException:
            if copying is not None:
                futures.wait([copying])  # nothing may still write into the folder removed here
            shutil.rmtree(tmp, ignore_errors=True)
            if renamed and _current_release_name(publish_dir) != name:
                shutil.rmtree(final, ignore_errors=True)
            raise
    finally:
        if connection is None:
            con.close()

    # the publication is complete here; a failed clean-up must not turn it into a failure
    try:
        _apply_retention(releases, keep_releases, current_name=name)
    except OSError:
        logger.warning("retention in %s failed; older releases left in place", releases, exc_info=True)

    release_dir = final.resolve()
    return Publication(
        release_dir=release_dir,
        duckdb_path=release_dir / DUCKDB_FILE,
        parquet_dir=release_dir / PARQUET_DIR,
        manifest_path=release_dir / MANIFEST_FILE,
        manifest=manifest,
    )


def parquet_files(manifest: dict[str, Any], table: str) -> list[str]:
    """The Parquet files of one mart in a release (paths relative to the release folder), year by year."""
    return [part["file"] for part in manifest["marts"][table]["parts"]]


def remove_leftovers(publish_dir: Path) -> list[str]:
    """Remove every half-written release (`releases/.tmp-*`) and temporary `current` link a killed publication
    left, whatever their age. Only for a caller that knows no other publication is running on this folder: the
    job holds the warehouse's run lock for the whole run. (`hqd publish files`, which holds no lock, leaves
    recent ones to the one-hour rule of the retention.) `current` and complete releases are never touched."""
    removed = []
    releases = publish_dir / RELEASES_DIR
    if releases.is_dir():
        for leftover in sorted(releases.glob(f"{TMP_PREFIX}*")):
            if leftover.is_dir() and not leftover.is_symlink():
                shutil.rmtree(leftover, ignore_errors=True)
            else:
                leftover.unlink(missing_ok=True)
            removed.append(f"{RELEASES_DIR}/{leftover.name}")
    if publish_dir.is_dir():
        for link in sorted(publish_dir.glob(f".{CURRENT_LINK}-*")):
            if link.is_symlink():
                link.unlink(missing_ok=True)
                removed.append(link.name)
    for name in removed:
        logger.info("removed %s, left by a publication that did not finish", name)
    return removed


def current_publication(publish_dir: Path) -> Publication | None:
    """The release `<publish_dir>/current` points to, or None if nothing was published yet.

    Paths are resolved to the release directory, so they stay valid (and unchanged) after a later switch.
    """
    current = publish_dir / CURRENT_LINK
    if not os.path.lexists(current):
        return None
    release_dir = current.resolve(strict=True)  # a dangling `current` is an error, not "never published"
    manifest_path = release_dir / MANIFEST_FILE
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    return Publication(
        release_dir=release_dir,
        duckdb_path=release_dir / DUCKDB_FILE,
        parquet_dir=release_dir / PARQUET_DIR,
        manifest_path=manifest_path,
        manifest=manifest,
    )


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _mart_tables(con: duckdb.DuckDBPyConnection, warehouse: Path) -> list[str]:
    # views count too: a mart materialised as a view is still something BI reads, and is copied as a table
    rows = con.execute(
        """
        select table_name from information_schema.tables
        where table_catalog = current_database() and table_schema = ?
        order by table_name
        """,
        [MARTS_SCHEMA],
    ).fetchall()
    tables = [r[0] for r in rows]
    if not tables:
        raise ValueError(f"warehouse {warehouse.name} has no schema '{MARTS_SCHEMA}' or no tables in it")
    for table in tables:
        # the name becomes a parquet file name
        if table in {".", ".."} or "/" in table or "\\" in table or "\0" in table:
            raise ValueError(f"mart table name {table!r} in {warehouse.name} cannot be used as a file name")
    return tables


@dataclass
class _MartPlan:
    """One mart as the warehouse holds it now: its DDL, its shape and its rows' fingerprint per part."""

    table: str
    ddl: str | None  # None: a view in the warehouse, published as a table
    partition_column: str | None
    shape_sha256: str  # DDL, columns and descriptions: a change rewrites the whole mart
    parts: dict[str, tuple[int, str]]  # part key ("2023", "null" or "all") -> (row count, fingerprint)
    rows_fingerprinted: int = 0


@dataclass(frozen=True)
class _YearsSince:
    """A mart rebuilt by year whose build moved on only by new loads since the base release: its years before
    `first_year` are the base's rows, fingerprints and all (`base_parts`)."""

    first_year: int
    base_parts: dict[str, dict[str, Any]]
    shape_sha256: str


def _years_since_base(
    table: str, base: Publication | None, built: tuple[int, str] | None, landed: Callable[[int], int | None]
) -> _YearsSince | None:
    """Which years of a mart may differ from the base release without reading them. dbt rebuilds a mart by
    year from the first year new loads touch, and by load only the new loads' rows (whose years are those loads'
    years), so when the mart's definitions (build fingerprint) are the ones the base was published from and its
    build has only taken in loads since, every row of an earlier year is the base's. Anything else (no build
    state, changed definitions, raw rebuilt, a full refresh: no base) fingerprints every row."""
    if base is None or built is None:
        return None
    before = base.manifest["marts"].get(table) or {}
    was = before.get("build") or {}
    through = was.get("load_seq_through")
    if was.get("fingerprint") != built[1] or not isinstance(through, int) or not 0 < through <= built[0]:
        return None
    first_year = landed(through)
    if first_year is None:
        return None
    return _YearsSince(first_year, {p["key"]: p for p in before.get("parts", [])}, before.get("shape_sha256", ""))


def _plan_mart(
    con: duckdb.DuckDBPyConnection,
    table: str,
    docs: dict[tuple[str, str], RelationDocs],
    since: _YearsSince | None = None,
) -> _MartPlan:
    source_name = con.execute("select current_database()").fetchone()[0]
    columns = _columns(con, source_name, MARTS_SCHEMA, table)
    ddl_row = con.execute(
        "select sql from duckdb_tables() where database_name = ? and schema_name = ? and table_name = ?",
        [source_name, MARTS_SCHEMA, table],
    ).fetchone()
    ddl = ddl_row[0] if ddl_row else None
    integer_types = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER"}
    partition = (
        PARTITION_COLUMN if any(c["name"] == PARTITION_COLUMN and c["type"] in integer_types for c in columns) else None
    )
    relation_docs = docs.get((MARTS_SCHEMA, table), RelationDocs())
    shape = json.dumps(
        {"ddl": ddl, "columns": columns, "partition": partition, "docs": asdict(relation_docs)},
        ensure_ascii=False,
        sort_keys=True,
    )
    shape_sha256 = hashlib.sha256(shape.encode()).hexdigest()
    src = f"{_quote_ident(source_name)}.{_quote_ident(MARTS_SCHEMA)}.{_quote_ident(table)}"
    key = f"coalesce(cast({_quote_ident(partition)} as varchar), '{NULL_PART}')" if partition else f"'{WHOLE_PART}'"
    kept: dict[str, tuple[int, str]] = {}
    where = ""
    if partition and since is not None and since.shape_sha256 == shape_sha256:
        # the years before the first one new loads touched are the base's: its fingerprints, not a scan
        kept = {
            k: (int(p["row_count"]), str(p["fingerprint"]))
            for k, p in since.base_parts.items()
            if k not in (NULL_PART, WHOLE_PART) and int(k) < since.first_year
        }
        column = _quote_ident(partition)
        where = f"where {column} >= {int(since.first_year)} or {column} is null"
    # order-independent: the sum of the rows' 64-bit hashes modulo 2^64 (the row as a struct: every column)
    rows = con.execute(
        f"""
        select {key} as part, count(*) as n, sum(hash(hqd_row)::hugeint) % 18446744073709551616 as h
        from {src} as hqd_row {where} group by all order by all
        """
    ).fetchall()
    parts = {**kept, **{part: (n, f"{n}:{h}") for part, n, h in rows}}
    if kept and con.execute(f"select count(*) from {src}").fetchone()[0] != sum(n for n, _ in parts.values()):
        # rows came or went in a year the build should not have touched: trust nothing, read every row
        return _plan_mart(con, table, docs)
    parts = dict(sorted(parts.items()))  # the order a whole scan gives (group by all order by all)
    if not parts:  # no rows: one empty file, so every mart has at least one
        parts = {WHOLE_PART: (0, "0:0")}
    return _MartPlan(table, ddl, partition, shape_sha256, parts, sum(n for _, n, _ in rows))


def _reusable_base(publish_dir: Path) -> Publication | None:
    """The current release if a new one may reuse its files: same manifest version; else None (write all)."""
    try:
        base = current_publication(publish_dir)
    except (OSError, ValueError) as exc:
        logger.warning("the current release cannot be read (%s); everything is written afresh", exc)
        return None
    if base is None or base.manifest.get("manifest_version") != MANIFEST_VERSION:
        return None
    return base


def _part_file(table: str, key: str) -> str:
    name = f"{table}.parquet" if key == WHOLE_PART else f"{table}_{key}.parquet"
    return f"{PARQUET_DIR}/{table}/{name}"


def _parts_predicate(plan: _MartPlan, keys: Sequence[str]) -> str:
    """SQL selecting the rows of the given parts of a mart."""
    if WHOLE_PART in keys or plan.partition_column is None:
        return "true"
    column = _quote_ident(plan.partition_column)
    years = [str(int(k)) for k in keys if k != NULL_PART]
    terms = [f"{column} in ({', '.join(years)})"] if years else []
    if NULL_PART in keys:
        terms.append(f"{column} is null")
    return " or ".join(terms) or "false"


def _start_copy_of_base(base: Publication | None, target: Path) -> futures.Future[bool] | None:
    """Start copying the base release's DuckDB file to `target` in a thread (see _copy_verified); None if there is
    no base, or its file is missing or of another DuckDB version (then the release is built from the warehouse)."""
    if base is None or base.manifest.get("duckdb_version") != duckdb.__version__ or not base.duckdb_path.is_file():
        return None
    executor = futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="hqd-publish-copy")
    try:
        return executor.submit(_copy_verified, base.duckdb_path, target, base.manifest["duckdb_sha256"])
    finally:
        executor.shutdown(wait=False)


def _copy_verified(source: Path, target: Path, expected_sha256: str) -> bool:
    """Byte copy of a released file, checked against its released sha256: False (and no target) if it is not what
    was released. The kernel copies (shutil.copyfile: sendfile, no pass through Python) while a thread hashes the
    source (hashlib and file reads release the GIL): at national scale (a 3 GB file) 3-4 s instead of 7-9 s for
    reading, hashing and writing every chunk in Python."""
    digest = hashlib.sha256()
    failure: list[BaseException] = []

    def hash_source() -> None:
        try:
            with source.open("rb") as fh:
                while chunk := fh.read(COPY_CHUNK_BYTES):
                    digest.update(chunk)
        except BaseException as exc:  # re-raised in the caller's thread
            failure.append(exc)

    hasher = threading.Thread(target=hash_source, name="hqd-publish-sha256", daemon=True)
    hasher.start()
    try:
        shutil.copyfile(source, target)
    finally:
        hasher.join()
    if failure:
        target.unlink(missing_ok=True)
        raise failure[0]
    if digest.hexdigest() != expected_sha256:
        target.unlink()
        return False
    target.chmod(0o644)
    return True


def _copy_marts(
    con: duckdb.DuckDBPyConnection,
    plans: list[_MartPlan],
    release: Path,
    descriptions: dict[tuple[str, str], RelationDocs],
    base: Publication | None,
    release_name: str,
    copying: futures.Future[bool] | None = None,
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]], list[Path], dict[str, Any]]:
    """Copy each mart into <release>/hqd_marts.duckdb and <release>/parquet/, recreate the views of VIEW_SCHEMAS
    over them, comment everything; return the manifest entries of the marts and of the views, the files written
    (not reused) and what was reused. With a `base` release, unchanged parts are taken from it; `copying` (see
    _start_copy_of_base) is the copy of its DuckDB file, the release's starting point if it succeeds."""
    source_name = con.execute("select current_database()").fetchone()[0]
    source_db = _quote_ident(source_name)
    # a unique alias cannot collide with anything the caller's connection already has attached
    alias = f"hqd_publish_{uuid.uuid4().hex}"
    target_db = _quote_ident(alias)
    schema = _quote_ident(MARTS_SCHEMA)
    parquet_dir = release / PARQUET_DIR
    parquet_dir.mkdir()
    database = release / DUCKDB_FILE
    # the DuckDB file starts from the current release's if it is of this DuckDB version and intact
    from_base = copying is not None and copying.result()
    base_marts = base.manifest["marts"] if base is not None else {}
    marts: dict[str, dict[str, Any]] = {}
    views: dict[str, dict[str, Any]] = {}
    written: list[Path] = []
    stats = {
        "base_release": base.manifest["release"] if base is not None else None,
        "duckdb_from": "base_release" if from_base else "warehouse",
        "rows_copied": 0,
        "parquet_written": 0,
        "parquet_reused": 0,
    }
    # the caller's default catalog and schema, restored after the DDL below ran with the release as default
    previous = con.execute("select current_database(), current_schema()").fetchone()
    con.execute(f"attach {_quote_literal(str(database))} as {target_db}")
    try:
        in_release: set[str] = set()
        if from_base:
            # the views are recreated below from the warehouse's definitions; marts gone from it are dropped
            for view_schema in VIEW_SCHEMAS:
                con.execute(f"drop schema if exists {target_db}.{_quote_ident(view_schema)} cascade")
            in_release = {
                t
                for (t,) in con.execute(
                    "select table_name from duckdb_tables() where database_name = ? and schema_name = ?",
                    [alias, MARTS_SCHEMA],
                ).fetchall()
            }
            for gone in sorted(in_release - {p.table for p in plans}):
                con.execute(f"drop table {target_db}.{schema}.{_quote_ident(gone)}")
        else:
            con.execute(f"create schema {target_db}.{schema}")
        for plan in plans:
            table = plan.table
            src = f"{source_db}.{schema}.{_quote_ident(table)}"
            dst = f"{target_db}.{schema}.{_quote_ident(table)}"
            before = base_marts.get(table)
            same_shape = before is not None and before.get("shape_sha256") == plan.shape_sha256
            base_parts = {p["key"]: p for p in before["parts"]} if same_shape else {}
            changed = [k for k, (_, fp) in plan.parts.items() if base_parts.get(k, {}).get("fingerprint") != fp]
            if from_base and table in in_release and same_shape:
                # only the parts that changed (or are gone), each statement its own transaction (key indexes)
                stale = sorted(set(changed) | (base_parts.keys() - plan.parts.keys()))
                if stale:
                    con.execute(f"delete from {dst} where {_parts_predicate(plan, stale)}")
                if changed:
                    con.execute(f"insert into {dst} select * from {src} where {_parts_predicate(plan, changed)}")
                    stats["rows_copied"] += sum(plan.parts[k][0] for k in changed)
            else:
                if table in in_release:
                    con.execute(f"drop table {dst}")
                if plan.ddl:
                    # the warehouse's own DDL keeps the contract's primary keys and not-null constraints, which BI
                    # tools read (SQLAlchemy's get_pk_constraint)
                    _run_in(con, alias, plan.ddl)
                    con.execute(f"insert into {dst} select * from {src}")
                else:  # a mart materialised as a view is copied as a table
                    con.execute(f"create table {dst} as select * from {src}")
                stats["rows_copied"] += sum(n for n, _ in plan.parts.values())
            docs = descriptions.get((MARTS_SCHEMA, table), RelationDocs())
            if not (from_base and table in in_release and same_shape):
                # a patched table kept the base's comments: its shape, which includes its descriptions, is the same
                _comment(con, "table", dst, docs)
            _check_counts(con, plan, dst)
            (parquet_dir / table).mkdir()
            parts = []
            reuse = {}
            for key in plan.parts:
                part = base_parts.get(key) if key not in changed else None
                if part is not None and _link_released(base, part, release / _part_file(table, key)):
                    reuse[key] = {**part, "file": _part_file(table, key)}
            to_write = {k: release / _part_file(table, k) for k in plan.parts if k not in reuse}
            if to_write:
                # from the published copy, so the DuckDB file and the parquet file hold the same rows; one scan
                query = f"select * from {dst} where {_parts_predicate(plan, list(to_write))}"
                _write_parquet(con, query, to_write, docs, table, plan.partition_column)
            parts = []
            for key, (row_count, fingerprint) in plan.parts.items():
                if key in reuse:
                    parts.append(reuse[key])
                    stats["parquet_reused"] += 1
                    continue
                relative, path = _part_file(table, key), to_write[key]
                parquet_rows = pq.read_metadata(path).num_rows
                if parquet_rows != row_count:
                    raise RuntimeError(f"{relative} holds {parquet_rows} rows, the published table {row_count}")
                written.append(path)
                stats["parquet_written"] += 1
                parts.append(
                    {
                        "key": key,
                        "file": relative,
                        "row_count": row_count,
                        "fingerprint": fingerprint,
                        "bytes": path.stat().st_size,
                        "sha256": _sha256(path),
                        "written_in": release_name,
                    }
                )
            marts[table] = {
                "row_count": sum(n for n, _ in plan.parts.values()),
                "columns": _columns(con, alias, MARTS_SCHEMA, table),
                "partition_column": plan.partition_column,
                "shape_sha256": plan.shape_sha256,
                "parquet_dir": f"{PARQUET_DIR}/{table}",
                "parts": parts,
            }
        for view_schema in VIEW_SCHEMAS:
            rows = con.execute(
                """
                select view_name, sql from duckdb_views()
                where database_name = ? and schema_name = ? and not internal order by view_name
                """,
                [source_name, view_schema],
            ).fetchall()
            if rows:
                con.execute(f"create schema {target_db}.{_quote_ident(view_schema)}")
            for view, ddl in rows:
                # the view's own DDL names schema and table only (hqd.published_ref), so in the release it reads
                # the release's tables; one naming anything unpublished fails here, before the switch
                try:
                    _run_in(con, alias, ddl)
                except duckdb.Error as exc:
                    raise RuntimeError(
                        f"view {view_schema}.{view} cannot be published: it must read only the published marts "
                        f"(schema.table, no catalog): {exc}"
                    ) from exc
                dst = f"{target_db}.{_quote_ident(view_schema)}.{_quote_ident(view)}"
                _comment(con, "view", dst, descriptions.get((view_schema, view), RelationDocs()))
                views[f"{view_schema}.{view}"] = {
                    "row_count": con.execute(f"select count(*) from {dst}").fetchone()[0],
                    "columns": _columns(con, alias, view_schema, view),
                }
        # everything into the main file: a release must not depend on a .wal beside it
        con.execute(f"checkpoint {target_db}")
    finally:
        con.execute(f"use {_quote_ident(previous[0])}.{_quote_ident(previous[1])}")
        con.execute(f"detach database if exists {target_db}")
    return marts, views, written, stats


def _check_counts(con: duckdb.DuckDBPyConnection, plan: _MartPlan, relation: str) -> None:
    """The release's table holds exactly the warehouse's row count in every part (a patched copy included)."""
    if plan.partition_column is None or set(plan.parts) == {WHOLE_PART}:
        counts = {WHOLE_PART: con.execute(f"select count(*) from {relation}").fetchone()[0]}
    else:
        column = _quote_ident(plan.partition_column)
        counts = dict(
            con.execute(
                f"select coalesce(cast({column} as varchar), '{NULL_PART}'), count(*) from {relation} group by all"
            ).fetchall()
        )
    expected = {k: n for k, (n, _) in plan.parts.items()}
    if counts != expected:
        raise RuntimeError(f"the published {plan.table} holds {counts} rows per part, the warehouse {expected}")


def _link_released(base: Publication | None, part: dict[str, Any], target: Path) -> bool:
    """Hard-link an unchanged Parquet file of the base release into the new one (a copy where links are not
    possible); False if the released file is missing or not of its recorded size (then it is written again)."""
    if base is None:
        return False
    source = base.release_dir / part["file"]
    try:
        if source.stat().st_size != part["bytes"]:
            return False
    except OSError:
        return False
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)
        target.chmod(READ_ONLY_MODE)
    return True


def _run_in(con: duckdb.DuckDBPyConnection, database: str, ddl: str) -> None:
    """Run DuckDB's own `create ...` statement of a warehouse object with the release as the default catalog."""
    con.execute(f"use {_quote_ident(database)}")
    con.execute(ddl)


def _columns(con: duckdb.DuckDBPyConnection, database: str, schema: str, relation: str) -> list[dict[str, str]]:
    rows = con.execute(
        """
        select column_name, data_type from information_schema.columns
        where table_catalog = ? and table_schema = ? and table_name = ?
        order by ordinal_position
        """,
        [database, schema, relation],
    ).fetchall()
    return [{"name": n, "type": t} for n, t in rows]


def _comment(con: duckdb.DuckDBPyConnection, kind: str, relation: str, docs: RelationDocs) -> None:
    if docs.description:
        con.execute(f"comment on {kind} {relation} is {_quote_literal(docs.description)}")
    # a documented column the relation lacks (a manifest older than the warehouse) is no reason to fail
    present = {d[0] for d in con.execute(f"select * from {relation} limit 0").description}
    for column, text in (docs.columns or {}).items():
        if text and column in present:
            con.execute(f"comment on column {relation}.{_quote_ident(column)} is {_quote_literal(text)}")


def _write_parquet(
    con: duckdb.DuckDBPyConnection,
    query: str,
    paths: dict[str, Path],
    docs: RelationDocs,
    table: str,
    partition_column: str | None,
) -> None:
    """The query's rows as Parquet, one file per part key (`paths`: key → file; the rows of a part go to its file),
    with the descriptions as Arrow metadata (`description` on the schema and on each field: what pyarrow, pandas
    and Spark read back). DuckDB's COPY writes no field metadata, so pyarrow writes, from one scan of the query,
    batch by batch (memory stays flat at national scale: at most a batch's worth of rows waits per file, and one
    more is being written). The writes run on _OrderedWrites' threads while this one reads and splits the next
    batch: each file gets the same calls in the same order as from one thread, so the same bytes."""
    reader = con.execute(query).to_arrow_reader(PARQUET_ROWS_PER_BATCH)
    columns = docs.columns or {}
    fields = [
        field.with_metadata({"description": columns[field.name]}) if columns.get(field.name) else field
        for field in reader.schema
    ]
    metadata = {"table": table}
    if docs.description:
        metadata["description"] = docs.description
    schema = pa.schema(fields, metadata=metadata)
    writers = {key: pq.ParquetWriter(path, schema) for key, path in paths.items()}
    writes = _OrderedWrites()
    try:
        if len(writers) == 1:
            ((key, writer),) = writers.items()
            for batch in reader:
                writes.submit(key, writer.write_batch, pa.RecordBatch.from_arrays(batch.columns, schema=schema))
            writes.finish()
            return
        index = schema.get_field_index(partition_column)
        waiting: dict[str, list[pa.RecordBatch]] = {key: [] for key in writers}
        waiting_rows = dict.fromkeys(writers, 0)
        for batch in reader:
            # one reordering copy of the batch by year (nulls last), then a zero-copy slice per year in it
            batch = pa.RecordBatch.from_arrays(batch.columns, schema=schema)
            order = pc.array_sort_indices(batch.column(index), null_placement="at_end")
            ordered = batch.take(order)
            start = 0
            # a sorted column's value counts come in sorted order: the runs' lengths
            for run in pc.value_counts(ordered.column(index)).to_pylist():
                value, length = run["values"], run["counts"]
                key = NULL_PART if value is None else str(value)
                waiting[key].append(ordered.slice(start, length))
                waiting_rows[key] += length
                start += length
                if waiting_rows[key] >= PARQUET_ROWS_PER_BATCH:
                    writes.submit(key, writers[key].write_table, pa.Table.from_batches(waiting[key], schema=schema))
                    waiting[key], waiting_rows[key] = [], 0
        for key, batches in waiting.items():
            if batches:
                writes.submit(key, writers[key].write_table, pa.Table.from_batches(batches, schema=schema))
        writes.finish()
    finally:
        writes.abandon()  # no write may still run when its file is closed
        for writer in writers.values():
            writer.close()


class _OrderedWrites:
    """Parquet writes on a small thread pool (pyarrow encodes and compresses with the GIL released): the calls for
    one file run one at a time and in the order submitted, so a file is written exactly as from one thread; a
    submit waits for that file's previous call (at most one call per file in flight: memory stays bounded)."""

    def __init__(self, threads: int = PARQUET_WRITE_THREADS) -> None:
        self._pool = futures.ThreadPoolExecutor(max_workers=threads, thread_name_prefix="hqd-parquet")
        self._last: dict[str, futures.Future[Any]] = {}

    def submit(self, key: str, write: Any, data: Any) -> None:
        previous = self._last.get(key)
        if previous is not None:
            previous.result()  # raises a failed write here
        self._last[key] = self._pool.submit(write, data)

    def finish(self) -> None:
        """Wait for every write; the first failure is raised."""
        for future in list(self._last.values()):
            future.result()

    def abandon(self) -> None:
        """Wait for every write to end, failed or not (after an error elsewhere), and stop the threads."""
        futures.wait(list(self._last.values()))
        self._pool.shutdown(wait=True)


def _switch_current(publish_dir: Path, name: str) -> None:
    current = publish_dir / CURRENT_LINK
    tmp_link = publish_dir / f".{CURRENT_LINK}-{name}"
    # relative target: the publish dir stays valid when mounted or moved elsewhere
    os.symlink(f"{RELEASES_DIR}/{name}", tmp_link)
    try:
        os.replace(tmp_link, current)  # rename(2): readers see the old or the new link, never none
    except BaseException:
        tmp_link.unlink(missing_ok=True)
        raise
    _fsync(publish_dir)


def _current_release_name(publish_dir: Path) -> str | None:
    try:
        return Path(os.readlink(publish_dir / CURRENT_LINK)).name
    except OSError:
        return None


def _apply_retention(releases: Path, keep: int, *, current_name: str) -> None:
    names = sorted(
        p.name
        for p in releases.iterdir()
        if p.is_dir() and not p.is_symlink() and RELEASE_NAME_PATTERN.fullmatch(p.name)
    )
    # the timestamp prefix makes name order publication order
    protected = {current_name, _current_release_name(releases.parent)}
    for old in names[:-keep]:
        if old not in protected:
            shutil.rmtree(releases / old)
            logger.info("removed old release %s", old)
    # leftovers of a crashed publication; a recent one may belong to a run still going
    cutoff = time.time() - STALE_TMP_SECONDS
    for leftover in releases.glob(f"{TMP_PREFIX}*"):
        if leftover.lstat().st_mtime < cutoff:
            shutil.rmtree(leftover, ignore_errors=True)
            logger.info("removed stale %s", leftover.name)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync(path: Path) -> None:
    # durable before the switch: after a crash `current` never points at a half-written release
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
