"""Which rows a quality suite must read in this run: the whole query, or only what changed since it last passed.

Raw rows are append-only, each file with its load_seq, and dbt rebuilds the large marts by assessment year from
the first year new loads touch (macros/incremental.sql). Rows of earlier loads and earlier years are therefore
exactly what the last successful check of a suite saw. A suite whose file declares a partition (`meta.partition`):

    {"by": "load"}                          raw and staging rows: `load_seq > <watermark>`
    {"by": "year"}                          a mart rebuilt by year: `assessment_year >= <first year landed since>`
    {"by": "year", "annual_only": true}     one that reads annual values only (dbt's rebuilt_on='annual_values'):
                                            the first year of annual rows landed since

reads only that slice once it has passed in full: the warehouse keeps, per suite, the last load its rows reflected
in a check in which every expectation passed (`main.hqd_quality_state`, beside dbt's build state). A mart's rows
reflect the loads its own dbt build state records (a model whose build failed keeps its old watermark there, so
the gate never claims loads the mart has not taken in); raw rows and views reflect every landed load. It reads
everything again when

  * it never passed here, or the state table is not there (a new or replaced warehouse);
  * its suite file changed since (its fingerprint), or dbt's model and seed definitions did (the build
    fingerprint dbt recorded, macros/incremental.sql: a changed definition rebuilds every year);
  * the run is a full refresh (`whole=True`), or raw holds fewer loads than the watermark (raw was rebuilt).

A suite that failed anything keeps its old watermark, so the next run checks those rows again; a slice with no
rows is reported unchanged (nothing was rebuilt since it passed) and not validated. Years are parsed by the
staging view, the same macros dbt's incremental models use. Row-level rules and keys hold row by row or within
a year or a load, which is what makes a slice enough; a suite may declare a partition only if its table-level
expectations still mean the same on a slice (hqd.quality checks this when it reads the suite).
"""

from __future__ import annotations

import datetime
import hashlib
import json
from dataclasses import dataclass
from typing import Any

import duckdb

from hqd import build_state
from hqd.build_state import NOTHING_LANDED_YEAR

STATE_SCHEMA = "main"
STATE_TABLE = "hqd_quality_state"
PARTITION_KINDS = {"load": "load_seq", "year": "assessment_year"}


@dataclass(frozen=True)
class Scope:
    """The rows of a suite's query this run validates; `condition` None means all of them."""

    condition: str | None = None
    description: str = "whole"  # for people: the quality page, the check's metadata
    watermark: int = 0  # the load_seq the slice starts after (0: whole)
    through: int = 0  # the last load the rows reflect when the scope was planned: the suite's next watermark
    fingerprint: str | None = None  # dbt's definitions the rows were built with ('' for raw rows)
    from_year: int | None = None  # a year slice's first assessment year

    @property
    def is_whole(self) -> bool:
        return self.condition is None

    def sliced_query(self, query: str) -> str:
        if self.condition is None:
            return query
        return f"select * from (\n{query.strip().rstrip(';')}\n) as suite_rows where {self.condition}"

    def record(self) -> dict[str, Any]:
        return {
            "condition": self.condition,
            "description": self.description,
            "after_load_seq": self.watermark,
            "from_year": self.from_year,
        }


WHOLE = Scope()


