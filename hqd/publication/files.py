"""Publishes the marts for readers: an immutable, read-only release per run, switched in atomically.

DuckDB allows one writer or many readers of a file, never both, so BI tools must never open the warehouse
itself. After a run whose blocking checks pass, every table in schema `marts` is copied (by DuckDB, set-based)
into a release of its own:

    <publish_dir>/releases/<YYYYmmddTHHMMSSffffff>-<run_id>/
        hqd_marts.duckdb          schema marts (one table per mart) and marts_zh (the Chinese-labelled views,
                                  over the release's own tables); every table, view and column commented
        hqd_marts.duckdb.wal      a symlink that cannot be followed: see "Read-only on disk" below
        parquet/<table>.parquet   one file per mart, descriptions as Arrow field and schema metadata
        manifest.json             run, row counts, columns, sha256, check outcomes
    <publish_dir>/current -> releases/<name>   (relative symlink, replaced atomically)

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

import hashlib
import json
import logging
import os
import re
import shutil
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

logger = logging.getLogger(__name__)

MARTS_SCHEMA = "marts"
RELEASES_DIR = "releases"
CURRENT_LINK = "current"
DUCKDB_FILE = "hqd_marts.duckdb"
PARQUET_DIR = "parquet"
MANIFEST_FILE = "manifest.json"
TMP_PREFIX = ".tmp-"
MANIFEST_VERSION = 2  # 2: views (marts_zh) and descriptions
# the Chinese-labelled views for BI (models/marts_zh): recreated in the release over its own tables
VIEW_SCHEMAS = ("marts_zh",)
# where `<file>.wal` points in a release: a folder that never exists, so DuckDB can open no WAL to commit into
WAL_GUARD_TARGET = ".read-only-release/no-wal-here"
PARQUET_ROWS_PER_BATCH = 100_000
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
) -> Publication:
    """Copy every table of schema `marts` and every view of `VIEW_SCHEMAS` into a new release and point
    `<publish_dir>/current` at it.

    `connection`, if given, must be a connection to `warehouse` (e.g. the one dbt-duckdb holds in this
    process); it is left open. `descriptions` ((schema, name) → RelationDocs, see descriptions_from_dbt_manifest)
    become comments and Parquet metadata. Raises PublicationBlocked, before writing anything, if a blocking
    check failed.
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

    con = connection if connection is not None else duckdb.connect(str(warehouse))
    try:
        tables = _mart_tables(con, warehouse)
        now = datetime.now(UTC)
        name = f"{now:%Y%m%dT%H%M%S%f}-{run_id}"
        releases = publish_dir / RELEASES_DIR
        releases.mkdir(parents=True, exist_ok=True)
        final = releases / name
        tmp = releases / f"{TMP_PREFIX}{name}"
        tmp.mkdir()
        renamed = False
        try:
            marts, views = _copy_marts(con, tables, tmp, descriptions or {})
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
                "marts": marts,
                "views": views,
                "checks": [asdict(c) for c in checks],
            }
            manifest_path = tmp / MANIFEST_FILE
            manifest_path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
            for path in [tmp / DUCKDB_FILE, manifest_path, *(tmp / PARQUET_DIR).iterdir()]:
                path.chmod(READ_ONLY_MODE)
                _fsync(path)
            # after the last write of the file (the checkpoint): from here no DuckDB client can commit to it
            os.symlink(WAL_GUARD_TARGET, tmp / f"{DUCKDB_FILE}.wal")
            _fsync(tmp / PARQUET_DIR)
            _fsync(tmp)
            if os.path.lexists(final):
                raise FileExistsError(f"release {final} already exists")
            tmp.rename(final)
            renamed = True
            _fsync(releases)
            _switch_current(publish_dir, name)
        except BaseException:
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


def _copy_marts(
    con: duckdb.DuckDBPyConnection,
    tables: list[str],
    release: Path,
    descriptions: dict[tuple[str, str], RelationDocs],
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """Copy each mart into <release>/hqd_marts.duckdb and <release>/parquet/, recreate the views of VIEW_SCHEMAS
    over them, comment everything; return the manifest entries of the marts and of the views."""
    source_name = con.execute("select current_database()").fetchone()[0]
    source_db = _quote_ident(source_name)
    # a unique alias cannot collide with anything the caller's connection already has attached
    alias = f"hqd_publish_{uuid.uuid4().hex}"
    target_db = _quote_ident(alias)
    schema = _quote_ident(MARTS_SCHEMA)
    parquet_dir = release / PARQUET_DIR
    parquet_dir.mkdir()
    marts: dict[str, dict[str, Any]] = {}
    views: dict[str, dict[str, Any]] = {}
    # the caller's default catalog and schema, restored after the DDL below ran with the release as default
    previous = con.execute("select current_database(), current_schema()").fetchone()
    con.execute(f"attach {_quote_literal(str(release / DUCKDB_FILE))} as {target_db}")
    try:
        con.execute(f"create schema {target_db}.{schema}")
        for table in tables:
            src = f"{source_db}.{schema}.{_quote_ident(table)}"
            dst = f"{target_db}.{schema}.{_quote_ident(table)}"
            ddl = con.execute(
                "select sql from duckdb_tables() where database_name = ? and schema_name = ? and table_name = ?",
                [source_name, MARTS_SCHEMA, table],
            ).fetchone()
            if ddl:
                # the warehouse's own DDL keeps the contract's primary keys and not-null constraints, which BI
                # tools read (SQLAlchemy's get_pk_constraint)
                _run_in(con, alias, ddl[0])
                con.execute(f"insert into {dst} select * from {src}")
            else:  # a mart materialised as a view is copied as a table
                con.execute(f"create table {dst} as select * from {src}")
            docs = descriptions.get((MARTS_SCHEMA, table), RelationDocs())
            _comment(con, "table", dst, docs)
            parquet = parquet_dir / f"{table}.parquet"
            # from the published copy, so the DuckDB file and the parquet file hold the same rows
            _write_parquet(con, dst, parquet, docs, table)
            row_count = con.execute(f"select count(*) from {dst}").fetchone()[0]
            parquet_literal = _quote_literal(str(parquet))
            parquet_rows = con.execute(f"select count(*) from read_parquet({parquet_literal})").fetchone()[0]
            if parquet_rows != row_count:
                raise RuntimeError(f"{parquet.name} holds {parquet_rows} rows, the published table {row_count}")
            marts[table] = {
                "row_count": row_count,
                "columns": _columns(con, alias, MARTS_SCHEMA, table),
                "parquet_file": f"{PARQUET_DIR}/{parquet.name}",
                "parquet_sha256": _sha256(parquet),
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
    return marts, views


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


def _write_parquet(con: duckdb.DuckDBPyConnection, relation: str, path: Path, docs: RelationDocs, table: str) -> None:
    """The relation as Parquet with the descriptions as Arrow metadata (`description` on the schema and on each
    field: what pyarrow, pandas and Spark read back). DuckDB's COPY writes no field metadata, so pyarrow writes,
    batch by batch (memory stays flat at national scale)."""
    reader = con.execute(f"select * from {relation}").to_arrow_reader(PARQUET_ROWS_PER_BATCH)
    columns = docs.columns or {}
    fields = [
        field.with_metadata({"description": columns[field.name]}) if columns.get(field.name) else field
        for field in reader.schema
    ]
    metadata = {"table": table}
    if docs.description:
        metadata["description"] = docs.description
    schema = pa.schema(fields, metadata=metadata)
    with pq.ParquetWriter(path, schema) as writer:
        for batch in reader:
            writer.write_batch(pa.RecordBatch.from_arrays(batch.columns, schema=schema))


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
