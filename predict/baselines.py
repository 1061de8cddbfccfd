"""Baselines under the same evaluation as the model (sklearn estimator contract).

* :class:`WeibullAgeBaseline` — a Weibull hazard of failure calls against age, per category,
  fitted by maximum likelihood on every (asset, cutoff) row: a row contributes
  P(call in (a, a+h]) = 1 − exp(−[(a+h)/λ]^k + (a/λ)^k) if it failed and its complement if it did
  not, so assets that never failed (censored) weigh in as much as those that did.
* :class:`PastFailureRateBaseline` — the rate of failure over the horizon observed in training
  for assets of the same category with the same number of failures in the past 365 days.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from sklearn.base import BaseEstimator, ClassifierMixin

from predict.errors import PredictError

_MIN_ROWS = 30


def _check_xy(X: pd.DataFrame, y: Any, needed: list[str]) -> np.ndarray:
    if not isinstance(X, pd.DataFrame):
        raise PredictError(f"X must be a pandas DataFrame with columns {needed}. Got {type(X)}.")
    missing = [c for c in needed if c not in X.columns]
    if missing:
        raise PredictError(f"X lacks column(s) {missing} needed by the baseline")
    yy = np.asarray(y, dtype=bool)
    if len(yy) != len(X):
        raise PredictError(f"X has {len(X)} rows but y has {len(yy)}")
    return yy


def _weibull_nll(theta: np.ndarray, a: np.ndarray, h: float, y: np.ndarray) -> float:
    k, lam = np.exp(theta[0]), np.exp(theta[1])
    dh = ((a + h) / lam) ** k - (a / lam) ** k
    dh = np.clip(dh, 1e-12, 50.0)
    return float(-(np.sum(np.log1p(-np.exp(-dh[y]))) - np.sum(dh[~y])))


def fit_weibull_hazard(age_years: np.ndarray, failed: np.ndarray, horizon_years: float) -> tuple:
    """(shape k, scale λ in years) maximising the interval likelihood of the rows."""
    a = np.clip(np.asarray(age_years, dtype=np.float64), 0.0, None)
    y = np.asarray(failed, dtype=bool)
    rate = max(y.mean(), 1e-4)
    lam0 = max(np.median(a) + horizon_years, 1.0) * (horizon_years / rate) ** 0.0
    # start from an exponential with the observed rate: (h/λ) = −log(1 − rate)
    lam0 = horizon_years / max(-np.log1p(-min(rate, 0.99)), 1e-6)
    res = minimize(
        _weibull_nll,
        x0=np.array([0.0, np.log(lam0)]),
        args=(a, horizon_years, y),
        method="L-BFGS-B",
        bounds=[(np.log(0.3), np.log(6.0)), (np.log(0.05), np.log(1e5))],
    )
    return float(np.exp(res.x[0])), float(np.exp(res.x[1]))


class WeibullAgeBaseline(ClassifierMixin, BaseEstimator):
    """Failure within the horizon from age alone, per category (Weibull hazard, censoring-aware).

    Examples
    --------
    >>> X = pd.DataFrame({"category": ["boiler"] * 4, "age_years": [1.0, 5.0, 10.0, 20.0]})
    >>> m = WeibullAgeBaseline(horizon_days=90).fit(X, [False, False, True, True])
    >>> m.predict_proba(X).shape
    (4, 2)
    """

    def __init__(self, horizon_days: int = 90, age_column: str = "age_years") -> None:
        self.horizon_days = horizon_days
        self.age_column = age_column

    def fit(self, X: pd.DataFrame, y: Any) -> WeibullAgeBaseline:
        yy = _check_xy(X, y, ["category", self.age_column])
        if yy.sum() == 0:
            raise PredictError(
                "no failure at all in the training rows: cannot fit the age baseline"
            )
        h = self.horizon_days / 365.25
        age = X[self.age_column].astype("float64")
        self.fill_age_ = float(age.median()) if age.notna().any() else 10.0
        a = age.fillna(self.fill_age_).to_numpy()
        self.pooled_ = fit_weibull_hazard(a, yy, h)
        self.params_: dict[str, tuple[float, float]] = {}
        cats = X["category"].astype("str").to_numpy(dtype=object)
        for cat in pd.unique(cats):
            sel = cats == cat
            if sel.sum() >= _MIN_ROWS and yy[sel].sum() >= 3:
                self.params_[str(cat)] = fit_weibull_hazard(a[sel], yy[sel], h)
        self.classes_ = np.array([False, True])
        return self

    def hazard_probability(self, category: pd.Series, age_years: pd.Series) -> np.ndarray:
        """P(≥ 1 failure in the horizon | age), from each category's Weibull."""
        h = self.horizon_days / 365.25
        a = np.clip(age_years.astype("float64").fillna(self.fill_age_).to_numpy(), 0.0, None)
        # the parameters of each distinct category, then every row through its code
        codes, cats = pd.factorize(category.astype("str"))
        params = np.array([self.params_.get(c, self.pooled_) for c in cats]).reshape(-1, 2)
        k, lam = params[codes, 0], params[codes, 1]
        return 1.0 - np.exp(-(((a + h) / lam) ** k - (a / lam) ** k))

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        p = self.hazard_probability(X["category"], X[self.age_column])
        return np.column_stack([1.0 - p, p])

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return self.predict_proba(X)[:, 1] >= 0.5

    def to_json(self) -> dict[str, Any]:
        return {
            "horizon_days": self.horizon_days,
            "age_column": self.age_column,
            "fill_age": self.fill_age_,
            "pooled": list(self.pooled_),
            "params": {k: list(v) for k, v in self.params_.items()},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> WeibullAgeBaseline:
        m = cls(horizon_days=int(data["horizon_days"]), age_column=data["age_column"])
        m.fill_age_ = float(data["fill_age"])
        m.pooled_ = tuple(data["pooled"])
        m.params_ = {k: tuple(v) for k, v in data["params"].items()}
        m.classes_ = np.array([False, True])
        return m


class PastFailureRateBaseline(ClassifierMixin, BaseEstimator):
    """Observed failure rate per (category, failures in the past 365 days, capped).

    Rates are shrunk towards the category rate with ``prior_rows`` pseudo-rows.

    Examples
    --------
    >>> X = pd.DataFrame({"category": ["pump"] * 4, "failures_365d": [0, 0, 2, 3]})
    >>> m = PastFailureRateBaseline().fit(X, [False, False, True, True])
    >>> bool(m.predict_proba(X)[3, 1] > m.predict_proba(X)[0, 1])
    True
    """

    def __init__(self, cap: int = 3, prior_rows: float = 20.0) -> None:
        self.cap = cap
        self.prior_rows = prior_rows

    def _key(self, X: pd.DataFrame) -> pd.Series:
        f = X["failures_365d"].astype("float64").fillna(0).clip(0, self.cap).astype(int)
        return X["category"].astype("str") + "|" + f.astype("str")

    def fit(self, X: pd.DataFrame, y: Any) -> PastFailureRateBaseline:
        yy = _check_xy(X, y, ["category", "failures_365d"])
        if yy.sum() == 0:
            raise PredictError("no failure at all in the training rows: cannot fit a failure rate")
        self.global_rate_ = float(yy.mean())
        cat = X["category"].astype("str")
        ys = pd.Series(yy, index=X.index, dtype="float64")
        by_cat = ys.groupby(cat).agg(["sum", "count"])
        m = self.prior_rows
        self.category_rate_ = {
            str(c): float((r["sum"] + m * self.global_rate_) / (r["count"] + m))
            for c, r in by_cat.iterrows()
        }
        key = self._key(X)
        by_key = ys.groupby(key).agg(["sum", "count"])
        self.rate_ = {}
        for k, r in by_key.iterrows():
            prior = self.category_rate_.get(str(k).split("|")[0], self.global_rate_)
            self.rate_[str(k)] = float((r["sum"] + m * prior) / (r["count"] + m))
        self.classes_ = np.array([False, True])
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        key = self._key(X)
        cat = X["category"].astype("str")
        p = key.map(self.rate_).astype("float64")
        p = p.fillna(cat.map(self.category_rate_).astype("float64")).fillna(self.global_rate_)
        pv = p.to_numpy(dtype=np.float64)
        return np.column_stack([1.0 - pv, pv])

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return self.predict_proba(X)[:, 1] >= 0.5
