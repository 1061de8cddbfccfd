from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from predict import (
    PastFailureRateBaseline,
    PredictError,
    WeibullAgeBaseline,
    make_labels,
    time_split,
)
from predict.baselines import fit_weibull_hazard
from predict.survival import fit_lifetimes, remaining_life_years


def test_labels_window_and_censoring():
    frame = pd.DataFrame(
        {
            "asset_ref": ["A", "A", "A", "B"],
            "cutoff": pd.to_datetime(["2024-01-01", "2024-03-01", "2024-05-01", "2024-01-01"]),
        }
    )
    wo = pd.DataFrame(
        {
            "asset_ref": ["A", "B"],
            "kind": ["failure", "preventive"],
            "opened_at": pd.to_datetime(["2024-03-01", "2024-01-10"], utc=True),
        }
    )
    lab = make_labels(frame, wo, horizon_days=90, history_end=pd.Timestamp("2024-07-01"))
    # the failure ON a cutoff belongs to that cutoff's horizon, not the previous (≥ 60 days)
    assert lab["failed"].tolist() == [True, True, False, False]
    assert lab["observed"].tolist() == [True, True, False, True]


def test_bad_horizon_is_named():
    with pytest.raises(PredictError, match="`horizon_days` must be a positive int. Got -30"):
        make_labels(pd.DataFrame({"asset_ref": [], "cutoff": []}), pd.DataFrame(), horizon_days=-30)


def test_time_split_is_ordered_and_purged():
    cs = list(pd.date_range("2021-01-01", "2023-12-01", freq="MS"))
    s = time_split(cs, horizon_days=90)
    assert max(s.train) + pd.Timedelta(days=90) <= min(s.valid)
    assert max(s.valid) + pd.Timedelta(days=90) <= min(s.test)
    assert not set(s.train) & set(s.test)


def test_time_split_too_short_history():
    with pytest.raises(PredictError, match="at least 6 monthly cutoffs"):
        time_split(list(pd.date_range("2024-01-01", periods=3, freq="MS")))


def test_weibull_hazard_fit_recovers_parameters_with_censoring():
    rng = np.random.default_rng(0)
    k, lam, h = 2.5, 30.0, 0.25
    age = rng.uniform(0, 40, 40_000)
    p = 1 - np.exp(-(((age + h) / lam) ** k - (age / lam) ** k))
    y = rng.random(len(age)) < p
    k_hat, lam_hat = fit_weibull_hazard(age, y, h)
    assert k_hat == pytest.approx(k, rel=0.15)
    assert lam_hat == pytest.approx(lam, rel=0.15)


def test_weibull_baseline_per_category_and_pooled_for_a_lone_asset():
    rng = np.random.default_rng(1)
    n = 3000
    X = pd.DataFrame(
        {
            "category": ["boiler"] * n + ["roof"],
            "age_years": np.r_[rng.uniform(0, 30, n), 10.0],
        }
    )
    y = np.r_[rng.random(n) < X["age_years"][:n] / 100, False]
    m = WeibullAgeBaseline(horizon_days=90).fit(X, y)
    assert "boiler" in m.params_
    assert "roof" not in m.params_
    p = m.predict_proba(X)[:, 1]
    assert np.isfinite(p).all()
    young, old = p[:n][X["age_years"][:n] < 5].mean(), p[:n][X["age_years"][:n] > 25].mean()
    assert old > young
    again = WeibullAgeBaseline.from_json(m.to_json())
    np.testing.assert_allclose(again.predict_proba(X), m.predict_proba(X))


def test_baselines_refuse_a_history_without_failures():
    X = pd.DataFrame({"category": ["boiler"] * 5, "age_years": 1.0, "failures_365d": 0})
    with pytest.raises(PredictError, match="no failure at all"):
        WeibullAgeBaseline().fit(X, [False] * 5)
    with pytest.raises(PredictError, match="no failure at all"):
        PastFailureRateBaseline().fit(X, [False] * 5)


def test_past_failure_rate_orders_by_history():
    X = pd.DataFrame({"category": ["pump"] * 200, "failures_365d": [0] * 150 + [2] * 50})
    y = np.r_[np.zeros(140), np.ones(10), np.zeros(25), np.ones(25)].astype(bool)
    p = PastFailureRateBaseline().fit(X, y).predict_proba(X)[:, 1]
    assert p[-1] > p[0]
    assert p[0] == pytest.approx((10 + 20 * 35 / 200) / (150 + 20))


def test_lifetimes_fall_back_to_expected_life_and_remaining_life_shrinks_with_risk():
    assets = pd.DataFrame(
        {
            "asset_ref": ["A", "B"],
            "category": ["boiler", "boiler"],
            "installed_on": pd.to_datetime(["2010-01-01", "2015-01-01"]),
            "expected_life_years": [15.0, 15.0],
        }
    )
    wo = pd.DataFrame({"asset_ref": [], "kind": [], "opened_at": pd.to_datetime([])})
    lt = fit_lifetimes(assets, wo, pd.Timestamp("2024-01-01"))
    assert lt["boiler"]["source"] == "prior"
    k, lam = lt["boiler"]["shape"], lt["boiler"]["scale"]
    new = remaining_life_years(np.array([0.0]), np.array([k]), np.array([lam]))
    assert new[0] == pytest.approx(15.0, rel=0.01)
    base, risky = remaining_life_years(
        np.array([10.0, 10.0]), np.array([k, k]), np.array([lam, lam]), np.array([1.0, 3.0])
    )
    assert risky < base < 15.0


