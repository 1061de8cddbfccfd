"""The window features give what the earlier implementation gave, to the last bit.

The reference below is that implementation, kept here only as a test oracle: one dense
``assets × days`` grid per channel over every asset of the block, whether it has the channel
or not, and every window sum a difference of full ``np.cumsum`` grids (the module now keeps
per channel the meters that have it and only the prefix sums its cutoffs read).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from predict.features import readings as rd
from predict.features.readings import reading_window_features, readings_meta
from predict.features.spikes import drop_spikes

CHANNELS = ["energy_kwh", "cycles", "supply_temp_c", "trips"]  # "trips" is never read


def _cum(a: np.ndarray) -> np.ndarray:
    """Cumulative sums along days, leading zero column: sum over [i, j) = C[:, j] − C[:, i]."""
    out = np.zeros((a.shape[0], a.shape[1] + 1), dtype=np.float64)
    np.cumsum(a, axis=1, out=out[:, 1:])
    return out


def _win(c: np.ndarray, ends: np.ndarray, length: int) -> np.ndarray:
    """Window sums over [end − length, end) for every cutoff column index in ``ends``."""
    starts = np.maximum(ends - length, 0)
    return c[:, ends] - c[:, starts]


def _channel_stats(
    x: np.ndarray, has: np.ndarray, t: np.ndarray, ends: np.ndarray, n_days: int
) -> dict[str, np.ndarray]:
    cs, cn, c2 = _cum(x), _cum(has), _cum(x * x)
    ct, ctt, ctx = _cum(has * t), _cum(has * t * t), _cum(x * t)
    s = {w: _win(cs, ends, w) for w in (7, 30, 90, 365)}
    n = {w: _win(cn, ends, w) for w in (7, 30, 90, 365)}
    mean = {w: rd._div(s[w], n[w]) for w in s}
    out: dict[str, np.ndarray] = {f"mean{w}": mean[w] for w in rd.MEAN_WINDOWS}
    for w in (30, 90):
        var = rd._div(_win(c2, ends, w), n[w]) - mean[w] ** 2
        out[f"std{w}"] = np.sqrt(np.clip(var, 0.0, None))
    st, stt, stx = _win(ct, ends, 90), _win(ctt, ends, 90), _win(ctx, ends, 90)
    den = n[90] * stt - st**2
    slope = rd._div(n[90] * stx - st * s[90], np.where(den > rd._EPS, den, np.nan))
    # trend: fitted change over 30 days, relative to the 90-day level
    out["trend90"] = rd._div(30.0 * slope, np.abs(mean[90]) + rd._EPS)
    out["ratio7_30"] = rd._div(mean[7], np.abs(mean[30]) + rd._EPS)
    prev_s = _win(cs, ends, 120) - s[30]
    prev_n = _win(cn, ends, 120) - n[30]
    out["ratio30_prev90"] = rd._div(mean[30], np.abs(rd._div(prev_s, prev_n)) + rd._EPS)
    year_s, year_n = s[365] - s[30], n[365] - n[30]
    out["ratio30_year"] = rd._div(mean[30], np.abs(rd._div(year_s, year_n)) + rd._EPS)
    out["cov30"] = n[30] / 30.0
    # the last 7 / 30 days against the year before them, in that year's daily spreads (robust
    # to each asset's own noise level; the sign says the direction of the change)
    year_mean = rd._div(year_s, year_n)
    year_var = rd._div(_win(c2, ends, 365) - _win(c2, ends, 30), year_n) - year_mean**2
    year_sd = np.sqrt(np.clip(year_var, 0.0, None))
    scale = np.where(year_n >= 30, year_sd + 1e-3 * np.abs(year_mean) + rd._EPS, np.nan)
    out["z7_year"] = rd._div(mean[7] - year_mean, scale)
    out["z30_year"] = rd._div(mean[30] - year_mean, scale)
    # days since the last reading before the cutoff (NaN if none in the grid)
    last = np.where(has > 0, np.arange(n_days)[None, :], -1)
    last = np.maximum.accumulate(last, axis=1)
    last_at = np.where(ends > 0, last[:, np.maximum(ends - 1, 0)], -1)
    dsl = (ends[None, :] - last_at).astype(np.float64)
    dsl[last_at < 0] = np.nan
    out["days_since_reading"] = dsl
    return out


def _weather_stats(
    x: np.ndarray, has: np.ndarray, d: np.ndarray, ends: np.ndarray
) -> dict[str, np.ndarray]:
    """PRISM-style fit E = α + β·DJU on [c−365, c−30), then the last 7 and 30 days against it:
    their ratio to the expected value and their mean residual in residual standard deviations
    (the drift a fault leaves once weather and load are taken out, §4.9)."""
    dd = np.where(has > 0, d, 0.0)
    xx = x * has
    cn, cx, cd = _cum(has), _cum(xx), _cum(dd)
    cdd, cxd, cxx = _cum(dd * dd), _cum(xx * dd), _cum(xx * xx)

    def base(c: np.ndarray) -> np.ndarray:
        return _win(c, ends, 365) - _win(c, ends, 30)

    n, sx, sd, sdd, sxd, sxx = base(cn), base(cx), base(cd), base(cdd), base(cxd), base(cxx)
    den = n * sdd - sd**2
    beta = rd._div(n * sxd - sd * sx, np.where(den > rd._EPS * np.maximum(n, 1) ** 2, den, np.nan))
    beta = np.where(np.isfinite(beta), beta, 0.0)
    alpha = rd._div(sx - beta * sd, n)
    # residual sum of squares of the fit, from the same sums
    rss = (
        sxx - 2 * alpha * sx - 2 * beta * sxd + alpha**2 * n + 2 * alpha * beta * sd + beta**2 * sdd
    )
    resid_sd = np.sqrt(np.clip(rd._div(rss, np.maximum(n - 2, 1)), 0.0, None))
    scale = np.where(n >= 30, resid_sd + 1e-3 * np.abs(rd._div(sx, n)) + rd._EPS, np.nan)
    out: dict[str, np.ndarray] = {}
    for w in (7, 30):
        nw, xw, dw = _win(cn, ends, w), _win(cx, ends, w), _win(cd, ends, w)
        expected = alpha * nw + beta * dw
        if w == 30:
            out["wn_ratio30"] = rd._div(xw, np.abs(expected) + rd._EPS)
        out[f"wn_z{w}"] = rd._div(rd._div(xw - expected, nw), scale)
    out["wn_slope"] = rd._div(beta, np.abs(alpha) + np.abs(beta) * 5.0 + rd._EPS)
    return out


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
        grid = drop_spikes(grid)  # tested on its own in test_spikes.py
        has = np.isfinite(grid)
        x = np.where(has, grid, 0.0)
        for k, v in _channel_stats(x, has.astype(float), t, ends, n_days).items():
            cols[f"{ch}__{k}"] = v
        if weather:
            hasw = (has & np.isfinite(dju_grid)).astype(float)
            for k, v in _weather_stats(x, hasw, dju_grid, ends).items():
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


def _hard_values(part: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Values that expose any change in summation order: a large offset (the variances cancel
    to a few bits), negatives, and exact and negative zeros."""
    rng = np.random.default_rng(seed)
    value = part["value"].to_numpy().copy()
    kind = rng.integers(0, 4, len(value))
    value = np.where(kind == 1, 1e6 + value * 1e-3, value)
    value = np.where(kind == 2, -value, value)
    value = np.where(kind == 3, rng.choice([0.0, -0.0], len(value)), value)
    return part.assign(value=value)


