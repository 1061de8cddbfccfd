"""Reading landlord files: CSV (French or not), XLSX and Parquet, into frames of text.

Everything a CMMS or a meter system exports is accepted: ``;``, ``,``, tab or ``|`` separators,
decimal commas, ``dd/mm/yyyy`` dates, UTF-8 (with or without BOM), Windows-1252 or Latin-1 text.
The format is recognised from the file's first bytes, not from its name. Headers are matched
case-insensitively (spaces and dashes count as ``_``), after the optional column map that renames
the landlord's own headers (``{"N° OT": "work_order_id"}``).

Row numbers in every message are the row the user sees in a spreadsheet: the header is row 1, the
first data row is row 2 (for a CSV file that is its line number when no field spans lines).

Examples
--------
>>> normalise_header(" Asset-Ref ")
'asset_ref'
>>> parse_column_map("N° OT=work_order_id, Équipement=asset_ref")
{'N° OT': 'work_order_id', 'Équipement': 'asset_ref'}
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from asset_model.errors import ImportValidationError, RowProblem
from asset_model.imports.sniff import CsvDialect, ImportFileError, file_format, sniff_csv

FIRST_DATA_ROW = 2  # the header is row 1


@dataclass
class TableFile:
    """An import file, recognised and with its header resolved to canonical column names."""

    path: Path
    format: str  # "csv" | "xlsx" | "parquet"
    header: list[str]
    columns: dict[str, str]  # canonical name -> the file's header
    dialect: CsvDialect | None = None
    sheet_header_row: int = 1
    problems: list[RowProblem] = field(default_factory=list)  # malformed records met so far


def normalise_header(name: Any) -> str:
    """Header comparison key: trimmed, lower-case, BOM dropped, spaces and dashes as ``_``."""
    text = str(name).replace("\ufeff", "").strip().lower()
    return re.sub(r"[\s\-]+", "_", text)


def parse_column_map(spec: str | Mapping[str, str] | Path | None) -> dict[str, str] | None:
    """A column map from a dict, a JSON object text, a JSON file path, or ``a=b,c=d`` text."""
    if spec is None:
        return None
    if isinstance(spec, Mapping):
        return {str(k): str(v) for k, v in spec.items()}
    text = str(spec).strip()
    if not text:
        return None
    if not text.startswith("{"):
        candidate = Path(text)
        try:
            is_file = candidate.is_file()
        except OSError:
            is_file = False
        if is_file:
            text = candidate.read_text(encoding="utf-8-sig").strip()
    if text.startswith("{"):
        try:
            loaded = json.loads(text)
        except json.JSONDecodeError as err:
            raise ImportFileError(f"column map is not valid JSON: {err}") from err
        if not isinstance(loaded, dict):
            raise ImportFileError('column map JSON must be an object {"old": "new"}')
        return {str(k): str(v) for k, v in loaded.items()}
    mapping: dict[str, str] = {}
    for pair in text.split(","):
        if not pair.strip():
            continue
        if "=" not in pair:
            raise ImportFileError(
                f"column map entry {pair.strip()!r} is not 'old=new' (or give a JSON file)"
            )
        old, new = pair.split("=", 1)
        mapping[old.strip()] = new.strip()
    return mapping


def _read_header(path: Path, fmt: str, dialect: CsvDialect | None) -> tuple[list[str], int]:
    if fmt == "parquet":
        try:
            return list(pq.ParquetFile(path).schema_arrow.names), 1
        except (pa.ArrowInvalid, OSError) as err:
            raise ImportValidationError(
                path, [RowProblem(None, None, f"unreadable Parquet file: {err}")]
            ) from err
    if fmt == "xlsx":
        return _xlsx_header(path)
    assert dialect is not None
    with path.open("r", encoding=dialect.encoding, errors="replace", newline="") as fh:
        for number, row in enumerate(csv.reader(fh, delimiter=dialect.delimiter), start=1):
            if any(cell.strip() for cell in row):
                names = [cell.lstrip("\ufeff") if i == 0 else cell for i, cell in enumerate(row)]
                return names, number
    raise ImportValidationError(path, [RowProblem(None, None, "the file is empty")])


def _short(err: BaseException) -> str:
    return " ".join(str(err).split())[:300]


def _xlsx_workbook(path: Path) -> Any:
    import zipfile

    import openpyxl

    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as err:
        raise ImportValidationError(
            path, [RowProblem(None, None, f"not a readable XLSX workbook: {_short(err)}")]
        ) from err


def _xlsx_header(path: Path) -> tuple[list[str], int]:
    wb = _xlsx_workbook(path)
    try:
        ws = wb.worksheets[0]
        for number, row in enumerate(ws.iter_rows(values_only=True), start=1):
            if any(v is not None and str(v).strip() for v in row):
                names = [str(v) if v is not None else "" for v in row]
                while names and not names[-1].strip():
                    names.pop()
                return names, number
        raise ImportValidationError(path, [RowProblem(None, None, "the workbook is empty")])
    finally:
        wb.close()


def open_table(
    path: Path | str,
    *,
    required: list[str],
    optional: list[str],
    column_map: Mapping[str, str] | None = None,
    aliases: Mapping[str, str] | None = None,
) -> TableFile:
    """Recognise ``path`` and resolve its header; missing required columns fail the file.

    ``aliases`` (``{"date": "ts"}``) name fallback headers used only when the canonical column
    is absent."""
    path = Path(path)
    fmt = file_format(path)
    dialect = sniff_csv(path) if fmt == "csv" else None
    header, header_row = _read_header(path, fmt, dialect)
    mapping = {normalise_header(k): v for k, v in (column_map or {}).items()}
    known = required + optional
    columns: dict[str, str] = {}
    problems: list[RowProblem] = []
    for original in header:
        key = normalise_header(original)
        target = normalise_header(mapping.get(key, key))
        if key in mapping and target not in known and target not in (aliases or {}):
            problems.append(
                RowProblem(
                    None,
                    str(original),
                    f"the column map renames it to '{mapping[key]}', which is not a column of "
                    f"this import (expected: {', '.join(known)})",
                )
            )
        if target in known:
            if target in columns:
                problems.append(
                    RowProblem(
                        None,
                        str(original),
                        f"column '{target}' given twice (also '{columns[target]}')",
                    )
                )
            else:
                columns[target] = original
    for original in header:
        key = normalise_header(original)
        alias = (aliases or {}).get(normalise_header(mapping.get(key, key)))
        if alias and alias not in columns:
            columns[alias] = original
    for name in required:
        if name not in columns:
            found = ", ".join(repr(h) for h in header[:20]) or "none"
            problems.append(
                RowProblem(None, name, f"required column missing (columns found: {found})")
            )
    if problems:
        raise ImportValidationError(path, problems)
    return TableFile(
        path=path,
        format=fmt,
        header=header,
        columns=columns,
        dialect=dialect,
        sheet_header_row=header_row,
    )


def _to_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def iter_text_chunks(table: TableFile, rows: int = 200_000) -> Iterator[pd.DataFrame]:
    """The file's known columns as text (``str`` dtype, NA for empty), in chunks of ``rows``.

    The index of each chunk holds the user-visible row number of each row. Blank rows are dropped.
    """
    canon = list(table.columns)
    originals = [table.columns[c] for c in canon]
    if table.format == "csv":
        yield from _csv_text_chunks(table, canon, originals, rows)
    elif table.format == "parquet":
        yield from _parquet_text_chunks(table, canon, originals, rows)
    else:
        yield from _xlsx_text_chunks(table, canon, originals, rows)


def _finish(frame: pd.DataFrame, first_row: int) -> pd.DataFrame:
    frame.index = pd.RangeIndex(first_row, first_row + len(frame))
    frame = frame.astype("str").where(frame.notna(), None) if len(frame) else frame
    for col in frame.columns:
        s = frame[col].astype("str").str.strip()
        frame[col] = s.mask(s == "")
    blank = frame.isna().all(axis=1)
    return frame[~blank] if blank.any() else frame


class RowNumbers:
    """User-visible numbers of the records a CSV reader yields, skipping malformed records.

    Pass :meth:`handler` as pyarrow's ``invalid_row_handler`` (single-threaded reading): each
    record with the wrong number of fields becomes a :class:`RowProblem` and is skipped, and
    :meth:`take` numbers the next ``n`` records around the skipped ones.
    """

    def __init__(self, problems: list[RowProblem]) -> None:
        self.problems = problems
        self.skipped: list[int] = []
        self.next = FIRST_DATA_ROW

    def handler(self, row: Any) -> str:
        number = int(row.number) if row.number is not None else None
        if number is not None:
            self.skipped.append(number)
        self.problems.append(
            RowProblem(
                number,
                None,
                f"expected {row.expected_columns} fields, found {row.actual_columns} "
                f"(check the separator and quotes): {str(row.text)[:80]!r}",
            )
        )
        return "skip"

    def take(self, n: int) -> np.ndarray:
        ahead = [x for x in self.skipped if x >= self.next]
        candidates = np.arange(self.next, self.next + n + len(ahead))
        if ahead:
            candidates = candidates[~np.isin(candidates, ahead)]
        numbers = candidates[:n]
        if n:
            self.next = int(numbers[-1]) + 1
        return numbers


def open_text_csv(
    table: TableFile, originals: list[str], numbers: RowNumbers, *, block_size: int = 1 << 24
) -> Any:
    """A single-threaded streaming CSV reader giving every known column as text."""
    d = table.dialect
    assert d is not None
    return pacsv.open_csv(
        table.path,
        read_options=pacsv.ReadOptions(
            encoding=d.encoding, block_size=block_size, use_threads=False
        ),
        parse_options=pacsv.ParseOptions(
            delimiter=d.delimiter,
            ignore_empty_lines=False,
            newlines_in_values=True,
            invalid_row_handler=numbers.handler,
        ),
        convert_options=pacsv.ConvertOptions(
            include_columns=originals,
            column_types=dict.fromkeys(originals, pa.string()),
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
        ),
    )


def _csv_text_chunks(
    table: TableFile, canon: list[str], originals: list[str], rows: int
) -> Iterator[pd.DataFrame]:
    numbers = RowNumbers(table.problems)
    try:
        reader = open_text_csv(table, originals, numbers)
        for batch in reader:
            frame = batch.to_pandas()
            frame.columns = canon
            index = numbers.take(len(frame))
            frame = _finish(frame, FIRST_DATA_ROW)
            frame.index = pd.Index(index[frame.index.to_numpy() - FIRST_DATA_ROW])
            yield frame
    except (pa.ArrowInvalid, UnicodeDecodeError) as err:
        raise ImportValidationError(
            table.path, [RowProblem(None, None, f"not a readable table: {_short(err)}")]
        ) from err


def _parquet_text_chunks(
    table: TableFile, canon: list[str], originals: list[str], rows: int
) -> Iterator[pd.DataFrame]:
    pf = pq.ParquetFile(table.path)
    first = FIRST_DATA_ROW
    for batch in pf.iter_batches(batch_size=rows, columns=originals):
        cols = {}
        for name, original in zip(canon, originals, strict=True):
            arr = batch.column(original)
            if pa.types.is_timestamp(arr.type) and arr.type.tz is not None:
                cols[name] = pd.Series(arr.to_pandas(), dtype=object).map(
                    lambda v: v.isoformat() if v is not None and v is not pd.NaT else None
                )
            else:
                cols[name] = pd.Series(arr.to_pylist(), dtype=object).map(_to_text)
        frame = pd.DataFrame(cols)
        n = len(frame)
        yield _finish(frame, first)
        first += n


def _xlsx_text_chunks(
    table: TableFile, canon: list[str], originals: list[str], rows: int
) -> Iterator[pd.DataFrame]:
    wb = _xlsx_workbook(table.path)
    try:
        ws = wb.worksheets[0]
        positions = [table.header.index(o) for o in originals]
        buffer: list[list[str | None]] = []
        first = table.sheet_header_row + 1
        start = first
        for row in ws.iter_rows(min_row=first, values_only=True):
            buffer.append([_to_text(row[p]) if p < len(row) else None for p in positions])
            if len(buffer) >= rows:
                yield _finish(pd.DataFrame(buffer, columns=canon, dtype=object), start)
                start += len(buffer)
                buffer = []
        if buffer:
            yield _finish(pd.DataFrame(buffer, columns=canon, dtype=object), start)
    finally:
        wb.close()


def read_text_frame(table: TableFile) -> pd.DataFrame:
    """The whole file as one text frame (index = user-visible row numbers)."""
    chunks = list(iter_text_chunks(table))
    if not chunks:
        return pd.DataFrame({c: pd.Series(dtype="str") for c in table.columns})
    frame = pd.concat(chunks) if len(chunks) > 1 else chunks[0]
    return frame