def test_lifetimes_fit_replacements_with_censoring():
    rng = np.random.default_rng(3)
    n = 400
    life = 12.0 * rng.weibull(3.0, n)
    installed = pd.Timestamp("2000-01-01") + pd.to_timedelta(rng.integers(0, 3650, n), unit="D")
    end = installed + pd.to_timedelta(life * 365.25, unit="D")
    as_of = pd.Timestamp("2020-01-01")
    seen = end < as_of
    assets = pd.DataFrame(
        {
            "asset_ref": [f"A{i}" for i in range(n)],
            "category": "pump",
            "installed_on": installed,
            "expected_life_years": 30.0,  # a wrong prior: the data must win
        }
    )
    wo = pd.DataFrame(
        {"asset_ref": assets["asset_ref"][seen], "kind": "replacement", "opened_at": end[seen]}
    )
    lt = fit_lifetimes(assets, wo, as_of)["pump"]
    assert lt["source"] == "mle"
    assert lt["shape"] == pytest.approx(3.0, rel=0.25)
    assert lt["scale"] == pytest.approx(12.0, rel=0.15)


def test_drivers_in_words():
    from predict.explain import describe_feature, top_drivers

    assert describe_feature("cycles__ratio30_prev90", 1.6) == "cycles up 60 % over 30 days"
    assert describe_feature("service_overdue_days", 245.0) == "service overdue by 8 months"
    assert describe_feature("failures_365d", 3.0) == "3 failures in the last 365 days"
    assert describe_feature("days_since_service", None) == "no service on record"
    assert describe_feature("month", 12.0) == "season (December)"
    assert describe_feature("category", "water_heater") == (
        "water heater: failure-prone equipment for its age"
    )
    contrib = pd.DataFrame({"failures_365d": [0.5, -0.1], "cycles__ratio30_prev90": [0.1, 0.9]})
    values = pd.DataFrame({"failures_365d": [3.0, 0.0], "cycles__ratio30_prev90": [1.0, 0.5]})
    words = top_drivers(contrib, values, k=2)
    assert words[0] == "3 failures in the last 365 days; cycles up 0 % over 30 days"
    assert words[1] == "cycles down 50 % over 30 days"


def test_missing_values_say_what_the_registry_or_the_meters_lack():
    # a missing value is a driver too (LightGBM routes it): worded as what a landlord can fix
    from predict.explain import describe_feature, top_drivers

    assert describe_feature("effective_age_years", None) == "installation date unknown"
    assert describe_feature("age_over_life", float("nan")) == (
        "installation date or expected life unknown"
    )
    assert describe_feature("energy_kwh__mean30", None) == (
        "too few energy_kwh readings for a 30-day average"
    )
    assert describe_feature("cycles__z30_year", None) == (
        "too few cycles readings for a comparison with its past year"
    )
    assert describe_feature("any__drift_z30", None) == "no sensor readings to judge drift"
    assert describe_feature("energy_kwh__trend90__peer_z", None) == (
        "energy_kwh: no peers to compare with"
    )
    assert describe_feature("cop__days_since_reading", None) == "no cop reading on record"
    assert describe_feature("some_new_column", None) == "some new column unknown"
    assert describe_feature("energy_kwh__trend90__peer_z", 2.5) == (
        "energy_kwh 90-day trend above its peers (robust z +2.5)"
    )
    # one missing installation date behind both age features: worded once
    names = ["effective_age_years", "age_over_life", "expected_life_years", "any__drift_z30"]
    contrib = pd.DataFrame([[0.4, 0.3, 0.0, 0.2], [0.4, 0.3, 0.0, 0.2]], columns=names)
    values = pd.DataFrame([[np.nan, np.nan, 15.0, np.nan], [np.nan, np.nan, np.nan, 1.0]])
    values.columns = names
    assert top_drivers(contrib, values) == [
        "installation date unknown; no sensor readings to judge drift",
        "installation date unknown; installation date or expected life unknown; "
        "a reading channel 1.0 standard deviations off its normal (30 days)",
    ]


def test_calibration_never_flips_the_ranking():
    from predict.train import fit_platt

    rng = np.random.default_rng(0)
    raw = rng.uniform(0.01, 0.2, 2000)
    y = rng.random(2000) < (0.25 - raw)  # anti-correlated validation period
    cal = fit_platt(raw, y)
    assert cal["a"] > 0
    assert cal["method"] == "intercept-only"
    p = 1 / (1 + np.exp(-(cal["a"] * np.log(raw / (1 - raw)) + cal["b"])))
    assert p.mean() == pytest.approx(y.mean(), rel=1e-3)
    good = fit_platt(raw, rng.random(2000) < raw)
    assert good["method"] == "platt"
    assert good["a"] > 0.2
