"""The embedded warehouse file: one connection helper, and causes of failure said in words with what to do."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from hqd.settings import Settings


class WarehouseUnavailable(RuntimeError):
    """The warehouse file cannot be opened: held by another process, damaged, or the disk is full."""


LOCKED = ("Could not set lock", "Conflicting lock")
DISK_FULL = ("No space left on device", "Disk quota exceeded")
DAMAGED = ("not a valid DuckDB database", "Could not read enough bytes", "corrupt", "Corrupt", "checksum")


def is_unavailable(exc: BaseException) -> bool:
    """True if the error is the warehouse file's (locked, damaged, disk full), not the data's or the code's."""
    text = str(exc)
    return any(marker in text for marker in (*LOCKED, *DISK_FULL, *DAMAGED))


def explain(exc: BaseException, warehouse: Path) -> str:
    """DuckDB's error, with its cause first and what the user can do about it."""
    text = str(exc)
    if any(marker in text for marker in LOCKED):
        holder = re.search(r"\(PID (\d+)\)", text)
        who = f"process {holder.group(1)}" if holder else "another process"
        return (
            f"the warehouse {warehouse} is locked by {who} (a run, `make ui` materialising, or a client that "
            f"opened it for writing). Wait for it to finish or close that client, then run again; BI tools should "
            f"read the publication, never the warehouse. DuckDB said: {text}"
        )
    if any(marker in text for marker in DISK_FULL):
        return (
            f"the disk holding {warehouse.parent} is full. Free space (old releases under the publication folder, "
            f"`make clean` for rebuildable files), then run again; the previous publication is untouched. "
            f"DuckDB said: {text}"
        )
    if any(marker in text for marker in DAMAGED):
        return (
            f"the warehouse file {warehouse} is damaged. It can be rebuilt from the landing files: move it aside "
            f"(or `make clean`), then run again; the previous publication is untouched. DuckDB said: {text}"
        )
    return (
        f"the warehouse {warehouse} could not be opened: {text}. Check that its folder exists and is writable, "
        "then run again; the previous publication is untouched"
    )


def connect(settings: Settings, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """A connection to the settings' warehouse with its memory cap; a failure says why and what to do."""
    if not read_only:
        settings.warehouse.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(settings.warehouse), read_only=read_only)
    except (duckdb.IOException, duckdb.Error, OSError) as exc:
        raise WarehouseUnavailable(explain(exc, settings.warehouse)) from exc
    if settings.duckdb_memory_limit:  # as dbt's on-run-start hook sets it
        con.execute(f"set memory_limit = '{settings.duckdb_memory_limit}'")
    return con
