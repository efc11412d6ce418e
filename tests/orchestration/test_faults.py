"""Faults (issue 12, "No submission can stop the warehouse"), one test each, through the real `hqd run`.

Each test runs `hqd.cli.main(["run", ...])` (or `python -m hqd.cli run` in a process it kills) on its own
warehouse, landing and publication folders, and checks the exit code, the printed cause and what to do, what is
kept (raw rows, the last good dbt log, the previous publication), and that Dagster's run status agrees with the
exit code. One reference run per module (a 2023–2024 sample); tests copy its folders instead of rebuilding.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from dagster import DagsterRunStatus, RunsFilter
from rich.console import Console

from hqd import cli, engines, runlock
from hqd.publication import files as publish
from hqd.settings import PROJECT_DIR, Settings
from orchestration import runner
from orchestration.partitions import PERIODS
from orchestration.resources import HqdSettings

RUN_ID = re.compile(r"\brun ([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b")
# the only mart columns that say when a row was loaded rather than what it holds
VOLATILE_COLUMNS = {"load_seq", "loaded_at"}
KILL_TIMEOUT = 300


@dataclass
class Place:
    """One warehouse, landing folder and publication, with the quality outcomes and Data Docs beside them."""

    root: Path

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse" / "hqd.duckdb"

    @property
    def landing(self) -> Path:
        return self.root / "landing"

    @property
    def published(self) -> Path:
        return self.root / "published"

    def args(self) -> list[str]:
        return [
            "run",
            "--warehouse",
            str(self.warehouse),
            "--landing-dir",
            str(self.landing),
            "--publish-dir",
            str(self.published),
            "--no-generate",
        ]

    def env(self) -> dict[str, str]:
        return {"HQD_QUALITY_DIR": str(self.root / "quality"), "HQD_DATA_DOCS_DIR": str(self.root / "data_docs")}

    def settings(self) -> Settings:
        return Settings().with_overrides(
            warehouse=self.warehouse, landing_dir=self.landing, publish_dir=self.published, **self.env_overrides()
        )

    def env_overrides(self) -> dict[str, Path]:
        return {"quality_dir": self.root / "quality", "data_docs_dir": self.root / "data_docs"}

    def raw_rows(self) -> int:
        con = duckdb.connect(str(self.warehouse), read_only=True)
        try:
            return con.execute("select count(*) from raw.submissions").fetchone()[0]
        finally:
            con.close()


@dataclass
class Outcome:
    code: int
    output: str

    @property
    def text(self) -> str:
        """The output with rich's line wrapping undone."""
        return " ".join(self.output.split())

    @property
    def run_id(self) -> str | None:
        found = RUN_ID.findall(self.text)
        return found[-1] if found else None


def hqd_run(place: Place, **env: str) -> Outcome:
    """`hqd run` in this process, its output captured as tests/conftest.py does."""
    buffer = io.StringIO()
    mp = pytest.MonkeyPatch()
    for key, value in {**place.env(), **env}.items():
        mp.setenv(key, value)
    mp.setattr(cli, "console", Console(file=buffer, width=400, force_terminal=False))
    try:
        code = cli.main(place.args())
    finally:
        mp.undo()
    return Outcome(code, buffer.getvalue())


def run_status(place: Place, run_id: str) -> DagsterRunStatus:
    return runner.instance_for(place.settings()).get_run_by_id(run_id).status


def assert_status_agrees(place: Place, outcome: Outcome) -> None:
    """Dagster's record of the run says what the exit code says: SUCCESS with 0, FAILURE otherwise."""
    assert outcome.run_id, f"no run id printed:\n{outcome.output}"
    expected = DagsterRunStatus.SUCCESS if outcome.code == 0 else DagsterRunStatus.FAILURE
    assert run_status(place, outcome.run_id) == expected


def read_marts(warehouse: Path) -> dict[str, tuple[list[str], list[tuple]]]:
    keys = engines.mart_primary_keys(PROJECT_DIR / "target" / "manifest.json")
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        marts = {}
        for mart in keys:
            columns, rows = engines.read_relation_duckdb(con, f"marts.{mart}")
            kept = [i for i, c in enumerate(columns) if c not in VOLATILE_COLUMNS]
            marts[f"marts.{mart}"] = ([columns[i] for i in kept], [tuple(row[i] for i in kept) for row in rows])
        return marts
    finally:
        con.close()


