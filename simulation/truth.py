"""The truth: for each asset and monthly cutoff, the true probability of >= 1 failure in the next
90 days given the hidden state, in closed form (docs/simulation.md), and the failures.

Only tests and benchmarks read what this produces; predict and planner never do.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

HORIZON = 90
KIND_PROG, KIND_REWORK = 1, 3


def failures_frame(assets: pd.DataFrame, fl: list, day0: pd.Timestamp) -> pd.DataFrame:
    if not fl:
        return pd.DataFrame(
            {
                "asset_ref": pd.Series([], dtype=object),
                "day": pd.Series([], dtype="datetime64[ms]"),
                "predictable": pd.Series([], dtype=bool),
                "fault_mode": pd.Series([], dtype=object),
                "pf_onset": pd.Series([], dtype="datetime64[ms]"),
                "_idx": pd.Series([], dtype=np.int64),
                "_d": pd.Series([], dtype=np.int64),
            }
        )
    idx = np.concatenate([f[0] for f in fl])
    d = np.concatenate([np.full(len(f[0]), f[1]) for f in fl])
    onset = np.concatenate([f[4] for f in fl])
    return pd.DataFrame(
        {
            "asset_ref": assets["asset_ref"].to_numpy(object)[idx],
            "day": (day0 + pd.to_timedelta(d, unit="D")).astype("datetime64[ms]"),
            "predictable": np.concatenate([f[2] for f in fl]).astype(bool),
            "fault_mode": np.concatenate([f[3] for f in fl]),
            # the day the fault became detectable (start of its P-F window); NaT if sudden
            "pf_onset": pd.Series(day0 + pd.to_timedelta(onset, unit="D"))
            .where(onset >= 0)
            .astype("datetime64[ms]")
            .to_numpy(),
            "_idx": idx,
            "_d": d,
        }
    )


def _gamma2_cdf(x: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """CDF of Gamma(shape 2, scale): 1 − e^(−x/θ)(1 + x/θ)."""
    z = x / scale
    return 1.0 - np.exp(-z) * (1.0 + z)


def truth_frame(
    assets, cutoffs, snap_age, snap_pend, lam, visits, p_prog, mode_p, mode_pf, eta, k,
    deterministic,
    median, p_detect, failures, day0, simulated, eol_fail_share,
) -> pd.DataFrame:  # fmt: skip
    n = len(assets)
    sim_idx = np.nonzero(simulated)[0]
    counts = np.zeros((n, max(len(cutoffs), 1)), dtype=np.int32)
    frames = []
    kk = np.where(k > 0, k, 1.0)
    r = np.arange(HORIZON, 0, -1)  # days left until the horizon end
    # an onset counts only if its P-F interval (mode mixture) ends inside the window
    ends_in = np.zeros((n, HORIZON))
    for m in range(mode_p.shape[1]):
        ends_in += mode_p[:, m, None] * _gamma2_cdf(r[None, :], mode_pf[:, m, None] / 2.0)
    w = (1 - p_prog)[:, None] + p_prog[:, None] * ends_in
    for j, c in enumerate(cutoffs):
        big_lambda = np.einsum("ij,ij->i", lam[:, c : c + HORIZON], w)
        elapsed, kind, pend_mean = snap_pend[c]
        scale = pend_mean / 2.0
        f_e = _gamma2_cdf(np.maximum(elapsed, 0), scale)
        f_h = _gamma2_cdf(np.maximum(elapsed, 0) + HORIZON, scale)
        p_pend = np.where(kind == KIND_PROG, (f_h - f_e) / np.maximum(1 - f_e, 1e-12), 0.0)
        visit_soon = visits[:, c : c + HORIZON].any(axis=1)
        p_pend = p_pend * np.where(visit_soon, 1 - 0.5 * p_detect, 1.0)
        p_pend = np.where(kind == KIND_REWORK, 1.0, p_pend)
        a = np.maximum(snap_age[c], 0.0)
        a2 = a + HORIZON / 365.25
        s_ratio = np.exp(-((a2 / eta) ** kk) + (a / eta) ** kk)
        p_eol = np.where(deterministic, 0.0, 1 - s_ratio) * eol_fail_share
        p = 1 - (1 - p_pend) * (1 - p_eol) * np.exp(-big_lambda)
        if len(failures):
            fd = failures["_d"].to_numpy()
            inwin = (fd >= c) & (fd < c + HORIZON)
            np.add.at(counts[:, j], failures["_idx"].to_numpy()[inwin], 1)
        frames.append(
            pd.DataFrame(
                {
                    "asset_ref": assets["asset_ref"].to_numpy(object)[sim_idx],
                    "cutoff": (day0 + pd.Timedelta(days=c))
                    .to_datetime64()
                    .astype("datetime64[ms]"),
                    "p_failure_90d": p[sim_idx],
                    "failures_90d": counts[sim_idx, j],
                    "age_years": snap_age[c][sim_idx].astype(np.float32),
                }
            )
        )
    if not frames:
        return pd.DataFrame(columns=["asset_ref", "cutoff", "p_failure_90d", "failures_90d"])
    return pd.concat(frames, ignore_index=True)
