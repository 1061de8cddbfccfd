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

    Only the present values take part (a missing one has no z and moves no statistic), so
    they alone are grouped: most assets lack most channels, and grouping a million rows per
    column and statistic, mostly empty, was most of the peer time.

    >>> s = pd.Series([1.0, 1.1, 0.9, 1.0, 5.0])
    >>> round(float(robust_z(s, [pd.Series(["b"] * 5)]).iloc[-1]), 1)
    27.0
    """
    present = values.notna().to_numpy()
    x = values[present]
    keys = [g[present] for g in groups]
    med = x.groupby(keys, dropna=False, sort=False).transform("median")
    dev = (x - med).abs()
    by = dev.groupby(keys, dropna=False, sort=False)
    mad = by.transform("median")
    # MAD = 0 (over half the peers identical): fall back to 1.2533 × mean absolute deviation
    mean_ad = by.transform("mean") * 1.253314
    scale = (mad / MAD_SCALE).where(mad > 0, mean_ad)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (x - med) / scale
    out = np.full(len(values), np.nan)
    out[present] = z.where(scale > 0, 0.0).to_numpy(dtype=np.float64)
    return pd.Series(out, index=values.index, name=values.name)


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
    few = (local.groupby(local, sort=False).transform("size") < min_peers).to_numpy()
    z = {}
    for col in columns:
        x = frame[col].astype("float64")
        z_local = robust_z(x, [local]).to_numpy()
        z[f"{col}__peer_z"] = np.where(few, robust_z(x, [wide]).to_numpy(), z_local)
    return pd.DataFrame(z, index=frame.index)


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


FRAILTY_COLUMNS = (
    "unit_frailty_eb",
    "building_category_frailty_eb",
    "building_frailty_eb",
    "frailty_eb",
)
#: Bounds of the Gamma prior's shape (1 / variance of the frailty) estimated by moments.
_K_BOUNDS = (0.5, 100.0)


def _gamma_shape(n: pd.Series, e: pd.Series, groups: list[pd.Series]) -> pd.Series:
    """Per group, the shape k of a Gamma(k, k) frailty by moments (Var n = E + E²/k)."""
    excess = ((n - e) ** 2 - n).groupby(groups, sort=False).transform("sum")
    e2 = (e**2).groupby(groups, sort=False).transform("sum")
    with np.errstate(divide="ignore", invalid="ignore"):
        inv_k = (excess / e2).where(e2 > 0)
    return (1.0 / inv_k.clip(lower=1.0 / _K_BOUNDS[1])).clip(*_K_BOUNDS).fillna(_K_BOUNDS[1])


def frailty_features(frame: pd.DataFrame) -> pd.DataFrame:
    """Failure rates over the whole history before the cutoff, against the category's, shrunk.

    Each asset's failures ``n`` (``failures_all``) over its exposure ``T`` (``exposure_years``)
    are compared with ``E = r_c·T``, ``r_c`` the failures per unit-year of its category across the
    stock before the same cutoff; an empirical-Bayes (Gamma–Poisson) ratio ``(n + k)/(E + k)``
    shrinks a short or quiet record to 1, ``k`` estimated by moments per category and cutoff.
    The same for the OTHER assets of the building, of the same category and of any category
    (site frailty: contractor, water, use, vandalism), and ``frailty_eb``: the asset's own record
    shrunk toward its building's same-category ratio instead of 1. Aligned on ``frame``.

    >>> f = pd.DataFrame({"building_id": [1, 1, 2, 2], "category": ["lift"] * 4,
    ...     "cutoff": [pd.Timestamp("2024-01-01")] * 4, "failures_all": [9.0, 5.0, 1.0, 1.0],
    ...     "exposure_years": [2.0] * 4})
    >>> r = frailty_features(f)["unit_frailty_eb"]
    >>> bool(r.iloc[0] > 1 > r.iloc[2])
    True
    """
    n = frame["failures_all"].astype("float64").fillna(0.0)
    t = frame["exposure_years"].astype("float64").fillna(0.0)
    building = frame["building_id"].astype("float64").fillna(-1.0)
    category = frame["category"].astype("str")
    cutoff = frame["cutoff"]
    by_cat = [category, cutoff]
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = n.groupby(by_cat, sort=False).transform("sum") / t.groupby(
            by_cat, sort=False
        ).transform("sum")
    e = (rate * t).fillna(0.0)
    k = _gamma_shape(n, e, by_cat)
    out = pd.DataFrame(index=frame.index)
    out["unit_frailty_eb"] = (n + k) / (e + k)
    known = building >= 0
    bc = [building, category, cutoff]
    n_bc = n.groupby(bc, sort=False).transform("sum") - n
    e_bc = e.groupby(bc, sort=False).transform("sum") - e
    out["building_category_frailty_eb"] = ((n_bc + k) / (e_bc + k)).where(known)
    b = [building, cutoff]
    n_b = n.groupby(b, sort=False).transform("sum")
    e_b = e.groupby(b, sort=False).transform("sum")
    # the site's prior: buildings' totals against their expectations, by moments per cutoff
    first = n.groupby(b, sort=False).cumcount() == 0
    site_k = _gamma_shape(n_b.where(first & known), e_b.where(first & known), [cutoff])
    out["building_frailty_eb"] = ((n_b - n + site_k) / (e_b - e + site_k)).where(known)
    prior = out["building_category_frailty_eb"].fillna(1.0)
    out["frailty_eb"] = (n + k * prior) / (e + k)
    return out
