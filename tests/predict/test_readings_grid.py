"""One grid per channel, over the meters that have it, gives what one dense grid gave.

The reference below is the earlier layout, kept here only as a test oracle: one dense
``assets × days`` grid per channel over every asset of the block, whether it has the channel
or not. The statistics are the module's own, so the two must agree to the last bit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from predict.features import readings as rd
from predict.features.readings import reading_window_features, readings_meta

CHANNELS = ["energy_kwh", "cycles", "supply_temp_c", "trips"]  # "trips" is never read


def _dense_reference(part, cutoffs, channels, dju=None, weather_key=None) -> pd.DataFrame:
    weather = dju is not None
    meta = readings_meta(channels, weather=weather)
    cut = np.sort(np.asarray(pd.to_datetime(np.asarray(cutoffs)), dtype="datetime64[D]"))
    origin = rd._grid_origin(cut)
    n_days = int((cut.max() - origin).astype(int))
    ends = (cut - origin).astype(int)
    didx = (np.asarray(part["day"].to_numpy(), dtype="datetime64[D]") - origin).astype(int)
    val = part["value"].to_numpy(dtype=np.float64)
    keep = (didx >= 0) & (didx < n_days) & part["channel"].isin(channels).to_numpy()
    keep &= np.isfinite(val)
    refs = part["asset_ref"].to_numpy(dtype=object)[keep]
    chans, days, val = part["channel"].to_numpy(dtype=object)[keep], didx[keep], val[keep]
    assets = np.unique(refs)
    a_idx = np.searchsorted(assets, refs)
    dju_grid = rd._dju_grid(dju, weather_key, assets, origin, n_days) if weather else None
    t = np.arange(n_days, dtype=np.float64)[None, :]
    cols: dict[str, np.ndarray] = {}
    for ch in channels:
        sel = chans == ch
        grid = np.full((len(assets), n_days), np.nan)
        grid[a_idx[sel], days[sel]] = val[sel]
        has = np.isfinite(grid)
        x = np.where(has, grid, 0.0)
        for k, v in rd._channel_stats(x, has.astype(float), t, ends, n_days).items():
            cols[f"{ch}__{k}"] = v
        if weather:
            hasw = (has & np.isfinite(dju_grid)).astype(float)
            for k, v in rd._weather_stats(x, hasw, dju_grid, ends).items():
                cols[f"{ch}__{k}"] = v
    cols.update(rd._drift_summary(cols, channels, weather))
    frame = pd.DataFrame(
        {
            "asset_ref": pd.array(np.repeat(assets, len(cut)), dtype="str"),
            "cutoff": np.tile(cut.astype("datetime64[ns]"), len(assets)),
            **{name: arr.reshape(-1) for name, arr in cols.items()},
        }
    )
    return frame.reindex(columns=meta.columns).astype(meta.dtypes.to_dict())


def _random_part(seed: int, n_assets: int = 40) -> pd.DataFrame:
    """Meters with 1 to 3 of the channels, gaps, NaNs, a repeated day and readings off the grid."""
    rng = np.random.default_rng(seed)
    frames = []
    for i in range(n_assets):
        ref = f"R{rng.integers(0, 10**6):06d}-{i}"
        mine = rng.choice(CHANNELS[:3], size=rng.integers(1, 4), replace=False)
        for ch in mine:
            n = int(rng.integers(20, 500))
            days = pd.Timestamp("2023-02-01") + pd.to_timedelta(
                np.sort(rng.choice(520, n, replace=False)), "D"
            )
            value = rng.gamma(2.0, 3.0, n) * (1 + 0.002 * np.arange(n))
            value[rng.random(n) < 0.05] = np.nan
            frames.append(
                pd.DataFrame({"asset_ref": ref, "channel": ch, "day": days, "value": value})
            )
    part = pd.concat(frames, ignore_index=True)
    part = pd.concat([part, part.iloc[[3, 50]].assign(value=99.0)], ignore_index=True)
    part = pd.concat([part, part.iloc[:5].assign(channel="not_a_feature")], ignore_index=True)
    return part.sample(frac=1.0, random_state=seed).reset_index(drop=True)


CUTOFFS = list(pd.date_range("2024-01-01", "2024-06-01", freq="MS"))


@pytest.mark.parametrize("block", [2048, 7])
def test_grid_per_channel_equals_the_dense_grid(monkeypatch, block):
    monkeypatch.setattr(rd, "_BLOCK", block)
    part = _random_part(block)
    got = reading_window_features(part, cutoffs=CUTOFFS, channels=CHANNELS)
    want = _dense_reference(part, CUTOFFS, CHANNELS)
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    assert got["trips__mean30"].isna().all()
    assert (got["trips__cov30"] == 0).all()
    # a meter without a channel gets NaN for it, as before
    has = part.groupby("asset_ref")["channel"].agg(set)
    lacks = [r for r, chans in has.items() if "cycles" not in chans]
    assert lacks
    assert got.loc[got["asset_ref"].isin(lacks), "cycles__mean90"].isna().all()


def test_grid_per_channel_equals_the_dense_grid_with_weather(monkeypatch):
    monkeypatch.setattr(rd, "_BLOCK", 11)
    part = _random_part(5)
    rng = np.random.default_rng(0)
    days = pd.date_range("2022-12-01", "2024-06-30", freq="D")
    dju = pd.DataFrame(
        {"B1": rng.uniform(0, 15, len(days)), "B2": rng.uniform(0, 15, len(days))}, index=days
    )
    refs = sorted(part["asset_ref"].unique())
    key = pd.Series({r: ("B1" if i % 3 else "B2") for i, r in enumerate(refs[:-4])})
    got = reading_window_features(
        part, cutoffs=CUTOFFS, channels=CHANNELS, dju=dju, weather_key=key
    )
    want = _dense_reference(part, CUTOFFS, CHANNELS, dju=dju, weather_key=key)
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    assert got["energy_kwh__wn_z30"].notna().any()
