"""The pages' own phrasing that no mart code carries: a class as the letters name it (第Ⅱ类) and a quarter.

Every category code's Chinese word (level, tier, warning level, weakness reason, gap goal …) comes from the
release's `marts.dim_category_label`, made from the seeds (queries.category_labels), so a page and a BI view
print the same word.
"""

from __future__ import annotations

CLASSES = {"I": "第Ⅰ类", "II": "第Ⅱ类", "III": "第Ⅲ类"}

QUARTERS = {1: "第一季度", 2: "第二季度", 3: "第三季度", 4: "第四季度"}


def class_label(code: str | None) -> str:
    return CLASSES.get(code or "", code or "—")
