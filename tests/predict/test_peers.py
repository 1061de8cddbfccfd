"""Peer z: the present-values-only computation against the whole-column one it replaced
(same frames, bit for bit)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from predict.features.peers import MAD_SCALE, peer_features


def _robust_z_whole(values: pd.Series, groups: list[pd.Series]) -> pd.Series:
    """The earlier robust z: every row grouped, missing ones included."""
    g = values.groupby(groups, dropna=False, sort=False)
    med = g.transform("median")
    dev = (values - med).abs()
    mad = dev.groupby(groups, dropna=False, sort=False).transform("median")
    mean_ad = dev.groupby(groups, dropna=False, sort=False).transform("mean") * 1.253314
    scale = (mad / MAD_SCALE).where(mad > 0, mean_ad)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (values - med) / scale
    return z.where(scale > 0, 0.0).where(values.notna())


def _peer_whole(frame: pd.DataFrame, columns: list[str], min_peers: int = 5) -> pd.DataFrame:
    building = frame["building_id"].astype("float64").fillna(-1.0)
    category = frame["category"].astype("str")
    local = frame.groupby([building, category, frame["cutoff"]], dropna=False, sort=False).ngroup()
    wide = frame.groupby([category, frame["cutoff"]], dropna=False, sort=False).ngroup()
    size = local.groupby(local, sort=False).transform("size")
    out = pd.DataFrame(index=frame.index)
    for col in columns:
        x = frame[col].astype("float64")
        z_local = _robust_z_whole(x, [local])
        out[f"{col}__peer_z"] = z_local.where(size >= min_peers, _robust_z_whole(x, [wide]))
    return out


def test_peer_z_equals_the_whole_column_computation() -> None:
    rng = np.random.default_rng(3)
    n = 3000
    frame = pd.DataFrame(
        {
            "building_id": rng.choice([1.0, 2.0, 3.0, np.nan], n, p=[0.6, 0.3, 0.05, 0.05]),
            "category": rng.choice(["boiler", "lift", "pump", None], n),
            "cutoff": rng.choice(pd.to_datetime(["2024-01-01", "2024-02-01"]), n),
            "a": rng.gamma(2.0, 1.5, n),
            "b": rng.integers(0, 3, n).astype("float64"),  # MAD = 0 groups
            "c": np.round(rng.normal(5, 2, n), 1),
        }
    )
    frame.loc[rng.random(n) < 0.7, "a"] = np.nan  # mostly missing, as most channels are
    frame.loc[frame["category"] == "pump", "c"] = np.nan  # a group without any value
    frame.loc[:5, "b"] = 7.0
    got = peer_features(frame, ["a", "b", "c"], min_peers=40)
    want = _peer_whole(frame, ["a", "b", "c"], min_peers=40)
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    assert got.notna().sum().between(300, n).all()
