"""The same dbt models on PostgreSQL or Spark.

Ingest always lands files in the DuckDB file first (it is the landing store: decoding, hashing and dedupe stay in
one place). For another engine the landed `raw` tables are then copied there in bulk (CSV `COPY` into
PostgreSQL, Parquet into Spark), and one `dbt build` runs against that engine's target in profiles.yml.

    python -m hqd.engines build --target postgres      # HQD_PG_* say where the server is
    python -m hqd.engines build --target spark         # a local Spark session (pyspark)
    python -m hqd.engines compare --target postgres    # every mart there against the DuckDB marts
"""

import argparse
import dataclasses
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb

from hqd.landing import ingest

RAW_TABLES = ("landing_files", "landing_notes", "load_errors", "submissions")
TARGETS = ("duckdb", "postgres", "spark")


# ---------------------------------------------------------------- PostgreSQL


@dataclass(frozen=True)
class PostgresConnection:
    """Where the PostgreSQL server is; the same HQD_PG_* variables profiles.yml reads."""

    host: str = "localhost"
    port: int = 5432
    user: str = "hqd"
    password: str = ""
    dbname: str = "hqd"

    @classmethod
    def from_env(cls) -> "PostgresConnection":
        env = os.environ.get
        return cls(
            host=env("HQD_PG_HOST", cls.host),
            port=int(env("HQD_PG_PORT", str(cls.port))),
            user=env("HQD_PG_USER", cls.user),
            password=env("HQD_PG_PASSWORD", cls.password),
            dbname=env("HQD_PG_DATABASE", cls.dbname),
        )

    def env(self) -> dict[str, str]:
        return {
            "HQD_PG_HOST": self.host,
            "HQD_PG_PORT": str(self.port),
            "HQD_PG_USER": self.user,
            "HQD_PG_PASSWORD": self.password,
            "HQD_PG_DATABASE": self.dbname,
        }

    def connect(self, user: str | None = None):
        import psycopg2

        return psycopg2.connect(
            host=self.host, port=self.port, user=user or self.user, password=self.password, dbname=self.dbname
        )


def postgres_type(duckdb_type: str) -> str:
    """The PostgreSQL column type that holds a DuckDB column's values exactly."""
    kind = duckdb_type.upper()
    if kind.startswith("DECIMAL"):
        return "numeric" + kind[len("DECIMAL") :]
    mapping = {
        "VARCHAR": "text",
        "INTEGER": "integer",
        "BIGINT": "bigint",
        "HUGEINT": "numeric(38, 0)",
        "SMALLINT": "smallint",
        "BOOLEAN": "boolean",
        "DATE": "date",
        "TIMESTAMP": "timestamp",
        "TIMESTAMP WITH TIME ZONE": "timestamptz",
        "DOUBLE": "double precision",
        "FLOAT": "real",
    }
    if kind not in mapping:
        raise ValueError(f"no PostgreSQL type for the DuckDB type {duckdb_type}")
    return mapping[kind]


def duckdb_columns(con: duckdb.DuckDBPyConnection, relation: str) -> list[tuple[str, str]]:
    return [(row[0], row[1]) for row in con.execute(f"describe {relation}").fetchall()]


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def copy_tables_to_postgres(
    source: duckdb.DuckDBPyConnection,
    tables: list[tuple[str, str]],
    pg_con,
    target_schema: str,
    *,
    replace_schema: bool = False,
) -> dict[str, int]:
    """Copy DuckDB tables (schema, table) into one PostgreSQL schema, in bulk, in the caller's transaction.

    Each table is recreated with the equivalent column types and filled by one `COPY ... FROM STDIN` of a CSV
    that DuckDB writes; NULL and the empty string stay distinct (unquoted empty vs quoted empty).
    """
    counts = {}
    with tempfile.TemporaryDirectory(prefix="hqd-copy-") as scratch, pg_con.cursor() as cur:
        if replace_schema:
            cur.execute(f"drop schema if exists {_quote(target_schema)} cascade")
        cur.execute(f"create schema if not exists {_quote(target_schema)}")
        for schema, table in tables:
            columns = duckdb_columns(source, f"{schema}.{table}")
            column_list = ", ".join(_quote(name) for name, _ in columns)
            target = f"{_quote(target_schema)}.{_quote(table)}"
            cur.execute(f"drop table if exists {target}")
            cur.execute(
                f"create table {target} ("
                + ", ".join(f"{_quote(name)} {postgres_type(kind)}" for name, kind in columns)
                + ")"
            )
            csv_path = Path(scratch) / f"{schema}.{table}.csv"
            source.execute(
                f"copy (select {column_list} from {schema}.{table}) to '{csv_path}' "
                "(format csv, header false, force_quote *)"
            )
            # force_quote quotes every non-null value, so '' arrives quoted and only NULL is left bare
            with open(csv_path, encoding="utf-8") as handle:
                cur.copy_expert(f"copy {target} ({column_list}) from stdin with (format csv)", handle)
            cur.execute(f"analyze {target}")
            counts[table] = source.execute(f"select count(*) from {schema}.{table}").fetchone()[0]
    return counts


