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
* the lower bound (tools/baselines.py): the scoring and ranking as plain DuckDB SQL on the landing files;
* the peer: the same in pandas.

It prints per scale each stage's wall time and peak memory (the process's resident set, or of dbt, its child, reset
at each step's start through /proc/self/clear_refs), values per second, whether the three agree on every
score (1e-9) and rank, and the ratios the targets are stated in. Results also go to data/bench/results.json.
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


def _peak_reset() -> None:
    # not Linux, or not allowed: the peaks then accumulate over the stages
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def _peak_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _stage(record: dict[str, Any], name: str, work: Callable[[], Any]) -> Any:
    _peak_reset()
    started = time.perf_counter()
    result = work()
    record[name] = {"seconds": time.perf_counter() - started, "peak_mb": _peak_mb()}
    return result


# --- the child processes ---------------------------------------------------------------------------------------
class _StagePeaks:
    """Each step's peak resident memory (this process, or a child it waited for, such as dbt) while the job runs:
    reset at each step's start, read at its end. A Dagster logger handler, so the job itself is untouched."""

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
                    _peak_reset()
                elif event.event_type_value in {"STEP_SUCCESS", "STEP_FAILURE"}:
                    import resource

                    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
                    peaks[event.step_key] = max(_peak_mb(), children)

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
    for kind in ("ours", "duckdb", "pandas"):
        console.print(f"  running {kind} …")
        result[kind] = _run_child(kind, out)
    result["differences"] = _compare(out)
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
    return result


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
    if len(results) > 1:
        first, last = results[0], results[-1]
        for r in results[1:]:
            factor = r["values"] / first["values"]
            # like for like: the stages both runs have (results stored by an older bench lack the quality stage)
            common = tuple(st for st in PIPELINE_STAGES if st in r["ours"]["full"] and st in first["ours"]["full"])
            cost = _total(r["ours"]["full"], common) / _total(first["ours"]["full"], common)
            dbt_cost = r["ours"]["full"]["dbt build"]["seconds"] / first["ours"]["full"]["dbt build"]["seconds"]
            console.print(
                f"{r['label']} vs {first['label']}: {factor:.1f}× the values cost {cost:.2f}× the time "
                f"of {', '.join(common)} (dbt build alone {dbt_cost:.2f}×)"
            )
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
        result = _child_ours(directory) if child == "ours" else _child_baseline(directory, child)
        (directory / f"result_{child}.json").write_text(json.dumps(result, indent=2))
        return 0

    from rich.console import Console

    from tools import national

    console = Console(width=max(160, Console().width))
    if markdown or report:
        every = json.loads((BENCH_DIR / "results.json").read_text())
        for r in every:  # compared again with the current rules
            if (BENCH_DIR / r["label"].replace("×", "x") / "scores_ours.pkl").is_file():
                r["differences"] = _compare(BENCH_DIR / r["label"].replace("×", "x"))
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
