"""The main job, as plain functions: check the configuration, land the files, build with dbt once, summarise.

The terminal front end (orchestration/cli.py) and the Dagster assets call these same functions, so a run
from either place does the same work.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from hqd import config_check
from hqd.landing import ingest

PROJECT_DIR = Path(__file__).resolve().parents[1]
DEFAULT_PATHS = {
    "warehouse": ("HQD_WAREHOUSE", "data/warehouse/hqd.duckdb"),
    "landing_dir": ("HQD_LANDING_DIR", "data/landing"),
    "publish_dir": ("HQD_PUBLISH_DIR", "data/published"),
    "quality_dir": ("HQD_QUALITY_DIR", "data/quality"),
    "data_docs_dir": ("HQD_DATA_DOCS_DIR", "gx/uncommitted/data_docs/local_site"),
}


def seeds_dir_from_env() -> Path:
    """The seed tree dbt loads: HQD_SEEDS_DIR (e.g. a synthetic national configuration) or seeds/.

    It must lie inside the project: dbt writes each seed's compiled files under target/ by the seed's path, and
    an absolute path outside the project would make it write over the seed files themselves."""
    path = Path(os.environ.get("HQD_SEEDS_DIR", "seeds"))
    path = (path if path.is_absolute() else PROJECT_DIR / path).resolve()
    if not path.is_relative_to(PROJECT_DIR.resolve()):
        raise ValueError(f"HQD_SEEDS_DIR must be a folder inside the project ({PROJECT_DIR}), got {path}")
    return path


def default_paths() -> dict[str, Path]:
    """Every path the project writes, as the environment gives it now; relative ones under the project."""
    paths = {}
    for name, (variable, default) in DEFAULT_PATHS.items():
        path = Path(os.environ.get(variable, default))
        paths[name] = path if path.is_absolute() else PROJECT_DIR / path
    return paths


@dataclass
class Settings:
    warehouse: Path = field(default_factory=lambda: default_paths()["warehouse"])
    landing_dir: Path = field(default_factory=lambda: default_paths()["landing_dir"])
    seeds_dir: Path = field(default_factory=seeds_dir_from_env)
    project_dir: Path = PROJECT_DIR
    # the profiles.yml output dbt builds on: duckdb, postgres or spark (orchestration/engines.py)
    target: str = field(default_factory=lambda: os.environ.get("HQD_TARGET", "duckdb"))
    # where dbt writes its manifest and logs; tests point this at a temporary folder
    dbt_target_path: Path | None = None
    dbt_log_path: Path | None = None


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


def ingest_landing(settings: Settings, on_file: Callable[[Path], None] | None = None) -> ingest.IngestReport:
    settings.warehouse.parent.mkdir(parents=True, exist_ok=True)
    settings.landing_dir.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(settings.warehouse))
    try:
        if limit := os.environ.get("HQD_DUCKDB_MEMORY_LIMIT"):  # as dbt's on-run-start hook sets it
            con.execute(f"set memory_limit = '{limit}'")
        return ingest.ingest_landing(settings.landing_dir, con, on_file=on_file)
    finally:
        con.close()


def dbt_args(settings: Settings, command: str = "build", extra: list[str] | None = None) -> list[str]:
    args = [command, "--project-dir", str(settings.project_dir), "--profiles-dir", str(settings.project_dir)]
    if settings.dbt_target_path:
        args += ["--target-path", str(settings.dbt_target_path)]
    if settings.dbt_log_path:
        args += ["--log-path", str(settings.dbt_log_path)]
    return args + (extra or [])


def dbt_env(settings: Settings) -> dict[str, str]:
    return {
        "HQD_WAREHOUSE": str(settings.warehouse),
        "HQD_TARGET": settings.target,
        # relative to the project: see seeds_dir_from_env
        "HQD_SEEDS_DIR": settings.seeds_dir.resolve().relative_to(settings.project_dir.resolve()).as_posix(),
    }


def run_dbt_build(
    settings: Settings,
    on_progress: Callable[[int, int, str], None] | None = None,
    extra_args: list[str] | None = None,
) -> DbtBuildResult:
    """One in-process `dbt build` (seeds, models, tests, unit tests) against the settings' warehouse."""
    from dbt.cli.main import dbtRunner

    def callback(event) -> None:  # dbt's structured log events drive the progress display
        if on_progress is None:
            return
        name = event.info.name
        if name in {"LogModelResult", "LogTestResult", "LogSeedResult", "LogNodeResult"}:
            data = event.data
            on_progress(getattr(data, "index", 0), getattr(data, "total", 0), data.node_info.node_name)

    previous = {k: os.environ.get(k) for k in dbt_env(settings)}
    os.environ.update(dbt_env(settings))
    try:
        result = dbtRunner(callbacks=[callback]).invoke(dbt_args(settings, "build", ["--quiet", *(extra_args or [])]))
    finally:
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    if result.exception is not None:
        return DbtBuildResult(False, 0, [], error=str(result.exception))
    failures = [
        DbtNodeFailure(r.node.unique_id, str(r.status), (r.message or "").strip())
        for r in (result.result or [])
        if str(r.status).lower() in {"error", "fail", "runtime error"}
    ]
    # the on-run-start/end hooks come back as results too; they are not nodes of the project
    nodes = sum(1 for r in (result.result or []) if getattr(r.node, "resource_type", None) != "operation")
    return DbtBuildResult(bool(result.success), nodes, failures)


