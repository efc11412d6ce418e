"""Publication of the marts: only marts, read-only, atomic switch, blocked runs change nothing, readers survive."""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from hqd.publication import files as publish_module
from hqd.publication.files import (
    CheckOutcome,
    Publication,
    PublicationBlocked,
    current_publication,
    publish_marts,
)
from tests.support.publication import record_memory_caps

MARTS = ["dim_region", "fct_monitoring_warnings", "fct_region_assessment"]
SCORE_SQL = "select total_score from marts.fct_region_assessment where region_code = '320500'"


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    path = tmp_path / "hqd.duckdb"
    con = duckdb.connect(str(path))
    con.execute("create schema raw; create schema config; create schema marts")
    con.execute("create table raw.submissions as select '苏州市' as region_name, '12.5' as value_text")
    con.execute("create table config.indicator_rules as select 'A01' as indicator_code, 0.3 as weight")
    con.execute("create view main.v_helper as select 1 as x")
    con.execute(
        """
        create table marts.dim_region as select * from (values
            ('320000', '江苏省', null, 'province'),
            ('320500', '苏州市', '苏州', 'city'),
            ('320583', '昆山市', '昆山', 'county')
        ) t(region_code, region_name, short_name, level)
        """
    )
    con.execute(
        """
        create table marts.fct_region_assessment (
            region_code varchar, assessment_year integer, total_score decimal(9, 2), tier varchar
        )
        """
    )
    con.execute(
        """
        insert into marts.fct_region_assessment values
            ('320500', 2023, 91.25, '第一等次'), ('320583', 2023, 87.50, '第二等次')
        """
    )
    con.execute(
        "create table marts.fct_monitoring_warnings (region_code varchar, gap decimal(12, 4), warning_level varchar)"
    )
    con.close()
    return path


def publish(warehouse: Path, publish_dir: Path, run_id: str = "run1", **kwargs) -> Publication:
    kwargs.setdefault("assessment_year", 2023)
    kwargs.setdefault("checks", [])
    return publish_marts(warehouse, publish_dir, run_id=run_id, **kwargs)


def set_score(warehouse: Path, score: str) -> None:
    con = duckdb.connect(str(warehouse))
    con.execute(f"update marts.fct_region_assessment set total_score = {score} where region_code = '320500'")
    con.close()


def rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return con.execute(sql + " order by all").fetchall()


def snapshot(publish_dir: Path) -> dict:
    """Everything a reader could observe of the publish dir."""
    files = {}
    for path in sorted((publish_dir / "releases").rglob("*")):
        if path.is_file():
            st = path.stat()  # not atime: reading the bytes may change it
            files[str(path.relative_to(publish_dir))] = (
                hashlib.sha256(path.read_bytes()).hexdigest(),
                (st.st_ino, st.st_mode, st.st_size, st.st_mtime_ns),
            )
    return {"current": os.readlink(publish_dir / "current"), "files": files}


