"""Acceptance test of the composite-index engine against a published index: the UNDP Human Development Index.

`hqd composite build --index hdi` (composite_job through Dagster, on a throwaway warehouse) computes the HDI from
its four published components with the configuration in seeds/composite; every published HDI value 1990–2022,
the 2022 rank and the `hdicode` tier must come out exactly as UNDP published them. The published values are read
here with pandas straight from the bundled file (reference/undp_hdr/), independently of the staging model.
"""

from __future__ import annotations

import hashlib
import io
import re
from pathlib import Path

import duckdb
import pandas as pd
import pytest

PROJECT_DIR = Path(__file__).resolve().parents[2]
HDR_DIR = PROJECT_DIR / "reference" / "undp_hdr"
HDR_CSV = HDR_DIR / "HDR23-24_Composite_indices_complete_time_series.csv"
YEARS = range(1990, 2023)


def test_the_bundled_file_is_byte_for_byte_the_documented_original():
    documented = re.search(r"md5 `([0-9a-f]{32})`", (HDR_DIR / "PROVENANCE.md").read_text(encoding="utf-8"))
    assert documented is not None
    data = HDR_CSV.read_bytes()
    assert hashlib.md5(data).hexdigest() == documented.group(1) == "8cb4c1fc8a738416f514c44fcae0420c"
    assert len(data) == 1_919_243


@pytest.fixture(scope="module")
def published() -> pd.DataFrame:
    return pd.read_csv(HDR_CSV, encoding="latin-1")


@pytest.fixture(scope="module")
def composite_build(tmp_path_factory):
    """`hqd composite build --index hdi` as a user runs it, on a throwaway warehouse."""
    from rich.console import Console

    from hqd import cli

    root = tmp_path_factory.mktemp("composite")
    buffer = io.StringIO()
    mp = pytest.MonkeyPatch()
    mp.setattr(cli, "console", Console(file=buffer, width=160, force_terminal=False))
    try:
        code = cli.main(["composite", "build", "--index", "hdi", "--warehouse", str(root / "hqd.duckdb")])
    finally:
        mp.undo()
    con = duckdb.connect(str(root / "hqd.duckdb"), read_only=True)
    try:
        engine = con.sql(
            "select unit_code as iso3, year, index_value, index_value_rounded, index_rank, tier_name "
            "from composite.fct_composite_index where index_code = 'hdi'"
        ).df()
    finally:
        con.close()
    return code, buffer.getvalue(), engine


def test_every_published_hdi_value_is_reproduced_to_three_decimals(composite_build, published):
    code, output, engine = composite_build
    assert code == 0, output
    values = published.melt(
        id_vars=["iso3"], value_vars=[f"hdi_{year}" for year in YEARS], var_name="column", value_name="hdi"
    ).dropna(subset=["hdi"])
    values["year"] = values["column"].str[4:].astype(int)
    compared = values.merge(engine, on=["iso3", "year"], how="left")
    assert len(compared) == 6171  # 193 countries and 11 aggregates over 33 years, where UNDP published a value
    assert compared["index_value"].notna().all()
    mismatched = compared[(compared["index_value_rounded"] - compared["hdi"]).abs() > 1e-9]
    assert len(mismatched) == 0, mismatched.head(10).to_string()
    # the unrounded engine value is within half a unit of the third decimal of every published one
    assert (compared["index_value"] - compared["hdi"]).abs().max() < 0.0005


def test_the_2022_rank_and_tier_of_every_country_are_the_published_ones(composite_build, published):
    _, _, engine = composite_build
    rows = published[["iso3", "hdi_rank_2022", "hdicode"]].merge(engine[engine["year"] == 2022], on="iso3", how="left")
    assert len(rows) == 206  # 195 countries (193 with a 2022 HDI) and 11 aggregates
    rank_mismatches = rows[rows["hdi_rank_2022"].fillna(-1) != rows["index_rank"].fillna(-1)]
    assert len(rank_mismatches) == 0, rank_mismatches.to_string()
    tier_mismatches = rows[rows["hdicode"].fillna("") != rows["tier_name"].fillna("")]
    assert len(tier_mismatches) == 0, tier_mismatches.to_string()
    assert rows["index_rank"].notna().sum() == 193
    # competition ranking on the published (rounded) value: Denmark and Sweden share 5th, 6th is skipped
    assert rows.set_index("iso3").loc[["DNK", "SWE", "DEU", "IRL"], "index_rank"].tolist() == [5, 5, 7, 7]
    assert rows["tier_name"].value_counts().to_dict() == {"Very High": 69, "High": 49, "Medium": 42, "Low": 33}


def test_the_command_prints_the_latest_ranking(composite_build):
    _, output, _ = composite_build
    assert "hdi 2022: top of 193 ranked" in output
    # HDR 2023/24 table 1: Switzerland first with 0.967, Denmark and Sweden 5th with 0.952
    assert re.search(r"│\s+1 │ CHE\s+│ Switzerland\s+│ 0\.967 │ Very High", output), output
    assert re.search(r"│\s+5 │ SWE\s+│ Sweden\s+│ 0\.952 │", output), output


def test_an_unknown_index_is_a_configuration_error_and_runs_nothing(tmp_path, monkeypatch):
    from rich.console import Console

    from hqd import cli

    buffer = io.StringIO()
    monkeypatch.setattr(cli, "console", Console(file=buffer, width=160, force_terminal=False))
    code = cli.main(["composite", "build", "--index", "mpi", "--warehouse", str(tmp_path / "hqd.duckdb")])
    assert code == 2
    assert "--index mpi: no such composite index; configured: hdi" in buffer.getvalue()
    assert not (tmp_path / "hqd.duckdb").exists()
