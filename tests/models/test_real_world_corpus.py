"""No submission can stop the warehouse: `hqd run` (what `make run` runs) on a landing folder that mixes the sample,
every hand-made fixture and a generated messy corpus (both layouts, GBK/Big5/UTF-8 with and without BOM, other
delimiters, CSV and XLSX, junk cells including huge numbers) succeeds, publishes, and reports what it could not
use; nothing is lost in any file; and the next run with one ordinary new file succeeds and stages it (no poison).
"""

from __future__ import annotations

import hashlib
import io
import random
import shutil
from pathlib import Path

import duckdb
import pytest
from rich.console import Console

from hqd import cli
from orchestration import runner
from orchestration.resources import HqdSettings
from tools import sample_data

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "messy_submissions" / "landing"
JUNK_CELLS = [
    "123456789012345678",  # an ID number typed into the value cell
    "1e400",
    "-1e308",
    "99999999999999999999999999999999",
    "NaN",
    "Infinity",
    "−5.21",
    "（4.3）",
    "12..5",
    "0x1F",
    "=SUM(A1:A3)",
    "\u200b42",
    "１２３.４",
    "",
    "—",
    "🙂",
    "1,2,3",
    "5%%",
]


def _junk_files(folder: Path, seed: int = 20241130) -> None:
    """Seeded junk in the two layouts and three encodings: every cell a value a bureau might have typed."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    long_rows = ["地区代码,地区名称,指标代码,指标名称,统计期,数值,单位"]
    for i in range(60):
        cell = rng.choice(JUNK_CELLS)
        cell = f'"{cell}"' if "," in cell else cell
        long_rows.append(
            f"320583,昆山市,E0{1 + i % 9},,2023Q{1 + i % 4},{cell},{rng.choice(['亿元', '%', '万元', ''])}"
        )
    (folder / "junk_long.csv").write_text("\n".join(long_rows) + "\n", encoding="utf-8")
    wide_rows = ["地区;统计期;地区生产总值(亿元);空气优良天数比率（%）"]
    for i in range(30):
        wide_rows.append(f"昆山市;2023Q{1 + i % 4};{rng.choice(JUNK_CELLS)};{rng.choice(JUNK_CELLS)}")
    (folder / "junk_wide_semicolon.csv").write_bytes(("\n".join(wide_rows) + "\n").encode("gb18030"))
    tab_rows = ["地區代碼\t地區名稱\t指標代碼\t指標名稱\t統計期\t數值\t單位"]
    for i in range(20):
        tab_rows.append(f"320583\t崑山市\tE0{1 + i % 9}\t\t2022\t{rng.choice(JUNK_CELLS)}\t億元")
    (folder / "junk_traditional_tab.csv").write_bytes(("\n".join(tab_rows) + "\n").encode("big5", errors="replace"))


def _hqd_run(root: Path, landing: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    monkeypatch.setenv("HQD_QUALITY_DIR", str(root / "quality"))
    monkeypatch.setenv("HQD_DATA_DOCS_DIR", str(root / "data_docs"))
    buffer = io.StringIO()
    monkeypatch.setattr(cli, "console", Console(file=buffer, width=200, force_terminal=False))
    code = cli.main(
        [
            "run",
            "--warehouse",
            str(root / "hqd.duckdb"),
            "--landing-dir",
            str(landing),
            "--publish-dir",
            str(root / "published"),
            "--no-generate",
        ]
    )
    return code, buffer.getvalue()


def _last_run_status(root: Path) -> str:
    instance = runner.instance_for(HqdSettings(warehouse=str(root / "hqd.duckdb")).get())
    return instance.get_runs(limit=1)[0].status.value


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("corpus")
    landing = root / "landing"
    sample_data.generate_sample(landing)
    shutil.copytree(FIXTURES, landing / "fixtures")
    # the generator's messy mode: GBK and BOM files, XLSX workbooks, wide layouts, odd spellings, junk values
    sample_data.generate_sample(landing / "messy", years=[2022, 2023], messy_rate=0.6, seed=7)
    _junk_files(landing / "junk")
    mp = pytest.MonkeyPatch()
    try:
        code, out = _hqd_run(root, landing, mp)
        status = _last_run_status(root)
    finally:
        mp.undo()
    return root, landing, code, out, status


def test_the_run_succeeds_publishes_and_says_what_it_could_not_use(corpus):
    root, _landing, code, out, status = corpus
    assert code == 0, out
    assert status == "SUCCESS"  # Dagster agrees with the exit code
    assert (root / "published" / "current" / "manifest.json").is_file()
    flat = " ".join(out.split())
    reconciles = next(line for line in out.splitlines() if "landed = accepted + rejected" in line)
    assert "yes" in reconciles
    for reason in ("value_out_of_range", "unparseable_value", "region_not_valid_in_year"):
        assert reason in flat
    # unreadable files are named with their reason in the summary's file table
    assert "c_corrupt.xlsx" in flat and "unreadable" in flat
    assert "c_empty.csv" in flat


def test_nothing_is_lost_in_any_file(corpus):
    root, landing, *_ = corpus
    con = duckdb.connect(str(root / "hqd.duckdb"))
    try:
        uneven = con.execute(
            """
            with raw_rows as (select file_hash, count(*) as n from raw.submissions group by file_hash),
            accepted as (select file_hash, count(*) as n from marts.fct_indicator_values group by file_hash),
            rejected as (select file_hash, count(*) as n from marts.fct_rejected_submissions group by file_hash)
            select raw_rows.file_hash, raw_rows.n, coalesce(accepted.n, 0), coalesce(rejected.n, 0)
            from raw_rows
            left join accepted using (file_hash)
            left join rejected using (file_hash)
            where raw_rows.n <> coalesce(accepted.n, 0) + coalesce(rejected.n, 0)
            """
        ).fetchall()
        loaded_hashes = {h for (h,) in con.execute("select file_hash from raw.landing_files").fetchall()}
        unreadable_hashes = {h for (h,) in con.execute("select file_hash from raw.load_errors").fetchall()}
        junk = con.execute(
            "select count(*), count(*) filter (where rejection_reason is not null) from marts.fct_rejected_submissions "
            "where file_name like 'junk/%'"
        ).fetchone()
    finally:
        con.close()
    assert uneven == []
    on_disk = {
        hashlib.sha256(p.read_bytes()).hexdigest()
        for p in landing.rglob("*")
        if p.is_file() and p.suffix.lower() in {".csv", ".xlsx", ".xls"}
    }
    # every file's content is loaded or named unreadable (a byte-identical copy counts once): none is dropped
    assert on_disk == loaded_hashes | unreadable_hashes
    assert len(loaded_hashes) > 456 and len(unreadable_hashes) >= 4
    assert junk[0] == junk[1] > 0


def test_a_following_ordinary_file_is_staged_no_poison(corpus, monkeypatch):
    root, landing, *_ = corpus
    (landing / "2024" / "late").mkdir(parents=True)
    (landing / "2024" / "late" / "320500_苏州市_2024_补报.csv").write_text(
        "地区代码,地区名称,指标代码,指标名称,统计期,数值,单位\n320583,昆山市,N01,,2024,88.8,%\n", encoding="utf-8"
    )
    code, out = _hqd_run(root, landing, monkeypatch)
    assert code == 0, out
    assert _last_run_status(root) == "SUCCESS"
    con = duckdb.connect(str(root / "published" / "current" / "hqd_marts.duckdb"), read_only=True)
    try:
        staged = con.execute(
            "select cast(indicator_value as double), is_current from marts.fct_indicator_values "
            "where file_name = '2024/late/320500_苏州市_2024_补报.csv'"
        ).fetchall()
    finally:
        con.close()
    assert staged == [(88.8, True)]
