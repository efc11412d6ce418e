"""dbt's unit tests (the `unit_tests:` beside each model) run here, once per test session.

They pin each rule to rows worked out by hand. The embedded runs leave them out of their `dbt build`, as dbt
advises for production (their inputs are fixed, so a period's data cannot change their outcome); the PostgreSQL
and Spark builds keep them, since there they prove the SQL on that engine (tests/parity). This module runs every
unit test of the main build on a copy of the end-to-end warehouse, and pins which builds include them.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hqd import dbt as hqd_dbt
from hqd.settings import PROJECT_DIR, Settings


def _main_build_unit_tests() -> set[str]:
    manifest = json.loads((PROJECT_DIR / "target" / "manifest.json").read_text())
    return {
        uid for uid, test in manifest.get("unit_tests", {}).items() if "on_demand" not in test["config"].get("tags", [])
    }


def test_every_unit_test_of_the_main_build_passes(built_warehouse, tmp_path: Path) -> None:
    assert built_warehouse.exit_code == 0, built_warehouse.output
    warehouse = tmp_path / "hqd.duckdb"
    shutil.copyfile(built_warehouse.path, warehouse)
    env = {**os.environ, **Settings(warehouse=warehouse).dbt_env(), "DO_NOT_TRACK": "1"}
    dbt = Path(sys.executable).with_name("dbt")
    completed = subprocess.run(
        [
            str(dbt),
            "test",
            "--select",
            "test_type:unit",
            "--exclude",
            "tag:on_demand",
            "--target-path",
            str(tmp_path / "target"),
            "--log-path",
            str(tmp_path / "logs"),
        ],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout[-4000:] + completed.stderr[-2000:]
    results = json.loads((tmp_path / "target" / "run_results.json").read_text())["results"]
    # the project's hooks (operation.*) run with any command; the memory limit and the build state are no test
    ran = {r["unique_id"]: r["status"] for r in results if r["unique_id"].startswith("unit_test.")}
    expected = _main_build_unit_tests()
    assert len(expected) >= 20, "the project's unit tests were not found in the manifest"
    assert set(ran) == expected
    assert set(ran.values()) == {"pass"}


@pytest.mark.parametrize(
    ("target", "setting", "runs_unit_tests"),
    [
        ("duckdb", None, False),
        ("postgres", None, True),
        ("spark", None, True),
        ("duckdb", True, True),
        ("postgres", False, False),
    ],
)
def test_builds_include_unit_tests_on_engines_or_when_asked(target, setting, runs_unit_tests) -> None:
    settings = Settings(target=target, dbt_unit_tests=setting)
    args = hqd_dbt.build_args(settings)
    assert args[:3] == ["build", "--target", target]
    assert ("--exclude-resource-type" not in args) is runs_unit_tests
    if not runs_unit_tests:
        assert args[args.index("--exclude-resource-type") + 1] == "unit_test"


def test_the_environment_turns_unit_tests_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HQD_DBT_UNIT_TESTS", "true")
    assert Settings().runs_unit_tests
    monkeypatch.setenv("HQD_DBT_UNIT_TESTS", "false")
    monkeypatch.setenv("HQD_TARGET", "postgres")
    assert not Settings().runs_unit_tests