def test_publication_holds_exactly_the_marts(warehouse: Path, tmp_path: Path):
    publish_dir = tmp_path / "pub"
    checks = [CheckOutcome("ge_fct_region_assessment", "marts/fct_region_assessment", True, True, "12 expectations")]
    pub = publish(warehouse, publish_dir, checks=checks)

    assert re.fullmatch(r"\d{8}T\d{12}-run1", pub.release_dir.name)
    assert os.readlink(publish_dir / "current") == f"releases/{pub.release_dir.name}"  # relative target
    assert (publish_dir / "current").resolve() == pub.release_dir
    assert current_publication(publish_dir) == pub
    assert sorted(os.listdir(pub.release_dir)) == [
        "hqd_marts.duckdb",
        "hqd_marts.duckdb.wal",
        "manifest.json",
        "parquet",
    ]
    assert (pub.release_dir / "hqd_marts.duckdb.wal").is_symlink()  # the guard against writes, never a file
    # a folder per mart: one file per assessment year where the mart has the column, else one file
    assert sorted(os.listdir(pub.parquet_dir)) == MARTS
    assert {t: sorted(os.listdir(pub.parquet_dir / t)) for t in MARTS} == {
        "dim_region": ["dim_region.parquet"],
        "fct_monitoring_warnings": ["fct_monitoring_warnings.parquet"],  # no rows: one empty file
        "fct_region_assessment": ["fct_region_assessment_2023.parquet"],
    }
    assert not list((publish_dir / "releases").glob(".tmp-*"))

    source = duckdb.connect(str(warehouse), read_only=True)
    reader = duckdb.connect(str(publish_dir / "current" / "hqd_marts.duckdb"), read_only=True)
    parquet_reader = duckdb.connect()  # reads the parquet files independently of both DuckDB files
    try:
        published = reader.execute(
            "select table_schema, table_name from information_schema.tables where table_catalog = current_database()"
        ).fetchall()
        assert sorted(published) == [("marts", t) for t in MARTS]
        user_schemas = reader.execute(
            "select schema_name from duckdb_schemas() where database_name = current_database() and not internal"
        ).fetchall()
        assert {s for (s,) in user_schemas} <= {"main", "marts"}
        for table in MARTS:
            expected = rows(source, f"select * from marts.{table}")
            assert rows(reader, f"select * from marts.{table}") == expected
            parquet = pub.parquet_dir / table / "*.parquet"
            assert rows(parquet_reader, f"select * from read_parquet('{parquet}')") == expected
            assert (
                parquet_reader.execute(f"describe select * from read_parquet('{parquet}')").fetchall()
                == source.execute(f"describe marts.{table}").fetchall()
            )
        assert rows(
            reader,
            "select region_name, total_score, tier from marts.fct_region_assessment natural join marts.dim_region",
        ) == [
            ("昆山市", Decimal("87.50"), "第二等次"),
            ("苏州市", Decimal("91.25"), "第一等次"),
        ]
    finally:
        source.close()
        reader.close()
        parquet_reader.close()

    manifest = json.loads(pub.manifest_path.read_text(encoding="utf-8"))
    assert manifest == pub.manifest
    assert manifest["run_id"] == "run1"
    assert manifest["assessment_year"] == 2023
    assert manifest["source_warehouse"] == "hqd.duckdb"
    assert manifest["duckdb_version"] == duckdb.__version__
    assert manifest["published_at"].endswith("+00:00")
    assert {t: m["row_count"] for t, m in manifest["marts"].items()} == {
        "dim_region": 3,
        "fct_monitoring_warnings": 0,
        "fct_region_assessment": 2,
    }
    assert manifest["marts"]["fct_region_assessment"]["columns"] == [
        {"name": "region_code", "type": "VARCHAR"},
        {"name": "assessment_year", "type": "INTEGER"},
        {"name": "total_score", "type": "DECIMAL(9,2)"},
        {"name": "tier", "type": "VARCHAR"},
    ]
    assert manifest["manifest_version"] == 3
    assert manifest["reuse"] == {
        "base_release": None,
        "duckdb_from": "warehouse",
        "rows_copied": 5,
        "parquet_written": 3,
        "parquet_reused": 0,
    }
    assert [(p["key"], p["row_count"]) for p in manifest["marts"]["fct_region_assessment"]["parts"]] == [("2023", 2)]
    assert manifest["marts"]["fct_region_assessment"]["partition_column"] == "assessment_year"
    assert manifest["marts"]["dim_region"]["partition_column"] is None
    for table, entry in manifest["marts"].items():
        assert entry["parquet_dir"] == f"parquet/{table}"
        assert sum(p["row_count"] for p in entry["parts"]) == entry["row_count"]
        for part in entry["parts"]:
            parquet = pub.release_dir / part["file"]
            assert parquet.parent == pub.parquet_dir / table
            assert part["sha256"] == hashlib.sha256(parquet.read_bytes()).hexdigest()
            assert part["bytes"] == parquet.stat().st_size
            assert part["written_in"] == pub.release_dir.name
    assert manifest["checks"] == [
        {
            "name": "ge_fct_region_assessment",
            "asset": "marts/fct_region_assessment",
            "passed": True,
            "blocking": True,
            "detail": "12 expectations",
        }
    ]
    assert str(tmp_path) not in pub.manifest_path.read_text(encoding="utf-8")

    for path in [pub.duckdb_path, pub.manifest_path, *pub.parquet_dir.rglob("*.parquet")]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o444, path


