"""Wire the feature families into one frame: one row per (asset, monthly cutoff).

Readings go through Dask (``map_partitions`` with explicit ``meta``) so the same code runs
in-process, on a ``LocalCluster`` or on a remote cluster; the registry side (static, history) is
small and runs in pandas. The result is materialised once, here, as a pandas frame.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from predict.errors import PredictError
from predict.features.history import HISTORY_COLUMNS, history_features
from predict.features.peers import (
    BUILDING_COLUMNS,
    FRAILTY_COLUMNS,
    building_history,
    frailty_features,
    peer_features,
)
from predict.features.readings import (
    channel_columns,
    is_energy_like,
    reading_window_features,
    readings_meta,
)
from predict.features.static import CATEGORICAL_COLUMNS, STATIC_NUMERIC, static_features

KEY_COLUMNS = ["asset_id", "asset_ref", "cutoff", "building_id"]
#: Weather channels: used for degree days, never as an asset's own features.
WEATHER_CHANNELS = ("outdoor_temp_c",)
#: Per-channel features that also get a peer robust z.
PEER_SUFFIXES = ("mean30", "ratio30_prev90", "trend90", "wn_ratio30")


def monthly_cutoffs(start: Any, end: Any) -> list[pd.Timestamp]:
    """First-of-month cutoffs from the first 1st on/after ``start`` to ``end`` (inclusive).

    >>> [c.strftime("%Y-%m-%d") for c in monthly_cutoffs("2024-01-15", "2024-04-01")]
    ['2024-02-01', '2024-03-01', '2024-04-01']
    """
    first = pd.Timestamp(start).normalize()
    if first.day != 1:
        first = (first + pd.offsets.MonthBegin(1)).normalize()
    return list(pd.date_range(first, pd.Timestamp(end), freq="MS"))


def feature_columns(channels: Sequence[str], *, weather: bool) -> list[str]:
    """The ordered model feature names for these channels (without keys)."""
    cols = list(STATIC_NUMERIC) + list(CATEGORICAL_COLUMNS) + list(HISTORY_COLUMNS)
    cols += list(BUILDING_COLUMNS) + list(FRAILTY_COLUMNS)
    per_channel = channel_columns(channels, weather=weather)
    cols += per_channel
    cols += [f"{c}__peer_z" for c in per_channel if c.split("__")[1] in PEER_SUFFIXES]
    return cols


def _skeleton(
    assets: pd.DataFrame, cutoffs: Sequence[pd.Timestamp], *, drop_uninstalled: bool = True
) -> pd.DataFrame:
    cut = pd.DatetimeIndex(pd.to_datetime(list(cutoffs))).astype("datetime64[ns]")
    n = len(assets)
    sk = assets.iloc[np.repeat(np.arange(n), len(cut))].reset_index(drop=True)
    sk["cutoff"] = np.tile(cut.to_numpy(), n)
    if drop_uninstalled:
        installed = pd.to_datetime(sk["installed_on"])
        sk = sk[installed.isna() | (installed < sk["cutoff"])].reset_index(drop=True)
    sk["asset_ref"] = sk["asset_ref"].astype("str")
    return sk


def _readings_part(part: pd.DataFrame, **kwargs: Any) -> pd.DataFrame:
    if "asset_ref" not in part.columns and part.index.name == "asset_ref":
        part = part.reset_index()
    try:
        return reading_window_features(part, **kwargs)
    except Exception as err:  # Dask habit: name the user function that failed
        raise PredictError(f"reading_window_features failed on a partition: {err}") from err


def readings_features(
    readings: Any,
    cutoffs: Sequence[pd.Timestamp],
    channels: Sequence[str],
    *,
    dju: pd.DataFrame | None = None,
    weather_key: pd.Series | None = None,
    client: Any = None,
) -> pd.DataFrame:
    """Window features of a Dask (or pandas) readings frame, computed once into pandas.

    ``readings`` may also be a list of pandas frames of disjoint assets (a feature-store
    partition's buckets): each is done on its own, which spares a concatenation of millions
    of readings for one of a few thousand rows."""
    kwargs = {"cutoffs": list(cutoffs), "channels": list(channels), "dju": dju}
    kwargs["weather_key"] = weather_key
    if readings is None:
        return readings_meta(channels, weather=dju is not None)
    if isinstance(readings, pd.DataFrame):
        return _readings_part(readings, **kwargs)
    if isinstance(readings, list):
        parts = [_readings_part(r, **kwargs) for r in readings]
        if not parts:
            return readings_meta(channels, weather=dju is not None)
        return parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)
    meta = readings_meta(channels, weather=dju is not None)
    lazy = readings.map_partitions(_readings_part, meta=meta, **kwargs)
    result = client.compute(lazy).result() if client is not None else lazy.compute()
    return result.reset_index(drop=True)


def base_features(
    assets: pd.DataFrame,
    work_orders: pd.DataFrame,
    readings: Any,
    cutoffs: Sequence[pd.Timestamp],
    *,
    buildings: pd.DataFrame | None = None,
    channels: Sequence[str] = (),
    dju: pd.DataFrame | None = None,
    weather_key: pd.Series | None = None,
    statutory_days: Mapping[str, float] | None = None,
    drop_uninstalled: bool = True,
    history_start: pd.Timestamp | None = None,
    client: Any = None,
) -> pd.DataFrame:
    """Keys, static, history and reading-window features: everything one asset's data decides.

    Rows of different assets are independent here, so this step runs on any subset of the
    assets (a partition of the feature store) given the work orders and readings of that
    subset and the stock-wide ``history_start`` (default: the first of ``work_orders``).
    Unsorted; categoricals still strings. :func:`cross_asset_features` adds the rest.
    """
    weather = dju is not None and weather_key is not None
    sk = _skeleton(assets, cutoffs, drop_uninstalled=drop_uninstalled)
    frame = sk[["asset_id", "asset_ref", "cutoff", "building_id"]].copy()
    static = static_features(sk, buildings).drop(columns=["asset_ref", "cutoff"])
    hist = history_features(
        sk, work_orders, statutory_days=statutory_days, history_start=history_start
    )
    frame = pd.concat([frame, static, hist.drop(columns=["asset_ref", "cutoff"])], axis=1)
    rf = readings_features(
        readings,
        cutoffs,
        channels,
        dju=dju if weather else None,
        weather_key=weather_key if weather else None,
        client=client,
    )
    return frame.merge(rf, on=["asset_ref", "cutoff"], how="left", sort=False)


def peer_columns(channels: Sequence[str], *, weather: bool) -> list[str]:
    """The per-channel columns that get a peer robust z."""
    per_channel = channel_columns(channels, weather=weather)
    return [c for c in per_channel if c.split("__")[1] in PEER_SUFFIXES]


def cross_asset_inputs(channels: Sequence[str], *, weather: bool) -> list[str]:
    """Columns :func:`cross_asset_columns` reads (a feature store keeps them for every row)."""
    keys = ["asset_ref", "cutoff", "building_id", "category", "failures_365d"]
    keys += ["failures_all", "exposure_years"]
    return keys + peer_columns(channels, weather=weather)


def cross_asset_columns(
    frame: pd.DataFrame, channels: Sequence[str], *, weather: bool
) -> pd.DataFrame:
    """Building history, frailty and peer z: the features that compare an asset with others.

    Every group is within one cutoff, so ``frame`` must hold every asset of each of its
    cutoffs (a feature store computes this one cutoff at a time). Aligned on ``frame``.
    """
    out = pd.concat([building_history(frame), frailty_features(frame)], axis=1)
    peer_cols = peer_columns(channels, weather=weather)
    if peer_cols:
        out = pd.concat([out, peer_features(frame, peer_cols)], axis=1)
    return out


def finish_features(
    frame: pd.DataFrame, channels: Sequence[str], *, weather: bool, ordered: bool = True
) -> pd.DataFrame:
    """Categoricals as pandas ``category``, rows by (cutoff, asset_ref), columns in model order.

    The order is found on the two keys alone and the ~200 columns are taken once: a stock's
    frame is a gigabyte, and a copy, a sort and a selection of it cost seconds each.
    ``ordered=False`` leaves the rows as they are (scoring sorts its few output columns
    instead: taking a million rows of ~200 columns in order took 5 s)."""
    cols = KEY_COLUMNS + feature_columns(channels, weather=weather)
    if ordered:
        # stable sorts, the second key first: the (cutoff, asset_ref) order without
        # factorising a million asset_ref into a sorted categorical (a two-key sort_values)
        by_ref = frame["asset_ref"].reset_index(drop=True).argsort(kind="stable").to_numpy()
        cutoff = frame["cutoff"].to_numpy()[by_ref]
        order = by_ref[np.argsort(cutoff, kind="stable")]
        out = frame[cols].take(order).reset_index(drop=True)
    else:
        out = frame[cols].reset_index(drop=True)
    for col in CATEGORICAL_COLUMNS:
        out[col] = out[col].astype("category")
    return out


def resolve_channels(readings: Any, channels: Sequence[str] | None) -> list[str]:
    """``channels`` without weather channels; None means the channels present in ``readings``."""
    if channels is None:
        if readings is None:
            channels = []
        else:
            found = readings["channel"].unique()
            found = found.compute() if hasattr(found, "compute") else found
            channels = sorted(str(c) for c in found if str(c) not in WEATHER_CHANNELS)
    return [c for c in channels if c not in WEATHER_CHANNELS]


def build_features(
    assets: pd.DataFrame,
    work_orders: pd.DataFrame,
    readings: Any,
    cutoffs: Sequence[pd.Timestamp],
    *,
    buildings: pd.DataFrame | None = None,
    channels: Sequence[str] | None = None,
    dju: pd.DataFrame | None = None,
    weather_key: pd.Series | None = None,
    statutory_days: Mapping[str, float] | None = None,
    drop_uninstalled: bool = True,
    client: Any = None,
) -> pd.DataFrame:
    """The feature frame: keys (``asset_id, asset_ref, cutoff, building_id``) and features.

    ``assets`` is ``asset_model.assets_frame``; ``work_orders`` has ``asset_ref`` (the asset's
    ``asset_ref``), ``kind`` and ``opened_at``; ``readings`` is the Dask frame of
    ``read_readings`` (or a pandas frame, or None). ``channels`` defaults to the channels present.
    Every feature of a row uses only data strictly before its cutoff. Categorical columns are
    pandas ``category``; rows exist for every asset installed before the cutoff (every asset
    when ``drop_uninstalled`` is False, as scoring needs), with or without readings.
    The whole frame is materialised in pandas: for a large stock, the feature store
    (:mod:`predict.features.store`) computes the same rows partition by partition.

    Examples
    --------
    >>> assets = pd.DataFrame({"asset_id": [1], "asset_ref": ["A"], "building_id": [1],
    ...     "category": ["boiler"], "installed_on": [pd.Timestamp("2015-01-01")]})
    >>> wo = pd.DataFrame({"asset_ref": ["A"], "kind": ["failure"],
    ...                    "opened_at": [pd.Timestamp("2023-12-01")]})
    >>> f = build_features(assets, wo, None, [pd.Timestamp("2024-01-01")], channels=[])
    >>> int(f.loc[0, "failures_90d"]), len(f)
    (1, 1)
    """
    if len(cutoffs) == 0:
        raise PredictError("no cutoff dates to build features for (is the history empty?)")
    channels = resolve_channels(readings, channels)
    weather = dju is not None and weather_key is not None
    frame = base_features(
        assets,
        work_orders,
        readings,
        cutoffs,
        buildings=buildings,
        channels=channels,
        dju=dju,
        weather_key=weather_key,
        statutory_days=statutory_days,
        drop_uninstalled=drop_uninstalled,
        client=client,
    )
    frame = pd.concat([frame, cross_asset_columns(frame, channels, weather=weather)], axis=1)
    return finish_features(frame, channels, weather=weather)


def _daily_wide(readings_pdf: pd.DataFrame) -> pd.DataFrame:
    """``value`` by day (rows) and ``asset_ref`` (columns, as text), both sorted: the mean per
    (day, asset_ref), days and assets without a value left out (``pivot_table``'s frame).

    The readings store holds one value per (asset, channel, day): those go straight into the
    grid (the pivot's group-by took 2.8 s for the weather of a million assets)."""
    ok = readings_pdf[["asset_ref", "day", "value"]].notna().all(axis=1).to_numpy()
    rows = readings_pdf[ok]
    d_code, days = pd.factorize(rows["day"], sort=True)
    r_code, refs = pd.factorize(rows["asset_ref"].astype("str"), sort=True)
    if rows["value"].dtype == np.float64:
        cell = d_code.astype(np.int64) * len(refs) + r_code
        grid = np.full(len(days) * len(refs), np.nan)
        grid[cell] = rows["value"].to_numpy()
        # as many filled cells as rows: one value per (day, asset) (counting the cells costs
        # nothing next to np.unique: 5 s on a million assets' weather)
        if np.count_nonzero(~np.isnan(grid)) == len(cell):
            index = pd.DatetimeIndex(days, name="day")
            grid = grid.reshape(len(days), len(refs))
            return pd.DataFrame(grid, index=index, columns=list(refs))
    # several values for some (day, asset), which the mean takes, or values not float
    wide = readings_pdf.pivot_table(
        index="day", columns="asset_ref", values="value", aggfunc="mean"
    )
    wide.columns = [str(c) for c in wide.columns]
    return wide


def weather_inputs(
    readings_pdf: pd.DataFrame,
    assets: pd.DataFrame,
    site_of_building: Mapping[str, str] | None = None,
) -> tuple[pd.DataFrame | None, pd.Series | None]:
    """Daily DJU per weather key (wide, index day) and each asset's key, from ``outdoor_temp_c``.

    ``readings_pdf`` holds the ``outdoor_temp_c`` rows. A building uses its own series, else its
    site's (``site_of_building`` maps building GlobalId → site GlobalId), else the mean of all
    series. Returns (None, None) when there is no weather.
    """
    if readings_pdf is None or len(readings_pdf) == 0:
        return None, None
    wide = _daily_wide(readings_pdf)
    dju = pd.DataFrame(
        np.maximum(0.0, 18.0 - wide.to_numpy(dtype=np.float64)),
        index=pd.DatetimeIndex(wide.index),
        columns=wide.columns,
    )
    dju.loc[:, "__all__"] = dju.mean(axis=1, skipna=True)
    # each building's key once (a few thousand), then every asset takes its building's
    series, site_of = set(dju.columns), dict(site_of_building or {})
    codes, buildings = pd.factorize(assets["building_ref"])
    per_building = []
    for b in buildings:
        site = site_of.get(b) if isinstance(b, str) else None
        if isinstance(b, str) and b in series:
            per_building.append(b)
        else:
            per_building.append(site if site in series else "__all__")
    key = np.array([*per_building, "__all__"], dtype=object)[codes]
    refs = assets["asset_ref"].astype("str")
    if refs.is_unique:
        return dju, pd.Series(key, index=pd.Index(refs.array), dtype="str")
    # as a dict keeps them: each asset once, where it first appears, with its last key
    return dju, pd.Series(dict(zip(refs, key, strict=True)), dtype="str")


__all__ = [
    "build_features",
    "feature_columns",
    "is_energy_like",
    "monthly_cutoffs",
    "readings_features",
    "weather_inputs",
]
