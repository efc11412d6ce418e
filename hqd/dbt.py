"""How the warehouse calls dbt: arguments, environment and what a build reports.

The Dagster job runs dbt (through dagster-dbt, once per run); this module is what it is told, so that every
run, on any engine, builds the same project with the same settings.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from hqd.settings import Settings


@dataclass
class DbtNodeFailure:
    unique_id: str
    status: str
    message: str


@dataclass
class DbtBuildResult:
    success: bool
    nodes: int
    failures: list[DbtNodeFailure]
    error: str | None = None

    def failure_summary(self, limit: int = 5) -> str:
        """The first failed nodes with their messages, for a failure message ('' when none failed)."""
        return "; ".join(f"{f.unique_id} ({f.status}): {f.message[:300]}" for f in self.failures[:limit])


# Above this many raw rows to take in, a DuckDB build runs one model at a time. Two large models at once share
# DuckDB's memory cap and both spill: the national full build (15.9 M rows) took 322 s on 2 threads and 254 s on 1
# (fct_monitoring_warnings 86 -> 30 s, fct_rank_robustness 73 -> 13 s, peak 3.7 -> 3.2 GB); at 4x (965,000 rows)
# 22.7 s -> 21.6 s. Small builds gain from overlapping dbt's own per-node work: the national quarter (318,000
# rows) 18.0 s on 2 threads, 24.3 s on 1; the Jiangsu sample (121,449 rows) about 1 s. Measured with
# `dbt build` on this 2-core machine, HQD_DUCKDB_MEMORY_LIMIT=2500MB.
SERIAL_BUILD_ROWS = 500_000


def rows_to_take_in(settings: Settings, *, full_refresh: bool = False) -> int:
    """How many landed raw rows the next build takes in: every row on a full refresh or a first build, else the
    rows after the earliest watermark of dbt's build state (hqd.build_state)."""
    import duckdb

    from hqd import build_state

    if not settings.warehouse.exists():
        return 0
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        if not build_state.relation_exists(con, *build_state.RAW_SUBMISSIONS.split(".")):
            return 0
        built = build_state.models(con)
        after = 0 if full_refresh or not built else min(through for through, _ in built.values())
        row = con.execute(f"select count(*) from {build_state.RAW_SUBMISSIONS} where load_seq > ?", [after]).fetchone()
    return int(row[0]) if row else 0


def build_threads(settings: Settings, *, full_refresh: bool = False) -> int | None:
    """dbt's threads for this build (None: profiles.yml's): HQD_DBT_THREADS, else on DuckDB 1 for a large build
    (SERIAL_BUILD_ROWS)."""
    if settings.dbt_threads is not None:
        return settings.dbt_threads
    if settings.target != "duckdb":
        return None
    return 1 if rows_to_take_in(settings, full_refresh=full_refresh) > SERIAL_BUILD_ROWS else None


def build_args(
    settings: Settings, *, full_refresh: bool = False, unit_tests: bool | None = None, threads: int | None = None
) -> list[str]:
    """`dbt build` (seeds, models, data tests) on the settings' target. dbt's unit tests join it on PostgreSQL
    and Spark, where they prove the SQL on that engine, or when asked (`unit_tests`, HQD_DBT_UNIT_TESTS); the
    embedded runs leave them out, as dbt advises for production: their inputs are fixed, so they say nothing
    new about a period's data and cost about 3 s of every run. `make test` runs them
    (tests/models/test_dbt_unit_tests.py)."""
    runs_unit_tests = settings.runs_unit_tests if unit_tests is None else unit_tests
    return [
        "build",
        "--target",
        settings.target,
        *([] if runs_unit_tests else ["--exclude-resource-type", "unit_test"]),
        *(["--full-refresh"] if full_refresh else []),
        *(["--threads", str(threads)] if threads else []),
    ]


@contextlib.contextmanager
def dbt_environment(settings: Settings) -> Iterator[None]:
    """profiles.yml reads the warehouse and engine from the environment of the dbt process: set it for the
    duration of one invocation, then restore what was there."""
    previous = {key: os.environ.get(key) for key in settings.dbt_env()}
    os.environ.update(settings.dbt_env())
    try:
        yield
    finally:
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def run_target_path(settings: Settings, run_id: str) -> Path:
    """Where one run's dbt artefacts go (run_results.json, compiled SQL)."""
    return settings.dbt_target_dir / "runs" / run_id


def prune_run_folders(settings: Settings, keep_run_id: str) -> list[Path]:
    """Per-run artefact folders do not accumulate: keep the newest `dbt_runs_kept`, and this run's."""
    runs = settings.dbt_target_dir / "runs"
    if not runs.is_dir():
        return []
    folders = sorted((p for p in runs.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime, reverse=True)
    removed = []
    for folder in folders[settings.dbt_runs_kept :]:
        if folder.name != keep_run_id:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def keep_partial_parse(settings: Settings, run_target: Path) -> None:
    """dagster-dbt starts each run's dbt from target/partial_parse.msgpack; the one `make manifest` wrote was parsed
    for another warehouse path (profiles.yml reads it), which makes dbt parse everything again. The last run's
    file is valid for the next run on the same warehouse, so it goes back there."""
    parsed = run_target / "partial_parse.msgpack"
    if parsed.is_file():
        shutil.copyfile(parsed, settings.dbt_target_dir / "partial_parse.msgpack")


def read_run_results(path: Path) -> DbtBuildResult:
    """What one `dbt build` did, from its run_results.json: nodes run (hooks left out) and the failures."""
    if not path.is_file():
        return DbtBuildResult(False, 0, [], error=f"dbt wrote no run results ({path})")
    results = json.loads(path.read_text(encoding="utf-8"))["results"]
    nodes = [r for r in results if not r["unique_id"].startswith("operation.")]
    failures = [
        DbtNodeFailure(r["unique_id"], r["status"], (r.get("message") or "").strip())
        for r in nodes
        if r["status"] in {"error", "fail", "runtime error"}
    ]
    return DbtBuildResult(not failures, len(nodes), failures)
