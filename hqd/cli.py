"""`hqd`: the one command line of the warehouse. `hqd --help` lists the commands, `hqd COMMAND --help` each one.

Exit codes (every command): 0 done (rows or files rejected from submissions are reported, not failures);
1 the run failed (a product defect, a blocking quality check, an engine error: the cause is printed);
2 configuration error (seeds, settings, options); 3 nothing to load (the landing folder has no submissions);
4 the warehouse is unavailable (locked by another process or run, damaged, or the disk is full).

Dagster is imported only by the commands that run a job, so the library stays free of it.
"""

from __future__ import annotations

import os
import re
import sys
import time
from functools import partial
from pathlib import Path
from typing import Annotated

import click
import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from hqd import config_check, summary
from hqd.settings import PROJECT_DIR, Settings

# bound to the real stdout now: dagster-dbt echoes dbt's log to sys.stdout, which `run` redirects to a file
console = Console(file=sys.stdout)

OK, FAILED, CONFIG_ERROR, NOTHING_TO_LOAD, WAREHOUSE_UNAVAILABLE = 0, 1, 2, 3, 4

app = typer.Typer(
    name="hqd",
    help="HQD warehouse: Jiangsu's high-quality development assessment (高质量发展综合考核).",
    add_completion=False,
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)
engines_app = typer.Typer(help="The same models on PostgreSQL or Spark.", no_args_is_help=True)
publish_app = typer.Typer(help="Publish the marts by hand (the job publishes after its checks).", no_args_is_help=True)
scenario_app = typer.Typer(
    help="Scenarios (方案测算): the rules with a scenario's overrides, scored beside the official result.",
    no_args_is_help=True,
)
composite_app = typer.Typer(
    help="Composite indices from their published inputs (seeds/composite; the UNDP HDI is shipped).",
    no_args_is_help=True,
)
app.add_typer(engines_app, name="engines")
app.add_typer(composite_app, name="composite")
app.add_typer(publish_app, name="publish")
app.add_typer(scenario_app, name="scenario")

WarehouseOpt = Annotated[
    Path | None, typer.Option(help="DuckDB file [default: $HQD_WAREHOUSE or data/warehouse/hqd.duckdb]")
]
LandingOpt = Annotated[Path | None, typer.Option(help="landing folder [default: $HQD_LANDING_DIR or data/landing]")]
PublishOpt = Annotated[
    Path | None, typer.Option(help="publication folder [default: $HQD_PUBLISH_DIR or data/published]")
]


def _settings(**overrides) -> Settings:
    try:
        return Settings().with_overrides(
            **{k: (v.resolve() if isinstance(v, Path) else v) for k, v in overrides.items()}
        )
    except ValidationError as exc:
        console.print(f"[bold red]Configuration error[/] in the settings (HQD_* variables or options):\n{exc}")
        raise typer.Exit(CONFIG_ERROR) from None


def _check_configuration(settings: Settings) -> bool:
    try:
        config_check.validate_config(settings.seeds_dir)
    except config_check.ConfigError as exc:
        console.print(f"[bold red]Configuration error[/] — nothing was run.\n{exc}")
        return False
    return True


# ------------------------------------------------------------------------------------------------------- run
@app.command()
def run(
    period: Annotated[
        str | None,
        typer.Option(
            help="the run's period: 2024Q4, 2024 (= its Q4, the annual assessment) [default: the last configured]"
        ),
    ] = None,
    year: Annotated[
        int | None, typer.Option(help="assessment year to summarise [default: the latest with results]")
    ] = None,
    warehouse: WarehouseOpt = None,
    landing_dir: LandingOpt = None,
    publish_dir: PublishOpt = None,
    generate: Annotated[bool, typer.Option(help="write the generated sample into an empty landing folder")] = True,
    full_refresh: Annotated[bool, typer.Option(help="rebuild every incremental model from scratch")] = False,
) -> None:
    """The main job (annual_assessment_job) through Dagster, as the schedules, the sensor and the UI run it:
    configuration check, ingest of data/landing, raw checks, one dbt build, Great Expectations checks,
    publication to data/published/current. Prints each step, then the year's result. The run shows in
    `make ui` (same Dagster instance, .dagster_home)."""
    raise typer.Exit(_run(period, year, warehouse, landing_dir, publish_dir, generate, full_refresh))


