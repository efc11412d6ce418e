"""The report pack (hqd.reports) as an asset after publication: the office's documents for the run's period,
made from the release that was just published, never from the writer's warehouse. The folder also gets the run's
quality page and the published dbt docs (hqd.docs.report_folder), which its index links."""

from functools import partial

from dagster import AssetExecutionContext, BackfillPolicy, Failure, MaterializeResult, MetadataValue, asset

from hqd.docs.report_folder import write_report_docs
from hqd.publication.files import CURRENT_LINK, DUCKDB_FILE
from hqd.reports import ReportPackError, build_report_pack
from orchestration.assets.docs import published_docs
from orchestration.assets.publication import published_marts
from orchestration.partitions import PERIODS, period_of
from orchestration.resources import HqdSettings


@asset(
    key=["reports", "pack"],
    deps=[published_marts, published_docs],
    group_name="reports",
    description=(
        "点对点反馈 letters, the province overview and the warnings notice as static HTML: "
        "<reports_dir>/<YYYY>Q<q>/index.html (letters and overview in the Q4 pack, the annual assessment)."
    ),
    kinds={"html"},
    partitions_def=PERIODS,
    backfill_policy=BackfillPolicy.single_run(),
)
def report_pack(context: AssetExecutionContext, hqd: HqdSettings):
    settings = hqd.get()
    keys = (
        PERIODS.get_partition_keys_in_range(context.partition_key_range)
        if context.has_partition_key_range
        else [context.partition_key]
    )
    published = settings.publish_dir / CURRENT_LINK / DUCKDB_FILE
    packs = []
    for key in keys:  # a backfill writes each period's pack; each is a second or two
        year, quarter = period_of(key)
        try:
            docs = partial(write_report_docs, settings, run_id=context.run.run_id, period=f"{year}Q{quarter}")
            pack = build_report_pack(published, settings.reports_dir, year=year, quarter=quarter, extra_pages=[docs])
        except ReportPackError as exc:
            raise Failure(f"report pack for {year}Q{quarter}: {exc}") from exc
        context.log.info(
            f"report pack {pack.period}: {pack.page_count} pages, {pack.bytes_total / 1e6:.1f} MB in "
            f"{pack.seconds['total']:.1f} s → {pack.index}"
        )
        packs.append(pack)
    last = packs[-1]
    return MaterializeResult(
        metadata={
            "period": last.period,
            "index": MetadataValue.path(str(last.index)),
            "pages": last.page_count,
            "size_mb": round(last.bytes_total / 1e6, 2),
            "seconds": round(last.seconds["total"], 2),
            "seconds_by_stage": MetadataValue.json({k: round(v, 3) for k, v in last.seconds.items()}),
            "packs_written": len(packs),
        }
    )