def replicate_raw_to_postgres(
    source: duckdb.DuckDBPyConnection, pg: PostgresConnection, raw_schema: str = "raw"
) -> dict[str, int]:
    """Replace the raw tables in PostgreSQL with those of the DuckDB landing store, in one transaction."""
    pg_con = pg.connect()
    try:
        counts = copy_tables_to_postgres(
            source, [(ingest.RAW_SCHEMA, t) for t in RAW_TABLES], pg_con, raw_schema, replace_schema=True
        )
        pg_con.commit()
        return counts
    finally:
        pg_con.close()


# ---------------------------------------------------------------- Spark


@dataclass(frozen=True)
class SparkLocation:
    """Where a local Spark session keeps its tables and its (Derby) metastore."""

    root: Path

    @classmethod
    def from_env(cls) -> "SparkLocation":
        from hqd.pipeline import PROJECT_DIR

        root = Path(os.environ.get("HQD_SPARK_DIR", "data/spark"))
        return cls(root if root.is_absolute() else PROJECT_DIR / root)

    def configs(self) -> dict[str, str]:
        return {
            "spark.sql.warehouse.dir": str(self.root / "warehouse"),
            "spark.hadoop.javax.jdo.option.ConnectionURL": (
                f"jdbc:derby:;databaseName={self.root / 'metastore_db'};create=true"
            ),
            "spark.driver.extraJavaOptions": f"-Dderby.system.home={self.root}",
            # two cores: the default 200 shuffle partitions cost more in scheduling than they save
            "spark.sql.shuffle.partitions": "4",
            "spark.ui.enabled": "false",
            "spark.sql.session.timeZone": "UTC",
        }


def spark_session(location: SparkLocation):
    """The process's Spark session; dbt-spark's session method picks up this same one (getOrCreate)."""
    from pyspark.sql import SparkSession

    location.root.mkdir(parents=True, exist_ok=True)
    builder = SparkSession.builder.appName("hqd").master("local[2]").enableHiveSupport()
    for key, value in location.configs().items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


def replicate_raw_to_spark(source: duckdb.DuckDBPyConnection, spark, raw_schema: str = "raw") -> dict[str, int]:
    """Replace the raw tables in Spark with those of the DuckDB landing store (via Parquet)."""
    counts = {}
    spark.sql(f"create database if not exists {raw_schema}")
    with tempfile.TemporaryDirectory(prefix="hqd-spark-") as scratch:
        for table in RAW_TABLES:
            parquet = Path(scratch) / f"{table}.parquet"
            source.execute(f"copy {ingest.RAW_SCHEMA}.{table} to '{parquet}' (format parquet)")
            frame = spark.read.parquet(str(parquet))
            frame.write.mode("overwrite").format("parquet").saveAsTable(f"{raw_schema}.{table}")
            counts[table] = source.execute(f"select count(*) from {ingest.RAW_SCHEMA}.{table}").fetchone()[0]
    return counts


# ---------------------------------------------------------------- reading marts back, for parity and publication


def normalise(value):
    """One comparable Python value per cell, whatever the driver returned."""
    if isinstance(value, Decimal):
        return float(value)
    return value


def read_relation_duckdb(con: duckdb.DuckDBPyConnection, relation: str) -> tuple[list[str], list[tuple]]:
    cursor = con.execute(f"select * from {relation}")
    return [d[0] for d in cursor.description], cursor.fetchall()


