"""The two baselines of `make bench`: the same indicator scoring and region ranking as the warehouse, done
(a) as plain DuckDB SQL run directly on the landing files and the configuration CSVs — no dbt, no Dagster, no
    lineage, validation, monitoring or publication: the lower bound of what the scoring costs on this machine;
(b) as a straightforward pandas program — what a team would write without a warehouse.

Both read every landing file (the long template layout, as orchestration/national.py writes it), keep the annual
values (the latest file wins a repeated key), and compute per (year, level, class, indicator) peer group the
rank (equal values share the better rank, missing last) and the points by the four methods, then per region the
total with adjustments and the rank in class (total desc, indicators ranked first desc, region code). They return
the same two frames as scores_from_warehouse(), so orchestration/bench.py can compare all three on every value.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

SCORE_COLUMNS = ["assessment_year", "region_code", "indicator_code", "score_points", "rank_in_class"]
REGION_COLUMNS = ["assessment_year", "region_code", "total_score", "rank_in_class"]


def scores_from_warehouse(con: duckdb.DuckDBPyConnection) -> tuple[pd.DataFrame, pd.DataFrame]:
    scores = con.execute(
        "select assessment_year, region_code, indicator_code, cast(score_points as double) as score_points, "
        "rank_in_class from marts.fct_indicator_scores"
    ).df()
    regions = con.execute(
        "select assessment_year, region_code, cast(total_score as double) as total_score, rank_in_class "
        "from marts.fct_region_assessment"
    ).df()
    return scores, regions


# --- (a) plain DuckDB SQL ----------------------------------------------------------------------------------------
DUCKDB_SQL = """
create or replace temp table submitted as
select filename, region_code, indicator_code, period, value_text
from read_csv(?, header = true, auto_detect = false, delim = ',', filename = true,
              columns = {'region_code': 'varchar', 'region_name': 'varchar', 'indicator_code': 'varchar',
                         'indicator_name': 'varchar', 'period': 'varchar', 'value_text': 'varchar', 'unit': 'varchar'});

create or replace temp table annual as
select region_code, indicator_code, cast(period as integer) as year,
       arg_max(try_cast(nullif(trim(value_text), '') as double), filename) as value
from submitted
where regexp_full_match(period, '[0-9]{4}')
group by all;

create or replace temp table region_years as
select y.assessment_year, r.region_code, r.level, coalesce(own.class_code, parent.class_code) as class_code
from (select cast(assessment_year as integer) as assessment_year
      from read_csv($seeds || '/config/assessment_years.csv', all_varchar = true)) y
join read_csv($seeds || '/reference/regions.csv', all_varchar = true) r
  on y.assessment_year between cast(r.valid_from_year as integer) and coalesce(cast(r.valid_to_year as integer), 9999)
left join read_csv($seeds || '/config/region_classes.csv', all_varchar = true) own
  on own.region_code = r.region_code
 and y.assessment_year between cast(own.year_from as integer) and coalesce(cast(own.year_to as integer), 9999)
left join read_csv($seeds || '/config/region_classes.csv', all_varchar = true) parent
  on parent.region_code = r.parent_code
 and y.assessment_year between cast(parent.year_from as integer) and coalesce(cast(parent.year_to as integer), 9999);

create or replace temp table assessed as
select g.assessment_year, g.region_code, g.level, g.class_code, ru.indicator_code, i.direction,
       ru.scoring_method, cast(ru.weight as double) as weight, cast(ru.target_value as double) as target_value,
       cast(ru.satisfactory_value as double) as satisfactory_value,
       cast(ru.not_allowed_value as double) as not_allowed_value, a.value
from region_years g
join read_csv($seeds || '/config/indicator_rules.csv', all_varchar = true) ru
  on ru.level = g.level and ru.class_code = g.class_code
 and g.assessment_year between cast(ru.year_from as integer) and coalesce(cast(ru.year_to as integer), 9999)
join read_csv($seeds || '/reference/indicators.csv', all_varchar = true) i on i.indicator_code = ru.indicator_code
left join annual a
  on a.region_code = g.region_code and a.indicator_code = ru.indicator_code and a.year = g.assessment_year;

create or replace temp table scored as
with peers as (
    select *,
        case when direction = 'lower' then min(value) over w else max(value) over w end as best,
        case when direction = 'lower' then max(value) over w else min(value) over w end as worst,
        rank() over (partition by assessment_year, level, class_code, indicator_code
                     order by value is null, case when direction = 'lower' then value else -value end) as rank_in_class
    from assessed
    window w as (partition by assessment_year, level, class_code, indicator_code)
), bounded as (
    select *, coalesce(satisfactory_value, best) as hi, coalesce(not_allowed_value, worst) as lo,
        case when direction = 'lower' then value <= target_value else value >= target_value end as met
    from peers
)
select assessment_year, region_code, level, class_code, indicator_code, rank_in_class,
    case
        when value is null then 0
        when scoring_method = 'efficacy' then
            weight / 100
            * (case when hi = lo then 100 else greatest(0, least(100, 60 + 40 * (value - lo) / (hi - lo))) end)
        when scoring_method = 'target' then weight * (case
            when direction = 'lower' and value = 0 then case when met then 1 else 0 end
            when direction = 'lower' then greatest(0, least(1, target_value / value))
            when target_value = 0 then case when met then 1 else 0 end
            else greatest(0, least(1, value / target_value)) end)
        when scoring_method = 'target_binary' then case when met then weight else 0 end
        else weight * greatest(0, 1 - 0.05 * (rank_in_class - 1))
    end as score_points,
    value is not null and rank_in_class = 1 as first
