"""Deterministic sample submissions for the landing zone.

Writes what the prefecture statistics bureaus would send for the 高质量发展综合考核: for every assessment
year one annual file and four quarterly year-to-date monitoring files per prefecture city, each holding
the city and every county-level unit under it that exists that year::

    <landing_dir>/<year>/<period_code>/<city_code>_<city_name>_<period_code>.csv

with the header ``地区代码,地区名称,指标代码,指标名称,统计期,数值,单位`` and one row per (region, indicator).

The sample deliberately carries the quirks the warehouse must handle:

* 徐州市 (320300) and 宿迁市 (321300) files are GBK encoded, all others UTF-8;
* 南京市 (320100) reports 亿元 indicators in 万元, 常州市 (320400) writes percentages as ``59.5%``;
* about 0.3 % of the annual values are missing (an empty cell, or ``—`` in about a quarter of them);
* four defect rows in annual files (see ``DEFECTS``) and one correction file
  ``2023/2023/320500_苏州市_2023_更正.csv`` resubmitting E02 for five 苏州 counties.

Real published figures from ``seeds/reference/known_figures.csv`` are placed exactly (``equals``) or
exceeded (``greater_than``); the region's whole series is calibrated towards them, so neighbouring
years and derived indicators (E03, E04, E06) stay consistent.

``scale > 1`` additionally writes, per year, period and city, a file
``<city_code>_<city_name>_<period_code>_synthetic.csv`` holding (scale - 1) replicas of the city's real
counties, coded ``9`` + 2-digit replica index + last 3 digits of the real code (901583 = 昆山市#1). The
eight 321xxx counties whose last 3 digits repeat a 320xxx county's (e.g. 321102 vs 320102) take a spare
suffix from 990 upwards instead, so that the codes stay unique. The warehouse rejects these rows as
unknown regions until synthetic regions are configured; that is expected.

``messy_rate > 0`` rewrites about that share of the cells, and of the files, of the real (not synthetic)
submissions the way bureaus really send them, without changing what any value means, so the warehouse
must load the same figures: region names in traditional characters (崑山市) or without their suffix
(昆山), the region code left empty where that name belongs to one region only in that year (never for
鼓楼区, which 南京 and 徐州 both have), full-width digits (１２３４．５), thousands separators (11,433),
亿元 figures given in 万元 (× 10000, unit 万元), ``%`` signs, indicator codes left empty (the name
identifies it) or in lower case, traditional indicator names and units, stray spaces, periods written
``2023年``, ``2023年第1季度`` or ``2023-Q1``; and files written as UTF-8 with BOM, as GB18030, or as an
.xlsx workbook with one or two merged title rows above the header.  Missing values and the defect rows
stay as they are.  Each file's rewrites come from its own stream, so they too do not depend on which
other years are written.  At the default 0 the files are exactly the clean ones.

Everything is drawn from ``numpy.random.default_rng`` streams derived from ``seed`` (one per purpose),
so the same arguments give byte-identical files, a subset of years gives the same files for those
years, and the real files do not change with ``scale``.
"""

from __future__ import annotations

import hashlib
import io
import re
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SEEDS_DIR = PROJECT_ROOT / "seeds"

HEADER = ("地区代码", "地区名称", "指标代码", "指标名称", "统计期", "数值", "单位")
GBK_CITIES = frozenset({"320300", "321300"})
WAN_YUAN_CITIES = frozenset({"320100"})
PERCENT_SIGN_CITIES = frozenset({"320400"})

MISSING_RATE = 0.003
DASH_SHARE = 0.25
MISSING_DASH = "—"
MAX_SCALE = 100  # the replica index has two digits
ANCHOR_YEAR = 2023  # magnitudes below are calibrated to this year

CORRECTION_YEAR = 2023
CORRECTION_CITY = "320500"
CORRECTION_INDICATOR = "E02"
CORRECTION_COUNT = 5
CORRECTION_SUFFIX = "_更正"
SYNTHETIC_SUFFIX = "_synthetic"

# Independent random streams, so that e.g. scale or the missing-value draw never shifts the values.
_STREAM_VALUES, _STREAM_MISSING, _STREAM_CORRECTIONS, _STREAM_MESSY, _STREAM_SYNTHETIC = 0, 1, 2, 3, 1000

CLASSES = ("I", "II", "III")
# Cumulative year-to-date share of a flow for Q1..Q3, with bounds that keep quarters ordered.
_FLOW_SHARE = np.array([0.235, 0.485, 0.74])
_FLOW_SHARE_BOUNDS = (np.array([0.2, 0.45, 0.7]), np.array([0.3, 0.55, 0.8]))
_STOCK_SHRINK = np.array([1.0, 0.6, 0.3])  # stock revisions shrink towards Q4 (= annual)


@dataclass(frozen=True)
class Defect:
    """A deliberately bad row appended to an annual file; value_text None = the modelled value."""

    year: int
    city_code: str
    region_code: str
    indicator_code: str
    value_text: str | None
    reason: str
    indicator_name: str | None = None
    unit: str | None = None


DEFECTS: tuple[Defect, ...] = (
    Defect(2022, "320600", "320611", "E01", None, "retired region (港闸区 merged into 320613 in 2021)"),
    Defect(2023, "320800", "320800", "E99", "10.6", "unknown indicator", "数字经济核心产业增加值占比", "%"),
    Defect(2023, "320900", "320981", "L01", "12..5", "unparseable number (second row for the key)"),
    Defect(2024, "321100", "321181", "E07", "135", "share above 100 % (second row for the key)"),
)


@dataclass(frozen=True)
class Spec:
    """County-level model of one (possibly hidden helper) indicator at ANCHOR_YEAR.

    kind "level": mean + shifts + effects, additive; kind "log": the same on the log scale (between,
    within, trend and district are then log units).  q_load ties the indicator to the region's latent
    development quality (sign follows the indicator's direction) so that good regions are good at many
    things; between is the persistent region effect, within the AR(1) year-to-year noise.
    """

    kind: str
    mean: tuple[float, float, float]
    between: float
    within: float
    lo: float
    hi: float
    trend: float = 0.0
    district: float = 0.0
    q_load: float = 0.5
    year_shift: tuple[tuple[int, float], ...] = ()
    weight: str = "pop"  # city aggregation weight: pop | E01 | E04 | E06


