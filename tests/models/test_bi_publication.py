"""The end-to-end run's publication as a BI user meets it: every published column described as dbt describes it,
in the DuckDB file and the Parquet files; every table and view reflected through SQLAlchemy; the marts_zh views'
names, labels and display numbers against the seeds and the facts, worked out independently in pandas."""

from __future__ import annotations

import json
import warnings
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from tests.conftest import PROJECT_DIR

pytestmark = pytest.mark.slow

VIEWS = [
    "fct_advanced_counties_zh",
    "fct_department_lines_zh",
    "fct_indicator_scores_zh",
    "fct_monitoring_warnings_zh",
    "fct_region_assessment_zh",
    "fct_region_feedback_zh",
    "fct_region_gap_plans_zh",
    "fct_region_gaps_zh",
    "fct_rejected_submissions_zh",
]


@pytest.fixture(scope="module")
def release(built_warehouse) -> Path:
    assert built_warehouse.exit_code == 0, built_warehouse.output
    return (built_warehouse.root / "published" / "current").resolve()


@pytest.fixture
def reader(release):
    con = duckdb.connect(str(release / "hqd_marts.duckdb"), read_only=True)
    yield con
    con.close()


def dbt_descriptions() -> dict[tuple[str, str], dict[str, str]]:
    manifest = json.loads((PROJECT_DIR / "target" / "manifest.json").read_text(encoding="utf-8"))
    return {
        (n["schema"], n["alias"]): {c["name"]: c["description"].strip() for c in n["columns"].values()}
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model" and n["schema"] in {"marts", "marts_zh"}
    }


def test_every_published_column_carries_its_dbt_description(reader, release):
    described = dbt_descriptions()
    columns = reader.execute(
        "select schema_name, table_name, column_name, comment from duckdb_columns() "
        "where schema_name in ('marts', 'marts_zh')"
    ).fetchall()
    assert {(s, t) for s, t, _, _ in columns} == set(described)
    assert sorted({t for s, t, _, _ in columns if s == "marts_zh"}) == VIEWS
    for schema, table, column, comment in columns:
        assert comment == described[(schema, table)][column], (schema, table, column)
    manifest = json.loads((release / "manifest.json").read_text(encoding="utf-8"))
    for table, info in manifest["marts"].items():
        # the mart's folder as pandas reads it: every year's file
        frame = pd.read_parquet(release / info["parquet_dir"])
        assert len(frame) == info["row_count"]
        assert sorted(p.name for p in (release / info["parquet_dir"]).iterdir()) == sorted(
            Path(part["file"]).name for part in info["parts"]
        )
        for part in info["parts"]:
            fields = pq.read_schema(release / part["file"])
            assert [f.name for f in fields] == [c["name"] for c in info["columns"]]
            for field in fields:
                assert field.metadata[b"description"].decode() == described[("marts", table)][field.name]


def test_sqlalchemy_reflects_every_table_and_view_of_the_release(release):
    # what DuckDB itself says, read first: one process cannot open a file twice with different configurations
    con = duckdb.connect(str(release / "hqd_marts.duckdb"), read_only=True)
    comments = {}
    for schema, name, column, comment in con.execute(
        "select schema_name, table_name, column_name, comment from duckdb_columns() "
        "where schema_name in ('marts', 'marts_zh') order by column_index"
    ).fetchall():
        comments.setdefault((schema, name), []).append((column, comment))
    assessed = con.execute("select count(*) from marts.fct_region_assessment").fetchone()[0]
    con.close()
    engine = sa.create_engine(f"duckdb:///{release / 'hqd_marts.duckdb'}", connect_args={"read_only": True})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        inspector = sa.inspect(engine)
        relations = {("marts", t) for t in inspector.get_table_names(schema="marts")}
        relations |= {("marts_zh", v) for v in inspector.get_view_names(schema="marts_zh")}
        assert relations == set(dbt_descriptions())
        for schema, name in sorted(relations):
            reflected = inspector.get_columns(name, schema=schema)
            assert [(c["name"], c["comment"]) for c in reflected] == comments[(schema, name)]
            assert isinstance(inspector.get_pk_constraint(name, schema=schema), dict)
    with engine.connect() as connection:
        count = connection.execute(sa.text("select count(*) from marts_zh.fct_region_assessment_zh")).scalar_one()
    assert count == assessed
    engine.dispose()


def test_region_names_labels_and_display_numbers(reader):
    regions = pd.read_csv(PROJECT_DIR / "seeds/reference/regions.csv", dtype={"region_code": str})
    tiers = pd.read_csv(PROJECT_DIR / "seeds/config/tier_names.csv")
    view = reader.execute(
        "select v.assessment_year, v.region_code, v.region_name, v.tier_name_zh, v.tier_sort_order, v.level_zh, "
        "v.total_score, f.total_score as exact_score, f.tier "
        "from marts_zh.fct_region_assessment_zh as v "
        "join marts.fct_region_assessment as f using (region_assessment_key)"
    ).df()
    # the name in force that year, from the seed's validity years (blank = still in force)
    regions["valid_to_year"] = regions["valid_to_year"].fillna(9999)
    merged = view.merge(regions[["region_code", "region_name", "valid_from_year", "valid_to_year"]], on="region_code")
    merged = merged[
        (merged.assessment_year >= merged.valid_from_year) & (merged.assessment_year <= merged.valid_to_year)
    ]
    assert len(merged) == len(view)
    assert (merged.region_name_x == merged.region_name_y).all()
    haimen = dict(view[view.region_code.isin(["320684", "320614"])][["assessment_year", "region_name"]].values)
    assert haimen[2020] == "海门市" and haimen[2021] == "海门区"

    expected_tier = view.tier.map(dict(zip(tiers.tier, tiers.tier_name_zh, strict=True)))
    assert (view.tier_name_zh == expected_tier).all()
    assert (view.tier_sort_order == view.tier.map(dict(zip(tiers.tier, tiers.sort_order, strict=True)))).all()
    assert set(view.level_zh) == {"设区市", "县(市、区)"}
    # two decimals, half away from zero (scores are positive here), on the exact decimals of both
    pairs = reader.execute(
        "select v.total_score, f.total_score from marts_zh.fct_region_assessment_zh as v "
        "join marts.fct_region_assessment as f using (region_assessment_key)"
    ).fetchall()
    assert len(pairs) == len(view)
    for shown, exact in pairs:
        assert shown == exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        assert shown.as_tuple().exponent == -2  # prints as 86.93, never 86.9300000000


def test_warning_levels_in_chinese_with_severity_order(reader):
    levels = pd.read_csv(PROJECT_DIR / "seeds/config/warning_levels.csv")
    got = reader.execute(
        "select distinct warning_level, warning_level_zh, warning_level_sort_order "
        "from marts_zh.fct_monitoring_warnings_zh"
    ).fetchall()
    expected = {(r.warning_level, r.warning_level_zh, r.sort_order) for r in levels.itertuples()}
    assert set(got) == expected  # the sample has every level, red to none
    order = reader.execute(
        "select warning_level_zh from marts_zh.fct_monitoring_warnings_zh "
        "group by all order by min(warning_level_sort_order)"
    ).fetchall()
    assert [r[0] for r in order] == ["红", "黄", "蓝", "无"]
