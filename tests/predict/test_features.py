from __future__ import annotations

import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
from dask.dataframe.utils import assert_eq

from predict import PredictError, build_features, monthly_cutoffs
from predict.features.history import history_features
from predict.features.peers import robust_z
from predict.features.readings import degree_days, reading_window_features
from predict.features.static import static_features

CUT = pd.Timestamp("2024-04-01")


def _daily(ref: str, channel: str, values: np.ndarray, end: pd.Timestamp = CUT) -> pd.DataFrame:
    days = pd.date_range(end=end - pd.Timedelta(days=1), periods=len(values), freq="D")
    return pd.DataFrame({"asset_ref": ref, "channel": channel, "day": days, "value": values})


def test_window_means_ratios_and_trend_on_a_tiny_frame():
    # 120 days at 1.0 then the last 30 days at 2.0
    values = np.r_[np.ones(120), np.full(30, 2.0)]
    part = _daily("A", "cycles", values)
    out = reading_window_features(part, cutoffs=[CUT], channels=["cycles"])
    row = out.iloc[0]
    assert row["cycles__mean7"] == pytest.approx(2.0)
    assert row["cycles__mean30"] == pytest.approx(2.0)
    assert row["cycles__mean90"] == pytest.approx((60 + 60) / 90)
    assert row["cycles__ratio30_prev90"] == pytest.approx(2.0)
    assert row["cycles__std30"] == pytest.approx(0.0, abs=1e-9)
    assert row["cycles__trend90"] > 0
    assert row["cycles__cov30"] == pytest.approx(1.0)
    assert row["cycles__days_since_reading"] == pytest.approx(1.0)


def test_linear_series_gives_exact_slope():
    values = np.arange(200, dtype=float)  # +1 per day
    out = reading_window_features(_daily("A", "x", values), cutoffs=[CUT], channels=["x"])
    mean90 = values[-90:].mean()
    assert out.loc[0, "x__trend90"] == pytest.approx(30.0 / mean90, rel=1e-6)


def test_weather_normalised_ratio_is_one_when_load_explains_everything():
    rng = np.random.default_rng(1)
    n = 400
    temp = 10 + 8 * np.sin(np.arange(n) / 58.0) + rng.normal(0, 1, n)
    d = degree_days(temp)
    energy = 3.0 + 2.0 * d
    part = _daily("A", "energy_kwh", energy)
    days = part["day"]
    dju = pd.DataFrame({"B": d}, index=pd.DatetimeIndex(days))
    out = reading_window_features(
        part,
        cutoffs=[CUT],
        channels=["energy_kwh"],
        dju=dju,
        weather_key=pd.Series({"A": "B"}),
    )
    assert out.loc[0, "energy_kwh__wn_ratio30"] == pytest.approx(1.0, rel=1e-6)
    # the raw 30-day mean still moves with the season
    assert out.loc[0, "energy_kwh__ratio30_year"] != pytest.approx(1.0, rel=1e-2)


def test_weather_normalised_drift_z_sees_a_fault_the_season_hides():
    # a channel with a name no rule knows: load-driven, noisy, +15 % over the last 30 days while
    # the weather warms up (the raw level falls: only the normalised one shows the drift)
    rng = np.random.default_rng(2)
    n = 400
    temp = 5 + 0.03 * np.arange(n) + rng.normal(0, 1, n)
    d = degree_days(temp)
    load = 2.0 + 1.0 * d
    base = load + rng.normal(0, 0.1, n)
    faulty = base + 0.15 * load * np.r_[np.zeros(n - 30), np.ones(30)]
    dju = pd.DataFrame({"B": d}, index=pd.date_range(end=CUT - pd.Timedelta(days=1), periods=n))
    kw = {"cutoffs": [CUT], "channels": ["flue_gas_m"], "dju": dju}
    kw["weather_key"] = pd.Series({"OK": "B", "BAD": "B"})
    part = pd.concat([_daily("OK", "flue_gas_m", base), _daily("BAD", "flue_gas_m", faulty)])
    out = reading_window_features(part, **kw).set_index("asset_ref")
    assert out.loc["BAD", "flue_gas_m__ratio30_year"] < 1.0  # the raw level falls
    assert out.loc["BAD", "flue_gas_m__wn_z30"] > 2.0
    assert out.loc["BAD", "flue_gas_m__wn_ratio30"] == pytest.approx(1.15, abs=0.03)
    assert abs(out.loc["OK", "flue_gas_m__wn_z30"]) < 1.0
    # the channel-agnostic summary carries the same drift
    assert out.loc["BAD", "any__drift_z30"] > 2.0 > out.loc["OK", "any__drift_z30"]
    assert out.loc["BAD", "any__drifting_channels"] == 1.0


