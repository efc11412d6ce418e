"""Every setting of the warehouse in one object, read from the environment (HQD_*) when a run starts.

Relative paths are taken under the project folder, so a run started from any directory writes to the same
place. profiles.yml and dbt_project.yml read a few of these through `env_var`: `Settings.dbt_env()` hands them
to the dbt process, so dbt and Python always agree.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_DIR = Path(__file__).resolve().parents[1]
TARGETS = ("duckdb", "postgres", "spark")


def _under_project(path: Path) -> Path:
    path = Path(path).expanduser()
    return path if path.is_absolute() else PROJECT_DIR / path


class Settings(BaseSettings):
    """The warehouse's paths, engine and options. Each field `x` is read from the variable `HQD_X`."""

    model_config = SettingsConfigDict(env_prefix="HQD_", extra="ignore", validate_assignment=True)

    # files
    warehouse: Path = Field(Path("data/warehouse/hqd.duckdb"), description="the writer's DuckDB file")
    landing_dir: Path = Field(Path("data/landing"), description="where submitted files are put")
    publish_dir: Path = Field(Path("data/published"), description="releases for BI tools; current/ is the live one")
    quality_dir: Path = Field(Path("data/quality"), description="quality outcomes per run")
    data_docs_dir: Path = Field(Path("gx/uncommitted/data_docs/local_site"), description="Great Expectations Data Docs")
    reports_dir: Path = Field(
        Path("data/reports"), description="the report pack, one folder per period (<reports_dir>/2024Q4/index.html)"
    )
    scenarios_dir: Path = Field(
        Path("data/scenarios"), description="scenario runs' outputs, one folder per scenario (<code>/changes.csv)"
    )
    seeds_dir: Path = Field(Path("seeds"), description="the configuration tree dbt loads; must be inside the project")
    dbt_target_dir: Path = Field(Path("target"), description="dbt's manifest and per-run artefacts")
    dagster_home: Path = Field(
        Path(".dagster_home"),
        description="the Dagster instance shared by `hqd run` and `make ui` (DAGSTER_HOME wins when set)",
    )
    # engine
    target: Literal["duckdb", "postgres", "spark"] = Field("duckdb", description="the profiles.yml output dbt uses")
    duckdb_memory_limit: str = Field("", description="DuckDB memory cap, e.g. 2500MB (blank: DuckDB's default)")
    publish_memory_limit: str = Field(
        "",
        description="DuckDB memory cap of the publication's own connection, e.g. 1500MB: it writes Parquet beside "
        "DuckDB's buffers, so its process needs room above the cap (blank: HQD_DUCKDB_MEMORY_LIMIT)",
    )
    pg_host: str = "localhost"
    pg_port: int = 5432
    pg_user: str = "hqd"
    pg_password: str = ""
    pg_database: str = "hqd"
    pg_schema: str = "public"
    spark_method: Literal["session", "thrift"] = "session"
    spark_host: str = "localhost"
    spark_port: int = 10000
    spark_user: str = "hqd"
    spark_schema: str = "hqd"
    spark_dir: Path = Field(Path("data/spark"), description="local Spark session's tables and metastore")
    # publication
    publish_postgres: bool = Field(False, description="also load each release into a PostgreSQL schema for BI")
    pg_publish_schema: str = "hqd_marts"
    pg_reader_role: str = "hqd_bi"
    releases_kept: int = Field(3, ge=1, description="published releases kept on disk")
    # a run
    landing_settle_seconds: float = Field(
        5.0, ge=0, description="a landing file is loaded once unchanged this long (a file still being copied waits)"
    )
    generate_sample_if_empty: bool = Field(True, description="`hqd run` writes the sample into an empty landing")
    dbt_unit_tests: bool | None = Field(
        None,
        description=(
            "run dbt's unit tests inside each build; blank: only on PostgreSQL and Spark (proving the SQL there), "
            "never in the embedded runs, as dbt advises (their inputs are fixed; `make test` runs them)"
        ),
    )
    dbt_threads: int | None = Field(
        None,
        ge=1,
        description=(
            "dbt's threads on DuckDB; blank: 1 when the build takes in more raw rows than hqd.dbt.SERIAL_BUILD_ROWS "
            "(two large models at once spill under the memory cap), else profiles.yml's 2"
        ),
    )
    dbt_runs_kept: int = Field(3, ge=1, description="per-run dbt artefact folders kept under target/runs")
    quality_runs_kept: int = Field(
        20, ge=1, description="per-run quality check records kept under <quality_dir>/runs (a run reads only its own)"
    )

    @field_validator(
        "warehouse",
        "landing_dir",
        "publish_dir",
        "quality_dir",
        "data_docs_dir",
        "reports_dir",
        "scenarios_dir",
        "seeds_dir",
        "dbt_target_dir",
        "dagster_home",
        "spark_dir",
        mode="after",
    )
    @classmethod
    def _absolute(cls, path: Path) -> Path:
        return _under_project(path)

    @model_validator(mode="after")
    def _seeds_inside_project(self) -> Settings:
        # dbt writes each seed's compiled files under target/ by the seed's path: a folder outside the project
        # would make it write over the seed files themselves
        if not self.seeds_dir.resolve().is_relative_to(PROJECT_DIR.resolve()):
            raise ValueError(f"HQD_SEEDS_DIR must be a folder inside the project ({PROJECT_DIR}), got {self.seeds_dir}")
        return self

    @property
    def project_dir(self) -> Path:
        return PROJECT_DIR

    @property
    def runs_unit_tests(self) -> bool:
        """Whether a build on this target runs dbt's unit tests (HQD_DBT_UNIT_TESTS, else engines only)."""
        return self.target != "duckdb" if self.dbt_unit_tests is None else self.dbt_unit_tests

    @property
    def manifest_path(self) -> Path:
        return self.dbt_target_dir / "manifest.json"

    @property
    def dbt_log(self) -> Path:
        """dbt's own log of the latest run on this warehouse."""
        return self.warehouse.parent / "logs" / "dbt_output.log"

    @property
    def publication_memory_limit(self) -> str:
        return self.publish_memory_limit or self.duckdb_memory_limit

    def dbt_env(self) -> dict[str, str]:
        """The variables profiles.yml and dbt_project.yml read, as this object holds them."""
        return {
            "HQD_WAREHOUSE": str(self.warehouse),
            "HQD_TARGET": self.target,
            "HQD_SEEDS_DIR": self.seeds_dir.resolve().relative_to(PROJECT_DIR.resolve()).as_posix(),
            "HQD_DUCKDB_MEMORY_LIMIT": self.duckdb_memory_limit,
            "HQD_PG_HOST": self.pg_host,
            "HQD_PG_PORT": str(self.pg_port),
            "HQD_PG_USER": self.pg_user,
            "HQD_PG_PASSWORD": self.pg_password,
            "HQD_PG_DATABASE": self.pg_database,
            "HQD_PG_SCHEMA": self.pg_schema,
            "HQD_SPARK_METHOD": self.spark_method,
            "HQD_SPARK_HOST": self.spark_host,
            "HQD_SPARK_PORT": str(self.spark_port),
            "HQD_SPARK_USER": self.spark_user,
            "HQD_SPARK_SCHEMA": self.spark_schema,
            "HQD_SPARK_DIR": str(self.spark_dir),
        }

    def with_overrides(self, **values) -> Settings:
        """A copy with the given fields replaced (None means: keep), validated like the environment."""
        given = {k: v for k, v in values.items() if v is not None}
        return self.model_validate({**self.model_dump(), **given}) if given else self


def settings(**overrides) -> Settings:
    """The settings as the environment gives them now, with explicit overrides (e.g. from the command line)."""
    return Settings().with_overrides(**overrides)