@pytest.mark.parametrize(
    "cutoffs",
    [
        [pd.Timestamp("2024-03-01")],  # scoring: one cutoff
        [pd.Timestamp("2023-02-03")],  # two days of readings: the windows start before the grid
        [pd.Timestamp("2024-06-15"), pd.Timestamp("2023-12-31")],
        CUTOFFS,
    ],
)
@pytest.mark.parametrize("weather", [False, True])
def test_few_cutoffs_and_hard_values_equal_the_reference(monkeypatch, cutoffs, weather):
    monkeypatch.setattr(rd, "_BLOCK", 13)
    part = _hard_values(_random_part(len(cutoffs) + 10 * weather), len(cutoffs))
    kwargs = {}
    if weather:
        rng = np.random.default_rng(1)
        days = pd.date_range("2022-06-01", "2024-06-30", freq="D")
        dju = pd.DataFrame({"B1": rng.uniform(0, 15, len(days))}, index=days)
        dju.iloc[rng.random(len(days)) < 0.1] = np.nan  # days without weather
        refs = sorted(part["asset_ref"].unique())
        kwargs = {"dju": dju, "weather_key": pd.Series(dict.fromkeys(refs[:-3], "B1"))}
    got = reading_window_features(part, cutoffs=cutoffs, channels=CHANNELS, **kwargs)
    want = _dense_reference(part, cutoffs, CHANNELS, **kwargs)
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    assert got["cycles__std90"].gt(0).any()
    assert got["cycles__days_since_reading"].notna().any()
    # the same bits, signs of zero included
    for col in got.columns[2:]:
        a, b = got[col].to_numpy(), want[col].to_numpy()
        assert np.array_equal(np.signbit(a), np.signbit(b)), col