def _run(period, year, warehouse, landing_dir, publish_dir, generate, full_refresh) -> int:
    settings = _settings(warehouse=warehouse, landing_dir=landing_dir, publish_dir=publish_dir)
    if settings.target != "duckdb":
        # the job's quality checks, summary and publication read the embedded warehouse
        console.print(
            f"[bold red]HQD_TARGET={settings.target}[/]: `make run` runs on the embedded DuckDB warehouse; "
            f"build on {settings.target} with `make run-{settings.target}` "
            f"(hqd engines build --target {settings.target})."
        )
        return CONFIG_ERROR
    started = time.perf_counter()
    if not _check_configuration(settings):
        return CONFIG_ERROR
    console.print(f"[green]✓[/] configuration checked ({settings.seeds_dir.relative_to(settings.project_dir)}/)")
    if not _has_submissions(settings):
        if not (generate and settings.generate_sample_if_empty):
            console.print(
                f"[bold red]no submissions in {settings.landing_dir}[/]: put the bureaus' CSV or XLSX files there "
                "(any subfolders), or run `hqd sample` for the generated sample. Nothing was run."
            )
            return NOTHING_TO_LOAD
        written = _generate_sample(settings.landing_dir)
        if written is None:
            return NOTHING_TO_LOAD
        console.print(f"landing folder was empty: wrote the generated sample ({written} files)")
        # written whole by this process a moment ago: nothing to wait for
        settings = settings.with_overrides(landing_settle_seconds=0)

    from orchestration import progress, runner
    from orchestration.partitions import PERIODS, parse_period, period_code
    from orchestration.resources import HqdSettings

    try:
        key = parse_period(period) if period else PERIODS.get_last_partition_key()
    except ValueError as exc:
        console.print(f"[bold red]--period[/]: {exc}")
        return CONFIG_ERROR
    if not PERIODS.has_partition_key(key):
        console.print(
            f"[bold red]--period {period}[/] is outside the configured assessment years "
            f"({period_code(PERIODS.get_first_partition_key())}–{period_code(PERIODS.get_last_partition_key())}): "
            "add the year's rules to seeds/config first"
        )
        return CONFIG_ERROR
    overrides = HqdSettings(
        warehouse=str(settings.warehouse),
        landing_dir=str(settings.landing_dir),
        publish_dir=str(settings.publish_dir),
        landing_settle_seconds=settings.landing_settle_seconds,
    )
    progress.console = console  # one console, so a test capturing it sees the progress lines too
    run_config = {"loggers": {"terminal": {"config": {"log_level": "DEBUG"}}}}
    if full_refresh:
        run_config["ops"] = {"hqd_dbt_assets": {"config": {"full_refresh": True}}}
    console.print(
        f"running [bold]{runner.MAIN_JOB}[/] for {period_code(key)} through Dagster (warehouse {settings.warehouse})"
    )
    from hqd.warehouse import WarehouseUnavailable

    try:
        job_run = _with_dbt_log(
            settings,
            lambda: runner.execute(
                overrides,
                partition_key=key,
                run_config=run_config,
                loggers={"terminal": progress.terminal_progress_logger},
            ),
        )
    except WarehouseUnavailable as exc:
        console.print(f"[bold red]✗ nothing was run[/]: {exc}")
        return WAREHOUSE_UNAVAILABLE
    console.print(f"dbt's own log of this run: {settings.dbt_log}; run {job_run.run_id} (make ui shows it)")
    if not job_run.success:
        return _report_failure(job_run)

    try:
        result = summary.read_summary(settings.warehouse, year)
    except Exception as exc:  # a year with no results is the usual cause
        console.print(f"[bold red]✗ cannot summarise[/]: {exc}")
        return FAILED
    if not result.cities:
        console.print(f"[bold red]✗ no results for assessment year {result.assessment_year}[/]")
        return FAILED
    _print_summary(result)
    current = settings.publish_dir / "current"
    console.print(
        f"published for BI: [bold]{current / 'hqd_marts.duckdb'}[/] (read-only) and {current / 'parquet'}/; "
        f"quality report: {settings.quality_dir / 'quality.html'}; "
        f"dbt docs: {settings.publish_dir / 'docs' / 'dbt-docs.html'}"
    )
    pack_index = settings.reports_dir / period_code(key) / "index.html"
    if pack_index.exists():
        console.print(f"report pack ({period_code(key)}): [bold]{pack_index}[/] — open it in a browser, print to A4")
    console.print(f"\nfinished in {time.perf_counter() - started:.1f} s")
    return OK


def _has_submissions(settings: Settings) -> bool:
    from hqd.landing.ingest import landing_files

    return settings.landing_dir.is_dir() and bool(landing_files(settings.landing_dir))


def _developer_tools() -> None:
    """The developer tools (tools/) live in the source checkout beside the package, not in the wheel."""
    if (PROJECT_DIR / "tools").is_dir() and str(PROJECT_DIR) not in sys.path:
        sys.path.insert(0, str(PROJECT_DIR))


def _generate_sample(landing_dir: Path) -> int | None:
    _developer_tools()
    try:
        from tools import sample_data
    except ImportError:
        console.print(
            f"[bold red]no submissions in {landing_dir}[/] and the sample generator is a developer tool of the "
            "source checkout (tools/), not installed here: put submissions there. Nothing was run."
        )
        return None
    return sample_data.generate_sample(landing_dir).files_written


def _with_dbt_log(settings: Settings, work):
    """dagster-dbt echoes dbt's log to stdout: it goes to a file, which replaces the last log only when dbt ran
    in this run (a run stopped before dbt, e.g. on a locked warehouse, keeps the last good log). The file is
    opened only now, so a warehouse folder that cannot be written (a full disk) fails here with its cause."""
    import contextlib

    log = settings.dbt_log
    fresh = log.with_suffix(".log.new")
    job_run = None
    try:
        log.parent.mkdir(parents=True, exist_ok=True)
        sink = fresh.open("w", encoding="utf-8")
    except OSError as exc:
        from hqd.warehouse import WarehouseUnavailable, explain

        raise WarehouseUnavailable(explain(exc, settings.warehouse)) from exc
    try:
        with sink, contextlib.redirect_stdout(sink):
            job_run = work()
            return job_run
    finally:
        if job_run is not None and _dbt_ran(job_run) and fresh.exists() and fresh.stat().st_size > 0:
            os.replace(fresh, log)
        else:
            fresh.unlink(missing_ok=True)


def _dbt_ran(job_run) -> bool:
    return any(
        event.event_type_value == "STEP_START" and (event.step_key or "").startswith("hqd_dbt_assets")
        for event in job_run.result.all_events
    )


def _error_chain(error) -> list:
    chain = []
    while error is not None:
        chain.append(error)
        error = error.cause or getattr(error, "context", None)
    return chain


