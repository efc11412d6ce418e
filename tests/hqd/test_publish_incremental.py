"""Incremental publication: a release reuses what did not change since the current one, year by year.

A small warehouse with three assessment years is published, one year is changed, and the next release must
hard-link the other years' Parquet files (same inodes, same bytes), write the changed year's afresh, patch its
DuckDB file from the current release's, and still read exactly as the warehouse in every row; a full refresh writes
everything; an interrupted publication (an exception, or the process killed midway) leaves `current` on the old,
complete release."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from hqd.publication import files as publish_module
from hqd.publication.files import Publication, RelationDocs, current_publication, publish_marts

YEARS = (2021, 2022, 2023)
DOCS = {("marts", "fct_scores"): RelationDocs("scores", {"score": "得分"})}


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    path = tmp_path / "hqd.duckdb"
    con = duckdb.connect(str(path))
    con.execute("create schema marts; create schema marts_zh")
    con.execute(
        """
        create table marts.dim_region (region_code varchar primary key, region_name varchar not null);
        insert into marts.dim_region values ('320500', '苏州市'), ('320583', '昆山市'), ('320281', '江阴市');
        -- a contract's primary key: the patched release must keep it and still take the changed year's rows
        create table marts.fct_scores (
            score_key varchar primary key, assessment_year integer not null, region_code varchar,
            score decimal(38, 10)
        );
        insert into marts.fct_scores
            select y || '-' || r.region_code || '-' || i, y, r.region_code, (y - 2000) * 10 + i + 0.125
            from range(2021, 2024) as t(y), marts.dim_region as r, range(400) as s(i);
        create table marts.fct_values (assessment_year integer, region_code varchar, value double);
        insert into marts.fct_values
            select y, r.region_code, y * 1.5 + i from range(2021, 2024) as t(y), marts.dim_region as r,
                range(1000) as s(i);
        create view marts_zh.fct_scores_zh as
            select s.score_key, r.region_name, s.score from marts.fct_scores as s
            left join marts.dim_region as r using (region_code);
        """
    )
    con.close()
    return path


def publish(warehouse: Path, publish_dir: Path, run_id: str, **kwargs) -> Publication:
    return publish_marts(
        warehouse, publish_dir, run_id=run_id, assessment_year=2023, checks=[], descriptions=DOCS, **kwargs
    )


def execute(warehouse: Path, sql: str) -> None:
    con = duckdb.connect(str(warehouse))
    con.execute(sql)
    con.close()


def part_files(pub: Publication) -> dict[tuple[str, str], Path]:
    """(mart, part key) → the Parquet file, from the release's manifest."""
    return {
        (table, part["key"]): pub.release_dir / part["file"]
        for table, info in pub.manifest["marts"].items()
        for part in info["parts"]
    }


def release_state(release: Path) -> dict[str, tuple]:
    """Every file of a release with its bytes' hash, inode, mode, size and mtime (not the link count)."""
    state = {}
    for path in sorted(release.rglob("*")):
        if path.is_file() and not path.is_symlink():
            st = path.stat()
            state[str(path.relative_to(release))] = (
                hashlib.sha256(path.read_bytes()).hexdigest(),
                st.st_ino,
                st.st_mode,
                st.st_size,
                st.st_mtime_ns,
            )
    return state


