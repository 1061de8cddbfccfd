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
returns for the same rows (tests compare the two). On a multi-node cluster ``folder`` must be on
a filesystem every worker sees, as the readings folder already is.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from asset_model.readings_store import N_BUCKETS, buckets_of, read_readings
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


def _day(c: pd.Timestamp) -> str:
    return f"{pd.Timestamp(c):%Y-%m-%d}"


def partition_buckets(asset_ref: pd.Series) -> np.ndarray:
    """The readings bucket of each asset."""
    refs = pa.array(asset_ref.astype("str").to_numpy(dtype=object), type=pa.string())
    return buckets_of(refs).astype(np.int64)


def partition_of(asset_ref: pd.Series, partitions: int) -> np.ndarray:
    """The store partition of each asset: its readings bucket, grouped modulo ``partitions``."""
    return partition_buckets(asset_ref) % partitions


def _partition_task(
    number: int,
    spec: StoreSpec,
    assets: pd.DataFrame,
    work_orders: pd.DataFrame,
    weather_key: pd.Series | None,
    dju: pd.DataFrame | None,
) -> dict[str, int]:
    """Pass 1 on one partition of assets: base features (+ labels, sample), one file per cutoff."""
    readings = None
    if spec.channels and spec.readings_dir is not None and len(assets):
        readings = read_readings(
            spec.readings_dir,
            channels=spec.channels,
            start=min(spec.cutoffs) - pd.Timedelta(days=LOOKBACK_DAYS),
            end=max(spec.cutoffs) - pd.Timedelta(days=1),
            # whole buckets: the partition holds (nearly) every asset of its buckets, and the
            # left join in base_features drops the others; cheaper than testing every row
            buckets=np.unique(partition_buckets(assets["asset_ref"])),
            columns=["asset_ref", "channel", "day", "value"],
        ).compute(scheduler="sync")
    frame = base_features(
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
    for cutoff, rows in frame.groupby("cutoff", sort=True):
        name = f"part-{number:03d}.parquet"
        for sub in ("cross", "rows"):
            (spec.folder / sub / _day(cutoff)).mkdir(parents=True, exist_ok=True)
        rows[cross_cols].to_parquet(spec.folder / "cross" / _day(cutoff) / name, index=False)
        if pd.Timestamp(cutoff) not in whole and rate < 1.0:
            rows = rows[rows["sampled"].to_numpy()]
        rows.to_parquet(spec.folder / "rows" / _day(cutoff) / name, index=False)
    return counts


def _read_dir(folder: Path, columns: list[str] | None = None) -> pd.DataFrame:
    files = sorted(folder.glob("part-*.parquet"))
    return pd.concat([pd.read_parquet(f, columns=columns) for f in files], ignore_index=True)


def _cutoff_task(cutoffs: list[pd.Timestamp], spec: StoreSpec) -> list[str]:
    """Pass 2 on a few cutoffs: building history and peer z over all their assets, joined.

    Groups never cross a cutoff, so a task may hold one cutoff (a large stock) or several
    (a small one: fewer, larger pandas operations).
    """
    days = [_day(c) for c in cutoffs]
    cross = pd.concat([_read_dir(spec.folder / "cross" / d) for d in days], ignore_index=True)
    cols = cross_asset_columns(cross, spec.channels, weather=spec.weather)
    key = pd.MultiIndex.from_arrays([cross["cutoff"], cross["asset_ref"].astype("str")])
    del cross
    rows = pd.concat([_read_dir(spec.folder / "rows" / d) for d in days], ignore_index=True)
    at = key.get_indexer(pd.MultiIndex.from_arrays([rows["cutoff"], rows["asset_ref"]]))
    # every row is in `cross`; rows stay unsorted (read_features sorts), one copy less
    joined = pd.DataFrame({n: cols[n].to_numpy()[at] for n in cols.columns}, index=rows.index)
    del cols, key
    rows = pd.concat([rows, joined], axis=1)
    names = KEY_COLUMNS + feature_columns(spec.channels, weather=spec.weather) + LABEL_COLUMNS
    written = []
    for cutoff, day in zip(cutoffs, days, strict=True):
        out = spec.folder / "features" / f"{day}.parquet"
        out.parent.mkdir(parents=True, exist_ok=True)
        part = rows[rows["cutoff"].to_numpy() == np.datetime64(pd.Timestamp(cutoff))]
        part[names].to_parquet(out, index=False, row_group_size=100_000)
        shutil.rmtree(spec.folder / "cross" / day, ignore_errors=True)
        shutil.rmtree(spec.folder / "rows" / day, ignore_errors=True)
        written.append(str(out))
    return written


def _compute(tasks: list[Any], client: Any) -> list[Any]:
    import dask

    if client is not None:
        return list(client.compute(tasks, sync=True))
    return list(dask.compute(*tasks, scheduler="threads"))


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
    if len(cutoffs) == 0:
        raise PredictError("no cutoff dates to build features for (is the history empty?)")
    if partitions < 1:
        raise PredictError(f"`partitions` must be at least 1. Got {partitions!r}.")
    import dask

    folder = Path(folder)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    cutoffs = sorted(pd.Timestamp(c) for c in cutoffs)
    weather = dju is not None and weather_key is not None
    if history_start is None and len(work_orders):
        history_start = pd.to_datetime(work_orders["opened_at"]).min()
    spec = StoreSpec(
        folder=folder,
        readings_dir=Path(readings_dir) if readings_dir is not None else None,
        cutoffs=cutoffs,
        channels=list(channels),
        weather=weather,
        buildings=buildings,
        statutory_days=statutory_days,
        drop_uninstalled=drop_uninstalled,
        history_start=history_start,
        horizon_days=horizon_days,
        history_end=history_end,
        sample=sample,
    )
    assets = assets[[c for c in assets.columns if c in ASSET_INPUTS]].reset_index(drop=True)
    work_orders = work_orders[[c for c in work_orders.columns if c in WORK_ORDER_INPUTS]]
    part_a = partition_of(assets["asset_ref"], partitions)
    ref_part = dict(zip(assets["asset_ref"].astype("str"), part_a, strict=True))
    wo_part = work_orders["asset_ref"].astype("str").map(ref_part).to_numpy()
    d_dju = dask.delayed(dju, pure=True) if weather else None
    d_spec = dask.delayed(spec, pure=True)
    tasks = []
    for k in range(partitions):
        mine = assets[part_a == k]
        if len(mine) == 0:
            continue
        key = None
        if weather:
            assert weather_key is not None
            key = weather_key.reindex(mine["asset_ref"].astype("str").unique())
        wo = work_orders[wo_part == k]
        tasks.append(dask.delayed(_partition_task)(k, d_spec, mine, wo, key, d_dju))
    counts = _compute(tasks, client)
    done = (
        sorted(p.name for p in (folder / "cross").glob("*")) if (folder / "cross").is_dir() else []
    )
    per_task = max(1, CROSS_ROWS_PER_TASK // max(len(assets), 1))
    groups = [done[i : i + per_task] for i in range(0, len(done), per_task)]
    stamps = [[pd.Timestamp(d) for d in g] for g in groups]
    _compute([dask.delayed(_cutoff_task)(g, d_spec) for g in stamps], client)
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
        counts={"partitions": len(tasks)},
    )
    meta: dict[str, Any] = dict(total)
    meta.update(cutoffs=[_day(c) for c in store.cutoffs], channels=store.channels)
    meta.update(weather=weather, sample_rate=store.sample_rate)
    (folder / "store.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
    return store


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
