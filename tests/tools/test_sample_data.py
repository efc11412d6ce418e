"""Tests of the deterministic sample-submission generator (orchestration/sample_data.py)."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tools.sample_data import (
    DEFECTS,
    HEADER,
    MISSING_DASH,
    GenerationReport,
    generate_sample,
    landing_is_empty,
    synthetic_suffixes,
)

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
GBK_CITIES = {"320300", "321300"}


def _encoding(path: Path) -> str:
    return "gbk" if path.name[:6] in GBK_CITIES else "utf-8"


def _read(path: Path) -> pd.DataFrame:
    text = path.read_bytes().decode(_encoding(path))
    df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    df["file"] = path.name
    return df


def _digest(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*.csv")):
        h.update(p.relative_to(root).as_posix().encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def _number(df: pd.DataFrame) -> pd.Series:
    """Numeric value in the indicator's catalog unit (undoing 万元 and 59.5%)."""
    v = pd.to_numeric(df["数值"].str.rstrip("%"), errors="coerce")
    return v.where(df["单位"] != "万元", v / 10000)


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GenerationReport]:
    landing = tmp_path_factory.mktemp("landing")
    return landing, generate_sample(landing)


@pytest.fixture(scope="module")
def rows(sample: tuple[Path, GenerationReport]) -> pd.DataFrame:
    landing, _ = sample
    frames = []
    for path in sorted(landing.rglob("*.csv")):
        df = _read(path)
        df["year"] = int(path.parts[-3])
        df["period_dir"] = path.parts[-2]
        df["correction"] = path.stem.endswith("_更正")
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def regions() -> pd.DataFrame:
    reg = pd.read_csv(SEEDS / "reference/regions.csv", dtype=str, keep_default_na=False)
    reg["to"] = pd.to_numeric(reg["valid_to_year"].replace("", "9999")).astype(int)
    reg["from"] = reg["valid_from_year"].astype(int)
    return reg


@pytest.fixture(scope="module")
def indicators() -> pd.DataFrame:
    return pd.read_csv(SEEDS / "reference/indicators.csv", dtype=str, keep_default_na=False)


def _is_defect(df: pd.DataFrame) -> pd.Series:
    mask = pd.Series(False, index=df.index)
    for d in DEFECTS:
        hit = (df["year"] == d.year) & (df["period_dir"] == str(d.year)) & (df["地区代码"] == d.region_code)
        hit &= df["指标代码"] == d.indicator_code
        if d.value_text is not None:
            hit &= df["数值"] == d.value_text
        mask |= hit
    return mask


def _annual(rows: pd.DataFrame) -> pd.DataFrame:
    return rows[(rows["period_dir"] == rows["year"].astype(str)) & ~rows["correction"]]


def test_same_arguments_give_identical_bytes(tmp_path: Path, sample: tuple[Path, GenerationReport]) -> None:
    landing, _ = sample
    generate_sample(tmp_path / "again")
    assert _digest(tmp_path / "again") == _digest(landing)


def test_other_seed_gives_other_values(tmp_path: Path) -> None:
    generate_sample(tmp_path / "a", years=[2023])
    generate_sample(tmp_path / "b", years=[2023], seed=7)
    assert _digest(tmp_path / "a") != _digest(tmp_path / "b")


def test_year_subset_writes_the_same_files(tmp_path: Path, sample: tuple[Path, GenerationReport]) -> None:
    landing, _ = sample
    report = generate_sample(tmp_path, years=[2021, 2023])
    assert report.files_written == 2 * 5 * 13 + 1
    for rel in report.files:
        assert (tmp_path / rel).read_bytes() == (landing / rel).read_bytes(), rel


def test_file_count_layout_and_report(sample: tuple[Path, GenerationReport], rows: pd.DataFrame) -> None:
    landing, report = sample
    files = sorted(p.relative_to(landing).as_posix() for p in landing.rglob("*.csv"))
    assert len(files) == 7 * 5 * 13 + 1 == 456
    assert report.files_written == 456 and list(report.files) == files
    assert report.rows_written == len(rows)
    assert report.defect_rows == 4 and report.corrections == 5
    assert report.years == tuple(range(2018, 2025))
    assert "2023/2023/320500_苏州市_2023_更正.csv" in files
    assert "2018/2018Q3/320700_连云港市_2018Q3.csv" in files
    for year in range(2018, 2025):
        for period in [str(year), *(f"{year}Q{q}" for q in range(1, 5))]:
            names = {p.name for p in (landing / str(year) / period).glob("*.csv")}
            assert len(names - {f"320500_苏州市_{period}_更正.csv"}) == 13
            assert all(n.endswith(f"_{period}.csv") or n.endswith("_更正.csv") for n in names)
    # 统计期 matches the folder.
    assert (rows["统计期"] == rows["period_dir"]).all()


