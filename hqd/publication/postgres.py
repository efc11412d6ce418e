"""Publish a release's marts into a PostgreSQL schema, for BI tools that read a server.

Runs after the DuckDB publication (orchestration/publish.py), so only marts whose blocking checks passed ever
reach the server. Each publication loads every mart into a fresh schema `<schema>__loading`, grants the BI role
read access to it, and swaps it in place of `<schema>` in the same transaction: a BI query sees the previous
release or the new one, never a half-loaded schema.

The BI role (default `hqd_bi`, NOLOGIN) is a group role: an administrator grants it to the login accounts of
BI tools (`grant hqd_bi to superset_reader`). It holds USAGE on the published schema and SELECT on its tables,
and nothing else: no write on any table, no create in any schema, no access to raw, staging, intermediate or
the build's own marts schema when the warehouse itself runs on the same server.

    python -m hqd.publication.postgres                 # the current release, HQD_PG_* for the server
    python -m hqd.publication.postgres --schema bi --reader-role bi_readers
"""

import argparse
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb

from hqd.engines import PostgresConnection, copy_tables_to_postgres
from hqd.publication import files as publish

DEFAULT_SCHEMA = "hqd_marts"
DEFAULT_READER_ROLE = "hqd_bi"


@dataclass
class PostgresPublication:
    schema: str
    reader_role: str
    release: str
    row_counts: dict[str, int]


def _identifier(name: str, what: str) -> str:
    """Schema and role names come from configuration: plain lower-case identifiers only, quoted."""
    # 50, not PostgreSQL's 63: the loading schema adds "__loading"
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,49}", name):
        raise ValueError(
            f"{what} {name!r} is not a plain lower-case identifier (letters, digits, underscores; at most 50)"
        )
    return '"' + name + '"'


def publish_release_to_postgres(
    release_dir: Path,
    pg: PostgresConnection,
    schema: str = DEFAULT_SCHEMA,
    reader_role: str = DEFAULT_READER_ROLE,
) -> PostgresPublication:
    """Load the release's marts into `schema` atomically and grant `reader_role` read access to them only."""
    schema_sql = _identifier(schema, "schema")
    loading_sql = _identifier(f"{schema}__loading", "schema")
    role_sql = _identifier(reader_role, "reader role")
    database_file = release_dir / publish.DUCKDB_FILE
    if not database_file.exists():
        raise FileNotFoundError(f"{database_file}: no published marts file in this release")
    source = duckdb.connect(str(database_file), read_only=True)
    pg_con = pg.connect()
    try:
        tables = [
            row[0]
            for row in source.execute(
                "select table_name from information_schema.tables where table_schema = ? order by table_name",
                [publish.MARTS_SCHEMA],
            ).fetchall()
        ]
        counts = copy_tables_to_postgres(
            source, [(publish.MARTS_SCHEMA, t) for t in tables], pg_con, f"{schema}__loading", replace_schema=True
        )
        with pg_con.cursor() as cur:
            cur.execute("select 1 from pg_roles where rolname = %s", [reader_role])
            if cur.fetchone() is None:
                cur.execute(f"create role {role_sql} nologin")
            cur.execute(f"comment on schema {loading_sql} is %s", [f"HQD marts, release {release_dir.name}"])
            cur.execute(f"revoke all on schema {loading_sql} from public")
            cur.execute(f"grant usage on schema {loading_sql} to {role_sql}")
            cur.execute(f"grant select on all tables in schema {loading_sql} to {role_sql}")
            cur.execute(f"drop schema if exists {schema_sql} cascade")
            cur.execute(f"alter schema {loading_sql} rename to {schema_sql}")
        pg_con.commit()
    except Exception:
        pg_con.rollback()
        raise
    finally:
        pg_con.close()
        source.close()
    return PostgresPublication(schema, reader_role, release_dir.name, counts)


def main(argv: list[str] | None = None) -> int:
    from hqd.pipeline import default_paths

    parser = argparse.ArgumentParser(prog="python -m hqd.publication.postgres", description=__doc__.split("\n")[0])
    parser.add_argument("--release", type=Path, help="a release folder (default: <publish_dir>/current)")
    parser.add_argument("--schema", default=os.environ.get("HQD_PG_PUBLISH_SCHEMA", DEFAULT_SCHEMA))
    parser.add_argument("--reader-role", default=os.environ.get("HQD_PG_READER_ROLE", DEFAULT_READER_ROLE))
    args = parser.parse_args(argv)
    release = args.release or (default_paths()["publish_dir"] / publish.CURRENT_LINK)
    try:
        result = publish_release_to_postgres(
            release.resolve(), PostgresConnection.from_env(), args.schema, args.reader_role
        )
    except (FileNotFoundError, ValueError) as problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    total = sum(result.row_counts.values())
    print(
        f"published release {result.release} to schema {result.schema}: {len(result.row_counts)} marts, "
        f"{total:,} rows; readable by role {result.reader_role}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
