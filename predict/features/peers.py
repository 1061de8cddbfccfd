"""Peer features: an asset's level against the same category in the same building.

A second step after the per-asset windows (peers live in other partitions). Peer groups with
fewer than ``min_peers`` members widen to the same category across the stock at that cutoff.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

#: Scale of the modified z-score (Iglewicz & Hoaglin): 0.6745 (x − median) / MAD.
MAD_SCALE = 0.6745


def robust_z(values: pd.Series, groups: list[pd.Series]) -> pd.Series:
    """Modified z of ``values`` within ``groups`` (MAD = 0 guarded by the mean absolute deviation).

    >>> s = pd.Series([1.0, 1.1, 0.9, 1.0, 5.0])
    >>> round(float(robust_z(s, [pd.Series(["b"] * 5)]).iloc[-1]), 1)
    27.0
    """
    g = values.groupby(groups, dropna=False, sort=False)
    med = g.transform("median")
    dev = (values - med).abs()
    mad = dev.groupby(groups, dropna=False, sort=False).transform("median")
    # MAD = 0 (over half the peers identical): fall back to 1.2533 × mean absolute deviation
    mean_ad = dev.groupby(groups, dropna=False, sort=False).transform("mean") * 1.253314
    scale = (mad / MAD_SCALE).where(mad > 0, mean_ad)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (values - med) / scale
    return z.where(scale > 0, 0.0).where(values.notna())


def peer_features(
    frame: pd.DataFrame,
    columns: Sequence[str],
    *,
    min_peers: int = 5,
) -> pd.DataFrame:
    """``{col}__peer_z`` for each column: robust z within (building, category, cutoff).

    ``frame`` needs ``building_id, category, cutoff`` and the columns. Returns only the new
    columns, aligned on ``frame``'s index.
    """
    building = frame["building_id"].astype("float64").fillna(-1.0)
    category = frame["category"].astype("str")
    cutoff = frame["cutoff"]
    # one integer code per group, factorised once (grouping by three mixed keys per column
    # and per statistic was most of the feature time)
    local = frame.groupby([building, category, cutoff], dropna=False, sort=False).ngroup()
    wide = frame.groupby([category, cutoff], dropna=False, sort=False).ngroup()
    size = local.groupby(local, sort=False).transform("size")
    out = pd.DataFrame(index=frame.index)
    for col in columns:
        x = frame[col].astype("float64")
        z_local = robust_z(x, [local])
        z_wide = robust_z(x, [wide])
        out[f"{col}__peer_z"] = z_local.where(size >= min_peers, z_wide)
    return out


BUILDING_COLUMNS = ("building_failures_365d", "building_category_failures_365d")


def building_history(frame: pd.DataFrame) -> pd.DataFrame:
    """Failures in the past 365 days of the OTHER assets of the building (per asset), overall
    and of the same category: shared contractors, water and use (site frailty)."""
    building = frame["building_id"].astype("float64").fillna(-1.0)
    category = frame["category"].astype("str")
    f = frame["failures_365d"].astype("float64").fillna(0.0)
    out = pd.DataFrame(index=frame.index)
    for name, keys in (
        ("building_failures_365d", [building, frame["cutoff"]]),
        ("building_category_failures_365d", [building, category, frame["cutoff"]]),
    ):
        g = f.groupby(keys, sort=False)
        total, n = g.transform("sum"), g.transform("size")
        with np.errstate(divide="ignore", invalid="ignore"):
            rate = (total - f) / (n - 1)
        out[name] = rate.where(n > 1).where(building >= 0)
    return out
