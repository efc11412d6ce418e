"""The sample through the full pipeline on Spark (a local session) gives the same marts as on DuckDB.

Run by `make test-spark` (pytest -m spark): it needs the `spark` extra (pyspark, dbt-spark) and Java 17.
DuckDB's side is the session's end-to-end run; Spark's side copies that run's landed raw tables into a Spark
warehouse in a temporary folder and runs one `dbt build` there, seeds, models, data tests and unit tests.
"""

import pytest

from hqd import engines
from hqd.settings import PROJECT_DIR

pytestmark = pytest.mark.spark

MANIFEST = PROJECT_DIR / "target" / "manifest.json"


def test_every_node_builds_and_passes_on_spark(spark_build, expected_build_nodes):
    _spark, _copied, result = spark_build
    assert result.error is None, result.error
    assert result.failures == [], [f"{f.unique_id}: {f.message[:500]}" for f in result.failures]
    assert result.success
    assert result.nodes == expected_build_nodes


def test_raw_tables_arrive_whole(spark_build, built_warehouse):
    spark, copied, _result = spark_build
    for table in engines.RAW_TABLES:
        duck = int(built_warehouse.query(f"select count(*) as n from raw.{table}")["n"][0])
        assert copied[table] == duck
        assert spark.table(f"raw.{table}").count() == duck


def test_every_mart_is_equal_on_duckdb_and_spark(spark_build, built_warehouse):
    spark, _copied, _result = spark_build
    keys = engines.mart_primary_keys(MANIFEST)
    # every mart of the main build (models/marts/composite is built on demand, on DuckDB only)
    marts = [p for p in (PROJECT_DIR / "models" / "marts").rglob("*.sql") if "composite" not in p.parts]
    assert len(keys) == len(marts)
    duck = built_warehouse.connect()
    try:
        problems = engines.compare_marts(
            keys,
            lambda relation: engines.read_relation_duckdb(duck, relation),
            lambda relation: engines.read_relation_spark(spark, relation),
        )
    finally:
        duck.close()
    assert {mart: found for mart, found in problems.items() if found} == {}
