"""Publication for BI: after the blocking quality checks of this run pass, the marts are published atomically
(a read-only DuckDB file and one Parquet file per mart, with a manifest). BI tools never open the writer."""

import json

from dagster import AssetExecutionContext, BackfillPolicy, Failure, MaterializeResult, MetadataValue, asset

from hqd.dbt import run_target_path
from hqd.publication import files as publish
from orchestration.assets.dbt import hqd_dbt_assets
from orchestration.checks import outcomes_path
from orchestration.partitions import PERIODS, period_of
from orchestration.resources import HqdSettings, RunLock

MART_KEYS = sorted((key for key in hqd_dbt_assets.keys if key.path[0] == "marts"), key=lambda k: k.path)


@asset(
    key=["published", "marts"],
    deps=MART_KEYS,
    group_name="publication",
    description="The marts as BI reads them: <publish_dir>/current/hqd_marts.duckdb (read-only) and Parquet.",
    kinds={"duckdb", "parquet"},
    partitions_def=PERIODS,
    backfill_policy=BackfillPolicy.single_run(),
)
def published_marts(context: AssetExecutionContext, hqd: HqdSettings, run_lock: RunLock):
    settings = hqd.get()
    path = outcomes_path(settings.quality_dir, context.run.run_id)
    if not path.exists():
        raise Failure(
            "the quality checks did not run in this run, so nothing is published "
            "(run the job, or select the great_expectations checks with this asset)"
        )
    checks = [
        publish.CheckOutcome(**{k: r[k] for k in ("name", "asset", "passed", "blocking", "detail")})
        for r in json.loads(path.read_text(encoding="utf-8"))
    ]
    # the run lock (held for the whole run) means no other publication is writing here: what a killed one left
    # goes now, not an hour later
    for leftover in publish.remove_leftovers(settings.publish_dir):
        context.log.info(f"removed {leftover}, left by a publication that did not finish")
    last_key = context.partition_key_range.end if context.has_partition_key_range else context.partition_key
    year, quarter = period_of(last_key)
    # the descriptions of this run's dbt build (its manifest), else those `make manifest` parsed
    manifest = run_target_path(settings, context.run.run_id) / "manifest.json"
    if not manifest.exists():
        manifest = settings.dbt_target_dir / "manifest.json"
    # a full refresh of the build rewrites the whole publication too; otherwise unchanged years are reused
    dbt_config = (context.run.run_config.get("ops") or {}).get("hqd_dbt_assets", {}).get("config") or {}
    full_refresh = bool(dbt_config.get("full_refresh", False))
    try:
        publication = publish.publish_marts(
            settings.warehouse,
            settings.publish_dir,
            run_id=context.run.run_id,
            assessment_year=year,
            checks=checks,
            keep_releases=settings.releases_kept,
            descriptions=publish.descriptions_from_dbt_manifest(manifest),
            full_refresh=full_refresh,
            memory_limit=settings.publication_memory_limit,
        )
    except publish.PublicationBlocked as exc:
        raise Failure(str(exc)) from exc
    rows = {name: info["row_count"] for name, info in publication.manifest["marts"].items()}
    reuse = publication.manifest["reuse"]
    context.log.info(
        f"published {len(rows)} marts to {publication.release_dir}: {reuse['rows_copied']:,} rows copied, "
        f"{reuse['parquet_written']} Parquet files written, {reuse['parquet_reused']} reused from "
        f"{reuse['base_release'] or 'no earlier release'} (DuckDB file from the {reuse['duckdb_from']})"
    )
    server = {}
    if settings.publish_postgres:
        from hqd.engines import PostgresConnection
        from hqd.publication.postgres import publish_release_to_postgres

        pg = PostgresConnection.from_settings(settings)
        try:
            loaded = publish_release_to_postgres(
                publication.release_dir, pg, settings.pg_publish_schema, settings.pg_reader_role
            )
        except Exception as exc:
            raise Failure(
                f"the release {publication.release_dir.name} is published as files, but loading it into PostgreSQL "
                f"{pg.host}:{pg.port}/{pg.dbname} failed, and the server keeps its previous marts: {exc}"
            ) from exc
        context.log.info(f"loaded into PostgreSQL schema {loaded.schema}, readable by role {loaded.reader_role}")
        server = {"postgres_schema": loaded.schema, "postgres_reader_role": loaded.reader_role}
    return MaterializeResult(
        metadata={
            **server,
            "period": f"{year}Q{quarter}",
            "release": MetadataValue.path(str(publication.release_dir)),
            "duckdb": MetadataValue.path(str(settings.publish_dir / "current" / "hqd_marts.duckdb")),
            "row_counts": MetadataValue.json(rows),
            "reuse": MetadataValue.json(reuse),
            "checks_failed_non_blocking": sum(1 for c in checks if not c.passed and not c.blocking),
        }
    )