def test_failed_blocking_check_writes_nothing_and_keeps_previous_publication(warehouse: Path, tmp_path: Path):
    publish_dir = tmp_path / "pub"
    failed = CheckOutcome("ge_fct_region_assessment", "marts/fct_region_assessment", False, True, "3 nulls")
    warning = CheckOutcome("ge_dim_region", "marts/dim_region", False, False)

    with pytest.raises(PublicationBlocked, match="ge_fct_region_assessment"):
        publish(warehouse, publish_dir, checks=[failed])
    assert not publish_dir.exists()  # nothing at all, not even the directory

    first = publish(warehouse, publish_dir)
    before = snapshot(publish_dir)
    set_score(warehouse, "12.00")
    with pytest.raises(PublicationBlocked, match=r"untouched") as excinfo:
        publish(warehouse, publish_dir, run_id="run2", checks=[warning, failed])
    assert "ge_dim_region" not in str(excinfo.value)  # only blocking checks block
    assert excinfo.value.failed == [failed]
    assert snapshot(publish_dir) == before
    assert current_publication(publish_dir) == first


def test_failed_warning_check_still_publishes_and_is_recorded(warehouse: Path, tmp_path: Path):
    warning = CheckOutcome("ge_dim_region", "marts/dim_region", False, False, "short_name null in 1 row")
    pub = publish(warehouse, tmp_path / "pub", checks=[warning])
    assert current_publication(tmp_path / "pub") == pub
    assert pub.manifest["checks"] == [
        {
            "name": "ge_dim_region",
            "asset": "marts/dim_region",
            "passed": False,
            "blocking": False,
            "detail": "short_name null in 1 row",
        }
    ]


def test_open_reader_keeps_its_release_while_a_new_one_is_published(warehouse: Path, tmp_path: Path):
    publish_dir = tmp_path / "pub"
    publish(warehouse, publish_dir)
    old_reader = duckdb.connect(str(publish_dir / "current" / "hqd_marts.duckdb"), read_only=True)
    try:
        assert old_reader.execute(SCORE_SQL).fetchone() == (Decimal("91.25"),)
        set_score(warehouse, "95.00")
        publish(warehouse, publish_dir, run_id="run2")
        assert old_reader.execute(SCORE_SQL).fetchone() == (Decimal("91.25"),)
        assert old_reader.execute("select count(*) from marts.dim_region").fetchone() == (3,)
        new_reader = duckdb.connect(str(publish_dir / "current" / "hqd_marts.duckdb"), read_only=True)
        try:
            assert new_reader.execute(SCORE_SQL).fetchone() == (Decimal("95.00"),)
        finally:
            new_reader.close()
    finally:
        old_reader.close()


READER_SCRIPT = f"""
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
print(con.execute("{SCORE_SQL}").fetchone()[0], flush=True)
sys.stdin.readline()
print(con.execute("{SCORE_SQL}").fetchone()[0], flush=True)
"""


