"""The Great Expectations quality gate: reviewed suites in expectations/*.json, validated against the warehouse.

Each suite file is an ExpectationSuite in GE 1.x shape whose `meta` names the dbt asset it guards (`marts/x`,
`staging/x`, `raw/x`), the DuckDB query whose result is validated, and the default severity (`blocking` stops
publication, `warning` is reported only); an expectation may override the severity in its own `meta`.

GE 1.24.1 cannot resolve metrics on DuckDB through SQLAlchemy (MetricResolutionError on every expectation), and
validating the query's result as a pandas DataFrame needs the whole result in memory (3.9 GB below 1 M values).
So the metrics are computed in DuckDB by SQL (hqd/quality_sql.py: counts in one scan, the first failing rows with
their keys) and handed to GE as its own validation result objects, in the shape GE's pandas engine gives; the
pandas path (pandas datasource, dataframe asset, whole-dataframe batch, in-memory context) stays as the reference
the SQL is tested against and for an expectation type that has no SQL yet. Data Docs are built from the results into a
plain folder, by default gx/uncommitted/data_docs/local_site (gitignored).

Great Expectations is imported lazily: it takes seconds to import, and reading the suites (for Dagster asset
check definitions) does not need it.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import re
import shutil
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from hqd import quality_scope, quality_sql

if TYPE_CHECKING:
    import pandas as pd
    from great_expectations.core import ExpectationSuite, ExpectationSuiteValidationResult
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context import AbstractDataContext

PROJECT_DIR = Path(__file__).resolve().parents[1]
EXPECTATIONS_DIR = PROJECT_DIR / "expectations"
DATA_DOCS_DIR = PROJECT_DIR / "gx" / "uncommitted" / "data_docs" / "local_site"

SEVERITIES = ("blocking", "warning")
ENGINES = ("duckdb", "pandas")
ASSET_PATTERN = re.compile(r"^(raw|staging|intermediate|marts)/[a-z][a-z0-9_]*$")
# the keys ExpectationSuite(**suite) accepts that the files use; anything else is a typo
SUITE_KEYS = {"name", "notes", "meta", "expectations"}
REQUIRED_META_KEYS = {"asset", "query", "severity"}
OPTIONAL_META_KEYS = {"key_columns", "partition"}
# table-level rules that mean the same on a slice of a partitioned suite as on the whole (hqd/quality_scope.py)
SLICE_SAFE_TABLE_TYPES = {"expect_table_columns_to_match_set", "expect_table_row_count_to_be_between"}
EXPECTATION_KEYS = {"type", "kwargs", "meta", "notes"}

DATASOURCE_NAME = "hqd_warehouse"
BATCH_DEFINITION_NAME = "whole_dataframe"
DATA_DOCS_SITE_NAME = "local_site"
RUN_NAME = "hqd-quality"
# examples of failing rows per expectation, in results, data docs and the observed text
PARTIAL_UNEXPECTED_COUNT = 5
OBSERVED_MAX_CHARS = 300


@dataclass
class ExpectationOutcome:
    expectation_type: str
    column: str | None
    success: bool
    severity: str
    observed: str  # observed value, or unexpected count and a few unexpected values (with their keys)

    def describe(self) -> str:
        target = f"({self.column})" if self.column else ""
        return f"[{self.severity}] {self.expectation_type}{target}: {self.observed}"


@dataclass
class SuiteOutcome:
    suite_name: str
    asset: str
    success: bool  # every expectation passed
    blocking_failed: bool  # some failed expectation is blocking
    evaluated: int
    failed: int
    rows_validated: int
    outcomes: list[ExpectationOutcome]
    severity: str = "blocking"  # the suite's default
    error: str | None = None  # the query could not run; no GE result then
    seconds: float = 0.0
    scope: quality_scope.Scope = quality_scope.WHOLE  # the rows validated: all, or a slice (hqd/quality_scope.py)
    unchanged: bool = False  # the slice had no rows: nothing was rebuilt since the suite last passed
    # the GE validation result and the suite file, for data docs; left out of repr and comparisons
    result: Any = field(default=None, repr=False, compare=False)
    suite: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def failed_outcomes(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success]

    def metadata(self) -> dict[str, str | int | float | bool]:
        """Flat, JSON-able metadata for a Dagster asset check result."""
        failed = self.failed_outcomes
        return {
            "suite": self.suite_name,
            "asset": self.asset,
            "severity": self.severity,
            "success": self.success,
            "blocking_failed": self.blocking_failed,
            "evaluated": self.evaluated,
            "failed": self.failed,
            "failed_blocking": sum(o.severity == "blocking" for o in failed),
            "failed_warning": sum(o.severity == "warning" for o in failed),
            "rows_validated": self.rows_validated,
            "scope": self.scope.description,
            "seconds": round(self.seconds, 3),
            "failed_expectations": "\n".join(o.describe() for o in failed) or "none",
            "error": self.error or "",
        }


# ---------------------------------------------------------------------------------------------------- suites


def _query_text(query: str | list[str]) -> str:
    # a long query may be written as a list of lines, which reads better in JSON
    return query if isinstance(query, str) else "\n".join(query)


def _check_suite(path: Path, data: Any) -> dict[str, Any]:
    """The parsed file with its query as one string; ValueError naming the file and the problem otherwise."""

    def fail(problem: str) -> ValueError:
        return ValueError(f"{path}: {problem}")

    if not isinstance(data, dict):
        raise fail("a suite must be a JSON object")
    unknown = set(data) - SUITE_KEYS
    if unknown:
        raise fail(f"unknown top-level key(s) {sorted(unknown)}; allowed: {sorted(SUITE_KEYS)}")
    if data.get("name") != path.stem:
        raise fail(f"name {data.get('name')!r} must equal the file name without .json ({path.stem!r})")

    meta = data.get("meta")
    if not isinstance(meta, dict):
        raise fail("meta must be an object with asset, query and severity")
    missing = REQUIRED_META_KEYS - set(meta)
    if missing:
        raise fail(f"meta lacks {sorted(missing)}")
    unknown = set(meta) - REQUIRED_META_KEYS - OPTIONAL_META_KEYS
    if unknown:
        raise fail(f"unknown meta key(s) {sorted(unknown)}")
    if not isinstance(meta["asset"], str) or not ASSET_PATTERN.match(meta["asset"]):
        raise fail(f"meta.asset {meta['asset']!r} is not a path like marts/fct_region_assessment")
    query = meta["query"]
    is_lines = isinstance(query, list) and query and all(isinstance(line, str) for line in query)
    if not (isinstance(query, str) and query.strip()) and not is_lines:
        raise fail("meta.query must be a SQL string or a list of lines")
    if meta["severity"] not in SEVERITIES:
        raise fail(f"meta.severity {meta['severity']!r} is not one of {list(SEVERITIES)}")
    keys = meta.get("key_columns", [])
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise fail("meta.key_columns must be a list of column names")
    if "partition" in meta:
        _check_partition(meta["partition"], data.get("expectations"), fail)

    expectations = data.get("expectations")
    if not isinstance(expectations, list) or not expectations:
        raise fail("expectations must be a non-empty list")
    for index, expectation in enumerate(expectations):
        where = f"expectation {index}"
        if not isinstance(expectation, dict):
            raise fail(f"{where} is not an object")
        unknown = set(expectation) - EXPECTATION_KEYS
        if unknown:
            raise fail(f"{where}: unknown key(s) {sorted(unknown)}")
        kind = expectation.get("type")
        if not isinstance(kind, str) or not kind.startswith("expect_"):
            raise fail(f"{where}: type {kind!r} is not an expectation type (expect_...)")
        if not isinstance(expectation.get("kwargs"), dict):
            raise fail(f"{where} ({kind}): kwargs must be an object")
        exp_meta = expectation.get("meta", {})
        if not isinstance(exp_meta, dict):
            raise fail(f"{where} ({kind}): meta must be an object")
        if "severity" in exp_meta and exp_meta["severity"] not in SEVERITIES:
            raise fail(f"{where} ({kind}): meta.severity {exp_meta['severity']!r} is not one of {list(SEVERITIES)}")

    checked = json.loads(json.dumps(data))  # a deep copy the caller may change freely
    checked["meta"]["query"] = _query_text(query)
    return checked


def _check_partition(partition: Any, expectations: Any, fail: Any) -> None:
    kinds = sorted(quality_scope.PARTITION_KINDS)
    if not isinstance(partition, dict) or partition.get("by") not in quality_scope.PARTITION_KINDS:
        raise fail(f"meta.partition must be an object with by one of {kinds}")
    unknown = set(partition) - {"by", "annual_only"}
    if unknown:
        raise fail(f"meta.partition: unknown key(s) {sorted(unknown)}")
    if "annual_only" in partition and (partition["by"] != "year" or not isinstance(partition["annual_only"], bool)):
        raise fail("meta.partition.annual_only is true or false, and only for by: year")
    for expectation in expectations if isinstance(expectations, list) else []:
        kind = expectation.get("type", "") if isinstance(expectation, dict) else ""
        if not kind.startswith("expect_table_"):
            continue
        # a slice of a table that passed keeps its row count above any minimum, never below; a maximum or any
        # other table rule would need every row
        kwargs = expectation.get("kwargs") or {}
        if kind not in SLICE_SAFE_TABLE_TYPES or kwargs.get("max_value") is not None:
            raise fail(f"{kind} with {kwargs} needs every row: a partitioned suite cannot have it")


def _gx_suite(path: Path, suite: dict[str, Any]) -> ExpectationSuite:
    """The GE suite for a checked suite dict; an expectation GE rejects is a ValueError naming file and index."""
    from great_expectations.core import ExpectationSuite
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    for index, expectation in enumerate(suite["expectations"]):
        try:
            ExpectationConfiguration(**expectation).to_domain_obj()
        except Exception as exc:  # GE raises several types (not found, invalid kwargs, pydantic errors)
            message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ValueError(f"{path}: expectation {index} ({expectation['type']}): {message}") from exc
    return ExpectationSuite(**suite)


def load_suites(directory: Path = EXPECTATIONS_DIR, *, check_gx: bool = False) -> dict[str, dict[str, Any]]:
    """Suite name → parsed suite file (meta.query joined into one string), in name order.

    A malformed file raises ValueError naming the file and the problem. `check_gx` also builds every
    expectation with Great Expectations (unknown types, bad kwargs); it is off by default because importing GE
    takes seconds, and run_suite/run_all check the suites they run anyway.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise ValueError(f"{directory}: no such suite folder")
    suites: dict[str, dict[str, Any]] = {}
    for path in sorted(directory.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ValueError(f"{path}: not valid JSON: {exc}") from exc
        suite = _check_suite(path, data)
        if check_gx:
            _gx_suite(path, suite)
        suites[suite["name"]] = suite
    return suites


def suites_for_asset(asset: str, directory: Path = EXPECTATIONS_DIR) -> list[str]:
    """Names of the suites guarding an asset path such as `marts/fct_region_assessment`."""
    asset = asset.strip("/")
    return [name for name, suite in load_suites(directory).items() if suite["meta"]["asset"] == asset]


# ---------------------------------------------------------------------------------------------------- running


def _gx_context() -> AbstractDataContext:
    """An in-memory GE context: nothing written to the project, no usage statistics, no progress bars."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
    )
    return gx.get_context(mode="ephemeral", project_config=config)


def _new_run_id() -> RunIdentifier:
    from great_expectations.core.run_identifier import RunIdentifier

    return RunIdentifier(run_name=RUN_NAME, run_time=datetime.datetime.now(datetime.UTC))


@contextlib.contextmanager
def _connection(con_or_path: duckdb.DuckDBPyConnection | Path | str) -> Iterator[duckdb.DuckDBPyConnection]:
    if isinstance(con_or_path, duckdb.DuckDBPyConnection):
        yield con_or_path
        return
    path = Path(con_or_path)
    if not path.is_file():  # duckdb.connect would create an empty warehouse and every suite would fail
        raise FileNotFoundError(f"no warehouse at {path}")
    # not read_only: dbt-duckdb may hold the file open in this process, and DuckDB refuses a second
    # connection with a different configuration
    con = duckdb.connect(str(path))
    try:
        yield con
    finally:
        con.close()


def _column_of(kwargs: dict[str, Any]) -> str | None:
    if "column" in kwargs:
        return str(kwargs["column"])
    if "column_A" in kwargs:
        return f"{kwargs['column_A']}, {kwargs['column_B']}"
    if "column_list" in kwargs:
        return ", ".join(map(str, kwargs["column_list"]))
    return None


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= OBSERVED_MAX_CHARS else text[: OBSERVED_MAX_CHARS - 3] + "..."


def _plain(value: Any) -> str:
    """NumPy scalars and NaN as a person writes them (2023, null), not np.int64(2023); '' for empty text."""
    if isinstance(value, tuple | list):
        return "(" + ", ".join(_plain(v) for v in value) + ")"
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        with contextlib.suppress(ValueError, TypeError):
            value = value.item()
    if value is None or (isinstance(value, float) and value != value):  # NaN is the only value unequal to itself
        return "null"
    return "''" if value == "" else str(value)


def _exception_message(exception_info: dict[str, Any] | None) -> str | None:
    # GE reports an exception either flat or per failed metric ({metric id: {raised_exception, ...}})
    candidates = [exception_info or {}, *((exception_info or {}).values())]
    for info in candidates:
        if isinstance(info, dict) and info.get("raised_exception"):
            lines = str(info.get("exception_message") or "").strip().splitlines()
            return lines[-1] if lines else "expectation raised an exception"
    return None


def _observed(validation: Any) -> str:
    """A line a person can act on: what was seen, how many rows broke the rule, and which ones."""
    message = _exception_message(validation.exception_info)
    if message:
        return _short(message if message.lower().startswith("error") else f"error: {message}")
    result = validation.result or {}
    if result.get("unexpected_count") is not None:
        text = f"{result['unexpected_count']} unexpected of {result.get('element_count')}"
        # with key_columns each index entry is {value column(s)..., key column(s)...}; without, a bare row number
        indexed = [x for x in result.get("partial_unexpected_index_list") or [] if isinstance(x, dict)]
        if indexed:
            shown = [", ".join(f"{k}={_plain(v)}" for k, v in x.items()) for x in indexed[:3]]
        else:
            shown = [_plain(x) for x in (result.get("partial_unexpected_list") or [])[:3]]
        if result["unexpected_count"] and shown:
            text += ": " + "; ".join(shown)
        return _short(text)
    mismatched = (result.get("details") or {}).get("mismatched")
    if mismatched:
        parts = [f"{kind} {sorted(mismatched[kind])}" for kind in ("missing", "unexpected") if mismatched.get(kind)]
        return _short("; ".join(parts))
    if "observed_value" in result:
        return _short(f"observed {_plain(result['observed_value'])}")
    return ""


def _widen_numbers(frame: pd.DataFrame) -> pd.DataFrame:
    """int64/float64 for every number column: GE compares only those two dtypes vectorised and falls back to a
    Python call per value otherwise (DuckDB INTEGER arrives as int32, a nullable one as Int32)."""
    import pandas as pd

    for name, dtype in frame.dtypes.items():
        if isinstance(dtype, pd.api.extensions.ExtensionDtype) and pd.api.types.is_integer_dtype(dtype):
            frame[name] = frame[name].astype("float64")  # NA becomes NaN, which GE treats as missing too
        elif pd.api.types.is_integer_dtype(dtype) and dtype != "int64":
            frame[name] = frame[name].astype("int64")
        elif pd.api.types.is_float_dtype(dtype) and dtype != "float64":
            frame[name] = frame[name].astype("float64")
    return frame


def _get_or_add_batch_definition(context: AbstractDataContext, asset_name: str) -> Any:
    try:
        datasource = context.data_sources.get(DATASOURCE_NAME)
    except KeyError:
        datasource = context.data_sources.add_pandas(DATASOURCE_NAME)
    try:
        asset = datasource.get_asset(asset_name)
    except LookupError:
        asset = datasource.add_dataframe_asset(asset_name)
    try:
        return asset.get_batch_definition(BATCH_DEFINITION_NAME)
    except KeyError:
        return asset.add_batch_definition_whole_dataframe(BATCH_DEFINITION_NAME)


def _validate_frame(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    suite: dict[str, Any],
    context: AbstractDataContext,
    run_id: RunIdentifier,
) -> SuiteOutcome:
    import great_expectations as gx

    started = time.perf_counter()
    name, meta = suite["name"], suite["meta"]
    gx_suite = _gx_suite(path, suite)  # before the query: a broken suite file is a bug, not a data problem
    try:
        frame = _widen_numbers(con.execute(meta["query"]).df())
    except duckdb.Error as exc:
        return _query_failed(suite, exc, started)

    # re-running a suite in the same context replaces its earlier definition
    with contextlib.suppress(Exception):
        context.validation_definitions.delete(name)
    with contextlib.suppress(Exception):
        context.suites.delete(name)
    gx_suite = context.suites.add(gx_suite)
    batch_definition = _get_or_add_batch_definition(context, name)
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name=name, data=batch_definition, suite=gx_suite)
    )
    result_format: dict[str, Any] = {"result_format": "SUMMARY", "partial_unexpected_count": PARTIAL_UNEXPECTED_COUNT}
    keys = meta.get("key_columns") or []
    if keys and all(k in frame.columns for k in keys):  # GE fails every expectation on a missing key column
        result_format["unexpected_index_column_names"] = keys
    result = definition.run(batch_parameters={"dataframe": frame}, result_format=result_format, run_id=run_id)

    return _suite_outcome(suite, result, len(frame), started)


def _query_failed(suite: dict[str, Any], exc: duckdb.Error, started: float) -> SuiteOutcome:
    """A missing table or column fails the suite rather than the whole gate."""
    meta = suite["meta"]
    message = str(exc).strip().splitlines()[0]
    failure = ExpectationOutcome("query", None, False, meta["severity"], _short(f"error: {message}"))
    return SuiteOutcome(
        suite["name"],
        meta["asset"],
        success=False,
        blocking_failed=meta["severity"] == "blocking",
        evaluated=0,
        failed=1,
        rows_validated=0,
        outcomes=[failure],
        severity=meta["severity"],
        error=str(exc),
        seconds=time.perf_counter() - started,
        suite=suite,
    )


def _suite_outcome(suite: dict[str, Any], result: Any, rows: int, started: float) -> SuiteOutcome:
    meta = suite["meta"]
    outcomes = []
    for validation in result.results:
        config = validation.expectation_config
        outcomes.append(
            ExpectationOutcome(
                expectation_type=config.type,
                column=_column_of(config.kwargs),
                success=bool(validation.success),
                severity=(config.meta or {}).get("severity", meta["severity"]),
                observed=_observed(validation),
            )
        )
    failed = [o for o in outcomes if not o.success]
    return SuiteOutcome(
        suite["name"],
        meta["asset"],
        success=not failed,
        blocking_failed=any(o.severity == "blocking" for o in failed),
        evaluated=len(outcomes),
        failed=len(failed),
        rows_validated=rows,
        outcomes=outcomes,
        severity=meta["severity"],
        seconds=time.perf_counter() - started,
        result=result,
        suite=suite,
    )


def _validate_in_database(
    con: duckdb.DuckDBPyConnection, path: Path, suite: dict[str, Any], run_id: RunIdentifier
) -> SuiteOutcome:
    """The suite's metrics computed by DuckDB (hqd/quality_sql.py), handed to GE as its own result objects."""
    import great_expectations as gx
    from great_expectations.core import ExpectationSuiteValidationResult, ExpectationValidationResult

    started = time.perf_counter()
    name, meta = suite["name"], suite["meta"]
    gx_suite = _gx_suite(path, suite)  # before the query: a broken suite file is a bug, not a data problem
    try:
        rows, computed = quality_sql.validate(
            con, meta["query"], suite["expectations"], meta.get("key_columns") or [], PARTIAL_UNEXPECTED_COUNT
        )
    except duckdb.Error as exc:
        return _query_failed(suite, exc, started)

    results = []
    for expectation, outcome in zip(gx_suite.expectations, computed, strict=True):
        info = {"raised_exception": outcome.error is not None, "exception_traceback": None}
        info["exception_message"] = outcome.error
        results.append(
            ExpectationValidationResult(
                success=outcome.success,
                expectation_config=expectation.configuration,
                result=outcome.result,
                exception_info=info,
            )
        )
    passed = sum(bool(r.success) for r in results)
    now = run_id.run_time.isoformat() if run_id.run_time else None
    result = ExpectationSuiteValidationResult(
        success=passed == len(results),
        results=results,
        suite_name=name,
        statistics={
            "evaluated_expectations": len(results),
            "successful_expectations": passed,
            "unsuccessful_expectations": len(results) - passed,
            "success_percent": 100.0 * passed / len(results) if results else None,
        },
        meta={
            "great_expectations_version": gx.__version__,
            "batch_spec": {"query": meta["query"], "computed_in": "duckdb"},
            "active_batch_definition": {
                "datasource_name": DATASOURCE_NAME,
                "data_connector_name": "fluent",
                "data_asset_name": name,
                "batch_identifiers": {},
            },
            "run_id": {"run_name": run_id.run_name, "run_time": now},
            "validation_time": now,
        },
    )
    return _suite_outcome(suite, result, rows, started)


def _validate(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    suite: dict[str, Any],
    context: AbstractDataContext | None,
    run_id: RunIdentifier,
    engine: str = "duckdb",
    scope: quality_scope.Scope = quality_scope.WHOLE,
) -> SuiteOutcome:
    """`duckdb` computes the metrics in the database (any scale); `pandas` lets GE validate the query's whole
    result as a DataFrame (the reference the SQL is tested against; it needs the result in memory). A suite with
    an expectation type that has no SQL here goes to pandas. A slice (`scope`) validates the suite's query
    restricted to its rows; a slice without rows is reported unchanged and not validated."""
    if engine not in ENGINES:
        raise ValueError(f"engine {engine!r} is not one of {list(ENGINES)}")
    started = time.perf_counter()
    if not scope.is_whole:
        suite = {**suite, "meta": {**suite["meta"], "query": scope.sliced_query(suite["meta"]["query"])}}
        try:
            has_rows = con.execute(f"select exists (select 1 from ({suite['meta']['query']}) as q)").fetchone()
        except duckdb.Error as exc:
            return _query_failed(suite, exc, started)
        if not (has_rows and has_rows[0]):
            return _unchanged(suite, scope, started)
    if engine == "duckdb" and quality_sql.supported(suite["expectations"]):
        outcome = _validate_in_database(con, path, suite, run_id)
    else:
        outcome = _validate_frame(con, path, suite, context or _gx_context(), run_id)
    outcome.scope = scope
    return outcome


def _unchanged(suite: dict[str, Any], scope: quality_scope.Scope, started: float) -> SuiteOutcome:
    meta = suite["meta"]
    return SuiteOutcome(
        suite["name"],
        meta["asset"],
        success=True,
        blocking_failed=False,
        evaluated=0,
        failed=0,
        rows_validated=0,
        outcomes=[],
        severity=meta["severity"],
        seconds=time.perf_counter() - started,
        scope=scope,
        unchanged=True,
        suite=suite,
    )


def run_suite(
    con_or_path: duckdb.DuckDBPyConnection | Path | str,
    suite_name: str,
    *,
    directory: Path = EXPECTATIONS_DIR,
    context: AbstractDataContext | None = None,
    engine: str = "duckdb",
    scope: quality_scope.Scope = quality_scope.WHOLE,
) -> SuiteOutcome:
    """Run one suite on the warehouse: its metrics computed by DuckDB (or, engine="pandas", by GE on the
    query's result as a DataFrame), the result a GE validation result either way; on all rows of its query or
    on the slice `scope` names (quality_scope.plan)."""
    suites = load_suites(directory)
    if suite_name not in suites:
        raise KeyError(f"no suite {suite_name!r} in {directory} (have {', '.join(suites)})")
    with _connection(con_or_path) as con:
        path = Path(directory) / f"{suite_name}.json"
        return _validate(con, path, suites[suite_name], context, _new_run_id(), engine, scope)


def run_all(
    con_or_path: duckdb.DuckDBPyConnection | Path | str,
    *,
    directory: Path = EXPECTATIONS_DIR,
    data_docs_dir: Path | None = None,
    build_docs: bool = True,
    engine: str = "duckdb",
) -> list[SuiteOutcome]:
    """Every suite in the folder, in name order, then Data Docs (into data_docs_dir or the default site)."""
    suites = load_suites(directory)
    run_id = _new_run_id()
    with _connection(con_or_path) as con:
        # with pandas, a context per suite: a GE execution engine keeps every batch's DataFrame for the
        # context's lifetime (_validate makes one when it needs one)
        outcomes = [
            _validate(con, Path(directory) / f"{name}.json", suite, None, run_id, engine)
            for name, suite in suites.items()
        ]
    if build_docs:
        build_data_docs(outcomes, data_docs_dir or DATA_DOCS_DIR)
    return outcomes


def gate_passed(outcomes: Sequence[SuiteOutcome]) -> bool:
    """Publication may go ahead: no blocking expectation failed (warnings are reported, not fatal)."""
    return not any(o.blocking_failed for o in outcomes)


# ---------------------------------------------------------------------------------------------------- run record


def run_outcomes_path(quality_dir: Path, run_id: str) -> Path:
    """The JSON file in which a run's checks record their suites' outcomes (read by the publication step and
    the quality page)."""
    return Path(quality_dir) / "runs" / f"{run_id}.json"


def prune_run_records(quality_dir: Path, keep: int, keep_run_id: str) -> list[Path]:
    """Run records do not accumulate (each holds every suite's result, about 300 kB): keep the newest `keep`,
    and this run's. Only a run's own record is ever read (publication gate, quality page, report folder)."""
    runs = Path(quality_dir) / "runs"
    if not runs.is_dir():
        return []
    records = sorted(runs.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
    removed = []
    for record in records[keep:]:
        if record.stem != keep_run_id:
            record.unlink(missing_ok=True)
            removed.append(record)
    return removed


def suite_record(outcome: SuiteOutcome) -> dict[str, Any]:
    """Everything the quality page shows about one suite, JSON-able: the suite's own description and the GE
    validation result as GE serialises it (None when the query failed: `error` says why)."""
    meta = outcome.suite.get("meta", {}) if outcome.suite else {}
    return {
        "suite": outcome.suite_name,
        "asset": outcome.asset,
        "severity": outcome.severity,
        "notes": outcome.suite.get("notes", "") if outcome.suite else "",
        "key_columns": list(meta.get("key_columns") or []),
        "success": outcome.success,
        "blocking_failed": outcome.blocking_failed,
        "evaluated": outcome.evaluated,
        "failed": outcome.failed,
        "rows_validated": outcome.rows_validated,
        "scope": outcome.scope.record(),
        "unchanged": outcome.unchanged,
        "seconds": round(outcome.seconds, 3),
        "error": outcome.error,
        "validation": outcome.result.to_json_dict() if outcome.result is not None else None,
    }


# ---------------------------------------------------------------------------------------------------- data docs


def _run_id_of(result: ExpectationSuiteValidationResult) -> RunIdentifier:
    from great_expectations.core.run_identifier import RunIdentifier

    run_id = result.meta.get("run_id")
    if isinstance(run_id, RunIdentifier):
        return run_id
    if isinstance(run_id, dict):
        return RunIdentifier(run_name=run_id.get("run_name"), run_time=run_id.get("run_time"))
    return _new_run_id()


def build_data_docs(
    outcomes_or_results: Sequence[SuiteOutcome | ExpectationSuiteValidationResult],
    data_docs_dir: Path = DATA_DOCS_DIR,
) -> Path:
    """Write a GE Data Docs site for these validation results and return its index.html.

    The site shows exactly these results: pages of earlier runs are removed so that the folder never links to
    stale validations. A suite whose query failed has no GE result and is only reported in its SuiteOutcome.
    """
    from great_expectations.core import ExpectationSuite, ExpectationSuiteValidationResult
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    data_docs_dir = Path(data_docs_dir).resolve()
    data_docs_dir.mkdir(parents=True, exist_ok=True)
    for generated in ("validations", "expectations"):
        shutil.rmtree(data_docs_dir / generated, ignore_errors=True)

    context = _gx_context()
    context.add_data_docs_site(
        DATA_DOCS_SITE_NAME,
        {
            "class_name": "SiteBuilder",
            "show_how_to_buttons": False,
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(data_docs_dir)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        },
    )
    for item in outcomes_or_results:
        result = item.result if isinstance(item, SuiteOutcome) else item
        if not isinstance(result, ExpectationSuiteValidationResult):
            continue
        if isinstance(item, SuiteOutcome) and item.suite:
            gx_suite = ExpectationSuite(**item.suite)
        else:
            gx_suite = ExpectationSuite(
                name=result.suite_name, expectations=[r.expectation_config for r in result.results]
            )
        with contextlib.suppress(Exception):  # the same suite twice: its page is already there
            context.suites.add(gx_suite)
        batch = result.meta.get("active_batch_definition") or {}
        batch_id = "-".join(str(batch.get(k)) for k in ("datasource_name", "data_asset_name") if batch.get(k))
        suite_id = ExpectationSuiteIdentifier(name=result.suite_name)
        context.validation_results_store.store_validation_results(
            suite_validation_result=result,
            suite_validation_result_identifier=ValidationResultIdentifier(
                expectation_suite_identifier=suite_id,
                run_id=_run_id_of(result),
                batch_identifier=batch_id or result.suite_name,
            ),
            expectation_suite_identifier=suite_id,
        )
    context.build_data_docs(site_names=[DATA_DOCS_SITE_NAME])
    return data_docs_dir / "index.html"


# ---------------------------------------------------------------------------------------------------- command line
