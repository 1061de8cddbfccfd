"""Service life: a Weibull lifetime per category, fitted with censoring, and remaining life.

Lives run from ``installed_on`` to the first ``replacement`` work order (an observed end of
life) or to the as-of date (censored: still in service). With fewer than ``min_events``
replacements in a category, the fit falls back to the registry's expected life: shape 3 and
the scale whose mean equals the median expected life of the category (documented prior).

Remaining life of an asset of age *a* whose model risk over the horizon is *p*, against the
category's age-only risk *p₀* at the same age: hazards are proportional, multiplier
``r = clip(p / p₀, 0.2, 5)``, so ``S_r(t | a) = (S(t) / S(a))^r`` and the expected remaining life
is ``∫_a^∞ (S(t)/S(a))^r dt`` (numerically, on a 400-step grid up to 10 × the scale).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import special
from scipy.optimize import minimize

DEFAULT_LIFE_YEARS = 20.0
PRIOR_SHAPE = 3.0


def _nll(theta: np.ndarray, t: np.ndarray, event: np.ndarray, t0: np.ndarray) -> float:
    k, lam = np.exp(theta[0]), np.exp(theta[1])
    z = t / lam
    ll = np.sum(np.log(k / lam) + (k - 1) * np.log(np.clip(z[event], 1e-12, None)))
    # left truncation: an asset is only seen from age t0 (start of the history) onwards
    ll -= np.sum(z**k - (t0 / lam) ** k)
    return float(-ll)


def fit_lifetimes(
    assets: pd.DataFrame,
    work_orders: pd.DataFrame,
    as_of: pd.Timestamp,
    *,
    observed_from: pd.Timestamp | None = None,
    min_events: int = 5,
) -> dict[str, dict[str, Any]]:
    """``{category: {"shape", "scale", "events", "source"}}`` (source: 'mle' or 'prior').

    Lives are left-truncated at ``observed_from`` (default: the first work order): an asset
    installed before it is only known to have survived to its age then. An MLE with a falling
    hazard (shape < 1: not wear-out, usually replacements that are really repairs) or whose mean
    life falls outside ¼–4 × the category's expected life is not trusted (source 'prior').
    """
    if observed_from is None:
        starts = pd.to_datetime(work_orders["opened_at"])
        if getattr(starts.dt, "tz", None) is not None:
            starts = starts.dt.tz_convert("UTC").dt.tz_localize(None)
        observed_from = starts.min() if len(starts) else pd.Timestamp(as_of)
    repl = work_orders[work_orders["kind"].astype("str") == "replacement"]
    opened = pd.to_datetime(repl["opened_at"])
    if getattr(opened.dt, "tz", None) is not None:
        opened = opened.dt.tz_convert("UTC").dt.tz_localize(None)
    first = opened.groupby(repl["asset_ref"].astype("str").to_numpy()).min()
    first = {str(k): v for k, v in first.items()}
    a = assets[["asset_ref", "category", "installed_on", "expected_life_years"]].copy()
    a["asset_ref"] = a["asset_ref"].astype("str")
    a["end"] = pd.to_datetime(a["asset_ref"].map(lambda r: first.get(r, pd.NaT)))
    out: dict[str, dict[str, Any]] = {}
    for cat, g in a.groupby(a["category"].astype("str")):
        life = g["expected_life_years"].astype("float64").median()
        life = float(life) if np.isfinite(life) and life > 0 else DEFAULT_LIFE_YEARS
        inst = pd.to_datetime(g["installed_on"])
        event = g["end"].notna() & inst.notna() & (g["end"] > inst)
        stop = g["end"].where(event, pd.Timestamp(as_of))
        t = ((stop - inst).dt.days / 365.25).astype("float64")
        entry = inst.where(inst > pd.Timestamp(observed_from), pd.Timestamp(observed_from))
        t0 = ((entry - inst).dt.days / 365.25).astype("float64").clip(lower=0.0)
        ok = t.notna() & (t > 0) & (t >= t0)
        tv, ev = t[ok].to_numpy(), event[ok].to_numpy(dtype=bool)
        fitted = None
        if ev.sum() >= min_events:
            res = minimize(
                _nll,
                x0=np.array([np.log(PRIOR_SHAPE), np.log(life)]),
                args=(tv, ev, t0[ok].to_numpy()),
                method="L-BFGS-B",
                bounds=[(np.log(0.5), np.log(8.0)), (np.log(0.5), np.log(200.0))],
            )
            k_hat, lam_hat = float(np.exp(res.x[0])), float(np.exp(res.x[1]))
            mean = lam_hat * math.gamma(1 + 1 / k_hat)
            if k_hat >= 1.0 and 0.25 * life <= mean <= 4 * life:
                fitted = {
                    "shape": k_hat,
                    "scale": lam_hat,
                    "events": int(ev.sum()),
                    "source": "mle",
                }
        if fitted is not None:
            out[str(cat)] = fitted
        else:
            scale = life / math.gamma(1 + 1 / PRIOR_SHAPE)
            out[str(cat)] = {
                "shape": PRIOR_SHAPE,
                "scale": scale,
                "events": int(ev.sum()),
                "source": "prior",
            }
    return out


def remaining_life_years(
    age_years: np.ndarray,
    shape: np.ndarray,
    scale: np.ndarray,
    risk_multiplier: np.ndarray | None = None,
) -> np.ndarray:
    """Expected remaining life ``∫_a^∞ (S(t)/S(a))^r dt`` for Weibull(shape, scale) lives.

    >>> round(float(remaining_life_years(np.array([0.0]), np.array([1.0]), np.array([10.0]))[0]), 1)
    10.0
    """
    a = np.clip(np.nan_to_num(np.asarray(age_years, dtype=np.float64), nan=0.0), 0.0, None)
    k = np.asarray(shape, dtype=np.float64)
    lam = np.asarray(scale, dtype=np.float64)
    r = np.ones_like(a) if risk_multiplier is None else np.asarray(risk_multiplier, np.float64)
    # closed form (u = r (t/λ)^k): λ r^(-1/k) Γ(1 + 1/k) e^u0 Q(1/k, u0), u0 = r (a/λ)^k;
    # O(1) per asset instead of a numerical integral (a million assets score in seconds)
    s = 1.0 / k
    u0 = r * (a / lam) ** k
    small = u0 < 100.0
    tail = np.empty_like(u0)
    u_s = np.where(small, u0, 0.0)
    tail[small] = (np.exp(u_s) * special.gammaincc(s, u_s) * special.gamma(s))[small]
    # large u0: e^x Γ(s, x) ≈ x^(s−1) (1 + (s−1)/x + (s−1)(s−2)/x²)
    x = np.where(small, 1.0, u0)
    asym = x ** (s - 1) * (1 + (s - 1) / x + (s - 1) * (s - 2) / x**2)
    tail[~small] = asym[~small]
    return lam * r ** (-s) * s * tail