def test_drift_against_the_past_year_without_weather():
    rng = np.random.default_rng(3)
    steady = rng.normal(10.0, 0.5, 400)
    stepped = steady.copy()
    stepped[-7:] += 3.0  # the last week jumps by 6 daily standard deviations
    part = pd.concat([_daily("S", "door_x", steady), _daily("J", "door_x", stepped)])
    out = reading_window_features(part, cutoffs=[CUT], channels=["door_x"]).set_index("asset_ref")
    assert out.loc["J", "door_x__z7_year"] == pytest.approx(6.0, rel=0.2)
    assert abs(out.loc["S", "door_x__z7_year"]) < 1.0
    assert out.loc["J", "any__drift_z7"] == pytest.approx(out.loc["J", "door_x__z7_year"])


def test_channel_without_readings_gives_nan_columns_not_an_error():
    part = _daily("A", "cycles", np.ones(50))
    out = reading_window_features(part, cutoffs=[CUT], channels=["cycles", "trips"])
    assert out["trips__mean30"].isna().all()
    assert out["cycles__mean30"].notna().all()


@pytest.mark.parametrize("dtype", ["str", "object", "category"])
def test_channel_names_of_any_string_dtype_give_the_same_windows(dtype):
    # Arrow strings (the readings store), Python strings, or a dictionary; unknown names skipped
    part = pd.concat(
        [_daily("A", "cycles", np.arange(60.0)), _daily("A", "other", np.ones(60))],
        ignore_index=True,
    )
    want = reading_window_features(part, cutoffs=[CUT], channels=["cycles"])
    part["channel"] = part["channel"].astype(dtype)
    got = reading_window_features(part, cutoffs=[CUT], channels=["cycles"])
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    assert got.loc[0, "cycles__mean7"] == pytest.approx(56.0)


def test_history_counts_recencies_and_overdue():
    sk = pd.DataFrame(
        {
            "asset_ref": ["A", "B"],
            "cutoff": [CUT, CUT],
            "category": ["boiler", "pump"],
            "installed_on": [pd.Timestamp("2010-01-01"), pd.NaT],
        }
    )
    wo = pd.DataFrame(
        {
            "asset_ref": ["A", "A", "A", "A", "B"],
            "kind": ["failure", "failure", "preventive", "failure", "corrective"],
            "opened_at": pd.to_datetime(
                ["2023-06-01", "2024-03-01", "2022-04-01", "2024-04-01", "2024-02-01"]
            ),
        }
    )
    out = history_features(sk, wo).set_index("asset_ref")
    assert out.loc["A", "failures_90d"] == 1  # the one on the cutoff day is excluded
    assert out.loc["A", "failures_365d"] == 2
    assert out.loc["A", "days_since_failure"] == (CUT - pd.Timestamp("2024-03-01")).days
    overdue = (CUT - pd.Timestamp("2022-04-01")).days - 365
    assert out.loc["A", "service_overdue_days"] == pytest.approx(overdue)
    assert out.loc["B", "corrective_90d"] == 1
    assert np.isnan(out.loc["B", "service_overdue_days"])  # no statutory interval for pumps
    # unknown installation date and no replacement on record: the age is unknown, not 3e11 years
    assert out.loc["A", "effective_age_years"] == pytest.approx((CUT.year - 2010) + 0.25, abs=0.01)
    assert np.isnan(out.loc["B", "effective_age_years"])


def test_static_features_age_and_dwellings_served():
    sk = pd.DataFrame(
        {
            "asset_ref": ["A", "L"],
            "cutoff": [CUT, CUT],
            "installed_on": [pd.Timestamp("2014-04-01"), pd.NaT],
            "expected_life_years": [20.0, 25.0],
            "year_built": [1970, 1970],
            "building_id": [1, 1],
            "serves": ["dwelling", "building"],
            "category": ["boiler", "elevator"],
        }
    )
    b = pd.DataFrame({"building_id": [1], "storeys": [5], "dwellings": [40]})
    out = static_features(sk, b)
    assert out.loc[0, "age_years"] == pytest.approx(10.0, abs=0.01)
    assert out.loc[1, "dwellings_served"] == 40
    assert out.loc[0, "dwellings_served"] == 1
    assert np.isnan(out.loc[1, "age_years"])


def test_robust_z_guards_zero_mad():
    z = robust_z(pd.Series([1.0, 1.0, 1.0, 1.0, 3.0]), [pd.Series(["g"] * 5)])
    assert np.isfinite(z).all()
    assert z.iloc[-1] > 3.5
    same = robust_z(pd.Series([2.0] * 4), [pd.Series(["g"] * 4)])
    assert (same == 0).all()


