"""Labels (a failure work order within the horizon after the cutoff) and the time split."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from predict.errors import PredictError

_SPAN = 1_000_000.0


def _naive(values: pd.Series) -> pd.Series:
    out = pd.to_datetime(values)
    if getattr(out.dt, "tz", None) is not None:
        out = out.dt.tz_convert("UTC").dt.tz_localize(None)
    return out


def make_labels(
    frame: pd.DataFrame,
    work_orders: pd.DataFrame,
    *,
    horizon_days: int = 90,
    history_end: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """``failed`` (≥ 1 ``failure`` opened in [cutoff, cutoff + horizon)) and ``observed``.

    ``observed`` is False when the horizon runs past ``history_end`` (the label is censored:
    such rows are scored, never trained or evaluated on). Returns ``asset_ref, cutoff, failed,
    observed`` aligned on ``frame``'s rows.

    Examples
    --------
    >>> fr = pd.DataFrame({"asset_ref": ["A", "A"],
    ...                    "cutoff": pd.to_datetime(["2024-01-01", "2024-06-01"])})
    >>> wo = pd.DataFrame({"asset_ref": ["A"], "kind": ["failure"],
    ...                    "opened_at": pd.to_datetime(["2024-02-10"])})
    >>> make_labels(fr, wo, history_end=pd.Timestamp("2024-07-01"))["failed"].tolist()
    [True, False]
    """
    if not isinstance(horizon_days, int | np.integer) or horizon_days <= 0:
        raise PredictError(f"`horizon_days` must be a positive int. Got {horizon_days!r}.")
    fail = work_orders[work_orders["kind"].astype("str") == "failure"]
    opened = _naive(fail["opened_at"])
    refs = frame["asset_ref"].astype("str").to_numpy(dtype=object)
    index = pd.Index(pd.unique(refs))
    q_code = index.get_indexer(refs).astype(np.float64)
    q_day = np.asarray(pd.to_datetime(frame["cutoff"]), dtype="datetime64[s]").astype(float) / 86400
    w_code = index.get_indexer(fail["asset_ref"].astype("str").to_numpy(dtype=object))
    w_day = np.asarray(opened, dtype="datetime64[s]").astype(float) / 86400
    ok = w_code >= 0
    keys = np.sort(w_code[ok] * _SPAN + w_day[ok])
    q = q_code * _SPAN + q_day
    n = np.searchsorted(keys, q + horizon_days, "left") - np.searchsorted(keys, q, "left")
    if history_end is None:
        history_end = opened.max() if len(opened) else pd.Timestamp(frame["cutoff"].max())
    end = pd.Timestamp(history_end)
    observed = pd.to_datetime(frame["cutoff"]) + pd.Timedelta(days=horizon_days) <= end
    return pd.DataFrame(
        {
            "asset_ref": frame["asset_ref"].to_numpy(),
            "cutoff": frame["cutoff"].to_numpy(),
            "failed": n > 0,
            "observed": observed.to_numpy(dtype=bool),
        },
        index=frame.index,
    )


@dataclass(frozen=True)
class TimeSplit:
    """Cutoff dates of each period; label windows never straddle two periods (purged)."""

    train: list[pd.Timestamp]
    valid: list[pd.Timestamp]
    test: list[pd.Timestamp]

    def period_of(self, cutoffs: pd.Series) -> pd.Series:
        """'train', 'valid', 'test' or '' (purged / unobserved) for each cutoff."""
        c = pd.to_datetime(cutoffs)
        out = pd.Series("", index=cutoffs.index, dtype="str")
        for name in ("train", "valid", "test"):
            out[c.isin(getattr(self, name))] = name
        return out


def time_split(
    cutoffs: list[pd.Timestamp],
    *,
    horizon_days: int = 90,
    valid_fraction: float = 0.2,
    test_fraction: float = 0.25,
) -> TimeSplit:
    """Split observed cutoffs by date: train first, then validation, then test (never random).

    Cutoffs whose label window would reach into the next period are purged, so no training
    label looks at the validation or test period.

    >>> cs = list(pd.date_range("2021-01-01", "2023-12-01", freq="MS"))
    >>> s = time_split(cs)
    >>> s.train[-1] < s.valid[0] < s.valid[-1] < s.test[0]
    True
    """
    cs = sorted(pd.Timestamp(c) for c in cutoffs)
    if len(cs) < 6:
        raise PredictError(
            f"need at least 6 monthly cutoffs with an observed {horizon_days}-day label to split "
            f"train/validation/test by date; the history gives {len(cs)}"
        )
    n_test = max(2, round(len(cs) * test_fraction))
    n_valid = max(2, round(len(cs) * valid_fraction))
    test = cs[-n_test:]
    gap = pd.Timedelta(days=horizon_days)
    valid = [c for c in cs[:-n_test][-n_valid:] if c + gap <= test[0]]
    if not valid:
        valid = cs[:-n_test][-1:]
    train = [c for c in cs if c + gap <= valid[0]]
    if not train:
        raise PredictError(
            f"the history is too short for a {horizon_days}-day horizon: no training cutoff "
            f"remains before the validation period starting {valid[0]:%Y-%m-%d}"
        )
    return TimeSplit(train=train, valid=valid, test=test)
