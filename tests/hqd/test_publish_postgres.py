"""publish_postgres.py: a release's marts land in a PostgreSQL schema, swapped in whole, and the BI role can
select them and do nothing else, in particular not read the raw, staging or intermediate data that the same
server holds when the warehouse is built there (the PostgreSQL parity build of this session)."""

import psycopg2
import pytest
from psycopg2 import errors

from hqd import engines
from hqd.publication.postgres import publish_release_to_postgres


@pytest.fixture(scope="module")
def published(built_warehouse, postgres_build, postgres_cluster):
    release = (built_warehouse.root / "published" / "current").resolve()
    first = publish_release_to_postgres(release, postgres_cluster.connection(), "hqd_marts", "hqd_bi")
    admin = postgres_cluster.connect()
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute("create role bi_analyst login")
        cur.execute("grant hqd_bi to bi_analyst")
    admin.close()
    return release, first


def _duckdb_counts(built_warehouse) -> dict[str, int]:
    frame = built_warehouse.query(
        "select table_name, estimated_size from duckdb_tables() where schema_name = 'marts' order by table_name"
    )
    con = built_warehouse.connect()
    try:
        return {t: con.execute(f"select count(*) from marts.{t}").fetchone()[0] for t in frame["table_name"]}
    finally:
        con.close()


def test_every_mart_arrives_with_every_row(published, built_warehouse, postgres_cluster):
    _release, result = published
    expected = _duckdb_counts(built_warehouse)
    # the 19 marts (15 official, robustness, 3 screening) and dim_category_label, the labels the marts_zh views read
    assert len(expected) == 20
    assert result.row_counts == expected
    with postgres_cluster.connect() as con, con.cursor() as cur:
        for table, rows in expected.items():
            cur.execute(f"select count(*) from hqd_marts.{table}")
            assert cur.fetchone()[0] == rows


def test_published_values_equal_the_release(published, built_warehouse, postgres_cluster):
    duck = built_warehouse.connect()
    pg = postgres_cluster.connect()
    try:
        left = engines.read_relation_duckdb(duck, "marts.fct_region_assessment")
        right = engines.read_relation_postgres(pg, "hqd_marts.fct_region_assessment")
        assert engines.compare_relation("fct_region_assessment", "region_assessment_key", left, right) == []
    finally:
        pg.close()
        duck.close()


def test_bi_role_selects_the_published_marts(published, postgres_cluster):
    with postgres_cluster.connect(user="bi_analyst") as con, con.cursor() as cur:
        cur.execute("select count(*) from hqd_marts.fct_region_assessment where tier = 1")
        assert cur.fetchone()[0] > 0


@pytest.mark.parametrize(
    "statement",
    [
        "insert into hqd_marts.dim_period (period_code) values ('2099')",
        "update hqd_marts.fct_region_assessment set tier = 1",
        "delete from hqd_marts.fct_advanced_counties",
        "truncate hqd_marts.dim_region",
        "drop table hqd_marts.dim_indicator",
        "create table hqd_marts.notes (note text)",
        "create table public.notes (note text)",
        "create schema bi_scratch",
        "select count(*) from raw.submissions",
        "select count(*) from staging.stg_landing__submissions",
        "select count(*) from intermediate.int_submissions_validated",
        "select count(*) from config.indicator_rules",
        "select count(*) from marts.fct_indicator_scores",
    ],
)
def test_bi_role_can_do_nothing_else(published, postgres_cluster, statement):
    con = postgres_cluster.connect(user="bi_analyst")
    try:
        with pytest.raises(errors.InsufficientPrivilege), con.cursor() as cur:
            cur.execute(statement)
    finally:
        con.rollback()
        con.close()


def test_republishing_swaps_the_schema_whole_and_keeps_the_grants(published, postgres_cluster):
    release, first = published
    second = publish_release_to_postgres(release, postgres_cluster.connection(), "hqd_marts", "hqd_bi")
    assert second.row_counts == first.row_counts
    with postgres_cluster.connect() as con, con.cursor() as cur:
        cur.execute("select nspname from pg_namespace where nspname like 'hqd_marts%' order by 1")
        assert [r[0] for r in cur.fetchall()] == ["hqd_marts"]
        cur.execute("select obj_description('hqd_marts'::regnamespace)")
        assert cur.fetchone()[0] == f"HQD marts, release {release.name}"
    with postgres_cluster.connect(user="bi_analyst") as con, con.cursor() as cur:
        cur.execute("select count(*) from hqd_marts.dim_region")
        assert cur.fetchone()[0] == first.row_counts["dim_region"]


def test_a_failed_load_keeps_the_previous_schema(published, postgres_cluster, tmp_path):
    with pytest.raises(FileNotFoundError, match="no published marts file"):
        publish_release_to_postgres(tmp_path, postgres_cluster.connection(), "hqd_marts", "hqd_bi")
    with pytest.raises(ValueError, match="not a plain lower-case identifier"):
        publish_release_to_postgres(published[0], postgres_cluster.connection(), "hqd_marts; drop", "hqd_bi")
    with postgres_cluster.connect(user="bi_analyst") as con, con.cursor() as cur:
        cur.execute("select count(*) from hqd_marts.dim_period")
        assert cur.fetchone()[0] == published[1].row_counts["dim_period"]


def test_wrong_server_is_a_clear_error(published):
    wrong = engines.PostgresConnection(host="127.0.0.1", port=1, user="nobody", dbname="none")
    with pytest.raises(psycopg2.OperationalError):
        publish_release_to_postgres(published[0], wrong)
