"""What dbt's incremental build took in, read back by the quality gate and the publication.

dbt's on-run-end hook (macros/incremental.sql) keeps `main.hqd_build_state`: per incremental model the last
load_seq its build took in and the fingerprint of the model and seed definitions it was built with. Marts are
rebuilt by assessment year from the first year new loads touch, so "which rows may have changed since load N"
is "every year from the first period year landed after N". Both the gate (hqd.quality_scope: which rows a suite
reads) and the publication (hqd.publication.files: which years it fingerprints) ask exactly that, here.
"""

from __future__ import annotations

import duckdb

SCHEMA = "main"
TABLE = "hqd_build_state"
STAGING_SUBMISSIONS = "staging.stg_landing__submissions"  # periods parsed by the macros dbt's models use
RAW_SUBMISSIONS = "raw.submissions"
NOTHING_LANDED_YEAR = 10000  # as dbt's first_year_landed_after: no year is that late


def relation_exists(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    """A table or view of the connection's own database."""
    found = con.execute(
        "select count(*) from information_schema.tables where table_catalog = current_database() "
        "and table_schema = ? and table_name = ?",
        [schema, name],
    ).fetchone()
    return bool(found and found[0])


def models(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, str]]:
    """Per model name (`fct_scores`), the last load_seq its build took in and its definitions' fingerprint,
    in the order they were built (the last entry is the latest build); empty when dbt never recorded any."""
    if not relation_exists(con, SCHEMA, TABLE):
        return {}
    rows = con.execute(
        f"select model_id, load_seq_through, fingerprint from {SCHEMA}.{TABLE} order by built_at, model_id"
    ).fetchall()
    return {model_id.split(".")[-1]: (int(through), fingerprint) for model_id, through, fingerprint in rows}


def last_load(con: duckdb.DuckDBPyConnection) -> int:
    """The last load_seq landed in raw (0 when nothing was)."""
    if not relation_exists(con, *RAW_SUBMISSIONS.split(".")):
        return 0
    row = con.execute(f"select coalesce(max(load_seq), 0) from {RAW_SUBMISSIONS}").fetchone()
    return int(row[0]) if row else 0


def first_year_landed_after(con: duckdb.DuckDBPyConnection, load_seq: int, *, annual_only: bool = False) -> int | None:
    """The earliest period year of the rows landed after `load_seq` (annual rows only when asked), as staging
    parses it; NOTHING_LANDED_YEAR when nothing landed since, None when there is no staging view to ask (a
    warehouse built by something else: the caller reads everything)."""
    if not relation_exists(con, *STAGING_SUBMISSIONS.split(".")):
        return None
    annual = " and period_quarter is null" if annual_only else ""
    try:
        row = con.execute(
            f"select coalesce(min(period_year), {NOTHING_LANDED_YEAR}) from {STAGING_SUBMISSIONS} "
            f"where load_seq > ?{annual}",
            [load_seq],
        ).fetchone()
    except duckdb.Error:  # a view over relations that are not there: nothing to trust
        return None
    return int(row[0]) if row else None
