"""Landing → raw: every row of every submitted file, verbatim, with its decoded form and lineage.

Decoding (encoding detection, Unicode NFKC, traditional → simplified) happens here; judgement does not:
a value that cannot be parsed, a region that does not exist, a unit that cannot be converted all land in
raw like any other row and are sorted out by dbt staging into accepted and rejected rows.

A file already loaded (same SHA-256) is skipped, so a rerun over the same landing folder changes nothing.
A file that cannot be read at all is reported with its name and the reason; the other files still load.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

import duckdb
import pandas as pd

SUPPORTED_SUFFIXES = {".csv", ".txt", ".xlsx", ".xlsm", ".xls"}

# canonical field → accepted header spellings (compared after decoding and lower-casing)
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "region_code": ("地区代码", "区划代码", "行政区划代码", "地区编码", "代码", "region_code"),
    "region_name": ("地区名称", "地区", "地区名", "县(市、区)", "设区市", "region_name", "region"),
    "indicator_code": ("指标代码", "指标编码", "指标编号", "indicator_code"),
    "indicator_name": ("指标名称", "指标", "indicator_name", "indicator"),
    "period": ("统计期", "期别", "时期", "报告期", "统计时期", "period"),
    "value": ("数值", "指标值", "值", "value"),
    "unit": ("单位", "计量单位", "unit"),
}
FIELDS = tuple(HEADER_ALIASES)
HEADER_SCAN_ROWS = 15  # title rows above the header are common in exported workbooks

RAW_SCHEMA = "raw"
DDL = f"""
create schema if not exists {RAW_SCHEMA};
create sequence if not exists {RAW_SCHEMA}.load_seq start 1;
create table if not exists {RAW_SCHEMA}.landing_files (
    file_hash varchar primary key,
    file_name varchar not null,
    file_format varchar not null,
    encoding varchar,
    sheet_count integer not null,
    row_count integer not null,
    load_seq integer not null,
    loaded_at timestamp not null
);
create table if not exists {RAW_SCHEMA}.load_errors (
    file_hash varchar,
    file_name varchar not null,
    error_message varchar not null,
    attempted_at timestamp not null
);
create table if not exists {RAW_SCHEMA}.submissions (
    file_hash varchar not null,
    file_name varchar not null,
    sheet_name varchar not null,
    row_number integer not null,
    column_number integer,
    load_seq integer not null,
    loaded_at timestamp not null,
    {", ".join(f"{f}_raw varchar, {f}_text varchar" for f in FIELDS)},
    source_row_json varchar not null
);
-- a warehouse from before the wide layout: the column of a wide file's cell
alter table {RAW_SCHEMA}.submissions add column if not exists column_number integer;
"""


class LandingFileError(ValueError):
    """A file that cannot be read at all; the message names the file and what is wrong."""


@dataclass
class IngestReport:
    files_seen: int = 0
    files_loaded: int = 0
    files_skipped: int = 0
    rows_loaded: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures


@lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


def decode_text(text: str) -> str:
    """NFKC (full-width digits and punctuation → ASCII), traditional → simplified, trimmed."""
    return _t2s().convert(unicodedata.normalize("NFKC", text)).strip()


def _decode_series(cells: pd.Series) -> pd.Series:
    # submissions repeat the same names and units thousands of times: convert each distinct cell once
    uniques = cells.dropna().unique()
    mapping = {u: decode_text(u) for u in uniques}
    return cells.map(mapping)


def detect_encoding(raw: bytes, file_name: str) -> str:
    if raw.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    try:
        raw.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    # GB18030 (the superset of GBK and GB2312) is what the bureaus' tools write when not UTF-8; a strict decode
    # that succeeds is trusted before asking charset-normalizer, which misjudges short or unusual files
    try:
        raw.decode("gb18030")
        return "gb18030"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(raw).best()
    if best is None:
        raise LandingFileError(f"{file_name}: cannot detect the text encoding (not UTF-8, GBK or another known one)")
    # charset-normalizer may name a GBK subset; GB18030 is its superset and decodes all of them
    if best.encoding.lower() in {"gb2312", "gbk", "hz", "gb18030"}:
        return "gb18030"
    return best.encoding


def _read_grids(path: Path, raw: bytes, name: str) -> tuple[str, str | None, list[tuple[str, pd.DataFrame]]]:
    """Every sheet of the file as a grid of text cells (no header interpretation yet)."""
    suffix = path.suffix.lower()
    if suffix in {".csv", ".txt"}:
        if not raw.strip():
            raise LandingFileError(f"{name}: the file is empty")
        encoding = detect_encoding(raw, name)
        try:
            grid = pd.read_csv(
                io.StringIO(raw.decode(encoding)),
                header=None,
                dtype=str,
                keep_default_na=False,
                skip_blank_lines=False,
                sep=None,
                engine="python",
            )
        except (pd.errors.ParserError, UnicodeDecodeError, csv_error()) as exc:
            raise LandingFileError(f"{name}: not a readable CSV file ({exc})") from exc
        return "csv", encoding, [("", grid)]
    if suffix in {".xlsx", ".xlsm", ".xls"}:
        from python_calamine import CalamineWorkbook

        try:
            workbook = CalamineWorkbook.from_filelike(io.BytesIO(raw))
        except Exception as exc:  # calamine raises its own error types for corrupt workbooks
            raise LandingFileError(f"{name}: not a readable Excel workbook ({exc})") from exc
        grids = []
        for sheet_name in workbook.sheet_names:
            rows = workbook.get_sheet_by_name(sheet_name).to_python(skip_empty_area=False)
            if rows:
                grids.append((sheet_name, pd.DataFrame(rows).map(_cell_text)))
        return "xlsx", None, grids
    raise LandingFileError(f"{name}: unsupported file type '{suffix}' (expected .csv or .xlsx)")


def csv_error() -> type[Exception]:
    import csv

    return csv.Error


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@dataclass
class _Header:
    row_idx: int
    columns: dict[str, int]  # canonical field → column
    indicator_columns: list[int]  # wide layout: one column per indicator; empty for the long layout

    @property
    def is_wide(self) -> bool:
        return bool(self.indicator_columns)


UNIT_IN_HEADER = re.compile(r"^(?P<name>.+?)\s*[(（\[]\s*(?P<unit>[^()（）\[\]]+?)\s*[)）\]]\s*$")
INDICATOR_CODE = re.compile(r"^[A-Za-z]{1,3}\d{1,4}$")


def _find_header(grid: pd.DataFrame) -> _Header | None:
    """The header row, its canonical columns, and for a wide layout the indicator columns; None if none."""
    lookup = {decode_text(alias).lower(): canon for canon, aliases in HEADER_ALIASES.items() for alias in aliases}
    for row_idx in range(min(HEADER_SCAN_ROWS, len(grid))):
        columns: dict[str, int] = {}
        others: list[int] = []
        for col_idx, cell in enumerate(grid.iloc[row_idx].tolist()):
            text = decode_text("" if cell is None else str(cell))
            canon = lookup.get(text.lower())
            if canon and canon not in columns:
                columns[canon] = col_idx
            elif text and text.lower() != "nan":
                others.append(col_idx)
        has_region = "region_code" in columns or "region_name" in columns
        if "value" in columns and len(columns) >= 3:
            return _Header(row_idx, columns, [])
        # wide: region and period columns, every other titled column an indicator (name or code, unit in brackets)
        if has_region and "period" in columns and others and not ({"indicator_code", "indicator_name"} & set(columns)):
            return _Header(row_idx, columns, others)
    return None


def _json_lines(frame: pd.DataFrame) -> list[str]:
    """One JSON object per row. Records are split on "\n" only: JSON escapes it inside strings, but not U+2028
    and friends, at which str.splitlines would also break."""
    if frame.empty:
        return []
    return frame.to_json(orient="records", lines=True, force_ascii=False).rstrip("\n").split("\n")


def _rows_from_grid(grid: pd.DataFrame, name: str, sheet: str) -> pd.DataFrame:
    header = _find_header(grid)
    where = f"{name}" + (f" sheet '{sheet}'" if sheet else "")
    if header is None:
        raise LandingFileError(
            f"{where}: no header row found in the first {HEADER_SCAN_ROWS} rows (need 数值/value plus region, "
            "indicator and period columns, or region and period columns plus one column per indicator)"
        )
    columns = header.columns
    missing = [
        label
        for label, options in (
            ("region (地区代码 or 地区名称)", ("region_code", "region_name")),
            ("indicator (指标代码 or 指标名称)", ("indicator_code", "indicator_name")),
            ("period (统计期)", ("period",)),
        )
        if not any(o in columns for o in options) and not (header.is_wide and label.startswith("indicator"))
    ]
    if missing:
        raise LandingFileError(f"{where}: header on row {header.row_idx + 1} lacks {', '.join(missing)}")
    header_cells = ["" if c is None else str(c) for c in grid.iloc[header.row_idx].tolist()]
    body = grid.iloc[header.row_idx + 1 :]
    body = body.fillna("")
    body = body[(body.astype(str).apply(lambda col: col.str.strip()) != "").any(axis=1)]
    verbatim = body.copy()
    verbatim.columns = [
        header_cells[i] if i < len(header_cells) and header_cells[i] else f"column_{i + 1}"
        for i in range(verbatim.shape[1])
    ]
    verbatim = verbatim.loc[:, ~verbatim.columns.duplicated()]
    row_json = pd.Series(_json_lines(verbatim), index=body.index, dtype=object)

    def raw(canon: str) -> pd.Series:
        if canon in columns:
            cells = body[columns[canon]]
            return cells.astype(object).where(cells.notna(), None)
        return pd.Series(None, index=body.index, dtype=object)

    if not header.is_wide:
        out = pd.DataFrame(index=body.index)
        out["row_number"] = body.index.to_numpy() + 1  # the row number a person sees in the file
        out["column_number"] = pd.Series(pd.NA, index=body.index, dtype="Int64")
        for canon in FIELDS:
            out[f"{canon}_raw"] = raw(canon)
    else:
        # one raw row per (row, indicator column); the header cell names the indicator and maybe its unit
        parts = []
        for col in header.indicator_columns:
            title = header_cells[col].strip()
            match = UNIT_IN_HEADER.match(title)
            indicator, unit = (match["name"], match["unit"]) if match else (title, None)
            is_code = bool(INDICATOR_CODE.match(decode_text(indicator)))
            part = pd.DataFrame(index=body.index)
            part["row_number"] = body.index.to_numpy() + 1
            part["column_number"] = col + 1
            for canon in ("region_code", "region_name", "period"):
                part[f"{canon}_raw"] = raw(canon)
            part["indicator_code_raw"] = indicator if is_code else None
            part["indicator_name_raw"] = None if is_code else indicator
            cells = body[col]
            part["value_raw"] = cells.astype(object).where(cells.notna(), None)
            part["unit_raw"] = unit
            part["_row"] = body.index
            parts.append(part)
        out = pd.concat(parts).sort_values(["row_number", "column_number"], kind="stable")
        out["column_number"] = out["column_number"].astype("Int64")
        row_json = row_json.loc[out.pop("_row")].set_axis(out.index)
    for canon in FIELDS:
        out[f"{canon}_text"] = _decode_series(out[f"{canon}_raw"])
    out["source_row_json"] = row_json.to_numpy()
    out["sheet_name"] = sheet
    return out


def landing_files(landing_dir: Path) -> list[Path]:
    return sorted(
        p
        for p in landing_dir.rglob("*")
        if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES and not p.name.startswith((".", "~$"))
    )


def ensure_raw_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(DDL)


def ingest_landing(
    landing_dir: Path,
    con: duckdb.DuckDBPyConnection,
    *,
    on_file: Callable[[Path], None] | None = None,
    files: Iterable[Path] | None = None,
) -> IngestReport:
    """Load every new landing file into raw.submissions; return what was loaded, skipped and why any failed."""
    ensure_raw_schema(con)
    report = IngestReport()
    loaded_hashes = {h for (h,) in con.execute(f"select file_hash from {RAW_SCHEMA}.landing_files").fetchall()}
    batch = _FastBatch()
    for path in files if files is not None else landing_files(landing_dir):
        report.files_seen += 1
        name = path.relative_to(landing_dir).as_posix() if path.is_relative_to(landing_dir) else path.name
        raw = path.read_bytes()
        file_hash = hashlib.sha256(raw).hexdigest()
        if file_hash in loaded_hashes:
            report.files_skipped += 1
            if on_file:
                on_file(path)
            continue
        if path.suffix.lower() == ".csv" and (rows := _fast_rows(raw)) is not None:
            # a well-formed UTF-8 file in the template's layout: loaded set-based with the others of its batch
            (load_seq,) = con.execute(f"select nextval('{RAW_SCHEMA}.load_seq')").fetchone()
            batch.add(path, name, file_hash, rows, load_seq)
            loaded_hashes.add(file_hash)
            report.files_loaded += 1
            report.rows_loaded += rows
            if batch.rows >= FAST_BATCH_ROWS:
                _write_fast_batch(con, batch)
                batch = _FastBatch()
            if on_file:
                on_file(path)
            continue
        try:
            file_format, encoding, grids = _read_grids(path, raw, name)
            frames = [_rows_from_grid(grid, name, sheet) for sheet, grid in grids]
            if not frames:
                raise LandingFileError(f"{name}: the workbook has no sheet with data")
            rows = pd.concat(frames, ignore_index=True)
        except LandingFileError as exc:
            report.failures.append((name, str(exc)))
            con.execute(
                f"insert into {RAW_SCHEMA}.load_errors values (?, ?, ?, ?)",
                [file_hash, name, str(exc), datetime.now(UTC).replace(tzinfo=None)],
            )
            if on_file:
                on_file(path)
            continue
        _write_file(con, rows, file_hash, name, file_format, encoding, len(grids))
        loaded_hashes.add(file_hash)
        report.files_loaded += 1
        report.rows_loaded += len(rows)
        if on_file:
            on_file(path)
    _write_fast_batch(con, batch)
    return report


def land(
    settings, *, files: Iterable[Path] | None = None, on_file: Callable[[Path], None] | None = None
) -> IngestReport:
    """Every new file of the settings' landing folder (or just `files`) into the warehouse's raw tables."""
    from hqd import warehouse

    settings.landing_dir.mkdir(parents=True, exist_ok=True)
    con = warehouse.connect(settings)
    try:
        return ingest_landing(settings.landing_dir, con, files=files, on_file=on_file)
    except (duckdb.Error, OSError) as exc:
        # a full disk or a damaged file shows only when writing: said in words, with what to do
        if warehouse.is_unavailable(exc):
            raise warehouse.WarehouseUnavailable(warehouse.explain(exc, settings.warehouse)) from exc
        raise
    finally:
        con.close()


# --- the set-based path for well-formed files -------------------------------------------------------------
# Most submissions are the template exactly: UTF-8 without BOM, the long header in its canonical spelling, one
# record per line, no quoting. For those, DuckDB's CSV reader loads whole batches of files in one statement;
# only the distinct cells that are not plain ASCII go through decode_text (NFKC, 繁→简) in Python. The result
# is the same raw rows the careful path writes (tests/orchestration/test_ingest_fast_path.py compares them).
FAST_HEADER = "地区代码,地区名称,指标代码,指标名称,统计期,数值,单位".encode()
FAST_FIELDS = ("region_code", "region_name", "indicator_code", "indicator_name", "period", "value", "unit")
FAST_BATCH_ROWS = 2_000_000
_BLANK_LINE = re.compile(r"(?m)^[,\s]*$")


def _fast_rows(raw: bytes) -> int | None:
    """The number of data rows if the file can take the set-based path, else None."""
    if not raw.startswith(FAST_HEADER + b"\n") or not raw.endswith(b"\n") or len(raw) == len(FAST_HEADER) + 1:
        return None
    if any(ch in raw for ch in (b'"', b"\r", b"\\", b"\t", b"\x00")):
        return None
    lines = raw.count(b"\n")
    if raw.count(b",") != 6 * lines:
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if any(ord(ch) < 32 and ch != "\n" for ch in set(text)) or _BLANK_LINE.search(text[text.index("\n") + 1 : -1]):
        return None
    return lines - 1


@dataclass
class _FastBatch:
    files: list[tuple[str, str, str, int, int, datetime]] = field(default_factory=list)
    rows: int = 0

    def add(self, path: Path, name: str, file_hash: str, rows: int, load_seq: int) -> None:
        self.files.append((str(path), name, file_hash, rows, load_seq, datetime.now(UTC).replace(tzinfo=None)))
        self.rows += rows


def _write_fast_batch(con: duckdb.DuckDBPyConnection, batch: _FastBatch) -> None:
    if not batch.files:
        return
    files = pd.DataFrame(batch.files, columns=["path", "file_name", "file_hash", "row_count", "load_seq", "loaded_at"])
    columns = ", ".join(f"'c{i}': 'varchar'" for i in range(len(FAST_FIELDS)))
    header = FAST_HEADER.decode().split(",")
    decoded: dict[str, pd.DataFrame] = {}
    con.execute("begin transaction")
    try:
        con.register("fast_files", files)
        # one statement reads the batch; insertion order is file order then line order, so rowid numbers lines
        con.execute(
            f"""
            create or replace temp table fast_cells as
            select * from read_csv(?, header = true, auto_detect = false, delim = ',', quote = '', escape = '',
                                   nullstr = chr(1), filename = true, columns = {{{columns}}})
            """,
            [files["path"].tolist()],
        )
        counts = con.execute(
            "select count(*), count(*) filter (where c.filename is null or f.path is null) "
            "from fast_cells c full join (select path, row_count from fast_files) f on c.filename = f.path"
        ).fetchone()
        expected = int(files["row_count"].sum())
        if counts[0] != expected or counts[1]:
            raise RuntimeError(f"set-based ingest read {counts[0]} rows where the files hold {expected}")
        for i, canon in enumerate(FAST_FIELDS):
            # only cells that are not plain printable ASCII can change under NFKC, 繁→简 or trimming
            odd = [
                v
                for (v,) in con.execute(
                    f"select distinct c{i} from fast_cells where not regexp_full_match(c{i}, '[!-~]*')"
                ).fetchall()
            ]
            decoded[canon] = pd.DataFrame({"cell": odd, "text": [decode_text(v) for v in odd]}, dtype=object)
            con.register(f"decoded_{canon}", decoded[canon])
        row_json = "to_json({" + ", ".join(f"'{h}': c{i}" for i, h in enumerate(header)) + "})"
        select = ",\n".join(
            f"c.c{i} as {canon}_raw, coalesce(d_{canon}.text, c.c{i}) as {canon}_text"
            for i, canon in enumerate(FAST_FIELDS)
        )
        joins = "\n".join(
            f"left join decoded_{canon} d_{canon} on c.c{i} = d_{canon}.cell" for i, canon in enumerate(FAST_FIELDS)
        )
        con.execute(
            f"""
            insert into {RAW_SCHEMA}.submissions by name
            select
                f.file_hash, f.file_name, '' as sheet_name,
                cast(c.rowid - min(c.rowid) over (partition by c.filename) + 2 as integer) as row_number,
                cast(null as integer) as column_number,
                cast(f.load_seq as integer) as load_seq, f.loaded_at,
                {select},
                -- pandas writes "/" as "\\/"; the careful path's JSON is the reference
                replace({row_json}, '/', '\\/') as source_row_json
            from fast_cells c
            inner join fast_files f on c.filename = f.path
            {joins}
            """
        )
        con.execute(
            f"""
            insert into {RAW_SCHEMA}.landing_files
            select file_hash, file_name, 'csv', 'utf-8', 1, row_count, load_seq, loaded_at from fast_files
            """
        )
        con.execute("drop table fast_cells")
        con.execute("commit")
    except Exception:
        _rollback(con)
        raise
    finally:
        con.unregister("fast_files")
        for canon in decoded:
            con.unregister(f"decoded_{canon}")


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    """Undo the open transaction; if DuckDB has already given it up (a full disk aborts it), say nothing, so the
    error that caused it is the one reported."""
    with contextlib.suppress(duckdb.Error):
        con.execute("rollback")


def _write_file(
    con: duckdb.DuckDBPyConnection,
    rows: pd.DataFrame,
    file_hash: str,
    name: str,
    file_format: str,
    encoding: str | None,
    sheet_count: int,
) -> None:
    loaded_at = datetime.now(UTC).replace(tzinfo=None)
    con.execute("begin transaction")
    try:
        (load_seq,) = con.execute(f"select nextval('{RAW_SCHEMA}.load_seq')").fetchone()
        frame = rows.assign(file_hash=file_hash, file_name=name, load_seq=load_seq, loaded_at=loaded_at)
        columns = ["file_hash", "file_name", "sheet_name", "row_number", "column_number", "load_seq", "loaded_at"]
        columns += [f"{f}_{kind}" for f in FIELDS for kind in ("raw", "text")] + ["source_row_json"]
        frame = frame[columns]
        con.register("incoming_rows", frame)
        con.execute(f"insert into {RAW_SCHEMA}.submissions by name select * from incoming_rows")
        con.unregister("incoming_rows")
        con.execute(
            f"insert into {RAW_SCHEMA}.landing_files values (?, ?, ?, ?, ?, ?, ?, ?)",
            [file_hash, name, file_format, encoding, sheet_count, len(rows), load_seq, loaded_at],
        )
        con.execute("commit")
    except Exception:
        _rollback(con)
        raise
