"""What one feature-store task does: pass 1 on a partition of assets, pass 2 on cutoffs.

Pandas in, Parquet out (:mod:`predict.features.store` wires the tasks with Dask). Pass 1 writes,
per cutoff, the columns the cross-asset features need for every row (``cross/``) and the rows
kept (``rows/``); pass 2 joins the cross-asset columns to the rows (``features/``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dask
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from asset_model.readings_store import buckets_of, read_readings
from predict.errors import PredictError
from predict.features.build import (
    KEY_COLUMNS,
    base_features,
    cross_asset_columns,
    cross_asset_inputs,
    feature_columns,
    finish_features,
)
from predict.features.readings import LOOKBACK_DAYS
from predict.labels import make_labels
from predict.sampling import NegativeSample, row_weights, sampled_rows

#: Columns the store adds after the features: labels, the sample flag and each row's weight.
LABEL_COLUMNS = ["failed", "observed", "sampled", "weight"]


@dataclass(frozen=True)
class StoreSpec:
    """What every task needs to know (small; shipped once with the graph)."""

    folder: Path
    readings_dir: Path | None
    cutoffs: list[pd.Timestamp]
    channels: list[str]
    weather: bool
    buildings: pd.DataFrame | None = None
    statutory_days: Mapping[str, float] | None = None
    drop_uninstalled: bool = True
    history_start: pd.Timestamp | None = None
    horizon_days: int | None = None
    history_end: pd.Timestamp | None = None
    sample: NegativeSample | None = None


def day_name(c: pd.Timestamp) -> str:
    return f"{pd.Timestamp(c):%Y-%m-%d}"


def partition_buckets(asset_ref: pd.Series) -> np.ndarray:
    """The readings bucket of each asset."""
    refs = pa.array(asset_ref.astype("str").array, type=pa.string())  # Arrow-backed: no copy
    return buckets_of(refs).astype(np.int64)


def partition_of(asset_ref: pd.Series, partitions: int) -> np.ndarray:
    """The store partition of each asset: its readings bucket, grouped modulo ``partitions``."""
    return partition_buckets(asset_ref) % partitions


def window_span(cutoffs: list[pd.Timestamp]) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The first and last reading day the window features of ``cutoffs`` read."""
    return min(cutoffs) - pd.Timedelta(days=LOOKBACK_DAYS), max(cutoffs) - pd.Timedelta(days=1)


def bucket_readings(
    readings_dir: Path, channels: list[str], start: pd.Timestamp, end: pd.Timestamp, buckets: Any
) -> list[pd.DataFrame]:
    """The readings of whole ``buckets`` from ``start`` to ``end``, one frame per bucket
    (disjoint assets, never concatenated: see ``readings_features``)."""
    lazy = read_readings(
        readings_dir,
        channels=channels,
        start=start,
        end=end,
        buckets=buckets,
        columns=["asset_ref", "channel", "day", "value"],
        categories=True,  # the window features encode them anyway
    ).to_delayed()
    return list(dask.compute(*lazy, scheduler="sync"))


