"""What the tier-robustness mart costs: its SQL alone, on a built warehouse, for the years and draws asked.

    .venv/bin/python -m tools.bench_robustness --warehouse data/warehouse/hqd.duckdb --years 2024 --draws 1000
    .venv/bin/python -m tools.bench_robustness --warehouse data/warehouse/hqd.duckdb --years 2018-2024
    .venv/bin/python -m tools.bench_robustness --synthetic 330 --years 2024     # national shape, no build needed

The model's SQL is compiled by dbt as a full build compiles it (no incremental filter), with the
`robustness_parameters` seed replaced by one row holding the warehouse's parameters for the asked years and
draw count, and run into a temporary table on a read-only connection to the warehouse (the writer's file must
not be open elsewhere; HQD_DUCKDB_MEMORY_LIMIT caps DuckDB as in the build). Each measurement runs in a fresh
child process so the peak is its own: it prints the draws, years, the draw × region rows computed, the mart
rows, wall seconds and the child's peak resident memory in MB. A developer tool, not shipped, not a test.

`--synthetic N` measures at another scale without building it: a throwaway DuckDB file holding only what the model
reads, in the national configuration's shape (tools/national.py: N prefecture cities and 8.6 counties each, classes
25/35/40 %, 100 indicators of weight 1, tier quotas 30/40 % and 19 % of the counties advanced per class), with
random achievements; the cost depends on the shape (draws × regions × indicators), not on the values.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[1]
MODEL = "fct_rank_robustness"


def compiled_sql() -> str:
    """The model's SQL of a full build, its relations named without a database (the warehouse's default)."""
    with tempfile.TemporaryDirectory() as target:
        env = {**os.environ, "HQD_WAREHOUSE": ":memory:"}
        subprocess.run(
            [str(PROJECT_DIR / ".venv" / "bin" / "dbt"), "compile", "--quiet", "-s", MODEL, "--target-path", target],
            cwd=PROJECT_DIR,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        path = next(Path(target).rglob(f"compiled/**/{MODEL}.sql"))
        return path.read_text(encoding="utf-8").replace('"memory".', "")


def _parameters_row(con, years: tuple[int, int], draws: int | None) -> str:
    row = con.execute(
        """select draw_count, weight_spread, method_switch_share, random_seed, lower_percentile, upper_percentile,
            robust_share, basis
        from config.robustness_parameters where ? between year_from and coalesce(year_to, 9999)""",
        [years[1]],
    ).fetchone()
    if row is None:
        raise SystemExit(f"no robustness_parameters row covers {years[1]}")
    count, spread, share, seed, low, high, robust, _ = row
    return (
        f"(select {years[0]} as year_from, {years[1]} as year_to, {draws or count} as draw_count, "
        f"cast({spread} as decimal(10, 4)) as weight_spread, cast({share} as decimal(10, 4)) as method_switch_share, "
        f"cast({seed} as bigint) as random_seed, {low} as lower_percentile, {high} as upper_percentile, "
        f"cast({robust} as decimal(10, 4)) as robust_share)"
    )


def measure(warehouse: str, years: tuple[int, int], draws: int | None, threads: int | None) -> dict:
    """Run in this process (a child of the caller): the model's SQL once, timed."""
    import duckdb

    sql = json.loads(os.environ["HQD_BENCH_SQL"])
    con = duckdb.connect(warehouse, read_only=True)
    if threads:
        con.execute(f"set threads = {threads}")
    if os.environ.get("HQD_DUCKDB_MEMORY_LIMIT"):
        con.execute(f"set memory_limit = '{os.environ['HQD_DUCKDB_MEMORY_LIMIT']}'")
    parameters = _parameters_row(con, years, draws)
    sql = re.sub(r'"?hqd"?\."?config"?\."?robustness_parameters"?', parameters, sql)
    sql = re.sub(r'"config"\."robustness_parameters"', parameters, sql)
    started = time.perf_counter()
    con.execute(f"create temp table bench_result as {sql}")
    seconds = time.perf_counter() - started
    rows, draw_count, regions = con.execute(
        "select count(*), max(draws), count(distinct region_code) from bench_result"
    ).fetchone()
    return {
        "years": f"{years[0]}-{years[1]}",
        "draws": draw_count,
        "mart_rows": rows,
        "draw_region_rows": rows * (draw_count or 0),
        "seconds": round(seconds, 2),
        "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def synthetic_warehouse(path: Path, prefectures: int, years: tuple[int, int], seed: int = 7) -> None:
    """Only the relations the model reads, in the national configuration's shape, filled with random scores."""
    import duckdb

    counties = round(prefectures * 8.6)
    con = duckdb.connect(str(path))
    con.execute(f"select setseed({seed / 100})")
    con.execute("create schema config; create schema marts")
    con.execute(
        f"create table config.assessment_years as select range::integer as assessment_year "
        f"from range({years[0]}, {years[1] + 1})"
    )
    con.execute(
        """create table config.robustness_parameters as select 2018 as year_from, null::integer as year_to,
        1000 as draw_count, 0.2::decimal(10, 4) as weight_spread, 0::decimal(10, 4) as method_switch_share,
        20250315::bigint as random_seed, 5 as lower_percentile, 95 as upper_percentile,
        0.95::decimal(10, 4) as robust_share, 'synthetic' as basis"""
    )
    con.execute(
        """create table config.robustness_method_switches (year_from integer, year_to integer, level varchar,
        indicator_code varchar, alternative_method varchar, basis varchar)"""
    )
    con.execute(
        """create table config.scoring_parameters as select 2018 as year_from, null::integer as year_to,
        60::decimal(10, 4) as efficacy_base, 40::decimal(10, 4) as efficacy_span, 0.05::decimal(10, 4) as rank_step"""
    )
    con.execute(
        f"""create table marts.regions as
        select 'C' || lpad(i::varchar, 4, '0') as region_code, 'city' as level,
            case when i % 20 < 5 then 'I' when i % 20 < 12 then 'II' else 'III' end as class_code
        from range({prefectures}) t(i)
        union all
        select 'K' || lpad(i::varchar, 5, '0'), 'county',
            case when i % 20 < 5 then 'I' when i % 20 < 12 then 'II' else 'III' end
        from range({counties}) t(i)"""
    )
    con.execute(
        """create table config.tier_quotas as
        select 2018 as year_from, null::integer as year_to, level, class_code,
            (count(*) * 0.3)::integer as first_tier_count, (count(*) * 0.4)::integer as second_tier_count
        from marts.regions group by level, class_code"""
    )
    con.execute(
        """create table config.advanced_county_quotas as
        select 2018 as year_from, null::integer as year_to, class_code,
            (count(*) * 0.19)::integer as advanced_quota, 'best_total_in_class_without_veto' as selection_rule
        from marts.regions where level = 'county' group by class_code"""
    )
    con.execute(
        """create table marts.fct_indicator_scores as
        select y.assessment_year, r.region_code, r.level, r.class_code,
            'N' || lpad(k::varchar, 3, '0') as indicator_code, 'efficacy' as scoring_method,
            1::decimal(38, 10) as weight, random()::decimal(38, 10) as score_points,
            random()::decimal(38, 10) as indicator_value, 1 as rank_in_class, 'higher' as direction,
            null::decimal(38, 10) as target_value, null::decimal(38, 10) as satisfactory_value_used,
            null::decimal(38, 10) as not_allowed_value_used, null::decimal(38, 10) as peer_best_value,
            null::decimal(38, 10) as peer_worst_value
        from config.assessment_years as y cross join marts.regions as r cross join range(1, 101) t(k)"""
    )
    con.execute(
        """create table marts.fct_region_assessment as
        with totals as (
            select assessment_year, region_code, level, class_code, sum(score_points) as total
            from marts.fct_indicator_scores group by all
        ), ranked as (
            select *, count(*) over (partition by assessment_year, level, class_code) as class_size,
                row_number() over (partition by assessment_year, level, class_code order by total desc) as rank_in_class
            from totals
        )
        select ranked.assessment_year, ranked.region_code, ranked.level, ranked.class_code,
            ranked.class_size::integer as class_size, 0::decimal(38, 10) as bonus_points,
            0::decimal(38, 10) as deduction_points, false as is_vetoed, 0 as indicators_ranked_first,
            ranked.rank_in_class::integer as rank_in_class,
            case when rank_in_class <= q.first_tier_count then 1
                when rank_in_class <= q.first_tier_count + q.second_tier_count then 2 else 3 end as tier
        from ranked join config.tier_quotas as q using (level, class_code)"""
    )
    con.execute(
        """create table marts.fct_advanced_counties as
        select a.assessment_year, a.region_code from marts.fct_region_assessment as a
        join config.advanced_county_quotas as q using (class_code)
        where a.level = 'county' and a.rank_in_class <= q.advanced_quota"""
    )
    con.close()


def _years(text: str) -> tuple[int, int]:
    first, _, last = text.partition("-")
    return int(first), int(last or first)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", help="a built warehouse (or --synthetic)")
    parser.add_argument("--synthetic", type=int, metavar="PREFECTURES", help="national shape with N prefectures")
    parser.add_argument("--years", required=True, help="2024 or 2018-2024")
    parser.add_argument("--draws", type=int, help="default: the seed's draw_count")
    parser.add_argument("--threads", type=int)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(measure(args.warehouse, _years(args.years), args.draws, args.threads)))
        return
    if not args.warehouse and not args.synthetic:
        parser.error("give --warehouse or --synthetic")
    env = {**os.environ, "HQD_BENCH_SQL": json.dumps(compiled_sql())}
    with tempfile.TemporaryDirectory() as scratch:
        warehouse = args.warehouse
        if args.synthetic:
            warehouse = str(Path(scratch) / "synthetic.duckdb")
            synthetic_warehouse(Path(warehouse), args.synthetic, _years(args.years))
        _measure_in_child(args, warehouse, env)


def _measure_in_child(args: argparse.Namespace, warehouse: str, env: dict[str, str]) -> None:
    command = [sys.executable, "-m", "tools.bench_robustness", "--child", "--warehouse", warehouse]
    command += ["--years", args.years] + (["--draws", str(args.draws)] if args.draws else [])
    command += ["--threads", str(args.threads)] if args.threads else []
    result = subprocess.run(command, cwd=PROJECT_DIR, env=env, check=True, capture_output=True, text=True)
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    print(
        f"{MODEL}: years {figures['years']}, {figures['draws']} draws, {figures['mart_rows']} regions × years, "
        f"{figures['draw_region_rows']:,} draw × region rows, {figures['seconds']} s, peak {figures['peak_mb']} MB"
    )


if __name__ == "__main__":
    main()