def assert_release_equals_warehouse(pub: Publication, warehouse: Path) -> None:
    """Every mart row for row (duplicates counted), in the DuckDB file and in the Parquet folders."""
    con = duckdb.connect()
    con.execute(f"attach '{warehouse}' as w (read_only)")
    con.execute(f"attach '{pub.duckdb_path}' as r (read_only)")
    try:
        tables = [
            t
            for (t,) in con.execute(
                "select table_name from duckdb_tables() where database_name = 'w' and schema_name = 'marts'"
            ).fetchall()
        ]
        assert sorted(tables) == sorted(pub.manifest["marts"])
        for table in tables:
            expected = con.execute(f"select * from w.marts.{table} order by all").fetchall()
            assert con.execute(f"select * from r.marts.{table} order by all").fetchall() == expected, table
            folder = pub.parquet_dir / table
            parquet = con.execute(f"select * from read_parquet('{folder}/*.parquet') order by all").fetchall()
            assert parquet == expected, table
            assert pub.manifest["marts"][table]["row_count"] == len(expected)
            for part in pub.manifest["marts"][table]["parts"]:  # each year's file holds that year's rows, all of them
                where = {"all": "true", "null": "assessment_year is null"}.get(
                    part["key"], f"assessment_year = {part['key']}"
                )
                in_file = con.execute(f"select * from read_parquet('{pub.release_dir / part['file']}') order by all")
                assert (
                    in_file.fetchall()
                    == con.execute(f"select * from w.marts.{table} where {where} order by all").fetchall()
                )
        assert con.execute("select count(*) from r.marts_zh.fct_scores_zh").fetchone() == (3 * 3 * 400,)
        # the key survived the patching, as SQLAlchemy's inspector reads it
        assert con.execute(
            "select constraint_column_names from duckdb_constraints() "
            "where database_name = 'r' and table_name = 'fct_scores' and constraint_type = 'PRIMARY KEY'"
        ).fetchall() == [(["score_key"],)]
        comments = con.execute(
            "select column_name, comment from duckdb_columns() where database_name = 'r' and table_name = 'fct_scores'"
        ).fetchall()
        assert ("score", "得分") in comments
    finally:
        con.close()


def test_a_changed_year_is_written_and_every_other_file_is_reused(warehouse: Path, tmp_path: Path):
    publish_dir = tmp_path / "pub"
    first = publish(warehouse, publish_dir, "run1")
    first_files = part_files(first)
    assert sorted(first_files) == [
        ("dim_region", "all"),
        *[("fct_scores", str(y)) for y in YEARS],
        *[("fct_values", str(y)) for y in YEARS],
    ]
    first_state = release_state(first.release_dir)

    # 2022 changes in both facts: one score, and one value row more
    execute(
        warehouse,
        "update marts.fct_scores set score = 99 where score_key = '2022-320583-7';"
        "insert into marts.fct_values values (2022, '320500', -1)",
    )
    second = publish(warehouse, publish_dir, "run2")
    second_files = part_files(second)
    assert sorted(second_files) == sorted(first_files)
    changed = {("fct_scores", "2022"), ("fct_values", "2022")}
    for key, path in second_files.items():
        before = first_files[key]
        if key in changed:
            assert path.stat().st_ino != before.stat().st_ino, key
            assert path.read_bytes() != before.read_bytes(), key
        else:
            assert path.stat().st_ino == before.stat().st_ino, key  # the same file, linked
            assert path.stat().st_nlink == 2, key
    assert second.manifest["reuse"] == {
        "base_release": first.release_dir.name,
        "duckdb_from": "base_release",
        "rows_copied": 3 * 400 + 3 * 1000 + 1,  # the changed year of the two facts only
        "parquet_written": 2,
        "parquet_reused": 5,
    }
    parts = {(t, p["key"]): p for t, info in second.manifest["marts"].items() for p in info["parts"]}
    assert parts[("fct_values", "2022")]["row_count"] == 3001
    assert parts[("fct_values", "2022")]["written_in"] == second.release_dir.name
    assert parts[("fct_values", "2021")]["written_in"] == first.release_dir.name
    assert (
        parts[("fct_scores", "2021")]["sha256"]
        == hashlib.sha256(second_files[("fct_scores", "2021")].read_bytes()).hexdigest()
    )
    assert_release_equals_warehouse(second, warehouse)
    # the first release is exactly as it was published
    assert release_state(first.release_dir) == first_state

    # nothing changed: nothing written, every file linked, no row copied
    third = publish(warehouse, publish_dir, "run3")
    assert (third.manifest["reuse"]["parquet_written"], third.manifest["reuse"]["rows_copied"]) == (0, 0)
    assert all(p.stat().st_ino == second_files[k].stat().st_ino for k, p in part_files(third).items())
    assert_release_equals_warehouse(third, warehouse)


