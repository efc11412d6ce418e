"""Landing → raw: every row of every submitted file, verbatim, with its decoded form and lineage.

Decoding (encoding detection, Unicode NFKC, traditional → simplified) happens here; judgement does not:
a value that cannot be parsed, a region that does not exist, a unit that cannot be converted all land in
raw like any other row and are sorted out by dbt staging into accepted and rejected rows.

A file already loaded (same SHA-256) is skipped, so a rerun over the same landing folder changes nothing.
A file that cannot be read at all is reported with its name and the reason; the other files still load.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import re
import time
import unicodedata
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
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
    "period": ("统计期", "期别", "时期", "报告期", "统计时期", "年份", "统计年度", "period"),
    "value": ("数值", "指标值", "值", "value"),
    "unit": ("单位", "计量单位", "unit"),
}
FIELDS = tuple(HEADER_ALIASES)
HEADER_SCAN_ROWS = 15  # title rows above the header are common in exported workbooks
# A landing file is loaded only once it is complete: its modification time is older than this many seconds, or
# its size and modification time are what the previous run saw. Tests set it to 0.
DEFAULT_SETTLE_SECONDS = 5.0
WAITING_PREFIX = "waiting: still being copied"

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
-- what a loaded file left out, with the reason: a workbook's sheet without a header beside sheets with data
create table if not exists {RAW_SCHEMA}.landing_notes (
    file_hash varchar not null,
    file_name varchar not null,
    sheet_name varchar not null,
    load_seq integer not null,
    note varchar not null,
    noted_at timestamp not null
);
-- files seen but not loaded yet because they are still being copied: the last look at each (replaced every run)
create table if not exists {RAW_SCHEMA}.landing_waiting (
    file_name varchar primary key,
    file_size bigint not null,
    modified_at double not null,
    reason varchar not null,
    first_seen_at timestamp not null,
    last_seen_at timestamp not null
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
    # files not loaded yet because they are still being copied: (file, reason); a later run loads them
    waiting: list[tuple[str, str]] = field(default_factory=list)
    # parts of loaded files left out on purpose: (file, note), e.g. an instructions sheet without a header
    notes: list[tuple[str, str]] = field(default_factory=list)

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
    """The most likely encoding of a text file (the first of encoding_candidates)."""
    candidates = encoding_candidates(raw)
    if not candidates:
        raise LandingFileError(f"{file_name}: cannot detect the text encoding (not UTF-8, GBK or another known one)")
    return candidates[0]


def encoding_candidates(raw: bytes) -> list[str]:
    """Encodings that decode the bytes, most likely first. The reader takes the first one under which a header
    row is found: Big5 bytes often decode as GB18030 too, into nonsense in which no header can be found."""
    if raw.startswith(b"\xef\xbb\xbf"):
        return ["utf-8-sig"]
    try:
        raw.decode("utf-8")
        return ["utf-8"]
    except UnicodeDecodeError:
        pass
    candidates = []
    # GB18030 (the superset of GBK and GB2312) is what the bureaus' tools write when not UTF-8; a strict decode
    # that succeeds is tried before asking charset-normalizer, which misjudges short or unusual files
    for encoding in ("gb18030", "big5"):
        try:
            raw.decode(encoding)
            candidates.append(encoding)
        except UnicodeDecodeError:
            pass
    from charset_normalizer import from_bytes

    for match in from_bytes(raw):
        # charset-normalizer may name a GBK subset; GB18030 is its superset and decodes all of them
        encoding = "gb18030" if match.encoding.lower() in {"gb2312", "gbk", "hz", "gb18030"} else match.encoding
        if encoding not in candidates:
            candidates.append(encoding)
    return candidates


@dataclass
class _Grid:
    sheet: str
    cells: pd.DataFrame
    merged: list[tuple[tuple[int, int], tuple[int, int]]] = field(default_factory=list)  # 0-based, inclusive


def _read_csv_grid(text: str, name: str) -> pd.DataFrame:
    try:
        return pd.read_csv(
            io.StringIO(text),
            header=None,
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=False,
            sep=None,
            engine="python",
        )
    except (pd.errors.ParserError, csv.Error) as exc:
        raise LandingFileError(f"{name}: not a readable CSV file ({exc})") from exc


def _read_grids(path: Path, raw: bytes, name: str) -> tuple[str, str | None, list[_Grid]]:
    """Every sheet of the file as a grid of text cells (no header interpretation yet)."""
    suffix = path.suffix.lower()
    if suffix in {".csv", ".txt"}:
        if not raw.strip():
            raise LandingFileError(f"{name}: the file is empty")
        candidates = encoding_candidates(raw)
        if not candidates:
            raise LandingFileError(f"{name}: cannot detect the text encoding (not UTF-8, GBK or another known one)")
        first: tuple[str, pd.DataFrame] | None = None
        for encoding in candidates:
            try:
                grid = _read_csv_grid(raw.decode(encoding), name)
            except (LandingFileError, UnicodeDecodeError):
                continue
            if _find_header(grid) is not None:
                return "csv", encoding, [_Grid("", grid)]
            first = first or (encoding, grid)
        if first is None:
            raise LandingFileError(f"{name}: not a readable CSV file in any of {', '.join(candidates)}")
        # no header under any encoding: the first one's grid, whose error names the encoding it was read in
        return "csv", first[0], [_Grid("", first[1])]
    if suffix in {".xlsx", ".xlsm", ".xls"}:
        from python_calamine import CalamineWorkbook

        try:
            workbook = CalamineWorkbook.from_filelike(io.BytesIO(raw))
        except Exception as exc:  # calamine raises its own error types for corrupt workbooks
            raise LandingFileError(f"{name}: not a readable Excel workbook ({exc})") from exc
        percent_cells = _percent_cells(raw) if suffix in {".xlsx", ".xlsm"} else {}
        grids = []
        for sheet_name in workbook.sheet_names:
            sheet = workbook.get_sheet_by_name(sheet_name)
            rows = sheet.to_python(skip_empty_area=False)
            if not rows:
                continue
            cells = pd.DataFrame(rows).map(_cell_text)
            for (r, c), text in percent_cells.get(sheet_name, {}).items():
                if r < cells.shape[0] and c < cells.shape[1]:
                    cells.iat[r, c] = text
            grids.append(_Grid(sheet_name, cells, list(sheet.merged_cell_ranges or [])))
        return "xlsx", None, grids
    raise LandingFileError(f"{name}: unsupported file type '{suffix}' (expected .csv or .xlsx)")


# a number format that shows a percentage: a custom one with "%" outside quotes, or the built-in ids 9 and 10
_PERCENT_STYLE = re.compile(rb'formatCode="[^"]*%|numFmtId="(?:9|10)"')


def _percent_cells(raw: bytes) -> dict[str, dict[tuple[int, int], str]]:
    """Numeric cells formatted as a percentage, as the sheet shows them: 0.595 under 0.00% → "59.5%".

    calamine gives values only, so openpyxl reads the number formats; it is several times slower, so it runs
    only on a workbook whose styles contain a percentage format at all (most contain none)."""
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            styles = archive.read("xl/styles.xml")
    except (KeyError, zipfile.BadZipFile, OSError):
        return {}
    if not _PERCENT_STYLE.search(styles):
        return {}
    from openpyxl import load_workbook

    found: dict[str, dict[tuple[int, int], str]] = {}
    workbook = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    try:
        for sheet in workbook.worksheets:
            cells = {}
            for row in sheet.iter_rows():
                for cell in row:
                    value = getattr(cell, "value", None)
                    if (
                        isinstance(value, int | float)
                        and not isinstance(value, bool)
                        and "%" in _unquoted(cell.number_format or "")
                    ):
                        cells[(cell.row - 1, cell.column - 1)] = _as_percent(value)
            if cells:
                found[sheet.title] = cells
    finally:
        workbook.close()
    return found


def _unquoted(number_format: str) -> str:
    return re.sub(r'"[^"]*"|\\.', "", number_format)


def _as_percent(value: float) -> str:
    """0.595 → "59.5%": the stored fraction times 100, exactly as its shortest decimal form says."""
    try:
        number = (Decimal(repr(float(value))) * 100).normalize()
    except InvalidOperation:
        return str(value)
    text = format(number, "f")
    return f"{text}%"


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
    value_unit: str | None = None  # the unit in the value column's header, 数值（万元）, verbatim

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
        value_unit = None
        for col_idx, cell in enumerate(grid.iloc[row_idx].tolist()):
            verbatim = "" if cell is None else str(cell)
            text = decode_text(verbatim)
            canon = lookup.get(text.lower())
            # the value column may carry the unit in its header: 数值（万元）, 指标值(%)
            with_unit = UNIT_IN_HEADER.match(verbatim.strip()) if not canon else None
            if with_unit and lookup.get(decode_text(with_unit["name"]).lower()) == "value" and "value" not in columns:
                columns["value"] = col_idx
                value_unit = with_unit["unit"]
            elif canon and canon not in columns:
                columns[canon] = col_idx
            elif text and text.lower() != "nan":
                others.append(col_idx)
        has_region = "region_code" in columns or "region_name" in columns
        if "value" in columns and len(columns) >= 3:
            return _Header(row_idx, columns, [], value_unit)
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


class NoHeaderError(LandingFileError):
    """A sheet (or CSV file) in which no header row is found."""


def _fill_merged(grid: pd.DataFrame, merged: list[tuple[tuple[int, int], tuple[int, int]]], columns: list[int]):
    """A region or period cell merged over several rows stands for each of them: its value is filled down (and
    across) the merged area, in those columns only; a merged value cell is not copied (it would count twice)."""
    if not merged:
        return grid
    grid = grid.copy()
    for (top, left), (bottom, right) in merged:
        if top >= grid.shape[0] or left >= grid.shape[1]:
            continue
        value = grid.iat[top, left]
        for col in range(left, min(right, grid.shape[1] - 1) + 1):
            if col not in columns:
                continue
            for row in range(top, min(bottom, grid.shape[0] - 1) + 1):
                if (row, col) != (top, left) and not str(grid.iat[row, col] or "").strip():
                    grid.iat[row, col] = value
    return grid


def _rows_from_grid(
    grid: pd.DataFrame,
    name: str,
    sheet: str,
    merged: list[tuple[tuple[int, int], tuple[int, int]]] | None = None,
    encoding: str | None = None,
) -> pd.DataFrame:
    header = _find_header(grid)
    where = f"{name}" + (f" sheet '{sheet}'" if sheet else "")
    if header is None:
        read_as = f" (read as {encoding}: another encoding?)" if encoding not in (None, "utf-8", "utf-8-sig") else ""
        raise NoHeaderError(
            f"{where}: no header row found in the first {HEADER_SCAN_ROWS} rows (need 数值/value plus region, "
            "indicator and period columns, or region and period columns plus one column per indicator)" + read_as
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
    filled_columns = [columns[c] for c in ("region_code", "region_name", "period") if c in columns]
    grid = _fill_merged(grid, [m for m in merged or [] if m[1][0] > header.row_idx], filled_columns)
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
        if header.value_unit:
            # the unit in the value header (数值（万元）) stands for every row; a row's own unit cell wins
            unit = out["unit_raw"]
            out["unit_raw"] = unit.where(unit.notna() & (unit.astype(str).str.strip() != ""), header.value_unit)
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


def _last_line_cut(raw: bytes) -> str | None:
    """Why a CSV file looks cut short at its end, or None: it ends with a line break, or its last line holds
    every column (as many fields as the fullest line)."""
    if raw.endswith((b"\n", b"\r")):
        return None
    candidates = encoding_candidates(raw)
    if not candidates:
        return "its bytes stop inside a character"
    text = raw.decode(candidates[0])
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    try:
        records = [r for r in csv.reader(io.StringIO(text, newline=""), dialect, strict=True) if r]
    except csv.Error:
        return "its last line stops inside a quoted cell"
    if len(records) < 2:
        return "it holds no complete line yet"
    width = max(len(r) for r in records[:-1])
    if len(records[-1]) < width:
        return f"its last line has {len(records[-1])} of {width} columns and no line end"
    return None


def _not_whole_yet(path: Path, raw: bytes) -> str | None:
    """Why the file does not look whole yet, or None."""
    suffix = path.suffix.lower()
    if not raw:
        return "it is empty so far"
    if suffix in {".csv", ".txt"}:
        return _last_line_cut(raw)
    if suffix in {".xlsx", ".xlsm"}:
        try:
            zipfile.ZipFile(io.BytesIO(raw)).close()  # a cut zip archive has lost its central directory
        except (zipfile.BadZipFile, OSError, ValueError):
            return "it is not a whole workbook (zip archive) yet"
    return None


def ingest_landing(
    landing_dir: Path,
    con: duckdb.DuckDBPyConnection,
    *,
    on_file: Callable[[Path], None] | None = None,
    files: Iterable[Path] | None = None,
    settle_seconds: float | None = None,
) -> IngestReport:
    """Load every new landing file into raw.submissions; return what was loaded, skipped, waiting and why any
    failed. `settle_seconds` defaults to the settings' (HQD_LANDING_SETTLE_SECONDS).

    A file is loaded only when it is whole: unchanged for HQD_LANDING_SETTLE_SECONDS (or the same size and time as
    at the previous run's look), and, for a CSV, ending with a line break or a last line with every column. A
    file still being copied is reported as waiting and loaded by a later run; one that stopped changing while
    still cut short (a CSV without its last line end, a workbook that is not a whole zip archive) is unreadable.
    """
    ensure_raw_schema(con)
    if settle_seconds is None:
        from hqd.settings import Settings

        settle_seconds = Settings().landing_settle_seconds
    settle = settle_seconds
    report = IngestReport()
    loaded_hashes = {h for (h,) in con.execute(f"select file_hash from {RAW_SCHEMA}.landing_files").fetchall()}
    previous_looks = {
        n: (size, modified, first)
        for n, size, modified, first in con.execute(
            f"select file_name, file_size, modified_at, first_seen_at from {RAW_SCHEMA}.landing_waiting"
        ).fetchall()
    }
    looked_at: list[str] = []
    waiting_rows: list[tuple] = []
    batch = _FastBatch()
    paths = list(files if files is not None else landing_files(landing_dir))
    load_seqs = _LoadSeqs(con)
    for index, path in enumerate(paths):
        report.files_seen += 1
        name = path.relative_to(landing_dir).as_posix() if path.is_relative_to(landing_dir) else path.name
        looked_at.append(name)
        before = path.stat()
        raw = path.read_bytes()
        after = path.stat()
        file_hash = hashlib.sha256(raw).hexdigest()
        if file_hash in loaded_hashes:
            report.files_skipped += 1
            if on_file:
                on_file(path)
            continue
        look = (after.st_size, after.st_mtime)
        old_enough = time.time() - after.st_mtime >= settle
        changing = (before.st_size, before.st_mtime) != look or len(raw) != after.st_size
        stable = not changing and (old_enough or previous_looks.get(name, (None, None, None))[:2] == look)
        cut = _not_whole_yet(path, raw)
        if not stable or (cut and not old_enough):
            why = cut if cut else "its size or time changed since the last look"
            reason = f"{WAITING_PREFIX} ({why}); it is loaded once it is whole and unchanged"
            report.waiting.append((name, reason))
            now = datetime.now(UTC).replace(tzinfo=None)
            first_seen = previous_looks.get(name, (None, None, now))[2]
            waiting_rows.append((name, after.st_size, after.st_mtime, reason, first_seen, now))
            if on_file:
                on_file(path)
            continue
        if path.suffix.lower() == ".csv" and not cut and (rows := _fast_rows(raw)) is not None:
            # a well-formed UTF-8 file in the template's layout: loaded set-based with the others of its batch
            batch.add(path, name, file_hash, rows, load_seqs.next(files_left=len(paths) - index))
            loaded_hashes.add(file_hash)
            report.files_loaded += 1
            report.rows_loaded += rows
            if batch.rows >= FAST_BATCH_ROWS:
                _write_fast_batch(con, batch)
                batch = _FastBatch()
            if on_file:
                on_file(path)
            continue
        notes: list[tuple[str, str]] = []
        try:
            if cut and raw.strip() and path.suffix.lower() in {".csv", ".txt"}:
                raise LandingFileError(
                    f"{name}: the file is cut short ({cut}) and has stopped changing: nothing of it was loaded; "
                    "send the whole file again"
                )
            file_format, encoding, grids = _read_grids(path, raw, name)
            frames, notes = _frames_of(grids, name, encoding)
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
        _write_file(
            con,
            rows,
            file_hash,
            name,
            file_format,
            encoding,
            len(grids),
            notes,
            load_seqs.next(files_left=len(paths) - index),
        )
        report.notes.extend((name, note) for _sheet, note in notes)
        loaded_hashes.add(file_hash)
        report.files_loaded += 1
        report.rows_loaded += len(rows)
        if on_file:
            on_file(path)
    _write_fast_batch(con, batch)
    _record_waiting(con, looked_at, waiting_rows)
    return report


class _LoadSeqs:
    """load_seq numbers in the order files are loaded (a later load of the same key wins downstream), taken from
    raw.load_seq in blocks: one statement per file cost 4.5 s of a national ingest (16,500 files). A block is
    as large as the files loaded so far in this run (1, 1, 2, 4, ... at most 1,024 and never more than the files
    left to look at), so a run that loads one file takes one number, and a run's unused numbers, skipped like
    any sequence's after a rollback, are fewer than it loaded."""

    BLOCK_MAX = 1024

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con
        self.taken = 0
        self.pool: list[int] = []

    def next(self, files_left: int) -> int:
        """The next number; `files_left` counts the file being loaded and those after it."""
        if not self.pool:
            size = max(1, min(self.taken, self.BLOCK_MAX, files_left))
            self.pool = sorted(
                seq
                for (seq,) in self.con.execute(
                    f"select nextval('{RAW_SCHEMA}.load_seq') from range(?)", [size]
                ).fetchall()
            )
        self.taken += 1
        return self.pool.pop(0)


def land(
    settings, *, files: Iterable[Path] | None = None, on_file: Callable[[Path], None] | None = None
) -> IngestReport:
    """Every new file of the settings' landing folder (or just `files`) into the warehouse's raw tables."""
    from hqd import warehouse

    settings.landing_dir.mkdir(parents=True, exist_ok=True)
    con = warehouse.connect(settings)
    try:
        return ingest_landing(
            settings.landing_dir, con, files=files, on_file=on_file, settle_seconds=settings.landing_settle_seconds
        )
    except (duckdb.Error, OSError) as exc:
        # a full disk or a damaged file shows only when writing: said in words, with what to do
        if warehouse.is_unavailable(exc):
            raise warehouse.WarehouseUnavailable(warehouse.explain(exc, settings.warehouse)) from exc
        raise
    finally:
        con.close()


def _frames_of(grids: list[_Grid], name: str, encoding: str | None) -> tuple[list[pd.DataFrame], list[tuple[str, str]]]:
    """The raw rows of every sheet with a header. A sheet without one (填报说明, the instructions) beside sheets
    with data is left out with a note; a workbook in which no sheet has a header is unreadable."""
    frames, skipped = [], []
    for grid in grids:
        try:
            frames.append(_rows_from_grid(grid.cells, name, grid.sheet, grid.merged, encoding))
        except NoHeaderError as exc:
            skipped.append((grid.sheet, exc))
    if not grids:
        raise LandingFileError(f"{name}: the workbook has no sheet with data")
    if not frames:
        if len(skipped) == 1:
            raise skipped[0][1]
        raise LandingFileError(
            f"{name}: no sheet has a header row in its first {HEADER_SCAN_ROWS} rows (sheets "
            + ", ".join(f"'{sheet}'" for sheet, _ in skipped)
            + "; need 数值/value plus region, indicator and period columns, or region and period columns plus "
            "one column per indicator)"
        )
    notes = [(sheet, f"{name} sheet '{sheet}' skipped: no header row (not a data sheet?)") for sheet, _ in skipped]
    return frames, notes


def _record_waiting(con: duckdb.DuckDBPyConnection, looked_at: list[str], waiting: list[tuple]) -> None:
    """raw.landing_waiting holds the last look at every file that is still waiting (its size and time are what
    the next run compares against); a file loaded, failed or gone since is removed."""
    con.execute("begin transaction")
    try:
        if looked_at:
            con.execute(f"delete from {RAW_SCHEMA}.landing_waiting where file_name in (select unnest(?))", [looked_at])
        if waiting:
            con.executemany(f"insert into {RAW_SCHEMA}.landing_waiting values (?, ?, ?, ?, ?, ?)", waiting)
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise


# --- the set-based path for well-formed files -------------------------------------------------------------
# Most submissions are the template exactly: UTF-8 without BOM, the long header in its canonical spelling, one
# record per line, no quoting. For those, DuckDB's CSV reader loads whole batches of files in one statement;
# only the distinct cells that are not plain ASCII go through decode_text (NFKC, 繁→简) in Python. The result
# is the same raw rows the careful path writes (tests/orchestration/test_ingest_fast_path.py compares them).
FAST_HEADER = "地区代码,地区名称,指标代码,指标名称,统计期,数值,单位".encode()
FAST_FIELDS = ("region_code", "region_name", "indicator_code", "indicator_name", "period", "value", "unit")
FAST_BATCH_ROWS = 2_000_000
_BLANK_LINE = re.compile(r"(?m)^[,\s]*$")
# Bytes that send a file to the careful path: quoting, escapes and every control character but the line feed.
# In UTF-8 they are single bytes and never part of a multi-byte character, so one pass over the bytes decides.
_NOT_TEMPLATE_BYTES = re.compile(rb'["\\\x00-\x09\x0b-\x1f]')
# A line that might be blank starts with another line end, a comma, a space or the lead byte of a non-ASCII
# space (U+0085, U+00A0, U+1680, U+2000-U+205F, U+3000); only a file with one is searched line by line.
_MAYBE_BLANK_LINE = re.compile(rb"\n[\n, \xc2\xe1\xe2\xe3]")


def _fast_rows(raw: bytes) -> int | None:
    """The number of data rows if the file can take the set-based path, else None."""
    if not raw.startswith(FAST_HEADER + b"\n") or not raw.endswith(b"\n") or len(raw) == len(FAST_HEADER) + 1:
        return None
    if _NOT_TEMPLATE_BYTES.search(raw):
        return None
    lines = raw.count(b"\n")
    if raw.count(b",") != 6 * lines:
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    body = len(FAST_HEADER)
    if _MAYBE_BLANK_LINE.search(raw, body) and _BLANK_LINE.search(text[text.index("\n") + 1 : -1]):
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
            if odd:  # a column of plain ASCII cells (codes, periods, values) needs no lookup
                decoded[canon] = pd.DataFrame({"cell": odd, "text": [decode_text(v) for v in odd]}, dtype=object)
                con.register(f"decoded_{canon}", decoded[canon])
        row_json = "to_json({" + ", ".join(f"'{h}': c{i}" for i, h in enumerate(header)) + "})"
        select = ",\n".join(
            f"c.c{i} as {canon}_raw, "
            + (f"coalesce(d_{canon}.text, c.c{i})" if canon in decoded else f"c.c{i}")
            + f" as {canon}_text"
            for i, canon in enumerate(FAST_FIELDS)
        )
        joins = "\n".join(
            f"left join decoded_{canon} d_{canon} on c.c{i} = d_{canon}.cell"
            for i, canon in enumerate(FAST_FIELDS)
            if canon in decoded
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
    notes: list[tuple[str, str]] | None,
    load_seq: int,
) -> None:
    loaded_at = datetime.now(UTC).replace(tzinfo=None)
    con.execute("begin transaction")
    try:
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
        for sheet, note in notes or []:
            con.execute(
                f"insert into {RAW_SCHEMA}.landing_notes values (?, ?, ?, ?, ?, ?)",
                [file_hash, name, sheet, load_seq, note, loaded_at],
            )
        con.execute("commit")
    except Exception:
        _rollback(con)
        raise