def test_reader_in_another_process_survives_publication_and_retention(warehouse: Path, tmp_path: Path):
    publish_dir = tmp_path / "pub"
    first = publish(warehouse, publish_dir, keep_releases=1)
    reader = subprocess.Popen(
        [sys.executable, "-c", READER_SCRIPT, str(publish_dir / "current" / "hqd_marts.duckdb")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert reader.stdout.readline().strip() == "91.25"  # the reader has the file open
        set_score(warehouse, "95.00")
        second = publish(warehouse, publish_dir, run_id="run2", keep_releases=1)
        assert not first.release_dir.exists()  # removed by retention while the reader still holds it
        out, err = reader.communicate("go\n", timeout=60)
    finally:
        if reader.poll() is None:
            reader.kill()
            reader.wait()
    assert reader.returncode == 0, err
    assert out.strip() == "91.25"
    con = duckdb.connect(str(second.duckdb_path), read_only=True)
    assert con.execute(SCORE_SQL).fetchone() == (Decimal("95.00"),)
    con.close()


def test_retention_keeps_the_newest_releases(warehouse: Path, tmp_path: Path):
    publish_dir = tmp_path / "pub"
    releases = publish_dir / "releases"
    pubs = [publish(warehouse, publish_dir, run_id=f"run{i}", keep_releases=3) for i in range(5)]
    assert sorted(os.listdir(releases)) == [p.release_dir.name for p in pubs[-3:]]
    assert current_publication(publish_dir) == pubs[-1]

    stale, fresh = releases / ".tmp-19990101T000000000000-crashed", releases / ".tmp-fresh"
    stale.mkdir()
    fresh.mkdir()
    two_hours_ago = time.time() - 7200
    os.utime(stale, (two_hours_ago, two_hours_ago))
    # a release sorting after the new one must not push the one `current` points to out
    (releases / "99991231T000000000000-future").mkdir()
    last = publish(warehouse, publish_dir, run_id="run5", keep_releases=1)
    assert sorted(os.listdir(releases)) == sorted([".tmp-fresh", last.release_dir.name, "99991231T000000000000-future"])
    assert current_publication(publish_dir) == last


@pytest.mark.parametrize("failing", ["_sha256", "_switch_current"])
def test_failure_midway_leaves_previous_publication_current(
    warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str
):
    publish_dir = tmp_path / "pub"
    first = publish(warehouse, publish_dir)
    before = snapshot(publish_dir)

    def disk_error(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(publish_module, failing, disk_error)
    set_score(warehouse, "95.00")
    with pytest.raises(OSError, match="No space left"):
        publish(warehouse, publish_dir, run_id="run2")
    assert snapshot(publish_dir) == before
    assert os.listdir(publish_dir / "releases") == [first.release_dir.name]  # no .tmp- dir, no orphan release
    assert sorted(os.listdir(publish_dir)) == ["current", "releases"]
    assert current_publication(publish_dir) == first


def test_given_connection_is_used_and_left_open(warehouse: Path, tmp_path: Path):
    con = duckdb.connect(str(warehouse))  # as dbt-duckdb holds it in the same process
    try:
        pub = publish(warehouse, tmp_path / "pub", connection=con)
        assert pub.manifest["marts"]["dim_region"]["row_count"] == 3
        assert con.execute("select count(*) from raw.submissions").fetchone() == (1,)
        assert [
            d for (d,) in con.execute("select database_name from duckdb_databases() where not internal").fetchall()
        ] == ["hqd"]
    finally:
        con.close()


def test_memory_limit_caps_the_connection_the_publication_opens(
    warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """Uncapped, DuckDB kept every block the national publication read and wrote cached: 6.6 GB resident for
    3 GB of marts. The connection the publication opens gets the configured cap (HQD_DUCKDB_MEMORY_LIMIT, as
    the job and `hqd publish files` pass it); a caller's connection keeps the cap its owner set."""
    seen = record_memory_caps(monkeypatch)
    publish(warehouse, tmp_path / "own", memory_limit="256MiB")
    con = duckdb.connect(str(warehouse))
    con.execute("set memory_limit = '300MiB'")
    try:
        publish(warehouse, tmp_path / "given", connection=con, memory_limit="256MiB")
        assert con.execute("select current_setting('memory_limit')").fetchone() == ("300.0 MiB",)
    finally:
        con.close()
    monkeypatch.setenv("HQD_DUCKDB_MEMORY_LIMIT", "200MiB")
    from hqd import cli

    assert cli.main(["publish", "files", "--warehouse", str(warehouse), "--publish-dir", str(tmp_path / "cli")]) == 0
    # the publication's own cap, when set, wins over the warehouse's
    monkeypatch.setenv("HQD_PUBLISH_MEMORY_LIMIT", "150MiB")
    assert cli.main(["publish", "files", "--warehouse", str(warehouse), "--publish-dir", str(tmp_path / "cli2")]) == 0
    assert seen == ["256.0 MiB", "300.0 MiB", "200.0 MiB", "150.0 MiB"]


def test_warehouse_without_marts_is_refused(tmp_path: Path):
    empty = tmp_path / "empty.duckdb"
    con = duckdb.connect(str(empty))
    con.execute("create schema marts; create table main.t as select 1 as x")
    con.close()
    with pytest.raises(ValueError, match=r"empty\.duckdb"):
        publish(empty, tmp_path / "pub")
    with pytest.raises(FileNotFoundError):
        publish(tmp_path / "missing.duckdb", tmp_path / "pub")
    assert not (tmp_path / "missing.duckdb").exists()
    assert not (tmp_path / "pub" / "current").exists()


@pytest.mark.parametrize("kwargs", [{"run_id": "../escape"}, {"run_id": ""}, {"keep_releases": 0}])
def test_bad_arguments_are_refused_before_writing(warehouse: Path, tmp_path: Path, kwargs: dict):
    with pytest.raises(ValueError):
        publish(warehouse, tmp_path / "pub", **kwargs)
    assert not (tmp_path / "pub").exists()


def test_cli_publishes_and_prints_row_counts(warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    import io

    from rich.console import Console

    from hqd import cli

    buffer = io.StringIO()
    monkeypatch.setattr(cli, "console", Console(file=buffer, width=300))
    code = cli.main(
        ["publish", "files", "--warehouse", str(warehouse), "--publish-dir", str(tmp_path / "pub"), "--run-id", "cli1"]
    )
    out = buffer.getvalue()
    pub = current_publication(tmp_path / "pub")
    assert code == 0
    assert pub is not None and pub.manifest["checks"] == [] and pub.manifest["run_id"] == "cli1"
    assert str(pub.release_dir) in out
    assert "fct_region_assessment: 2 rows" in out
    assert (
        cli.main(
            ["publish", "files", "--warehouse", str(tmp_path / "nope.duckdb"), "--publish-dir", str(tmp_path / "p")]
        )
        == 1
    )


def test_remove_leftovers_takes_every_tmp_release_and_link_but_nothing_published(warehouse: Path, tmp_path: Path):
    """What the job calls under the run lock: a killed publication's leftovers go at once, whatever their age."""
    publish_dir = tmp_path / "published"
    published = publish(warehouse, publish_dir)
    releases = publish_dir / "releases"
    (releases / ".tmp-20990101T000000000000-killed").mkdir()  # seconds old, not an hour
    (releases / ".tmp-20990101T000000000000-killed" / "hqd_marts.duckdb").write_bytes(b"half")
    os.symlink("releases/.tmp-20990101T000000000000-killed", publish_dir / ".current-killed")
    removed = publish_module.remove_leftovers(publish_dir)
    assert removed == ["releases/.tmp-20990101T000000000000-killed", ".current-killed"]
    assert os.listdir(releases) == [published.release_dir.name]
    assert sorted(os.listdir(publish_dir)) == ["current", "releases"]
    assert publish_module.current_publication(publish_dir).release_dir == published.release_dir
    assert publish_module.remove_leftovers(tmp_path / "never_published") == []
