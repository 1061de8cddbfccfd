"""Daily aggregation of raw readings in bounded memory: partial sums per batch, spilled per bucket.

Each batch of raw readings becomes partial (sum, count) per (asset_ref, channel, day). Partials
are held in memory up to :data:`SPILL_ROWS` rows, then written per bucket to a hidden temporary
folder inside the dataset; at the end each bucket's partials are combined (sum for counters and
energies, mean for the rest) and written as that bucket's part file.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from asset_model.readings_store import (
    SCHEMA,
    aggregation_of,
    buckets_of,
    write_bucket_part,
    write_buckets,
)

KEYS = ["asset_ref", "channel", "day"]
SPILL_ROWS = 500_000  # partial daily rows held in memory before spilling to disk
_PARTIAL = pa.schema(
    [
        ("asset_ref", pa.string()),
        ("channel", pa.string()),
        ("day", pa.timestamp("ms")),
        ("value_sum", pa.float64()),
        ("value_count", pa.int64()),
    ]
)


def partial_daily(t: pa.Table) -> pa.Table:
    g = t.group_by(KEYS, use_threads=False).aggregate([("value", "sum"), ("value", "count")])
    return g.select(["asset_ref", "channel", "day", "value_sum", "value_count"]).cast(_PARTIAL)


def final_daily(partials: pa.Table) -> pa.Table:
    g = partials.group_by(KEYS, use_threads=False).aggregate(
        [("value_sum", "sum"), ("value_count", "sum")]
    )
    channels = g.column("channel").combine_chunks()
    encoded = pc.dictionary_encode(channels)
    is_sum_by_channel = np.array(
        [aggregation_of(c) == "sum" for c in encoded.dictionary.to_pylist()], dtype=bool
    )
    is_sum = is_sum_by_channel[encoded.indices.to_numpy(zero_copy_only=False)]
    total = g.column("value_sum_sum").to_numpy()
    count = g.column("value_count_sum").to_numpy()
    value = np.where(is_sum, total, total / np.maximum(count, 1))
    return pa.table(
        {
            "asset_ref": g.column("asset_ref"),
            "channel": g.column("channel"),
            "day": g.column("day"),
            "value": pa.array(value, pa.float64()),
            "n": pa.array(count.astype(np.int32), pa.int32()),
        },
        schema=SCHEMA,
    )


class DailySpill:
    """Partial aggregates, in memory up to :data:`SPILL_ROWS`, then per bucket on disk."""

    def __init__(self, dataset_dir: Path) -> None:
        self.dataset_dir = dataset_dir
        self.memory: list[pa.Table] = []
        self.held = 0
        self.folder: Path | None = None
        self.writers: dict[int, pq.ParquetWriter] = {}

    def add(self, partial: pa.Table) -> None:
        self.memory.append(partial)
        self.held += partial.num_rows
        if self.held >= SPILL_ROWS:
            self._flush()

    def _flush(self) -> None:
        if not self.memory:
            return
        if self.folder is None:
            self.dataset_dir.mkdir(parents=True, exist_ok=True)
            self.folder = Path(tempfile.mkdtemp(prefix=".import-", dir=self.dataset_dir))
        t = pa.concat_tables(self.memory)
        self.memory, self.held = [], 0
        buckets = buckets_of(t.column("asset_ref"))
        order = np.argsort(buckets, kind="stable")
        t = t.take(pa.array(order))
        b = buckets[order]
        present = np.unique(b)
        starts = np.searchsorted(b, present, side="left")
        ends = np.searchsorted(b, present, side="right")
        for bucket, s, e in zip(present, starts, ends, strict=True):
            writer = self.writers.get(int(bucket))
            if writer is None:
                writer = pq.ParquetWriter(self.folder / f"{int(bucket):02d}.parquet", _PARTIAL)
                self.writers[int(bucket)] = writer
            writer.write_table(t.slice(int(s), int(e - s)))

    def write(self, *, file_key: str, seq: str) -> int:
        """Aggregate everything and write the dataset's part files; returns the daily rows."""
        if self.folder is None:
            if not self.memory:
                return 0
            daily = final_daily(pa.concat_tables(self.memory))
            self.memory = []
            return write_buckets(self.dataset_dir, daily, file_key=file_key, seq=seq)
        self._flush()
        for writer in self.writers.values():
            writer.close()
        written = 0
        for bucket in sorted(self.writers):
            daily = final_daily(pq.read_table(self.folder / f"{bucket:02d}.parquet"))
            daily = daily.sort_by([(k, "ascending") for k in KEYS])
            write_bucket_part(self.dataset_dir, bucket, daily, file_key=file_key, seq=seq)
            written += daily.num_rows
        return written

    def close(self) -> None:
        for writer in self.writers.values():
            with contextlib.suppress(OSError, pa.ArrowException):
                writer.close()
        self.writers = {}
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