def _cause_text(error) -> str:
    """An error's own message, without the `module.Class: ` prefix Dagster's serialised errors carry."""
    text = (error.message or "").strip()
    prefix = re.match(r"^[\w.]+: ", text)
    if prefix and prefix.group(0)[:-2].split(".")[-1] == error.cls_name:
        text = text[prefix.end() :]
    return text.strip()


# what to do after a failure whose cause carries no advice of its own
NEXT_STEP = (
    "what to do: read the cause above and dbt's log; fix it (or report it as a product defect) and run again — "
    "the warehouse keeps what was loaded, and the next run completes the rest"
)


def _report_failure(job_run) -> int:
    """Every failed step with its cause (not Dagster's wrapper line) and what to do; the exit code by cause."""
    code = FAILED
    advised = False
    console.print("[bold red]✗ the run failed[/]; nothing new was published (the previous publication stands)")
    for event in job_run.result.all_events:
        if event.event_type_value in {"STEP_FAILURE", "RESOURCE_INIT_FAILURE"}:
            chain = _error_chain(event.event_specific_data.error)
            names = {e.cls_name for e in chain}
            causes = [text for text in map(_cause_text, chain) if text]
            # Dagster's own first line says only "Error occurred while executing op X:"; the cause follows it
            useful = [c for c in causes if not c.startswith("Error occurred while executing")] or causes
            where = event.step_key or "start of the run"
            console.print(f"  [red]{where}[/]: {useful[0] if useful else 'no message'}")
            if names & {"WarehouseUnavailable", "RunInProgress", "IOException"} or any(
                "is locked by" in c or "another run is using" in c or "No space left on device" in c for c in causes
            ):
                code = WAREHOUSE_UNAVAILABLE
                advised = True  # hqd.warehouse and hqd.runlock say what to do
            elif any(c.startswith("no submissions in") for c in causes):
                code = NOTHING_TO_LOAD
                advised = True
        elif event.event_type_value == "ASSET_CHECK_EVALUATION" and not event.event_specific_data.passed:
            evaluation = event.event_specific_data
            failed = evaluation.metadata.get("failed_expectations")
            console.print(
                f"  [red]{evaluation.severity.value}[/] check {evaluation.check_name} on "
                f"{'/'.join(evaluation.asset_key.path)}" + (f": {failed.value}" if failed else "")
            )
    if not advised:
        console.print(NEXT_STEP)
    return code


def _print_summary(result: summary.Summary) -> None:
    rows = Table(title="Rows in and out", show_header=True)
    rows.add_column("stage")
    rows.add_column("rows", justify="right")
    rows.add_row("landed (raw.submissions)", f"{result.raw_rows:,}")
    rows.add_row("accepted (marts.fct_indicator_values)", f"{result.accepted_rows:,}")
    rows.add_row("  of which current", f"{result.current_rows:,}")
    rows.add_row("rejected (marts.fct_rejected_submissions)", f"{result.rejected_rows:,}")
    verdict = "[green]yes[/]" if result.reconciles else "[bold red]NO[/]"
    rows.add_row("landed = accepted + rejected", verdict)
    console.print(rows)

    if result.rejected_by_reason:
        reasons = Table(title="Rejected rows by reason")
        reasons.add_column("reason")
        reasons.add_column("rows", justify="right")
        reasons.add_column("first example")
        for reason, count, example in result.rejected_by_reason:
            reasons.add_row(reason, str(count), example)
        console.print(reasons)

    if result.file_quality:
        files = Table(title=f"Files with rows not loaded ({result.clean_files} other files loaded completely)")
        for col in ("file", "rows read", "loaded", "not loaded", "why (examples)"):
            files.add_column(col, justify="right" if col in ("rows read", "loaded", "not loaded") else "left")
        for name, read, loaded, rejected, reasons, error in result.file_quality:
            why = reasons if not error else f"[red]unreadable[/]: {error}"
            files.add_row(name, str(read or 0), str(loaded or 0), str(rejected or 0), why or "")
        console.print(files)
        console.print("full report: marts.fct_submission_file_quality")

    for name, reason in result.waiting_files:
        console.print(f"[yellow]not loaded yet[/] {name}: {reason} (a later run loads it once complete)")

    cities = Table(title=f"{result.assessment_year}年度 设区市 — tiers by class")
    for col in ("class", "rank", "city", "total", "tier"):
        cities.add_column(col, justify="right" if col in ("rank", "total") else "left")
    for cls, rank, name, total, tier, vetoed in result.cities:
        cities.add_row(cls, str(rank), name + (" (一票否决)" if vetoed else ""), f"{total:.2f}", tier)
    console.print(cities)

    advanced = Table(title=f"{result.assessment_year}年度 高质量发展先进县(市、区): {len(result.advanced_counties)}")
    for col in ("class", "#", "county", "city", "rank in class", "province rank", "total", "years running"):
        advanced.add_column(col)
    for cls, pos, name, city, rank, province_rank, total, streak, first_time in result.advanced_counties:
        label = name + (" [bold green](first time)[/]" if first_time else "")
        advanced.add_row(cls, str(pos), label, city, str(rank), str(province_rank), f"{total:.2f}", str(streak))
    console.print(advanced)
    first_timers = [row[2] for row in result.advanced_counties if row[8]]
    longest = max(result.advanced_counties, key=lambda row: row[7], default=None)
    if longest is not None:
        console.print(
            f"advanced list: {len(first_timers)} first-timers ({'、'.join(first_timers) or '—'}); "
            f"longest run {longest[2]}, {longest[7]} years"
        )
    for name, previous, rank, cls in result.progress_awards:
        console.print(f"争先进位奖: {name} (class {cls}, rank {previous} → {rank})")
    for period, level, red, yellow, blue, cleared in result.warnings:
        console.print(
            f"{period} monitoring, {level}: [red]{red} red[/], [yellow]{yellow} yellow[/], [blue]{blue} blue[/] "
            f"warnings; {cleared} cleared since the quarter before (marts.fct_monitoring_warnings)"
        )
    console.print(
        f"warehouse: [bold]{result.warehouse}[/] (schemas marts, staging, intermediate, config, raw); "
        "open it with `duckdb -readonly` or any DuckDB client"
    )


