"""Dagster resources: the warehouse's settings (hqd.settings, read when a run starts) and dbt."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

from dagster import ConfigurableResource, Failure, InitResourceContext
from dagster_dbt import DbtCliResource

from hqd import runlock
from hqd.settings import PROJECT_DIR, Settings


class HqdSettings(ConfigurableResource):
    """hqd.settings.Settings from the environment at run start; any field given here overrides it (the CLI's
    --warehouse, --landing-dir and --publish-dir, tests' temporary folders)."""

    warehouse: str | None = None
    landing_dir: str | None = None
    publish_dir: str | None = None
    quality_dir: str | None = None
    data_docs_dir: str | None = None
    reports_dir: str | None = None
    target: str | None = None
    landing_settle_seconds: float | None = None

    def get(self) -> Settings:
        return Settings().with_overrides(**self.model_dump())


class RunLock(ConfigurableResource):
    """Held for the whole run (the jobs run their steps in one process): a second run on the same warehouse
    refuses at once with a message naming the first."""

    hqd: HqdSettings

    @contextlib.contextmanager
    def yield_for_execution(self, context: InitResourceContext):
        try:
            with runlock.exclusive_run(self.hqd.get()):
                yield self
        except runlock.RunInProgress as exc:
            raise Failure(str(exc)) from None


def dbt_cli_resource() -> DbtCliResource:
    # the dbt beside this interpreter: Dagster may run without the virtualenv on PATH
    return DbtCliResource(
        project_dir=str(PROJECT_DIR),
        profiles_dir=str(PROJECT_DIR),
        dbt_executable=str(Path(sys.executable).parent / "dbt"),
    )
