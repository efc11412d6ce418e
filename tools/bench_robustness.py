"""What the tier-robustness mart costs: its SQL alone, on a built warehouse, for the years and draws asked.

    .venv/bin/python -m tools.bench_robustness --warehouse data/warehouse/hqd.duckdb --years 2024 --draws 1000
    .venv/bin/python -m tools.bench_robustness --warehouse data/warehouse/hqd.duckdb --years 2018-2024

The model's SQL is compiled by dbt as a full build compiles it (no incremental filter), with the
`robustness_parameters` seed replaced by one row holding the warehouse's parameters for the asked years and
draw count, and run into a temporary table on a read-only connection to the warehouse (the writer's file must
not be open elsewhere). Each measurement runs in a fresh child process so the peak is its own: it prints the
draws, years, the draw × region rows computed, the mart rows, wall seconds and the child's peak resident memory
in MB. A developer tool, not shipped, not a test.
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


def _years(text: str) -> tuple[int, int]:
    first, _, last = text.partition("-")
    return int(first), int(last or first)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", required=True)
    parser.add_argument("--years", required=True, help="2024 or 2018-2024")
    parser.add_argument("--draws", type=int, help="default: the seed's draw_count")
    parser.add_argument("--threads", type=int)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(measure(args.warehouse, _years(args.years), args.draws, args.threads)))
        return
    env = {**os.environ, "HQD_BENCH_SQL": json.dumps(compiled_sql())}
    command = [sys.executable, "-m", "tools.bench_robustness", "--child", "--warehouse", args.warehouse]
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