def test_files_are_clean_csv(sample: tuple[Path, GenerationReport]) -> None:
    landing, _ = sample
    for path in landing.rglob("*.csv"):
        raw = path.read_bytes()
        assert raw.endswith(b"\n") and b"\r" not in raw, path
        text = raw.decode(_encoding(path))
        lines = list(csv.reader(io.StringIO(text)))
        assert lines[0] == list(HEADER)
        assert all(len(line) == 7 for line in lines), path


def test_gbk_files_for_xuzhou_and_suqian(sample: tuple[Path, GenerationReport]) -> None:
    landing, _ = sample
    raw = (landing / "2023/2023/320300_徐州市_2023.csv").read_bytes()
    assert "徐州市" in raw.decode("gbk")
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert "宿迁市" in (landing / "2021/2021Q2/321300_宿迁市_2021Q2.csv").read_bytes().decode("gbk")
    assert "苏州市" in (landing / "2023/2023/320500_苏州市_2023.csv").read_bytes().decode("utf-8")


def test_every_existing_region_once_per_indicator(
    rows: pd.DataFrame, regions: pd.DataFrame, indicators: pd.DataFrame
) -> None:
    annual = _annual(rows)
    annual = annual[~_is_defect(annual)]
    codes = set(indicators["indicator_code"])
    for year, got in annual.groupby("year"):
        exists = regions[(regions["from"] <= year) & (year <= regions["to"])]
        counts = got.groupby(["地区代码", "指标代码"]).size()
        assert (counts == 1).all(), counts[counts != 1]
        assert set(got["地区代码"]) == set(exists["region_code"]), year
        assert set(got["指标代码"]) == codes
        assert len(got) == len(exists) * len(codes)
        # Each region sits in its own city's file.
        city = got["地区代码"].map(
            dict(
                zip(
                    regions["region_code"],
                    np.where(regions["level"] == "city", regions["region_code"], regions["parent_code"]),
                    strict=True,
                )
            )
        )
        assert (got["file"].str[:6] == city).all()
    present = {y: set(g["地区代码"]) for y, g in annual.groupby("year")}
    assert "320613" not in present[2020] and "320613" in present[2021]
    assert "320602" in present[2020] and "320602" not in present[2021]
    assert "320621" not in present[2018] and "320685" in present[2018]


def test_quarterly_files_cover_the_same_keys(rows: pd.DataFrame) -> None:
    annual = _annual(rows)
    annual = annual[~_is_defect(annual)]
    for q in range(1, 5):
        quarter = rows[rows["period_dir"] == rows["year"].astype(str) + f"Q{q}"]
        assert len(quarter) == len(annual)
        a = annual.set_index(["year", "地区代码", "指标代码"]).index
        assert quarter.set_index(["year", "地区代码", "指标代码"]).index.sort_values().equals(a.sort_values())


def test_known_figures_are_placed(rows: pd.DataFrame) -> None:
    annual = _annual(rows).set_index(["地区代码", "year", "指标代码"])["数值"]
    assert annual[("320583", 2023, "E06")] == "11433"
    assert annual[("320583", 2023, "E07")] == "59.5"
    known = pd.read_csv(SEEDS / "reference/known_figures.csv", dtype=str)
    for k in known.itertuples():
        text = annual[(k.region_code, int(k.assessment_year), k.indicator_code)]
        if k.comparator == "equals":
            assert float(text) == float(k.value), k
        else:
            assert float(text) > float(k.value), k
    q4 = rows[rows["period_dir"] == "2023Q4"].set_index(["地区代码", "指标代码"])["数值"]
    assert q4[("320583", "E06")] == "11433" and q4[("320583", "E07")] == "59.5"


