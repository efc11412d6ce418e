"""The full-job floor of `make bench`: the warehouse's job written as plain DuckDB SQL, run from Python.

    python -m tools.floor --landing DIR --seeds DIR --out DIR

No dbt, no Dagster, no Great Expectations: what the same job costs on this machine when written directly, set-based
and as fast as it can be, so that every stage of ours has its floor beside it (tools/bench.py prints ours / floor).
Written from DESIGN.md's methodology and the seeds, not copied from the dbt models. Stages, timed separately:

* landing — every CSV of the landing folder in one `read_csv` (the template's long layout, as tools/national.py
  writes it), with its lineage as the ingest keeps it: file name (relative), SHA-256 of the bytes (`read_blob`),
  row number, load order (the files in path order), load time; cells verbatim. The rows carry their file's
  load_seq; name, hash and time stay once per file in `landing_files`. The floor does not decode (NFKC, 繁→简)
  nor read workbooks or other encodings: the generated files need neither, and the ingest decodes only the
  distinct non-ASCII cells, a tiny domain.
* validation — typed values and periods, region / indicator / unit resolved once per distinct text of the small
  domains (period texts, region code or name per year, indicator code or name, units) and joined back, the first
  failing check as the rejection reason in the warehouse's order, conflicting duplicates within a file, the latest
  load of a key current: `fct_indicator_values`, `fct_rejected_submissions`.
* marts — `fct_indicator_scores`, `fct_region_assessment` (totals, dimension subtotals, ranks, tiers, progress),
  `fct_advanced_counties`, `fct_two_colour` (红绿双色), `fct_monitoring_warnings` (红黄蓝, runs by lineage).
* checks — the gate's kinds of expectations as plain SQL counts: keys not null and unique per mart, raw rows
  reconcile with accepted + rejected, reasons in their seed, one current value per key, points within 0..weight,
  tier counts equal their quotas.
* export — the marts into a new read-only DuckDB file and one Parquet file each, `current` switched to it by an
  atomic rename.

Every column of those seven marts equals the warehouse's (compare_marts; tests/tools/test_floor.py, and the bench
at every scale). Left out: `fct_region_feedback`, `fct_region_gaps`, `fct_region_gap_plans` (per region and year
summaries of the scores: small, and not written yet), `fct_submission_file_quality` and `fct_department_lines`
(per-file / per-department summaries), the dims and the `marts_zh` views (labels).

Everything stays in DuckDB (a database file in --out, so it can spill under HQD_DUCKDB_MEMORY_LIMIT); only counts
and timings come back to Python.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from collections.abc import Iterable
from pathlib import Path

import duckdb

# the value-level marts the floor builds, with their primary keys
MARTS = {
    "fct_indicator_values": ["submission_id"],
    "fct_rejected_submissions": ["submission_id"],
    "fct_indicator_scores": ["indicator_score_key"],
    "fct_region_assessment": ["region_assessment_key"],
    "fct_advanced_counties": ["advanced_county_key"],
    "fct_two_colour": ["two_colour_key"],
    "fct_monitoring_warnings": ["monitoring_key"],
}
SCORING_MARTS = ("fct_indicator_scores", "fct_region_assessment", "fct_advanced_counties")
STAGES = ("landing", "validation", "marts", "checks", "export")
MEASURE = "decimal(38, 10)"
MAX_ABS_VALUE = "1000000000000000"  # as the warehouse: no indicator value reaches a thousand trillion


def _q(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _seed(seeds: Path, rel: str) -> str:
    return f"read_csv({_q(str(seeds / rel))}, all_varchar = true, header = true)"


def _year_range(year: str, alias: str, lo: str = "year_from", hi: str = "year_to") -> str:
    return f"{year} between cast({alias}.{lo} as integer) and coalesce(cast(nullif({alias}.{hi}, '') as integer), 9999)"


# --- landing -----------------------------------------------------------------------------------------------------
def landing_sql(landing: Path, files: list[Path]) -> list[str | tuple[str, list]]:
    """The statements of the landing stage; those that take the file list take it as a parameter."""
    paths = [str(p) for p in files]
    names = [p.relative_to(landing).as_posix() for p in files]
    columns = ", ".join(
        f"'{c}': 'varchar'"
        for c in ("region_code", "region_name", "indicator_code", "indicator_name", "period", "value", "unit")
    )
    return [
        # the load order is the path order, as the ingest loads a folder
        (
            """
            create or replace table landing_files as
            select path, file_name, cast(load_seq as integer) as load_seq,
                cast(current_timestamp at time zone 'UTC' as timestamp) as loaded_at
            from (select unnest($1) as path, unnest($2) as file_name, unnest(range(1, len($1) + 1)) as load_seq)
            """,
            [paths, names],
        ),
        (
            "create or replace table file_hashes as select filename as path, sha256(content) as file_hash "
            "from read_blob($1)",
            [paths],
        ),
        """
        create or replace table landing_files as
        select f.*, h.file_hash from landing_files f join file_hashes h using (path)
        """,
        "drop table file_hashes",
        # one statement reads every file; insertion order is file order then line order, so rowid numbers lines
        (
            f"""
            create or replace table cells as
            select * from read_csv($1, header = true, auto_detect = false, delim = ',', quote = '', escape = '',
                                   nullstr = chr(1), filename = true, columns = {{{columns}}})
            """,
            [paths],
        ),
        # the rows keep their file's load_seq; the file's name, hash and time stay in landing_files (joined back
        # in the marts: 16,500 rows, not 64 bytes of hash on each of 16 million)
        """
        create or replace table raw_submissions as
        with firsts as (select filename, min(rowid) as first_rowid from cells group by all)
        select f.load_seq, cast(c.rowid - firsts.first_rowid + 2 as integer) as row_number,
            c.region_code as region_code_raw, c.region_name as region_name_raw,
            c.indicator_code as indicator_code_raw, c.indicator_name as indicator_name_raw,
            c.period as period_raw, c.value as value_raw, c.unit as unit_raw
        from cells c
        join firsts using (filename)
        join landing_files f on f.path = c.filename
        """,
        "drop table cells",
    ]


# --- validation ----------------------------------------------------------------------------------------------------
def validation_sql(seeds: Path) -> list[str]:
    dashes = ["‐", "‑", "‒", "–", "−", "﹣", "－"]

    def minus(expr: str) -> str:
        for d in dashes:
            expr = f"replace({expr}, '{d}', '-')"
        return expr

    def compact(expr: str) -> str:
        expr = f"upper({expr})"
        for old, new in (
            (" ", ""),
            ("年度", ""),
            ("年", ""),
            ("第", ""),
            ("季度", ""),
            ("-", ""),
            ("一", "1"),
            ("二", "2"),
            ("三", "3"),
            ("四", "4"),
        ):
            expr = f"replace({expr}, '{old}', '{new}')"
        return expr

    cumulative = "'^([0-9]{4})年?1[-~至到](3|6|9|12)月份?$'"
    return [
        # the small domains, each resolved once: period texts
        f"""
        create or replace table period_domain as
        with texts as (
            select distinct period_raw from raw_submissions
        ), cleaned as (
            select period_raw, {minus("replace(coalesce(trim(period_raw), ''), ' ', '')")} as p from texts
        ), compacted as (
            select period_raw,
                coalesce(case regexp_extract(p, {cumulative}, 2)
                    when '3' then regexp_extract(p, {cumulative}, 1) || 'Q1'
                    when '6' then regexp_extract(p, {cumulative}, 1) || 'Q2'
                    when '9' then regexp_extract(p, {cumulative}, 1) || 'Q3'
                    when '12' then regexp_extract(p, {cumulative}, 1) end,
                    {compact("p")}) as pc
            from cleaned
        ), parsed as (
            select period_raw,
                cast(nullif(regexp_extract(pc, '^([0-9]{{4}})(Q?([1-4]))?$', 1), '') as integer) as period_year,
                cast(nullif(regexp_extract(pc, '^([0-9]{{4}})(Q?([1-4]))?$', 3), '') as integer) as period_quarter
            from compacted
        )
        select parsed.*,
            case when period_quarter is null then cast(period_year as varchar)
                 else period_year || 'Q' || period_quarter end as period_code,
            y.assessment_year is not null as is_period_in_range
        from parsed
        left join (select distinct cast(assessment_year as integer) as assessment_year
                   from {_seed(seeds, "config/assessment_years.csv")}) y on y.assessment_year = parsed.period_year
        """,
        f"create or replace table regions as select * from {_seed(seeds, 'reference/regions.csv')}",
        # regions: per distinct (code or name, year) the region it names, or why not
        """
        create or replace table region_domain as
        with texts as (
            select distinct
                case when length(trim(region_code_raw)) = 12 and trim(region_code_raw) like '%000000'
                     then substr(trim(region_code_raw), 1, 6) else nullif(trim(region_code_raw), '') end as code_in,
                case when nullif(trim(region_code_raw), '') is null then nullif(trim(region_name_raw), '') end
                    as name_in,
                nullif(trim(region_name_raw), '') is not null as has_name,
                p.period_year
            from raw_submissions s join period_domain p using (period_raw)
            where p.period_year is not null and p.is_period_in_range
        ), by_code as (
            select t.*, r.region_code as coded,
                r.region_code is not null
                and t.period_year between cast(r.valid_from_year as integer)
                                      and coalesce(cast(nullif(r.valid_to_year, '') as integer), 9999) as coded_valid
            from texts t left join regions r on r.region_code = t.code_in
        ), by_name as (
            select t.name_in, t.period_year,
                count(distinct case when t.period_year between cast(r.valid_from_year as integer)
                    and coalesce(cast(nullif(r.valid_to_year, '') as integer), 9999) then r.region_code end)
                    as in_year,
                min(case when t.period_year between cast(r.valid_from_year as integer)
                    and coalesce(cast(nullif(r.valid_to_year, '') as integer), 9999) then r.region_code end)
                    as named,
                count(distinct r.region_code) as any_year
            from (select distinct name_in, period_year from texts where name_in is not null) t
            join regions r on t.name_in in (r.region_name, r.short_name)
            group by all
        )
        select c.code_in, c.name_in, c.has_name, c.period_year,
            case when c.code_in is not null and c.coded_valid then c.coded
                 when c.code_in is null and n.in_year = 1 then n.named end as region_code,
            case
                when c.code_in is null and not c.has_name then 'missing_region'
                when c.code_in is not null and c.coded is null then 'unknown_region'
                when c.code_in is not null and not c.coded_valid then 'region_not_valid_in_year'
                when c.code_in is null and n.in_year > 1 then 'ambiguous_region_name'
                when c.code_in is null and coalesce(n.any_year, 0) > 0 and coalesce(n.in_year, 0) <> 1
                    then 'region_not_valid_in_year'
                when c.code_in is null and coalesce(n.in_year, 0) <> 1 then 'unknown_region'
            end as region_reason
        from by_code c
        left join by_name n on n.name_in = c.name_in and n.period_year = c.period_year
        """,
        # indicators: per distinct code or name
        f"""
        create or replace table indicator_domain as
        with indicators as (
            select *, replace(replace(replace(indicator_name_zh, 'Ⅲ', 'III'), 'Ⅱ', 'II'), 'Ⅰ', 'I') as name_key
            from {_seed(seeds, "reference/indicators.csv")}
        ), texts as (
            select distinct indicator_code_raw, indicator_name_raw from raw_submissions
        )
        select t.indicator_code_raw, t.indicator_name_raw,
            coalesce(c.indicator_code, n.indicator_code) as indicator_code,
            coalesce(c.unit, n.unit) as indicator_unit,
            cast(nullif(coalesce(c.value_min, n.value_min), '') as {MEASURE}) as value_min,
            cast(nullif(coalesce(c.value_max, n.value_max), '') as {MEASURE}) as value_max,
            case when nullif(trim(t.indicator_code_raw), '') is null and nullif(trim(t.indicator_name_raw), '') is null
                     then 'missing_indicator'
                 when coalesce(c.indicator_code, n.indicator_code) is null then 'unknown_indicator' end
                as indicator_reason
        from texts t
        left join indicators c on upper(nullif(trim(t.indicator_code_raw), '')) = c.indicator_code
        left join indicators n on nullif(trim(t.indicator_code_raw), '') is null
                              and nullif(trim(t.indicator_name_raw), '') = n.name_key
        """,
        f"""
        create or replace table markers as
        select distinct coalesce(marker, '') as marker from {_seed(seeds, "config/missing_value_markers.csv")}
        """,
        f"""
        create or replace table conversions as
        select from_unit, to_unit, cast(factor as {MEASURE}) as factor
        from {_seed(seeds, "config/unit_conversions.csv")}
        """,
        # every row in one pass: its value typed (a plain number takes the short way), the domains joined back,
        # the value converted, the first failing check
        f"""
        create or replace temp table judged as
        with typed as (
            select s.*, p.period_year, p.period_quarter, p.period_code, p.is_period_in_range,
                {minus("coalesce(trim(s.value_raw), '')")} as v0
            from raw_submissions s join period_domain p using (period_raw)
        ), cleaned as (
            select *, case when v0 like '(%)' and length(v0) > 2 then '-' || substr(v0, 2, length(v0) - 2) else v0 end
                as v from typed
        ), numbers as (
            select *,
                regexp_full_match(v, '-?[0-9]+([.][0-9]+)?') as is_plain,
                strpos(v, '%') > 0 as has_percent_sign,
                replace(replace(replace(v, ',', ''), ' ', ''), '%', '') as digits
            from cleaned
        ), parsed as (
            select *,
                is_plain or ((v not like '%,%' or regexp_full_match(replace(replace(v, ' ', ''), '%', ''),
                                                  '[+-]?[0-9]{{1,3}}(,[0-9]{{3}})+([.][0-9]+)?'))
                    and regexp_full_match(digits, '[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?'))
                    as is_numeric
            from numbers
        ), resolved as (
            select p.load_seq, p.row_number, p.region_code_raw, p.region_name_raw, p.indicator_code_raw,
                p.indicator_name_raw, p.period_raw,
                p.value_raw, p.unit_raw, p.period_year, p.period_quarter, p.period_code, p.is_period_in_range,
                p.v in (select marker from markers) as is_missing_value,
                r.region_code, i.indicator_code,
                coalesce(case when p.has_percent_sign then '%' end, nullif(trim(p.unit_raw), ''), i.indicator_unit)
                    as submitted_unit,
                u.factor as unit_factor,
                -- text to decimal(38, 10) parses ~30x slower than to decimal(18, 6) (DuckDB 1.5); a number that
                -- fits the narrow type exactly takes it and widens, the rest the wide parse (same values)
                case when not p.is_numeric then null
                     when regexp_full_match(p.digits, '-?[0-9]{{1,12}}([.][0-9]{{1,6}})?')
                         then cast(cast(p.digits as decimal(18, 6)) as {MEASURE})
                     else try_cast(p.digits as {MEASURE}) end as value_number,
                p.is_numeric, i.value_min, i.value_max, r.region_reason, i.indicator_reason
            from parsed p
            left join region_domain r
                on r.period_year = p.period_year
               and coalesce(r.code_in, chr(1)) = coalesce(case
                    when length(trim(p.region_code_raw)) = 12 and trim(p.region_code_raw) like '%000000'
                        then substr(trim(p.region_code_raw), 1, 6) else nullif(trim(p.region_code_raw), '') end,
                    chr(1))
               and coalesce(r.name_in, chr(1)) = coalesce(case when nullif(trim(p.region_code_raw), '') is null
                                                               then nullif(trim(p.region_name_raw), '') end, chr(1))
               and r.has_name = (nullif(trim(p.region_name_raw), '') is not null)
            left join indicator_domain i
                on i.indicator_code_raw = p.indicator_code_raw and i.indicator_name_raw = p.indicator_name_raw
            left join conversions u
                on u.from_unit = coalesce(case when p.has_percent_sign then '%' end, nullif(trim(p.unit_raw), ''),
                                          i.indicator_unit)
               and u.to_unit = i.indicator_unit
        ), converted as (
            select *,
                cast(case when unit_factor = 1 then value_number
                          when abs(value_number) < {MAX_ABS_VALUE}
                           and abs(cast(value_number as double) * cast(unit_factor as double)) < {MAX_ABS_VALUE}
                          then value_number * unit_factor end as {MEASURE}) as indicator_value
            from resolved
        )
        -- only what the marts need: the raw cells of a rejected row are joined back from raw_submissions
        select load_seq, row_number, value_raw, period_year, period_quarter, period_code, is_missing_value,
            region_code, indicator_code, submitted_unit, unit_factor, indicator_value,
            case
                when period_year is null then 'invalid_period'
                when not is_period_in_range then 'period_out_of_range'
                when region_reason is not null then region_reason
                when indicator_reason is not null then indicator_reason
                when not is_missing_value and value_number is null and not coalesce(is_numeric, false)
                    then 'unparseable_value'
                when not is_missing_value and unit_factor is null then 'unconvertible_unit'
                when not is_missing_value and indicator_value is null then 'value_out_of_range'
                when abs(indicator_value) >= {MAX_ABS_VALUE} then 'value_out_of_range'
                when indicator_value < value_min or indicator_value > value_max then 'value_out_of_range'
            end as row_reason
        from converted
        """,
        # two rows of one file for one key with different values: both rejected (grouped, only where a key repeats)
        """
        create or replace temp table conflicts as
        select load_seq, region_code, indicator_code, period_code
        from judged where row_reason is null
        group by all
        having count(*) > 1
           and min(coalesce(cast(indicator_value as varchar), 'missing'))
               <> max(coalesce(cast(indicator_value as varchar), 'missing'))
        """,
        """
        create or replace table fct_indicator_values as
        select f.file_hash || '::' || j.row_number as submission_id,
            j.region_code, j.indicator_code, j.period_code,
            case when j.period_quarter is null then 'year' else 'quarter' end as period_type,
            j.period_year as assessment_year, j.period_quarter as quarter, j.indicator_value, j.is_missing_value,
            j.value_raw as submitted_value, j.submitted_unit, j.unit_factor, f.file_name, f.file_hash,
            '' as sheet_name, j.row_number, cast(null as integer) as column_number, j.load_seq, f.loaded_at,
            row_number() over (partition by j.region_code, j.indicator_code, j.period_code
                               order by j.load_seq desc, j.row_number desc) = 1 as is_current
        from judged j
        join landing_files f using (load_seq)
        where j.row_reason is null
          and not exists (select 1 from conflicts c where c.load_seq = j.load_seq and c.region_code = j.region_code
                          and c.indicator_code = j.indicator_code and c.period_code = j.period_code)
        """,
        f"""
        create or replace table fct_rejected_submissions as
        with rejected as (
            select j.*, coalesce(j.row_reason, 'conflicting_duplicate_in_file') as rejection_reason
            from judged j
            left join conflicts c
                on j.row_reason is null and c.load_seq = j.load_seq and c.region_code = j.region_code
               and c.indicator_code = j.indicator_code and c.period_code = j.period_code
            where j.row_reason is not null or c.load_seq is not null
        )
        select f.file_hash || '::' || j.row_number as submission_id, j.rejection_reason,
            r.description_en as rejection_description, r.description_zh as rejection_description_zh,
            f.file_name, f.file_hash, '' as sheet_name, j.row_number, cast(null as integer) as column_number,
            j.load_seq, f.loaded_at,
            s.region_code_raw, s.region_name_raw, s.indicator_code_raw, s.indicator_name_raw, s.period_raw,
            s.value_raw, s.unit_raw, j.region_code as resolved_region_code,
            j.indicator_code as resolved_indicator_code, j.period_code,
            -- the row as the file had it, under the file's header (the ingest's JSON writes / as \\/)
            replace(to_json({{'地区代码': s.region_code_raw, '地区名称': s.region_name_raw,
                              '指标代码': s.indicator_code_raw, '指标名称': s.indicator_name_raw,
                              '统计期': s.period_raw, '数值': s.value_raw, '单位': s.unit_raw}}), '/', '\\/')
                as source_row_json
        from (select * exclude (value_raw) from rejected) j
        join raw_submissions s using (load_seq, row_number)
        join landing_files f using (load_seq)
        left join {_seed(seeds, "config/rejection_reasons.csv")} r on r.reason_code = j.rejection_reason
        """,
        "drop table judged",
    ]


# --- scoring and the other marts -------------------------------------------------------------------------------------
def marts_sql(seeds: Path, dimensions: list[str]) -> list[str]:
    dim_sums = ",\n".join(
        f"sum(case when dimension_code = '{d}' then score_points else 0 end) as {d}_points" for d in dimensions
    )
    dim_cols = ", ".join(f"cast({d}_points as {MEASURE}) as {d}_points" for d in dimensions)
    return [
        f"""
        create or replace table region_years as
        select cast(y.assessment_year as integer) as assessment_year, r.region_code, r.level,
            coalesce(own.class_code, parent.class_code) as class_code
        from {_seed(seeds, "config/assessment_years.csv")} y
        join regions r on {_year_range("cast(y.assessment_year as integer)", "r", "valid_from_year", "valid_to_year")}
        left join {_seed(seeds, "config/region_classes.csv")} own
            on own.region_code = r.region_code and {_year_range("cast(y.assessment_year as integer)", "own")}
        left join {_seed(seeds, "config/region_classes.csv")} parent
            on parent.region_code = r.parent_code and {_year_range("cast(y.assessment_year as integer)", "parent")}
        """,
        f"""
        create or replace table assessed as
        with rules as (
            select cast(y.assessment_year as integer) as assessment_year, ru.level, ru.class_code, ru.indicator_code,
                cast(ru.weight as {MEASURE}) as weight, ru.scoring_method,
                cast(nullif(ru.target_value, '') as {MEASURE}) as target_value,
                cast(nullif(ru.satisfactory_value, '') as {MEASURE}) as satisfactory_value,
                cast(nullif(ru.not_allowed_value, '') as {MEASURE}) as not_allowed_value,
                cast(sp.efficacy_base as double) as efficacy_base, cast(sp.efficacy_span as double) as efficacy_span,
                cast(sp.rank_step as double) as rank_step
            from {_seed(seeds, "config/indicator_rules.csv")} ru
            join {_seed(seeds, "config/assessment_years.csv")} y
                on {_year_range("cast(y.assessment_year as integer)", "ru")}
            left join {_seed(seeds, "config/scoring_parameters.csv")} sp
                on {_year_range("cast(y.assessment_year as integer)", "sp")}
        ), annual as (
            select region_code, indicator_code, assessment_year, submission_id, indicator_value
            from fct_indicator_values where is_current and period_type = 'year'
        )
        select g.assessment_year, g.level, g.class_code, g.region_code, ru.indicator_code, i.dimension_code,
            i.lead_department, i.direction, i.accumulation, ru.scoring_method, ru.weight, ru.target_value,
            ru.satisfactory_value, ru.not_allowed_value, ru.efficacy_base, ru.efficacy_span, ru.rank_step,
            a.submission_id, a.indicator_value, a.indicator_value is null as is_value_missing
        from region_years g
        join rules ru on ru.assessment_year = g.assessment_year and ru.level = g.level and ru.class_code = g.class_code
        join {_seed(seeds, "reference/indicators.csv")} i on i.indicator_code = ru.indicator_code
        left join annual a on a.region_code = g.region_code and a.indicator_code = ru.indicator_code
                          and a.assessment_year = g.assessment_year
        """,
        # one pass over each peer group: its size, best, worst and every rank
        f"""
        create or replace table fct_indicator_scores as
        with peers as (
            select *,
                count(*) over w as peer_group_size, count(indicator_value) over w as peer_values_count,
                case when direction = 'lower' then min(indicator_value) over w else max(indicator_value) over w end
                    as peer_best_value,
                case when direction = 'lower' then max(indicator_value) over w else min(indicator_value) over w end
                    as peer_worst_value,
                rank() over (partition by assessment_year, level, class_code, indicator_code
                             order by indicator_value is null,
                                      case when direction = 'lower' then indicator_value else -indicator_value end)
                    as rank_in_class
            from assessed
            window w as (partition by assessment_year, level, class_code, indicator_code)
        ), bounded as (
            select *, coalesce(satisfactory_value, peer_best_value) as hi,
                coalesce(not_allowed_value, peer_worst_value) as lo,
                case when target_value is null or indicator_value is null then null
                     when direction = 'lower' then indicator_value <= target_value
                     else indicator_value >= target_value end as is_target_met
            from peers
        ), coefficients as (
            select *,
                case when scoring_method <> 'efficacy' or indicator_value is null then null
                     when hi = lo then 100
                     else greatest(0, least(100, efficacy_base + efficacy_span
                          * cast(indicator_value - lo as double) / cast(hi - lo as double))) end as efficacy,
                case when scoring_method <> 'target' or indicator_value is null then null
                     when direction = 'lower' and indicator_value = 0 then case when is_target_met then 1 else 0 end
                     when direction = 'lower'
                         then greatest(0, least(1, cast(target_value as double) / cast(indicator_value as double)))
                     when target_value = 0 then case when is_target_met then 1 else 0 end
                     else greatest(0, least(1, cast(indicator_value as double) / cast(target_value as double)))
                end as ratio
            from bounded
        ), scored as (
            select *,
                case when indicator_value is null then 0
                     when scoring_method = 'efficacy' then cast(weight as double) * efficacy / 100
                     when scoring_method = 'target' then cast(weight as double) * ratio
                     when scoring_method = 'target_binary' then case when is_target_met then weight else 0 end
                     when scoring_method = 'rank'
                         then cast(weight as double) * greatest(0, 1 - rank_step * (rank_in_class - 1))
                end as points
            from coefficients
        )
        select assessment_year || '-' || region_code || '-' || indicator_code as indicator_score_key,
            assessment_year, level, class_code, region_code, indicator_code, dimension_code, lead_department,
            direction, scoring_method, weight, target_value, submission_id, indicator_value, is_value_missing,
            cast(peer_group_size as integer) as peer_group_size,
            cast(peer_values_count as integer) as peer_values_count, peer_best_value, peer_worst_value,
            case when scoring_method = 'efficacy' then hi end as satisfactory_value_used,
            case when scoring_method = 'efficacy' then lo end as not_allowed_value_used,
            cast(efficacy as {MEASURE}) as efficacy_coefficient, cast(ratio as {MEASURE}) as completion_ratio,
            is_target_met, cast(rank_in_class as integer) as rank_in_class,
            not is_value_missing and rank_in_class = 1 as is_ranked_first,
            not is_value_missing and rank_in_class <= 2 as is_in_class_top_two,
            cast(points as {MEASURE}) as score_points,
            cast(round(cast(points as {MEASURE}), 2) as {MEASURE}) as score_points_display,
            cast(weight - points as {MEASURE}) as points_lost
        from scored
        """,
        """
        create or replace table lineage as
        with predecessors as (
            select successor_code as region_code, count(*) as predecessor_count, min(region_code) as first_code
            from regions where nullif(successor_code, '') is not null group by all
        )
        select r.region_code, coalesce(p.predecessor_count, 0) as predecessor_count,
            case when p.predecessor_count = 1 then p.first_code end as continued_from_code,
            case when s.predecessor_count = 1 then r.successor_code else r.region_code end as lineage_code
        from regions r
        left join predecessors p on p.region_code = r.region_code
        left join predecessors s on s.region_code = r.successor_code
        """,
        f"""
        create or replace table fct_region_assessment as
        with points as (
            select assessment_year, region_code, count(*) as indicators_assessed,
                count(*) filter (where is_value_missing) as missing_values,
                count(*) filter (where is_ranked_first) as indicators_ranked_first,
                count(*) filter (where is_in_class_top_two) as indicators_in_class_top_two,
                {dim_sums},
                sum(weight) as weight_total, sum(score_points) as indicator_points
            from fct_indicator_scores group by all
        ), adjustments as (
            select cast(assessment_year as integer) as assessment_year, region_code,
                sum(case when adjustment_type = 'bonus' then cast(points as {MEASURE}) else 0 end) as bonus_points,
                sum(case when adjustment_type in ('deduction', 'provisional_deduction')
                         then cast(points as {MEASURE}) else 0 end) as deduction_points,
                bool_or(adjustment_type = 'veto') as is_vetoed
            from {_seed(seeds, "config/adjustments.csv")} group by all
        ), totals as (
            select g.assessment_year, g.region_code, g.level, g.class_code, p.* exclude (assessment_year, region_code),
                coalesce(a.bonus_points, 0) as bonus_points, coalesce(a.deduction_points, 0) as deduction_points,
                coalesce(a.is_vetoed, false) as is_vetoed,
                cast(p.indicator_points as decimal(28, 10)) + cast(coalesce(a.bonus_points, 0) as decimal(28, 10))
                    - cast(coalesce(a.deduction_points, 0) as decimal(28, 10)) as total_score
            from region_years g
            join points p on p.assessment_year = g.assessment_year and p.region_code = g.region_code
            left join adjustments a on a.assessment_year = g.assessment_year and a.region_code = g.region_code
        ), ranked as (
            select *,
                count(*) over (partition by assessment_year, level, class_code) as class_size,
                row_number() over (partition by assessment_year, level, class_code
                    order by total_score desc, indicators_ranked_first desc, region_code) as rank_in_class,
                row_number() over (partition by assessment_year, level
                    order by total_score desc, indicators_ranked_first desc, region_code) as rank_in_level,
                row_number() over (partition by assessment_year, level, class_code
                    order by is_vetoed, total_score desc, indicators_ranked_first desc, region_code) as tier_position
            from totals
        ), tiered as (
            select r.*, case when r.tier_position <= cast(q.first_tier_count as integer) then 1
                             when r.tier_position <= cast(q.first_tier_count as integer)
                                                   + cast(q.second_tier_count as integer) then 2
                             else 3 end as tier
            from ranked r
            join {_seed(seeds, "config/tier_quotas.csv")} q
                on q.level = r.level and q.class_code = r.class_code and {_year_range("r.assessment_year", "q")}
        ), with_lineage as (
            select t.*, n.tier_name_zh, l.lineage_code, l.predecessor_count
            from tiered t
            join lineage l on l.region_code = t.region_code
            left join {_seed(seeds, "config/tier_names.csv")} n on cast(n.tier as integer) = t.tier
        ), compared as (
            select c.*, p.rank_in_class as previous_rank_in_class,
                case when c.assessment_year = (select min(assessment_year) from region_years)
                         then 'first_assessment_year'
                     when p.region_code is null and c.predecessor_count > 1 then 'new_region_after_merger'
                     when p.region_code is null then 'no_previous_year'
                     when p.class_code <> c.class_code then 'class_changed'
                     when p.region_code = c.region_code then 'same_code'
                     else 'predecessor_code' end as previous_year_basis
            from with_lineage c
            left join with_lineage p on p.lineage_code = c.lineage_code and c.assessment_year = p.assessment_year + 1
        ), progress as (
            select *,
                case when previous_year_basis in ('same_code', 'predecessor_code')
                     then previous_rank_in_class - rank_in_class end as rank_change,
                assessment_year - row_number() over (partition by lineage_code, tier = 1 order by assessment_year)
                    as island
            from compared
        ), streaks as (
            select *, case when tier = 1 then row_number() over (partition by lineage_code, tier = 1, island
                                                                 order by assessment_year) else 0 end as streak
            from progress
        ), awards as (
            select s.assessment_year, s.region_code,
                row_number() over (partition by s.assessment_year, s.level
                                   order by s.rank_change desc, s.total_score desc, s.region_code)
                    <= cast(a.award_count as integer) as is_award
            from streaks s
            join {_seed(seeds, "config/progress_awards.csv")} a
                on a.level = s.level and {_year_range("s.assessment_year", "a")}
            where s.rank_change > 0
        )
        select s.assessment_year || '-' || s.region_code as region_assessment_key, s.assessment_year,
            s.region_code, s.level, s.class_code, cast(s.class_size as integer) as class_size,
            cast(s.indicators_assessed as integer) as indicators_assessed,
            cast(s.missing_values as integer) as missing_values,
            cast(s.indicators_ranked_first as integer) as indicators_ranked_first,
            cast(s.indicators_in_class_top_two as integer) as indicators_in_class_top_two,
            cast(s.weight_total as {MEASURE}) as weight_total,
            cast(s.indicator_points as {MEASURE}) as indicator_points, {dim_cols},
            cast(s.bonus_points as {MEASURE}) as bonus_points,
            cast(s.deduction_points as {MEASURE}) as deduction_points,
            s.is_vetoed, cast(s.total_score as {MEASURE}) as total_score,
            cast(round(s.total_score, 2) as {MEASURE}) as total_score_display,
            cast(s.rank_in_class as integer) as rank_in_class,
            cast(case when s.level = 'county' then s.rank_in_level end as integer) as province_rank,
            cast(s.tier as integer) as tier, s.tier_name_zh, s.previous_year_basis,
            cast(s.previous_rank_in_class as integer) as previous_rank_in_class,
            cast(s.rank_change as integer) as rank_change, cast(s.streak as integer) as first_tier_streak_years,
            coalesce(a.is_award, false) as is_progress_award
        from streaks s
        left join awards a on a.assessment_year = s.assessment_year and a.region_code = s.region_code
        """,
        f"""
        create or replace table fct_advanced_counties as
        with selected as (
            select a.*, cast(q.advanced_quota as integer) as advanced_quota, q.selection_rule, l.lineage_code,
                row_number() over (partition by a.assessment_year, a.class_code order by a.rank_in_class)
                    as position_among_eligible
            from fct_region_assessment a
            join {_seed(seeds, "config/advanced_county_quotas.csv")} q
                on q.class_code = a.class_code and {_year_range("a.assessment_year", "q")}
            join lineage l on l.region_code = a.region_code
            where a.level = 'county' and not a.is_vetoed
            qualify position_among_eligible <= cast(q.advanced_quota as integer)
        ), runs as (
            select *,
                assessment_year - row_number() over (partition by lineage_code order by assessment_year) as island,
                row_number() over (partition by lineage_code order by assessment_year) as times_listed
            from selected
        )
        select assessment_year || '-' || region_code as advanced_county_key, assessment_year, region_code,
            class_code, rank_in_class, province_rank, total_score, tier,
            cast(position_among_eligible as integer) as position_among_eligible, advanced_quota, selection_rule,
            cast(row_number() over (partition by lineage_code, island order by assessment_year) as integer)
                as advanced_streak_years,
            case when assessment_year = (select min(assessment_year) from region_years) then null
                 else times_listed = 1 end as is_first_time
        from runs
        """,
    ]


# --- checks: the gate's kinds of expectations as plain SQL counts ----------------------------------------------------
def monitoring_sql(seeds: Path) -> list[str]:
    """红绿双色 and the quarterly 红黄蓝 warnings, from the assessment grid and the current values."""
    return [
        # each region's values of the year before: its own code's, else the one code it continues
        """
        create or replace temp table previous_year as
        with sources as (
            select g.assessment_year, g.region_code,
                case when last.region_code is not null then g.region_code else l.continued_from_code end as source
            from region_years g
            join lineage l on l.region_code = g.region_code
            left join region_years last
                on last.region_code = g.region_code and last.assessment_year = g.assessment_year - 1
        )
        select s.assessment_year, v.quarter, s.region_code, v.indicator_code, v.indicator_value as previous_value
        from sources s
        join fct_indicator_values v
            on v.region_code = s.source and v.assessment_year = s.assessment_year - 1
           and v.is_current and v.indicator_value is not null
        """,
        f"""
        create or replace table fct_two_colour as
        with valued as (
            select v.period_code, v.period_type, v.assessment_year, v.quarter, v.region_code, a.level, a.class_code,
                v.indicator_code, a.direction, v.indicator_value,
                avg(v.indicator_value) over (partition by v.period_code, a.level, a.class_code, v.indicator_code)
                    as class_average_value
            from fct_indicator_values v
            join assessed a on a.region_code = v.region_code and a.assessment_year = v.assessment_year
                           and a.indicator_code = v.indicator_code
            where v.is_current and v.indicator_value is not null
        )
        select period_code || '-' || v.region_code || '-' || v.indicator_code as two_colour_key, period_code,
            period_type, v.assessment_year, v.quarter, v.region_code, level, class_code, v.indicator_code, direction,
            cast(indicator_value as {MEASURE}) as indicator_value,
            cast(class_average_value as {MEASURE}) as class_average_value,
            case when indicator_value = class_average_value then 'equal'
                 when (direction = 'higher') = (indicator_value > class_average_value) then 'green'
                 else 'red' end as class_colour,
            cast(p.previous_value as {MEASURE}) as last_year_value,
            cast(indicator_value - p.previous_value as {MEASURE}) as change_on_last_year,
            case when p.previous_value is null then 'no_previous_year'
                 when indicator_value = p.previous_value then 'unchanged'
                 when (direction = 'higher') = (indicator_value > p.previous_value) then 'improved'
                 else 'declined' end as trend_on_last_year
        from valued v
        left join previous_year p
            on p.region_code = v.region_code and p.indicator_code = v.indicator_code
           and p.assessment_year = v.assessment_year and coalesce(p.quarter, 0) = coalesce(v.quarter, 0)
        """,
        f"""
        create or replace table fct_monitoring_warnings as
        with targets as (
            select cast(y.assessment_year as integer) as assessment_year, t.level, t.class_code, t.indicator_code,
                t.target_kind, cast(t.target_value as {MEASURE}) as target_value
            from {_seed(seeds, "config/monitoring_targets.csv")} t
            join {_seed(seeds, "config/assessment_years.csv")} y
                on {_year_range("cast(y.assessment_year as integer)", "t")}
        ), thresholds as (
            select *, cast(red_shortfall_pct as {MEASURE}) as red, cast(yellow_shortfall_pct as {MEASURE}) as yellow,
                cast(blue_shortfall_pct as {MEASURE}) as blue
            from {_seed(seeds, "config/warning_thresholds.csv")}
        ), grid as (
            select a.assessment_year, q.quarter, a.region_code, l.lineage_code, a.level, a.class_code,
                a.indicator_code, a.direction, a.accumulation
            from assessed a
            join lineage l on l.region_code = a.region_code
            cross join (values (1), (2), (3), (4)) q(quarter)
        ), targeted as (
            select g.*, v.indicator_value as ytd_value, t.target_kind, t.target_value, p.previous_value,
                case when t.target_kind = 'annual_level' then t.target_value
                     when t.target_kind = 'growth_over_previous_year'
                         then p.previous_value * (1 + (cast(t.target_value as double) / cast(100 as double)))
                end as annual_target,
                th.red, th.yellow, th.blue
            from grid g
            left join fct_indicator_values v
                on v.region_code = g.region_code and v.indicator_code = g.indicator_code
               and v.assessment_year = g.assessment_year and v.quarter = g.quarter and v.is_current
               and v.period_type = 'quarter'
            left join targets t
                on t.assessment_year = g.assessment_year and t.level = g.level and t.class_code = g.class_code
               and t.indicator_code = g.indicator_code
            left join previous_year p
                on p.assessment_year = g.assessment_year and p.region_code = g.region_code
               and p.indicator_code = g.indicator_code and p.quarter is null
            join thresholds th on {_year_range("g.assessment_year", "th")}
        ), pro_rated as (
            select *, case when accumulation = 'flow'
                           then cast(annual_target * quarter as double) / cast(4 as double)
                           else annual_target end as pro_rata_target
            from targeted
        ), shortfalls as (
            select *, cast(case
                when ytd_value is null or pro_rata_target is null then null
                when direction = 'higher' and ytd_value >= pro_rata_target then 0
                when direction = 'lower' and ytd_value <= pro_rata_target then 0
                when pro_rata_target = 0 then 100
                when direction = 'higher'
                    then cast((pro_rata_target - ytd_value) * 100 as double) / cast(abs(pro_rata_target) as double)
                else cast((ytd_value - pro_rata_target) * 100 as double) / cast(abs(pro_rata_target) as double)
                end as {MEASURE}) as shortfall_pct
            from pro_rated
        ), levelled as (
            select *, shortfall_pct is not null as is_evaluated,
                case when shortfall_pct > red then 'red' when shortfall_pct > yellow then 'yellow'
                     when shortfall_pct > blue then 'blue' else 'none' end as warning_level,
                assessment_year || 'Q' || quarter as period_code, assessment_year * 4 + quarter as quarter_sequence
            from shortfalls
        ), stepped as (
            -- one sort for both passes: the quarter before (lag) and where the current run of warnings began
            select *, warning_level <> 'none' as is_warning,
                lag(warning_level <> 'none') over w as was_warning_last_quarter,
                lag(quarter_sequence) over w as previous_quarter_sequence
            from levelled
            window w as (partition by lineage_code, indicator_code order by quarter_sequence)
        ), runs as (
            select *,
                max(case when is_warning and not (coalesce(was_warning_last_quarter, false)
                                                   and previous_quarter_sequence = quarter_sequence - 1)
                         then quarter_sequence end)
                    over (partition by lineage_code, indicator_code order by quarter_sequence
                          rows between unbounded preceding and current row) as run_start
            from stepped
        )
        select period_code || '-' || region_code || '-' || indicator_code as monitoring_key, period_code,
            assessment_year, quarter, quarter = 2 as is_half_year_evaluation, region_code, level, class_code,
            indicator_code, direction, accumulation, cast(ytd_value as {MEASURE}) as ytd_value,
            ytd_value is null as is_value_missing, target_kind, cast(target_value as {MEASURE}) as target_value,
            cast(previous_value as {MEASURE}) as previous_year_value,
            cast(annual_target as {MEASURE}) as annual_target, cast(pro_rata_target as {MEASURE}) as pro_rata_target,
            shortfall_pct, warning_level, is_warning,
            -- a run is consecutive quarters, so its length is the distance from its first quarter
            cast(case when is_warning then quarter_sequence - run_start + 1 else 0 end as integer)
                as consecutive_warning_quarters,
            case when is_warning
                 then ((run_start - 1) // 4) || 'Q' || (run_start - 4 * ((run_start - 1) // 4)) end
                as warning_since_period_code,
            is_evaluated and not is_warning and coalesce(was_warning_last_quarter, false)
                and previous_quarter_sequence = quarter_sequence - 1 as is_cleared,
            is_evaluated
        from runs
        """,
        "drop table assessed",
    ]


def checks_sql(seeds: Path) -> dict[str, str]:
    """Each check's query returns the number of offending rows (0: passed)."""
    checks: dict[str, str] = {}
    for mart, key in MARTS.items():
        cols = ", ".join(key)
        checks[f"{mart}: key not null and unique"] = (
            f"select count(*) filter (where {' or '.join(f'{c} is null' for c in key)}) "
            f"+ (count(*) - count(distinct ({cols}))) from {mart}"
        )
    checks["raw rows reconcile with accepted + rejected"] = (
        "select abs((select count(*) from raw_submissions) - (select count(*) from fct_indicator_values)"
        " - (select count(*) from fct_rejected_submissions))"
    )
    checks["rejection reasons in their seed"] = (
        f"select count(*) from fct_rejected_submissions where rejection_reason not in "
        f"(select reason_code from {_seed(seeds, 'config/rejection_reasons.csv')}) or rejection_description is null"
    )
    checks["accepted values: region, indicator, period not null"] = (
        "select count(*) from fct_indicator_values where region_code is null or indicator_code is null "
        "or period_code is null or (indicator_value is null and not is_missing_value)"
    )
    checks["one current value per key"] = (
        "select count(*) from (select region_code, indicator_code, period_code from fct_indicator_values "
        "where is_current group by all having count(*) <> 1)"
    )
    checks["points within 0..weight, rank at least 1"] = (
        "select count(*) from fct_indicator_scores where score_points < 0 or score_points > weight + 1e-9 "
        "or rank_in_class < 1 or rank_in_class > peer_group_size"
    )
    checks["tiers 1..3 and counts equal their quotas"] = f"""
        select count(*) from (
            select a.assessment_year, a.level, a.class_code,
                count(*) filter (where tier = 1) as first, count(*) filter (where tier = 2) as second,
                any_value(cast(q.first_tier_count as integer)) as q1, any_value(cast(q.second_tier_count as integer))
                    as q2, count(*) filter (where tier not in (1, 2, 3)) as bad, count(*) as n
            from fct_region_assessment a
            join {_seed(seeds, "config/tier_quotas.csv")} q
                on q.level = a.level and q.class_code = a.class_code and {_year_range("a.assessment_year", "q")}
            group by all
        ) where bad > 0 or first <> least(q1, n) or second <> least(q2, greatest(n - q1, 0))
    """
    return checks


# --- the job --------------------------------------------------------------------------------------------------------
def run(landing: Path, seeds: Path, out: Path, *, peak=None) -> dict:
    """The floor's job on these files; returns each stage's seconds (and with `peak`, an object with reset() and
    peak_mb() such as tools.bench.TreePeak, each stage's peak memory), the marts' row counts and the checks."""
    landing, seeds, out = Path(landing).resolve(), Path(seeds).resolve(), Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    work = out / "floor.duckdb"
    for stale in (work, out / "floor.duckdb.wal"):
        stale.unlink(missing_ok=True)
    shutil.rmtree(out / "published", ignore_errors=True)
    result: dict = {"stages": {}}
    con = duckdb.connect(str(work))
    if limit := os.environ.get("HQD_DUCKDB_MEMORY_LIMIT"):  # the same cap as the warehouse's DuckDB
        con.execute(f"set memory_limit = '{limit}'")
    con.execute(f"set temp_directory = {_q(str(out / 'floor_tmp'))}")
    con.execute("set enable_progress_bar = false")

    def stage(name: str, work) -> None:
        if peak is not None:
            peak.reset()
        started = time.perf_counter()
        for statement in work() if callable(work) else work:
            sql, params = statement if isinstance(statement, tuple) else (statement, None)
            con.execute(sql, params)
        result["stages"][name] = {"seconds": time.perf_counter() - started}
        if peak is not None:
            result["stages"][name]["peak_mb"] = peak.peak_mb()

    def landing_stage() -> list[str]:
        # finding the files is part of landing, as the ingest lists its folder
        files = sorted(p for p in landing.rglob("*.csv") if not p.name.startswith((".", "~$")))
        result["files"] = len(files)
        return landing_sql(landing, files)

    def marts_stage() -> list[str]:
        dimensions = con.execute(
            f"select dimension_code from {_seed(seeds, 'reference/dimensions.csv')} order by all"
        ).fetchall()
        return marts_sql(seeds, [d for (d,) in dimensions]) + monitoring_sql(seeds)

    checks = checks_sql(seeds)
    failed: dict[str, int] = {}

    def checks_stage() -> list[str]:
        for name, sql in checks.items():
            if n := con.execute(sql).fetchone()[0]:
                failed[name] = n
        return []

    def export_stage() -> list[str]:
        export(con, out / "published")
        return []

    stage("landing", landing_stage)
    stage("validation", lambda: validation_sql(seeds))
    stage("marts", marts_stage)
    stage("checks", checks_stage)
    stage("export", export_stage)
    result["checks"] = len(checks)
    result["checks_failed"] = failed
    result["rows"] = {m: con.execute(f"select count(*) from {m}").fetchone()[0] for m in MARTS}
    result["rows"]["raw_submissions"] = con.execute("select count(*) from raw_submissions").fetchone()[0]
    con.close()
    return result


def export(con: duckdb.DuckDBPyConnection, publish_dir: Path) -> Path:
    """The marts into a new release (a DuckDB file and Parquet), then `current` switched to it by a rename."""
    release = publish_dir / f"release-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}"
    (release / "parquet").mkdir(parents=True)
    con.execute(f"attach {_q(str(release / 'hqd_marts.duckdb'))} as pub")
    con.execute("create schema pub.marts")
    for mart in MARTS:
        con.execute(f"create table pub.marts.{mart} as from {mart}")
        con.execute(f"copy {mart} to {_q(str(release / 'parquet' / (mart + '.parquet')))} (format parquet)")
    con.execute("detach pub")
    (release / "manifest.json").write_text(json.dumps({"marts": list(MARTS)}, indent=2))
    link = publish_dir / "current"
    tmp = publish_dir / "current.tmp"
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(release.name)
    previous = link.resolve() if link.is_symlink() else None
    tmp.replace(link)  # atomic
    if previous and previous != release.resolve() and previous.is_dir():
        shutil.rmtree(previous, ignore_errors=True)
    return release


# --- comparison with the warehouse ------------------------------------------------------------------------------------
NUMERIC = ("DECIMAL", "DOUBLE", "FLOAT", "REAL", "HUGEINT", "BIGINT", "INTEGER", "SMALLINT")


def compare_marts(
    ours_db: Path,
    floor_db: Path,
    *,
    columns: bool | Iterable[str] = True,
    tolerance: float = 1e-8,
    memory_limit: str | None = None,
) -> dict:
    """Per mart: rows on each side, keys on one side only, and per column shared by both (every mart with
    columns=True, or the marts named) the rows whose values differ (numbers beyond `tolerance`, relative above 1,
    else exactly). Which of ours' columns the floor does not build is listed too. Everything is counted in DuckDB,
    joined on the mart's primary key."""
    with_columns = set(MARTS) if columns is True else set(columns or ())
    con = duckdb.connect(str(ours_db))  # the warehouse's own configuration (dbt-duckdb may hold it in-process)
    try:
        con.execute(f"attach {_q(str(floor_db))} as floor_db (read_only)")
        con.execute("set enable_progress_bar = false")
        if limit := memory_limit or os.environ.get("HQD_DUCKDB_MEMORY_LIMIT"):
            con.execute(f"set memory_limit = '{limit}'")
        report: dict = {}
        for mart, key in MARTS.items():
            ours_cols = dict(con.execute(f"select column_name, column_type from (describe marts.{mart})").fetchall())
            floor_cols = dict(
                con.execute(f"select column_name, column_type from (describe floor_db.main.{mart})").fetchall()
            )
            entry: dict = {
                "rows_ours": con.execute(f"select count(*) from marts.{mart}").fetchone()[0],
                "rows_floor": con.execute(f"select count(*) from floor_db.main.{mart}").fetchone()[0],
                "columns_not_in_floor": [c for c in ours_cols if c not in floor_cols],
                "columns_not_in_ours": [c for c in floor_cols if c not in ours_cols],
            }
            on = " and ".join(f"o.{k} = f.{k}" for k in key)
            # loaded_at is the clock at landing: never equal between two runs
            shared = [c for c in ours_cols if c in floor_cols and c not in (*key, "loaded_at")]
            shared = shared if mart in with_columns else []
            tests = []
            for c in shared:
                if ours_cols[c].upper().startswith(NUMERIC) and floor_cols[c].upper().startswith(NUMERIC):
                    a, b = f"cast(o.{c} as double)", f"cast(f.{c} as double)"
                    tests.append(
                        f"count(*) filter (where (({a}) is null) <> (({b}) is null) "
                        f"or abs({a} - {b}) > {tolerance} * greatest(1, abs({a})))"
                    )
                else:
                    tests.append(f"count(*) filter (where o.{c} is distinct from f.{c})")
            found = con.execute(
                f"select count(*) filter (where f.{key[0]} is null), count(*) filter (where o.{key[0]} is null)"
                + "".join(f", {t}" for t in tests)
                + f" from marts.{mart} o full join floor_db.main.{mart} f on {on}"
            ).fetchone()
            entry["only_ours"], entry["only_floor"] = found[0], found[1]
            entry["columns_differing"] = {c: n for c, n in zip(shared, found[2:], strict=True) if n}
            report[mart] = entry
        return report
    finally:
        con.close()


def differences(report: dict) -> list[str]:
    """The comparison's findings as sentences; empty when the floor equals ours."""
    problems = []
    for mart, e in report.items():
        if e["rows_ours"] != e["rows_floor"]:
            problems.append(f"{mart}: {e['rows_ours']:,} rows in ours, {e['rows_floor']:,} in the floor")
        if e["only_ours"] or e["only_floor"]:
            problems.append(f"{mart}: {e['only_ours']} keys only in ours, {e['only_floor']} only in the floor")
        for column, n in e.get("columns_differing", {}).items():
            problems.append(f"{mart}.{column}: {n:,} rows differ")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--landing", type=Path, required=True)
    parser.add_argument("--seeds", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    result = run(args.landing, args.seeds, args.out)
    print(json.dumps(result, indent=2))
    return 1 if result["checks_failed"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