def _tiny_inputs(seed: int = 0):
    rng = np.random.default_rng(seed)
    refs = [f"A{i}" for i in range(12)]
    assets = pd.DataFrame(
        {
            "asset_id": range(1, 13),
            "asset_ref": refs,
            "building_id": [1 + i % 2 for i in range(12)],
            "category": ["boiler"] * 8 + ["elevator"] * 4,
            "installed_on": pd.to_datetime(["2010-01-01"] * 12),
            "expected_life_years": 15.0,
            "serves": "dwelling",
        }
    )
    frames = [
        _daily(r, ch, rng.lognormal(0, 0.3, 500), end=pd.Timestamp("2024-06-01"))
        for r in refs
        for ch in ("cycles", "energy_kwh")
    ]
    readings = pd.concat(frames, ignore_index=True)
    wo = pd.DataFrame(
        {
            "asset_ref": rng.choice(refs, 40),
            "kind": rng.choice(["failure", "preventive", "corrective"], 40),
            "opened_at": pd.Timestamp("2023-01-01")
            + pd.to_timedelta(rng.integers(0, 520, 40), unit="D"),
        }
    )
    cutoffs = monthly_cutoffs("2023-06-01", "2024-06-01")
    return assets, wo, readings, cutoffs


@pytest.mark.parametrize("npartitions", [1, 4])
def test_dask_features_equal_pandas(npartitions):
    assets, wo, readings, cutoffs = _tiny_inputs()
    expected = build_features(assets, wo, readings, cutoffs)
    # partitions of whole assets, as the readings store guarantees
    ddf = dd.from_pandas(readings.set_index("asset_ref").sort_index(), npartitions=npartitions)
    got = build_features(assets, wo, ddf, cutoffs)
    assert_eq(got, expected, check_index=False)
    assert got["cycles__mean30__peer_z"].notna().any()


def test_no_feature_reads_data_at_or_after_its_cutoff():
    assets, wo, readings, cutoffs = _tiny_inputs()
    cut = cutoffs[6]
    base = build_features(assets, wo, readings, [cut])
    rng = np.random.default_rng(9)
    future = readings["day"] >= cut
    perturbed = readings.copy()
    perturbed.loc[future, "value"] = rng.normal(100, 50, future.sum())
    extra = pd.DataFrame(
        {"asset_ref": "A0", "kind": "failure", "opened_at": [cut, cut + pd.Timedelta(days=3)]}
    )
    wo2 = pd.concat([wo[wo["opened_at"] < cut], extra], ignore_index=True)
    got = build_features(assets, wo2, perturbed, [cut])
    pd.testing.assert_frame_equal(got, base)
    # and the perturbation does change the features of a later cutoff (the test can fail)
    later = cut + pd.offsets.MonthBegin(1)
    a = build_features(assets, wo, readings, [later])
    b = build_features(assets, wo2, perturbed, [later])
    assert not a["cycles__mean7"].equals(b["cycles__mean7"])


def test_assets_without_readings_still_get_rows():
    assets, wo, readings, cutoffs = _tiny_inputs()
    readings = readings[readings["asset_ref"] != "A3"]
    f = build_features(assets, wo, readings, cutoffs[:2])
    rows = f[f["asset_ref"] == "A3"]
    assert len(rows) == 2
    assert rows["cycles__mean30"].isna().all()


def test_no_cutoff_is_a_clear_error():
    assets, wo, readings, _ = _tiny_inputs()
    with pytest.raises(PredictError, match="no cutoff dates"):
        build_features(assets, wo, readings, [])


def test_history_rows_match_their_own_orders_row_by_row():
    """Many assets over several cutoffs, rows in any order, orders of assets not in the rows:
    counts and recencies equal a row-by-row reading of each asset's own orders."""
    rng = np.random.default_rng(8)
    refs = [f"H{i:02d}" for i in range(40)]
    cutoffs = [pd.Timestamp("2023-01-01"), CUT, pd.Timestamp("2024-09-01")]
    sk = pd.DataFrame(
        {
            "asset_ref": np.repeat(refs, len(cutoffs)),
            "cutoff": np.tile(cutoffs, len(refs)),
            "category": "boiler",
            "installed_on": pd.Timestamp("2005-01-01"),
        }
    ).sample(frac=1.0, random_state=1)
    sk["asset_ref"] = sk["asset_ref"].astype("str")
    n = 600
    wo = pd.DataFrame(
        {
            "asset_ref": rng.choice([*refs, "ELSEWHERE-1", "ELSEWHERE-2"], n),
            "kind": rng.choice(["failure", "preventive", "corrective"], n),
            "opened_at": pd.Timestamp("2021-01-01")
            + pd.to_timedelta(rng.integers(0, 1400, n), "D"),
        }
    )
    out = history_features(sk, wo)
    for row, got in zip(sk.itertuples(), out.itertuples(), strict=True):
        assert got.asset_ref == row.asset_ref
        mine = wo[(wo["asset_ref"] == row.asset_ref) & (wo["opened_at"] < row.cutoff)]
        age = (row.cutoff - mine["opened_at"]).dt.days
        fail = age[mine["kind"] == "failure"]
        assert got.failures_90d == (fail <= 90).sum()
        assert got.failures_365d == (fail <= 365).sum()
        assert got.failures_all == len(fail)
        service = age[mine["kind"] == "preventive"]
        for name, ages in (("days_since_failure", fail), ("days_since_service", service)):
            want = float(ages.min()) if len(ages) else np.nan
            np.testing.assert_equal(getattr(got, name), want)