def assert_marts_equal(place: Place, reference: Place) -> None:
    """Every mart row for row as the uninterrupted run's (only the load bookkeeping columns may differ)."""
    keys = engines.mart_primary_keys(PROJECT_DIR / "target" / "manifest.json")
    left, right = read_marts(place.warehouse), read_marts(reference.warehouse)
    problems = engines.compare_marts(keys, left.__getitem__, right.__getitem__)
    assert not {mart: found for mart, found in problems.items() if found}
    assert place.raw_rows() == reference.raw_rows()  # every landed row once: nothing lost, nothing twice


def assert_publication_complete(place: Place) -> Path:
    current = place.published / publish.CURRENT_LINK
    release = current.resolve(strict=True)
    assert (release / publish.MANIFEST_FILE).is_file() and (release / publish.DUCKDB_FILE).is_file()
    return release


def leftovers(place: Place) -> list[str]:
    releases = place.published / publish.RELEASES_DIR
    return sorted(p.name for p in releases.glob(f"{publish.TMP_PREFIX}*")) if releases.is_dir() else []


# ------------------------------------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Place:
    """An uninterrupted run of the 2023–2024 sample: the marts every interrupted run must end up with."""
    from tools.sample_data import generate_sample

    place = Place(tmp_path_factory.mktemp("faults_reference"))
    generate_sample(place.landing, years=[2023, 2024])
    outcome = hqd_run(place)
    assert outcome.code == 0, outcome.output
    assert_status_agrees(place, outcome)
    assert place.settings().dbt_log.stat().st_size > 0
    return place


@pytest.fixture
def built(reference: Place, tmp_path: Path) -> Place:
    """A copy of the reference run's folders (warehouse, dbt log, landing, publication) to break."""
    place = Place(tmp_path / "built")
    shutil.copytree(reference.root, place.root, symlinks=True)
    return place


@pytest.fixture
def fresh(reference: Place, tmp_path: Path) -> Place:
    """The reference's landing files only: nothing loaded, built or published yet."""
    place = Place(tmp_path / "fresh")
    shutil.copytree(reference.landing, place.landing)
    return place


