"""The report pack: the office's documents (点对点反馈 letters, the province overview, the warnings notice) made
from the published release as static, offline HTML. No Dagster here: orchestration/assets/reports.py calls it."""

from hqd.reports.pack import ReportPack, ReportPackError, build_report_pack, pack_dir

__all__ = ["ReportPack", "ReportPackError", "build_report_pack", "pack_dir"]
