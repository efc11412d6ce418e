"""The sample through the full pipeline on PostgreSQL gives the same marts as on DuckDB.

DuckDB's side is the session's end-to-end run (`built_warehouse`); PostgreSQL's side copies that run's landed
raw tables into a private cluster and runs one `dbt build` there: seeds, every model, every data test and every
unit test. Every mart is then read back from both engines and compared key by key and cell by cell.
"""

from hqd import engines
from hqd.settings import PROJECT_DIR

MANIFEST = PROJECT_DIR / "target" / "manifest.json"


def test_every_node_builds_and_passes_on_postgres(postgres_build, expected_build_nodes):
    _copied, result = postgres_build
    assert result.error is None, result.error
    assert result.failures == [], [f"{f.unique_id}: {f.message[:500]}" for f in result.failures]
    assert result.success
    # seeds, models, data tests and unit tests: the same count dbt runs on DuckDB
    assert result.nodes == expected_build_nodes


def test_raw_tables_arrive_whole(postgres_build, built_warehouse, postgres_cluster):
    copied, _result = postgres_build
    for table in engines.RAW_TABLES:
        duck = int(built_warehouse.query(f"select count(*) as n from raw.{table}")["n"][0])
        assert copied[table] == duck
        with postgres_cluster.connect() as con, con.cursor() as cur:
            cur.execute(f"select count(*) from raw.{table}")
            assert cur.fetchone()[0] == duck


def test_every_mart_is_equal_on_duckdb_and_postgres(postgres_build, built_warehouse, postgres_cluster):
    keys = engines.mart_primary_keys(MANIFEST)
    # every mart of the main build (models/marts/composite is built on demand, on DuckDB only)
    marts = [p for p in (PROJECT_DIR / "models" / "marts").rglob("*.sql") if "composite" not in p.parts]
    assert len(keys) == len(marts)
    duck = built_warehouse.connect()
    pg = postgres_cluster.connect()
    try:
        problems = engines.compare_marts(
            keys,
            lambda relation: engines.read_relation_duckdb(duck, relation),
            lambda relation: engines.read_relation_postgres(pg, relation),
        )
    finally:
        pg.close()
        duck.close()
    assert {mart: found for mart, found in problems.items() if found} == {}
