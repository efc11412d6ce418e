"""Publishes the marts for readers: an immutable, read-only release per run, switched in atomically.

DuckDB allows one writer or many readers of a file, never both, so BI tools must never open the warehouse
itself. After a run whose blocking checks pass, every table in schema `marts` is copied (by DuckDB, set-based)
into a release of its own:

    <publish_dir>/releases/<YYYYmmddTHHMMSSffffff>-<run_id>/
        hqd_marts.duckdb          schema marts only, one table per mart
        parquet/<table>.parquet   one file per mart
        manifest.json             run, row counts, columns, sha256, check outcomes
    <publish_dir>/current -> releases/<name>   (relative symlink, replaced atomically)

Readers open `<publish_dir>/current/hqd_marts.duckdb` with read_only=True. A release is never modified after
the switch, only removed later by retention, so a reader that opened an earlier release keeps a valid file.
A blocked or failed publication leaves `current` and every existing release exactly as they were.
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

logger = logging.getLogger(__name__)

MARTS_SCHEMA = "marts"
RELEASES_DIR = "releases"
CURRENT_LINK = "current"
DUCKDB_FILE = "hqd_marts.duckdb"
PARQUET_DIR = "parquet"
MANIFEST_FILE = "manifest.json"
TMP_PREFIX = ".tmp-"
MANIFEST_VERSION = 1
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
) -> Publication:
    """Copy every table of schema `marts` into a new release and point `<publish_dir>/current` at it.

    `connection`, if given, must be a connection to `warehouse` (e.g. the one dbt-duckdb holds in this
    process); it is left open. Raises PublicationBlocked, before writing anything, if a blocking check failed.
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
            marts = _copy_marts(con, tables, tmp)
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
                "checks": [asdict(c) for c in checks],
            }
            manifest_path = tmp / MANIFEST_FILE
            manifest_path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
            for path in [tmp / DUCKDB_FILE, manifest_path, *(tmp / PARQUET_DIR).iterdir()]:
                path.chmod(READ_ONLY_MODE)
                _fsync(path)
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


def _copy_marts(con: duckdb.DuckDBPyConnection, tables: list[str], release: Path) -> dict[str, dict[str, Any]]:
    """Copy each mart into <release>/hqd_marts.duckdb and <release>/parquet/; return the manifest entries."""
    source_db = _quote_ident(con.execute("select current_database()").fetchone()[0])
    # a unique alias cannot collide with anything the caller's connection already has attached
    alias = f"hqd_publish_{uuid.uuid4().hex}"
    target_db = _quote_ident(alias)
    schema = _quote_ident(MARTS_SCHEMA)
    parquet_dir = release / PARQUET_DIR
    parquet_dir.mkdir()
    marts: dict[str, dict[str, Any]] = {}
    con.execute(f"attach {_quote_literal(str(release / DUCKDB_FILE))} as {target_db}")
    try:
        con.execute(f"create schema {target_db}.{schema}")
        for table in tables:
            src = f"{source_db}.{schema}.{_quote_ident(table)}"
            dst = f"{target_db}.{schema}.{_quote_ident(table)}"
            con.execute(f"create table {dst} as select * from {src}")
            parquet = parquet_dir / f"{table}.parquet"
            parquet_literal = _quote_literal(str(parquet))
            # from the published copy, so the DuckDB file and the parquet file hold the same rows
            con.execute(f"copy {dst} to {parquet_literal} (format parquet)")
            row_count = con.execute(f"select count(*) from {dst}").fetchone()[0]
            parquet_rows = con.execute(f"select count(*) from read_parquet({parquet_literal})").fetchone()[0]
            if parquet_rows != row_count:
                raise RuntimeError(f"{parquet.name} holds {parquet_rows} rows, the published table {row_count}")
            columns = con.execute(
                """
                select column_name, data_type from information_schema.columns
                where table_catalog = ? and table_schema = ? and table_name = ?
                order by ordinal_position
                """,
                [alias, MARTS_SCHEMA, table],
            ).fetchall()
            marts[table] = {
                "row_count": row_count,
                "columns": [{"name": n, "type": t} for n, t in columns],
                "parquet_file": f"{PARQUET_DIR}/{parquet.name}",
                "parquet_sha256": _sha256(parquet),
            }
        # everything into the main file: a release must not depend on a .wal beside it
        con.execute(f"checkpoint {target_db}")
    finally:
        con.execute(f"detach database if exists {target_db}")
    return marts


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