@dataclass
class Summary:
    warehouse: Path
    assessment_year: int
    raw_rows: int
    accepted_rows: int
    current_rows: int
    rejected_rows: int
    rejected_by_reason: list[tuple[str, int, str]]
    cities: list[tuple]
    advanced_counties: list[tuple]
    files_loaded: int
    warnings: list[tuple] = field(default_factory=list)
    progress_awards: list[tuple] = field(default_factory=list)
    file_quality: list[tuple] = field(default_factory=list)
    clean_files: int = 0

    @property
    def reconciles(self) -> bool:
        return self.raw_rows == self.accepted_rows + self.rejected_rows


def read_summary(warehouse: Path, assessment_year: int | None = None) -> Summary:
    # not read_only: dbt-duckdb may still hold this file open in-process, and DuckDB refuses a second
    # connection to the same file with a different configuration
    con = duckdb.connect(str(warehouse))
    try:
        one = lambda sql, params=None: con.execute(sql, params or []).fetchone()[0]  # noqa: E731
        year = assessment_year or one("select max(assessment_year) from marts.fct_region_assessment")
        reasons = con.execute(
            """
            select rejection_reason, count(*),
                   arg_min(file_name || ' row ' || row_number, file_name || lpad(row_number::varchar, 8, '0'))
            from marts.fct_rejected_submissions
            group by rejection_reason order by count(*) desc, rejection_reason
            """
        ).fetchall()
        cities = con.execute(
            """
            select a.class_code, a.rank_in_class, r.region_name, a.total_score_display, a.tier_name_zh, a.is_vetoed
            from marts.fct_region_assessment a
            join marts.dim_region r
              on r.region_code = a.region_code and a.assessment_year between r.valid_from_year and r.valid_to_year
            where a.level = 'city' and a.assessment_year = ?
            order by a.class_code, a.rank_in_class
            """,
            [year],
        ).fetchall()
        advanced = con.execute(
            """
            select c.class_code, c.position_among_eligible, r.region_name, p.region_name, c.rank_in_class,
                   c.province_rank, round(c.total_score, 2), c.advanced_streak_years, c.is_first_time
            from marts.fct_advanced_counties c
            join marts.dim_region r
              on r.region_code = c.region_code and c.assessment_year between r.valid_from_year and r.valid_to_year
            join marts.dim_region p
              on p.region_code = r.parent_code and c.assessment_year between p.valid_from_year and p.valid_to_year
            where c.assessment_year = ?
            order by c.class_code, c.position_among_eligible
            """,
            [year],
        ).fetchall()
        warnings = con.execute(
            """
            select period_code, level,
                   count(*) filter (where warning_level = 'red'),
                   count(*) filter (where warning_level = 'yellow'),
                   count(*) filter (where warning_level = 'blue'),
                   count(*) filter (where is_cleared)
            from marts.fct_monitoring_warnings
            where period_code = (select max(period_code) from marts.fct_monitoring_warnings where assessment_year = ?)
            group by period_code, level order by level
            """,
            [year],
        ).fetchall()
        awards = con.execute(
            """
            select r.region_name, a.previous_rank_in_class, a.rank_in_class, a.class_code
            from marts.fct_region_assessment a
            join marts.dim_region r
              on r.region_code = a.region_code and a.assessment_year between r.valid_from_year and r.valid_to_year
            where a.assessment_year = ? and a.is_progress_award
            """,
            [year],
        ).fetchall()
        file_quality = con.execute(
            """
            select file_name, max(file_rows),
                   sum(outcome_rows) filter (where is_accepted),
                   sum(outcome_rows) filter (where not is_accepted),
                   string_agg(outcome || ' ' || outcome_rows || coalesce(' (' || example_rows || ')', ''), '; '
                              order by outcome_rows desc)
                       filter (where not is_accepted and outcome <> 'unreadable_file'),
                   max(error_message)
            from marts.fct_submission_file_quality
            group by file_name
            having bool_or(not is_accepted)
            order by file_name
            """
        ).fetchall()
        clean_files = one(
            "select count(distinct file_hash) from marts.fct_submission_file_quality "
            "where file_hash not in (select file_hash from marts.fct_submission_file_quality where not is_accepted)"
        )
        return Summary(
            warehouse=warehouse,
            assessment_year=int(year),
            raw_rows=one("select count(*) from raw.submissions"),
            accepted_rows=one("select count(*) from marts.fct_indicator_values"),
            current_rows=one("select count(*) from marts.fct_indicator_values where is_current"),
            rejected_rows=one("select count(*) from marts.fct_rejected_submissions"),
            rejected_by_reason=[(r, int(n), ex) for r, n, ex in reasons],
            cities=cities,
            advanced_counties=advanced,
            files_loaded=one("select count(*) from raw.landing_files"),
            warnings=warnings,
            progress_awards=awards,
            file_quality=file_quality,
            clean_files=clean_files,
        )
    finally:
        con.close()


def check_configuration(settings: Settings) -> None:
    config_check.validate_config(settings.seeds_dir)
