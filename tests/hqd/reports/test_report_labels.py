"""The pages' Chinese words for the marts' codes are the seeds' own (the release holds no seeds)."""

import csv

from hqd.reports import labels
from hqd.settings import PROJECT_DIR

CONFIG = PROJECT_DIR / "seeds" / "config"


def _rows(name: str) -> list[dict]:
    with (CONFIG / name).open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_warning_levels_and_their_order_are_the_seeds():
    seed = {
        row["warning_level"]: (row["warning_level_zh"], int(row["sort_order"])) for row in _rows("warning_levels.csv")
    }
    assert seed == labels.WARNING_LEVELS


def test_tier_names_are_the_seeds():
    assert {int(row["tier"]): row["tier_name_zh"] for row in _rows("tier_names.csv")} == labels.TIERS


def test_every_class_of_the_configuration_has_a_label():
    classes = {row["class_code"] for row in _rows("region_classes.csv")}
    assert classes <= set(labels.CLASSES)
