"""Maintenance-history features: counts and recencies of work orders strictly before a cutoff."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

#: Statutory service interval per category, days (maintenance-facts §2; planner has the full
#: table). Used for "service overdue"; a parameter of :func:`history_features`.
STATUTORY_SERVICE_DAYS: dict[str, float] = {
    "boiler": 365.0,
    "heat_pump": 730.0,
    "elevator": 42.0,
    "ventilation_fan": 365.0,
    "fire_safety": 365.0,
}

HISTORY_COLUMNS = [
    "failures_90d",
    "failures_365d",
    "failures_all",
    "failure_rate_per_year",
    "corrective_90d",
    "corrective_365d",
    "preventive_365d",
    "inspections_365d",
    "days_since_failure",
    "days_since_service",
    "days_since_replacement",
    "effective_age_years",
    "service_overdue_days",
    "exposure_years",
]
_SPAN = 1_000_000.0  # key = asset code × span + day number (days since 1970 < span)


def history_meta() -> pd.DataFrame:
    """Empty frame with the dtypes of :func:`history_features` (Dask ``meta``)."""
    data: dict[str, Any] = {
        "asset_ref": pd.array([], dtype="str"),
        "cutoff": np.empty(0, dtype="datetime64[ns]"),
    }
    data.update(dict.fromkeys(HISTORY_COLUMNS, np.empty(0)))
    return pd.DataFrame(data)


def _days(values: pd.Series | np.ndarray) -> np.ndarray:
    """Days since 1970 as floats, NaN for NaT (a plain cast would give −1e14 days)."""
    arr = np.asarray(pd.to_datetime(values), dtype="datetime64[s]")
    return np.where(np.isnat(arr), np.nan, arr.astype("float64") / 86400.0)


def history_features(
    skeleton: pd.DataFrame,
    work_orders: pd.DataFrame,
    *,
    statutory_days: Mapping[str, float] | None = None,
    history_start: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Work-order counts and recencies per (asset, cutoff), from orders opened before the cutoff.

    ``skeleton`` has ``asset_ref, cutoff, category, installed_on``; ``work_orders`` has
    ``asset_ref, kind, opened_at`` (naive or UTC). ``history_start`` (default: the first work
    order) is where "never serviced" starts counting for the overdue feature.

    Examples
    --------
    >>> sk = pd.DataFrame({"asset_ref": ["A"], "cutoff": [pd.Timestamp("2024-06-01")],
    ...                    "category": ["boiler"], "installed_on": [pd.Timestamp("2010-01-01")]})
    >>> wo = pd.DataFrame({"asset_ref": ["A", "A"], "kind": ["failure", "failure"],
    ...                    "opened_at": pd.to_datetime(["2024-05-01", "2024-06-01"])})
    >>> int(history_features(sk, wo).loc[0, "failures_90d"])   # the one ON the cutoff is out
    1
    """
    statutory = STATUTORY_SERVICE_DAYS if statutory_days is None else dict(statutory_days)
    meta = history_meta()
    if len(skeleton) == 0:
        return meta
    # codes in Arrow (no Python string per row): the distinct refs in order of appearance
    refs = pd.array(skeleton["asset_ref"], dtype="str")
    codes, distinct = pd.factorize(refs, use_na_sentinel=False)
    codes_index = pd.Index(distinct)
    q_code = codes.astype(np.float64)
    q_day = _days(skeleton["cutoff"])
    wo = work_orders
    opened = pd.to_datetime(wo["opened_at"])
    if getattr(opened.dt, "tz", None) is not None:
        opened = opened.dt.tz_convert("UTC").dt.tz_localize(None)
    w_code = codes_index.get_indexer(wo["asset_ref"].to_numpy(dtype=object)).astype(np.float64)
    w_day = _days(opened) if len(wo) else np.zeros(0)
    kinds = wo["kind"].astype("str").to_numpy(dtype=object) if len(wo) else np.zeros(0, object)
    mine = w_code >= 0
    q_key = q_code * _SPAN + q_day

    def keys(kind_set: set[str]) -> np.ndarray:
        sel = mine & np.isin(kinds, list(kind_set))
        return np.sort(w_code[sel] * _SPAN + w_day[sel])

    def count(k: np.ndarray, window: float) -> np.ndarray:
        hi = np.searchsorted(k, q_key, side="left")  # strictly before the cutoff
        lo = np.searchsorted(k, q_key - window, side="left")
        return (hi - lo).astype(np.float64)

    def since(k: np.ndarray) -> np.ndarray:
        i = np.searchsorted(k, q_key, side="left") - 1
        out = np.full(len(q_key), np.nan)
        if len(k) == 0:
            return out
        ok = i >= 0
        prev = k[np.where(ok, i, 0)]
        ok &= np.floor(prev / _SPAN) == q_code
        out[ok] = q_key[ok] - prev[ok]
        return out

    def first(k: np.ndarray) -> np.ndarray:
        """Day of the asset's first order in ``k`` strictly before the cutoff (NaN if none)."""
        out = np.full(len(q_key), np.nan)
        if len(k) == 0:
            return out
        i = np.searchsorted(k, q_code * _SPAN, side="left")
        ok = i < len(k)
        val = k[np.where(ok, i, 0)]
        ok &= (np.floor(val / _SPAN) == q_code) & (val < q_key)
        out[ok] = val[ok] - q_code[ok] * _SPAN
        return out

    fail, corr = keys({"failure"}), keys({"corrective"})
    prev_k, insp, repl = keys({"preventive"}), keys({"inspection"}), keys({"replacement"})
    out = pd.DataFrame(
        {
            "asset_ref": refs,
            "cutoff": skeleton["cutoff"].to_numpy(dtype="datetime64[ns]"),
            "failures_90d": count(fail, 90),
            "failures_365d": count(fail, 365),
            "failures_all": count(fail, 1e5),
            "corrective_90d": count(corr, 90),
            "corrective_365d": count(corr, 365),
            "preventive_365d": count(prev_k, 365),
            "inspections_365d": count(insp, 365),
            "days_since_failure": since(fail),
            "days_since_service": since(prev_k),
            "days_since_replacement": since(repl),
        }
    )
    installed = _days(skeleton["installed_on"])  # NaN for NaT
    age_days = q_day - installed
    out["effective_age_years"] = (
        np.where(
            np.isfinite(out["days_since_replacement"]), out["days_since_replacement"], age_days
        )
        / 365.25
    )
    if history_start is None and len(wo):
        history_start = opened.min()
    start_day = _days(pd.Series([history_start]))[0] if history_start is not None else np.nan
    reference = np.fmax(installed, start_day)
    # failures per year over the part of the history the asset was in service (≥ 90 days)
    observed_years = np.maximum(q_day - reference, 90.0) / 365.25
    out["failure_rate_per_year"] = out["failures_all"] / observed_years
    # exposure of the asset's slot: from the start of the history, or from when the slot
    # appears (its earliest work order before the cutoff or its installation, whichever is
    # first: a unit replaced during the history keeps its slot's failures and exposure); an
    # unknown installation date counts as in service before the history
    known = np.where(np.isfinite(installed), installed, -np.inf)
    slot_start = np.fmax(np.fmin(known, first(keys(set(kinds)))), start_day)
    slot_start = np.where(np.isfinite(slot_start), slot_start, q_day)
    out["exposure_years"] = np.maximum(q_day - slot_start, 0.0) / 365.25
    never = q_day - reference
    since_service = np.where(
        np.isfinite(out["days_since_service"]), out["days_since_service"], never
    )
    interval = (
        skeleton["category"]
        .astype("str")
        .map(statutory)
        .to_numpy(dtype=np.float64, na_value=np.nan)
    )
    out["service_overdue_days"] = since_service - interval
    return out.astype(meta.dtypes.to_dict())