def test_q4_equals_annual_and_flow_q1_is_about_a_quarter(rows: pd.DataFrame) -> None:
    key = ["year", "地区代码", "指标代码"]
    annual = _annual(rows)
    annual = annual[~_is_defect(annual) & (annual["数值"] != "") & (annual["数值"] != MISSING_DASH)]
    a = annual.set_index(key)
    q4 = rows[rows["period_dir"] == rows["year"].astype(str) + "Q4"].set_index(key)
    q1 = rows[rows["period_dir"] == rows["year"].astype(str) + "Q1"].set_index(key)
    # Q4 repeats the annual value for every indicator, flows and stocks alike.
    assert (q4.loc[a.index, "数值"] == a["数值"]).all()
    for code in ("E01", "E04", "L02"):  # flows
        idx = a.index[a.index.get_level_values("指标代码") == code]
        ratio = _number(q1.loc[idx]) / _number(a.loc[idx])
        assert ratio.between(0.2, 0.3).all(), code
        assert abs(ratio.median() - 0.25) < 0.03
    # Year-to-date flows grow through the year.
    q2 = rows[rows["period_dir"] == rows["year"].astype(str) + "Q2"].set_index(key)
    idx = a.index[a.index.get_level_values("指标代码") == "E01"]
    assert (_number(q2.loc[idx]) > _number(q1.loc[idx])).all()
    # Stocks stay near the annual value.
    idx = a.index[a.index.get_level_values("指标代码") == "R01"]
    assert ((_number(q1.loc[idx]) - _number(a.loc[idx])).abs() < 5).all()


def test_values_within_catalog_bounds(rows: pd.DataFrame, indicators: pd.DataFrame) -> None:
    data = rows[~_is_defect(rows) & (rows["数值"] != "") & (rows["数值"] != MISSING_DASH)]
    values = _number(data)
    assert values.notna().all()
    bounds = indicators.set_index("indicator_code")
    lo = pd.to_numeric(data["指标代码"].map(bounds["value_min"]).replace("", None)).fillna(-np.inf)
    hi = pd.to_numeric(data["指标代码"].map(bounds["value_max"]).replace("", None)).fillna(np.inf)
    assert ((values >= lo) & (values <= hi)).all()
    unit = data["指标代码"].map(bounds["unit"])
    assert ((data["单位"] == unit) | ((data["单位"] == "万元") & (unit == "亿元"))).all()
    # 元 values are whole numbers, others have at most 2 decimals.
    assert not data.loc[unit == "元", "数值"].str.contains(r"\.").any()
    assert not data["数值"].str.contains(r"\.\d{3}|,|e", regex=True).any()


def test_plausible_magnitudes(rows: pd.DataFrame) -> None:
    annual = _annual(rows)
    annual = annual[~_is_defect(annual)].assign(v=lambda d: _number(d))
    v = annual.set_index(["year", "地区代码", "指标代码"])["v"]
    e12 = v.xs("E12", level="指标代码").dropna()
    l04 = v.xs("L04", level="指标代码").dropna()
    r01 = v.xs("R01", level="指标代码").dropna()
    assert e12.between(8, 25).all() and l04.between(3, 5.5).all() and r01.between(70, 95).all()
    # E04 is 6-9 % of GDP and E06 1.2-2.2 × GDP for counties without published figures.
    ratio = (v.xs("E04", level="指标代码") / v.xs("E01", level="指标代码")).dropna()
    assert ratio.median() == pytest.approx(0.073, abs=0.01)
    # Cities are about the sum of their counties.
    e01 = annual[annual["指标代码"] == "E01"]
    for year in (2018, 2023):
        y = e01[e01["year"] == year].dropna(subset=["v"])
        city = y[y["地区代码"].str.endswith("00")].set_index("地区代码")["v"]
        county = y[~y["地区代码"].str.endswith("00")]
        sums = county.groupby(county["file"].str[:6])["v"].sum()
        assert len(county) > 90
        ok = ((city / sums.reindex(city.index)) - 1).abs() < 0.03
        assert ok.sum() >= 12  # a missing county value may spoil one city
    # GDP grows: 2018 about a quarter lower than 2023 for 苏州.
    assert v[(2018, "320500", "E01")] / v[(2023, "320500", "E01")] == pytest.approx(0.75, abs=0.08)
    # Class Ⅰ cities are richer per head than class Ⅲ.
    e03 = v.xs(2023, level="year").xs("E03", level="指标代码")
    assert e03["320500"] > e03["320300"] and e03["320100"] > e03["321300"]


