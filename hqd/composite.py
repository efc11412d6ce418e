"""The composite-index engine's configuration and result, as the command line shows them (no Dagster here).

The engine itself is SQL: seeds/composite (one row per index, dimension, indicator and tier), macros/composite.sql
(the normalisations and aggregations) and models/marts/composite (built by composite_job, in schema `composite`).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import duckdb

SCHEMA = "composite"
INDICES_SEED = Path("composite") / "composite_indices.csv"


def index_codes(seeds_dir: Path) -> list[str]:
    """The configured indices (seeds/composite/composite_indices.csv), in file order; none if it is missing."""
    path = seeds_dir / INDICES_SEED
    if not path.is_file():
        return []
    with path.open(encoding="utf-8", newline="") as handle:
        return [row["index_code"] for row in csv.DictReader(handle)]


@dataclass
class Ranking:
    index_code: str
    year: int | None
    units_ranked: int
    rows: list[tuple]  # (rank, unit_code, unit_name, rounded value, tier name), best first


def top_ranking(warehouse: Path, index_code: str, limit: int = 10) -> Ranking:
    """The latest year with a ranked unit: its first `limit` ranks (competition ranks may share a place)."""
    # not read_only: dbt-duckdb may still hold the file open in this process with another configuration
    con = duckdb.connect(str(warehouse))
    try:
        (year,) = con.execute(
            f"select max(year) from {SCHEMA}.fct_composite_index where index_code = ? and index_rank is not null",
            [index_code],
        ).fetchone()
        if year is None:
            return Ranking(index_code, None, 0, [])
        (ranked,) = con.execute(
            f"select count(*) from {SCHEMA}.fct_composite_index "
            "where index_code = ? and year = ? and index_rank is not null",
            [index_code, year],
        ).fetchone()
        rows = con.execute(
            f"""
            select index_rank, unit_code, unit_name, index_value_rounded, tier_name
            from {SCHEMA}.fct_composite_index
            where index_code = ? and year = ? and index_rank is not null
            order by index_rank, unit_code
            limit ?
            """,
            [index_code, year, limit],
        ).fetchall()
    finally:
        con.close()
    return Ranking(index_code, int(year), int(ranked), rows)
