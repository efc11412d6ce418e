"""`hqd run`: the main job on a terminal, with progress while it runs and the year's result at the end.

    python -m hqd.cli run [--year 2023] [--landing-dir DIR] [--warehouse FILE] [--no-generate]
    python -m hqd.cli check-config

HQD_WAREHOUSE and HQD_LANDING_DIR set the default paths. Exit codes: 0 success, 1 build or test failure or
an unreadable landing file, 2 configuration error.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from hqd import pipeline
from hqd.config_check import ConfigError

# bound to the real stdout now: dagster-dbt echoes dbt's log to sys.stdout, which the run redirects to a file
console = Console(file=sys.stdout)


def run(args: argparse.Namespace) -> int:
    """The annual assessment job, run through Dagster in this process, then the year's summary."""
    settings = pipeline.Settings()
    if args.warehouse:
        settings.warehouse = Path(args.warehouse).resolve()
    if args.landing_dir:
        settings.landing_dir = Path(args.landing_dir).resolve()
    if settings.target != "duckdb":
        # the job's quality checks, summary and publication read the embedded warehouse
        console.print(
            f"[bold red]HQD_TARGET={settings.target}[/]: `make run` runs on the embedded DuckDB warehouse; "
            f"build on {settings.target} with `make run-{settings.target}` (python -m hqd.engines build)."
        )
        return 2
    started = time.perf_counter()

    try:
        pipeline.check_configuration(settings)
    except ConfigError as exc:
        console.print(f"[bold red]Configuration error[/] — nothing was run.\n{exc}")
        return 2
    console.print("[green]✓[/] configuration checked (seeds/)")

    from dagster import DagsterInstance

    from orchestration import progress
    from orchestration.definitions import make_definitions
    from orchestration.progress import terminal_progress_logger
    from orchestration.resources import WarehouseResource, default_paths

    paths = default_paths()
    paths.update(warehouse=str(settings.warehouse), landing_dir=str(settings.landing_dir))
    if args.publish_dir:
        paths["publish_dir"] = str(Path(args.publish_dir).resolve())
    resource = WarehouseResource(**paths, generate_sample_if_empty=not args.no_generate)
    progress.console = console  # one console, so a test capturing it sees the progress lines too
    defs = make_definitions(resource, loggers={"terminal": terminal_progress_logger})
    job = defs.resolve_job_def("annual_assessment_job")
    run_config = {"loggers": {"terminal": {"config": {"log_level": "DEBUG"}}}}
    # a persistent instance when DAGSTER_HOME is set (the UI then shows the run), else a throwaway one
    instance = DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else DagsterInstance.ephemeral()
    console.print(f"running [bold]annual_assessment_job[/] through Dagster (warehouse {settings.warehouse})")
    dbt_log = settings.warehouse.parent / "logs" / "dbt_output.log"
    dbt_log.parent.mkdir(parents=True, exist_ok=True)
    with dbt_log.open("w", encoding="utf-8") as sink, contextlib.redirect_stdout(sink):
        result = job.execute_in_process(run_config=run_config, instance=instance, raise_on_error=False)
    console.print(f"dbt's own log of this run: {dbt_log}")
    if not result.success:
        console.print("[bold red]✗ the run failed[/]; nothing new was published (the previous publication stands)")
        for event in result.all_events:
            if event.event_type_value == "STEP_FAILURE":
                console.print(f"  [red]{event.step_key}[/]: {event.event_specific_data.error.message.strip()}")
            elif event.event_type_value == "ASSET_CHECK_EVALUATION" and not event.event_specific_data.passed:
                evaluation = event.event_specific_data
                failed = evaluation.metadata.get("failed_expectations")
                console.print(
                    f"  [red]{evaluation.severity.value}[/] check {evaluation.check_name} on "
                    f"{'/'.join(evaluation.asset_key.path)}" + (f": {failed.value}" if failed else "")
                )
        return 1

    try:
        summary = pipeline.read_summary(settings.warehouse, args.year)
    except Exception as exc:  # a year with no results is the usual cause
        console.print(f"[bold red]✗ cannot summarise[/]: {exc}")
        return 1
    if not summary.cities:
        console.print(f"[bold red]✗ no results for assessment year {summary.assessment_year}[/]")
        return 1
    _print_summary(summary)
    console.print(
        f"published for BI: [bold]{resource.publish_path / 'current' / 'hqd_marts.duckdb'}[/] (read-only) "
        f"and {resource.publish_path / 'current' / 'parquet'}/; quality report: "
        f"{resource.data_docs_path / 'index.html'}"
    )
    console.print(f"\nfinished in {time.perf_counter() - started:.1f} s")
    unreadable = [m for m in _materialization_metadata(result, "raw/submissions", "unreadable_files")]
    return 1 if unreadable and unreadable[0] else 0


def _materialization_metadata(result, asset: str, key: str) -> list:
    values = []
    for event in result.all_events:
        if event.event_type_value == "ASSET_MATERIALIZATION":
            materialization = event.event_specific_data.materialization
            if "/".join(materialization.asset_key.path) == asset and key in materialization.metadata:
                values.append(materialization.metadata[key].value)
    return values