def test_renamed_and_merged_regions_continue(rows: pd.DataFrame) -> None:
    annual = _annual(rows)
    e01 = annual[annual["指标代码"] == "E01"].set_index(["year", "地区代码"])["数值"].astype(float)
    merged = e01[(2021, "320613")] / (e01[(2020, "320602")] + e01[(2020, "320611")])
    renamed = e01[(2021, "320614")] / e01[(2020, "320684")]  # 海门市 → 海门区
    assert 1.0 < merged < 1.2 and 1.0 < renamed < 1.2


def test_nanjing_reports_wan_yuan_and_changzhou_percent_signs(rows: pd.DataFrame, indicators: pd.DataFrame) -> None:
    unit = rows["指标代码"].map(indicators.set_index("indicator_code")["unit"])
    nanjing = rows[rows["file"].str.startswith("320100_")]
    yi = nanjing[unit.loc[nanjing.index] == "亿元"]
    assert len(yi) > 0 and (yi["单位"] == "万元").all()
    gdp = yi[(yi["地区代码"] == "320100") & (yi["指标代码"] == "E01") & (yi["period_dir"] == "2023")]
    assert 1.0e8 < float(gdp["数值"].iloc[0]) < 3.0e8  # 1-3 万亿元 written in 万元
    assert (rows.loc[~rows["file"].str.startswith("320100_"), "单位"] != "万元").all()

    changzhou = rows[rows["file"].str.startswith("320400_") & (rows["单位"] == "%")]
    filled = changzhou[(changzhou["数值"] != "") & (changzhou["数值"] != MISSING_DASH)]
    assert len(filled) > 0 and filled["数值"].str.fullmatch(r"-?\d+(\.\d{1,2})?%").all()
    others = rows[~rows["file"].str.startswith("320400_")]
    assert not others.loc[~_is_defect(others), "数值"].str.endswith("%").any()


def test_missing_values(sample: tuple[Path, GenerationReport], rows: pd.DataFrame) -> None:
    _, report = sample
    annual = _annual(rows)
    missing = annual["数值"].isin(["", MISSING_DASH])
    assert missing.sum() == report.missing_values
    assert 0.002 < missing.mean() < 0.004
    assert 0 < (annual["数值"] == MISSING_DASH).sum() < (annual["数值"] == "").sum()
    quarterly = rows[rows["period_dir"] != rows["year"].astype(str)]
    assert not quarterly["数值"].isin(["", MISSING_DASH]).any()


def test_defect_rows(rows: pd.DataFrame) -> None:
    annual = _annual(rows)
    gangzha = annual[(annual["地区代码"] == "320611") & (annual["year"] == 2022)]
    assert list(gangzha["指标代码"]) == ["E01"] and gangzha["file"].iloc[0] == "320600_南通市_2022.csv"
    assert float(gangzha["数值"].iloc[0]) > 0
    assert (annual.loc[annual["year"] >= 2021, "地区代码"] == "320611").sum() == 1
    e99 = rows[rows["指标代码"] == "E99"]
    assert len(e99) == 1 and e99["file"].iloc[0] == "320800_淮安市_2023.csv"
    bad = annual[(annual["year"] == 2023) & (annual["地区代码"] == "320981") & (annual["指标代码"] == "L01")]
    assert sorted(bad["数值"])[0] == "12..5" and len(bad) == 2
    high = annual[(annual["year"] == 2024) & (annual["地区代码"] == "321181") & (annual["指标代码"] == "E07")]
    assert "135" in set(high["数值"]) and len(high) == 2 and high["file"].iloc[0] == "321100_镇江市_2024.csv"
    assert _is_defect(rows).sum() == 4


def test_correction_file(sample: tuple[Path, GenerationReport], rows: pd.DataFrame) -> None:
    landing, _ = sample
    corr = _read(landing / "2023/2023/320500_苏州市_2023_更正.csv")
    assert len(corr) == 5 and corr["地区代码"].is_unique
    assert (corr["指标代码"] == "E02").all() and (corr["统计期"] == "2023").all()
    assert corr["地区代码"].str.startswith("3205").all() and not corr["地区代码"].str.endswith("00").any()
    first = _annual(rows)
    first = first[(first["year"] == 2023) & (first["指标代码"] == "E02")].set_index("地区代码")["数值"]
    for code, value in zip(corr["地区代码"], corr["数值"], strict=True):
        assert float(value) != float(first[code])
        assert abs(float(value) - float(first[code])) < 1