# ----------------------------------------------------------------------------------------------------- report
PERIOD_TEXT = re.compile(r"^(\d{4})(?:-?Q([1-4]))?$")


@app.command()
def report(
    period: Annotated[
        str | None, typer.Option(help="2023Q4 (letters, overview, warnings) or 2023Q2 (warnings); 2023 = 2023Q4")
    ] = None,
    year: Annotated[int | None, typer.Option(help="an assessment year: its Q4 pack, the annual assessment")] = None,
    publish_dir: PublishOpt = None,
    reports_dir: Annotated[
        Path | None, typer.Option(help="where packs are written [default: $HQD_REPORTS_DIR or data/reports]")
    ] = None,
) -> None:
    """Write the report pack of a period from the current publication (点对点反馈 letters and the province
    overview for a Q4 period, the warnings notice for any quarter, an index) into <reports_dir>/<YYYY>Q<q>/,
    replacing that period's previous pack, and print where it is. Reads only the published release."""
    from hqd.docs.report_folder import write_report_docs
    from hqd.publication.files import CURRENT_LINK, DUCKDB_FILE
    from hqd.reports import ReportPackError, build_report_pack

    settings = _settings(publish_dir=publish_dir, reports_dir=reports_dir)
    if (period is None) == (year is None):
        console.print("[red]give one of --period (2023Q4, 2023Q2) or --year (2023 = its Q4)[/]")
        raise typer.Exit(CONFIG_ERROR)
    match = PERIOD_TEXT.match((period or "").strip().upper()) if period else None
    if period and not match:
        console.print(f"[red]--period {period}[/]: write 2023Q4, 2023-Q4 or 2023")
        raise typer.Exit(CONFIG_ERROR)
    pack_year, quarter = (int(match.group(1)), int(match.group(2) or 4)) if match else (year, 4)
    published = settings.publish_dir / CURRENT_LINK / DUCKDB_FILE
    if not published.exists():
        console.print(f"[bold red]nothing published yet[/] ({published}): run `hqd run` (make run) first")
        raise typer.Exit(FAILED)
    try:
        # the latest quality page and the published dbt docs go beside the reports, as in a run
        docs = partial(write_report_docs, settings)
        pack = build_report_pack(published, settings.reports_dir, year=pack_year, quarter=quarter, extra_pages=[docs])
    except ReportPackError as exc:
        console.print(f"[bold red]no report pack[/]: {exc}")
        raise typer.Exit(CONFIG_ERROR) from None
    console.print(
        f"report pack {pack.period}: {pack.page_count} pages ({pack.bytes_total / 1e6:.1f} MB) in "
        f"{pack.seconds['total']:.1f} s from {published.resolve().parent.name}"
    )
    console.print(f"[bold]{pack.index}[/]")


# ----------------------------------------------------------------------------------------------- check-config
@app.command("check-config")
def check_config_command() -> None:
    """Check the seeds (the year's rules) and list every problem with its seed file, row, key and what is wrong.
    Prints to the terminal; writes nothing."""
    settings = _settings()
    if not _check_configuration(settings):
        raise typer.Exit(CONFIG_ERROR)
    console.print(f"[green]✓[/] configuration is consistent ({settings.seeds_dir})")


# ---------------------------------------------------------------------------------------------------- quality
@app.command()
def quality(warehouse: WarehouseOpt = None) -> None:
    """Run every Great Expectations suite (expectations/) on the warehouse, outside a job; print each suite's
    outcome and write the quality page ($HQD_QUALITY_DIR/quality.html) and GE's Data Docs ($HQD_DATA_DOCS_DIR,
    which need a network for their styles). Exit 1 if a blocking suite failed."""
    from hqd import quality as gate
    from hqd.docs import quality_page
    from hqd.warehouse import connect as connect_warehouse

    settings = _settings(warehouse=warehouse)
    started = time.perf_counter()
    if not settings.warehouse.is_file():  # connecting would create an empty warehouse and every suite would fail
        raise FileNotFoundError(f"no warehouse at {settings.warehouse}")
    # the job's connection (hqd/warehouse.py): HQD_DUCKDB_MEMORY_LIMIT applies to the gate run alone too
    con = connect_warehouse(settings)
    try:
        outcomes = gate.run_all(con, data_docs_dir=settings.data_docs_dir)
    finally:
        con.close()
    for outcome in outcomes:
        status = "ok" if outcome.success else ("FAILED" if outcome.blocking_failed else "warning")
        console.print(
            f"{status:8} {outcome.suite_name:55} {outcome.evaluated - outcome.failed}/{outcome.evaluated} passed,"
            f" {outcome.rows_validated} rows, {outcome.seconds:.2f} s"
        )
        for failure in outcome.failed_outcomes:
            console.print(f"         {failure.describe()}")
    page = quality_page.write_quality_page(outcomes, settings.quality_dir / quality_page.PAGE_NAME)
    console.print(f"{len(outcomes)} suites in {time.perf_counter() - started:.1f} s; quality page: {page}")
    raise typer.Exit(OK if gate.gate_passed(outcomes) else FAILED)


