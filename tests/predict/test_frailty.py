"""Exposure and empirical-Bayes frailty: how often an asset, and its building, failed before."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from predict.features.history import history_features
from predict.features.peers import frailty_features

CUT = pd.Timestamp("2024-06-01")
START = pd.Timestamp("2022-01-01")


def test_exposure_counts_the_slot_from_history_start_or_when_it_appears():
    sk = pd.DataFrame(
        {
            "asset_ref": ["OLD", "NEW", "REPLACED", "UNKNOWN"],
            "cutoff": [CUT] * 4,
            "category": ["boiler"] * 4,
            "installed_on": pd.to_datetime(["2005-01-01", "2023-06-01", "2024-01-01", None]),
        }
    )
    wo = pd.DataFrame(
        {
            "asset_ref": ["REPLACED", "REPLACED", "UNKNOWN", "UNKNOWN"],
            "kind": ["failure", "replacement", "failure", "failure"],
            "opened_at": pd.to_datetime(["2022-07-01", "2024-01-01", "2023-01-01", "2024-07-01"]),
        }
    )
    out = history_features(sk, wo, history_start=START).set_index("asset_ref")
    years = out["exposure_years"]
    assert years["OLD"] == pytest.approx((CUT - START).days / 365.25)
    assert years["NEW"] == pytest.approx((CUT - pd.Timestamp("2023-06-01")).days / 365.25)
    # the replaced unit's slot was watched since its first order, before the new unit
    assert years["REPLACED"] == pytest.approx((CUT - pd.Timestamp("2022-07-01")).days / 365.25)
    # unknown installation date: in service before the history began
    assert years["UNKNOWN"] == years["OLD"]
    assert out.loc["REPLACED", "failures_all"] == 1


def test_exposure_ignores_orders_at_or_after_the_cutoff():
    sk = pd.DataFrame(
        {
            "asset_ref": ["A"],
            "cutoff": [CUT],
            "category": ["pump"],
            "installed_on": [pd.Timestamp("2023-06-01")],
        }
    )
    late = pd.DataFrame(
        {"asset_ref": ["A", "A"], "kind": ["failure", "failure"], "opened_at": [CUT, START]}
    )
    seen = history_features(sk, late, history_start=START)
    # the order before the history start of the unit moves the slot's start; the one ON the
    # cutoff does not count, as if it were not there
    assert seen.loc[0, "exposure_years"] == pytest.approx((CUT - START).days / 365.25)
    alone = history_features(sk, late.iloc[:1], history_start=START)
    assert alone.loc[0, "exposure_years"] == pytest.approx(
        (CUT - pd.Timestamp("2023-06-01")).days / 365.25
    )
    assert alone.loc[0, "failures_all"] == 0


def _stock(failures: list[float], buildings: list[int], years: float = 2.0) -> pd.DataFrame:
    n = len(failures)
    return pd.DataFrame(
        {
            "building_id": buildings,
            "category": ["elevator"] * n,
            "cutoff": [CUT] * n,
            "failures_all": failures,
            "exposure_years": [years] * n,
        }
    )


def test_frequent_failer_ranks_above_quiet_one_and_short_records_shrink_to_one():
    frame = _stock([12, 1, 4, 4, 3, 5, 4, 3], [1, 1, 2, 2, 3, 3, 4, 4])
    out = frailty_features(frame)
    unit = out["unit_frailty_eb"]
    assert unit[0] > 1.5 > 1 > unit[1]
    # the same counts over a week of exposure say almost nothing: close to the category rate
    short = frailty_features(_stock([1, 0, 0, 0, 0, 0, 0, 0], [1] * 8, years=7 / 365.25))
    assert short["unit_frailty_eb"].between(0.8, 1.6).all()
    # no failure anywhere: every ratio is exactly the prior 1, never NaN
    none = frailty_features(_stock([0] * 4, [1, 1, 2, 2]))
    assert (none["unit_frailty_eb"] == 1.0).all()


def test_building_frailty_uses_only_the_other_assets_of_the_building():
    frame = _stock([9, 8, 10, 1, 0, 1, 1, 0], [1, 1, 1, 2, 2, 2, 3, 3])
    frame.loc[7, "building_id"] = np.nan  # building unknown
    out = frailty_features(frame)
    same = out["building_category_frailty_eb"]
    assert same[0] > 1 > same[3]  # building 1's lifts all fail often
    # asset 6 is alone in building 3 (7's building is unknown): no evidence, the prior
    assert same[6] == pytest.approx(1.0)
    assert np.isnan(same[7])
    assert np.isnan(out.loc[7, "building_frailty_eb"])
    # more failures of asset 0 raise its own ratio and its neighbours' building ratios
    bumped = frame.copy()
    bumped.loc[0, "failures_all"] = 30
    again = frailty_features(bumped)
    assert again.loc[0, "unit_frailty_eb"] > out.loc[0, "unit_frailty_eb"]
    assert again.loc[1, "building_category_frailty_eb"] > same[1]
    # frailty_eb shrinks a unit toward its building's ratio, not toward 1
    assert out.loc[3, "frailty_eb"] < out.loc[3, "unit_frailty_eb"]
    assert out.loc[0, "frailty_eb"] > out.loc[0, "unit_frailty_eb"]
