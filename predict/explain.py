"""Top drivers in words, from LightGBM's own per-row contributions (``pred_contrib``)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

_WINDOW_WORDS = {"mean7": 7, "mean30": 30, "mean90": 90, "std30": 30, "std90": 90}


def _pct(v: float) -> str:
    return f"{abs(v) * 100:.0f} %"


def _times(v: float) -> str:
    """A rate ratio in words: '2.3×', or '0.5×'."""
    return f"{v:.1f}×"


def _updown(v: float) -> str:
    return "up" if v >= 0 else "down"


def describe_feature(name: str, value: object) -> str:
    """One feature value in plain words.

    >>> describe_feature("cycles__ratio30_prev90", 1.6)
    'cycles up 60 % over 30 days'
    >>> describe_feature("service_overdue_days", 245.0)
    'service overdue by 8 months'
    >>> describe_feature("failures_365d", 3.0)
    '3 failures in the last 365 days'
    >>> describe_feature("frailty_eb", 2.34)
    'fails 2.3× as often as its kind (own and building history)'
    >>> describe_feature("cop__wn_z30", -3.2)
    'cop 3.2 sd below what the weather explains (30 days)'
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        missing = {
            "days_since_failure": "no failure on record",
            "days_since_service": "no service on record",
            "days_since_replacement": "never replaced on record",
        }
        if name in missing:
            return missing[name]
        return f"{name.replace('__', ' ').replace('_', ' ')} unknown"
    if not isinstance(value, int | float | np.floating | np.integer):
        if name == "category":
            return f"{value}: failure-prone equipment for its age"
        label = name.replace("_", " ")
        return f"{label} {value}"
    v = float(value)
    if "__" in name:
        return _channel_words(name, v)
    n = int(round(v))
    simple = {
        "failures_90d": f"{n} failure{'s' * (n != 1)} in the last 90 days",
        "failures_365d": f"{n} failure{'s' * (n != 1)} in the last 365 days",
        "corrective_90d": f"{n} corrective job{'s' * (n != 1)} in the last 90 days",
        "corrective_365d": f"{n} corrective job{'s' * (n != 1)} in the last 365 days",
        "preventive_365d": f"{n} service{'s' * (n != 1)} in the last 365 days",
        "inspections_365d": f"{n} inspection{'s' * (n != 1)} in the last 365 days",
        "days_since_failure": f"last failure {n} days ago",
        "days_since_service": f"last service {v / 30.44:.0f} months ago",
        "days_since_replacement": f"replaced {v / 365.25:.1f} years ago",
        "age_years": f"{v:.0f} years old",
        "effective_age_years": f"{v:.0f} years since installed or replaced",
        "age_over_life": f"at {v * 100:.0f} % of its expected life",
        "expected_life_years": f"expected life {v:.0f} years",
        "building_age_years": f"building {v:.0f} years old",
        "storeys": f"{n} storeys",
        "dwellings_served": f"serves {n} dwelling{'s' * (n != 1)}",
        "month": f"season (month {n})",
        "failures_all": f"{n} failure{'s' * (n != 1)} on record",
        "failure_rate_per_year": f"{v:.1f} failures a year in service",
        "building_failures_365d": f"other equipment of the building: {v:.2f} failures each "
        "in the last 365 days",
        "building_category_failures_365d": f"same equipment in the building: {v:.2f} failures "
        "each in the last 365 days",
        "exposure_years": f"{v:.1f} years of maintenance history",
        "unit_frailty_eb": f"fails {_times(v)} as often as its kind (history, shrunk)",
        "frailty_eb": f"fails {_times(v)} as often as its kind (own and building history)",
        "building_category_frailty_eb": f"same equipment in the building fails {_times(v)} as "
        "often as elsewhere",
        "building_frailty_eb": f"the building's equipment fails {_times(v)} as often as elsewhere",
    }
    if name == "service_overdue_days":
        if v > 0:
            return f"service overdue by {v / 30.44:.0f} months"
        return f"service due in {-v / 30.44:.0f} months"
    return simple.get(name, f"{name.replace('_', ' ')} = {v:.3g}")


