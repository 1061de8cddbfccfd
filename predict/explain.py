"""Top drivers in words, from LightGBM's own per-row contributions (``pred_contrib``)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

#: In English whatever the process locale (pandas' default; ``calendar`` follows the locale).
_MONTHS = tuple(pd.Timestamp(2000, m, 1).month_name() for m in range(1, 13))
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
    >>> describe_feature("effective_age_years", None)
    'installation date unknown'
    >>> describe_feature("month", 1.0), describe_feature("category", "fire_safety")
    ('season (January)', 'fire safety: failure-prone equipment for its age')
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return _missing_words(name)
    if not isinstance(value, int | float | np.floating | np.integer):
        if name == "category":
            return f"{str(value).replace('_', ' ')}: failure-prone equipment for its age"
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
        "month": f"season ({_MONTHS[n - 1] if 1 <= n <= 12 else n})",
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


#: A missing value in words: what the registry lacks, as a landlord would fix it.
_MISSING = {
    "days_since_failure": "no failure on record",
    "days_since_service": "no service on record",
    "days_since_replacement": "never replaced on record",
    "age_years": "installation date unknown",
    "effective_age_years": "installation date unknown",
    "age_over_life": "installation date or expected life unknown",
    "expected_life_years": "expected life unknown",
    "building_age_years": "building's construction year unknown",
    "storeys": "building's storeys unknown",
    "dwellings_served": "dwellings served unknown",
}
#: What a channel statistic measures, for "too few <channel> readings for …".
_CHANNEL_STATS = {
    "mean7": "a 7-day average",
    "mean30": "a 30-day average",
    "mean90": "a 90-day average",
    "std30": "a 30-day spread",
    "std90": "a 90-day spread",
    "ratio7_30": "a weekly change",
    "ratio30_prev90": "a 30-day change",
    "ratio30_year": "a comparison with its past year",
    "z7_year": "a comparison with its past year",
    "z30_year": "a comparison with its past year",
    "trend90": "a 90-day trend",
    "wn_slope": "a weather fit",
    "wn_ratio30": "a weather-normalised level",
    "wn_z7": "a weather-normalised level",
    "wn_z30": "a weather-normalised level",
}
#: A peer comparison's statistic in words ("<channel> <words> above its peers").
_PEER_STATS = {
    "mean30": "30-day level",
    "ratio30_prev90": "30-day change",
    "trend90": "90-day trend",
    "wn_ratio30": "weather-normalised level",
}


def _missing_words(name: str) -> str:
    """Why a feature has no value, in words (no sensor, no date in the registry …).

    >>> _missing_words("energy_kwh__mean30")
    'too few energy_kwh readings for a 30-day average'
    >>> _missing_words("any__drift_z30")
    'no sensor readings to judge drift'
    """
    if name in _MISSING:
        return _MISSING[name]
    if "__" not in name:
        return f"{name.replace('_', ' ')} unknown"
    ch, stat, *rest = name.split("__")
    if ch == "any":
        return "no sensor readings to judge drift"
    if rest and rest[0] == "peer_z":
        return f"{ch}: no peers to compare with"
    if stat == "days_since_reading":
        return f"no {ch} reading on record"
    return f"too few {ch} readings for {_CHANNEL_STATS.get(stat, stat.replace('_', ' '))}"


def _channel_words(name: str, v: float) -> str:
    parts = name.split("__")
    ch, stat = parts[0], parts[1]
    peer = len(parts) > 2 and parts[2] == "peer_z"
    if peer:
        side = "above" if v >= 0 else "below"
        what = _PEER_STATS.get(stat, stat)
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


def _values_text(name: str, column: pd.Series) -> np.ndarray:
    """``describe_feature`` of every value of ``column``, worded once per distinct value."""
    if column.dtype == np.float64:
        # by bit pattern: 0.0 and -0.0 are worded apart ('-0'), as a row-by-row loop words them
        codes, bits = pd.factorize(column.to_numpy().view(np.int64))
        values: list[object] = [None if np.isnan(v) else float(v) for v in bits.view(np.float64)]
    else:
        codes, uniques = pd.factorize(column)
        values = list(np.asarray(uniques, dtype=object))
        codes = np.where(codes < 0, len(values), codes)
        values.append(None)
    return np.array([describe_feature(name, v) for v in values], dtype=object)[codes]


def _drifting_channels(name: str, values: pd.DataFrame, rows: np.ndarray) -> np.ndarray:
    """The channel behind a drift summary in each of ``rows``: the largest |z| of its window."""
    w = name.removeprefix("any__drift_z")
    cands = [c for c in values.columns if c.endswith((f"__wn_z{w}", f"__z{w}_year"))]
    channels = np.array([c.split("__")[0] for c in cands] + ["a reading channel"], dtype=object)
    if not cands:
        return np.full(len(rows), channels[-1], dtype=object)
    z = np.abs(np.column_stack([values[c].to_numpy(dtype=np.float64)[rows] for c in cands]))
    z = np.where(np.isnan(z), -1.0, z)
    best = np.argmax(z, axis=1)  # the first of equal |z|, as a strict '>' scan keeps it
    best = np.where(z[np.arange(len(rows)), best] < 0, len(cands), best)
    return channels[best]


def driver_words(order: np.ndarray, top: np.ndarray, values: pd.DataFrame) -> np.ndarray:
    """Rows' drivers in words from their top columns ``order`` and contributions ``top``.

    ``order`` and ``top`` are rows × k, sorted by decreasing contribution; the first driver is
    always worded, the next ones only when they raise the risk and say something new (two
    features missing for one reason are worded once). Each (feature, value) is worded once,
    by :func:`describe_feature`, and only for the rows that need it.
    """
    n, k = order.shape
    keep = np.ones((n, k), dtype=bool)
    keep[:, 1:] = top[:, 1:] > 0
    texts = np.full((n, k), "", dtype=object)
    names = list(values.columns)
    rows_all, slots_all = np.nonzero(keep)
    feature = order[rows_all, slots_all]
    by_feature = np.argsort(feature, kind="stable")
    cuts = np.flatnonzero(np.diff(feature[by_feature])) + 1
    for group in np.split(by_feature, cuts) if len(feature) else []:
        j = int(feature[group[0]])
        rows, slots = rows_all[group], slots_all[group]
        name = names[j]
        words = _values_text(name, values.iloc[:, j].take(rows))
        if name.startswith("any__drift_z"):
            chans = _drifting_channels(name, values, rows)
            pairs = pd.MultiIndex.from_arrays([words, chans])
            codes, uniq = pd.factorize(pairs)
            done = np.array([t.replace("a reading channel", c) for t, c in uniq], dtype=object)
            words = done[codes]
        if name == "age_over_life" and "expected_life_years" in values.columns:
            # the usual reason: the expected life is known, the installation date is not
            life = values["expected_life_years"].to_numpy(dtype=np.float64)[rows]
            ratio = values.iloc[:, j].to_numpy(dtype=np.float64)[rows]
            words = np.where(np.isnan(ratio) & np.isfinite(life), _MISSING["age_years"], words)
        texts[rows, slots] = words
    out = texts[:, 0]
    for s in range(1, k):
        # a fact worded once: the installation date behind both age features, say
        fresh = np.all([texts[:, s] != texts[:, t] for t in range(s)], axis=0)
        more = keep[:, s] & fresh
        out[more] = out[more] + "; " + texts[more, s]
    return out


def top_drivers(contrib: pd.DataFrame, values: pd.DataFrame, k: int = 3) -> list[str]:
    """For each row, the ``k`` features that raise its risk most, in words, joined by '; '."""
    c = contrib.to_numpy(dtype=np.float64)
    order = np.argsort(-c, axis=1, kind="stable")[:, :k]
    top = np.take_along_axis(c, order, axis=1)
    return list(driver_words(order, top, values[list(contrib.columns)]))
