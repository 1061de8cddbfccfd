"""The feature store: the feature frame computed partition by partition into Parquet.

At 100,000 dwellings (~650,000 to 1 M assets) × monthly cutoffs, the feature frame (~150 float
columns) weighs tens of GB: it never exists in one process. Two passes of independent Dask
tasks build it (in-process threads, a ``LocalCluster`` or a remote cluster: the same graph):

1. **per asset partition** (the readings store's buckets, ``crc32(asset_ref) % 64``, grouped
   into ``partitions``): static, history and reading-window features
   (:func:`~predict.features.build.base_features`) and, for training, the labels. For each
   cutoff it writes the few columns the cross-asset step needs, for every row
   (``cross/<cutoff>/part-NNN.parquet``), and the full rows of the sample
   (``rows/<cutoff>/part-NNN.parquet``: every row, or the rows a
   :class:`~predict.sampling.NegativeSample` keeps).
2. **per cutoff**: building history and peer z over all assets of that cutoff (every peer
   group lies within one cutoff), joined to the rows, written as
   ``features/<cutoff>.parquet``.

:func:`read_features` then returns exactly what :func:`~predict.features.build.build_features`
returns for the same rows (tests compare the two). :func:`features_at` (scoring: one cutoff)
runs pass 1 the same way and the rest in the calling process, straight to the frame; given a
:class:`PartitionMap`, it keeps pass 1's rows on the workers and maps each partition there. The
tasks themselves are in :mod:`predict.features.store_tasks`. On a multi-node cluster
``folder`` must be on a filesystem every worker sees, as the readings folder already is.
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import json
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from asset_model.readings_store import N_BUCKETS
from predict.errors import PredictError
from predict.features.build import cross_asset_columns, cross_asset_inputs, finish_features
from predict.features.store_tasks import (
    LABEL_COLUMNS,
    StoreSpec,
    apply_task,
    bucket_readings,
    columns_task,
    cutoff_task,
    day_name,
    joined_rows,
    partition_frame,
    partition_of,
    partition_task,
    window_span,
)
from predict.sampling import NegativeSample

#: The registry columns the features and labels read (static, history, peers, labels): only
#: these travel in the task graph. The others (names, places, serial numbers, file paths, work
#: order texts) made it 450 MiB for the 644,401 assets of a 100,000-dwelling stock.
ASSET_INPUTS = [
    "asset_id",
    "asset_ref",
    "category",
    "serves",
    "status",
    "building_id",
    "building_ref",
    "year_built",
    "dwelling_id",
    "type_name",
    "manufacturer",
    "model",
    "installed_on",
    "expected_life_years",
]
WORK_ORDER_INPUTS = ["asset_id", "asset_ref", "kind", "opened_at"]
#: Rows per cross-asset task (pass 2): one cutoff of a large stock, several of a small one.
CROSS_ROWS_PER_TASK = 200_000
#: Partitions read ahead at most: each holds its readings window in worker memory until its
#: pass-1 task runs (~200 MB for 60,000 assets; a larger stock reads the rest in its tasks).
READ_AHEAD_PARTITIONS = 16


@dataclass(frozen=True)
class FeatureStore:
    """A written store: where, which cutoffs and channels, and how many rows."""

    folder: Path
    cutoffs: list[pd.Timestamp]
    channels: list[str]
    weather: bool
    rows: int
    sampled: int
    positives: int
    sample_rate: float = 1.0
    counts: dict[str, Any] = field(default_factory=dict)

    def path_of(self, cutoff: pd.Timestamp) -> Path:
        return self.folder / "features" / f"{pd.Timestamp(cutoff):%Y-%m-%d}.parquet"


def warm_workers(client: Any) -> None:
    """Have every worker import the task modules now, without waiting: the imports (LightGBM,
    scikit-learn, numba kernels) take each worker ~6 s, which the first tasks otherwise wait
    for; started first, they run while the caller reads the registry."""
    if client is not None:  # in a thread of each worker: its event loop keeps answering
        load = functools.partial(
            asyncio.to_thread, importlib.import_module, "predict.features.store_tasks"
        )
        client.run(load, wait=False)


@dataclass(frozen=True)
class ReadAhead:
    """Readings being read on the workers before pass 1 needs them: per partition, a future
    of its buckets' frames, and the partitioning, channels and days they cover."""

    partitions: int
    channels: list[str]
    start: pd.Timestamp
    end: pd.Timestamp
    futures: dict[int, Any]

    def covers(self, spec: StoreSpec, partitions: int) -> bool:
        start, end = window_span(spec.cutoffs)
        return (
            partitions == self.partitions
            and set(spec.channels) <= set(self.channels)
            and self.start <= start
            and end <= self.end
        )