def test_years_that_appear_or_vanish_and_a_changed_shape(warehouse: Path, tmp_path: Path):
    publish_dir = tmp_path / "pub"
    first = publish(warehouse, publish_dir, "run1")
    execute(
        warehouse,
        "delete from marts.fct_values where assessment_year = 2021;"
        "insert into marts.fct_values select 2024, region_code, value from marts.fct_values "
        "where assessment_year = 2023;"
        # rows without a year go to a file of their own
        "insert into marts.fct_values values (null, '320500', 7), (null, '320583', 8);"
        # a new column: dim_region is rewritten whole (its shape changed)
        "alter table marts.dim_region add column short_name varchar;",
    )
    second = publish(warehouse, publish_dir, "run2")
    files = part_files(second)
    assert sorted(k for k in files if k[0] == "fct_values") == [
        ("fct_values", y) for y in ("2022", "2023", "2024", "null")
    ]
    assert files[("fct_values", "null")].name == "fct_values_null.parquet"
    assert not (second.parquet_dir / "fct_values" / "fct_values_2021.parquet").exists()
    first_files = part_files(first)
    assert files[("fct_values", "2022")].stat().st_ino == first_files[("fct_values", "2022")].stat().st_ino
    assert files[("dim_region", "all")].stat().st_ino != first_files[("dim_region", "all")].stat().st_ino
    assert second.manifest["reuse"]["rows_copied"] == 3 * 1000 + 2 + 3  # 2024 and null of fct_values, dim_region
    assert second.manifest["reuse"]["parquet_written"] == 3
    assert_release_equals_warehouse(second, warehouse)


def test_full_refresh_writes_everything(warehouse: Path, tmp_path: Path):
    publish_dir = tmp_path / "pub"
    first = publish(warehouse, publish_dir, "run1")
    second = publish(warehouse, publish_dir, "run2", full_refresh=True)
    inodes = {p.stat().st_ino for p in part_files(first).values()}
    assert not inodes & {p.stat().st_ino for p in part_files(second).values()}
    assert second.manifest["reuse"] == {
        "base_release": None,
        "duckdb_from": "warehouse",
        "rows_copied": 3 + 3 * 3 * 400 + 3 * 3 * 1000,
        "parquet_written": 7,
        "parquet_reused": 0,
    }
    assert_release_equals_warehouse(second, warehouse)


def test_a_current_release_changed_on_disk_is_not_copied(warehouse: Path, tmp_path: Path):
    publish_dir = tmp_path / "pub"
    first = publish(warehouse, publish_dir, "run1")
    first.duckdb_path.chmod(0o644)
    with first.duckdb_path.open("ab") as fh:  # what a failed large insert by a careless client may leave
        fh.write(b"\0" * 4096)
    execute(warehouse, "update marts.fct_values set value = 0 where assessment_year = 2023")
    second = publish(warehouse, publish_dir, "run2")
    # the DuckDB file comes from the warehouse; the unchanged Parquet files are still reused
    assert second.manifest["reuse"]["duckdb_from"] == "warehouse"
    assert second.manifest["reuse"]["parquet_reused"] == 6
    assert_release_equals_warehouse(second, warehouse)


def test_a_released_file_is_copied_only_if_its_bytes_are_the_released_ones(tmp_path: Path):
    """The base release's DuckDB file is copied by the kernel while a thread hashes it: the copy is byte for byte,
    a file whose sha256 is not the released one leaves no copy, an unreadable one raises."""
    data = os.urandom(2 * publish_module.COPY_CHUNK_BYTES + 12345)  # more than one chunk, a short last one
    source = tmp_path / "released.duckdb"
    source.write_bytes(data)
    copy = tmp_path / "copy.duckdb"
    assert publish_module._copy_verified(source, copy, hashlib.sha256(data).hexdigest()) is True
    assert copy.read_bytes() == data
    assert copy.stat().st_mode & 0o777 == 0o644  # patched next, made read-only before the switch
    tampered = tmp_path / "tampered.duckdb"
    assert publish_module._copy_verified(source, tampered, hashlib.sha256(data[:-1]).hexdigest()) is False
    assert not tampered.exists()
    with pytest.raises(FileNotFoundError):
        publish_module._copy_verified(tmp_path / "gone.duckdb", tmp_path / "never.duckdb", "0" * 64)
    assert not (tmp_path / "never.duckdb").exists()


