"""The same dbt models on PostgreSQL or Spark.

Ingest always lands files in the DuckDB file first (it is the landing store: decoding, hashing and dedupe stay in
one place). For another engine the landed `raw` tables are then copied there in bulk (CSV `COPY` into
PostgreSQL, Parquet into Spark), and one `dbt build` runs against that engine's target in profiles.yml.

    hqd engines build --target postgres      # HQD_PG_* say where the server is
    hqd engines build --target spark         # a local Spark session (pyspark)
    hqd engines compare --target postgres    # every mart there against the DuckDB marts

The build itself is the Dagster engine job (orchestration/jobs.py), which calls `replicate_raw` and then dbt.
"""

import math
import multiprocessing
import tempfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb

from hqd import warehouse
from hqd.landing import ingest
from hqd.settings import Settings

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
    def from_settings(cls, settings: Settings) -> "PostgresConnection":
        return cls(
            host=settings.pg_host,
            port=settings.pg_port,
            user=settings.pg_user,
            password=settings.pg_password,
            dbname=settings.pg_database,
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
    def from_settings(cls, settings: Settings) -> "SparkLocation":
        return cls(settings.spark_dir)

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
        # on-demand marts (the composite-index engine) are built on DuckDB only, never on the engines
        if node["resource_type"] == "model" and "marts" in node["fqn"] and "on_demand" not in node.get("tags", [])
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

    Numbers (exact decimals on every engine) may differ by `tolerance`, absolute or relative to their size:
    each engine rounds a double to the measure's 10 decimals on its own, so a running sum of n such values (a gap
    plan's cumulative points) may differ by n half-units of the last place. Everything else must be equal.
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
                same = math.isclose(a, b, rel_tol=tolerance, abs_tol=tolerance)
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


# ---------------------------------------------------------------- what the engine job and the CLI call


def replicate_raw(settings: Settings) -> dict[str, int]:
    """Bring the settings' target engine's raw tables level with the DuckDB landing store."""
    if settings.target == "postgres":
        source = warehouse.connect(settings, read_only=True)
        try:
            return replicate_raw_to_postgres(source, PostgresConnection.from_settings(settings))
        finally:
            source.close()
    if settings.target == "spark":
        # in a child process: the local session's Derby metastore admits one JVM, and dbt's own Spark session
        # (a separate dbt process) must be able to open it right after
        with multiprocessing.get_context("spawn").Pool(1) as pool:
            return pool.apply(_replicate_raw_to_spark_in_child, (settings.warehouse, settings.spark_dir))
    return {}


def _replicate_raw_to_spark_in_child(warehouse_path: Path, spark_dir: Path) -> dict[str, int]:
    spark = spark_session(SparkLocation(spark_dir))
    source = duckdb.connect(str(warehouse_path), read_only=True)
    try:
        return replicate_raw_to_spark(source, spark)
    finally:
        source.close()
        spark.stop()


def compare_with_duckdb(settings: Settings) -> dict[str, list[str]]:
    """Every mart on the settings' target engine against the DuckDB warehouse's; problems per mart."""
    keys = mart_primary_keys(settings.manifest_path)
    duck = warehouse.connect(settings.with_overrides(target="duckdb"), read_only=True)
    if settings.target == "postgres":
        other = PostgresConnection.from_settings(settings).connect()
        read_other = read_relation_postgres
    else:
        other = spark_session(SparkLocation.from_settings(settings))
        read_other = read_relation_spark
    try:
        return compare_marts(
            keys, lambda relation: read_relation_duckdb(duck, relation), lambda relation: read_other(other, relation)
        )
    finally:
        duck.close()
        if settings.target == "postgres":
            other.close()