def read_ahead(
    client: Any,
    readings_dir: Path,
    channels: Sequence[str],
    cutoff: pd.Timestamp,
    partitions: int,
    *,
    limit: int = READ_AHEAD_PARTITIONS,
) -> ReadAhead | None:
    """Start reading, on the workers, the readings the features at ``cutoff`` will need, for
    the first ``limit`` of ``partitions``, and return at once: the caller does something else
    meanwhile (scoring reads the registry, a third of its time on a million assets, while the
    workers would wait). :func:`features_at` given the result uses what it covers and reads
    the rest itself. None without a cluster (nothing would run meanwhile) or channels."""
    if client is None or not channels or readings_dir is None:
        return None
    start, end = window_span([pd.Timestamp(cutoff)])
    buckets = np.arange(N_BUCKETS)
    futures = {
        k: client.submit(
            bucket_readings,
            Path(readings_dir),
            list(channels),
            start,
            end,
            buckets[buckets % partitions == k],
        )
        for k in range(min(partitions, limit))
    }
    return ReadAhead(partitions, list(channels), start, end, futures)


def _compute(tasks: list[Any], client: Any) -> list[Any]:
    import dask

    if client is not None:
        return list(client.compute(tasks, sync=True))
    return list(dask.compute(*tasks, scheduler="threads"))


def _persist(tasks: list[Any], client: Any) -> list[Any]:
    """Run ``tasks`` and keep their results where they are: futures on the cluster's workers
    (handed to later tasks, never gathered here), or the values themselves in-process."""
    if client is not None:
        return list(client.compute(tasks))
    return _compute(tasks, None)


def _start(
    folder: Path,
    readings_dir: Path | None,
    cutoffs: Sequence[pd.Timestamp],
    work_orders: pd.DataFrame,
    *,
    partitions: int = 1,
    **options: Any,
) -> StoreSpec:
    """Check the inputs, empty ``folder`` and describe the store for its tasks.

    ``history_start`` defaults to the first work order, as in ``build_features``."""
    if len(cutoffs) == 0:
        raise PredictError("no cutoff dates to build features for (is the history empty?)")
    if partitions < 1:
        raise PredictError(f"`partitions` must be at least 1. Got {partitions!r}.")
    folder = Path(folder)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    if options.get("history_start") is None and len(work_orders):
        options["history_start"] = pd.to_datetime(work_orders["opened_at"]).min()
    return StoreSpec(
        folder=folder,
        readings_dir=Path(readings_dir) if readings_dir is not None else None,
        cutoffs=sorted(pd.Timestamp(c) for c in cutoffs),
        **options,
    )


def _delayed(value: Any) -> Any:
    import dask

    return dask.delayed(value, pure=True)