def test_prefix_sums_are_cumsums_bit_for_bit():
    """The kernel's sums at its positions are np.cumsum's, signs of zero included."""
    from predict.features import window_sums as ws

    rng = np.random.default_rng(4)
    grid = _hard_values(pd.DataFrame({"value": rng.normal(5.0, 3.0, 6 * 50)}), 4)
    grid = grid["value"].to_numpy().reshape(6, 50).copy()
    grid[rng.random(grid.shape) < 0.2] = np.nan
    grid[0, 0], grid[1, :] = -3.0, -0.0  # x·t is −0.0 on day 0; a row of negative zeros
    dju = rng.uniform(0.0, 12.0, grid.shape)
    dju[rng.random(grid.shape) < 0.2] = np.nan
    positions = np.array([0, 1, 2, 17, 49, 50])
    sums, last = ws.prefix_sums(grid, dju, positions, True)
    has = np.isfinite(grid).astype(float)
    x = np.where(has > 0, grid, 0.0)
    t = np.arange(50, dtype=float)[None, :]
    hw = (np.isfinite(grid) & np.isfinite(dju)).astype(float)
    dd, xx = np.where(hw > 0, dju, 0.0), x * hw
    terms = [x, has, x * x, has * t, has * t * t, x * t, hw, xx, dd, dd * dd, xx * dd, xx * xx]
    for k, term in enumerate(terms):
        want = _cum(term)[:, positions]
        assert np.array_equal(sums[:, :, k], want), k
        assert np.array_equal(np.signbit(sums[:, :, k]), np.signbit(want)), k
    seen = np.where(has > 0, np.arange(50), -1)
    want_last = np.maximum.accumulate(seen, axis=1)[:, np.maximum(positions - 1, 0)]
    assert np.array_equal(last, np.where(positions > 0, want_last, -1))


def test_categorical_refs_and_channels_give_the_same_frame():
    """The store's ``categories`` read: categories unsorted, some unused, a channel not asked."""
    part = _random_part(21)
    refs = sorted(part["asset_ref"].unique())
    shuffled = list(np.random.default_rng(2).permutation([*refs, "UNUSED-1", "UNUSED-0"]))
    cat = part.assign(
        asset_ref=pd.Categorical(part["asset_ref"], categories=shuffled),
        channel=pd.Categorical(
            part["channel"], categories=["trips", "not_a_feature", *CHANNELS[:3]]
        ),
    )
    for cutoffs in ([pd.Timestamp("2024-03-01")], CUTOFFS):
        got = reading_window_features(cat, cutoffs=cutoffs, channels=CHANNELS)
        want = reading_window_features(part, cutoffs=cutoffs, channels=CHANNELS)
        pd.testing.assert_frame_equal(got, want, check_exact=True)


def test_day_index_is_the_day_cast_for_every_unit():
    origin = np.datetime64("2023-03-01")
    days = pd.to_datetime(
        ["1969-12-31 23:00", "2023-02-28 00:00", "2023-03-01 12:30", None, "2024-06-01 00:00"]
    )
    want = (np.asarray(days.to_numpy(), dtype="datetime64[D]") - origin).astype(np.int64)
    for unit in ("ns", "us", "ms", "s", "D"):
        got = rd._day_index(days.to_numpy().astype(f"datetime64[{unit}]"), origin)
        assert np.array_equal(got[[0, 1, 2, 4]], want[[0, 1, 2, 4]]), unit
        assert got[3] == -1  # NaT: off the grid
    objects = np.array([pd.Timestamp("2023-03-05"), pd.Timestamp("2023-02-01")], dtype=object)
    assert rd._day_index(objects, origin).tolist() == [4, -28]