from bounded;

create or replace temp table region_totals as
with adjustments as (
    select cast(assessment_year as integer) as assessment_year, region_code,
        sum(case when adjustment_type = 'bonus' then cast(points as double) else 0 end)
        - sum(case when adjustment_type in ('deduction', 'provisional_deduction')
                   then cast(points as double) else 0 end) as adjustment
    from read_csv($seeds || '/config/adjustments.csv', all_varchar = true)
    group by all
), totals as (
    select s.assessment_year, s.region_code, s.level, s.class_code,
        sum(s.score_points) + coalesce(any_value(a.adjustment), 0) as total_score,
        count(*) filter (where s.first) as firsts
    from scored s
    left join adjustments a on a.assessment_year = s.assessment_year and a.region_code = s.region_code
    group by all
)
select assessment_year, region_code, total_score,
    row_number() over (partition by assessment_year, level, class_code
                       order by total_score desc, firsts desc, region_code) as rank_in_class
from totals;
"""


def duckdb_scores(landing_dir: Path, seeds_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    files = sorted(str(p) for p in Path(landing_dir).rglob("*.csv"))
    con = duckdb.connect()
    if limit := os.environ.get("HQD_DUCKDB_MEMORY_LIMIT"):  # the same cap as the warehouse's DuckDB
        con.execute(f"set memory_limit = '{limit}'")
    seeds = "'" + str(seeds_dir).replace("'", "''") + "'"
    for statement in DUCKDB_SQL.replace("$seeds", seeds).split(";"):
        if statement.strip():
            con.execute(statement, [files] if "?" in statement else [])
    scores = con.execute(f"select {', '.join(SCORE_COLUMNS)} from scored").df()
    regions = con.execute(f"select {', '.join(REGION_COLUMNS)} from region_totals").df()
    con.close()
    return scores, regions


# --- (b) pandas ----------------------------------------------------------------------------------------------------
def _years(frame: pd.DataFrame, lo: str = "year_from", hi: str = "year_to") -> pd.DataFrame:
    frame = frame.copy()
    frame[lo] = frame[lo].astype(int)
    frame[hi] = pd.to_numeric(frame[hi].replace("", None)).fillna(9999).astype(int)
    return frame


def pandas_scores(landing_dir: Path, seeds_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    def seed(rel: str) -> pd.DataFrame:
        return pd.read_csv(Path(seeds_dir) / rel, dtype=str, keep_default_na=False)

    files = sorted(Path(landing_dir).rglob("*.csv"))
    frames = []
    for order, path in enumerate(files):
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, usecols=["地区代码", "指标代码", "统计期", "数值"])
        frame["file_order"] = order
        frames.append(frame)
    submitted = pd.concat(frames, ignore_index=True)
    submitted.columns = ["region_code", "indicator_code", "period", "value", "file_order"]
    annual = submitted[submitted["period"].str.fullmatch(r"\d{4}")].copy()
    annual["year"] = annual["period"].astype(int)
    annual["value"] = pd.to_numeric(annual["value"].str.strip().replace("", None), errors="coerce")
    annual = annual.sort_values("file_order").drop_duplicates(["region_code", "indicator_code", "year"], keep="last")

    years = seed("config/assessment_years.csv")["assessment_year"].astype(int)
    regions = _years(seed("reference/regions.csv"), "valid_from_year", "valid_to_year")
    grid = regions.merge(pd.DataFrame({"assessment_year": years}), how="cross")
    grid = grid[
        (grid["assessment_year"] >= grid["valid_from_year"]) & (grid["assessment_year"] <= grid["valid_to_year"])
    ]
    classes = _years(seed("config/region_classes.csv"))
    for who, key in (("own", "region_code"), ("parent", "parent_code")):
        joined = (
            grid[["assessment_year", key]]
            .reset_index()
            .merge(classes, left_on=key, right_on="region_code", how="left", suffixes=("", "_c"))
        )
        joined = joined[
            (joined["assessment_year"] >= joined["year_from"]) & (joined["assessment_year"] <= joined["year_to"])
        ]
        grid[f"class_{who}"] = joined.set_index("index")["class_code"]
    grid["class_code"] = grid["class_own"].fillna(grid["class_parent"])
    rules = _years(seed("config/indicator_rules.csv"))
    for col in ("weight", "target_value", "satisfactory_value", "not_allowed_value"):
        rules[col] = pd.to_numeric(rules[col].replace("", None))
    df = grid[["assessment_year", "region_code", "level", "class_code"]].merge(rules, on=["level", "class_code"])
    df = df[(df["assessment_year"] >= df["year_from"]) & (df["assessment_year"] <= df["year_to"])]
    df = df.merge(seed("reference/indicators.csv")[["indicator_code", "direction"]], on="indicator_code")
    df = df.merge(
        annual[["region_code", "indicator_code", "year", "value"]],
        left_on=["region_code", "indicator_code", "assessment_year"],
        right_on=["region_code", "indicator_code", "year"],
        how="left",
    )
    lower = df["direction"] == "lower"
    oriented = np.where(lower, df["value"], -df["value"])  # smaller is better
    peer = ["assessment_year", "level", "class_code", "indicator_code"]
    df["oriented"] = oriented
    groups = df.groupby(peer)["oriented"]
    df["rank_in_class"] = groups.rank(method="min", na_option="bottom").astype(int)
    best, worst = -groups.transform("min"), -groups.transform("max")  # in the oriented sign
    df["best"] = np.where(lower, -best, best)
    df["worst"] = np.where(lower, -worst, worst)
    hi = df["satisfactory_value"].fillna(df["best"])
    lo = df["not_allowed_value"].fillna(df["worst"])
    value, target, weight = df["value"], df["target_value"], df["weight"]
    with np.errstate(divide="ignore", invalid="ignore"):
        efficacy = np.where(hi == lo, 100.0, np.clip(60 + 40 * (value - lo) / (hi - lo), 0, 100))
        met = np.where(lower, value <= target, value >= target)
        ratio = np.where(
            lower,
            np.where(value == 0, met.astype(float), np.clip(target / value, 0, 1)),
            np.where(target == 0, met.astype(float), np.clip(value / target, 0, 1)),
        )
    method = df["scoring_method"]
    points = np.select(
        [method == "efficacy", method == "target", method == "target_binary"],
        [weight * efficacy / 100, weight * ratio, np.where(met, weight, 0.0)],
        weight * np.maximum(0, 1 - 0.05 * (df["rank_in_class"] - 1)),
    )
    df["score_points"] = np.where(value.isna(), 0.0, points)
    df["first"] = value.notna() & (df["rank_in_class"] == 1)

    adjustments = seed("config/adjustments.csv")
    adjustments["assessment_year"] = adjustments["assessment_year"].astype(int)
    sign = (
        adjustments["adjustment_type"].map({"bonus": 1.0, "deduction": -1.0, "provisional_deduction": -1.0}).fillna(0)
    )
    adjustments["adjustment"] = sign * adjustments["points"].astype(float)
    adjustment = adjustments.groupby(["assessment_year", "region_code"], as_index=False)["adjustment"].sum()
    totals = df.groupby(["assessment_year", "region_code", "level", "class_code"], as_index=False).agg(
        points=("score_points", "sum"), firsts=("first", "sum")
    )
    totals = totals.merge(adjustment, on=["assessment_year", "region_code"], how="left")
    totals["total_score"] = totals["points"] + totals["adjustment"].fillna(0)
    totals = totals.sort_values(
        ["assessment_year", "level", "class_code", "total_score", "firsts", "region_code"],
        ascending=[True, True, True, False, False, True],
    )
    totals["rank_in_class"] = totals.groupby(["assessment_year", "level", "class_code"]).cumcount() + 1
    return df[SCORE_COLUMNS].reset_index(drop=True), totals[REGION_COLUMNS].reset_index(drop=True)


def compare(
    reference: tuple[pd.DataFrame, pd.DataFrame], other: tuple[pd.DataFrame, pd.DataFrame], tolerance: float = 1e-9
) -> list[str]:
    """Where `other` differs from `reference`: scores beyond the tolerance, ranks, missing or extra rows."""
    problems = []
    # the warehouse keeps every score in decimal(38, 10): a total of 100 such scores may be off by 100 × 0.5e-10
    for (ref, oth), keys, value, tol in (
        ((reference[0], other[0]), ["assessment_year", "region_code", "indicator_code"], "score_points", tolerance),
        ((reference[1], other[1]), ["assessment_year", "region_code"], "total_score", 10 * tolerance),
    ):
        joined = ref.merge(oth, on=keys, how="outer", suffixes=("", "_other"), indicator=True)
        unmatched = joined[joined["_merge"] != "both"]
        if len(unmatched):
            problems.append(
                f"{len(unmatched)} {value} rows only on one side, e.g. {unmatched[keys].head(2).to_dict('records')}"
            )
        both = joined[joined["_merge"] == "both"]
        off = both[(both[value] - both[f"{value}_other"]).abs() > tol]
        if len(off):
            example = off[[*keys, value, f"{value}_other"]].head(2).to_dict("records")
            problems.append(f"{len(off)} {value} differ by more than {tol:g}, e.g. {example}")
        ranks = both[both["rank_in_class"].astype(int) != both["rank_in_class_other"].astype(int)]
        if len(ranks):
            problems.append(f"{len(ranks)} ranks differ ({value} rows), e.g. {ranks[keys].head(2).to_dict('records')}")
    return problems