def _pass_one(
    spec: StoreSpec,
    assets: pd.DataFrame,
    work_orders: pd.DataFrame,
    weather_key: pd.Series | None,
    dju: pd.DataFrame | None,
    partitions: int,
    ahead: ReadAhead | None,
    *,
    in_memory: bool = False,
) -> list[Any]:
    """Pass 1's delayed tasks, one per non-empty partition: :func:`partition_task` (files
    written, row counts returned) or, ``in_memory``, :func:`partition_frame` (the rows)."""
    import dask

    assets = assets[[c for c in assets.columns if c in ASSET_INPUTS]].reset_index(drop=True)
    work_orders = work_orders[[c for c in work_orders.columns if c in WORK_ORDER_INPUTS]]
    part_a = partition_of(assets["asset_ref"], partitions)
    wo_part = _work_order_partitions(assets["asset_ref"], part_a, work_orders["asset_ref"])
    d_dju = _delayed(dju) if spec.weather else None
    d_spec = _delayed(spec)
    tasks = []
    covered = ahead is not None and ahead.covers(spec, partitions)
    # one stable sort, then slices: 64 boolean masks over a million rows cost seconds
    a_rows, a_ends = _groups(part_a, partitions)
    w_rows, w_ends = _groups(wo_part, partitions)
    for k in range(partitions):
        mine = assets.take(a_rows[a_ends[k] : a_ends[k + 1]])
        if len(mine) == 0:
            continue
        key = None
        if spec.weather:
            assert weather_key is not None
            key = weather_key.reindex(mine["asset_ref"].astype("str").unique())
        wo = work_orders.take(w_rows[w_ends[k] : w_ends[k + 1]])
        readings = ahead.futures.get(k) if covered else None
        args = (d_spec, mine, wo, key, d_dju, readings)
        if in_memory:
            tasks.append(dask.delayed(partition_frame)(*args))
        else:
            tasks.append(dask.delayed(partition_task)(k, *args))
    return tasks


def _work_order_partitions(
    asset_ref: pd.Series, part_a: np.ndarray, wo_ref: pd.Series
) -> np.ndarray:
    """The partition of each work order's asset (−1 for an asset not in ``asset_ref``); a
    repeated ``asset_ref`` counts where it last appears."""
    refs = pd.Index(asset_ref.astype("str"))
    if not refs.is_unique:
        last = ~refs.duplicated(keep="last")
        refs, part_a = refs[last], part_a[last]
    at = refs.get_indexer(wo_ref.astype("str"))
    if len(refs) == 0:
        return at  # all −1
    return np.where(at >= 0, part_a[np.maximum(at, 0)], -1)


