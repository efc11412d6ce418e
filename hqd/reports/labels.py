"""The Chinese words the pages print for the marts' English codes.

The published release holds the marts only, not the seeds, so the few vocabularies a page needs are named here
once; `tests/hqd/reports/test_labels.py` checks them against their seeds (`warning_levels.csv`,
`tier_names.csv`), so a seed change that these miss fails a test rather than printing a stale word.
"""

from __future__ import annotations

LEVELS = {"city": "设区市", "county": "县(市、区)"}

CLASSES = {"I": "第Ⅰ类", "II": "第Ⅱ类", "III": "第Ⅲ类"}

# warning_levels.csv: code → (label, severity order)
WARNING_LEVELS = {"red": ("红", 1), "yellow": ("黄", 2), "blue": ("蓝", 3), "none": ("无", 4)}

TIERS = {1: "第一等次", 2: "第二等次", 3: "第三等次"}

WEAKNESS_REASONS = {
    "bottom_two_in_class": "同类后两名",
    "biggest_loss_of_points": "失分最多的三项之一",
    "bottom_two_and_biggest_loss": "同类后两名且失分最多",
}

SCORING_METHODS = {"efficacy": "功效系数", "target": "目标完成", "target_binary": "达标计分", "rank": "位次计分"}

DIRECTIONS = {"higher": "越大越好", "lower": "越小越好"}

GAP_GOALS = {
    "up_one_rank": "进位一名",
    "first_tier": "进入第一等次",
    "advanced_list": "进入先进县(市、区)名单",
}

QUARTERS = {1: "第一季度", 2: "第二季度", 3: "第三季度", 4: "第四季度"}


def class_label(code: str | None) -> str:
    return CLASSES.get(code or "", code or "—")


def warning_label(code: str | None) -> str:
    return WARNING_LEVELS.get(code or "", (code or "—", 9))[0]
