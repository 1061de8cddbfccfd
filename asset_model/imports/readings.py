"""Import meter and sensor readings (long format) into the partitioned Parquet readings store.

Columns (DESIGN §3): ``asset_ref``, ``channel``, ``ts`` (date or datetime; ``date``, ``day``,
``timestamp`` or ``datetime`` are accepted as its header), ``value``. Sub-daily readings are
aggregated to one value per (asset_ref, channel, day): summed for counters and energies, averaged
for the rest (:func:`asset_model.readings_store.aggregation_of`).

The file is streamed in batches (pyarrow's CSV streaming reader, ``ParquetFile.iter_batches``,
openpyxl read-only), aggregated per batch, and partial aggregates are spilled per bucket to a
temporary folder inside the dataset, so memory stays bounded whatever the file's size. Nothing is
written to the dataset until the whole file has been validated. The file's part files are named
after its SHA-256, so importing it again rewrites the same files: nothing changes.

Examples
--------
>>> with transaction(engine) as session:                       # doctest: +SKIP
...     import_readings(session, workspace.readings_dir, "meters.csv")
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from sqlalchemy import select
from sqlalchemy.orm import Session

from asset_model.errors import ImportValidationError, RowProblem
from asset_model.imports.common import (
    ImportSummary,
    file_sha256,
    known_reading_refs,
    sorted_problems,
)
from asset_model.imports.daily import DailySpill, partial_daily
from asset_model.imports.parse import parse_datetimes
from asset_model.imports.reader import (
    FIRST_DATA_ROW,
    RowNumbers,
    TableFile,
    iter_text_chunks,
    open_table,
    open_text_csv,
)
from asset_model.models import ImportRecord
from asset_model.readings_store import (
    existing_parts,
    remove_parts,
    seq_for,
)

REQUIRED = ["asset_ref", "channel", "ts", "value"]
TS_ALIASES = {"date": "ts", "day": "ts", "timestamp": "ts", "datetime": "ts", "time": "ts"}
CSV_BLOCK_BYTES = 1 << 22  # bytes of CSV text per streamed batch (bounds the reader's memory)
PARQUET_BATCH_ROWS = 1 << 18  # rows per streamed Parquet batch
MAX_PROBLEMS = 100_000
_TS_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M",
    "%d/%m/%Y",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
)
_NUMBER = r"^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$"


class _Retry(Exception):
    """The typed fast path met a value it cannot read: start again reading text."""


# ---------------------------------------------------------------- reading batches


def _batches(table: TableFile, *, typed: bool) -> Iterator[tuple[np.ndarray, pa.Table]]:
    """(row numbers, table with the canonical columns) for each batch of the file."""
    canon = REQUIRED
    originals = [table.columns[c] for c in canon]
    if table.format == "csv":
        yield from _csv_batches(table, canon, originals, typed=typed)
    elif table.format == "parquet":
        first = FIRST_DATA_ROW
        try:
            pf = pq.ParquetFile(table.path)
            for batch in pf.iter_batches(batch_size=PARQUET_BATCH_ROWS, columns=originals):
                t = pa.Table.from_batches([batch]).rename_columns(canon)
                yield np.arange(first, first + t.num_rows), t
                first += t.num_rows
        except (pa.ArrowInvalid, OSError) as err:
            raise ImportValidationError(
                table.path, [RowProblem(None, None, f"unreadable Parquet file: {err}")]
            ) from err
    else:
        for frame in iter_text_chunks(table, rows=200_000):
            t = pa.Table.from_pandas(frame[canon], preserve_index=False)
            t = pa.table({c: pc.cast(t.column(c), pa.string()) for c in canon})
            yield frame.index.to_numpy(), t


def _csv_batches(
    table: TableFile, canon: list[str], originals: list[str], *, typed: bool
) -> Iterator[tuple[np.ndarray, pa.Table]]:
    d = table.dialect
    assert d is not None
    numbers = RowNumbers(table.problems)
    if typed:
        types = {
            originals[0]: pa.string(),
            originals[1]: pa.string(),
            originals[2]: pa.timestamp("ms"),
            originals[3]: pa.float64(),
        }
        reader_args = {
            "read_options": pacsv.ReadOptions(encoding=d.encoding, block_size=CSV_BLOCK_BYTES),
            "parse_options": pacsv.ParseOptions(delimiter=d.delimiter),
            "convert_options": pacsv.ConvertOptions(
                include_columns=originals,
                column_types=types,
                timestamp_parsers=[
                    pacsv.ISO8601,
                    "%d/%m/%Y",
                    "%d/%m/%Y %H:%M",
                    "%d/%m/%Y %H:%M:%S",
                ],
                decimal_point=d.decimal,
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
            ),
        }
    try:
        if typed:
            reader = pacsv.open_csv(table.path, **reader_args)
        else:
            reader = open_text_csv(table, originals, numbers, block_size=CSV_BLOCK_BYTES)
        first = FIRST_DATA_ROW
        for batch in reader:
            t = pa.Table.from_batches([batch]).select(originals).rename_columns(canon)
            if typed:
                rows = np.arange(first, first + t.num_rows)
                first += t.num_rows
            else:
                rows = numbers.take(t.num_rows)
            yield rows, t
    except (pa.ArrowInvalid, UnicodeDecodeError) as err:
        if typed:
            raise _Retry from err
        raise ImportValidationError(
            table.path, [RowProblem(None, None, f"not a readable table: {err}")]
        ) from err


# ---------------------------------------------------------------- validation


def _text(arr: pa.ChunkedArray) -> pa.ChunkedArray:
    arr = arr if pa.types.is_string(arr.type) else pc.cast(arr, pa.string())
    return pc.utf8_trim_whitespace(arr)


def _missing(arr: pa.ChunkedArray) -> np.ndarray:
    mask = pc.is_null(arr)
    if pa.types.is_string(arr.type):
        mask = pc.or_kleene(mask, pc.equal(arr, ""))
    elif pa.types.is_floating(arr.type):
        mask = pc.or_kleene(mask, pc.is_nan(arr))
    return mask.to_numpy(zero_copy_only=False).astype(bool)


def _timestamps(arr: pa.ChunkedArray) -> tuple[pa.ChunkedArray, np.ndarray]:
    """Timestamps[ms] (naive local time) and the mask of values that are not dates."""
    t = arr.type
    if pa.types.is_timestamp(t):
        if t.tz is not None:
            arr = pc.local_timestamp(pc.cast(arr, pa.timestamp(t.unit, tz="Europe/Paris")))
        return pc.cast(arr, pa.timestamp("ms")), np.zeros(len(arr), dtype=bool)
    if pa.types.is_date(t):
        return pc.cast(arr, pa.timestamp("ms")), np.zeros(len(arr), dtype=bool)
    if not pa.types.is_string(t) and not pa.types.is_large_string(t):
        out = pa.chunked_array([pa.nulls(len(arr), pa.timestamp("ms"))])
        return out, ~pc.is_null(arr).to_numpy(zero_copy_only=False)
    text = _text(arr)
    out = pc.strptime(text, format=_TS_FORMATS[0], unit="ms", error_is_null=True)
    for fmt in _TS_FORMATS[1:]:
        if pc.sum(pc.is_null(out)).as_py() == pc.sum(pc.is_null(text)).as_py():
            break
        out = pc.coalesce(out, pc.strptime(text, format=fmt, unit="ms", error_is_null=True))
    left = pc.and_(pc.is_null(out), pc.invert(pc.is_null(text))).to_numpy(zero_copy_only=False)
    if left.any():  # offsets, fractions of seconds …: pandas' ISO 8601 parser, on the rest only
        idx = np.nonzero(left)[0]
        rest = pd.Series(text.take(pa.array(idx)).to_pylist(), dtype="str")
        parsed, bad = parse_datetimes(rest)
        local = parsed.dt.tz_convert("Europe/Paris").dt.tz_localize(None)
        values = out.to_numpy(zero_copy_only=False).astype("datetime64[ms]")
        values[idx] = local.to_numpy(dtype="datetime64[ms]")
        out = pa.chunked_array([pa.array(values, type=pa.timestamp("ms"))])
        left = np.zeros(len(text), dtype=bool)
        left[idx[bad.to_numpy()]] = True
    empty = pc.equal(text, "").to_numpy(zero_copy_only=False)
    return out, left & ~np.asarray(empty, dtype=bool)


def _numbers(arr: pa.ChunkedArray) -> tuple[pa.ChunkedArray, np.ndarray]:
    t = arr.type
    if pa.types.is_floating(t) or pa.types.is_integer(t) or pa.types.is_decimal(t):
        return pc.cast(arr, pa.float64()), np.zeros(len(arr), dtype=bool)
    if not pa.types.is_string(t):
        arr = pc.cast(arr, pa.string())
    text = pc.replace_substring_regex(arr, r"[\s\x{00a0}\x{202f}]", "")
    text = pc.replace_substring(text, ",", ".")
    ok = pc.match_substring_regex(text, _NUMBER)
    given = pc.fill_null(pc.not_equal(text, ""), False)
    bad = pc.and_(given, pc.invert(pc.fill_null(ok, False))).to_numpy(zero_copy_only=False)
    clean = pc.if_else(ok, text, pa.scalar(None, pa.string()))
    return pc.cast(clean, pa.float64()), np.asarray(bad, dtype=bool)


def _plain_types(t: pa.Table) -> pa.Table:
    """Dictionary-encoded columns decoded, large strings as strings."""
    columns = []
    for col in t.columns:
        if pa.types.is_dictionary(col.type):
            col = pc.cast(col, col.type.value_type)
        if pa.types.is_large_string(col.type) or pa.types.is_string_view(col.type):
            col = pc.cast(col, pa.string())
        columns.append(col)
    return pa.table(columns, names=t.column_names)


def _validate(
    rows: np.ndarray, t: pa.Table, *, typed: bool, problems: list[RowProblem]
) -> pa.Table | None:
    """The batch as (asset_ref, channel, day, value), or None after adding its problems."""
    t = _plain_types(t)
    blank = np.ones(t.num_rows, dtype=bool)
    missing = {}
    for c in REQUIRED:
        missing[c] = _missing(t.column(c))
        blank &= missing[c]
    ts, bad_ts = _timestamps(t.column("ts"))
    value, bad_value = _numbers(t.column("value"))
    checks = [
        ("asset_ref", missing["asset_ref"], "missing value"),
        ("channel", missing["channel"], "missing value"),
        ("ts", missing["ts"], "missing date"),
        ("ts", bad_ts, "bad date (expected YYYY-MM-DD[ HH:MM[:SS]] or DD/MM/YYYY[ HH:MM])"),
        ("value", missing["value"], "missing value"),
        ("value", bad_value, "not a number"),
    ]
    found = False
    for column, mask, reason in checks:
        mask = mask & ~blank
        if mask.any():
            found = True
            if typed:
                raise _Retry
            raw = t.column(column)
            for i in np.nonzero(mask)[0][: max(0, MAX_PROBLEMS - len(problems))]:
                shown = raw[int(i)].as_py()
                quote = shown not in (None, "") and "missing" not in reason
                detail = f" '{shown}'" if quote else ""
                problems.append(RowProblem(int(rows[i]), column, reason + detail))
    if found:
        return None
    out = pa.table(
        {
            "asset_ref": _text(t.column("asset_ref")),
            "channel": pc.utf8_lower(_text(t.column("channel"))),
            "day": pc.floor_temporal(ts, unit="day"),
            "value": value,
        }
    )
    if blank.any():
        out = out.filter(pa.array(~blank))
    return out


# ---------------------------------------------------------------- the use case


def import_readings(
    session: Session,
    dataset_dir: Path | str,
    path: Path | str,
    *,
    column_map: Mapping[str, str] | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportSummary:
    """Validate ``path`` and add its readings, aggregated to daily, to the dataset.

    Raises :class:`~asset_model.errors.ImportValidationError` listing every bad row (nothing is
    written). Readings whose ``asset_ref`` names no asset, dwelling, building or site yet are
    stored anyway (they join their asset by ref when it arrives) and reported as kept aside.
    ``progress`` is called with the number of rows read after each batch. An
    :class:`~asset_model.models.ImportRecord` row records the import.
    """
    path = Path(path)
    dataset_dir = Path(dataset_dir)
    table = open_table(
        path, required=REQUIRED, optional=[], column_map=column_map, aliases=TS_ALIASES
    )
    sha = file_sha256(path)
    file_key = sha[:32]
    previous = session.scalars(
        select(ImportRecord)
        .where(ImportRecord.kind == "readings", ImportRecord.sha256 == sha)
        .order_by(ImportRecord.id)
    ).first()
    if previous is not None and existing_parts(dataset_dir, file_key):
        return ImportSummary(
            kind="readings",
            path=path,
            sha256=sha,
            rows_read=previous.rows_read,
            rows_written=0,
            rows_unchanged=previous.rows_read,
            rows_pending=0,
            import_id=None,
            daily_rows=0,
        )
    try:
        rows_read, ref_counts, daily_rows = _stream(
            table, dataset_dir, file_key, typed=table.format == "csv", progress=progress
        )
    except _Retry:
        rows_read, ref_counts, daily_rows = _stream(
            table, dataset_dir, file_key, typed=False, progress=progress
        )
    known = known_reading_refs(session, ref_counts)
    unknown = sorted(set(ref_counts) - known)
    pending = sum(ref_counts[r] for r in unknown)
    record = ImportRecord(
        kind="readings",
        path=str(path),
        sha256=sha,
        rows_read=rows_read,
        rows_written=rows_read,
        rows_pending=pending,
    )
    session.add(record)
    session.flush()
    return ImportSummary(
        kind="readings",
        path=path,
        sha256=sha,
        rows_read=rows_read,
        rows_written=rows_read,
        rows_unchanged=0,
        rows_pending=pending,
        unknown_refs=tuple(unknown),
        import_id=record.id,
        daily_rows=daily_rows,
    )


def _stream(
    table: TableFile,
    dataset_dir: Path,
    file_key: str,
    *,
    typed: bool,
    progress: Callable[[int], None] | None,
) -> tuple[int, Counter[str], int]:
    table.problems.clear()
    problems = table.problems  # malformed records are added by the reader, bad values below
    refs: Counter[str] = Counter()
    spill = DailySpill(dataset_dir)
    rows_read = 0
    try:
        for rows, batch in _batches(table, typed=typed):
            clean = _validate(rows, batch, typed=typed, problems=problems)
            rows_read += batch.num_rows
            if progress is not None:
                progress(rows_read)
            if clean is None or problems:
                continue
            counts = pc.value_counts(clean.column("asset_ref").combine_chunks())
            for item in counts:
                refs[item["values"].as_py()] += item["counts"].as_py()
            spill.add(partial_daily(clean))
        if problems:
            if len(problems) >= MAX_PROBLEMS:
                problems.append(RowProblem(None, None, "more bad rows not listed"))
            raise ImportValidationError(table.path, sorted_problems(problems))
        if rows_read == 0 or not refs:
            raise ImportValidationError(
                table.path, [RowProblem(None, None, "no data rows under the header")]
            )
        seq = seq_for(dataset_dir, file_key)
        remove_parts(dataset_dir, file_key)
        daily_rows = spill.write(file_key=file_key, seq=seq)
    finally:
        spill.close()
    return rows_read, refs, daily_rows
