"""The main job as a user runs it: `hqd run` on the generated sample into a throwaway warehouse."""

import io
from pathlib import Path

from rich.console import Console

from hqd import cli
from hqd.config_check import validate_config
from hqd.landing import ingest
from hqd.settings import PROJECT_DIR, Settings


def test_main_job_succeeds_and_prints_the_year(built_warehouse):
    out = built_warehouse.output
    assert built_warehouse.exit_code == 0, out
    # the job ran through Dagster: every step reported, the quality gate passed, the marts were published
    for step in (
        "raw_submissions",
        "raw_quality_checks",
        "hqd_dbt_assets",
        "warehouse_quality_checks",
        "published__marts",
        "published__docs",
        "reports__pack",
    ):
        assert f"✓ {step}" in out
    assert "✗" not in out
    assert "materialised published/marts" in out
    assert (built_warehouse.root / "published" / "current" / "hqd_marts.duckdb").exists()
    assert (built_warehouse.root / "quality" / "quality.html").exists()
    assert f"quality report: {built_warehouse.root / 'quality' / 'quality.html'}" in out.replace("\n", "")
    assert "landed = accepted + rejected" in out and "NO" not in out
    assert "2023年度 设区市 — tiers by class" in out
    assert "2023年度 高质量发展先进县(市、区): 18" in out
    for reason in ("region_not_valid_in_year", "unknown_indicator", "unparseable_value", "value_out_of_range"):
        assert reason in out
    assert str(built_warehouse.path) in out.replace("\n", "")


def test_second_ingest_of_the_same_files_changes_nothing(built_warehouse):
    before = built_warehouse.query("select count(*) as n from raw.submissions")["n"][0]
    settings = Settings(warehouse=built_warehouse.path, landing_dir=built_warehouse.landing_dir)
    report = ingest.land(settings)
    assert (report.files_loaded, report.files_skipped, report.rows_loaded) == (0, 456, 0)
    assert built_warehouse.query("select count(*) as n from raw.submissions")["n"][0] == before


def test_configuration_error_stops_before_anything_runs(tmp_path: Path, monkeypatch):
    seeds = tmp_path / "seeds"
    import shutil

    shutil.copytree(PROJECT_DIR / "seeds", seeds)
    rules = seeds / "config/indicator_rules.csv"
    rules.write_text(rules.read_text(encoding="utf-8").replace("2021,,county,II,N01,6,", "2021,,county,II,N01,7,"))
    monkeypatch.setattr(cli.config_check, "validate_config", lambda _seeds_dir: validate_config(seeds))
    buffer = io.StringIO()
    monkeypatch.setattr(cli, "console", Console(file=buffer, width=200))
    warehouse = tmp_path / "never.duckdb"
    code = cli.main(["run", "--warehouse", str(warehouse), "--landing-dir", str(tmp_path / "landing")])
    assert code == 2
    assert not warehouse.exists()
    assert not (tmp_path / "landing").exists()
    printed = buffer.getvalue().replace("\n", " ")
    assert "seeds/config/indicator_rules.csv" in printed
    assert "2021-2024, county, class II" in printed and "weights sum to 101, not 100" in printed


def test_run_on_another_engine_points_to_the_engine_command(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("HQD_TARGET", "postgres")
    buffer = io.StringIO()
    monkeypatch.setattr(cli, "console", Console(file=buffer, width=200))
    warehouse = tmp_path / "never.duckdb"
    code = cli.main(["run", "--warehouse", str(warehouse), "--landing-dir", str(tmp_path / "landing")])
    assert code == 2
    assert not warehouse.exists()
    assert "make run-postgres" in buffer.getvalue()
