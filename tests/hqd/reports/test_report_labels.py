"""The pages' Chinese words for the marts' codes are the seeds' own, read from the release's dim_category_label."""

import csv

import duckdb
import pytest

from hqd.reports import labels, queries
from hqd.settings import PROJECT_DIR

CONFIG = PROJECT_DIR / "seeds" / "config"


def _rows(name: str) -> list[dict]:
    with (CONFIG / name).open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def words(built_warehouse) -> dict[str, dict[str, str]]:
    """The labels the pages print, read from the release the job published."""
    assert built_warehouse.exit_code == 0, built_warehouse.output
    con = duckdb.connect(str(built_warehouse.root / "published" / "current" / "hqd_marts.duckdb"), read_only=True)
    try:
        return queries.category_labels(con)
    finally:
        con.close()


def test_warning_levels_and_their_order_are_the_seeds(words):
    rows = sorted(_rows("warning_levels.csv"), key=lambda row: int(row["sort_order"]))
    seed = [(row["warning_level"], row["warning_level_zh"]) for row in rows]
    assert seed == list(words["warning_level"].items())


def test_tier_names_are_the_seeds(words):
    assert {row["tier"]: row["tier_name_zh"] for row in _rows("tier_names.csv")} == words["tier"]


def test_weakness_reasons_and_goals_are_the_category_seed(words):
    seed = _rows("category_labels.csv")
    for category in ("weakness_reason", "goal_code", "level"):
        assert {r["code"]: r["label_zh"] for r in seed if r["category"] == category} == words[category]


def test_every_class_of_the_configuration_has_a_label():
    classes = {row["class_code"] for row in _rows("region_classes.csv")}
    assert classes <= set(labels.CLASSES)