def read_relation_postgres(pg_con, relation: str) -> tuple[list[str], list[tuple]]:
    with pg_con.cursor() as cur:
        cur.execute(f"select * from {relation}")
        return [d[0] for d in cur.description], cur.fetchall()


def read_relation_spark(spark, relation: str) -> tuple[list[str], list[tuple]]:
    frame = spark.table(relation)
    return frame.columns, [tuple(row) for row in frame.collect()]


def mart_primary_keys(manifest_path: Path) -> dict[str, str]:
    """Each mart's primary-key column, from the contracts in dbt's manifest."""
    import json

    manifest = json.loads(manifest_path.read_text())

    def is_key(column: dict) -> bool:
        # a primary_key constraint, or (large incremental marts) meta.primary_key beside a unique test
        constrained = any(c["type"] == "primary_key" for c in column.get("constraints", []))
        return constrained or bool((column.get("meta") or {}).get("primary_key"))

    return {
        node["name"]: column["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and "marts" in node["fqn"]
        for column in node["columns"].values()
        if is_key(column)
    }


def compare_relation(
    name: str,
    key: str,
    left: tuple[list[str], list[tuple]],
    right: tuple[list[str], list[tuple]],
    tolerance: float = 1e-9,
    limit: int = 5,
) -> list[str]:
    """The differences between one relation read from two engines: columns, keys, then every cell.

    Numbers (exact decimals on every engine) may differ by `tolerance`; everything else must be equal.
    """
    (left_columns, left_rows), (right_columns, right_rows) = left, right
    if left_columns != right_columns:
        return [f"{name}: columns differ: {left_columns} vs {right_columns}"]
    position = left_columns.index(key)
    left_by_key = {row[position]: row for row in left_rows}
    right_by_key = {row[position]: row for row in right_rows}
    problems = []
    if len(left_by_key) != len(left_rows) or len(right_by_key) != len(right_rows):
        problems.append(f"{name}: duplicate {key} values ({len(left_rows)} / {len(right_rows)} rows)")
    only_left = sorted(set(left_by_key) - set(right_by_key), key=str)
    only_right = sorted(set(right_by_key) - set(left_by_key), key=str)
    if only_left or only_right:
        problems.append(f"{name}: keys only on the left {only_left[:limit]}, only on the right {only_right[:limit]}")
    for row_key in sorted(set(left_by_key) & set(right_by_key), key=str):
        for column, a, b in zip(left_columns, left_by_key[row_key], right_by_key[row_key], strict=True):
            a, b = normalise(a), normalise(b)
            if isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool):
                same = abs(a - b) <= tolerance
            else:
                same = a == b
            if not same:
                problems.append(f"{name}[{row_key}].{column}: {a!r} vs {b!r}")
                if len(problems) >= limit:
                    return problems
    return problems


def compare_marts(keys: dict[str, str], read_left, read_right) -> dict[str, list[str]]:
    """Every mart read by two readers (relation name → (columns, rows)), compared; problems per mart."""
    return {
        mart: compare_relation(mart, key, read_left(f"marts.{mart}"), read_right(f"marts.{mart}"))
        for mart, key in sorted(keys.items())
    }


# ---------------------------------------------------------------- the command


def build_on(target: str, settings, spark_location: SparkLocation | None = None, console=None):
    """Ingest into the DuckDB landing store, copy raw to the target engine, run one dbt build there.

    Returns (raw row counts copied, the dbt build result, seconds per stage).
    """
    from hqd import pipeline

    if target not in TARGETS:
        raise ValueError(f"unknown target {target!r}: expected one of {', '.join(TARGETS)}")
    timings = {}
    started = time.perf_counter()
    pipeline.check_configuration(settings)
    report = pipeline.ingest_landing(settings)
    for _file, reason in report.failures:
        if console:
            console.print(f"[red]unreadable landing file[/]: {reason}")
    timings["ingest"] = time.perf_counter() - started

    started = time.perf_counter()
    source = duckdb.connect(str(settings.warehouse))
    try:
        counts = copy_raw(target, source, spark_location)
    finally:
        source.close()
    timings["copy_raw"] = time.perf_counter() - started

    started = time.perf_counter()
    result = build_with_dbt(target, settings)
    timings["dbt_build"] = time.perf_counter() - started
    return counts, result, timings


