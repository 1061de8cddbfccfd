"""The readings store: daily meter and sensor values as a partitioned Parquet dataset.

Readings never go into SQL. One dataset per workspace (``<workspace>/readings/``), hive folders
``bucket=NN`` where ``NN`` is a stable hash of ``asset_ref`` modulo 64, so every reading of one
asset lives in one bucket and one Dask partition holds whole assets. Columns: ``asset_ref``
(string), ``channel`` (string), ``day`` (timestamp[ms], midnight, naive local date), ``value``
(float64) and ``n`` (int32, how many raw readings were aggregated into that day).

Each writer (an import file, a simulation run) is identified by a ``file_key``; its rows go to
``bucket=NN/part-<seq>-<file_key>.parquet``, one row group per (calendar year, channel) so that
filters on ``channel`` and ``day`` skip the others (:func:`write_part_file`; earlier files, one
row group each, read the same). Writing the same ``file_key`` again replaces its
files (idempotent). When two writers hold the same (asset_ref, channel, day), reads keep the one
written last (the highest ``seq``).

Examples
--------
>>> import pandas as pd, tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> daily = pd.DataFrame({"asset_ref": ["B1"], "channel": ["energy_kwh"],
...                       "day": pd.to_datetime(["2024-01-01"]), "value": [12.5], "n": [24]})
>>> write_daily(d, daily, file_key="demo")
1
>>> read_readings(d, channels=["energy_kwh"]).compute()["value"].tolist()
[12.5]
"""

from __future__ import annotations

import os
import re
import time
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from asset_model.errors import PatrimoineError

N_BUCKETS = 64
COLUMNS = ["asset_ref", "channel", "day", "value", "n"]
SCHEMA = pa.schema(
    [
        ("asset_ref", pa.string()),
        ("channel", pa.string()),
        ("day", pa.timestamp("ms")),
        ("value", pa.float64()),
        ("n", pa.int32()),
    ]
)

#: Channels whose daily value is the SUM of the raw readings (counters and energies); every
#: other channel (temperatures, ``*_c``, COP, pressures …) is AVERAGED over the day.
SUM_CHANNELS = frozenset(
    {"energy_kwh", "runtime_h", "cycles", "fault_count", "trips", "door_reopens"}
)
#: Name endings that also mean "sum" for channels not listed above (``gas_kwh``, ``starts_count``).
SUM_SUFFIXES = ("_kwh", "_count", "_m3")

_PART = re.compile(r"^part-(\d{20})-(.+)\.parquet$")
_KEY = re.compile(r"^[A-Za-z0-9_.=-]+$")
#: What makes a reading unique: a later write of the same key replaces it.
_KEYS = ["asset_ref", "channel", "day"]


class ReadingsStoreError(PatrimoineError):
    """The readings dataset cannot be written or read as asked."""


def aggregation_of(channel: str) -> str:
    """``"sum"`` or ``"mean"``: how raw readings of ``channel`` become one daily value.

    >>> aggregation_of("energy_kwh"), aggregation_of("supply_temp_c"), aggregation_of("cop")
    ('sum', 'mean', 'mean')
    """
    name = channel.strip().lower()
    if name in SUM_CHANNELS or name.endswith(SUM_SUFFIXES):
        return "sum"
    return "mean"


def bucket_of(asset_ref: str) -> int:
    """The stable bucket (0..63) of an ``asset_ref``: CRC-32 of its UTF-8 bytes modulo 64.

    >>> bucket_of("2O2Fr$t4X7Zf8NOew3FLOH")
    36
    """
    return zlib.crc32(asset_ref.encode("utf-8")) % N_BUCKETS


