"""How many dbt threads a DuckDB build gets: one model at a time when it takes in many rows (hqd.dbt)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from hqd import dbt as hqd_dbt
from hqd.settings import Settings


def _warehouse(path: Path, loads: int, rows_per_load: int, watermarks: list[int] | None) -> Path:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema raw")
        con.execute(
            "create table raw.submissions as select 1 + i // ? as load_seq from range(?) t(i)",
            [rows_per_load, loads * rows_per_load],
        )
        if watermarks is not None:
            con.execute(
                "create table main.hqd_build_state "
                "(model_id varchar, load_seq_through integer, fingerprint varchar, built_at timestamp)"
            )
            for n, through in enumerate(watermarks):
                con.execute("insert into main.hqd_build_state values (?, ?, 'f', now())", [f"model.hqd.m{n}", through])
    return path


def test_rows_to_take_in_counts_from_the_earliest_watermark(tmp_path: Path):
    # 5 loads of 1,000 rows; the models have taken in loads 1-3 and 1-4
    settings = Settings(warehouse=_warehouse(tmp_path / "w.duckdb", 5, 1_000, [3, 4]))
    assert hqd_dbt.rows_to_take_in(settings) == 2_000  # loads 4 and 5
    assert hqd_dbt.rows_to_take_in(settings, full_refresh=True) == 5_000


@pytest.mark.parametrize(
    ("watermarks", "full_refresh", "threads"),
    [
        (None, False, 1),  # a first build takes in all 600,000 rows
        ([5], False, None),  # one new load of 100,000 rows: the profile's threads
        ([5], True, 1),  # a full refresh takes in everything again
        ([0], False, 1),  # a model that never built (watermark 0)
    ],
)
def test_a_large_build_runs_one_model_at_a_time(tmp_path: Path, watermarks, full_refresh, threads):
    assert 5 * 100_000 <= hqd_dbt.SERIAL_BUILD_ROWS < 6 * 100_000  # the numbers below straddle it
    settings = Settings(warehouse=_warehouse(tmp_path / "w.duckdb", 6, 100_000, watermarks))
    assert hqd_dbt.build_threads(settings, full_refresh=full_refresh) == threads
    args = hqd_dbt.build_args(settings, full_refresh=full_refresh, threads=threads)
    assert ("--threads" in args) == (threads is not None)


def test_the_setting_wins_and_other_engines_keep_their_profile(tmp_path: Path):
    warehouse = _warehouse(tmp_path / "w.duckdb", 6, 100_000, None)
    assert hqd_dbt.build_threads(Settings(warehouse=warehouse, dbt_threads=2)) == 2
    assert hqd_dbt.build_threads(Settings(warehouse=warehouse, target="postgres")) is None
    assert hqd_dbt.build_threads(Settings(warehouse=tmp_path / "none.duckdb")) is None  # nothing landed yet
