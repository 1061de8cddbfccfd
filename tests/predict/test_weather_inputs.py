"""weather_inputs: the DJU grid and each asset's weather key, against the pivot and the
per-asset rule it replaced (same frames, bit for bit)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from predict.features.build import weather_inputs


def _reference(readings: pd.DataFrame, assets: pd.DataFrame, site_of: dict[str, str]):  # noqa: ANN202
    """The earlier implementation: ``pivot_table`` and one decision per asset."""
    wide = readings.pivot_table(index="day", columns="asset_ref", values="value", aggfunc="mean")
    wide.columns = [str(c) for c in wide.columns]
    dju = pd.DataFrame(
        np.maximum(0.0, 18.0 - wide.to_numpy(dtype=np.float64)),
        index=pd.DatetimeIndex(wide.index),
        columns=wide.columns,
    )
    dju.loc[:, "__all__"] = dju.mean(axis=1, skipna=True)
    keys: dict[str, str] = {}
    for ref, bref in zip(
        assets["asset_ref"].astype("str"), assets["building_ref"].astype("object"), strict=True
    ):
        if isinstance(bref, str) and bref in dju.columns:
            keys[ref] = bref
        elif isinstance(bref, str) and site_of.get(bref) in dju.columns:
            keys[ref] = site_of[bref]
        else:
            keys[ref] = "__all__"
    return dju, pd.Series(keys, dtype="str")


def _weather(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    days = pd.date_range("2024-01-01", periods=40, freq="D").astype("datetime64[ms]")
    rows = [
        (ref, day, float(rng.normal(8, 6)))
        for ref in ("B2", "B1", "S1", "B9")
        for day in days
        if rng.random() < 0.8
    ]
    frame = pd.DataFrame(rows, columns=["asset_ref", "day", "value"]).sample(frac=1, random_state=0)
    frame.loc[frame["asset_ref"] == "B9", "value"] = np.nan  # a series without a value
    frame.insert(1, "channel", "outdoor_temp_c")
    return frame.reset_index(drop=True)


ASSETS = pd.DataFrame(
    {
        "asset_ref": ["A1", "A2", "A3", "A4", "A5", "A6", "A7"],
        "building_ref": ["B1", "B2", "B3", "B4", None, "B9", "B1"],
    }
)
SITES = {"B1": "S0", "B3": "S1", "B4": "S7", "B9": "S1"}


@pytest.mark.parametrize(
    "assets",
    [ASSETS, pd.concat([ASSETS, ASSETS.iloc[[2, 0]].assign(building_ref="B2")])],
    ids=["unique", "repeated-assets"],
)
@pytest.mark.parametrize("duplicate_days", [False, True])
def test_weather_inputs_equal_the_pivot_and_the_per_asset_rule(assets, duplicate_days) -> None:  # noqa: ANN001
    readings = _weather(0)
    if duplicate_days:  # two values of one day: their mean, as the pivot takes it
        again = readings[readings["asset_ref"] != "B9"].iloc[:5].assign(value=3.0)
        readings = pd.concat([readings, again], ignore_index=True)
    dju, key = weather_inputs(readings, assets, SITES)
    want_dju, want_key = _reference(readings, assets, SITES)
    pd.testing.assert_frame_equal(dju, want_dju, check_exact=True)
    pd.testing.assert_series_equal(key, want_key, check_exact=True)
    assert "B9" not in dju.columns  # a series without a value is no series
    # no series of its own: its site's (B9 too), else the mean of all series
    assert key[["A4", "A5", "A6"]].tolist() == ["__all__", "__all__", "S1"]
    assert key.index.tolist() == ["A1", "A2", "A3", "A4", "A5", "A6", "A7"]
    repeated = len(assets) > len(ASSETS)  # A3 and A1 again, in B2: the last one wins
    assert key[["A1", "A3"]].tolist() == (["B2", "B2"] if repeated else ["B1", "S1"])


def test_weather_inputs_without_weather() -> None:
    assert weather_inputs(_weather(0).iloc[:0], ASSETS, SITES) == (None, None)
