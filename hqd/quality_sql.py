"""The quality gate's metrics computed in DuckDB: each expectation of a suite as SQL over the suite's query.

Great Expectations 1.24.1 validates pandas frames well but cannot compute metrics on DuckDB (its SQLAlchemy
engine fails on duckdb-engine, STACK.md), and a frame of a national-scale mart takes more memory than the machine
has. So the row-level expectations the suites use run here as SQL aggregates, one scan of the query for every
count, one more per uniqueness rule, and one small query for the first failing rows of each failed expectation;
only those few rows ever reach Python. The result of each expectation is a dict in the shape GE's pandas engine
gives with result_format SUMMARY (element_count, unexpected_count, percentages, partial_unexpected_list,
partial_unexpected_counts and, with key columns, partial_unexpected_index_list), so that GE's result objects, Data
Docs, the persisted run records and the quality page read it unchanged. tests/hqd/test_quality_sql.py holds the
two engines to the same results.

A suite using an expectation type not listed in SQL_EXPECTATION_TYPES is validated by GE on a pandas frame
instead (hqd/quality.py decides).
"""

from __future__ import annotations

import datetime
import decimal
import math
from collections import Counter
from dataclasses import dataclass
from typing import Any

import duckdb

SINGLE_COLUMN_TYPES = {
    "expect_column_values_to_not_be_null",
    "expect_column_values_to_be_null",
    "expect_column_values_to_be_in_set",
    "expect_column_values_to_be_between",
    "expect_column_values_to_match_regex",
    "expect_column_values_to_be_unique",
}
PAIR_TYPES = {"expect_column_pair_values_a_to_be_greater_than_b", "expect_column_pair_values_to_be_equal"}
TABLE_TYPES = {"expect_table_row_count_to_be_between", "expect_table_columns_to_match_set"}
SQL_EXPECTATION_TYPES = SINGLE_COLUMN_TYPES | PAIR_TYPES | TABLE_TYPES | {"expect_compound_columns_to_be_unique"}
# GE's null rules report no missing values (a null is the thing they count)
NO_MISSING_TYPES = {"expect_column_values_to_not_be_null", "expect_column_values_to_be_null"}


@dataclass
class SqlResult:
    success: bool
    result: dict[str, Any]
    error: str | None = None  # the expectation raised (e.g. a column that is not there); result is then {}


def supported(expectations: list[dict[str, Any]]) -> bool:
    return all(e["type"] in SQL_EXPECTATION_TYPES for e in expectations)


def _ident(name: str) -> str:
    return '"' + str(name).replace('"', '""') + '"'


