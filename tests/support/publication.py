"""Test helpers around the publication (hqd.publication.files)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from hqd.publication import files as publish_files


def record_memory_caps(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The memory_limit of every connection the publication lists marts on, in order: the list fills as
    publications run. Uncapped, DuckDB kept 6.6 GB of blocks cached at national scale."""
    caps: list[str] = []
    real = publish_files._mart_tables

    def spy(con: duckdb.DuckDBPyConnection, warehouse: Path) -> list[str]:
        caps.append(con.execute("select current_setting('memory_limit')").fetchone()[0])
        return real(con, warehouse)

    monkeypatch.setattr(publish_files, "_mart_tables", spy)
    return caps
