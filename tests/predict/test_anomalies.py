from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from predict import detect_anomalies, meter_signatures
from predict.anomalies import BASELINE_DAYS, RECENT_DAYS
from predict.features.readings import degree_days

AS_OF = pd.Timestamp("2024-03-01")


def _sig(refs, nac, alpha=None, beta=None, recent=None):
    n = len(refs)
    return pd.DataFrame(
        {
            "meter_ref": refs,
            "days": 300.0,
            "alpha": alpha if alpha is not None else np.asarray(nac) / 365.0,
            "beta": beta if beta is not None else np.zeros(n),
            "dju_year": 2500.0,
            "nac_kwh": nac,
            "recent_ratio": recent if recent is not None else np.ones(n),
        }
    )


def _meters(refs, building, group, area=np.nan):
    return pd.DataFrame(
        {
            "meter_ref": refs,
            "kind": "dwelling",
            "name": refs,
            "building": building,
            "group": group,
            "area_m2": area,
        }
    )


def test_identical_peers_mad_zero_still_flags_the_outlier():
    refs = [f"D{i}" for i in range(8)]
    nac = [3000.0] * 7 + [9000.0]
    out = detect_anomalies(_sig(refs, nac), _meters(refs, "B1", "T3")).set_index("meter_ref")
    assert np.isfinite(out["modified_z"]).all()
    assert out.loc["D7", "flagged"]
    assert not out.loc["D0", "flagged"]
    assert out.loc["D7", "excess_kwh"] == pytest.approx(6000.0, rel=1e-3)
    assert out.loc["D7", "excess_eur"] == pytest.approx(6000.0 * 0.18, rel=1e-3)


def test_small_groups_widen_to_the_building_then_the_stock():
    refs = [f"D{i}" for i in range(10)]
    groups = ["T2"] * 3 + ["T3"] * 7
    out = detect_anomalies(_sig(refs, [3000.0] * 10), _meters(refs, "B1", groups))
    by = out.set_index("meter_ref")["peer_group"]
    assert by["D0"] == "L1:B1"  # 3 T2 flats: too few, the building is the peer group
    assert by["D5"] == "L0:B1|T3"
    lone = detect_anomalies(_sig(["X"], [3000.0]), _meters(["X"], "B9", "T5"))
    assert lone.loc[0, "peer_group"] == "L3:all"
    assert not lone.loc[0, "flagged"]


def test_reason_and_recent_drift():
    refs = [f"D{i}" for i in range(10)]
    rng = np.random.default_rng(0)
    alpha = 8 + rng.normal(0, 0.5, 10)
    beta = 1.0 + rng.normal(0, 0.05, 10)
    beta[3] = 3.0  # heats three times as much per degree-day
    nac = 365 * alpha + beta * 2500
    recent = np.ones(10)
    recent[3] = 1.5
    out = detect_anomalies(
        _sig(refs, nac, alpha, beta, recent), _meters(refs, "B1", "T3")
    ).set_index("meter_ref")
    assert out.loc["D3", "flagged"]
    assert out.loc["D3", "recent"]
    assert "heating slope" in out.loc["D3", "reason"]


def test_meter_signature_recovers_base_load_and_heating_slope():
    days = pd.date_range(AS_OF - pd.Timedelta(days=400), AS_OF - pd.Timedelta(days=1))
    t = np.arange(len(days))
    temp = 11 + 8 * np.sin(2 * np.pi * t / 365.0)
    d = degree_days(temp)
    part = pd.DataFrame(
        {"asset_ref": "D1", "channel": "energy_kwh", "day": days, "value": 4.0 + 1.5 * d}
    )
    dju = pd.DataFrame({"B1": d}, index=days)
    s = meter_signatures(part, as_of=AS_OF, dju=dju, weather_key=pd.Series({"D1": "B1"}))
    assert s.loc[0, "alpha"] == pytest.approx(4.0, rel=1e-6)
    assert s.loc[0, "beta"] == pytest.approx(1.5, rel=1e-6)
    assert s.loc[0, "recent_ratio"] == pytest.approx(1.0, rel=1e-6)


def test_a_meter_glitch_in_the_last_weeks_is_not_a_drift():
    days = pd.date_range(AS_OF - pd.Timedelta(days=400), AS_OF - pd.Timedelta(days=1))
    value = np.random.default_rng(1).lognormal(np.log(6.0), 0.08, len(days))
    value[-10] *= 10  # one day read ten times too high (a meter reset, a cumulative index)
    part = pd.DataFrame({"asset_ref": "D1", "channel": "energy_kwh", "day": days, "value": value})
    s = meter_signatures(part, as_of=AS_OF)
    assert s.loc[0, "recent_ratio"] == pytest.approx(1.0, abs=0.05)
    kept = np.delete(value[-RECENT_DAYS:], RECENT_DAYS - 10)
    base = value[-(RECENT_DAYS + BASELINE_DAYS) : -RECENT_DAYS]
    assert s.loc[0, "recent_ratio"] == pytest.approx(kept.mean() / base.mean(), rel=1e-9)
    # a lasting rise is still a drift: the last four weeks 40 % above the baseline
    part.loc[part.index[-RECENT_DAYS:], "value"] = value[-RECENT_DAYS:] * 1.4
    assert meter_signatures(part, as_of=AS_OF).loc[0, "recent_ratio"] > 1.3