# ---------------------------------------------------------------------------------------------------- publish
@publish_app.command("files")
def publish_files(
    warehouse: WarehouseOpt = None,
    publish_dir: PublishOpt = None,
    year: Annotated[int | None, typer.Option(help="assessment year recorded in the manifest")] = None,
    run_id: Annotated[str | None, typer.Option(help="the release's run id [default: manual-<random>]")] = None,
    full_refresh: Annotated[
        bool, typer.Option(help="write every file afresh instead of reusing the current release's unchanged years")
    ] = False,
) -> None:
    """Copy the warehouse's marts into a new read-only release (DuckDB file, Parquet, manifest) under the
    publication folder and switch `current` to it; years unchanged since the current release are reused from it.
    No quality checks: the job's publication step is gated."""
    import uuid

    from hqd.publication import files

    settings = _settings(warehouse=warehouse, publish_dir=publish_dir)
    # column descriptions from dbt's manifest when there is one (`make manifest` writes it)
    manifest = settings.dbt_target_dir / "manifest.json"
    try:
        publication = files.publish_marts(
            settings.warehouse,
            settings.publish_dir,
            run_id=run_id or f"manual-{uuid.uuid4().hex[:12]}",
            assessment_year=year,
            checks=[],
            keep_releases=settings.releases_kept,
            descriptions=files.descriptions_from_dbt_manifest(manifest) if manifest.exists() else None,
            full_refresh=full_refresh,
            memory_limit=settings.publication_memory_limit,
        )
    except (ValueError, OSError) as exc:
        console.print(f"[red]error[/]: {exc}")
        raise typer.Exit(FAILED) from None
    reuse = publication.manifest["reuse"]
    console.print(
        f"published {publication.release_dir} ({reuse['parquet_written']} Parquet files written, "
        f"{reuse['parquet_reused']} reused, {reuse['rows_copied']:,} rows copied)"
    )
    for table, info in publication.manifest["marts"].items():
        console.print(f"  {table}: {info['row_count']:,} rows")


@publish_app.command("postgres")
def publish_postgres(
    release: Annotated[Path | None, typer.Option(help="a release folder [default: <publish_dir>/current]")] = None,
) -> None:
    """Load a release into the PostgreSQL schema $HQD_PG_PUBLISH_SCHEMA (swapped in one transaction), readable
    by the role $HQD_PG_READER_ROLE only. The server comes from HQD_PG_*."""
    from hqd.engines import PostgresConnection
    from hqd.publication import files
    from hqd.publication.postgres import publish_release_to_postgres

    settings = _settings()
    release = release or (settings.publish_dir / files.CURRENT_LINK)
    try:
        result = publish_release_to_postgres(
            release.resolve(),
            PostgresConnection.from_settings(settings),
            settings.pg_publish_schema,
            settings.pg_reader_role,
        )
    except (FileNotFoundError, ValueError) as problem:
        console.print(f"[red]error[/]: {problem}")
        raise typer.Exit(CONFIG_ERROR) from None
    total = sum(result.row_counts.values())
    console.print(
        f"published release {result.release} to schema {result.schema}: {len(result.row_counts)} marts, "
        f"{total:,} rows; readable by role {result.reader_role}"
    )


# -------------------------------------------------------------------------------------------------- composite
@composite_app.command("build")
def composite_build(
    index: Annotated[str, typer.Option(help="the index to report (seeds/composite/composite_indices.csv)")] = "hdi",
    warehouse: WarehouseOpt = None,
    top: Annotated[int, typer.Option(help="ranks of the latest year to print")] = 10,
) -> None:
    """composite_job through Dagster: one dbt build of the composite-index engine (its seeds, the index's
    staging, the generic models, data and unit tests) into schema `composite` of the warehouse; then the top of
    the index's latest ranking. Never touches the assessment marts or the publication."""
    from hqd import composite

    settings = _settings(warehouse=warehouse)
    if settings.target != "duckdb":
        console.print(f"[bold red]HQD_TARGET={settings.target}[/]: the composite-index engine runs on DuckDB only")
        raise typer.Exit(CONFIG_ERROR)
    known = composite.index_codes(settings.seeds_dir)
    if index not in known:
        console.print(
            f"[bold red]--index {index}[/]: no such composite index; configured: {', '.join(known) or 'none'} "
            f"({(settings.seeds_dir / composite.INDICES_SEED).relative_to(settings.project_dir)}). Nothing was run."
        )
        raise typer.Exit(CONFIG_ERROR)

    import contextlib

    from hqd.warehouse import WarehouseUnavailable
    from orchestration import progress, runner
    from orchestration.resources import HqdSettings

    progress.console = console  # one console, as `hqd run` has it
    started = time.perf_counter()
    log = settings.dbt_log.with_name("dbt_composite.log")
    console.print(f"running [bold]composite_job[/] for {index} through Dagster (warehouse {settings.warehouse})")
    try:
        log.parent.mkdir(parents=True, exist_ok=True)
        # dagster-dbt echoes dbt's log to stdout: it goes to its own file, beside the main run's
        with log.open("w", encoding="utf-8") as sink, contextlib.redirect_stdout(sink):
            job_run = runner.execute(
                HqdSettings(warehouse=str(settings.warehouse)),
                job_name="composite_job",
                partition_key=None,
                run_config={
                    "ops": {"composite_dbt_assets": {"config": {"index_code": index}}},
                    "loggers": {"terminal": {"config": {"log_level": "DEBUG"}}},
                },
                loggers={"terminal": progress.terminal_progress_logger},
            )
    except WarehouseUnavailable as exc:
        console.print(f"[bold red]✗ nothing was run[/]: {exc}")
        raise typer.Exit(WAREHOUSE_UNAVAILABLE) from None
    if not job_run.success:
        raise typer.Exit(_report_failure(job_run))
    ranking = composite.top_ranking(settings.warehouse, index, limit=top)
    table = Table(title=f"{index} {ranking.year}: top of {ranking.units_ranked} ranked", show_header=True)
    for column, justify in (
        ("rank", "right"),
        ("unit", "left"),
        ("name", "left"),
        ("value", "right"),
        ("tier", "left"),
    ):
        table.add_column(column, justify=justify)
    for rank, code, name, value, tier in ranking.rows:
        table.add_row(str(rank), code, name, f"{value:.3f}", tier or "")
    console.print(table)
    console.print(
        f"[green]✓[/] built in {time.perf_counter() - started:.1f} s (run {job_run.run_id}); tables in schema "
        f"{composite.SCHEMA} of {settings.warehouse}: fct_composite_index, fct_composite_dimension_scores, "
        f"fct_composite_indicator_scores; dbt's log: {log}"
    )