# ------------------------------------------------------------------------------- killing a run in a process
def start_run(place: Place, log: Path) -> subprocess.Popen:
    """`python -m hqd.cli run` in its own session, so the kill takes its dbt child too (as a closed terminal,
    a kill of the service or a power cut would)."""
    sink = log.open("w", encoding="utf-8")
    env = {**os.environ, **place.env(), "PYTHONUNBUFFERED": "1", "COLUMNS": "400"}
    return subprocess.Popen(
        [sys.executable, "-m", "hqd.cli", *place.args()],
        cwd=PROJECT_DIR,
        env=env,
        stdout=sink,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def kill_when(process: subprocess.Popen, moment, log: Path) -> None:
    """SIGKILL the run's whole process group as soon as `moment()` holds."""
    deadline = time.monotonic() + KILL_TIMEOUT
    while time.monotonic() < deadline:
        if moment():
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            return
        if process.poll() is not None:
            pytest.fail(f"the run ended (exit {process.returncode}) before the moment to kill it:\n{log.read_text()}")
        time.sleep(0.005)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    pytest.fail(f"the moment to kill the run never came:\n{log.read_text()}")


def killed_run(place: Place, process: subprocess.Popen):
    """The Dagster run the killed process had started."""
    runs = runner.instance_for(place.settings()).get_runs(
        RunsFilter(tags={runner.WAREHOUSE_TAG: str(place.settings().warehouse), runner.PID_TAG: str(process.pid)})
    )
    assert len(runs) == 1
    return runs[0]


def rerun_completes(place: Place, reference: Place, process: subprocess.Popen) -> Outcome:
    """The next run after a kill: completes, marks the killed run failed, equals the uninterrupted run."""
    killed = killed_run(place, process)
    assert killed.status == DagsterRunStatus.STARTED  # what the kill left: no process will finish it
    outcome = hqd_run(place)
    assert outcome.code == 0, outcome.output
    assert_status_agrees(place, outcome)
    assert run_status(place, killed.run_id) == DagsterRunStatus.FAILURE
    assert_marts_equal(place, reference)
    assert_publication_complete(place)
    assert leftovers(place) == []
    return outcome


# ---------------------------------------------------------------------------------------------- the faults
def test_locked_warehouse_names_the_holder_and_keeps_everything(built: Place):
    log = built.settings().dbt_log
    last_good_log = log.read_bytes()
    raw_before = built.raw_rows()
    release_before = assert_publication_complete(built)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; con = duckdb.connect(sys.argv[1]); print('holding', flush=True); "
            "time.sleep(300)",
            str(built.warehouse),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "holding"
        outcome = hqd_run(built)
    finally:
        holder.kill()
        holder.wait()
    assert outcome.code == cli.WAREHOUSE_UNAVAILABLE, outcome.output
    assert f"is locked by process {holder.pid}" in outcome.text
    assert "Wait for it to finish or close that client, then run again" in outcome.text
    assert "Error occurred while executing" not in outcome.text
    assert_status_agrees(built, outcome)
    assert built.raw_rows() == raw_before
    assert log.read_bytes() == last_good_log
    assert assert_publication_complete(built) == release_before


def test_second_run_at_once_refuses_with_a_message(built: Place):
    raw_before = built.raw_rows()
    with runlock.exclusive_run(built.settings()):
        outcome = hqd_run(built)
    assert outcome.code == cli.WAREHOUSE_UNAVAILABLE, outcome.output
    assert f"another run is using the warehouse {built.settings().warehouse} (pid {os.getpid()}" in outcome.text
    assert "wait for it to finish" in outcome.text
    assert_status_agrees(built, outcome)
    assert built.raw_rows() == raw_before


def test_empty_landing_says_so_with_its_exit_code(tmp_path: Path):
    place = Place(tmp_path)
    place.landing.mkdir()
    outcome = hqd_run(place)
    assert outcome.code == cli.NOTHING_TO_LOAD, outcome.output
    assert f"no submissions in {place.landing}" in outcome.text
    assert "put the bureaus' CSV or XLSX files there" in outcome.text
    assert outcome.run_id is None  # stopped before any run
    assert not place.warehouse.exists()

    # the job itself, as the schedules and the sensor start it, fails with the same message and code
    overrides = HqdSettings(
        warehouse=str(place.warehouse),
        landing_dir=str(place.landing),
        publish_dir=str(place.published),
        quality_dir=str(place.root / "quality"),
        data_docs_dir=str(place.root / "data_docs"),
    )
    job_run = runner.execute(overrides, partition_key=PERIODS.get_last_partition_key())
    assert not job_run.success
    assert run_status(place, job_run.run_id) == DagsterRunStatus.FAILURE
    buffer = io.StringIO()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(cli, "console", Console(file=buffer, width=400))
        assert cli._report_failure(job_run) == cli.NOTHING_TO_LOAD
    assert f"raw_submissions: no submissions in {place.landing}" in " ".join(buffer.getvalue().split())


def test_killed_during_ingest_the_next_run_completes(fresh: Place, reference: Place, tmp_path: Path):
    log = tmp_path / "killed.out"
    process = start_run(fresh, log)
    wal = fresh.warehouse.with_name(fresh.warehouse.name + ".wal")
    kill_when(process, lambda: "▶ raw_submissions" in log.read_text() and wal.exists(), log)
    assert "✓ raw_submissions" not in log.read_text()  # killed inside the ingest step
    rerun_completes(fresh, reference, process)


def test_killed_during_dbt_build_the_next_run_completes(fresh: Place, reference: Place, tmp_path: Path):
    log = tmp_path / "killed.out"
    dbt_log = fresh.settings().dbt_log.with_suffix(".log.new")  # dbt's output of the run under way
    process = start_run(fresh, log)

    def models_built() -> int:
        return dbt_log.read_text(errors="replace").count("OK created") if dbt_log.exists() else 0

    kill_when(process, lambda: models_built() >= 8, log)
    assert "✓ hqd_dbt_assets" not in log.read_text()  # killed inside dbt build
    rerun_completes(fresh, reference, process)


def test_killed_during_publication_readers_never_see_half_a_release(built: Place, reference: Place, tmp_path: Path):
    before = assert_publication_complete(built)
    seen, broken, stop = set(), [], threading.Event()

    def reader() -> None:  # what a BI tool opening `current` meets, all along
        while not stop.is_set():
            try:
                release = (built.published / publish.CURRENT_LINK).resolve(strict=True)
                if not (release / publish.MANIFEST_FILE).is_file():
                    broken.append(release.name)
                seen.add(release.name)
            except OSError as exc:
                broken.append(repr(exc))
            time.sleep(0.002)

    watcher = threading.Thread(target=reader, daemon=True)
    watcher.start()
    log = tmp_path / "killed.out"
    try:
        process = start_run(built, log)
        kill_when(process, lambda: bool(leftovers(built)), log)
        left = leftovers(built)
        assert left, "the publication finished before the kill"
        assert assert_publication_complete(built) == before  # the half-written release never became current
        rerun_completes(built, reference, process)
    finally:
        stop.set()
        watcher.join()
    assert broken == []
    assert before.name in seen and assert_publication_complete(built).name in seen


def test_corrupted_warehouse_says_damaged_and_keeps_the_publication(built: Place):
    release = assert_publication_complete(built)
    manifest = (release / publish.MANIFEST_FILE).read_bytes()
    with built.warehouse.open("r+b") as damaged:
        damaged.write(b"not a warehouse " * 256)
    outcome = hqd_run(built)
    assert outcome.code == cli.WAREHOUSE_UNAVAILABLE, outcome.output
    assert f"the warehouse file {built.settings().warehouse} is damaged" in outcome.text
    assert "not a valid DuckDB database" in outcome.text  # DuckDB's own words
    assert "move it aside (or `make clean`), then run again" in outcome.text
    assert_status_agrees(built, outcome)
    assert assert_publication_complete(built) == release
    assert (release / publish.MANIFEST_FILE).read_bytes() == manifest


@pytest.fixture
def small_disk(tmp_path: Path):
    """A 24 MB tmpfs (root in CI may mount one); skipped where mounting is not permitted."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(mount_point)], capture_output=True, text=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs to fill here ({(done.stderr or done.stdout).strip()})")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def test_full_disk_prints_the_cause_and_keeps_the_publication(built: Place, small_disk: Path):
    release = assert_publication_complete(built)
    # a new warehouse on the small disk, nearly full: the sample's raw rows do not fit
    shutil.rmtree(built.root / "warehouse")
    (small_disk / "warehouse").mkdir()
    (built.root / "warehouse").symlink_to(small_disk / "warehouse")
    with (small_disk / "filler").open("wb") as fill:  # leaves about 1 MB
        fill.write(b"\0" * (23 << 20))
    outcome = hqd_run(built)
    assert outcome.code == cli.WAREHOUSE_UNAVAILABLE, outcome.output
    assert "No space left on device" in outcome.text
    assert "is full. Free space" in outcome.text
    assert_status_agrees(built, outcome)
    assert assert_publication_complete(built) == release


def test_per_run_dbt_folders_do_not_accumulate(built: Place, tmp_path: Path):
    target = tmp_path / "target"
    runs = target / "runs"
    for n in range(4):  # folders of earlier (and killed) runs
        old = runs / f"old-run-{n}"
        old.mkdir(parents=True)
        os.utime(old, (time.time() - 3600 * (n + 1),) * 2)
    shutil.copy(PROJECT_DIR / "target" / "manifest.json", target / "manifest.json")
    project_before = set((PROJECT_DIR / "target").glob("hqd_dbt_assets-*"))
    outcome = hqd_run(built, HQD_DBT_TARGET_DIR=str(target), HQD_DBT_RUNS_KEPT="2")
    assert outcome.code == 0, outcome.output
    assert_status_agrees(built, outcome)
    kept = sorted(p.name for p in runs.iterdir())
    assert len(kept) <= 2 and outcome.run_id in kept
    assert (runs / outcome.run_id / "run_results.json").is_file()
    assert list(target.glob("hqd_dbt_assets-*")) == []
    assert set((PROJECT_DIR / "target").glob("hqd_dbt_assets-*")) == project_before


def test_make_clean_keeps_landing_and_releases():
    recipe = subprocess.run(["make", "-n", "clean"], cwd=PROJECT_DIR, capture_output=True, text=True, check=True)
    removed = " ".join(line for line in recipe.stdout.splitlines() if line.startswith("rm "))
    assert removed, recipe.stdout
    assert "data/warehouse" in removed and "target" in removed and "gx/uncommitted" in removed
    assert "data/landing" not in recipe.stdout and "data/published" not in recipe.stdout
    assert not re.search(r"(^|\s)data/?(\s|$)", removed)  # never the whole data folder
    # the explicit target that does delete them exists (and asks for CONFIRM=yes; only printed here, never run)
    explicit = subprocess.run(["make", "-n", "clean-all"], cwd=PROJECT_DIR, capture_output=True, text=True)
    assert "CONFIRM" in explicit.stdout and "rm -rf data " in explicit.stdout


def test_no_run_is_left_started(reference: Place):
    """After every fault above, Dagster shows no run as still going: each is SUCCESS or FAILURE."""
    instance = runner.instance_for(reference.settings())
    runs = instance.get_runs(RunsFilter(job_name=runner.MAIN_JOB))
    assert runs
    assert {
        r.run_id: r.status for r in runs if r.status not in (DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE)
    } == {}