# Hidden helpers start with "_": _G nominal GDP growth (%), _PC per-capita GDP (元), _R04/_R06 ratios of
# E04 (% of GDP) and E06 (× GDP), _L02/_L03 income levels (元).
SPECS: dict[str, Spec] = {
    "_G": Spec(
        "level",
        (6.0, 6.4, 6.8),
        0.6,
        0.7,
        -3.0,
        15.0,
        q_load=0.2,
        year_shift=((2018, 1.5), (2019, 0.5), (2020, -2.0), (2021, 3.0), (2022, -1.0), (2024, -0.5)),
    ),
    "_PC": Spec("log", (170000.0, 130000.0, 80000.0), 0.2, 0.0, 35000.0, 260000.0, district=np.log(1.15)),
    "_R04": Spec("level", (8.0, 7.3, 6.7), 0.6, 0.2, 6.0, 9.0, q_load=0.3),
    "_R06": Spec("level", (1.9, 1.7, 1.45), 0.2, 0.05, 1.2, 2.2, district=-0.25, q_load=0.3),
    "_L02": Spec("log", (72000.0, 56000.0, 42000.0), 0.1, 0.0, 20000.0, 150000.0, district=0.05),
    "_L03": Spec("log", (40000.0, 31000.0, 25000.0), 0.1, 0.0, 10000.0, 80000.0, district=0.05),
    "E05": Spec("level", (82.0, 78.0, 72.0), 4.0, 2.0, 55.0, 95.0, weight="E04"),
    "E07": Spec("level", (45.0, 38.0, 30.0), 6.0, 2.0, 10.0, 75.0, trend=1.0, weight="E06"),
    "E08": Spec("level", (3.2, 2.6, 1.9), 0.5, 0.15, 0.5, 5.5, trend=0.08, weight="E01"),
    "E09": Spec("log", (50.0, 30.0, 12.0), 0.35, 0.05, 1.0, 250.0, trend=0.08),
    "E10": Spec(
        "level",
        (5.0, 6.0, 7.0),
        2.0,
        3.0,
        -15.0,
        25.0,
        q_load=0.2,
        weight="E01",
        year_shift=((2018, 1.5), (2020, -3.0), (2021, 1.0), (2022, -1.5)),
    ),
    "E11": Spec("level", (52.0, 46.0, 45.0), 5.0, 1.0, 30.0, 85.0, trend=0.5, district=8.0, weight="E01"),
    "E12": Spec("level", (15.0, 16.0, 17.0), 3.0, 2.0, 8.0, 25.0, year_shift=((2020, 3.0), (2022, 2.0))),
    "E13": Spec(
        "level",
        (7.0, 8.0, 9.0),
        3.0,
        4.0,
        -20.0,
        30.0,
        q_load=0.2,
        weight="E01",
        year_shift=((2020, -4.0), (2021, 3.0)),
    ),
    "R01": Spec("level", (88.0, 84.0, 80.0), 3.0, 1.5, 70.0, 95.0, trend=0.5),
    "R02": Spec(
        "level",
        (4.0, 6.0, 8.0),
        4.0,
        5.0,
        -40.0,
        60.0,
        q_load=0.2,
        weight="E01",
        year_shift=(
            (2018, 5.0),
            (2019, -5.0),
            (2020, -2.0),
            (2021, 12.0),
            (2022, 0.0),
            (2023, -8.0),
            (2024, 2.0),
        ),
    ),
    "R03": Spec("log", (250.0, 130.0, 60.0), 0.5, 0.2, 5.0, 2000.0, trend=0.03),
    "R04": Spec("level", (12.0, 8.0, 5.0), 2.5, 1.0, 1.0, 30.0, weight="E01"),
    "U01": Spec("level", (80.0, 68.0, 60.0), 5.0, 0.3, 45.0, 99.0, trend=0.8, district=10.0),
    "U02": Spec("level", (99.0, 97.5, 95.0), 1.5, 0.5, 85.0, 100.0, trend=0.3),
    "U03": Spec("level", (97.0, 93.0, 88.0), 3.0, 1.0, 70.0, 100.0, trend=1.2),
    "U04": Spec("level", (17.0, 14.0, 11.0), 2.0, 0.8, 6.0, 25.0),
    "C01": Spec("level", (6.0, 5.0, 4.3), 0.8, 0.3, 2.0, 10.0, weight="E01"),
    "C02": Spec("level", (11.6, 11.0, 10.5), 0.4, 0.1, 9.0, 14.0, trend=0.08, district=0.5),
    "N01": Spec(
        "level",
        (80.0, 81.0, 78.0),
        3.0,
        3.0,
        60.0,
        95.0,
        q_load=0.2,
        year_shift=((2018, -8.0), (2019, -7.0), (2021, 2.0), (2023, -1.0), (2024, 2.0)),
    ),
    "N02": Spec("level", (88.0, 87.0, 85.0), 6.0, 4.0, 50.0, 100.0, trend=1.5, q_load=0.2),
    "L01": Spec(
        "level",
        (6.0, 6.2, 6.4),
        0.3,
        0.35,
        2.0,
        12.0,
        q_load=0.2,
        year_shift=((2018, 2.5), (2019, 2.7), (2020, -1.0), (2021, 3.5), (2022, -1.0), (2024, -0.6)),
    ),
    "L04": Spec("level", (4.0, 4.2, 4.4), 0.3, 0.25, 3.0, 5.5, year_shift=((2020, 0.5), (2022, 0.4))),
    "L05": Spec("level", (3.6, 3.0, 2.7), 0.4, 0.1, 1.5, 6.0, trend=0.1, district=0.6),
    "L06": Spec("level", (42.0, 40.0, 38.0), 4.0, 2.0, 25.0, 60.0),
    "L07": Spec("level", (99.0, 98.5, 98.0), 0.5, 0.3, 95.0, 100.0),
}
_SUM_INDICATORS = ("E01", "E04", "E06")  # a city's figure is about the sum of its counties'
_DEFLATOR = 1.3  # E02 is real growth: nominal growth minus this
_MULTIPLICATIVE_UNITS = frozenset({"亿元", "元", "美元/人", "件", "标台"})


@dataclass
class GenerationReport:
    """What generate_sample wrote.  rows_written counts data rows of every file (defects, corrections
    and synthetic rows included); missing_values counts empty/``—`` cells in annual files."""

    landing_dir: Path
    years: tuple[int, ...]
    seed: int
    scale: int
    files_written: int
    rows_written: int
    missing_values: int
    defect_rows: int
    corrections: int
    synthetic_rows: int
    elapsed_seconds: float
    files: tuple[str, ...]  # relative POSIX paths, sorted
    messy_rate: float = 0.0
    messy_cells: int = 0  # cells whose text differs from the clean file's (a 亿元 → 万元 rewrite counts two)
    messy_files: int = 0  # files written with a BOM, as GB18030 or as a workbook

    def summary(self) -> str:
        messy = f", {self.messy_cells} messy cells, {self.messy_files} messy files" if self.messy_rate else ""
        return (
            f"wrote {self.files_written} files, {self.rows_written} rows "
            f"({self.missing_values} missing values, {self.defect_rows} defect rows, "
            f"{self.corrections} corrections, {self.synthetic_rows} synthetic rows{messy}) "
            f"for {self.years[0]}-{self.years[-1]} to {self.landing_dir} in {self.elapsed_seconds:.2f} s"
        )


@dataclass(frozen=True)
class _Seeds:
    regions: pd.DataFrame
    classes: pd.DataFrame
    indicators: pd.DataFrame
    years: tuple[int, ...]
    known: pd.DataFrame


def _read_seeds(seeds_dir: Path) -> _Seeds:
    def read(rel: str) -> pd.DataFrame:
        return pd.read_csv(seeds_dir / rel, dtype=str, keep_default_na=False)

    regions = read("reference/regions.csv")
    regions["valid_from_year"] = regions["valid_from_year"].astype(int)
    regions["valid_to_year"] = pd.to_numeric(regions["valid_to_year"].replace("", "9999")).astype(int)
    regions["census2020_population"] = regions["census2020_population"].astype(float)
    regions = regions.sort_values("region_code", kind="stable").reset_index(drop=True)

    classes = read("config/region_classes.csv")
    classes["year_from"] = classes["year_from"].astype(int)
    classes["year_to"] = pd.to_numeric(classes["year_to"].replace("", "9999")).astype(int)

    indicators = read("reference/indicators.csv").reset_index(drop=True)  # catalog order = row order
    for col, default in (("value_min", -np.inf), ("value_max", np.inf)):
        indicators[col] = pd.to_numeric(indicators[col].replace("", None)).fillna(default).astype(float)

    years = tuple(sorted(read("config/assessment_years.csv")["assessment_year"].astype(int)))
    known = read("reference/known_figures.csv")
    known["assessment_year"] = known["assessment_year"].astype(int)
    known["value"] = known["value"].astype(float)
    return _Seeds(regions, classes, indicators, years, known)