# ---------------------------------------------------------------------------------------------------- engines
TargetOpt = Annotated[str, typer.Option(help="postgres or spark [default: $HQD_TARGET, else postgres]")]


def _engine_target(target: str | None) -> str:
    configured = _settings().target
    chosen = target or (configured if configured != "duckdb" else "postgres")
    if chosen not in ("postgres", "spark"):
        console.print(f"[red]--target {chosen}[/]: expected postgres or spark")
        raise typer.Exit(CONFIG_ERROR)
    return chosen


@engines_app.command("build")
def engines_build(
    target: TargetOpt = None,
    warehouse: WarehouseOpt = None,
    landing_dir: LandingOpt = None,
    period: Annotated[str | None, typer.Option(help="the run's period [default: the last configured]")] = None,
) -> None:
    """The engine job through Dagster: ingest into the DuckDB landing store, copy raw to the engine, one dbt
    build there (seeds, models, data and unit tests). The tables land in the engine's schemas."""
    from orchestration import runner
    from orchestration.partitions import PERIODS, parse_period
    from orchestration.resources import HqdSettings

    target = _engine_target(target)
    settings = _settings(warehouse=warehouse, landing_dir=landing_dir, target=target)
    if not _check_configuration(settings):
        raise typer.Exit(CONFIG_ERROR)
    generated = False
    if not _has_submissions(settings):
        if _generate_sample(settings.landing_dir) is None:
            raise typer.Exit(NOTHING_TO_LOAD)
        generated = True
    overrides = HqdSettings(
        warehouse=str(settings.warehouse),
        landing_dir=str(settings.landing_dir),
        target=target,
        landing_settle_seconds=0 if generated else None,  # the sample was just written whole
    )
    started = time.perf_counter()
    job_run = _with_dbt_log(
        settings,
        lambda: runner.execute(
            overrides,
            job_name="engine_build_job",
            partition_key=parse_period(period) if period else PERIODS.get_last_partition_key(),
        ),
    )
    for step, seconds in job_run.step_seconds().items():
        console.print(f"  {step}: {seconds:.1f} s")
    if not job_run.success:
        raise typer.Exit(_report_failure(job_run))
    console.print(f"[green]✓[/] built on {target} in {time.perf_counter() - started:.1f} s (run {job_run.run_id})")


@engines_app.command("compare")
def engines_compare(target: TargetOpt = None, warehouse: WarehouseOpt = None) -> None:
    """Every mart on the engine against the DuckDB warehouse's: same columns, keys and cells (numbers to 1e-9).
    Exit 1 if any differs."""
    from hqd import engines

    target = _engine_target(target)
    problems = engines.compare_with_duckdb(_settings(warehouse=warehouse, target=target))
    failed = sum(1 for found in problems.values() if found)
    for mart, found in problems.items():
        console.print(f"{mart}: " + ("[green]equal[/]" if not found else "[red]differs[/]"))
        for problem in found:
            console.print(f"    {problem}")
    console.print(f"{len(problems) - failed} of {len(problems)} marts equal on duckdb and {target}")
    raise typer.Exit(FAILED if failed else OK)


# -------------------------------------------------------------------------------------------------- scenarios
@scenario_app.command("list")
def scenario_list() -> None:
    """The configured scenarios (seeds/scenarios/scenarios.csv) and how many overrides each has."""
    import pandas as pd

    from hqd import scenarios

    settings = _settings()
    try:
        configured = scenarios.load_scenarios(settings.seeds_dir)
        counts = {
            seed: pd.read_csv(settings.seeds_dir / "scenarios" / f"{seed}.csv", dtype=str)["scenario_code"]
            .value_counts()
            .to_dict()
            for seed in scenarios.OVERRIDE_SEEDS
        }
    except (scenarios.ScenarioError, OSError, KeyError) as exc:
        console.print(f"[bold red]Configuration error[/]: {exc}")
        raise typer.Exit(CONFIG_ERROR) from None
    table = Table(title=f"Scenarios ({settings.seeds_dir / 'scenarios'})")
    for column in ("scenario", "名称", "rules year", "rules", "tier quotas", "advanced quotas", "description"):
        table.add_column(column)
    for code, scenario in configured.items():
        table.add_row(
            code,
            scenario.description_zh,
            str(scenario.rules_year or "each year's own"),
            *(str(counts[seed].get(code, 0)) for seed in scenarios.OVERRIDE_SEEDS),
            scenario.description,
        )
    console.print(table)
    console.print("run one: hqd scenario run CODE --years 2021-2024")


