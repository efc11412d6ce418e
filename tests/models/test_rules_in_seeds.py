"""Rules whose codes must also be written elsewhere agree with their seed, the one home of each rule.

The checks that give a rejection reason or a warning level are SQL, and two Great Expectations suites list the
reason codes; these tests make sure that every code they write is the seed's, in the seed's order, and none is
missing. No warehouse is needed.
"""

import json
import re
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "seeds" / "config"
EXPECTATIONS = ROOT / "expectations"


def _seed(name: str, key: str) -> list[str]:
    frame = pd.read_csv(SEEDS / f"{name}.csv", dtype=str, keep_default_na=False)
    return list(frame.sort_values("sort_order", key=lambda s: s.astype(int))[key])


def _value_set(suite: str, column: str) -> list[str]:
    data = json.loads((EXPECTATIONS / f"{suite}.json").read_text(encoding="utf-8"))
    sets = [
        e["kwargs"]["value_set"]
        for e in data["expectations"]
        if e["type"] == "expect_column_values_to_be_in_set" and e["kwargs"]["column"] == column
    ]
    assert len(sets) == 1, f"{suite}: one value set for {column}"
    return sets[0]


def test_validation_gives_exactly_the_seeded_reasons_in_their_order():
    sql = (ROOT / "models/intermediate/submissions/int_submissions_validated.sql").read_text(encoding="utf-8")
    row_checks = sql[sql.index("judged as (") : sql.index("as row_rejection_reason")]
    file_checks = sql[sql.index("final as (") : sql.index("as rejection_reason")]
    checks = re.findall(r"then '([a-z_]+)'", row_checks) + re.findall(r"then '([a-z_]+)'", file_checks)
    first_seen = list(dict.fromkeys(checks))
    assert first_seen == _seed("rejection_reasons", "reason_code")


def test_expectation_suites_list_the_seeded_reason_codes():
    codes = _seed("rejection_reasons", "reason_code")
    assert _value_set("marts__fct_rejected_submissions", "rejection_reason") == codes
    outcomes = _value_set("marts__fct_submission_file_quality", "outcome")
    # besides the reasons: a file's accepted rows, an unreadable file, a sheet left out (填报说明)
    assert outcomes == ["accepted", "unreadable_file", "skipped_sheet", *codes]


def test_monitoring_gives_exactly_the_seeded_warning_levels():
    sql = (ROOT / "models/marts/monitoring/fct_monitoring_warnings.sql").read_text(encoding="utf-8")
    levelled = sql[sql.index("levelled as (") : sql.index("as warning_level")]
    levels = re.findall(r"(?:then|else) '([a-z]+)'", levelled)
    assert levels == _seed("warning_levels", "warning_level")