def synthetic_suffixes(county_codes: Iterable[str]) -> dict[str, str]:
    """3-digit suffix of each county's synthetic codes: its last 3 digits unless an earlier code (in
    sorted order) already took them, then the next spare suffix from 990 upwards (then downwards)."""
    codes = sorted(set(county_codes))
    taken = {c[-3:] for c in codes}
    spare = iter([f"{n:03d}" for n in range(990, 1000)] + [f"{n:03d}" for n in range(989, -1, -1)])
    used: set[str] = set()
    out: dict[str, str] = {}
    for code in codes:
        suffix = code[-3:]
        if suffix in used:
            suffix = next(s for s in spare if s not in taken and s not in used)
        used.add(suffix)
        out[code] = suffix
    return out


def _class_matrix(codes: np.ndarray, years: Sequence[int], classes: pd.DataFrame) -> np.ndarray:
    """(len(codes), len(years)) class index 0/1/2 of the given city codes; -1 where unconfigured."""
    out = np.full((len(codes), len(years)), -1, dtype=int)
    yrs = np.asarray(years)
    for row in classes.itertuples(index=False):  # a dozen config rows, not data
        rows = codes == row.region_code
        cols = (yrs >= row.year_from) & (yrs <= row.year_to)
        out[np.ix_(rows, cols)] = CLASSES.index(row.class_code)
    return out


def _soft_clip(x: np.ndarray, lo: float, hi: float, margin: float = 0.1) -> np.ndarray:
    """Identity inside, then approach the bound exponentially: no pile of values exactly on a bound."""
    m = margin * (hi - lo)
    top, bottom = hi - m, lo + m
    x = np.where(x > top, hi - m * np.exp(-(x - top) / m), x)
    return np.where(x < bottom, lo + m * np.exp(-(bottom - x) / m), x)


def _ar1(eps: np.ndarray, rho: float = 0.5) -> np.ndarray:
    """AR(1) along axis 1 with unit variance: a good year tends to be followed by a good year."""
    out = np.empty_like(eps)
    out[:, 0] = eps[:, 0]
    for t in range(1, eps.shape[1]):  # a handful of years
        out[:, t] = rho * out[:, t - 1] + np.sqrt(1 - rho**2) * eps[:, t]
    return out


