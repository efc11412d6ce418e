"""engines.py: the type mapping, the bulk copy into PostgreSQL and the comparison the parity tests rely on."""

import datetime as dt
from decimal import Decimal

import duckdb
import pytest

from hqd import engines


def test_postgres_types_keep_values_exact():
    assert engines.postgres_type("DECIMAL(38,10)") == "numeric(38,10)"
    assert engines.postgres_type("VARCHAR") == "text"
    assert engines.postgres_type("TIMESTAMP") == "timestamp"
    with pytest.raises(ValueError, match="no PostgreSQL type for the DuckDB type MAP"):
        engines.postgres_type("MAP(VARCHAR, INTEGER)")


def test_copy_keeps_null_empty_text_newlines_quotes_and_chinese(postgres_cluster):
    source = duckdb.connect()
    source.execute("create schema s")
    source.execute(
        """
        create table s.t as select * from (values
            (1, null, cast(1.5 as decimal(38, 10)), date '2024-01-31', timestamp '2024-01-31 08:00:00', true),
            (2, '', cast(-0.0000000001 as decimal(38, 10)), null, null, false),
            (3, '南京市 "鼓楼"' || chr(10) || '第二行, 逗号', null, null, null, null)
        ) as v(id, label, amount, day, loaded_at, flag)
        """
    )
    con = postgres_cluster.connect()
    try:
        counts = engines.copy_tables_to_postgres(source, [("s", "t")], con, "copy_test", replace_schema=True)
        con.commit()
        columns, rows = engines.read_relation_postgres(con, "copy_test.t order by id")
    finally:
        con.close()
    assert counts == {"t": 3}
    assert columns == ["id", "label", "amount", "day", "loaded_at", "flag"]
    assert rows == [
        (1, None, Decimal("1.5000000000"), dt.date(2024, 1, 31), dt.datetime(2024, 1, 31, 8), True),
        (2, "", Decimal("-1E-10"), None, None, False),
        (3, '南京市 "鼓楼"\n第二行, 逗号', None, None, None, None),
    ]


def _relation(rows):
    return ["key", "score", "tier"], rows


def test_compare_accepts_equal_marts_and_differences_within_tolerance():
    left = _relation([("a", Decimal("58.7300000000"), 1), ("b", 12.0, 2)])
    right = _relation([("b", 12.0 + 1e-10, 2), ("a", 58.73, 1)])
    assert engines.compare_relation("m", "key", left, right) == []


def test_compare_accepts_a_running_sum_rounded_on_each_engine_but_not_a_real_difference():
    # 27 values each rounded to 10 decimals on its engine, summed: 1.3e-9 apart is 27 half-units of the last place
    left = _relation([("a", Decimal("23.6209575947"), 1)])
    assert engines.compare_relation("m", "key", left, _relation([("a", Decimal("23.6209575960"), 1)])) == []
    assert engines.compare_relation("m", "key", left, _relation([("a", Decimal("23.6209576947"), 1)])) != []


def test_compare_names_each_kind_of_difference():
    left = _relation([("a", Decimal("58.73"), 1), ("b", 12.0, 2), ("c", 1.0, 3)])
    right = _relation([("a", Decimal("58.7300001"), 1), ("b", 12.0, 3), ("d", 1.0, 3)])
    problems = engines.compare_relation("m", "key", left, right)
    assert problems[0] == "m: keys only on the left ['c'], only on the right ['d']"
    assert "m[a].score: 58.73 vs 58.7300001" in problems
    assert "m[b].tier: 2 vs 3" in problems
    other_columns = (["key", "points"], [("a", 1)])
    assert engines.compare_relation("m", "key", left, other_columns)[0].startswith("m: columns differ")


def test_dbt_spark_session_uses_the_same_location_as_the_raw_copy(tmp_path):
    """profiles.yml's session parameters and SparkLocation.configs must agree, or dbt would not see the raw
    tables the engine job copied (a different warehouse dir or metastore)."""
    import yaml

    from hqd.settings import PROJECT_DIR

    text = (PROJECT_DIR / "profiles.yml").read_text(encoding="utf-8")
    text = text.replace("{{ env_var('HQD_SPARK_DIR', 'data/spark') }}", str(tmp_path))
    parameters = yaml.safe_load(text)["hqd"]["outputs"]["spark"]["server_side_parameters"]
    expected = engines.SparkLocation(tmp_path).configs()
    assert {k: v for k, v in parameters.items() if k != "spark.master"} == expected
