"""A national-like synthetic configuration and its submissions, for benchmarks at scale.

    python -m tools.national --out DIR [--prefectures 330] [--years 2015-2024] [--seed N]

writes, deterministically (numpy ``default_rng`` streams from ``seed``; same arguments, same bytes):

* ``DIR/seeds/`` — a complete seed tree in the layout of the project's ``seeds/`` (``reference/regions.csv``,
  ``indicators.csv``, ``dimensions.csv``, ``known_figures.csv``, ``config/*.csv`` and the two property files),
  describing ``prefectures`` prefecture cities in three classes with about 8.6 county-level units each (330 give
  2,850 counties, the national count), 100 indicators over the six dimensions with all four scoring methods, the
  assessment years, tier and advanced-county quotas proportional to the class sizes, monitoring targets,
  adjustments with vetoes. Point dbt at it with ``HQD_SEEDS_DIR=DIR/seeds`` (``dbt_project.yml`` reads its
  ``seed-paths`` from that variable); the Jiangsu seeds stay the default.
* ``DIR/landing/<year>/<period>/<city_code>_<period>.csv`` — per prefecture, year and period (the year and its
  four year-to-date quarters), the city and its counties × 100 indicators, in the sample's long layout and header
  (``地区代码,地区名称,指标代码,指标名称,统计期,数值,单位``), UTF-8, about 0.3 % of the values missing.

330 prefectures over 2015-2024: 3,180 regions × 100 indicators × 50 periods = 15.9 million values.
Everything is vectorised (one numpy draw per year); no loop runs over rows.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

PROJECT_ROOT = Path(__file__).resolve().parents[1]
JIANGSU_SEEDS = PROJECT_ROOT / "seeds"
NATIONAL_PREFECTURES = 330
NATIONAL_COUNTIES = 2850
INDICATOR_COUNT = 100
DEFAULT_YEARS = tuple(range(2015, 2025))
DEFAULT_SEED = 20250321
HEADER = "地区代码,地区名称,指标代码,指标名称,统计期,数值,单位"
CLASSES = ("I", "II", "III")
CLASS_SHARES = (0.25, 0.35, 0.40)  # of the prefectures, in code order
MISSING_RATE = 0.003
# copied as they are: the same conversions, classes, dimensions, reason codes, tier names, warning levels, labels and
# missing-value markers as Jiangsu's (the scoring constants are written from the first year, see generate_national)
COPIED_SEEDS = (
    "config/unit_conversions.csv",
    "config/assessment_classes.csv",
    "reference/dimensions.csv",
    "config/rejection_reasons.csv",
    "config/tier_names.csv",
    "config/warning_levels.csv",
    "config/missing_value_markers.csv",
    "config/category_labels.csv",
    "config/screening_parameters.csv",
    # the composite-index engine's configuration: its models must parse under any seeds folder
    "composite/composite_indices.csv",
    "composite/composite_dimensions.csv",
    "composite/composite_indicators.csv",
    "composite/composite_tiers.csv",
)
# the six dimensions, from their one home
DIMENSIONS = tuple(pd.read_csv(JIANGSU_SEEDS / "reference/dimensions.csv", dtype=str)["dimension_code"])
DEPARTMENTS = (
    "统计局",
    "发改委",
    "工信局",
    "财政局",
    "商务局",
    "生态环境局",
    "人社局",
    "教育局",
    "卫健委",
    "交通运输局",
)
# (unit, accumulation, value_min, value_max, typical value, spread as a share of it)
UNIT_KINDS = (
    ("%", "stock", "0", "100", 55.0, 0.25),
    ("亿元", "flow", "0", "", 300.0, 0.8),
    ("元", "flow", "0", "", 60000.0, 0.35),
    ("件", "stock", "0", "", 800.0, 0.6),
    ("%", "stock", "-100", "", 6.0, 0.6),  # growth rates
)
METHODS = ("efficacy",) * 7 + ("target", "target_binary", "rank")
WEIGHT_PATTERN = (0.5, 1.5, 1.0, 1.0)  # 25 × 4 = 100 points per (level, class)
FLOW_SHARE = np.array([0.235, 0.485, 0.74, 1.0])  # year-to-date share of a flow by quarter


@dataclass
class NationalReport:
    out_dir: Path
    prefectures: int
    counties: int
    indicators: int
    years: tuple[int, ...]
    files_written: int
    rows_written: int
    missing_values: int
    elapsed_seconds: float

    @property
    def seeds_dir(self) -> Path:
        return self.out_dir / "seeds"

    @property
    def landing_dir(self) -> Path:
        return self.out_dir / "landing"

    def summary(self) -> str:
        return (
            f"{self.prefectures} prefectures, {self.counties} counties, {self.indicators} indicators, "
            f"{self.years[0]}-{self.years[-1]}: {self.files_written:,} files, {self.rows_written:,} values "
            f"({self.missing_values:,} missing) in {self.out_dir} in {self.elapsed_seconds:.1f} s"
        )


def counties_for(prefectures: int) -> int:
    return round(prefectures * NATIONAL_COUNTIES / NATIONAL_PREFECTURES)


def _regions(prefectures: int, first_year: int, rng: np.random.Generator) -> pd.DataFrame:
    n_counties = counties_for(prefectures)
    per_city = np.full(prefectures, n_counties // prefectures)
    per_city[: n_counties % prefectures] += 1
    city_idx = np.arange(prefectures)
    province = 11 + city_idx // 12
    city_codes = np.char.add(np.char.zfill((province * 100 + city_idx % 12 + 1).astype(str), 4), "00")
    city_names = np.char.add(np.char.add("样本", np.char.zfill((city_idx + 1).astype(str), 3)), "市")
    cities = pd.DataFrame(
        {
            "region_code": city_codes,
            "region_name": city_names,
            "short_name": np.char.replace(city_names, "市", ""),
            "level": "city",
            "region_type": "prefecture_city",
            "parent_code": np.char.add(province.astype(str), "0000"),
            "city_index": city_idx,
        }
    )
    owner = np.repeat(city_idx, per_city)
    within = np.arange(n_counties) - np.repeat(np.cumsum(per_city) - per_city, per_city)
    types = np.array(["district", "county", "county_level_city"])[rng.integers(0, 3, n_counties)]
    suffix = np.select([types == "district", types == "county"], ["区", "县"], "市")
    county_short = np.char.add(np.char.add(city_names[owner], "第"), np.char.zfill((within + 1).astype(str), 2))
    counties = pd.DataFrame(
        {
            # the city's first four digits and the county's two-digit number
            "region_code": np.char.add(
                np.array([c[:4] for c in city_codes])[owner], np.char.zfill((within + 1).astype(str), 2)
            ),
            "region_name": np.char.add(county_short, suffix),
            "short_name": county_short,
            "level": "county",
            "region_type": types,
            "parent_code": city_codes[owner],
            "city_index": owner,
        }
    )
    regions = pd.concat([cities, counties], ignore_index=True)
    class_of_city = np.searchsorted(np.cumsum(CLASS_SHARES) * prefectures, city_idx, side="right")
    regions["class_index"] = class_of_city[regions["city_index"]]
    regions["area_zh"] = np.array(["东部", "中部", "西部"])[regions["class_index"]]
    regions["valid_from_year"] = first_year
    regions["valid_to_year"] = ""
    regions["successor_code"] = ""
    pop = np.where(regions["level"] == "city", 4_000_000, 450_000) * rng.lognormal(0, 0.4, len(regions))
    regions["census2020_population"] = pop.astype(np.int64)
    regions["source"] = "synthetic (orchestration/national.py)"
    return regions


def _indicators(rng: np.random.Generator) -> pd.DataFrame:
    i = np.arange(INDICATOR_COUNT)
    kind = (i * 7) % len(UNIT_KINDS)
    unit, accumulation, vmin, vmax, typical, spread = (np.array([k[j] for k in UNIT_KINDS]) for j in range(6))
    lower = (i % 5) == 3  # every fifth indicator is better when lower
    return pd.DataFrame(
        {
            "indicator_code": [f"N{n + 1:03d}" for n in i],
            "indicator_name_zh": [f"合成指标{n + 1:03d}" for n in i],
            "indicator_name_en": [f"Synthetic indicator {n + 1}" for n in i],
            "dimension_code": np.array(DIMENSIONS)[i % len(DIMENSIONS)],
            "unit": unit[kind],
            "direction": np.where(lower, "lower", "higher"),
            "accumulation": accumulation[kind],
            "lead_department": np.array(DEPARTMENTS)[(i // 3) % len(DEPARTMENTS)],
            "value_min": vmin[kind],
            "value_max": vmax[kind],
            "catalog_source": "synthetic",
            "typical": typical[kind].astype(float) * rng.uniform(0.7, 1.3, INDICATOR_COUNT),
            "spread": spread[kind].astype(float),
        }
    )


def _fmt(values: np.ndarray) -> np.ndarray:
    return np.char.mod("%.2f", np.round(values, 2))


def _config(regions: pd.DataFrame, ind: pd.DataFrame, years: Sequence[int], rng: np.random.Generator) -> dict:
    first, last = years[0], years[-1]
    cities = regions[regions["level"] == "city"]
    tables: dict[str, pd.DataFrame] = {}
    tables["reference/regions.csv"] = regions[
        [
            "region_code",
            "region_name",
            "short_name",
            "level",
            "region_type",
            "parent_code",
            "area_zh",
            "valid_from_year",
            "valid_to_year",
            "successor_code",
            "census2020_population",
            "source",
        ]
    ]
    tables["reference/indicators.csv"] = ind.drop(columns=["typical", "spread"])
    tables["reference/known_figures.csv"] = pd.DataFrame(
        columns=[
            "region_code",
            "region_name",
            "assessment_year",
            "indicator_code",
            "value",
            "unit",
            "comparator",
            "source",
        ]
    )
    tables["config/assessment_years.csv"] = pd.DataFrame(
        {"assessment_year": list(years), "results_published_on": [f"{y + 1}-03-20" for y in years], "note": "synthetic"}
    )
    tables["config/region_classes.csv"] = pd.DataFrame(
        {
            "year_from": first,
            "year_to": "",
            "region_code": cities["region_code"],
            "class_code": np.array(CLASSES)[cities["class_index"]],
            "basis": "synthetic",
        }
    )
    rules = []
    targets = []
    for level in ("city", "county"):
        for c, cls in enumerate(CLASSES):
            n = INDICATOR_COUNT
            method = np.array(METHODS)[(np.arange(n) * 3 + c) % len(METHODS)]
            typical = (
                ind["typical"].to_numpy()
                * (1.15 - 0.15 * c)
                * (8 if level == "city" else 1) ** (ind["unit"].isin(["亿元", "件"]).to_numpy())
            )
            target = np.where(np.isin(method, ["target", "target_binary"]), _fmt(typical), "")
            fixed = (method == "efficacy") & (np.arange(n) % 10 == 4)  # fixed bounds on a tenth of them
            up = ind["direction"].to_numpy() == "higher"
            hi = np.where(up, typical * 1.3, typical * 0.7)
            lo = np.where(up, typical * 0.7, typical * 1.3)
            rules.append(
                pd.DataFrame(
                    {
                        "year_from": first,
                        "year_to": "",
                        "level": level,
                        "class_code": cls,
                        "indicator_code": ind["indicator_code"],
                        "weight": np.array(WEIGHT_PATTERN)[(np.arange(n) + c) % len(WEIGHT_PATTERN)],
                        "scoring_method": method,
                        "target_value": target,
                        "satisfactory_value": np.where(fixed, _fmt(hi), ""),
                        "not_allowed_value": np.where(fixed, _fmt(lo), ""),
                    }
                )
            )
            flow = ind["accumulation"].to_numpy() == "flow"
            targets.append(
                pd.DataFrame(
                    {
                        "year_from": first,
                        "year_to": "",
                        "level": level,
                        "class_code": cls,
                        "indicator_code": ind["indicator_code"],
                        "target_kind": np.where(flow, "growth_over_previous_year", "annual_level"),
                        "target_value": np.where(flow, "5", _fmt(typical)),
                    }
                )
            )
    tables["config/indicator_rules.csv"] = pd.concat(rules, ignore_index=True)
    tables["config/warning_thresholds.csv"] = pd.DataFrame(
        [(first, "", 20, 10, 0)],
        columns=["year_from", "year_to", "red_shortfall_pct", "yellow_shortfall_pct", "blue_shortfall_pct"],
    )
    tables["config/progress_awards.csv"] = pd.DataFrame(
        [(first, "", "city", 1, "largest_rise_in_class_rank"), (first, "", "county", 3, "largest_rise_in_class_rank")],
        columns=["year_from", "year_to", "level", "award_count", "selection_rule"],
    )
    tables["config/monitoring_targets.csv"] = pd.concat(targets, ignore_index=True)
    sizes = regions.groupby(["level", "class_index"]).size()
    quota_rows, advanced_rows = [], []
    for (level, c), size in sizes.items():
        first_n = max(1, int(size * 0.2))
        second_n = min(max(1, int(size * 0.3)), size - first_n)
        quota_rows.append((first, "", level, CLASSES[c], first_n, second_n))
        if level == "county":
            advanced_rows.append(
                (first, "", CLASSES[c], max(1, round(size * 0.02)), "best_total_in_class_without_veto")
            )
    tables["config/tier_quotas.csv"] = pd.DataFrame(
        quota_rows, columns=["year_from", "year_to", "level", "class_code", "first_tier_count", "second_tier_count"]
    )
    tables["config/advanced_county_quotas.csv"] = pd.DataFrame(
        advanced_rows, columns=["year_from", "year_to", "class_code", "advanced_quota", "selection_rule"]
    )
    counties = regions.loc[regions["level"] == "county", "region_code"].to_numpy()
    kinds = np.array(["veto", "bonus", "deduction", "provisional_deduction"])
    adj_year = np.repeat(np.asarray(years), 4)
    adj_kind = np.tile(kinds, len(years))
    adjustments = pd.DataFrame(
        {
            "assessment_year": adj_year,
            "region_code": rng.choice(counties, len(adj_year), replace=False)
            if len(counties) >= len(adj_year)
            else rng.choice(counties, len(adj_year)),
            "adjustment_type": adj_kind,
            "points": np.where(adj_kind == "veto", "0", "0.5"),
            "reason": "synthetic",
            "basis": "synthetic",
        }
    ).drop_duplicates(["assessment_year", "region_code", "adjustment_type"])
    tables["config/adjustments.csv"] = adjustments
    del last
    return tables


def _values_for_year(
    regions: pd.DataFrame, ind: pd.DataFrame, year: int, years: Sequence[int], seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """(regions, indicators) annual values and a missing mask; each year its own stream."""
    rng_region = np.random.default_rng([seed, 1])  # persistent region effects, the same every year
    effect = rng_region.normal(0, 1, (len(regions), INDICATOR_COUNT))
    rng = np.random.default_rng([seed, 2, year])
    typical = ind["typical"].to_numpy()[None, :]
    spread = ind["spread"].to_numpy()[None, :]
    class_factor = (1.15 - 0.15 * regions["class_index"].to_numpy())[:, None]
    big = ind["unit"].isin(["亿元", "件"]).to_numpy()[None, :]
    city = (regions["level"] == "city").to_numpy()[:, None]
    level_factor = np.where(big & city, 8.0, 1.0)
    trend = 1 + 0.03 * (year - years[0]) * (ind["accumulation"].to_numpy() == "flow")[None, :]
    noise = rng.normal(0, 0.3, effect.shape)
    values = typical * class_factor * level_factor * trend * (1 + spread * 0.5 * (effect + noise))
    vmin = pd.to_numeric(ind["value_min"]).to_numpy()[None, :]
    vmax = pd.to_numeric(ind["value_max"].replace("", np.nan)).to_numpy()[None, :]
    values = np.clip(values, vmin + 0.01, np.where(np.isnan(vmax), np.inf, vmax - 0.01))
    missing = rng.random(values.shape) < MISSING_RATE
    return values, missing


def generate_national(
    out_dir: Path,
    *,
    prefectures: int = NATIONAL_PREFECTURES,
    years: Sequence[int] = DEFAULT_YEARS,
    seed: int = DEFAULT_SEED,
) -> NationalReport:
    """Write the synthetic seeds and landing files under out_dir (replacing what a previous call wrote)."""
    if prefectures < 3:
        raise ValueError("at least 3 prefectures (one per class)")
    started = time.perf_counter()
    years = tuple(sorted(years))
    out_dir = Path(out_dir)
    for sub in ("seeds", "landing"):
        shutil.rmtree(out_dir / sub, ignore_errors=True)
    rng = np.random.default_rng([seed, 0])
    regions = _regions(prefectures, years[0], rng)
    ind = _indicators(rng)
    for rel, table in _config(regions, ind, years, rng).items():
        path = out_dir / "seeds" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(path, index=False, lineterminator="\n")
    for rel in COPIED_SEEDS:
        (out_dir / "seeds" / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(JIANGSU_SEEDS / rel, out_dir / "seeds" / rel)
    # Jiangsu's scoring constants, from the national configuration's first year
    parameters = pd.read_csv(JIANGSU_SEEDS / "config/scoring_parameters.csv", dtype=str, keep_default_na=False)
    parameters["year_from"] = str(years[0])
    parameters.to_csv(out_dir / "seeds" / "config/scoring_parameters.csv", index=False, lineterminator="\n")
    # the tier-robustness draws for the last year only (tools/bench_robustness.py: about 40 s a year at this
    # scale), and no method switches (Jiangsu's name Jiangsu's indicators)
    robustness = pd.read_csv(JIANGSU_SEEDS / "config/robustness_parameters.csv", dtype=str, keep_default_na=False)
    robustness["year_from"] = str(years[-1])
    robustness.to_csv(out_dir / "seeds" / "config/robustness_parameters.csv", index=False, lineterminator="\n")
    switches = pd.read_csv(JIANGSU_SEEDS / "config/robustness_method_switches.csv", dtype=str, keep_default_na=False)
    switches.head(0).to_csv(
        out_dir / "seeds" / "config/robustness_method_switches.csv", index=False, lineterminator="\n"
    )
    # scenarios: only `official` (the shipped drafts name Jiangsu's indicators); the override tables stay empty
    (out_dir / "seeds" / "scenarios").mkdir(parents=True, exist_ok=True)
    for name in ("scenarios", "scenario_indicator_rules", "scenario_tier_quotas", "scenario_advanced_county_quotas"):
        table = pd.read_csv(JIANGSU_SEEDS / "scenarios" / f"{name}.csv", dtype=str, keep_default_na=False)
        kept = table[table["scenario_code"] == "official"] if name == "scenarios" else table.head(0)
        kept.to_csv(out_dir / "seeds" / "scenarios" / f"{name}.csv", index=False, lineterminator="\n")

    n_reg, n_ind = len(regions), INDICATOR_COUNT
    # one line prefix per (region, indicator): code, name, indicator code, name; units as a suffix
    region_part = (regions["region_code"] + "," + regions["region_name"] + ",").to_numpy()
    indicator_part = (ind["indicator_code"] + "," + ind["indicator_name_zh"] + ",").to_numpy()
    prefix = np.char.add(np.repeat(region_part, n_ind).astype(str), np.tile(indicator_part, n_reg).astype(str))
    unit = np.tile(ind["unit"].to_numpy().astype(str), n_reg)
    city_of_row = np.repeat(regions["city_index"].to_numpy(), n_ind)
    order = np.argsort(city_of_row, kind="stable")  # rows grouped by file: the city, then its counties
    city_codes = regions.loc[regions["level"] == "city", "region_code"].to_numpy()
    bounds = np.searchsorted(city_of_row[order], np.arange(len(city_codes) + 1))
    flow = np.tile((ind["accumulation"] == "flow").to_numpy(), n_reg)
    files = rows = missing_total = 0
    for year in years:
        values, missing = _values_for_year(regions, ind, year, years, seed)
        annual = values.reshape(-1)
        miss = missing.reshape(-1)
        rng_q = np.random.default_rng([seed, 3, year])
        for quarter in (0, 1, 2, 3, 4):
            if quarter == 0:
                period, period_values = str(year), annual
            else:
                period = f"{year}Q{quarter}"
                share = FLOW_SHARE[quarter - 1] * (1 + rng_q.normal(0, 0.02, annual.shape) * (quarter < 4))
                drift = 1 + rng_q.normal(0, 0.03, annual.shape) * (quarter < 4)
                period_values = np.where(flow, annual * share, annual * drift)
            text = np.where(miss, "", _fmt(period_values))
            lines = np.char.add(np.char.add(np.char.add(prefix, period + ","), text), np.char.add(",", unit))
            lines = lines[order]
            folder = out_dir / "landing" / str(year) / period
            folder.mkdir(parents=True, exist_ok=True)
            for k, code in enumerate(city_codes):
                chunk = lines[bounds[k] : bounds[k + 1]]
                (folder / f"{code}_{period}.csv").write_text(HEADER + "\n" + "\n".join(chunk) + "\n", encoding="utf-8")
            files += len(city_codes)
            rows += len(lines)
            missing_total += int(miss.sum())
    return NationalReport(
        out_dir,
        prefectures,
        int((regions["level"] == "county").sum()),
        n_ind,
        years,
        files,
        rows,
        missing_total,
        time.perf_counter() - started,
    )
