"""What the readings dataset holds, from its Parquet footers, and its layout maintenance.

Part files written now hold one row group per (year, channel) (:func:`write_part_file`), so
the row-group statistics of ``channel`` (min = max) and ``day`` answer "which channels?" and
"which days?" without decoding a row. Files of the earlier layout (one row group holding every
channel and day) are still answered exactly: their groups are decoded, and only when their
statistics could change the answer. :func:`relayout_readings` rewrites such a dataset in the
new layout, file by file, keeping every file's name, so later writes still win.

Examples
--------
>>> import pandas as pd, tempfile, pathlib
>>> from asset_model.readings_store import write_daily
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> daily = pd.DataFrame({"asset_ref": ["B1", "B1"], "channel": ["cycles", "trips"],
...                       "day": pd.to_datetime(["2023-12-31", "2024-01-02"]), "value": [1., 2.]})
>>> write_daily(d, daily, file_key="demo")
2
>>> readings_channels(d), [str(t.date()) for t in readings_span(d, ["cycles", "trips"])]
(['cycles', 'trips'], ['2023-12-31', '2024-01-02'])
"""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from asset_model.readings_store import SCHEMA, iter_part_files, write_part_file

_CHANNEL = SCHEMA.get_field_index("channel")
_DAY = SCHEMA.get_field_index("day")


@dataclass(frozen=True)
class RowGroup:
    """One row group's footer facts: ``channel`` is set when the group holds only that one."""

    path: Path
    index: int
    rows: int
    channel: str | None
    day_min: dt.datetime | None
    day_max: dt.datetime | None


def row_groups(path: Path) -> list[RowGroup]:
    """The row groups of one part file, from its footer alone."""
    meta = pq.ParquetFile(path).metadata
    out = []
    for i in range(meta.num_row_groups):
        rg = meta.row_group(i)
        ch, day = rg.column(_CHANNEL).statistics, rg.column(_DAY).statistics
        single = ch is not None and ch.has_min_max and ch.min == ch.max and ch.null_count == 0
        lo = day.min if day is not None and day.has_min_max else None
        hi = day.max if day is not None and day.has_min_max else None
        out.append(RowGroup(path, i, rg.num_rows, ch.min if single else None, lo, hi))
    return out


def footer_groups(dataset_dir: Path) -> list[RowGroup]:
    """Every non-empty row group of the dataset, from its footers: read them once and pass
    them to :func:`readings_channels` and :func:`readings_span` (each reads every footer
    otherwise: 3,200 part files take seconds)."""
    return [g for path in iter_part_files(Path(dataset_dir)) for g in row_groups(path) if g.rows]


def _read_group(g: RowGroup, columns: list[str]) -> pa.Table:
    return pq.ParquetFile(g.path, read_dictionary=["channel"]).read_row_group(
        g.index, columns=columns
    )


def readings_channels(dataset_dir: Path, *, groups: list[RowGroup] | None = None) -> list[str]:
    """The distinct channel names present in the dataset, sorted.

    A one-channel row group names its channel in its statistics; a mixed one (earlier layout)
    gives its Parquet dictionary of ``channel``, not every row. ``groups``: the dataset's
    :func:`footer_groups`, when already read."""
    found: set[str] = set()
    for g in footer_groups(dataset_dir) if groups is None else groups:
        if g.channel is not None:
            found.add(g.channel)
            continue
        for chunk in _read_group(g, ["channel"]).column(0).chunks:
            if isinstance(chunk, pa.DictionaryArray):
                chunk = chunk.dictionary.take(pc.unique(chunk.indices).drop_null())
            found.update(pc.unique(chunk).to_pylist())
    return sorted(c for c in found if c is not None)


def readings_span(
    dataset_dir: Path, channels: list[str], *, groups: list[RowGroup] | None = None
) -> tuple[Any, Any]:
    """First and last reading day of ``channels`` (``(None, None)`` when none).

    One-channel groups answer from their ``day`` statistics. A mixed group is decoded only when
    its statistics reach outside the span found so far (its rows of ``channels`` lie inside
    them), so an earlier-layout dataset whose files all cover the same days decodes one group.
    Duplicate readings cannot move the span, so no de-duplication is needed. ``groups``: the
    dataset's :func:`footer_groups`, when already read."""
    wanted = set(channels)
    lo = hi = None
    mixed = []
    for g in footer_groups(dataset_dir) if groups is None else groups:
        if g.channel is None or g.day_min is None:
            mixed.append(g)
        elif g.channel in wanted:
            lo = g.day_min if lo is None else min(lo, g.day_min)
            hi = g.day_max if hi is None else max(hi, g.day_max)
    for g in mixed:
        if lo is not None and g.day_min is not None and lo <= g.day_min and g.day_max <= hi:
            continue  # cannot widen the span
        table = _read_group(g, ["channel", "day"])
        days = table.column("day").filter(pc.is_in(table.column("channel"), pa.array(channels)))
        mm = pc.min_max(days)
        if mm["min"].is_valid:
            lo = mm["min"].as_py() if lo is None else min(lo, mm["min"].as_py())
            hi = mm["max"].as_py() if hi is None else max(hi, mm["max"].as_py())
    return (pd.Timestamp(lo), pd.Timestamp(hi)) if lo is not None else (None, None)


def is_relaid(path: Path) -> bool:
    """True when every row group of the part holds one channel and one calendar year."""
    return all(
        g.channel is not None and g.day_min is not None and g.day_min.year == g.day_max.year
        for g in row_groups(path)
    )


def relayout_readings(dataset_dir: Path, out_dir: Path | None = None, *, threads: int = 2) -> int:
    """Rewrite the part files of the earlier layout in the (year, channel) row-group layout.

    Same rows, same file names (so the later write still wins when two files share a reading),
    each file written atomically; into ``out_dir`` (a copy, every file) or in place (only the
    files not yet in the new layout). Returns the files written."""
    dataset_dir = Path(dataset_dir)
    files = list(iter_part_files(dataset_dir))
    if out_dir is None:
        files = [f for f in files if not is_relaid(f)]

    def one(path: Path) -> None:
        target = path if out_dir is None else Path(out_dir) / path.relative_to(dataset_dir)
        target.parent.mkdir(parents=True, exist_ok=True)
        write_part_file(target, pq.read_table(path, schema=SCHEMA))

    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        list(pool.map(one, files))
    return len(files)