def test_a_release_of_the_previous_manifest_version_is_not_reused(warehouse: Path, tmp_path: Path):
    publish_dir = tmp_path / "pub"
    first = publish(warehouse, publish_dir, "run1")
    manifest = json.loads(first.manifest_path.read_text(encoding="utf-8"))
    manifest["manifest_version"] = 2
    first.manifest_path.chmod(0o644)
    first.manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    second = publish(warehouse, publish_dir, "run2")
    assert second.manifest["reuse"]["base_release"] is None
    assert second.manifest["reuse"]["parquet_reused"] == 0


def test_an_exception_midway_leaves_the_old_release_current(
    warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    publish_dir = tmp_path / "pub"
    first = publish(warehouse, publish_dir, "run1")
    before = release_state(first.release_dir)
    execute(warehouse, "update marts.fct_values set value = 0 where assessment_year = 2023")

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    # the failure comes after the DuckDB file was patched and the earlier years were linked
    monkeypatch.setattr(publish_module, "_write_parquet", disk_full)
    with pytest.raises(OSError, match="No space left"):
        publish(warehouse, publish_dir, "run2")
    assert current_publication(publish_dir) == first
    assert os.listdir(publish_dir / "releases") == [first.release_dir.name]
    assert release_state(first.release_dir) == before
    assert all(p.stat().st_nlink == 1 for p in first.parquet_dir.rglob("*.parquet"))  # the links went with it
    monkeypatch.undo()
    assert_release_equals_warehouse(publish(warehouse, publish_dir, "run3"), warehouse)


def test_a_failure_while_the_base_file_is_copied_leaves_nothing_behind(
    warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """The current release's DuckDB file is copied in a thread while the marts are fingerprinted: a failure of the
    fingerprints waits for the copy, then removes the half-made release; the old one stays current and whole."""
    publish_dir = tmp_path / "pub"
    first = publish(warehouse, publish_dir, "run1")
    before = release_state(first.release_dir)
    started = []
    real_copy = publish_module._copy_verified

    def copy(*args):
        started.append(args[1])
        return real_copy(*args)

    def fingerprints_fail(*args):
        raise RuntimeError("fingerprints failed")

    monkeypatch.setattr(publish_module, "_copy_verified", copy)
    monkeypatch.setattr(publish_module, "_plan_mart", fingerprints_fail)
    with pytest.raises(RuntimeError, match="fingerprints failed"):
        publish(warehouse, publish_dir, "run2")
    assert [p.name for p in started] == [publish_module.DUCKDB_FILE]
    assert current_publication(publish_dir) == first
    assert os.listdir(publish_dir / "releases") == [first.release_dir.name]
    assert release_state(first.release_dir) == before


KILLED_PUBLICATION = """
import os, signal, sys
from pathlib import Path
from hqd.publication import files

real = files._write_parquet

def write_then_die(*args):
    real(*args)
    os.kill(os.getpid(), signal.SIGKILL)  # killed with one year written and the others linked

files._write_parquet = write_then_die
files.publish_marts(Path(sys.argv[1]), Path(sys.argv[2]), run_id="killed", assessment_year=2023, checks=[])
"""


def test_a_publication_killed_midway_leaves_the_old_release_current(warehouse: Path, tmp_path: Path):
    publish_dir = tmp_path / "pub"
    first = publish(warehouse, publish_dir, "run1")
    before = release_state(first.release_dir)
    execute(warehouse, "update marts.fct_values set value = 0 where assessment_year = 2023")
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_PUBLICATION, str(warehouse), str(publish_dir)], capture_output=True, check=False
    )
    assert killed.returncode == -9, killed.stderr
    leftovers = list((publish_dir / "releases").glob(".tmp-*"))
    assert len(leftovers) == 1 and list(leftovers[0].rglob("*.parquet"))  # it got that far
    assert current_publication(publish_dir) == first
    assert release_state(first.release_dir) == before
    reader = duckdb.connect(str(publish_dir / "current" / "hqd_marts.duckdb"), read_only=True)
    assert reader.execute("select sum(value) from marts.fct_values where assessment_year = 2023").fetchone()[0] > 0
    reader.close()
    # the next run clears the leftover and publishes, reusing the old release
    assert publish_module.remove_leftovers(publish_dir) == [f"releases/{leftovers[0].name}"]
    third = publish(warehouse, publish_dir, "run3")
    assert third.manifest["reuse"]["parquet_written"] == 1
    assert_release_equals_warehouse(third, warehouse)