def suite_fingerprint(suite: dict[str, Any]) -> str:
    """Changes whenever anything in the suite file that decides a result changes."""
    canonical = json.dumps(
        {k: suite.get(k) for k in ("meta", "expectations")}, sort_keys=True, ensure_ascii=False, default=str
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _latest_fingerprint(builds: dict[str, tuple[int, str]]) -> str | None:
    return list(builds.values())[-1][1] if builds else None  # ordered by built_at


def _data_through(suite: dict[str, Any], builds: dict[str, tuple[int, str]], last_load: int) -> tuple[int, str | None]:
    """The last load the suite's rows reflect and the definitions they were built with. A mart built
    incrementally reflects the loads its own build state says (a model that failed keeps its old watermark); raw
    rows and views reflect every landed load."""
    asset = suite["meta"]["asset"]
    if asset.startswith("raw/"):
        return last_load, ""
    built = builds.get(asset.split("/")[-1])
    if built is not None:
        return min(built[0], last_load), built[1]
    return last_load, _latest_fingerprint(builds)


def _states(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, str, str | None]]:
    if not build_state.relation_exists(con, STATE_SCHEMA, STATE_TABLE):
        return {}
    rows = con.execute(
        f"select suite_name, load_seq_through, suite_fingerprint, build_fingerprint from {STATE_SCHEMA}.{STATE_TABLE}"
    ).fetchall()
    return {name: (int(through), suite_fp, build_fp) for name, through, suite_fp, build_fp in rows}


def plan(con: duckdb.DuckDBPyConnection, suites: dict[str, dict[str, Any]], *, whole: bool = False) -> dict[str, Scope]:
    """Each named suite's scope for this run (see the module docstring)."""
    last_load = build_state.last_load(con)
    builds = build_state.models(con)
    states = {} if whole else _states(con)
    first_years: dict[tuple[int, bool], int | None] = {}  # one staging query per distinct (watermark, annual_only)
    scopes: dict[str, Scope] = {}
    for name, suite in suites.items():
        through, fingerprint = _data_through(suite, builds, last_load)
        partition = suite["meta"].get("partition")
        state = states.get(name)
        if partition is None or state is None:
            scopes[name] = Scope(through=through, fingerprint=fingerprint)
            continue
        watermark, suite_fp, build_fp = state
        if (
            suite_fp != suite_fingerprint(suite)
            or fingerprint is None
            or build_fp != fingerprint
            or not 0 < watermark <= through
        ):
            scopes[name] = Scope(through=through, fingerprint=fingerprint)
            continue
        if partition["by"] == "load":
            scopes[name] = Scope(
                condition=f"load_seq > {watermark}",
                description=f"loads after {watermark} (earlier loads passed before)",
                watermark=watermark,
                through=through,
                fingerprint=fingerprint,
            )
            continue
        annual_only = bool(partition.get("annual_only"))
        key = (watermark, annual_only)
        if key not in first_years:
            first_years[key] = build_state.first_year_landed_after(con, watermark, annual_only=annual_only)
        year = first_years[key]
        if year is None:  # no staging view to say which years changed
            scopes[name] = Scope(through=through, fingerprint=fingerprint)
            continue
        rows = "annual values" if annual_only else "values"
        scopes[name] = Scope(
            condition=f"assessment_year >= {year}",
            description=(
                f"assessment years from {year}, the first year of {rows} landed after load {watermark} "
                "(earlier years passed before)"
                if year < NOTHING_LANDED_YEAR
                else f"no {rows} landed after load {watermark}: nothing rebuilt since the suite passed"
            ),
            watermark=watermark,
            through=through,
            fingerprint=fingerprint,
            from_year=year,
        )
    return scopes


def record_passed(con: duckdb.DuckDBPyConnection, passed: dict[str, tuple[dict[str, Any], Scope]]) -> None:
    """Move the watermark of every suite in which every expectation passed (name -> (suite, its scope)) to the
    last load its rows reflected when it was planned."""
    if not passed:
        return
    now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    con.execute(
        f"create table if not exists {STATE_SCHEMA}.{STATE_TABLE} ("
        "suite_name varchar primary key, load_seq_through integer, suite_fingerprint varchar, "
        "build_fingerprint varchar, checked_at timestamp)"
    )
    rows = [
        (name, scope.through, suite_fingerprint(suite), scope.fingerprint, now)
        for name, (suite, scope) in sorted(passed.items())
    ]
    con.executemany(f"insert or replace into {STATE_SCHEMA}.{STATE_TABLE} values (?, ?, ?, ?, ?)", rows)