def _literal(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def _plain(value: Any) -> Any:
    """A fetched value as the pandas engine would report it in JSON: DECIMAL as a float (pandas reads it so)."""
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    return value


def _columns(kwargs: dict[str, Any], kind: str) -> list[str]:
    if kind in PAIR_TYPES:
        return [kwargs["column_A"], kwargs["column_B"]]
    if kind == "expect_compound_columns_to_be_unique":
        return list(kwargs["column_list"])
    return [kwargs["column"]]


def _between(column: str, kwargs: dict[str, Any]) -> str:
    parts = []
    if kwargs.get("min_value") is not None:
        parts.append(f"{column} {'>' if kwargs.get('strict_min') else '>='} {_literal(kwargs['min_value'])}")
    if kwargs.get("max_value") is not None:
        parts.append(f"{column} {'<' if kwargs.get('strict_max') else '<='} {_literal(kwargs['max_value'])}")
    return " and ".join(parts) or "true"


def _missing_and_unexpected(kind: str, kwargs: dict[str, Any]) -> tuple[str, str]:
    """(missing, unexpected) row predicates over the query's row; the unexpected one never holds on a missing row.
    The uniqueness rules' unexpected predicate is written by the caller (it needs the duplicated groups)."""
    if kind in PAIR_TYPES:
        a, b = _ident(kwargs["column_A"]), _ident(kwargs["column_B"])
        ignore = kwargs.get("ignore_row_if", "both_values_are_missing")
        missing = {
            "both_values_are_missing": f"({a} is null and {b} is null)",
            "either_value_is_missing": f"({a} is null or {b} is null)",
            "neither": "false",
        }[ignore]
        if kind == "expect_column_pair_values_to_be_equal":
            holds = f"{a} = {b}"
        else:
            holds = f"{a} {'>=' if kwargs.get('or_equal') else '>'} {b}"
        return missing, f"(not {missing} and not coalesce({holds}, false))"
    if kind == "expect_compound_columns_to_be_unique":
        names = [_ident(c) for c in kwargs["column_list"]]
        return "(" + " and ".join(f"{c} is null" for c in names) + ")", ""
    column = _ident(kwargs["column"])
    if kind == "expect_column_values_to_not_be_null":
        return "false", f"({column} is null)"
    if kind == "expect_column_values_to_be_null":
        return "false", f"({column} is not null)"
    missing = f"({column} is null)"
    if kind == "expect_column_values_to_be_in_set":
        values = kwargs.get("value_set") or []
        holds = f"{column} in ({', '.join(_literal(v) for v in values)})" if values else "false"
    elif kind == "expect_column_values_to_be_between":
        holds = _between(column, kwargs)
    elif kind == "expect_column_values_to_match_regex":
        holds = f"regexp_matches({column}::varchar, {_literal(kwargs['regex'])})"
    elif kind == "expect_column_values_to_be_unique":
        return missing, ""
    else:  # pragma: no cover - supported() guards the types
        raise ValueError(f"no SQL for {kind}")
    return missing, f"({column} is not null and not coalesce({holds}, false))"


def _duplicates(columns: list[str], relation: str, missing: str) -> str:
    """The groups of `columns` that occur more than once among the rows that are not missing."""
    names = ", ".join(_ident(c) for c in columns)
    return f"select {names}, count(*) as n from {relation} where not {missing} group by all having count(*) > 1"


def _duplicated_row(columns: list[str], duplicates: str) -> str:
    matches = " and ".join(f"d.{_ident(c)} is not distinct from q.{_ident(c)}" for c in columns)
    return f"exists (select 1 from ({duplicates}) as d where {matches})"


def _counts_sorted(values: list[Any]) -> list[dict[str, Any]]:
    """partial_unexpected_counts as GE gives them: most frequent first."""
    hashable = [tuple(v) if isinstance(v, list) else v for v in values]
    counts = Counter(hashable)

    def order(item: tuple[Any, int]) -> tuple[int, str]:
        return (-item[1], repr(item[0]))

    return [
        {"value": list(value) if isinstance(value, tuple) else value, "count": count}
        for value, count in sorted(counts.items(), key=order)
    ]


def _percent(part: int, whole: int) -> float | None:
    return part / whole * 100 if whole else None  # GE's own order of operations, to the last bit


def validate(
    con: duckdb.DuckDBPyConnection,
    query: str,
    expectations: list[dict[str, Any]],
    key_columns: list[str],
    examples: int,
) -> tuple[int, list[SqlResult]]:
    """Rows of the query and each expectation's result; a query that cannot run raises duckdb.Error."""
    relation = f"(\n{query.strip().rstrip(';')}\n) as q"
    names = [d[0] for d in con.execute(f"select * from {relation} limit 0").description]
    # as the pandas path: GE fails every expectation on a missing key column, so keys are used only if all exist
    keys = list(key_columns) if all(k in names for k in key_columns) else []

    # one pass for every count that needs no grouping
    aggregates = ["count(*)"]
    plans: list[dict[str, Any]] = []
    for expectation in expectations:
        kind, kwargs = expectation["type"], expectation["kwargs"]
        plan: dict[str, Any] = {"kind": kind, "kwargs": kwargs}
        plans.append(plan)
        if kind in TABLE_TYPES:
            continue
        columns = _columns(kwargs, kind)
        absent = [c for c in columns if c not in names]
        if absent:
            plan["error"] = f'Error: The column "{absent[0]}" in BatchData does not exist.'
            continue
        missing, unexpected = _missing_and_unexpected(kind, kwargs)
        if kind in ("expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique"):
            duplicates = _duplicates(columns, relation, missing)
            unexpected = _duplicated_row(columns, duplicates)
            plan["unexpected_count_sql"] = f"select coalesce(sum(n), 0) from ({duplicates})"
        plan.update(columns=columns, missing=missing, unexpected=unexpected, slot=len(aggregates))
        aggregates.append(f"count(*) filter (where {missing})")
        if "unexpected_count_sql" not in plan:
            aggregates.append(f"count(*) filter (where {unexpected})")
        else:
            # as many distinct hashes as rows proves every row unique in the same pass (equal values hash alike);
            # fewer, duplicates or a collision, and the groups are counted exactly (national staging 6.9 -> 4.0 s)
            hashed = ", ".join(_ident(c) for c in columns)
            aggregates.append(f"count(distinct hash({hashed})) filter (where not {missing})")
    row = con.execute(f"select {', '.join(aggregates)} from {relation}").fetchone()
    assert row is not None
    total = int(row[0])

    results = []
    for plan in plans:
        kind, kwargs = plan["kind"], plan["kwargs"]
        if "error" in plan:
            results.append(SqlResult(False, {}, plan["error"]))
            continue
        if kind == "expect_table_row_count_to_be_between":
            low, high = kwargs.get("min_value"), kwargs.get("max_value")
            ok = (low is None or total >= low) and (high is None or total <= high)
            results.append(SqlResult(ok, {"observed_value": total}))
            continue
        if kind == "expect_table_columns_to_match_set":
            results.append(_columns_match(names, kwargs))
            continue
        slot = plan["slot"]
        missing_count = int(row[slot])
        if "unexpected_count_sql" in plan:
            if int(row[slot + 1]) == total - missing_count:
                unexpected_count = 0
            else:
                unexpected_count = int(con.execute(plan["unexpected_count_sql"]).fetchone()[0])  # type: ignore[index]
        else:
            unexpected_count = int(row[slot + 1])
        results.append(_column_map_result(con, relation, plan, keys, total, missing_count, unexpected_count, examples))
    return total, results


def _columns_match(names: list[str], kwargs: dict[str, Any]) -> SqlResult:
    expected = list(kwargs.get("column_set") or [])
    unexpected = [n for n in names if n not in expected]
    missing = [n for n in expected if n not in names]
    exact = kwargs.get("exact_match", True)
    ok = not missing and (not unexpected or not exact)
    result: dict[str, Any] = {"observed_value": sorted(names)}
    if missing or unexpected:
        mismatched: dict[str, Any] = {}
        if unexpected:
            mismatched["unexpected"] = sorted(unexpected)
        if missing:
            mismatched["missing"] = sorted(missing)
        result["details"] = {"mismatched": mismatched}
    return SqlResult(ok, result)


def _column_map_result(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    plan: dict[str, Any],
    keys: list[str],
    total: int,
    missing_count: int,
    unexpected_count: int,
    examples: int,
) -> SqlResult:
    kind, kwargs, columns = plan["kind"], plan["kwargs"], plan["columns"]
    nonmissing = total - missing_count
    mostly = kwargs.get("mostly")
    if mostly is None:
        ok = unexpected_count == 0
    else:
        ok = nonmissing == 0 or (nonmissing - unexpected_count) / nonmissing >= mostly

    listed: list[Any] = []
    indexed: list[Any] = []
    if unexpected_count:
        # the index entry's columns in the order GE's pandas engine gives them: the first rule column, the keys,
        # the other rule columns; without key columns GE gives the row's position in the frame
        ordered = list(dict.fromkeys([columns[0], *keys, *columns[1:]]))
        select = ", ".join(f"q.{_ident(c)}" for c in ordered)
        source = relation
        if not keys:  # numbered before the filter; only the suites of a few summary rows have no keys
            source = f"(select *, row_number() over () - 1 as __position from {relation}) as q"
            select += ", q.__position"
        fetched = con.execute(
            f"select {select} from {source} where {plan['unexpected']} limit {int(examples)}"
        ).fetchall()
        for values in fetched:
            record = {c: _plain(v) for c, v in zip(ordered, values, strict=False)}
            if kind in PAIR_TYPES:
                listed.append([record[c] for c in columns])
            elif kind == "expect_compound_columns_to_be_unique":
                listed.append({c: record[c] for c in columns})
            else:
                listed.append(record[columns[0]])
            indexed.append(record if keys else values[-1])

    result: dict[str, Any] = {"element_count": total, "unexpected_count": unexpected_count}
    if kind in NO_MISSING_TYPES:
        result["unexpected_percent"] = _percent(unexpected_count, total)
        result["partial_unexpected_list"] = listed
    else:
        result["unexpected_percent"] = _percent(unexpected_count, nonmissing)
        result["partial_unexpected_list"] = listed
        result["missing_count"] = missing_count
        result["missing_percent"] = _percent(missing_count, total)
        result["unexpected_percent_total"] = _percent(unexpected_count, total)
        result["unexpected_percent_nonmissing"] = _percent(unexpected_count, nonmissing)
    if keys and kind != "expect_column_values_to_be_null":  # GE's pandas engine leaves it out there
        result["unexpected_index_column_names"] = keys
    result["partial_unexpected_counts"] = _counts_sorted(
        [list(v.values()) if isinstance(v, dict) else v for v in listed]
    )
    result["partial_unexpected_index_list"] = indexed
    return SqlResult(ok, result)