def _with_build_state(warehouse: Path) -> None:
    """dbt's build state and the staging view's parsed periods, as a job's build leaves them: load 1 landed the
    three years, both facts took it in."""
    execute(
        warehouse,
        """
        create schema staging;
        create table staging.stg_landing__submissions (load_seq integer, period_year integer);
        insert into staging.stg_landing__submissions values (1, 2021), (1, 2022), (1, 2023);
        create table main.hqd_build_state (
            model_id varchar, load_seq_through integer, fingerprint varchar, built_at timestamp);
        insert into main.hqd_build_state values ('model.hqd.fct_scores', 1, 'f1', now()),
            ('model.hqd.fct_values', 1, 'f1', now());
        """,
    )


def _fingerprints(pub: Publication) -> dict[tuple[str, str], str]:
    return {(t, p["key"]): p["fingerprint"] for t, info in pub.manifest["marts"].items() for p in info["parts"]}


def test_a_mart_rebuilt_by_year_reads_only_the_years_new_loads_touched(warehouse: Path, tmp_path: Path):
    """Load 2 lands 2023 rows and the build rebuilt 2023: the next release fingerprints 2023 of the two facts (and
    the dimension, which has no year), takes 2021–2022 from the base release, and its fingerprints equal those a
    full refresh computes from every row."""
    _with_build_state(warehouse)
    first = publish(warehouse, tmp_path / "pub", "r1")
    assert first.manifest["rows_fingerprinted"] == 3 + 3 * 1200 + 3 * 3000  # no base release: every row
    assert first.manifest["marts"]["fct_values"]["build"] == {"load_seq_through": 1, "fingerprint": "f1"}
    execute(
        warehouse,
        """
        insert into staging.stg_landing__submissions values (2, 2023);
        update marts.fct_values set value = value + 1 where assessment_year = 2023 and value < 3040;
        update main.hqd_build_state set load_seq_through = 2;
        """,
    )
    second = publish(warehouse, tmp_path / "pub", "r2")
    assert second.manifest["rows_fingerprinted"] == 3 + 1200 + 3000
    written = {
        (t, p["key"])
        for t, info in second.manifest["marts"].items()
        for p in info["parts"]
        if p["written_in"] == second.release_dir.name
    }
    assert written == {("fct_values", "2023")}
    assert_release_equals_warehouse(second, warehouse)
    full = publish(warehouse, tmp_path / "full", "r3", full_refresh=True)
    assert full.manifest["rows_fingerprinted"] == 3 + 3 * 1200 + 3 * 3000
    assert _fingerprints(second) == _fingerprints(full)


@pytest.mark.parametrize("change", ["definitions", "rows of an untouched year", "no build state"])
def test_every_row_is_read_when_the_build_cannot_be_trusted(warehouse: Path, tmp_path: Path, change: str):
    """Changed definitions rebuild every year; rows that came or went in a year no new load touched, or a
    warehouse without dbt's build state, say nothing about what changed: every row is fingerprinted."""
    _with_build_state(warehouse)
    publish(warehouse, tmp_path / "pub", "r1")
    execute(warehouse, "insert into staging.stg_landing__submissions values (2, 2023)")
    execute(warehouse, "update main.hqd_build_state set load_seq_through = 2")
    if change == "definitions":
        execute(warehouse, "update main.hqd_build_state set fingerprint = 'f2'")
    elif change == "rows of an untouched year":
        execute(warehouse, "delete from marts.fct_values where assessment_year = 2021 and value < 3040")
    else:
        execute(warehouse, "drop table main.hqd_build_state")
    second = publish(warehouse, tmp_path / "pub", "r2")
    if change == "rows of an untouched year":
        # 2021's values 3031.5 + i below 3040: i = 0..8, 9 rows per region, 27 gone; fct_scores is still read
        # from 2023 only, fct_values whole
        assert second.manifest["rows_fingerprinted"] == 3 + 1200 + 3 * 3000 - 27
    else:
        assert second.manifest["rows_fingerprinted"] == 3 + 3 * 1200 + 3 * 3000
    assert_release_equals_warehouse(second, warehouse)
