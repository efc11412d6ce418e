"""The Dagster layer: definitions only; the work is in the library package hqd."""

import warnings

from dagster import BetaWarning

# single-run backfills (a range of periods in one run, one dbt build) are a beta parameter in Dagster 1.13
warnings.filterwarnings("ignore", message=".*backfill_policy.*", category=BetaWarning)