def _groups(labels: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Row positions sorted by label (stable) and where each label 0..n−1 starts and ends."""
    rows = np.argsort(labels, kind="stable")
    ends = np.searchsorted(labels[rows], np.arange(n + 1), side="left")
    return rows, ends


def write_feature_store(
    folder: Path,
    assets: pd.DataFrame,
    work_orders: pd.DataFrame,
    readings_dir: Path | None,
    cutoffs: Sequence[pd.Timestamp],
    *,
    channels: Sequence[str] = (),
    buildings: pd.DataFrame | None = None,
    dju: pd.DataFrame | None = None,
    weather_key: pd.Series | None = None,
    statutory_days: Mapping[str, float] | None = None,
    drop_uninstalled: bool = True,
    history_start: pd.Timestamp | None = None,
    horizon_days: int | None = None,
    history_end: pd.Timestamp | None = None,
    sample: NegativeSample | None = None,
    partitions: int = N_BUCKETS,
    client: Any = None,
) -> FeatureStore:
    """Compute the features of ``assets`` at ``cutoffs`` partition by partition into ``folder``.

    Same inputs as :func:`~predict.features.build.build_features` (``readings_dir`` instead of
    the readings frame; ``history_start`` defaults to the first work order, as there). With
    ``horizon_days`` the rows also get their labels (:func:`~predict.labels.make_labels` up to
    ``history_end``); with ``sample`` only its rows are kept (every row of its
    ``full_cutoffs``). Peak memory is one partition's readings and features, or one cutoff's
    rows, whichever is larger; never the whole frame. ``folder`` is emptied first.
    """
    import dask

    spec = _start(
        folder,
        readings_dir,
        cutoffs,
        work_orders,
        partitions=partitions,
        weather=dju is not None and weather_key is not None,
        channels=list(channels),
        buildings=buildings,
        statutory_days=statutory_days,
        drop_uninstalled=drop_uninstalled,
        history_start=history_start,
        horizon_days=horizon_days,
        history_end=history_end,
        sample=sample,
    )
    folder, weather = spec.folder, spec.weather
    tasks = _pass_one(spec, assets, work_orders, weather_key, dju, partitions, None)
    counts = _compute(tasks, client)
    d_spec = _delayed(spec)
    done = (
        sorted(p.name for p in (folder / "cross").glob("*")) if (folder / "cross").is_dir() else []
    )
    per_task = max(1, CROSS_ROWS_PER_TASK // max(len(assets), 1))
    groups = [done[i : i + per_task] for i in range(0, len(done), per_task)]
    stamps = [[pd.Timestamp(d) for d in g] for g in groups]
    _compute([dask.delayed(cutoff_task)(g, d_spec) for g in stamps], client)
    for sub in ("cross", "rows"):
        shutil.rmtree(folder / sub, ignore_errors=True)
    total = {k: int(sum(c[k] for c in counts)) for k in ("rows", "sampled", "positives")}
    store = FeatureStore(
        folder=folder,
        cutoffs=[pd.Timestamp(d) for d in done],
        channels=list(channels),
        weather=weather,
        rows=total["rows"],
        sampled=total["sampled"],
        positives=total["positives"],
        sample_rate=sample.rate if sample is not None else 1.0,
        counts={"partitions": len(counts)},
    )
    meta: dict[str, Any] = dict(total)
    meta.update(cutoffs=[day_name(c) for c in store.cutoffs], channels=store.channels)
    meta.update(weather=weather, sample_rate=store.sample_rate)
    (folder / "store.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
    return store


def features_at(
    folder: Path,
    assets: pd.DataFrame,
    work_orders: pd.DataFrame,
    readings_dir: Path | None,
    cutoff: pd.Timestamp,
    *,
    channels: Sequence[str] = (),
    buildings: pd.DataFrame | None = None,
    dju: pd.DataFrame | None = None,
    weather_key: pd.Series | None = None,
    statutory_days: Mapping[str, float] | None = None,
    drop_uninstalled: bool = True,
    history_start: pd.Timestamp | None = None,
    partitions: int = N_BUCKETS,
    client: Any = None,
    ordered: bool = True,
    ahead: ReadAhead | None = None,
    apply: PartitionMap | None = None,
) -> pd.DataFrame:
    """The features at one cutoff: ``read_features(write_feature_store(..., [cutoff], ...))``.

    Pass 1 is the store's, on the workers; the cross-asset pass, the join and the sort then
    run here on the pass-1 files. With one cutoff there is nothing to keep for later reads, so
    the joined rows (~200 columns) are neither written to ``features/`` nor read back (what
    scoring does; training keeps its many cutoffs in the store). ``folder`` is emptied first
    and left empty. ``ordered=False`` leaves the rows in no particular order (scoring sorts
    its output instead). ``ahead``: readings already being read (:func:`read_ahead`).
    ``apply``: the features are not gathered; pass 1's rows stay in the memory of the
    workers that computed them (nothing is written), and each partition's features go
    through ``apply.fn`` there; what it returns is gathered (see :class:`PartitionMap`).

    Examples
    --------
    >>> f = features_at(folder, assets, work_orders, readings_dir, cutoff)  # doctest: +SKIP
    """
    spec = _start(
        folder,
        readings_dir,
        [cutoff],
        work_orders,
        partitions=partitions,
        weather=dju is not None and weather_key is not None,
        channels=list(channels),
        buildings=buildings,
        statutory_days=statutory_days,
        drop_uninstalled=drop_uninstalled,
        history_start=history_start,
    )
    if apply is not None:
        tasks = _pass_one(
            spec, assets, work_orders, weather_key, dju, partitions, ahead, in_memory=True
        )
        return _apply(spec, tasks, apply, client)
    _compute(_pass_one(spec, assets, work_orders, weather_key, dju, partitions, ahead), client)
    day = day_name(spec.cutoffs[0])
    if not (spec.folder / "cross" / day).is_dir():
        raise PredictError(f"the feature store {spec.folder} has no rows for these cutoffs")
    frame = joined_rows([day], spec)
    frame["cutoff"] = frame["cutoff"].astype("datetime64[ns]")
    out = finish_features(frame, spec.channels, weather=spec.weather, ordered=ordered)
    for sub in ("cross", "rows"):
        shutil.rmtree(spec.folder / sub, ignore_errors=True)
    return out


@dataclass(frozen=True)
class PartitionMap:
    """What to do with each partition's features on the workers instead of gathering them
    (``features_at(..., apply=...)``; scoring a million assets: the ~200 columns never reach
    the caller). ``prepare`` runs first in the caller on ``columns`` of every row and gives
    the ``context`` that ``fn(features, context)`` then gets with every partition."""

    fn: Callable[[pd.DataFrame, Any], pd.DataFrame]
    columns: list[str] = field(default_factory=list)
    prepare: Callable[[pd.DataFrame], Any] | None = None


def _apply(spec: StoreSpec, tasks: list[Any], apply: PartitionMap, client: Any) -> pd.DataFrame:
    """Pass 1's rows kept where they were computed (on the workers), never written: the
    cross-asset columns here from a few columns of every row (they need every row), then
    ``apply.fn`` on each partition's rows joined to theirs, where the rows are."""
    import dask

    frames = _persist(tasks, client)
    inputs = cross_asset_inputs(spec.channels, weather=spec.weather)
    wanted = list(dict.fromkeys(inputs + list(apply.columns)))
    small = _compute([dask.delayed(columns_task)(f, wanted) for f in frames], client)
    if not small or sum(len(p) for p in small) == 0:
        raise PredictError("no asset to compute features for at this cutoff")
    ends = np.cumsum([len(p) for p in small])
    every = pd.concat(small, ignore_index=True)
    del small
    cols = cross_asset_columns(every[inputs], spec.channels, weather=spec.weather)
    context = None
    if apply.prepare is not None:
        context = apply.prepare(every[list(apply.columns)])
    d_spec, d_fn, d_context = _delayed(spec), _delayed(apply.fn), _delayed(context)
    tasks = [
        dask.delayed(apply_task)(f, cols.iloc[end - n : end], d_spec, d_fn, d_context)
        for f, end, n in zip(frames, ends, np.diff(ends, prepend=0), strict=True)
    ]
    parts = _compute(tasks, client)
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]


