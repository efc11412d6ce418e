"""`make bench`: what the warehouse costs at scale, against the lower bound and the pandas peer.

    hqd bench [--scales 1,4,16,national] [--base-prefectures 5] [--years 2015-2024]
    BENCH_SCALES=1,4 make bench          # a quick subset

For each scale the synthetic configuration and submissions are generated (tools/national.py; scale k
has k × base prefectures, `national` 330 prefectures and 2,850 counties) under data/bench/<scale>/, with the last
quarter held back. Then, each in its own process so that its peak memory is its own:

* ours, full: configuration check, then the main Dagster job exactly as `hqd run` executes it (ingest, raw
  checks, one `dbt build`, the Great Expectations checks, publication); stage times from the run's own step
  statistics, the gate always on;
* ours, incremental: the held-back quarter lands, then the same job again;
* the full-job floor (tools/floor.py): the same job as plain DuckDB SQL (landing with lineage, validation, the
  value-level marts, the checks as SQL counts, export); its marts are compared with ours row by row, column by
  column, and each of our stages is printed against its floor (ingest / landing, dbt build / validation + marts,
  quality checks / checks, publish / export, total);
* the scoring lower bound (tools/baselines.py): the scoring and ranking alone as plain DuckDB SQL;
* the peer: the same in pandas.

It prints per scale each stage's wall time and peak memory (the resident set of the process and its children,
dbt included, sampled every 20 ms and restarted at each stage: TreePeak), values per second, whether all agree on
every score (1e-9) and rank, and the ratios the targets are stated in (full ≤ 2 × floor, one quarter ≤ 10 % of
full, peak < 4 GB per stage, time growing no faster than the data). Results also go to data/bench/results.json.
Not a timed test: a script.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parents[1]
BENCH_DIR = PROJECT_DIR / "data" / "bench"
DEFAULT_SCALES = "1,4,16,national"
DEFAULT_BASE_PREFECTURES = 5


class TreePeak:
    """The peak resident memory of this process and every process under it (dbt, DuckDB's helpers), sampled by a
    thread every `interval` seconds from /proc and restartable per stage.

    Why not VmHWM: writing 5 to /proc/self/clear_refs does reset this process's VmHWM, but a child such as the dbt
    build is measured by getrusage(RUSAGE_CHILDREN).ru_maxrss, the largest child ever waited for, which nothing
    resets: every stage after the dbt build reported dbt's peak. Sampling the tree's RSS measures each stage on its
    own (a spike shorter than the interval can be missed; the interval is 20 ms)."""

    def __init__(self, interval: float = 0.02) -> None:
        import threading

        self.interval = interval
        self._peak = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._page = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
        self._thread = threading.Thread(target=self._run, name="tree-peak", daemon=True)
        self._thread.start()

    def _tree(self, pid: int) -> list[int]:
        found, todo = [], [pid]
        while todo:
            current = todo.pop()
            found.append(current)
            for task in Path(f"/proc/{current}/task").glob("*/children"):
                with contextlib.suppress(OSError, ValueError):
                    todo.extend(int(c) for c in task.read_text().split())
        return found

    def _rss(self) -> int:
        total = 0
        for pid in self._tree(os.getpid()):
            with contextlib.suppress(OSError, ValueError, IndexError):
                total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * self._page
        return total

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def sample(self) -> None:
        rss = self._rss()
        with self._lock:
            self._peak = max(self._peak, rss)

    def reset(self) -> None:
        with self._lock:
            self._peak = 0
        self.sample()

    def peak_mb(self) -> float:
        self.sample()
        with self._lock:
            return self._peak / 1024 / 1024

    def stop(self) -> None:
        self._stop.set()


_PEAK: TreePeak | None = None


def _peaks() -> TreePeak:
    global _PEAK
    if _PEAK is None:
        _PEAK = TreePeak()
    return _PEAK


def _stage(record: dict[str, Any], name: str, work: Callable[[], Any]) -> Any:
    _peaks().reset()
    started = time.perf_counter()
    result = work()
    record[name] = {"seconds": time.perf_counter() - started, "peak_mb": _peaks().peak_mb()}
    return result


# --- the child processes ---------------------------------------------------------------------------------------
class _StagePeaks:
    """Each step's peak resident memory (this process and its children, such as dbt: TreePeak) while the job runs:
    restarted at each step's start, read at its end. A Dagster logger handler, so the job itself is untouched."""

    def __init__(self) -> None:
        self.peaks: dict[str, float] = {}

    def logger(self):
        import logging

        from dagster import logger

        peaks = self.peaks

        class Handler(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                event = getattr(record, "dagster_event", None)
                if event is None or not event.step_key:
                    return
                if event.event_type_value == "STEP_START":
                    _peaks().reset()
                elif event.event_type_value in {"STEP_SUCCESS", "STEP_FAILURE"}:
                    peaks[event.step_key] = _peaks().peak_mb()

        @logger
        def stage_peaks(_init_context):
            log = logging.getLogger("hqd.bench.peaks")
            log.setLevel(logging.DEBUG)
            log.propagate = False
            log.handlers = [Handler()]
            return log

        return stage_peaks


# the job's steps, as the bench's stages
STEP_STAGES = {
    "raw_submissions": "ingest",
    "hqd_dbt_assets": "dbt build",
    "raw_quality_checks": "quality checks",
    "warehouse_quality_checks": "quality checks",
    "published__marts": "publish",
}


def _child_ours(out: Path) -> dict[str, Any]:
    """The main job, as `hqd run` executes it (same job, same checks), on this scale's files."""
    from hqd import config_check
    from hqd.settings import Settings
    from orchestration import runner
    from orchestration.partitions import PERIODS
    from orchestration.resources import HqdSettings
    from tools import baselines

    os.environ["HQD_REPORTS_DIR"] = str(out / "reports")  # the job's report pack stays with this scale's files
    overrides = HqdSettings(
        warehouse=str(out / "warehouse" / "hqd.duckdb"),
        landing_dir=str(out / "landing"),
        publish_dir=str(out / "published"),
        quality_dir=str(out / "quality"),
        data_docs_dir=str(out / "data_docs"),
        landing_settle_seconds=0,  # the bench wrote every file whole before it started
    )
    settings: Settings = overrides.get()
    result: dict[str, Any] = {"full": {}, "incremental": {}}
    instance = runner.instance_for(settings.with_overrides(dagster_home=out / "dagster_home"))

    def run(kind: str) -> None:
        record = result[kind]
        if kind == "full":
            _stage(record, "check", lambda: config_check.validate_config(settings.seeds_dir))
        peaks = _StagePeaks()
        job_run = runner.execute(
            overrides,
            partition_key=PERIODS.get_last_partition_key(),
            loggers={"stage_peaks": peaks.logger()},
            run_config={"loggers": {"stage_peaks": {}}},
            instance=instance,
        )
        record["run_id"] = job_run.run_id
        for step, seconds in job_run.step_seconds().items():
            stage = STEP_STAGES.get(step, step)
            earlier = record.get(stage, {"seconds": 0.0, "peak_mb": 0.0})
            record[stage] = {
                "seconds": earlier["seconds"] + seconds,
                "peak_mb": max(earlier["peak_mb"], peaks.peaks.get(step, 0.0)),
            }
        checks = [
            e.event_specific_data
            for e in job_run.result.all_events
            if e.event_type_value == "ASSET_CHECK_EVALUATION" and e.event_specific_data.check_name.startswith("ge_")
        ]
        record["suites"] = len(checks)
        record["suites_failed"] = sorted(c.check_name for c in checks if not c.passed)
        # what the gate read: all rows, or only the loads and years rebuilt since each suite last passed
        record["rows_validated"] = sum(int(c.metadata["rows_validated"].value) for c in checks)
        record["suites_sliced"] = sum(c.metadata["scope"].value != "whole" for c in checks)
        materialised = job_run.result.asset_materializations_for_node("raw_submissions")
        for m in materialised:
            if m.asset_key.path == ["raw", "submissions"]:
                record["rows_landed"] = m.metadata["rows_loaded"].value
                record["files_loaded"] = m.metadata["files_loaded"].value
        if not job_run.success:
            raise SystemExit(f"the job failed ({kind}): see run {job_run.run_id} in {out / 'dagster_home'}")

    run("full")
    late = out / "late"
    shutil.copytree(late, settings.landing_dir, dirs_exist_ok=True)
    run("incremental")
    import duckdb

    con = duckdb.connect(str(settings.warehouse))
    try:
        scores, regions = baselines.scores_from_warehouse(con)
        result["values_in_warehouse"] = con.execute("select count(*) from raw.submissions").fetchone()[0]
    finally:
        con.close()
    scores.to_pickle(out / "scores_ours.pkl")
    regions.to_pickle(out / "regions_ours.pkl")
    return result


def _child_baseline(out: Path, which: str) -> dict[str, Any]:
    from tools import baselines

    landing, seeds = out / "landing", out / "seeds"
    record: dict[str, Any] = {}
    work = baselines.duckdb_scores if which == "duckdb" else baselines.pandas_scores
    scores, regions = _stage(record, "scoring", lambda: work(landing, seeds))
    scores.to_pickle(out / f"scores_{which}.pkl")
    regions.to_pickle(out / f"regions_{which}.pkl")
    return record


def _child_floor(out: Path) -> dict[str, Any]:
    """The full-job floor (tools/floor.py) on the same files, every stage timed with its own peak."""
    from tools import floor

    peak = _peaks()
    peak.reset()
    started = time.perf_counter()
    result = floor.run(out / "landing", out / "seeds", out / "floor", peak=peak)
    result["seconds"] = time.perf_counter() - started
    return result


# --- the parent ---------------------------------------------------------------------------------------------------
def _prepare(label: str, prefectures: int, years: list[int]) -> tuple[Path, dict[str, Any]]:
    from tools import national

    out = BENCH_DIR / label.replace("×", "x")
    shutil.rmtree(out, ignore_errors=True)
    report = national.generate_national(out, prefectures=prefectures, years=years)
    # hold the last quarter back: it lands between the full and the incremental build
    last = f"{years[-1]}/{years[-1]}Q4"
    (out / "late" / str(years[-1])).mkdir(parents=True)
    shutil.move(out / "landing" / last, out / "late" / last)
    info = {
        "prefectures": prefectures,
        "counties": report.counties,
        "regions": prefectures + report.counties,
        "indicators": report.indicators,
        "years": f"{years[0]}-{years[-1]}",
        "values": report.rows_written,
        "files": report.files_written,
        "generate_seconds": report.elapsed_seconds,
        "held_back": last,
    }
    return out, info


def _run_child(kind: str, out: Path) -> dict[str, Any]:
    env = dict(os.environ)
    env["HQD_SEEDS_DIR"] = (out / "seeds").relative_to(PROJECT_DIR).as_posix()
    env.setdefault("DO_NOT_TRACK", "1")
    # the 4 GB target: DuckDB spills beyond this instead of taking 80 % of the machine's memory
    env.setdefault("HQD_DUCKDB_MEMORY_LIMIT", "2500MB")
    # the publication writes Parquet from Arrow batches beside DuckDB's buffers: 3.4 GB resident with 2500MB,
    # 2.2 GB with 1500MB and no slower (national, measured alone)
    env.setdefault("HQD_PUBLISH_MEMORY_LIMIT", "1500MB")
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "hqd.cli", "bench", "--child", kind, "--dir", str(out)],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{kind} failed at {out}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    result = json.loads((out / f"result_{kind}.json").read_text())
    result["process_seconds"] = time.perf_counter() - started
    return result


def _compare(out: Path) -> dict[str, list[str]]:
    import pandas as pd

    from tools import baselines

    def load(which: str):
        return pd.read_pickle(out / f"scores_{which}.pkl"), pd.read_pickle(out / f"regions_{which}.pkl")

    ours = load("ours")
    return {which: baselines.compare(ours, load(which)) for which in ("duckdb", "pandas")}


def _total(record: dict[str, Any], stages: tuple[str, ...]) -> float:
    return sum(record[s]["seconds"] for s in stages if s in record)


PIPELINE_STAGES = ("check", "ingest", "dbt build", "quality checks", "publish")


def bench_scale(label: str, prefectures: int, years: list[int], console) -> dict[str, Any]:
    console.print(f"[bold]{label}[/]: generating {prefectures} prefectures × 100 indicators, {years[0]}-{years[-1]} …")
    out, info = _prepare(label, prefectures, years)
    console.print(
        f"  {info['values']:,} values in {info['files']:,} files, {info['regions']:,} regions "
        f"(generated in {info['generate_seconds']:.1f} s); held back {info['held_back']}"
    )
    result: dict[str, Any] = {"label": label, **info}
    for kind in ("ours", "floor", "duckdb", "pandas"):
        console.print(f"  running {kind} …")
        result[kind] = _run_child(kind, out)
    result["differences"] = _compare(out)
    result["floor_marts"] = _compare_floor(out, info["values"])
    result["differences"]["floor"] = floor_differences(result["floor_marts"])
    ours_full = _total(result["ours"]["full"], PIPELINE_STAGES)
    ours_incremental = _total(result["ours"]["incremental"], PIPELINE_STAGES)
    lower = result["duckdb"]["scoring"]["seconds"]
    peer = result["pandas"]["scoring"]["seconds"]
    result["summary"] = {
        "ours_full_seconds": ours_full,
        "ours_incremental_seconds": ours_incremental,
        "dbt_full_seconds": result["ours"]["full"]["dbt build"]["seconds"],
        "dbt_incremental_seconds": result["ours"]["incremental"]["dbt build"]["seconds"],
        "lower_bound_seconds": lower,
        "pandas_seconds": peer,
        "ours_over_lower_bound": ours_full / lower,
        "pandas_over_ours": peer / ours_full,
        "incremental_over_full": ours_incremental / ours_full,
        "dbt_incremental_over_full": result["ours"]["incremental"]["dbt build"]["seconds"]
        / result["ours"]["full"]["dbt build"]["seconds"],
        "peak_mb_ours": max(v["peak_mb"] for k in ("full", "incremental") for v in _stages(result["ours"][k])),
        "values_per_second_ours": info["values"] / ours_full,
        "values_per_second_lower_bound": info["values"] / lower,
        "values_per_second_pandas": info["values"] / peer,
    }
    result["summary"].update(_floor_summary(result))
    return result


# ours' stages against the floor's (tools/floor.py): the work each does
FLOOR_STAGES = {
    "ingest": ("landing",),
    "dbt build": ("validation", "marts"),
    "quality checks": ("checks",),
    "publish": ("export",),
}
# above this many values only the scoring marts are compared column by column (the others by rows and keys)
FULL_COMPARISON_VALUES = 2_000_000
PEAK_TARGET_MB = 4096


def _floor_cells(summary: dict[str, Any], unit: str = "") -> list[str]:
    """Per stage: 'ours / floor = ratio' (— where ours did not run that stage)."""
    cells = []
    for stage in FLOOR_STAGES:
        st = summary["per_stage_over_floor"][stage]
        cells.append(
            "—"
            if st["ours_seconds"] is None
            else f"{st['ours_seconds']:.1f} / {st['floor_seconds']:.1f}{unit} = {st['ours_over_floor']:.1f}×"
        )
    return cells


def _compare_floor(out: Path, values: int) -> dict[str, Any]:
    from tools import floor

    columns = True if values <= FULL_COMPARISON_VALUES else floor.SCORING_MARTS
    return floor.compare_marts(
        out / "warehouse" / "hqd.duckdb",
        out / "floor" / "floor.duckdb",
        columns=columns,
        memory_limit=os.environ.get("HQD_DUCKDB_MEMORY_LIMIT", "2500MB"),
    )


def floor_differences(report: dict[str, Any]) -> list[str]:
    from tools import floor

    return floor.differences(report)


def _floor_seconds(floor_record: dict[str, Any], stages: tuple[str, ...]) -> float:
    return sum(floor_record["stages"][s]["seconds"] for s in stages if s in floor_record["stages"])


def _floor_summary(result: dict[str, Any]) -> dict[str, Any]:
    """Per stage ours / floor, and the ratios the targets are stated in."""
    ours, incremental, floor_record = result["ours"]["full"], result["ours"]["incremental"], result["floor"]
    floor_total = sum(v["seconds"] for v in floor_record["stages"].values())
    per_stage = {}
    for stage, floor_stages in FLOOR_STAGES.items():
        floor_s = _floor_seconds(floor_record, floor_stages)
        ours_s = ours.get(stage, {}).get("seconds")
        per_stage[stage] = {
            "ours_seconds": ours_s,
            "floor_seconds": floor_s,
            "ours_over_floor": ours_s / floor_s if ours_s is not None and floor_s else None,
        }
    ours_full = _total(ours, PIPELINE_STAGES)
    ours_incremental = _total(incremental, PIPELINE_STAGES)
    peaks = {
        f"{kind} {stage}": record[stage]["peak_mb"]
        for kind, record in (("full", ours), ("incremental", incremental))
        for stage in PIPELINE_STAGES
        if stage in record
    }
    return {
        "floor_seconds": floor_total,
        "floor_peak_mb": max(v.get("peak_mb", 0.0) for v in floor_record["stages"].values()),
        "ours_over_floor": ours_full / floor_total,
        "per_stage_over_floor": per_stage,
        "stage_peaks_mb": peaks,
        "target_full_within_2x_floor": ours_full <= 2 * floor_total,
        "target_quarter_within_10pct": ours_incremental <= 0.10 * ours_full,
        "target_peak_below_4gb": max(peaks.values()) < PEAK_TARGET_MB,
    }


def _stages(record: dict[str, Any]) -> list[dict[str, Any]]:
    return [record[s] for s in PIPELINE_STAGES if s in record]


def print_results(results: list[dict[str, Any]], console) -> None:
    from rich.table import Table

    stages = Table(title="Our pipeline per stage: wall seconds (peak MB of the process)")
    stages.add_column("scale")
    stages.add_column("values", justify="right")
    stages.add_column("run")
    for stage in PIPELINE_STAGES:
        stages.add_column(stage, justify="right")
    stages.add_column("total s", justify="right")
    stages.add_column("values/s", justify="right")
    for r in results:
        for kind in ("full", "incremental"):
            record = r["ours"][kind]
            total = _total(record, PIPELINE_STAGES)
            cells = [
                f"{record[s]['seconds']:.1f} ({record[s]['peak_mb']:,.0f})" if s in record else "—"
                for s in PIPELINE_STAGES
            ]
            values = r["values"] if kind == "full" else record["rows_landed"]
            stages.add_row(r["label"], f"{values:,}", kind, *cells, f"{total:.1f}", f"{values / total:,.0f}")
    console.print(stages)

    versus = Table(title="Same data, same scores: ours (full pipeline) against the lower bound and the pandas peer")
    for col in (
        "scale",
        "ours s",
        "DuckDB SQL s (peak MB)",
        "pandas s (peak MB)",
        "ours / lower bound",
        "pandas / ours",
        "incremental / full (dbt only)",
        "ours peak MB",
        "agree?",
    ):
        versus.add_column(col, justify="left" if col in ("scale", "agree?") else "right")
    for r in results:
        s = r["summary"]
        problems = [f"{k}: {p}" for k, ps in r["differences"].items() for p in ps]
        versus.add_row(
            r["label"],
            f"{s['ours_full_seconds']:.1f}",
            f"{s['lower_bound_seconds']:.1f} ({r['duckdb']['scoring']['peak_mb']:,.0f})",
            f"{s['pandas_seconds']:.1f} ({r['pandas']['scoring']['peak_mb']:,.0f})",
            f"{s['ours_over_lower_bound']:.2f}",
            f"{s['pandas_over_ours']:.2f}",
            f"{s['incremental_over_full']:.2f} ({s['dbt_incremental_over_full']:.2f})",
            f"{s['peak_mb_ours']:,.0f}",
            "[green]yes: every score (1e-9), total (1e-8) and rank[/]"
            if not problems
            else "[red]NO[/] " + "; ".join(problems),
        )
    console.print(versus)

    floors = [r for r in results if "floor" in r and "per_stage_over_floor" in r["summary"]]
    if floors:
        table = Table(
            title="Ours (full run) against the full-job floor (tools/floor.py): seconds ours / floor = ratio; "
            "peak MB of each stage (process tree, sampled)"
        )
        table.add_column("scale")
        for stage, floor_stages in FLOOR_STAGES.items():
            table.add_column(f"{stage} / {' + '.join(floor_stages)}", justify="right")
        table.add_column("total", justify="right")
        table.add_column("floor peak MB", justify="right")
        table.add_column("marts equal?")
        for r in floors:
            s = r["summary"]
            cells = _floor_cells(s)
            problems = r["differences"].get("floor", [])
            table.add_row(
                r["label"],
                *cells,
                f"{s['ours_full_seconds']:.1f} / {s['floor_seconds']:.1f} = {s['ours_over_floor']:.2f}×",
                f"{s['floor_peak_mb']:,.0f}",
                f"[green]yes: {len(r['floor_marts'])} marts (rows, keys, "
                f"{'every shared column' if r['values'] <= FULL_COMPARISON_VALUES else 'every scoring column'})[/]"
                if not problems
                else "[red]NO[/] " + "; ".join(problems[:6]),
            )
        console.print(table)
        targets = Table(title="The targets (issue 14)")
        for col in ("scale", "full ≤ 2 × floor", "one quarter ≤ 10 % of full", "peak < 4 GB in every stage"):
            targets.add_column(col, justify="left" if col == "scale" else "right")

        def verdict(ok: bool, text: str) -> str:
            return f"[green]{text} ✓[/]" if ok else f"[red]{text} ✗[/]"

        for r in floors:
            s = r["summary"]
            worst = max(s["stage_peaks_mb"], key=s["stage_peaks_mb"].get)
            targets.add_row(
                r["label"],
                verdict(s["target_full_within_2x_floor"], f"{s['ours_over_floor']:.2f} ×"),
                verdict(s["target_quarter_within_10pct"], f"{100 * s['incremental_over_full']:.1f} %"),
                verdict(s["target_peak_below_4gb"], f"{s['stage_peaks_mb'][worst]:,.0f} MB ({worst})"),
            )
        console.print(targets)
    if len(results) > 1:
        first, last = results[0], results[-1]
        for r in results[1:]:
            factor = r["values"] / first["values"]
            # like for like: the stages both runs have (results stored by an older bench lack the quality stage)
            common = tuple(st for st in PIPELINE_STAGES if st in r["ours"]["full"] and st in first["ours"]["full"])
            cost = _total(r["ours"]["full"], common) / _total(first["ours"]["full"], common)
            dbt_cost = r["ours"]["full"]["dbt build"]["seconds"] / first["ours"]["full"]["dbt build"]["seconds"]
            within = "[green]within[/]" if cost <= factor else "[red]beyond[/]"
            console.print(
                f"{r['label']} vs {first['label']}: {factor:.1f}× the values cost {cost:.2f}× the time "
                f"of {', '.join(common)} (dbt build alone {dbt_cost:.2f}×): {within} the target (time ≤ values)"
            )
            if "floor" in r and "floor" in first:
                floor_cost = r["summary"]["floor_seconds"] / first["summary"]["floor_seconds"]
                console.print(f"  the floor: {factor:.1f}× the values cost {floor_cost:.2f}× its time")
        del last


def render_markdown(results: list[dict[str, Any]]) -> str:
    def cell(record: dict[str, Any], stage: str) -> str:
        if stage not in record:
            return "not run" if stage == "quality checks" else "—"
        return f"{record[stage]['seconds']:.1f} s ({record[stage]['peak_mb'] / 1024:.1f} GB)"

    lines = [
        "| scale | values | run | " + " | ".join(PIPELINE_STAGES) + " | total | values/s |",
        "|---|---:|---|" + "---:|" * (len(PIPELINE_STAGES) + 2),
    ]
    for r in results:
        for kind in ("full", "incremental"):
            record = r["ours"][kind]
            total = _total(record, PIPELINE_STAGES)
            values = r["values"] if kind == "full" else record["rows_landed"]
            stages = " | ".join(cell(record, st) for st in PIPELINE_STAGES)
            lines.append(f"| {r['label']} | {values:,} | {kind} | {stages} | {total:.1f} s | {values / total:,.0f} |")
    lines += [
        "",
        "| scale | ours (full pipeline) | lower bound: DuckDB SQL | pandas peer | ours / lower bound | pandas / ours "
        "| incremental / full: pipeline (dbt build) | ours peak | all three agree |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        s = r["summary"]
        agree = "yes" if not any(r["differences"].values()) else "NO"
        lines.append(
            f"| {r['label']} | {s['ours_full_seconds']:.1f} s | {s['lower_bound_seconds']:.1f} s "
            f"({r['duckdb']['scoring']['peak_mb'] / 1024:.1f} GB) | {s['pandas_seconds']:.1f} s "
            f"({r['pandas']['scoring']['peak_mb'] / 1024:.1f} GB) | {s['ours_over_lower_bound']:.1f} "
            f"| {s['pandas_over_ours']:.3f} | {s['incremental_over_full']:.2f} ({s['dbt_incremental_over_full']:.2f}) "
            f"| {s['peak_mb_ours'] / 1024:.1f} GB | {agree} |"
        )
    floors = [r for r in results if "floor" in r and "per_stage_over_floor" in r["summary"]]
    if floors:
        lines += [
            "",
            "| scale | "
            + " | ".join(f"{st} / {' + '.join(fs)}" for st, fs in FLOOR_STAGES.items())
            + " | total: ours / floor | floor peak | one quarter / full | marts equal |",
            "|---|" + "---:|" * (len(FLOOR_STAGES) + 3) + "---|",
        ]
        for r in floors:
            s = r["summary"]
            cells = _floor_cells(s, unit=" s")
            lines.append(
                f"| {r['label']} | "
                + " | ".join(cells)
                + f" | {s['ours_full_seconds']:.1f} / {s['floor_seconds']:.1f} s = {s['ours_over_floor']:.2f}×"
                f" | {s['floor_peak_mb'] / 1024:.1f} GB | {100 * s['incremental_over_full']:.1f} %"
                f" | {'yes' if not r['differences'].get('floor') else 'NO'} |"
            )
    return "\n".join(lines)


def main(
    *,
    scales: str,
    base_prefectures: int,
    years: str,
    report: bool = False,
    markdown: bool = False,
    child: str | None = None,
    directory: Path | None = None,
) -> int:
    """`hqd bench`: see its --help."""
    if child:
        if child == "ours":
            result = _child_ours(directory)
        elif child == "floor":
            result = _child_floor(directory)
        else:
            result = _child_baseline(directory, child)
        (directory / f"result_{child}.json").write_text(json.dumps(result, indent=2))
        return 0

    from rich.console import Console

    from tools import national

    console = Console(width=max(160, Console().width))
    if markdown or report:
        if not (BENCH_DIR / "results.json").is_file():
            console.print(f"no results yet in {BENCH_DIR / 'results.json'}: run `make bench` (written when it ends)")
            return 2
        every = json.loads((BENCH_DIR / "results.json").read_text())
        for r in every:  # compared again with the current rules
            if (BENCH_DIR / r["label"].replace("×", "x") / "scores_ours.pkl").is_file():
                r["differences"] = {**r["differences"], **_compare(BENCH_DIR / r["label"].replace("×", "x"))}
        if markdown:
            print(render_markdown(every))
        else:
            print_results(every, console)
        return 0 if all(not ps for r in every for ps in r["differences"].values()) else 1
    a, _, b = years.partition("-")
    year_list = list(range(int(a), int(b or a) + 1))
    results = []
    for scale in [s.strip() for s in scales.split(",") if s.strip()]:
        prefectures = national.NATIONAL_PREFECTURES if scale == "national" else int(scale) * base_prefectures
        label = scale if scale == "national" else f"{scale}×"
        started = time.perf_counter()
        results.append(bench_scale(label, prefectures, year_list, console))
        console.print(f"  {label} done in {time.perf_counter() - started:.0f} s")
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    results_file = BENCH_DIR / "results.json"
    earlier = json.loads(results_file.read_text()) if results_file.is_file() else []
    done = {r["label"] for r in results}
    kept = [r for r in earlier if r["label"] not in done]  # scales measured by an earlier run stay listed
    order = {"1×": 0, "4×": 1, "16×": 2, "national": 9}
    every = sorted(kept + results, key=lambda r: (order.get(r["label"], 5), r["values"]))
    results_file.write_text(json.dumps(every, indent=2, ensure_ascii=False))
    if kept:
        console.print(f"(also listed, from an earlier run: {', '.join(r['label'] for r in kept)})")
    print_results(every, console)
    console.print(f"machine: {os.cpu_count()} cores; results in {BENCH_DIR / 'results.json'}")
    agree = all(not ps for r in every for ps in r["differences"].values())
    return 0 if agree else 1