def partition_frame(
    spec: StoreSpec,
    assets: pd.DataFrame,
    work_orders: pd.DataFrame,
    weather_key: pd.Series | None,
    dju: pd.DataFrame | None,
    readings: list[pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """Pass 1's features on one partition of assets, at every cutoff of ``spec``.

    ``readings``: the partition's buckets when they were read ahead (their days and channels
    may reach beyond what the features read: the windows keep only theirs); else read here."""
    if readings is None and spec.channels and spec.readings_dir is not None and len(assets):
        # whole buckets: the partition holds (nearly) every asset of its buckets, and the
        # left join in base_features drops the others; cheaper than testing every row
        buckets = np.unique(partition_buckets(assets["asset_ref"]))
        readings = bucket_readings(
            spec.readings_dir, spec.channels, *window_span(spec.cutoffs), buckets
        )
    return base_features(
        assets,
        work_orders,
        readings,
        spec.cutoffs,
        buildings=spec.buildings,
        channels=spec.channels,
        dju=dju if spec.weather else None,
        weather_key=weather_key if spec.weather else None,
        statutory_days=spec.statutory_days,
        drop_uninstalled=spec.drop_uninstalled,
        history_start=spec.history_start,
    )


def partition_task(
    number: int,
    spec: StoreSpec,
    assets: pd.DataFrame,
    work_orders: pd.DataFrame,
    weather_key: pd.Series | None,
    dju: pd.DataFrame | None,
    readings: list[pd.DataFrame] | None = None,
) -> dict[str, int]:
    """Pass 1 on one partition of assets: :func:`partition_frame` (+ labels, sample), one
    file per cutoff."""
    frame = partition_frame(spec, assets, work_orders, weather_key, dju, readings)
    del readings
    n = len(frame)
    failed, observed = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    if spec.horizon_days is not None:
        labels = make_labels(
            frame, work_orders, horizon_days=spec.horizon_days, history_end=spec.history_end
        )
        failed, observed = labels["failed"].to_numpy(), labels["observed"].to_numpy()
    rate = spec.sample.rate if spec.sample is not None else 1.0
    seed = spec.sample.seed if spec.sample is not None else 0
    sampled = sampled_rows(frame["asset_ref"], frame["cutoff"], failed, rate, seed)
    extra = {
        "failed": failed,
        "observed": observed,
        "sampled": sampled,
        "weight": np.where(sampled, row_weights(failed, rate), 0.0),
    }
    frame = pd.concat([frame, pd.DataFrame(extra, index=frame.index)], axis=1)
    whole = {pd.Timestamp(c) for c in (spec.sample.full_cutoffs if spec.sample else ())}
    cross_cols = cross_asset_inputs(spec.channels, weather=spec.weather)
    counts = {"rows": len(frame), "sampled": int(frame["sampled"].sum())}
    counts["positives"] = int(frame["failed"].sum())
    cut = frame["cutoff"].to_numpy()
    days = np.unique(cut)
    for cutoff in days:
        name = f"part-{number:03d}.parquet"
        for sub in ("cross", "rows"):
            (spec.folder / sub / day_name(cutoff)).mkdir(parents=True, exist_ok=True)
        # one cutoff (scoring): the whole frame, not a copy of its ~200 columns
        rows = frame if len(days) == 1 else frame[cut == cutoff]
        # to Arrow once for both files, on this thread (pandas' to_parquet starts a pool)
        table = pa.Table.from_pandas(rows, preserve_index=False, nthreads=1)
        pq.write_table(table.select(cross_cols), spec.folder / "cross" / day_name(cutoff) / name)
        if pd.Timestamp(cutoff) not in whole and rate < 1.0:
            table = table.filter(pa.array(rows["sampled"].to_numpy()))
        pq.write_table(table, spec.folder / "rows" / day_name(cutoff) / name)
    return counts


def read_parts(folders: list[Path], columns: list[str] | None = None) -> pd.DataFrame:
    """The part files of ``folders``, in partition order, as one frame: read as one Arrow
    table and converted once (a frame per file then ``pd.concat`` copied a million rows
    twice), a block per column (pandas' one block of ~200 float columns is then copied by
    every column selection: 3 s for a million rows)."""
    files = [f for folder in folders for f in sorted(folder.glob("part-*.parquet"))]
    if not files:
        names = ", ".join(str(f) for f in folders)
        raise PredictError(f"the feature store has no part files under {names}")
    tables = [pq.read_table(f, columns=columns) for f in files]
    # a column all missing in one part is typed null there: promoted to the others' type
    return pa.concat_tables(tables, promote_options="default").to_pandas(split_blocks=True)


def _whole(spec: StoreSpec, day: str) -> bool:
    """Whether pass 1 kept every row of this cutoff (nothing sampled out), as
    :func:`partition_task` decides it."""
    if spec.sample is None or spec.sample.rate >= 1.0:
        return True
    return pd.Timestamp(day) in {pd.Timestamp(c) for c in spec.sample.full_cutoffs}


def joined_rows(days: list[str], spec: StoreSpec) -> pd.DataFrame:
    """The pass-1 rows of these cutoffs with their cross-asset columns (rows unsorted).

    When no row was sampled out (scoring, the test cutoffs, a small stock), ``rows/`` holds
    the rows of ``cross/`` in the same order (each task writes both from one frame): the
    cross-asset columns are computed on the rows themselves, in that same order, and the
    ``cross/`` files are not read nor the rows matched to them (a third of the one-cutoff
    tail on a million assets)."""
    if all(_whole(spec, d) for d in days):
        rows = read_parts([spec.folder / "rows" / d for d in days])
        cols = cross_asset_columns(rows, spec.channels, weather=spec.weather)
        return pd.concat([rows, cols], axis=1)
    cross = read_parts([spec.folder / "cross" / d for d in days])
    cols = cross_asset_columns(cross, spec.channels, weather=spec.weather)
    key = pd.MultiIndex.from_arrays([cross["cutoff"], cross["asset_ref"].astype("str")])
    del cross
    rows = read_parts([spec.folder / "rows" / d for d in days])
    at = key.get_indexer(pd.MultiIndex.from_arrays([rows["cutoff"], rows["asset_ref"]]))
    # every row is in `cross`; rows stay unsorted (finish_features sorts), one copy less
    joined = pd.DataFrame({n: cols[n].to_numpy()[at] for n in cols.columns}, index=rows.index)
    del cols, key
    return pd.concat([rows, joined], axis=1)


def cutoff_task(cutoffs: list[pd.Timestamp], spec: StoreSpec) -> list[str]:
    """Pass 2 on a few cutoffs: building history and peer z over all their assets, joined.

    Groups never cross a cutoff, so a task may hold one cutoff (a large stock) or several
    (a small one: fewer, larger pandas operations). Its inputs stay (the store removes them
    after the pass): a task run again, after its worker was lost, finds them.
    """
    days = [day_name(c) for c in cutoffs]
    rows = joined_rows(days, spec)
    names = KEY_COLUMNS + feature_columns(spec.channels, weather=spec.weather) + LABEL_COLUMNS
    written = []
    for cutoff, day in zip(cutoffs, days, strict=True):
        out = spec.folder / "features" / f"{day}.parquet"
        out.parent.mkdir(parents=True, exist_ok=True)
        part = rows[rows["cutoff"].to_numpy() == np.datetime64(pd.Timestamp(cutoff))]
        part[names].to_parquet(out, index=False, row_group_size=100_000)
        written.append(str(out))
    return written


def columns_task(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """A few columns of one partition's pass-1 rows (what the caller needs of every row)."""
    return frame[columns]


def apply_task(
    frame: pd.DataFrame,
    cross_columns: pd.DataFrame,
    spec: StoreSpec,
    fn: Callable[[pd.DataFrame, Any], pd.DataFrame],
    context: Any,
) -> pd.DataFrame:
    """One partition's pass-1 rows at one cutoff with their cross-asset columns, in the same
    order, finished as the features are and given to ``fn`` with ``context``."""
    joined = pd.concat([frame, cross_columns.set_axis(frame.index)], axis=1)
    joined["cutoff"] = joined["cutoff"].astype("datetime64[ns]")
    return fn(finish_features(joined, spec.channels, weather=spec.weather, ordered=False), context)