def test_scale_adds_synthetic_counties(tmp_path: Path, sample: tuple[Path, GenerationReport]) -> None:
    landing, _ = sample
    report = generate_sample(tmp_path, years=[2023], scale=3)
    real = [f for f in report.files if "_synthetic" not in f]
    synth = [f for f in report.files if "_synthetic" in f]
    assert len(real) == 5 * 13 + 1 and len(synth) == 5 * 13
    for rel in real:  # scale never changes the real files
        assert (tmp_path / rel).read_bytes() == (landing / rel).read_bytes()
    df = _read(tmp_path / "2023/2023/320500_苏州市_2023_synthetic.csv")
    assert {"901583", "902583"} <= set(df["地区代码"])
    assert set(df.loc[df["地区代码"] == "902583", "地区名称"]) == {"昆山市#2"}
    assert df["地区代码"].str.fullmatch(r"90[12]\d{3}").all()
    assert df.groupby(["地区代码", "指标代码"]).size().eq(1).all()
    counties = 2 * 95  # 95 county-level units in 2023
    assert report.synthetic_rows == counties * 32 * 5
    gbk = (tmp_path / "2023/2023Q1/320300_徐州市_2023Q1_synthetic.csv").read_bytes()
    assert "#1" in gbk.decode("gbk")


def test_synthetic_suffixes_are_unique() -> None:
    reg = pd.read_csv(SEEDS / "reference/regions.csv", dtype=str, keep_default_na=False)
    codes = reg.loc[reg["level"] == "county", "region_code"]
    suffixes = synthetic_suffixes(codes)
    assert len(set(suffixes.values())) == len(suffixes) == len(codes)
    assert suffixes["320583"] == "583" and suffixes["320102"] == "102"
    assert suffixes["321102"] != "102"


