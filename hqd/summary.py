"""The year's result as the terminal shows it after a run: rows in and out, tiers, advanced counties, warnings.

Read from the warehouse the run built (every number from the marts)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb


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
    waiting_files: list[tuple] = field(default_factory=list)

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
        # files still being copied when the run looked (ingest creates the table in every run)
        waiting = con.execute("select file_name, reason from raw.landing_waiting order by file_name").fetchall()
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
            waiting_files=waiting,
        )
    finally:
        con.close()