@scenario_app.command("run")
def scenario_run(
    code: Annotated[str, typer.Argument(help="the scenario's code (hqd scenario list)")],
    years: Annotated[
        str | None, typer.Option(help="assessed years, e.g. 2024, 2021-2024 or 2021,2023 [default: every one]")
    ] = None,
    warehouse: WarehouseOpt = None,
) -> None:
    """One scenario through Dagster (scenario_job): the assessment models with the scenario's overrides build
    its scores, ranks, tiers and advanced list into scenario_<code>_marts, scenarios.fct_scenario_changes lists
    every change against the official result; prints who moves and writes <scenarios_dir>/<code>/changes.csv.
    The official marts, their build state and the publication are not touched."""
    raise typer.Exit(_scenario_run(code, years, warehouse))


def _scenario_run(code: str, years_text: str | None, warehouse: Path | None) -> int:
    import contextlib

    from hqd import scenarios
    from hqd.warehouse import WarehouseUnavailable, connect

    settings = _settings(warehouse=warehouse)
    if settings.target != "duckdb":
        console.print(f"[bold red]HQD_TARGET={settings.target}[/]: scenarios run on the embedded DuckDB warehouse")
        return CONFIG_ERROR
    try:
        years = scenarios.parse_years(years_text) if years_text else None
        scenario, years = scenarios.resolve(settings.seeds_dir, code, years)
    except scenarios.ScenarioError as exc:
        console.print(f"[bold red]Configuration error[/] — nothing was run: {exc}")
        return CONFIG_ERROR
    if not _check_configuration(settings):
        return CONFIG_ERROR
    try:
        con = connect(settings, read_only=True) if settings.warehouse.exists() else None
        official = con is not None and bool(
            con.execute(
                "select count(*) from information_schema.tables "
                "where table_schema = 'marts' and table_name = 'fct_region_assessment'"
            ).fetchone()[0]
        )
        if con is not None:
            con.close()
    except WarehouseUnavailable as exc:
        console.print(f"[bold red]✗ nothing was run[/]: {exc}")
        return WAREHOUSE_UNAVAILABLE
    if not official:
        console.print(
            f"[bold red]no official result in {settings.warehouse}[/]: a scenario is compared with it, so run "
            "`hqd run` first. Nothing was run."
        )
        return CONFIG_ERROR

    from orchestration import progress, runner
    from orchestration.assets.scenarios import scenario_changes
    from orchestration.resources import HqdSettings

    out_dir = settings.scenarios_dir / scenario.code
    out_dir.mkdir(parents=True, exist_ok=True)
    progress.console = console
    run_config = {
        "loggers": {"terminal": {"config": {"log_level": "DEBUG"}}},
        "ops": {scenario_changes.op.name: {"config": {"scenario_code": scenario.code, "years": years}}},
    }
    console.print(
        f"running [bold]scenario_job[/] for {scenario.code} ({scenario.description_zh}), "
        f"{', '.join(map(str, years))}, through Dagster (warehouse {settings.warehouse})"
    )
    started = time.perf_counter()
    try:
        # dagster-dbt echoes dbt's log to stdout: the scenario's own log file, never the official run's
        with (out_dir / "dbt_output.log").open("w", encoding="utf-8") as sink, contextlib.redirect_stdout(sink):
            job_run = runner.execute(
                HqdSettings(warehouse=str(settings.warehouse)),
                job_name="scenario_job",
                run_config=run_config,
                loggers={"terminal": progress.terminal_progress_logger},
            )
    except WarehouseUnavailable as exc:
        console.print(f"[bold red]✗ nothing was run[/]: {exc}")
        return WAREHOUSE_UNAVAILABLE
    console.print(f"dbt's log of this scenario: {out_dir / 'dbt_output.log'}; run {job_run.run_id} (make ui shows it)")
    if not job_run.success:
        return _report_failure(job_run)
    con = connect(settings, read_only=True)
    try:
        changes = scenarios.read_changes(con, scenario.code)
    finally:
        con.close()
    _print_movers(scenario.code, changes)
    path = scenarios.write_changes_csv(changes, out_dir / "changes.csv")
    console.print(
        f"every region's comparison: [bold]{path}[/] (UTF-8 with BOM, opens in Excel); the scenario's marts: "
        f"schema {scenarios.schema_name(scenario.code)}; all scenarios: scenarios.fct_scenario_changes"
    )
    console.print(f"\nfinished in {time.perf_counter() - started:.1f} s")
    return OK


