"""Offline documents about the warehouse itself: the data quality page and dbt's docs as one static file.

Everything written here opens from a file with no network (offices run on closed networks): styles inline, no
script or font fetched. No Dagster import (orchestration/assets/docs.py calls this).
"""