def read_features(
    store: FeatureStore,
    *,
    cutoffs: Sequence[pd.Timestamp] | None = None,
    sampled_only: bool = True,
    labels: bool = False,
) -> pd.DataFrame:
    """The store's rows as :func:`~predict.features.build.build_features` returns them.

    ``sampled_only`` reads only the rows of the sample (all rows when nothing was sampled);
    ``labels`` keeps the ``failed, observed, sampled, weight`` columns at the end.
    """
    wanted = store.cutoffs if cutoffs is None else [pd.Timestamp(c) for c in cutoffs]
    parts = []
    for c in wanted:
        path = store.path_of(c)
        if not path.is_file():
            continue
        filters = [("sampled", "==", True)] if sampled_only else None
        parts.append(pd.read_parquet(path, filters=filters))
    if not parts:
        raise PredictError(f"the feature store {store.folder} has no rows for these cutoffs")
    frame = pd.concat(parts, ignore_index=True)
    frame["cutoff"] = frame["cutoff"].astype("datetime64[ns]")
    if not labels:  # finish_features sorts the rows: sorting here too copies 200 columns twice
        return finish_features(frame, store.channels, weather=store.weather)
    frame = frame.sort_values(["cutoff", "asset_ref"], kind="stable").reset_index(drop=True)
    out = finish_features(frame, store.channels, weather=store.weather)
    return pd.concat([out, frame[LABEL_COLUMNS]], axis=1)