def _simulate_counties(
    cls: np.ndarray,
    is_district: np.ndarray,
    pop: np.ndarray,
    draw_row: np.ndarray,
    years: Sequence[int],
    direction_sign: dict[str, float],
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """County values (units × years) for every indicator of SPECS plus E01-E04, E06, L02, L03.

    draw_row maps each unit onto a row of the random draws, so a renamed region (海门市 → 海门区)
    continues its predecessor's series.
    """
    names = list(SPECS)
    n_draw = int(draw_row.max()) + 1
    n_year = len(years)
    # Fixed draw order and shapes: the values never depend on which years are written.
    q = rng.standard_normal(n_draw)
    z = rng.standard_normal((n_draw, len(names)))
    eps = rng.standard_normal((n_draw, n_year, len(names)))
    extra = rng.standard_normal((n_draw, n_year, 3))  # deviations of E02, L02 growth, L03 growth
    q, z, extra = q[draw_row], z[draw_row], extra[draw_row]
    eps = eps[draw_row]
    yrs = np.asarray(years, dtype=float)
    anchor = ANCHOR_YEAR if ANCHOR_YEAR in years else years[-1]

    raw: dict[str, np.ndarray] = {}
    for k, name in enumerate(names):  # ~30 indicators, each fully vectorised
        s = SPECS[name]
        sign = direction_sign.get(name, 1.0)
        effect = sign * s.between * (s.q_load * q + np.sqrt(1 - s.q_load**2) * z[:, k])
        shift = np.array([dict(s.year_shift).get(int(y), 0.0) for y in years])
        base = (
            (np.log(np.asarray(s.mean)) if s.kind == "log" else np.asarray(s.mean))[cls]
            + shift[None, :]
            + s.trend * (yrs - anchor)[None, :]
            + s.district * is_district[:, None]
            + effect[:, None]
            + s.within * _ar1(eps[:, :, k])
        )
        if s.kind == "log":  # bounds act on the log scale, where the noise lives
            raw[name] = np.exp(_soft_clip(base, np.log(s.lo), np.log(s.hi)))
        else:
            raw[name] = _soft_clip(base, s.lo, s.hi)

    def chained(level: np.ndarray, growth_pct: np.ndarray) -> np.ndarray:
        log_idx = np.cumsum(np.log1p(growth_pct / 100), axis=1)
        return level * np.exp(log_idx - log_idx[:, [years.index(anchor)]])

    out = {name: raw[name] for name in names if not name.startswith("_")}
    out["E01"] = pop * chained(raw["_PC"], raw["_G"]) / 1e8
    out["E02"] = raw["_G"] - _DEFLATOR + 0.3 * extra[:, :, 0]
    out["L02"] = chained(raw["_L02"], raw["L01"] - 0.4 + 0.3 * extra[:, :, 1])
    out["L03"] = chained(raw["_L03"], raw["L01"] + 0.6 + 0.3 * extra[:, :, 2])
    out["_R04"], out["_R06"] = raw["_R04"], raw["_R06"]
    _derive_from_gdp(out, pop)
    return out


def _derive_from_gdp(vals: dict[str, np.ndarray], pop: np.ndarray) -> None:
    vals["E03"] = vals["E01"] * 1e8 / pop
    vals["E04"] = vals["E01"] * vals["_R04"] / 100
    vals["E06"] = vals["E01"] * vals["_R06"]


def _known_cells(known: pd.DataFrame, row_of: dict[str, int], col_of: dict[int, int]) -> pd.DataFrame:
    k = known[known["region_code"].isin(row_of) & known["assessment_year"].isin(col_of)].copy()
    k["row"] = k["region_code"].map(row_of).astype(int)
    k["col"] = k["assessment_year"].map(col_of).astype(int)
    # A greater_than figure is a floor: aim a few percent above it.
    k["target"] = np.where(k["comparator"] == "greater_than", k["value"] * 1.028, k["value"])
    return k


def _calibrate(arr: np.ndarray, cells: pd.DataFrame, multiplicative: bool) -> None:
    """Shift a region's whole series towards its known figures (keeps the year-to-year shape)."""
    if cells.empty:
        return
    model = arr[cells["row"].to_numpy(), cells["col"].to_numpy()]
    target = cells["target"].to_numpy()
    delta = np.log(target / model) if multiplicative else target - model
    per_row = pd.Series(delta).groupby(cells["row"].to_numpy()).mean()
    rows = per_row.index.to_numpy()
    if multiplicative:
        arr[rows] *= np.exp(per_row.to_numpy())[:, None]
    else:
        arr[rows] += per_row.to_numpy()[:, None]


def _override(arr: np.ndarray, cells: pd.DataFrame, decimals: int) -> None:
    if cells.empty:
        return
    r, c = cells["row"].to_numpy(), cells["col"].to_numpy()
    eq = (cells["comparator"] == "equals").to_numpy()
    arr[r[eq], c[eq]] = cells["value"].to_numpy()[eq]
    floor = cells["value"].to_numpy()[~eq]
    current = arr[r[~eq], c[~eq]]
    step = 10.0**-decimals
    arr[r[~eq], c[~eq]] = np.where(np.round(current, decimals) > floor, current, floor * 1.02 + step)


def _simulate_real(seeds: _Seeds, seed: int) -> tuple[pd.DataFrame, np.ndarray, dict[str, np.ndarray]]:
    """All real regions (cities first-class rows too) × all assessment years."""
    reg = seeds.regions
    years = list(seeds.years)
    n_year = len(years)
    is_city = (reg["level"] == "city").to_numpy()
    city_code = np.where(is_city, reg["region_code"], reg["parent_code"])
    cls = _class_matrix(city_code, years, seeds.classes)
    yrs = np.asarray(years)
    valid = (reg["valid_from_year"].to_numpy()[:, None] <= yrs) & (yrs <= reg["valid_to_year"].to_numpy()[:, None])
    if (cls[valid] < 0).any():
        raise ValueError("region_classes.csv has no class for some region/year in the assessment years")
    cls = np.where(cls < 0, 2, cls)  # outside validity: any class, the values are never written

    # Lineage: a successor with exactly one predecessor continues the predecessor's random draws.
    codes = reg["region_code"].tolist()
    idx_of = {c: i for i, c in enumerate(codes)}
    succ = reg["successor_code"]
    single = succ[succ != ""].value_counts().sort_index()  # successor -> number of predecessors
    root = list(range(len(codes)))
    for i in range(len(codes)):  # ~110 config rows
        s = succ.iloc[i]
        if s and single.get(s, 0) == 1 and s in idx_of:
            root[idx_of[s]] = i
    for i in range(len(codes)):
        while root[root[i]] != root[i]:
            root[i] = root[root[i]]
    _, draw_row = np.unique(np.asarray(root), return_inverse=True)
    region_type = reg["region_type"].to_numpy()[np.asarray(root)]  # the lineage keeps its character

    pop_growth = np.array([0.006, 0.0, -0.002])[cls]
    pop = reg["census2020_population"].to_numpy()[:, None] * (1 + pop_growth) ** (yrs - 2020)[None, :]
    ind = seeds.indicators
    sign = dict(zip(ind["indicator_code"], np.where(ind["direction"] == "lower", -1.0, 1.0), strict=True))
    rng = np.random.default_rng([seed, _STREAM_VALUES])
    vals = _simulate_counties(cls, region_type == "district", pop, draw_row, years, sign, rng)

    # A merged region (崇川 = 崇川 + 港闸) starts at its predecessors' combined size.
    for successor, n_pred in single.items():  # one or two merges
        if n_pred > 1 and successor in idx_of:
            j = idx_of[successor]
            first = int(np.argmax(valid[j]))
            preds = np.flatnonzero((succ == successor).to_numpy())
            vals["E01"][j] *= vals["E01"][preds, first].sum() / vals["E01"][j, first]

    # Known figures: calibrate counties before cities are aggregated from them.
    col_of = {y: j for j, y in enumerate(years)}
    cells = _known_cells(seeds.known, idx_of, col_of)
    unit = dict(zip(ind["indicator_code"], ind["unit"], strict=True))
    decimals = {c: 0 if u == "元" else 2 for c, u in unit.items()}
    by_ind = {c: g for c, g in cells.groupby("indicator_code")}
    empty = cells.iloc[0:0]
    _calibrate(vals["E01"], by_ind.get("E01", empty), True)
    _override(vals["E01"], by_ind.get("E01", empty), 2)
    _derive_from_gdp(vals, pop)
    for code in ind["indicator_code"]:
        if code != "E01":
            _calibrate(vals[code], by_ind.get(code, empty), unit[code] in _MULTIPLICATIVE_UNITS)

    # Cities: sums or weighted means of the counties that exist that year, plus a little discrepancy.
    parent = reg["parent_code"].to_numpy()
    member = (parent[None, :] == reg["region_code"].to_numpy()[:, None]) & is_city[:, None]
    mv = member[:, :, None] & valid[None, :, :]  # city × county × year
    city_noise = rng.standard_normal((len(codes), n_year, len(ind)))
    weights = {"pop": pop, "E01": vals["E01"], "E04": vals["E04"], "E06": vals["E06"]}
    city_pop = np.einsum("cry,ry->cy", mv, pop)
    for k, code in enumerate(ind["indicator_code"]):
        x = vals[code]
        if code in _SUM_INDICATORS:
            agg = np.einsum("cry,ry->cy", mv, x) * (1 + 0.004 * city_noise[:, :, k])
        elif code == "E03":
            continue
        else:
            spec = SPECS.get(code)
            w = weights[spec.weight if spec else ("E01" if code == "E02" else "pop")]
            agg = np.einsum("cry,ry->cy", mv, w * x) / np.maximum(np.einsum("cry,ry->cy", mv, w), 1e-12)
            if spec is not None and spec.kind == "log":
                agg = agg * (1 + 0.01 * city_noise[:, :, k])
            else:
                agg = agg + 0.15 * (spec.within if spec else 0.3) * city_noise[:, :, k]
        x[is_city] = agg[is_city]
    vals["E03"][is_city] = (vals["E01"] * 1e8 / np.maximum(city_pop, 1.0))[is_city]

    lo = ind["value_min"].to_numpy()
    hi = ind["value_max"].to_numpy()
    cube = np.stack([vals[c] for c in ind["indicator_code"]], axis=2)
    cube = np.clip(cube, lo, hi)
    for k, code in enumerate(ind["indicator_code"]):
        plane = cube[:, :, k]
        _override(plane, by_ind.get(code, empty), decimals[code])
        cube[:, :, k] = np.round(plane, decimals[code]) + 0.0  # + 0.0 turns -0.0 into 0.0
    return reg, valid, {"cube": cube, "pop": pop}


def _quarterly(
    annual: np.ndarray,
    flow: np.ndarray,
    q_sd: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    decimals: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """(4, n) year-to-date values for Q1..Q4 from annual values (n,); Q4 is the annual value."""
    noise = rng.standard_normal((3, annual.size))
    share = np.clip(_FLOW_SHARE[:, None] * (1 + 0.02 * noise), *(b[:, None] for b in _FLOW_SHARE_BOUNDS))
    flow_q = annual[None, :] * share
    stock_q = annual[None, :] + q_sd[None, :] * _STOCK_SHRINK[:, None] * noise
    stock_q = np.clip(stock_q, np.minimum(lo, annual), np.maximum(hi, annual))
    q = np.where(flow[None, :], flow_q, stock_q)
    q = np.where(decimals[None, :] == 0, np.round(q), np.round(q, 2)) + 0.0
    return np.vstack([q, annual[None, :]])


_FRACTION_TEXT = np.array([""] + [("." + f"{i:02d}").rstrip("0") for i in range(1, 100)], dtype=object)


def _format_values(values: np.ndarray, decimals: np.ndarray) -> np.ndarray:
    """Plain decimal text: 元 whole numbers, else up to 2 decimals without trailing zeros (59.5, 11433).

    Works on integer cents so that formatting stays vectorised and never shows 1e+08 or -0.
    """
    cents = np.rint(np.asarray(values, dtype=float) * 100).astype(np.int64)
    cents = np.where(np.asarray(decimals) == 0, np.rint(cents / 100).astype(np.int64) * 100, cents)
    mag = np.abs(cents)
    sign = np.where(cents < 0, "-", "").astype(object)
    return sign + (mag // 100).astype(str).astype(object) + _FRACTION_TEXT[mag % 100]


def _csv_quote(column: np.ndarray) -> np.ndarray:
    """Quote the fields that need it (none do in the sample, so the common path is one scan)."""
    if not any(ch in "\x00".join(column) for ch in ',"\n\r'):
        return column
    codes, uniques = pd.factorize(column)
    texts = np.asarray(uniques, dtype=object)
    special = np.array([any(ch in t for ch in ',"\n\r') for t in texts], dtype=bool)
    texts[special] = ['"' + t.replace('"', '""') + '"' for t in texts[special]]
    return texts[codes]


def _labels(values: np.ndarray, label: Callable[[object], str]) -> np.ndarray:
    """label(v) for each row, computed once per distinct value (years, cities: a handful)."""
    uniques, inverse = np.unique(values, return_inverse=True)
    return np.array([label(u) for u in uniques], dtype=object)[inverse.reshape(-1)]


def _long_rows(
    region_code: np.ndarray,
    region_name: np.ndarray,
    city_code: np.ndarray,
    year: np.ndarray,
    quarter: int,
    ind_idx: np.ndarray,
    values: np.ndarray,
    missing: np.ndarray,
    dash: np.ndarray,
    ind: pd.DataFrame,
    city_name: dict[str, str],
    suffix: str,
) -> dict[str, np.ndarray]:
    """Final text rows of one period kind (quarter 0 = annual) with the per-city quirks applied
    (万元, 59.5%, missing markers).  region_code, region_name and city_code are object arrays."""
    unit = ind["unit"].to_numpy(dtype=object)[ind_idx]
    decimals = np.where(unit == "元", 0, 2)
    wan = np.isin(city_code, list(WAN_YUAN_CITIES)) & (unit == "亿元")
    text = _format_values(np.where(wan, values * 10000, values), decimals)
    unit = np.where(wan, "万元", unit)
    pct = np.isin(city_code, list(PERCENT_SIGN_CITIES)) & (unit == "%")
    text = np.where(pct, text + "%", text)
    text = np.where(missing, np.where(dash, MISSING_DASH, ""), text).astype(object)

    def period_of(y: object) -> str:
        return f"{y}Q{quarter}" if quarter else f"{y}"

    def file_of(pair: object) -> str:
        y, city = divmod(int(pair), 1_000_000)
        return f"{y}/{period_of(y)}/{city:06d}_{city_name[f'{city:06d}']}_{period_of(y)}{suffix}"

    # The file key depends on (year, city) only: build it once per distinct pair.
    file_key = _labels(year.astype(np.int64) * 1_000_000 + city_code.astype(np.int64), file_of)
    return {
        "file": file_key,
        "city": city_code,
        "地区代码": region_code,
        "地区名称": region_name,
        "指标代码": ind["indicator_code"].to_numpy(dtype=object)[ind_idx],
        "指标名称": ind["indicator_name_zh"].to_numpy(dtype=object)[ind_idx],
        "统计期": _labels(year, period_of),
        "数值": text,
        "单位": unit.astype(object),
    }


def _expand_periods(
    cube: np.ndarray, valid: np.ndarray, ind: pd.DataFrame, rng_q: np.random.Generator
) -> dict[str, np.ndarray]:
    """Long arrays (annual + Q1..Q4) for the valid cells of cube[region, year, indicator], in
    region-major, catalog order (= the row order inside a file)."""
    r, y, k = np.nonzero(np.broadcast_to(valid[:, :, None], cube.shape))  # region-major, indicator order
    annual = cube[r, y, k]
    flow = (ind["accumulation"].to_numpy() == "flow")[k]
    spec_sd = np.array([_quarter_sd(c) for c in ind["indicator_code"]])[k]
    q_sd = np.where(spec_sd < 0, np.abs(annual) * -spec_sd, spec_sd)
    lo, hi = _plausible_bounds(ind)
    decimals = np.where(ind["unit"].to_numpy() == "元", 0, 2)[k]
    quarters = _quarterly(annual, flow, q_sd, lo[k], hi[k], decimals, rng_q)
    return {"r": r, "y": y, "k": k, "annual": annual, "quarters": quarters}


def _select(long: dict[str, np.ndarray], keep: np.ndarray) -> dict[str, np.ndarray]:
    return {name: (v[:, keep] if v.ndim == 2 else v[keep]) for name, v in long.items()}


def _quarter_sd(code: str) -> float:
    """Absolute sd of a stock's quarterly revision; negative = relative to the value (log models)."""
    spec = SPECS.get(code)
    if spec is None:
        return 0.2 if code == "E02" else -0.01
    return -0.6 * max(spec.within, 0.02) if spec.kind == "log" else 0.6 * max(spec.within, 0.1)


def _plausible_bounds(ind: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    lo = ind["value_min"].to_numpy().copy()
    hi = ind["value_max"].to_numpy().copy()
    for k, code in enumerate(ind["indicator_code"]):
        spec = SPECS.get(code)
        if spec is not None:
            lo[k], hi[k] = max(lo[k], spec.lo), min(hi[k], spec.hi)
    return lo, hi


def _missing_mask(n: int, eligible: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    idx = np.flatnonzero(eligible)
    chosen = np.sort(rng.choice(idx, size=round(MISSING_RATE * idx.size), replace=False))
    missing = np.zeros(n, dtype=bool)
    missing[chosen] = True
    dash = np.zeros(n, dtype=bool)
    dash[chosen] = rng.random(chosen.size) < DASH_SHARE
    return missing, dash


def _rows_for(
    reg_code: np.ndarray,
    reg_name: np.ndarray,
    reg_city: np.ndarray,
    long: dict[str, np.ndarray],
    years: list[int],
    missing: np.ndarray,
    dash: np.ndarray,
    ind: pd.DataFrame,
    city_name: dict[str, str],
    suffix: str,
) -> list[dict[str, np.ndarray]]:
    """Rows of the annual file and Q1..Q4 for the selected long arrays."""
    r, y, k = long["r"], long["y"], long["k"]
    year = np.asarray(years)[y]
    code, name, city = (np.asarray(a, dtype=object)[r] for a in (reg_code, reg_name, reg_city))
    no = np.zeros(r.size, dtype=bool)
    frames = []
    for n in range(5):  # the annual file, then Q1..Q4
        values = long["annual"] if n == 0 else long["quarters"][n - 1]
        frames.append(
            _long_rows(
                code,
                name,
                city,
                year,
                n,
                k,
                values,
                missing if n == 0 else no,
                dash if n == 0 else no,
                ind,
                city_name,
                suffix,
            )
        )
    return frames


def _concat_rows(frames: Sequence[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    frames = [f for f in frames if f and len(f["file"])]
    return {col: np.concatenate([f[col] for f in frames]) for col in frames[0]}


def _file_chunks(rows: dict[str, np.ndarray]) -> Iterator[tuple[str, np.ndarray]]:
    """(file key, row positions) per distinct file key, in first-seen order; rows keep their order."""
    codes, keys = pd.factorize(rows["file"])
    order = np.argsort(codes, kind="stable")
    bounds = np.flatnonzero(np.diff(codes[order])) + 1
    for chunk in np.split(order, bounds):  # one iteration per file
        yield keys[codes[chunk[0]]], chunk


def _write_files(rows: dict[str, np.ndarray], landing_dir: Path, *, append: bool = False) -> list[str]:
    """One file per distinct file key; rows keep their order within a file.  append=True adds the rows
    to files an earlier call of this run created (no second header)."""
    fields = [_csv_quote(rows[col]) for col in HEADER]
    lines = np.array(list(map(",".join, zip(*fields, strict=True))), dtype=object)  # C-level join
    header = ",".join(HEADER)
    written = []
    for file_key, chunk in _file_chunks(rows):
        encoding = "gbk" if rows["city"][chunk[0]] in GBK_CITIES else "utf-8"
        path = landing_dir / f"{file_key}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        if not append:  # an earlier messy run may have sent this submission as a workbook
            path.with_suffix(".xlsx").unlink(missing_ok=True)
        body = "\n".join(lines[chunk].tolist()) + "\n"
        with path.open("ab" if append else "wb") as fh:
            fh.write((body if append else header + "\n" + body).encode(encoding))
        written.append(f"{file_key}.csv")
    return written


# Messy submissions (messy_rate > 0): the same figures, written the way bureaus really send them.

MESSY_FORMATS = ("utf-8-sig", "gb18030", "xlsx-1", "xlsx-2")  # BOM, GB18030, workbook with 1 or 2 title rows
_PADDING = (" ", "  ", "\u3000")  # stray ASCII and ideographic spaces: NFKC and trimming remove both
_FULL_WIDTH = str.maketrans("0123456789.,-%", "０１２３４５６７８９．，－％")
_NUMBER = re.compile(r"-?\d+(\.\d+)?")
_XLSX_TIMESTAMP = datetime(2000, 1, 1)  # fixed workbook timestamps: same arguments, same bytes
_ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class _Messy:
    """What the messy rewrite needs to keep every cell's meaning (the warehouse must read the same figure).

    name_forms: region code → other spellings of its name, each with the official full or short name it
    decodes to (NFKC + t2s, as ingest does); name_owner: (year, official full or short name) → the only
    region carrying that name that year: a row may drop its code only then (鼓楼区 never qualifies);
    traditional: indicator names and units → their traditional spelling, where it decodes back.
    """

    rate: float
    seed: int
    name_forms: dict[str, tuple[tuple[str, str], ...]]
    name_owner: dict[tuple[int, str], str]
    traditional: dict[str, str]


def _messy_context(rate: float, seed: int, regions: pd.DataFrame, ind: pd.DataFrame, years: Sequence[int]) -> _Messy:
    import opencc

    from hqd.landing.ingest import decode_text  # the warehouse's own decoding decides what is safe

    s2t = opencc.OpenCC("s2t")

    def traditional(text: str) -> str | None:
        t = s2t.convert(text)
        return t if t != text and decode_text(t) == decode_text(text) else None

    forms: dict[str, tuple[tuple[str, str], ...]] = {}
    owners: dict[tuple[int, str], set[str]] = {}
    for r in regions.itertuples(index=False):  # ~110 config rows
        labels = [r.region_name] + ([r.short_name] if r.short_name and r.short_name != r.region_name else [])
        spellings = [(t, label) for label in labels for t in (label, traditional(label)) if t]
        forms[r.region_code] = tuple((t, label) for t, label in spellings if t != r.region_name)
        for year in years:
            if r.valid_from_year <= year <= r.valid_to_year:
                for label in labels:
                    owners.setdefault((year, label), set()).add(r.region_code)
    trad = {text: t for text in {*ind["indicator_name_zh"], *ind["unit"], "万元"} if (t := traditional(text))}
    owner = {key: next(iter(codes)) for key, codes in owners.items() if len(codes) == 1}
    return _Messy(rate, seed, forms, owner, trad)


def _stable_int(text: str) -> int:
    """A process-independent integer for a file key (hash() is salted per process)."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")


def _pad(text: str, pick: int) -> str:
    pad = _PADDING[pick % len(_PADDING)]
    return (pad + text, text + pad, pad + text + pad)[(pick // len(_PADDING)) % 3]


def _thousands(number: str) -> str:
    """'-11433.27' → '-11,433.27'."""
    sign, body = ("-", number[1:]) if number.startswith("-") else ("", number)
    whole, dot, frac = body.partition(".")
    return f"{sign}{int(whole):,}{dot}{frac}"


def _decimal_text(value: Decimal) -> str:
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _messy_value(text: str, unit: str, pick: int) -> tuple[str, str]:
    """(value, unit) rewritten one way that keeps the figure; missing markers and odd text stay as they are."""
    number = text.removesuffix("%")
    if text in ("", MISSING_DASH) or not _NUMBER.fullmatch(number):  # missing stays missing, never messy
        return text, unit
    options = ["fullwidth", "pad"]
    options += ["thousands"] * (abs(Decimal(number)) >= 1000)
    options += ["percent"] * (unit == "%" and not text.endswith("%"))
    options += ["wan", "wan"] * (unit == "亿元")
    kind = options[pick % len(options)]
    if kind == "wan":  # 亿元 → 万元: ×10000, exactly (Decimal), often with separators
        wan = _decimal_text(Decimal(number) * 10000)
        return (_thousands(wan) if (pick >> 8) % 2 else wan), "万元"
    if kind == "percent":
        return text + "%", unit
    if kind == "thousands":
        return _thousands(number) + text[len(number) :], unit
    if kind == "fullwidth":
        return text.translate(_FULL_WIDTH), unit
    return _pad(text, pick >> 8), unit


def _messy_cells(
    messy: _Messy, file_key: str, cols: dict[str, list[str]], protected: np.ndarray, formats: Sequence[str]
) -> tuple[str, int]:
    """Rewrite a share of one file's cells in place; return the file's format (one of formats, or "csv")
    and how many cells changed.  All draws come from the file's own stream in a fixed order, so a file
    does not depend on which other files (years, scale) are written."""
    rng = np.random.default_rng([messy.seed, _STREAM_MESSY, _stable_int(file_key)])
    n = len(cols["数值"])
    file_hit, file_pick = rng.random() < messy.rate, int(rng.integers(1 << 30))
    hit = {col: np.flatnonzero((rng.random(n) < messy.rate) & ~protected) for col in HEADER}
    pick = {col: rng.integers(0, 1 << 30, n).tolist() for col in HEADER}
    before = {col: list(cols[col]) for col in HEADER}

    name_hit, code_hit = set(hit["地区名称"].tolist()), set(hit["地区代码"].tolist())
    for i in sorted(name_hit | code_hit):
        code, label = cols["地区代码"][i], cols["地区名称"][i]  # label: the official name it decodes to
        if i in name_hit:
            p = pick["地区名称"][i]
            options = [(_pad(label, p >> 8), label), *messy.name_forms.get(code, ())]
            cols["地区名称"][i], label = options[p % len(options)]
        if i in code_hit:
            p = pick["地区代码"][i]
            unique = messy.name_owner.get((int(cols["统计期"][i][:4]), label)) == code
            options = [code.translate(_FULL_WIDTH), _pad(code, p >> 8)] + ["", ""] * unique
            cols["地区代码"][i] = options[p % len(options)]
    for i in hit["指标名称"]:
        name, p = cols["指标名称"][i], pick["指标名称"][i]
        options = [_pad(name, p >> 1)] + ([messy.traditional[name]] if name in messy.traditional else [])
        cols["指标名称"][i] = options[p % len(options)]
    for i in hit["指标代码"]:  # blank: the (kept, decodable) name identifies the indicator
        code, p = cols["指标代码"][i], pick["指标代码"][i]
        cols["指标代码"][i] = ("", "", code.lower(), _pad(code, p >> 2))[p % 4]
    for i in hit["统计期"]:
        period, p = cols["统计期"][i], pick["统计期"][i]
        year, _, quarter = period.partition("Q")
        if quarter:
            options = (f"{year}年第{quarter}季度", f"{year}-Q{quarter}", _pad(period, p >> 2))
        else:
            options = (f"{year}年", year.translate(_FULL_WIDTH), _pad(period, p >> 2))
        cols["统计期"][i] = options[p % 3]
    for i in hit["数值"]:
        cols["数值"][i], cols["单位"][i] = _messy_value(cols["数值"][i], cols["单位"][i], pick["数值"][i])
    for i in hit["单位"]:
        unit, p = cols["单位"][i], pick["单位"][i]
        options = [_pad(unit, p >> 2)] + ([messy.traditional[unit]] if unit in messy.traditional else [])
        options += [unit.translate(_FULL_WIDTH)] if unit == "%" else []
        cols["单位"][i] = options[p % len(options)]

    changed = sum(a != b for col in HEADER for a, b in zip(before[col], cols[col], strict=True))
    return (formats[file_pick % len(formats)] if file_hit else "csv"), changed


def _xlsx_bytes(cols: dict[str, list[str]], title_rows: int, title: str, subtitle: str) -> bytes:
    """A workbook as a bureau exports it: title row(s) merged across the header width, then the table.
    Plain numbers and codes become numeric cells (read back as the same text); anything else stays text."""
    from openpyxl import Workbook
    from openpyxl.writer.excel import ExcelWriter

    wb = Workbook()
    ws = wb.active
    ws.title = "数据"
    width = len(HEADER)
    ws.append([title] + [None] * (width - 1))
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    if title_rows > 1:
        ws.append([subtitle] + [None] * (width - 1))
        ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=width)
    ws.append(list(HEADER))
    numeric = {"地区代码", "统计期", "数值"}
    for row in zip(*(cols[c] for c in HEADER), strict=True):
        ws.append(
            [
                None
                if text == ""
                else (float(text) if "." in text else int(text))
                if col in numeric and _NUMBER.fullmatch(text)
                else text
                for col, text in zip(HEADER, row, strict=True)
            ]
        )
    wb.properties.created = wb.properties.modified = _XLSX_TIMESTAMP
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(wb, archive).write_data()  # save_workbook would stamp the current time
    # zip entries carry the write time too: rewrite them with a fixed one
    out = io.BytesIO()
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(zipfile.ZipInfo(info.filename, date_time=_ZIP_TIMESTAMP), src.read(info.filename))
    return out.getvalue()


def _period_title(period: str) -> str:
    year, _, quarter = period.partition("Q")
    return f"{year}年" + (f"1-{int(quarter) * 3}月" if quarter else "")


def _write_messy_files(
    rows: dict[str, np.ndarray], landing_dir: Path, messy: _Messy, protected: np.ndarray, city_name: dict[str, str]
) -> tuple[list[str], int, int]:
    """Like _write_files, with a share of cells and files made messy: (files written, cells, files)."""
    header = ",".join(HEADER)
    written, messy_cells, messy_files = [], 0, 0
    for file_key, chunk in _file_chunks(rows):
        city = rows["city"][chunk[0]]
        gbk = city in GBK_CITIES
        cols = {col: rows[col][chunk].tolist() for col in HEADER}
        # GBK files are GB18030 already (same bytes for GBK text): their variants are BOM and workbooks
        formats = tuple(f for f in MESSY_FORMATS if not (gbk and f == "gb18030"))
        fmt, changed = _messy_cells(messy, file_key, cols, protected[chunk], formats)
        messy_cells += changed
        messy_files += fmt != "csv"
        path = landing_dir / f"{file_key}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        if fmt.startswith("xlsx"):
            period = file_key.split("/")[1]
            title = f"{city_name[city]}{_period_title(period)}高质量发展综合考核指标数据"
            subtitle = f"填报单位：{city_name[city]}统计局"
            path.unlink(missing_ok=True)  # one submission, one file
            path = path.with_suffix(".xlsx")
            path.write_bytes(_xlsx_bytes(cols, int(fmt[-1]), title, subtitle))
        else:
            path.with_suffix(".xlsx").unlink(missing_ok=True)
            fields = [_csv_quote(np.asarray(cols[col], dtype=object)) for col in HEADER]
            body = "\n".join(map(",".join, zip(*fields, strict=True)))
            encoding = fmt if fmt != "csv" else ("gb18030" if gbk else "utf-8")
            path.write_bytes(f"{header}\n{body}\n".encode(encoding))
        written.append(path.relative_to(landing_dir).as_posix())
    return written, messy_cells, messy_files


def generate_sample(
    landing_dir: Path,
    *,
    years: list[int] | None = None,
    seed: int = 20240330,
    scale: int = 1,
    seeds_dir: Path | None = None,
    messy_rate: float = 0.0,
) -> GenerationReport:
    """Write the sample submissions under landing_dir and report what was written.

    years: a subset of the assessment years (default all); the files of a year do not depend on which
    other years are written.  seed: base of every random stream.  scale: 1..MAX_SCALE, > 1 adds the
    synthetic county files (see the module docstring).  seeds_dir: the project's ``seeds`` folder by
    default.  messy_rate: 0..1, the share of cells and of files rewritten the way bureaus send them
    (see the module docstring); 0 writes the clean files.  Files are overwritten (a submission written
    as a workbook replaces its CSV and vice versa); other files already in landing_dir are left alone.
    Raises ValueError for unknown years, a scale or a messy_rate out of range.
    """
    started = time.perf_counter()
    landing_dir = Path(landing_dir)
    seeds = _read_seeds(Path(seeds_dir) if seeds_dir is not None else DEFAULT_SEEDS_DIR)
    if not isinstance(scale, int) or not 1 <= scale <= MAX_SCALE:
        raise ValueError(f"scale must be an integer in 1..{MAX_SCALE}, got {scale!r}")
    if not isinstance(messy_rate, int | float) or not 0.0 <= messy_rate <= 1.0:
        raise ValueError(f"messy_rate must be a number in 0..1, got {messy_rate!r}")
    keep_years = sorted(set(seeds.years if years is None else years))
    unknown = sorted(set(keep_years) - set(seeds.years))
    if unknown or not keep_years:
        raise ValueError(f"years must be non-empty assessment years {seeds.years}; unknown: {unknown}")
    all_years = list(seeds.years)
    ind = seeds.indicators

    reg, valid, sim = _simulate_real(seeds, seed)
    cube = sim["cube"]
    reg_code = reg["region_code"].to_numpy(dtype=str)
    reg_name = reg["region_name"].to_numpy(dtype=str)
    is_city = (reg["level"] == "city").to_numpy()
    reg_city = np.where(is_city, reg_code, reg["parent_code"].to_numpy(dtype=str))
    city_name = dict(zip(reg_code[is_city], reg_name[is_city], strict=True))

    # Everything is drawn over all assessment years and filtered afterwards, so a subset of years
    # writes the same files for those years.
    long = _expand_periods(cube, valid, ind, np.random.default_rng([seed, _STREAM_VALUES, 1]))
    ind_code = ind["indicator_code"].to_numpy(dtype=str)
    year_of = np.asarray(all_years)[long["y"]]
    code_of, icode_of = reg_code[long["r"]], ind_code[long["k"]]

    # Missing values: never on known figures, defect keys or the cells the correction file revisits.
    protected = np.zeros(code_of.size, dtype=bool)
    keys = [(r.region_code, r.assessment_year, r.indicator_code) for r in seeds.known.itertuples()]
    keys += [(d.region_code, d.year, d.indicator_code) for d in DEFECTS]
    for code, yr, icode in keys:  # a few dozen keys
        protected |= (code_of == code) & (year_of == yr) & (icode_of == icode)
    protected |= (
        (reg_city[long["r"]] == CORRECTION_CITY) & (year_of == CORRECTION_YEAR) & (icode_of == CORRECTION_INDICATOR)
    )
    rng_missing = np.random.default_rng([seed, _STREAM_MISSING])
    missing, dash = _missing_mask(code_of.size, ~protected, rng_missing)

    keep = np.isin(year_of, keep_years)
    frames = _rows_for(
        reg_code,
        reg_name,
        reg_city,
        _select(long, keep),
        all_years,
        missing[keep],
        dash[keep],
        ind,
        city_name,
        "",
    )
    missing_values = int(missing[keep].sum())

    extra, defect_rows = _defect_rows(reg, cube, all_years, keep_years, ind)
    corr, corrections = _correction_rows(reg, cube, valid, all_years, keep_years, ind, seed)
    rows = _concat_rows([*frames, extra, corr])
    messy_cells = messy_files = 0
    if messy_rate > 0:
        # The defect rows keep their exact text, so that each is still rejected for its documented reason.
        n_clean = sum(len(f["file"]) for f in frames if f)
        protected = np.zeros(len(rows["file"]), dtype=bool)
        protected[n_clean : n_clean + defect_rows] = True
        messy = _messy_context(messy_rate, seed, seeds.regions, ind, all_years)
        written, messy_cells, messy_files = _write_messy_files(rows, landing_dir, messy, protected, city_name)
        files = set(written)
    else:
        files = set(_write_files(rows, landing_dir))
    rows_written = len(rows["file"])
    del rows

    synthetic_rows = 0
    replicas = _synthetic_rows(seeds, reg, valid, sim, keep_years, scale, seed)
    for rep, (syn_rows, syn_missing) in enumerate(replicas, start=1):  # one batch per replica
        files.update(_write_files(syn_rows, landing_dir, append=rep > 1))
        synthetic_rows += len(syn_rows["file"])
        missing_values += syn_missing
    return GenerationReport(
        landing_dir=landing_dir,
        years=tuple(keep_years),
        seed=seed,
        scale=scale,
        files_written=len(files),
        rows_written=rows_written + synthetic_rows,
        missing_values=missing_values,
        defect_rows=defect_rows,
        corrections=corrections,
        synthetic_rows=synthetic_rows,
        elapsed_seconds=time.perf_counter() - started,
        files=tuple(sorted(files)),
        messy_rate=float(messy_rate),
        messy_cells=messy_cells,
        messy_files=messy_files,
    )


def _single_rows(
    records: list[dict[str, object]], ind: pd.DataFrame, city_name: dict[str, str], suffix: str
) -> dict[str, np.ndarray]:
    """A handful of hand-made rows (defects, corrections), value text given verbatim."""
    if not records:
        return {}
    df = pd.DataFrame(records)
    period = df["year"].astype(str)
    df["file"] = period + "/" + period + "/" + df["city"] + "_" + df["city"].map(city_name) + "_" + period + suffix
    df["统计期"] = period
    return {col: df[col].to_numpy(dtype=str).astype(object) for col in ("file", "city", *HEADER)}


def _defect_rows(
    reg: pd.DataFrame, cube: np.ndarray, years: list[int], keep_years: list[int], ind: pd.DataFrame
) -> tuple[dict[str, np.ndarray], int]:
    row_of = {c: i for i, c in enumerate(reg["region_code"])}
    names = dict(zip(reg["region_code"], reg["region_name"], strict=True))
    city_name = {c: names[c] for c in reg.loc[reg["level"] == "city", "region_code"]}
    ind_row = {c: i for i, c in enumerate(ind["indicator_code"])}
    records: list[dict[str, object]] = []
    for d in DEFECTS:
        if d.year not in keep_years:
            continue
        k = ind_row.get(d.indicator_code)
        text = d.value_text
        if text is None:  # the modelled value of a region that no longer reports
            text = _format_values(
                np.array([cube[row_of[d.region_code], years.index(d.year), k]]),
                np.array([0 if ind["unit"].iloc[k] == "元" else 2]),
            )[0]
        records.append(
            {
                "year": d.year,
                "city": d.city_code,
                "地区代码": d.region_code,
                "地区名称": names[d.region_code],
                "指标代码": d.indicator_code,
                "指标名称": d.indicator_name or ind["indicator_name_zh"].iloc[k],
                "数值": text,
                "单位": d.unit or ind["unit"].iloc[k],
            }
        )
    return _single_rows(records, ind, city_name, ""), len(records)


def _correction_rows(
    reg: pd.DataFrame,
    cube: np.ndarray,
    valid: np.ndarray,
    years: list[int],
    keep_years: list[int],
    ind: pd.DataFrame,
    seed: int,
) -> tuple[dict[str, np.ndarray], int]:
    if CORRECTION_YEAR not in keep_years:
        return {}, 0
    y = years.index(CORRECTION_YEAR)
    k = int(np.flatnonzero(ind["indicator_code"].to_numpy() == CORRECTION_INDICATOR)[0])
    counties = np.flatnonzero((reg["parent_code"].to_numpy() == CORRECTION_CITY) & valid[:, y])
    rng = np.random.default_rng([seed, _STREAM_CORRECTIONS])
    chosen = np.sort(rng.choice(counties, size=CORRECTION_COUNT, replace=False))
    # Revisions of 0.1-0.6 points either way: visibly different, still plausible.
    delta = rng.uniform(0.1, 0.6, CORRECTION_COUNT) * rng.choice([-1.0, 1.0], CORRECTION_COUNT)
    values = np.round(cube[chosen, y, k] + delta, 2) + 0.0
    text = _format_values(values, np.full(CORRECTION_COUNT, 2))
    names = reg["region_name"].to_numpy()
    city_name = {CORRECTION_CITY: reg.loc[reg["region_code"] == CORRECTION_CITY, "region_name"].iloc[0]}
    records: list[dict[str, object]] = [
        {
            "year": CORRECTION_YEAR,
            "city": CORRECTION_CITY,
            "地区代码": reg["region_code"].iloc[i],
            "地区名称": names[i],
            "指标代码": CORRECTION_INDICATOR,
            "指标名称": ind["indicator_name_zh"].iloc[k],
            "数值": t,
            "单位": ind["unit"].iloc[k],
        }
        for i, t in zip(chosen, text, strict=True)
    ]
    return _single_rows(records, ind, city_name, CORRECTION_SUFFIX), len(records)


def _synthetic_rows(
    seeds: _Seeds,
    reg: pd.DataFrame,
    valid: np.ndarray,
    sim: dict[str, np.ndarray],
    keep_years: list[int],
    scale: int,
    seed: int,
) -> Iterator[tuple[dict[str, np.ndarray], int]]:
    """Per replica (1..scale-1): its rows and missing-value count.  Each replica of the real counties
    has its own draws (no known figures, no defects); yielding keeps memory flat for large scales."""
    years = list(seeds.years)
    ind = seeds.indicators
    county = (reg["level"] == "county").to_numpy()
    sub = reg[county].reset_index(drop=True)
    c_valid = valid[county]
    codes = sub["region_code"].to_numpy(dtype=str)
    parent = sub["parent_code"].to_numpy(dtype=str)
    cls = _class_matrix(parent, years, seeds.classes)
    cls = np.where(cls < 0, 2, cls)
    pop = sim["pop"][county]
    sign = dict(zip(ind["indicator_code"], np.where(ind["direction"] == "lower", -1.0, 1.0), strict=True))
    suffix_of = synthetic_suffixes(codes)
    lo, hi = ind["value_min"].to_numpy(), ind["value_max"].to_numpy()
    decimals = np.where(ind["unit"].to_numpy() == "元", 0, 2)
    is_city = (reg["level"] == "city").to_numpy()
    city_name = dict(zip(reg["region_code"][is_city], reg["region_name"][is_city], strict=True))
    for rep in range(1, scale):  # one vectorised simulation per replica
        rng = np.random.default_rng([seed, _STREAM_SYNTHETIC + rep])
        vals = _simulate_counties(
            cls, (sub["region_type"] == "district").to_numpy(), pop, np.arange(len(sub)), years, sign, rng
        )
        cube = np.clip(np.stack([vals[c] for c in ind["indicator_code"]], axis=2), lo, hi)
        cube = np.where(decimals == 0, np.round(cube), np.round(cube, 2)) + 0.0
        long = _expand_periods(cube, c_valid, ind, rng)
        missing, dash = _missing_mask(long["r"].size, np.ones(long["r"].size, dtype=bool), rng)
        keep = np.isin(np.asarray(years)[long["y"]], keep_years)
        long, missing, dash = _select(long, keep), missing[keep], dash[keep]
        syn_code = np.array([f"9{rep:02d}{suffix_of[c]}" for c in codes])  # ~100 labels, not data rows
        syn_name = np.char.add(sub["region_name"].to_numpy(dtype=str), f"#{rep}")
        frames = _rows_for(syn_code, syn_name, parent, long, years, missing, dash, ind, city_name, SYNTHETIC_SUFFIX)
        yield _concat_rows(frames), int(missing.sum())


def landing_is_empty(landing_dir: Path) -> bool:
    """True if the folder is missing or holds no .csv/.xlsx file (at any depth)."""
    landing_dir = Path(landing_dir)
    if not landing_dir.is_dir():
        return True
    return not any(p.is_file() and p.suffix.lower() in {".csv", ".xlsx"} for p in landing_dir.rglob("*"))


def parse_years(text: str) -> list[int]:
    """'2018-2024', '2023' or '2018,2020,2023'."""
    out: list[int] = []
    for part in text.split(","):
        part = part.strip()
        if "-" in part:
            a, b = (int(x) for x in part.split("-", 1))
            out.extend(range(min(a, b), max(a, b) + 1))
        elif part:
            out.append(int(part))
    return out
