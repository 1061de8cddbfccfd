"""Negative sampling of the training rows, and the corrections that keep results unbiased.

At 100,000 dwellings the training rows (assets × monthly cutoffs, ~20 M) do not fit one
process, and almost all of them are negatives (~1 % of asset-months see a failure). The feature
store keeps **every positive row** and each negative row with probability ``rate``, decided by a
seeded hash of ``(asset_ref, cutoff)`` (the same rows whatever the partitioning, machine or run)
and records its ``weight`` (1 for positives, ``1 / rate`` for negatives: the number of full-data
rows it stands for).

What the sample changes, and how each part is put back on the full-data scale:

* **the trees** are fitted on the sample without weights: case-control sampling leaves the
  ranking learnable and only shifts the log-odds by ``log(rate)`` (Prentice & Pyke 1979);
* **calibration** (Platt on the sampled validation period) is therefore corrected exactly by
  adding ``log(rate)`` to its intercept (King & Zeng's prior correction),
  :func:`prior_corrected`;
* **evaluation** runs on **every row of the test period** (the store keeps the test cutoffs
  whole), never on the sample, so PR-AUC, precision at k, Brier and ECE are those of the full
  population; the baselines fitted on the sample get the same prior correction;
* **remaining life** compares the model's risk with the age baseline's, both put on the
  full-data scale.

With ``rate = 1`` (a stock small enough) nothing is sampled and nothing is corrected.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class NegativeSample:
    """Keep every positive, negatives with probability ``rate``; ``full_cutoffs`` kept whole."""

    rate: float
    seed: int = 0
    full_cutoffs: tuple[pd.Timestamp, ...] = field(default_factory=tuple)


def sample_rate(expected_rows: int, max_rows: int | None) -> float:
    """The share of negatives to keep so that about ``max_rows`` rows remain (1: keep all).

    >>> sample_rate(10_000, 1_000_000), sample_rate(20_000_000, 1_000_000)
    (1.0, 0.05)
    """
    if not max_rows or expected_rows <= max_rows:
        return 1.0
    return float(max_rows) / float(expected_rows)


def _hash_key(seed: int) -> str:
    return hashlib.sha256(f"negative-sample-{seed}".encode()).hexdigest()[:16]


def uniform_of(asset_ref: pd.Series, cutoff: pd.Series, seed: int) -> np.ndarray:
    """A uniform number in [0, 1) per row, a pure function of (asset_ref, cutoff, seed)."""
    keys = pd.DataFrame(
        {
            "asset_ref": asset_ref.astype("str").to_numpy(dtype=object),
            "cutoff": pd.to_datetime(cutoff).to_numpy(dtype="datetime64[ns]"),
        }
    )
    h = pd.util.hash_pandas_object(keys, index=False, hash_key=_hash_key(seed)).to_numpy()
    return (h >> np.uint64(11)).astype(np.float64) / float(2**53)


def sampled_rows(
    asset_ref: pd.Series, cutoff: pd.Series, failed: pd.Series | np.ndarray, rate: float, seed: int
) -> np.ndarray:
    """True for the rows of the sample: every positive, each negative with probability ``rate``.

    >>> refs = pd.Series([f"A{i}" for i in range(1000)])
    >>> cut = pd.Series([pd.Timestamp("2024-01-01")] * 1000)
    >>> failed = np.arange(1000) < 10
    >>> keep = sampled_rows(refs, cut, failed, 0.1, seed=0)
    >>> bool(keep[:10].all()), 50 < int(keep[10:].sum()) < 150
    (True, True)
    """
    failed = np.asarray(failed, dtype=bool)
    if rate >= 1.0:
        return np.ones(len(failed), dtype=bool)
    return failed | (uniform_of(asset_ref, cutoff, seed) < rate)


def row_weights(failed: pd.Series | np.ndarray, rate: float) -> np.ndarray:
    """Full-data rows each sampled row stands for: 1 for positives, ``1 / rate`` for negatives."""
    failed = np.asarray(failed, dtype=bool)
    return np.where(failed, 1.0, 1.0 / rate)


def prior_corrected(p: np.ndarray, rate: float) -> np.ndarray:
    """A probability fitted on the sample, put back on the full-data scale.

    Sampling negatives at ``rate`` multiplies the odds by ``1 / rate``; this divides them back.

    >>> round(float(prior_corrected(np.array([0.5]), 0.1)[0]), 4)
    0.0909
    """
    p = np.clip(np.asarray(p, dtype=np.float64), 1e-12, 1 - 1e-12)
    if rate >= 1.0:
        return p
    odds = p / (1 - p) * rate
    return odds / (1 + odds)