def copy_raw(target: str, source: duckdb.DuckDBPyConnection, spark_location: SparkLocation | None = None):
    """Bring the target engine's raw tables level with the landing store (nothing to do on DuckDB)."""
    if target == "postgres":
        return replicate_raw_to_postgres(source, PostgresConnection.from_env())
    if target == "spark":
        return replicate_raw_to_spark(source, spark_session(spark_location or SparkLocation.from_env()))
    return {}


def build_with_dbt(target: str, settings):
    """One `dbt build` (seeds, models, data tests, unit tests) against the target engine."""
    from hqd import pipeline

    return pipeline.run_dbt_build(dataclasses.replace(settings, target=target))


def main(argv: list[str] | None = None) -> int:
    from rich.console import Console
    from rich.table import Table

    from hqd import pipeline
    from tools import sample_data

    parser = argparse.ArgumentParser(prog="python -m hqd.engines", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    build = sub.add_parser("build", help="ingest, copy raw to the target engine, one dbt build there")
    build.add_argument("--target", choices=TARGETS, default=os.environ.get("HQD_TARGET", "postgres"))
    build.add_argument("--warehouse", type=Path, help="the DuckDB landing store (default HQD_WAREHOUSE)")
    build.add_argument("--landing-dir", type=Path, help="default HQD_LANDING_DIR")
    compare = sub.add_parser("compare", help="every mart on the target engine against the DuckDB warehouse's")
    compare.add_argument("--target", choices=TARGETS[1:], default=os.environ.get("HQD_TARGET", "postgres"))
    compare.add_argument("--warehouse", type=Path, help="the DuckDB warehouse (default HQD_WAREHOUSE)")
    args = parser.parse_args(argv)
    if args.command == "compare":
        return _compare_command(args)

    console = Console()
    settings = pipeline.Settings()
    if args.warehouse:
        settings.warehouse = args.warehouse.resolve()
    if args.landing_dir:
        settings.landing_dir = args.landing_dir.resolve()
    if sample_data.landing_is_empty(settings.landing_dir):
        sample_data.generate_sample(settings.landing_dir)
    counts, result, timings = build_on(args.target, settings, console=console)

    table = Table(title=f"dbt build on {args.target}")
    for column in ("stage", "seconds"):
        table.add_column(column)
    for stage, seconds in timings.items():
        table.add_row(stage, f"{seconds:.1f}")
    console.print(table)
    if counts:
        console.print("raw rows copied: " + ", ".join(f"{t} {n:,}" for t, n in counts.items()))
    console.print(f"dbt build: {result.nodes} nodes, {'success' if result.success else 'FAILED'}")
    for failure in result.failures:
        console.print(f"[red]{failure.status}[/] {failure.unique_id}: {failure.message[:300]}")
    if result.error:
        console.print(f"[red]dbt error[/]: {result.error}")
    return 0 if result.success else 1


def _compare_command(args: argparse.Namespace) -> int:
    from rich.console import Console

    from hqd.pipeline import PROJECT_DIR, default_paths

    console = Console()
    keys = mart_primary_keys(PROJECT_DIR / "target" / "manifest.json")
    duck = duckdb.connect(str(args.warehouse or default_paths()["warehouse"]), read_only=True)
    if args.target == "postgres":
        other = PostgresConnection.from_env().connect()
        read_other = read_relation_postgres
    else:
        other = spark_session(SparkLocation.from_env())
        read_other = read_relation_spark
    try:
        problems = compare_marts(
            keys, lambda relation: read_relation_duckdb(duck, relation), lambda relation: read_other(other, relation)
        )
    finally:
        duck.close()
        if args.target == "postgres":
            other.close()
    failed = sum(1 for found in problems.values() if found)
    for mart, found in problems.items():
        console.print(f"{mart}: " + ("[green]equal[/]" if not found else "[red]differs[/]"))
        for problem in found:
            console.print(f"    {problem}")
    console.print(f"{len(keys) - failed} of {len(keys)} marts equal on duckdb and {args.target}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