def test_arguments_are_validated(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        generate_sample(tmp_path, years=[2030])
    with pytest.raises(ValueError):
        generate_sample(tmp_path, scale=0)


def test_landing_is_empty(tmp_path: Path) -> None:
    assert landing_is_empty(tmp_path / "missing")
    assert landing_is_empty(tmp_path)
    (tmp_path / "notes.txt").write_text("x")
    assert landing_is_empty(tmp_path)
    (tmp_path / "2023").mkdir()
    (tmp_path / "2023" / "a.xlsx").write_bytes(b"")
    assert not landing_is_empty(tmp_path)


def _hqd(args: list[str], monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    """`hqd ARGS` as the command line runs it, with what it printed."""
    from rich.console import Console

    from hqd import cli

    buffer = io.StringIO()
    monkeypatch.setattr(cli, "console", Console(file=buffer, width=400))
    return cli.main(args), buffer.getvalue()


def test_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, out = _hqd(["sample", "--landing-dir", str(tmp_path), "--years", "2022-2023", "--seed", "5"], monkeypatch)
    assert code == 0
    assert out.count("\n") == 1 and "131 files" in out
    assert not landing_is_empty(tmp_path)


def test_default_sample_is_fast(sample: tuple[Path, GenerationReport]) -> None:
    _, report = sample
    assert report.elapsed_seconds < 5


# --- messy submissions (messy_rate > 0) ---------------------------------------------------------------------------

MESSY_RATE = 0.2


def _digest_all(root: Path) -> str:
    """Digest of every file (CSV and workbook) with its relative path."""
    h = hashlib.sha256()
    for p in sorted(q for q in root.rglob("*") if q.is_file()):
        h.update(p.relative_to(root).as_posix().encode())
        h.update(p.read_bytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def messy(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GenerationReport]:
    landing = tmp_path_factory.mktemp("messy")
    return landing, generate_sample(landing, years=[2023], messy_rate=MESSY_RATE)


def test_messy_rate_is_deterministic(tmp_path: Path, messy: tuple[Path, GenerationReport]) -> None:
    landing, report = messy
    again = generate_sample(tmp_path / "again", years=[2023], messy_rate=MESSY_RATE)
    assert _digest_all(tmp_path / "again") == _digest_all(landing)  # workbooks included (fixed timestamps)
    assert (again.messy_cells, again.messy_files, again.files) == (report.messy_cells, report.messy_files, report.files)
    # Each file has its own stream: writing more years does not change the 2023 files.
    wider = generate_sample(tmp_path / "wider", years=[2022, 2023], messy_rate=MESSY_RATE)
    assert set(report.files) < set(wider.files)
    for rel in report.files:
        assert (tmp_path / "wider" / rel).read_bytes() == (landing / rel).read_bytes(), rel
    other = generate_sample(tmp_path / "other", years=[2023], messy_rate=MESSY_RATE, seed=7)
    assert other.messy_cells != report.messy_cells


def test_messy_rate_zero_is_the_clean_sample(tmp_path: Path, sample: tuple[Path, GenerationReport]) -> None:
    landing, _ = sample
    report = generate_sample(tmp_path, years=[2023], messy_rate=0.0)
    assert (report.messy_rate, report.messy_cells, report.messy_files) == (0.0, 0, 0)
    assert all(rel.endswith(".csv") for rel in report.files)
    for rel in report.files:
        assert (tmp_path / rel).read_bytes() == (landing / rel).read_bytes(), rel
    assert "messy cells" not in report.summary()


def test_messy_files_and_report(messy: tuple[Path, GenerationReport]) -> None:
    landing, report = messy
    assert report.messy_rate == MESSY_RATE and report.files_written == 5 * 13 + 1
    xlsx = [rel for rel in report.files if rel.endswith(".xlsx")]
    assert xlsx and all(not (landing / rel).with_suffix(".csv").exists() for rel in xlsx)
    bom = [rel for rel in report.files if (landing / rel).read_bytes().startswith(b"\xef\xbb\xbf")]
    gb18030 = []
    for rel in report.files:
        raw = (landing / rel).read_bytes()
        if rel.endswith(".csv") and rel.split("/")[-1][:6] not in GBK_CITIES:
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                gb18030.append(rel)
    assert bom and gb18030
    assert report.messy_files == len(xlsx) + len(bom) + len(gb18030)
    assert 0.1 < report.messy_files / report.files_written < 0.35
    # About the rate of all cells (7 per row), a 亿元 → 万元 rewrite counting two.
    assert 0.15 < report.messy_cells / (7 * report.rows_written) < 0.25
    assert "messy cells" in report.summary()

    from python_calamine import CalamineWorkbook

    rows = CalamineWorkbook.from_path(landing / xlsx[0]).get_sheet_by_name("数据").to_python()
    header_at = next(i for i, row in enumerate(rows) if tuple(row) == HEADER)
    assert header_at in (1, 2) and "高质量发展综合考核" in rows[0][0]


def test_messy_rate_is_validated(tmp_path: Path) -> None:
    for rate in (-0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match="messy_rate"):
            generate_sample(tmp_path, years=[2023], messy_rate=rate)


def test_cli_messy_rate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, out = _hqd(["sample", "--landing-dir", str(tmp_path), "--years", "2023", "--messy-rate", "0.3"], monkeypatch)
    assert code == 0
    assert "66 files" in out and "messy files" in out
    assert any(tmp_path.rglob("*.xlsx"))


def _ingested(landing: Path) -> pd.DataFrame:
    """raw.submissions of a landing folder, as hqd.landing.ingest decodes it (NFKC, t2s, trimmed)."""
    import duckdb

    from hqd.landing.ingest import ingest_landing

    con = duckdb.connect()
    try:
        report = ingest_landing(landing, con)
        assert report.ok, report.failures
        cols = [
            f"{f}_{kind}"
            for f in ("region_code", "region_name", "indicator_code", "indicator_name")
            for kind in ("raw", "text")
        ]
        cols += ["period_text", "value_raw", "value_text", "unit_text", "file_name", "row_number"]
        return con.execute(f"select {', '.join(cols)} from raw.submissions").df()
    finally:
        con.close()


def _canonical(df: pd.DataFrame, regions: pd.DataFrame, indicators: pd.DataFrame) -> pd.DataFrame:
    """The key and figure (Decimal, in the indicator's catalog unit) each raw row means, resolved the way
    stg_landing__submissions / int_submissions_validated do: code or unique name, code or name, compact
    period, value without separators/spaces/% times the unit conversion."""
    text = df.fillna("")
    period = text["period_text"].str.upper().str.replace(r"[ 年第季度-]", "", regex=True)
    parts = period.str.extract(r"^(\d{4})(?:Q?([1-4]))?$")
    assert parts[0].notna().all(), period[parts[0].isna()].unique()
    year = parts[0].astype(int)
    out = pd.DataFrame({"period": parts[0] + ("Q" + parts[1]).fillna("")}, index=df.index)

    carriers: dict[tuple[int, str], set[str]] = {}  # (year, full or short name) → regions carrying it
    cols = ("region_code", "region_name", "short_name", "from", "to")
    for code, name, short, first, last in zip(*(regions[c] for c in cols), strict=True):
        for y in range(first, min(last, 2100) + 1):
            for label in (name, short):
                carriers.setdefault((y, label), set()).add(code)

    def region(code: str, name: str, y: int) -> str:
        if code:
            return code
        hits = carriers.get((y, name), set())
        assert len(hits) == 1, (name, y, hits)  # the code may only be dropped where the name is unambiguous
        return next(iter(hits))

    out["region"] = [
        region(c, n, y) for c, n, y in zip(text["region_code_text"], text["region_name_text"], year, strict=True)
    ]
    by_name = dict(
        zip(indicators["indicator_name_zh"].str.replace("Ⅲ", "III"), indicators["indicator_code"], strict=True)
    )
    code = text["indicator_code_text"].str.upper()
    out["indicator"] = code.where(code != "", text["indicator_name_text"].map(by_name))
    assert out["indicator"].notna().all()
    unit_of = indicators.set_index("indicator_code")["unit"]
    factor = {("万元", "亿元"): Decimal("0.0001")}
    value = text["value_text"].str.strip()
    number = value.str.replace(r"[, %]", "", regex=True)
    unit = text["unit_text"].where(~value.str.endswith("%"), "%")

    def figure(n: str, u: str, ind: str) -> str | None:
        if n in ("", MISSING_DASH):
            return None
        if ind not in unit_of or not re.fullmatch(r"-?\d+(\.\d+)?", n):  # defect rows: compared verbatim
            return n
        f = Decimal(1) if u == unit_of[ind] else factor[(u, unit_of[ind])]
        return format((Decimal(n) * f).normalize(), "f")

    out["figure"] = [figure(n, u, i) for n, u, i in zip(number, unit, out["indicator"], strict=True)]
    return out


def test_messy_files_load_as_the_same_figures(
    tmp_path: Path, messy: tuple[Path, GenerationReport], regions: pd.DataFrame, indicators: pd.DataFrame
) -> None:
    landing, report = messy
    generate_sample(tmp_path, years=[2023])
    clean_raw, messy_raw = _ingested(tmp_path), _ingested(landing)
    assert len(clean_raw) == len(messy_raw) == report.rows_written
    # The defect rows ("12..5", E99, a retired region) keep their exact text.
    assert (messy_raw["value_raw"] == "12..5").sum() == 1
    e99 = messy_raw[messy_raw["indicator_code_raw"] == "E99"]
    assert list(e99[["region_code_raw", "value_raw", "unit_text"]].itertuples(index=False)) == [("320800", "10.6", "%")]
    clean = _canonical(clean_raw, regions, indicators)
    got = _canonical(messy_raw, regions, indicators)
    assert (got["figure"].isna()).sum() == clean["figure"].isna().sum() == report.missing_values

    # Duplicate keys (a defect row, the correction file) are compared as sorted lists of figures.
    def figures(df: pd.DataFrame) -> dict[tuple[str, str, str], list[str]]:
        out: dict[tuple[str, str, str], list[str]] = {}
        for *k, figure in zip(df["region"], df["indicator"], df["period"], df["figure"], strict=True):
            out.setdefault(tuple(k), []).append(figure or "")
        return {k: sorted(v) for k, v in out.items()}

    want, have = figures(clean), figures(got)
    assert want.keys() == have.keys() and len(want) > 17000
    diff = {k: (v, have[k]) for k, v in want.items() if have[k] != v}
    assert not diff, list(diff.items())[:5]

    # The rewrites the module promises really occur (and were resolved above).
    raw = messy_raw.fillna("")
    assert (raw["region_name_raw"] == "崑山市").any() or (raw["region_name_raw"] == "崑山").any()
    assert (raw["region_code_raw"] == "").sum() > 100
    assert not ((raw["region_code_raw"] == "") & (raw["region_name_text"].str.startswith("鼓楼"))).any()
    assert (raw["indicator_code_raw"] == "").sum() > 100
    assert raw["value_raw"].str.contains(r"\d,\d{3}").any()
    assert raw["value_raw"].str.contains("[０-９]").any()
    assert ((raw["unit_text"] == "万元") & ~raw["file_name"].str.startswith("2023/2023/320100")).any()
    assert raw["period_text"].str.fullmatch(r"2023年第[1-4]季度").any() and (raw["period_text"] == "2023年").any()
    assert raw["period_text"].str.fullmatch(r"2023-Q[1-4]").any()