def _print_movers(code: str, changes) -> None:
    import pandas as pd

    from hqd import scenarios

    moved = scenarios.movers(changes)
    console.print(
        f"scenario {code}: {len(changes)} region-years compared; "
        f"totals changed {int(changes['has_total_changed'].sum())}, "
        f"ranks {int(changes['has_rank_changed'].sum())}, tiers {int(changes['has_tier_changed'].sum())}, "
        f"advanced list {int(changes['has_advanced_changed'].sum())}"
    )
    if moved.empty:
        console.print("nobody moves: every rank, tier and advanced status is as in the official result")
        return

    def arrow(before, after, fmt=str) -> str:
        def text(v):
            return "—" if pd.isna(v) else fmt(v)

        return text(before) if text(before) == text(after) else f"{text(before)} → {text(after)}"

    def yes_no(v) -> str:
        return "是" if v else "否"

    table = Table(title=f"Who moves under {code} (official → scenario)")
    for column in ("year", "region", "class", "total", "rank in class", "province rank", "tier", "advanced"):
        table.add_column(column)
    for row in moved.itertuples(index=False):
        table.add_row(
            str(row.assessment_year),
            f"{row.region_name or ''} {row.region_code}".strip(),
            f"{row.level} {row.class_code}",
            arrow(row.official_total_score, row.scenario_total_score, lambda v: f"{v:.2f}"),
            arrow(row.official_rank_in_class, row.scenario_rank_in_class, lambda v: str(int(v))),
            arrow(row.official_province_rank, row.scenario_province_rank, lambda v: str(int(v))),
            arrow(row.official_tier, row.scenario_tier, lambda v: str(int(v))),
            arrow(row.is_official_advanced, row.is_scenario_advanced, yes_no) if row.level == "county" else "",
        )
    console.print(table)


# ------------------------------------------------------------------------------------ developer tools (tools/)
@app.command()
def sample(
    landing_dir: Annotated[Path, typer.Option(help="where the CSV files are written")] = Path("data/landing"),
    years: Annotated[
        str | None, typer.Option(help="e.g. 2018-2024 or 2021,2023 [default: every configured year]")
    ] = None,
    seed: Annotated[int, typer.Option(help="random seed: the same seed writes the same bytes")] = 20240330,
    scale: Annotated[int, typer.Option(help="1..50; above 1 adds synthetic counties")] = 1,
    messy_rate: Annotated[float, typer.Option(help="0..1 share of cells and files written messily")] = 0.0,
    seeds_dir: Annotated[Path | None, typer.Option(help="configuration tree [default: seeds/]")] = None,
) -> None:
    """Write the deterministic sample submissions (13 cities, 2018–2024, annual and quarterly CSV files) into a
    landing folder. A developer tool (tools/sample_data.py): `hqd run` calls it when the landing is empty."""
    _developer_tools()
    from tools import sample_data

    try:
        report = sample_data.generate_sample(
            landing_dir,
            years=sample_data.parse_years(years) if years else None,
            seed=seed,
            scale=scale,
            seeds_dir=seeds_dir,
            messy_rate=messy_rate,
        )
    except ValueError as exc:
        console.print(f"[red]error[/]: {exc}")
        raise typer.Exit(CONFIG_ERROR) from None
    console.print(report.summary())


@app.command()
def national(
    out: Annotated[Path, typer.Option(help="writes OUT/seeds and OUT/landing (must be inside the project)")] = Path(
        "data/national"
    ),
    prefectures: Annotated[int, typer.Option(help="prefecture-level regions; counties follow")] = 330,
    years: Annotated[str, typer.Option(help="e.g. 2015-2024")] = "2015-2024",
    seed: Annotated[int, typer.Option(help="random seed")] = 20240330,
) -> None:
    """Write a national-like synthetic configuration and its submissions (330 prefectures, 2,850 counties,
    100 indicators: about 15.9 M values). A developer tool (tools/national.py) for the benchmark."""
    _developer_tools()
    from tools import national as generator
    from tools.sample_data import parse_years

    report = generator.generate_national(out, prefectures=prefectures, years=parse_years(years), seed=seed)
    console.print(report.summary())
    console.print(f"use it with: HQD_SEEDS_DIR={report.seeds_dir} HQD_LANDING_DIR={report.landing_dir}")


@app.command()
def bench(
    scales: Annotated[
        str, typer.Option(envvar="BENCH_SCALES", help="comma list of 1, 4, 16, national")
    ] = "1,4,16,national",
    base_prefectures: Annotated[int, typer.Option(help="prefectures at scale 1")] = 5,
    years: Annotated[str, typer.Option(help="e.g. 2015-2024")] = "2015-2024",
    report: Annotated[bool, typer.Option(help="print the stored results again, nothing run")] = False,
    markdown: Annotated[bool, typer.Option(help="the stored results as Markdown tables (README)")] = False,
    child: Annotated[str | None, typer.Option(hidden=True)] = None,
    directory: Annotated[Path | None, typer.Option("--dir", hidden=True)] = None,
) -> None:
    """Benchmark: per scale, the main job (gate on) full and with one new quarter, against the full-job floor (the
    same job as plain DuckDB SQL, tools/floor.py: ours / floor per stage) and the scoring baselines in DuckDB SQL
    and pandas; prints stage times, peaks and the targets' ratios; results in data/bench/results.json. Minutes."""
    _developer_tools()
    from tools import bench as benchmark

    raise typer.Exit(
        benchmark.main(
            scales=scales,
            base_prefectures=base_prefectures,
            years=years,
            report=report,
            markdown=markdown,
            child=child,
            directory=directory,
        )
    )


def main(argv: list[str] | None = None) -> int:
    """The console entry point (`hqd`), also callable with a list of arguments; returns the exit code."""
    try:
        result = app(args=argv, prog_name="hqd", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return CONFIG_ERROR
    except click.exceptions.Abort:
        return FAILED
    except Exception as exc:  # a command that met an unusable warehouse outside a Dagster run
        from hqd.warehouse import WarehouseUnavailable

        if not isinstance(exc, WarehouseUnavailable):
            raise
        console.print(f"[bold red]✗ the warehouse is unavailable[/]: {exc}")
        return WAREHOUSE_UNAVAILABLE
    return result if isinstance(result, int) else OK


if __name__ == "__main__":
    sys.exit(main())