def _print_summary(summary: pipeline.Summary) -> None:
    rows = Table(title="Rows in and out", show_header=True)
    rows.add_column("stage")
    rows.add_column("rows", justify="right")
    rows.add_row("landed (raw.submissions)", f"{summary.raw_rows:,}")
    rows.add_row("accepted (marts.fct_indicator_values)", f"{summary.accepted_rows:,}")
    rows.add_row("  of which current", f"{summary.current_rows:,}")
    rows.add_row("rejected (marts.fct_rejected_submissions)", f"{summary.rejected_rows:,}")
    verdict = "[green]yes[/]" if summary.reconciles else "[bold red]NO[/]"
    rows.add_row("landed = accepted + rejected", verdict)
    console.print(rows)

    if summary.rejected_by_reason:
        reasons = Table(title="Rejected rows by reason")
        reasons.add_column("reason")
        reasons.add_column("rows", justify="right")
        reasons.add_column("first example")
        for reason, count, example in summary.rejected_by_reason:
            reasons.add_row(reason, str(count), example)
        console.print(reasons)

    if summary.file_quality:
        files = Table(title=f"Files with rows not loaded ({summary.clean_files} other files loaded completely)")
        for col in ("file", "rows read", "loaded", "not loaded", "why (examples)"):
            files.add_column(col, justify="right" if col in ("rows read", "loaded", "not loaded") else "left")
        for name, read, loaded, rejected, reasons, error in summary.file_quality:
            why = reasons if not error else f"[red]unreadable[/]: {error}"
            files.add_row(name, str(read or 0), str(loaded or 0), str(rejected or 0), why or "")
        console.print(files)
        console.print("full report: marts.fct_submission_file_quality")

    cities = Table(title=f"{summary.assessment_year}年度 设区市 — tiers by class")
    for col in ("class", "rank", "city", "total", "tier"):
        cities.add_column(col, justify="right" if col in ("rank", "total") else "left")
    for cls, rank, name, total, tier, vetoed in summary.cities:
        cities.add_row(cls, str(rank), name + (" (一票否决)" if vetoed else ""), f"{total:.2f}", tier)
    console.print(cities)

    advanced = Table(title=f"{summary.assessment_year}年度 高质量发展先进县(市、区): {len(summary.advanced_counties)}")
    for col in ("class", "#", "county", "city", "rank in class", "province rank", "total", "years running"):
        advanced.add_column(col)
    for cls, pos, name, city, rank, province_rank, total, streak, first_time in summary.advanced_counties:
        label = name + (" [bold green](first time)[/]" if first_time else "")
        advanced.add_row(cls, str(pos), label, city, str(rank), str(province_rank), f"{total:.2f}", str(streak))
    console.print(advanced)
    first_timers = [row[2] for row in summary.advanced_counties if row[8]]
    longest = max(summary.advanced_counties, key=lambda row: row[7], default=None)
    if longest is not None:
        console.print(
            f"advanced list: {len(first_timers)} first-timers ({'、'.join(first_timers) or '—'}); "
            f"longest run {longest[2]}, {longest[7]} years"
        )
    for name, previous, rank, cls in summary.progress_awards:
        console.print(f"争先进位奖: {name} (class {cls}, rank {previous} → {rank})")
    for period, level, red, yellow, blue, cleared in summary.warnings:
        console.print(
            f"{period} monitoring, {level}: [red]{red} red[/], [yellow]{yellow} yellow[/], [blue]{blue} blue[/] "
            f"warnings; {cleared} cleared since the quarter before (marts.fct_monitoring_warnings)"
        )
    console.print(
        f"warehouse: [bold]{summary.warehouse}[/] (schemas marts, staging, intermediate, config, raw); "
        "open it with `duckdb -readonly` or any DuckDB client"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hqd", description="HQD assessment warehouse")
    sub = parser.add_subparsers(dest="command", required=True)
    run_parser = sub.add_parser("run", help="check config, ingest, dbt build, print the year's result")
    run_parser.add_argument("--year", type=int, help="assessment year to summarise (default: latest)")
    run_parser.add_argument("--landing-dir", help="landing folder (default $HQD_LANDING_DIR or data/landing)")
    run_parser.add_argument("--warehouse", help="DuckDB file (default $HQD_WAREHOUSE or data/warehouse/hqd.duckdb)")
    run_parser.add_argument("--no-generate", action="store_true", help="do not generate the sample when empty")
    run_parser.add_argument("--publish-dir", help="publication folder (default $HQD_PUBLISH_DIR or data/published)")
    sub.add_parser("check-config", help="check the seeds and list every problem")
    args = parser.parse_args(argv)
    if args.command == "check-config":
        try:
            pipeline.check_configuration(pipeline.Settings())
        except ConfigError as exc:
            console.print(f"[bold red]Configuration error[/]\n{exc}")
            return 2
        console.print("[green]✓[/] configuration is consistent")
        return 0
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
