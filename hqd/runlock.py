"""One run at a time per warehouse: an exclusive lock file beside it, held for the whole run.

A second run started while one is going refuses at once with a message naming the holder, rather than failing
later on DuckDB's own file lock. The lock is released by the operating system when the holder exits, even if
it was killed, so no stale lock is ever left behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from hqd.settings import Settings


class RunInProgress(RuntimeError):
    """Another run holds this warehouse."""


def lock_path(settings: Settings) -> Path:
    return settings.warehouse.parent / f".{settings.warehouse.name}.run.lock"


@contextlib.contextmanager
def exclusive_run(settings: Settings) -> Iterator[Path]:
    path = lock_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("a+", encoding="utf-8")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise RunInProgress(
                f"another run is using the warehouse {settings.warehouse} ({holder}); "
                "wait for it to finish (it shows in the Dagster UI), then run again"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}, started {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC")
        handle.flush()
        yield path
    finally:
        handle.close()  # closing releases the lock