def buckets_of(refs: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Vectorised :func:`bucket_of`: hashes each distinct ref once, then maps back (int16).

    >>> buckets_of(pa.array(["2O2Fr$t4X7Zf8NOew3FLOH", "ASSET-7", "2O2Fr$t4X7Zf8NOew3FLOH"]))
    array([36, 50, 36], dtype=int16)
    """
    if isinstance(refs, pa.ChunkedArray):
        refs = refs.combine_chunks()
    encoded = pc.dictionary_encode(refs)
    table = (crc32_many(encoded.dictionary) % N_BUCKETS).astype(np.int16)
    indices = encoded.indices.to_numpy(zero_copy_only=False)
    return table[indices]


def _crc_table() -> np.ndarray:
    """zlib's CRC-32 table (reflected polynomial 0xEDB88320), one entry per byte value."""
    t = np.arange(256, dtype=np.uint32)
    for _ in range(8):
        t = np.where(t & 1, (t >> 1) ^ np.uint32(0xEDB88320), t >> 1)
    return t


_CRC_TABLE = _crc_table()


def crc32_many(strings: pa.Array) -> np.ndarray:
    """``zlib.crc32`` of the UTF-8 bytes of every string (no nulls), as uint32, a byte
    position at a time over all the strings at once: 0.13 s for a million asset refs, where
    one ``zlib.crc32`` call per ref took 1.4 s (the feature store partitions every asset).

    >>> int(crc32_many(pa.array(["ASSET-7"]))[0]) == zlib.crc32(b"ASSET-7")
    True
    """
    strings = pc.cast(strings, pa.large_binary())
    n = len(strings)
    if strings.null_count:
        raise ReadingsStoreError("an asset_ref is missing (null): every reading needs one")
    if n == 0:
        return np.zeros(0, dtype=np.uint32)
    _, offsets_buf, data_buf = strings.buffers()
    offsets = np.frombuffer(offsets_buf, dtype=np.int64)[strings.offset : strings.offset + n + 1]
    data = np.frombuffer(data_buf, dtype=np.uint8) if data_buf else np.zeros(0, dtype=np.uint8)
    lengths = np.diff(offsets)
    order = np.argsort(-lengths, kind="stable")  # longest first: byte j is a prefix's work
    starts, ends = offsets[:-1][order], lengths[order]
    crc = np.full(n, 0xFFFFFFFF, dtype=np.uint32)
    active = n
    for j in range(int(lengths.max())):
        while active and ends[active - 1] <= j:
            active -= 1
        head = crc[:active]
        byte = data[starts[:active] + j].astype(np.uint32)
        crc[:active] = _CRC_TABLE[(head ^ byte) & 0xFF] ^ (head >> 8)
    out = np.empty(n, dtype=np.uint32)
    out[order] = crc ^ np.uint32(0xFFFFFFFF)
    return out


def _check_key(file_key: str) -> None:
    if not file_key or not _KEY.match(file_key):
        raise ReadingsStoreError(
            f"file_key {file_key!r} must be non-empty letters, digits, '_', '-', '.' or '='"
        )


def existing_parts(dataset_dir: Path, file_key: str) -> list[Path]:
    if not dataset_dir.is_dir():
        return []
    return sorted(dataset_dir.glob(f"bucket=*/part-*-{file_key}.parquet"))


def seq_for(dataset_dir: Path, file_key: str) -> str:
    """Keep the sequence of an earlier write of this key (re-import changes nothing), else now."""
    for path in existing_parts(dataset_dir, file_key):
        m = _PART.match(path.name)
        if m and m.group(2) == file_key:
            return m.group(1)
    return f"{time.time_ns():020d}"


def to_daily_table(daily: pd.DataFrame | pa.Table) -> pa.Table:
    """Check and cast a daily frame to the dataset schema (``n`` defaults to 1)."""
    table = (
        daily if isinstance(daily, pa.Table) else pa.Table.from_pandas(daily, preserve_index=False)
    )
    missing = [c for c in ("asset_ref", "channel", "day", "value") if c not in table.column_names]
    if missing:
        raise ReadingsStoreError(f"daily readings lack column(s) {missing}; need {COLUMNS}")
    if "n" not in table.column_names:
        table = table.append_column("n", pa.array(np.ones(table.num_rows, dtype=np.int32)))
    day = table.column("day")
    if pa.types.is_timestamp(day.type) and day.type.tz is not None:
        day = pc.local_timestamp(day)
    day = pc.floor_temporal(pc.cast(day, pa.timestamp("ms")), unit="day")
    try:
        return pa.table(
            {
                "asset_ref": pc.cast(table.column("asset_ref"), pa.string()),
                "channel": pc.cast(table.column("channel"), pa.string()),
                "day": day,
                "value": pc.cast(table.column("value"), pa.float64()),
                "n": pc.cast(table.column("n"), pa.int32()),
            },
            schema=SCHEMA,
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as err:
        raise ReadingsStoreError(f"daily readings do not fit the dataset schema: {err}") from err


def write_buckets(dataset_dir: Path, table: pa.Table, *, file_key: str, seq: str) -> int:
    """Write ``table`` (dataset schema) split by bucket, one part file per bucket for the key."""
    if table.num_rows == 0:
        return 0
    buckets = buckets_of(table.column("asset_ref"))
    order = np.argsort(buckets, kind="stable")
    table = table.take(pa.array(order))
    sorted_buckets = buckets[order]
    present = np.unique(sorted_buckets)
    starts = np.searchsorted(sorted_buckets, present, side="left")
    ends = np.searchsorted(sorted_buckets, present, side="right")
    for bucket, start, end in zip(present, starts, ends, strict=True):
        part = table.slice(int(start), int(end - start))
        write_bucket_part(dataset_dir, int(bucket), part, file_key=file_key, seq=seq)
    return table.num_rows


def write_bucket_part(
    dataset_dir: Path, bucket: int, part: pa.Table, *, file_key: str, seq: str
) -> None:
    """Atomically write one bucket's part file (temporary name, then rename)."""
    folder = dataset_dir / f"bucket={bucket:02d}"
    folder.mkdir(parents=True, exist_ok=True)
    write_part_file(folder / f"part-{seq}-{file_key}.parquet", part)


def write_part_file(final: Path, part: pa.Table) -> None:
    """Write a part atomically (temporary name, then rename), one row group per (year, channel).

    Row-group statistics then tell readers which groups hold a channel and a period: a filter
    on ``channel`` or ``day`` skips the others undecoded (the as-of read decodes only its
    lookback window, the weather read only the weather), and the channel list and history span
    come from the file footers. Within a group rows are sorted by asset and day.
    """
    year = pc.year(part.column("day"))
    order = pc.sort_indices(
        part.append_column("_year", year),
        sort_keys=[
            ("_year", "ascending"),
            ("channel", "ascending"),
            ("asset_ref", "ascending"),
            ("day", "ascending"),
        ],
    )
    part = part.take(order)
    y = year.take(order).to_numpy(zero_copy_only=False)
    c, _ = pd.factorize(part.column("channel").to_numpy(zero_copy_only=False))
    change = np.flatnonzero((y[1:] != y[:-1]) | (c[1:] != c[:-1])) + 1
    bounds = [0, *change.tolist(), part.num_rows]
    tmp = final.with_name(f".{final.name}.tmp")
    with pq.ParquetWriter(tmp, SCHEMA, compression="zstd") as writer:
        for start, end in zip(bounds[:-1], bounds[1:], strict=True):
            if end > start:
                writer.write_table(part.slice(start, end - start), row_group_size=end - start)
    os.replace(tmp, final)


def remove_parts(dataset_dir: Path, file_key: str, *, keep_seq: str | None = None) -> None:
    """Delete the part files of ``file_key`` (all, or those not of ``keep_seq``)."""
    for path in existing_parts(dataset_dir, file_key):
        m = _PART.match(path.name)
        if m and m.group(2) == file_key and m.group(1) != keep_seq:
            path.unlink()


def write_daily(dataset_dir: Path, daily: pd.DataFrame, *, file_key: str) -> int:
    """Write daily readings (``asset_ref, channel, day, value[, n]``) under ``file_key``.

    Writing the same ``file_key`` again replaces what it wrote before. Returns the rows written.

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> df = pd.DataFrame({"asset_ref": ["A", "B"], "channel": ["cycles"] * 2,
    ...                    "day": pd.to_datetime(["2024-01-01"] * 2), "value": [3.0, 4.0]})
    >>> write_daily(d, df, file_key="sim"), write_daily(d, df, file_key="sim")
    (2, 2)
    """
    _check_key(file_key)
    dataset_dir = Path(dataset_dir)
    table = to_daily_table(daily)
    seq = seq_for(dataset_dir, file_key)
    # drop this key's previous files first: the new content may fall in other buckets
    remove_parts(dataset_dir, file_key)
    return write_buckets(dataset_dir, table, file_key=file_key, seq=seq)


def _bucket_dirs(dataset_dir: Path) -> list[Path]:
    if not dataset_dir.is_dir():
        return []
    return sorted(p for p in dataset_dir.glob("bucket=*") if p.is_dir())


def _day_scalar(value: Any) -> pa.Scalar:
    ts = pd.Timestamp(value)
    if ts.tzinfo is not None:
        ts = ts.tz_localize(None)
    return pa.scalar(ts.to_pydatetime(), pa.timestamp("ms"))


@dataclass(frozen=True)
class _Scan:
    """What a bucket read keeps (None: no test): the row tests, whose bounds also skip groups."""

    channels: pa.Array | None
    asset_refs: pa.Array | None
    start: pa.Scalar | None
    end: pa.Scalar | None


def _scan(channels: list[str] | None, start: Any, end: Any, asset_refs: list[str] | None) -> _Scan:
    return _Scan(
        channels=pa.array(list(channels), pa.string()) if channels is not None else None,
        asset_refs=pa.array(list(asset_refs), pa.string()) if asset_refs is not None else None,
        start=_day_scalar(start) if start is not None else None,
        end=_day_scalar(end) if end is not None else None,
    )


def _row_mask(rows: pa.Table, scan: _Scan, *, channels: bool) -> np.ndarray | None:
    """Which rows pass every test of ``scan`` (None: no test), the channel test only if asked."""
    tests = []
    if scan.channels is not None and channels:
        tests.append(pc.is_in(rows.column("channel"), value_set=scan.channels))
    if scan.asset_refs is not None:
        tests.append(pc.is_in(rows.column("asset_ref"), value_set=scan.asset_refs))
    if scan.start is not None:
        tests.append(pc.greater_equal(rows.column("day"), scan.start))
    if scan.end is not None:
        tests.append(pc.less_equal(rows.column("day"), scan.end))
    if not tests:
        return None
    mask = tests[0]
    for test in tests[1:]:
        mask = pc.and_(mask, test)
    return mask.fill_null(False).to_numpy(zero_copy_only=False)


def _row_groups(meta: pq.FileMetaData, scan: _Scan) -> tuple[list[int], bool]:
    """The row groups whose footer statistics admit rows of ``scan`` (missing statistics do),
    and whether the statistics also prove that every row of them has one of its channels."""
    names = meta.schema.names
    channel, day = names.index("channel"), names.index("day")
    names_in = scan.channels.to_pylist() if scan.channels is not None else None
    start = scan.start.as_py() if scan.start is not None else None
    end = scan.end.as_py() if scan.end is not None else None
    keep, proven = [], True
    for i in range(meta.num_row_groups):
        group = meta.row_group(i)
        c, d = group.column(channel).statistics, group.column(day).statistics
        known_c = names_in is not None and c is not None and c.has_min_max
        if known_c and not any(c.min <= name <= c.max for name in names_in):
            continue
        known_d = d is not None and d.has_min_max
        if known_d and ((start and d.max < start) or (end and d.min > end)):
            continue
        keep.append(i)
        # a group of one channel (the layout write_part_file writes) needs no channel test
        proven &= known_c and c.min == c.max and c.has_null_count and c.null_count == 0
    return keep, proven


def _read_groups(path: str, columns: list[str], scan: _Scan) -> tuple[pa.Table, bool]:
    """The row groups of one part file that its footer admits, strings as dictionaries, and
    whether their channels are proven (:func:`_row_groups`)."""
    part = pq.ParquetFile(path, read_dictionary=["asset_ref", "channel"])
    groups, proven = _row_groups(part.metadata, scan)
    return part.read_row_groups(groups, columns=columns, use_threads=False), proven


def _read_bucket(folder: Path, columns: list[str], scan: _Scan, categories: bool) -> pd.DataFrame:
    """One bucket as pandas: every part file, later writes winning on (asset_ref, channel, day).

    Each part decodes only the row groups its footer admits, with its strings as dictionaries;
    the row tests, the filter and the decoding to strings (none for ``categories``) then run
    once over all the parts (per part, on a bucket of 50 simulator parts, they cost as much as
    the decoding). The channel test, the dearest, runs only when a footer does not prove it."""
    files = sorted(str(p) for p in folder.glob("part-*.parquet"))
    if not files:
        return _empty(columns, categories)
    wanted = list(dict.fromkeys(_KEYS + columns))
    # one table per part, in write order (the names sort by sequence number)
    parts, proven = zip(*(_read_groups(f, wanted, scan) for f in files), strict=True)
    ends = np.cumsum([t.num_rows for t in parts])
    rows = pa.concat_tables(parts)
    keep = _row_mask(rows, scan, channels=not all(proven))
    if keep is not None and not keep.all():
        rows = rows.filter(pa.array(keep))
        ends = np.concatenate([[0], np.cumsum(keep)])[ends]
    sizes = np.diff(ends, prepend=0)
    schema = _schema(wanted, categories)
    rows = pa.table([pc.cast(rows.column(c), schema.field(c).type) for c in wanted], schema=schema)
    tables = [rows.slice(int(e - n), int(n)) for e, n in zip(ends, sizes, strict=True)]
    table = latest_wins(tables) if len(tables) > 1 else tables[0]
    return table.select(columns).to_pandas(date_as_object=False)


def latest_wins(tables: list[pa.Table]) -> pa.Table:
    """Concatenate part tables (write order), dropping rows a later part rewrites.

    Two rows can share (asset_ref, channel, day) only when their asset lies in more than one
    part, so only those assets' rows are de-duplicated (Arrow group-by, the highest row wins);
    when the parts hold disjoint assets, which is the common case, this is a concatenation.
    Rows keep their order, exactly as ``drop_duplicates(keep="last")`` leaves them.

    >>> a = pa.table({"asset_ref": ["A", "B"], "channel": ["c", "c"], "day": [1, 1], "v": [1, 2]})
    >>> b = pa.table({"asset_ref": ["B"], "channel": ["c"], "day": [1], "v": [3]})
    >>> latest_wins([a, b])["v"].to_pylist()
    [1, 3]
    """
    table = pa.concat_tables(tables)
    refs = pa.chunked_array([_distinct_refs(t) for t in tables], pa.string())
    counts = pc.value_counts(refs)
    shared = counts.field("values").filter(pc.greater(counts.field("counts"), 1))
    if len(shared) == 0:
        return table
    overlap = pc.is_in(table.column("asset_ref"), value_set=shared).to_numpy(zero_copy_only=False)
    rows = np.flatnonzero(overlap)
    sub = table.select(_KEYS).take(pa.array(rows))
    sub = pa.table([_plain(c) for c in sub.columns], names=_KEYS).append_column(
        "_row", pa.array(rows)
    )
    last = sub.group_by(_KEYS, use_threads=False).aggregate([("_row", "max")])
    keep = ~overlap
    keep[last.column("_row_max").to_numpy()] = True
    return table.filter(pa.array(keep))


def _plain(values: pa.ChunkedArray) -> pa.ChunkedArray:
    """``values`` without dictionary encoding."""
    if pa.types.is_dictionary(values.type):
        return pc.cast(values, values.type.value_type)
    return values


def _distinct_refs(table: pa.Table) -> pa.Array:
    return pc.unique(_plain(pa.chunked_array([pc.unique(table.column("asset_ref"))])))


def _schema(columns: list[str], categories: bool) -> pa.Schema:
    """The dataset schema of ``columns``, strings as dictionaries for ``categories``."""
    fields = [SCHEMA.field(c) for c in columns]
    if categories:
        as_dict = pa.dictionary(pa.int32(), pa.string())
        fields = [f.with_type(as_dict) if f.type == pa.string() else f for f in fields]
    return pa.schema(fields)


def _empty(columns: list[str], categories: bool = False) -> pd.DataFrame:
    return _schema(columns, categories).empty_table().to_pandas(date_as_object=False)


def read_readings(
    dataset_dir: Path,
    *,
    channels: list[str] | None = None,
    start: Any = None,
    end: Any = None,
    asset_refs: list[str] | None = None,
    columns: list[str] | None = None,
    buckets: Iterable[int] | None = None,
    categories: bool = False,
) -> Any:
    """The daily readings as a lazy ``dask.dataframe.DataFrame``, one partition per bucket.

    Filters (``channels``, ``asset_refs``, ``start``/``end`` inclusive on ``day``) and the column
    selection are pushed down to pyarrow. ``buckets`` keeps whole buckets (every asset in them,
    no per-row test: cheaper than ``asset_refs`` when the caller wants most of their assets
    and ignores the others). ``categories`` gives ``asset_ref`` and ``channel`` as pandas
    categoricals, as stored (decoding them to strings is a fifth of a bucket's read, and a
    caller that groups by them would encode them again). Each partition holds whole assets.
    An empty or missing dataset gives an empty frame with the dataset's columns.

    >>> import tempfile, pathlib
    >>> read_readings(pathlib.Path(tempfile.mkdtemp())).compute().columns.tolist()
    ['asset_ref', 'channel', 'day', 'value', 'n']
    """
    import dask.dataframe as dd

    dataset_dir = Path(dataset_dir)
    columns = list(columns) if columns is not None else list(COLUMNS)
    unknown = [c for c in columns if c not in COLUMNS]
    if unknown:
        raise ReadingsStoreError(f"unknown readings column(s) {unknown}; columns are {COLUMNS}")
    folders = _bucket_dirs(dataset_dir)
    if asset_refs is not None:
        wanted = {f"bucket={bucket_of(r):02d}" for r in asset_refs}
        folders = [f for f in folders if f.name in wanted]
    if buckets is not None:
        chosen = {f"bucket={int(b):02d}" for b in buckets}
        folders = [f for f in folders if f.name in chosen]
    meta = _empty(columns, categories)
    if not folders:
        return dd.from_pandas(meta, npartitions=1)
    return dd.from_map(
        _read_bucket,
        folders,
        columns=columns,
        scan=_scan(channels, start, end, asset_refs),
        categories=categories,
        meta=meta,
        enforce_metadata=False,
        label="read-readings",
    )


def iter_part_files(dataset_dir: Path) -> Iterable[Path]:
    """Every part file of the dataset (for tests and maintenance tools)."""
    return sorted(Path(dataset_dir).glob("bucket=*/part-*.parquet"))