def _channel_words(name: str, v: float) -> str:
    parts = name.split("__")
    ch, stat = parts[0], parts[1]
    peer = len(parts) > 2 and parts[2] == "peer_z"
    if peer:
        side = "above" if v >= 0 else "below"
        what = {"mean30": "30-day level", "ratio30_prev90": "30-day change"}.get(stat, stat)
        return f"{ch} {what} {side} its peers (robust z {v:+.1f})"
    if stat == "ratio30_prev90":
        return f"{ch} {_updown(v - 1)} {_pct(v - 1)} over 30 days"
    if stat == "ratio7_30":
        return f"{ch} {_updown(v - 1)} {_pct(v - 1)} in the last week"
    if stat == "ratio30_year":
        return f"{ch} {_updown(v - 1)} {_pct(v - 1)} against its past year"
    if stat == "wn_ratio30":
        side = "above" if v >= 1 else "below"
        return f"{ch} {_pct(v - 1)} {side} what the weather explains (30 days)"
    if ch == "any" and stat.startswith("drift_z"):
        days = stat.removeprefix("drift_z")
        return f"a reading channel {v:.1f} standard deviations off its normal ({days} days)"
    if ch == "any" and stat == "drifting_channels":
        n = int(v)
        return f"{n} reading channel{'s' * (n != 1)} drifting"
    if stat in ("wn_z7", "wn_z30"):
        side = "above" if v >= 0 else "below"
        days = stat.removeprefix("wn_z")
        return f"{ch} {abs(v):.1f} sd {side} what the weather explains ({days} days)"
    if stat in ("z7_year", "z30_year"):
        side = "above" if v >= 0 else "below"
        days = stat.removeprefix("z").removesuffix("_year")
        return f"{ch} {abs(v):.1f} sd {side} its past year ({days} days)"
    if stat == "wn_slope":
        return f"{ch} weather sensitivity {v:.2f}"
    if stat == "trend90":
        return f"{ch} trending {_updown(v)} {_pct(v)} a month"
    if stat == "cov30":
        return f"{ch} read on {v * 100:.0f} % of the last 30 days"
    if stat == "days_since_reading":
        return f"no {ch} reading for {v:.0f} days"
    if stat in _WINDOW_WORDS:
        kind = "spread" if stat.startswith("std") else "average"
        return f"{ch} {_WINDOW_WORDS[stat]}-day {kind} {v:.3g}"
    return f"{ch} {stat} {v:.3g}"


def _drifting_channel(name: str, cols: dict[str, np.ndarray], i: int) -> str:
    """The channel behind a drift summary in row ``i``: the largest |z| of the same window."""
    w = name.removeprefix("any__drift_z")
    best, best_z = "a reading channel", -1.0
    for col, arr in cols.items():
        if col.endswith((f"__wn_z{w}", f"__z{w}_year")):
            v = arr[i]
            if v is not None and not pd.isna(v) and abs(float(v)) > best_z:
                best, best_z = col.split("__")[0], abs(float(v))
    return best


def top_drivers(contrib: pd.DataFrame, values: pd.DataFrame, k: int = 3) -> list[str]:
    """For each row, the ``k`` features that raise its risk most, in words, joined by '; '."""
    c = contrib.to_numpy(dtype=np.float64)
    order = np.argsort(-c, axis=1, kind="stable")[:, :k]
    names = list(contrib.columns)
    cols = {n: values[n].to_numpy(dtype=object) for n in names}
    out: list[str] = []
    for i in range(len(c)):
        words = []
        for j in order[i]:
            if c[i, j] <= 0 and words:
                break
            val = cols[names[j]][i]
            text = describe_feature(names[j], None if pd.isna(val) else val)
            if names[j].startswith("any__drift_z"):
                text = text.replace("a reading channel", _drifting_channel(names[j], cols, i))
            words.append(text)
        out.append("; ".join(words))
    return out
