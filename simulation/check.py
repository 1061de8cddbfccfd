"""How hard is the simulated world? PR-AUC of the truth and of an age-only baseline (§4.7-4.8).

Reads the truth folder, so only tests and benchmarks call it (never predict or planner).

Examples
--------
>>> from simulation.check import world_difficulty
>>> world_difficulty(out_dir / "truth", classes)          # doctest: +SKIP
{'positive_rate': 0.009, 'truth_pr_auc': 0.18, 'age_only_pr_auc': 0.03, ...}
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score


def world_difficulty(
    truth_dir: Path | str, classes: Mapping[str, str], *, only: list[str] | None = None
) -> dict[str, float]:
    """Truth vs an age-only baseline (failure rate by class and age-year, fitted on the first
    half of the cutoffs, scored on the second half)."""
    t = pd.read_parquet(Path(truth_dir) / "monthly_risk.parquet")
    t["sim_class"] = t["asset_ref"].map(classes)
    if only:
        t = t[t["sim_class"].isin(only)]
    t["y"] = (t["failures_90d"] > 0).astype(int)
    cut = np.sort(t["cutoff"].unique())
    split = cut[len(cut) // 2]
    train, test = t[t["cutoff"] < split], t[t["cutoff"] >= split].copy()
    train = train.assign(age_bin=np.floor(train["age_years"]).clip(0, 60))
    test["age_bin"] = np.floor(test["age_years"]).clip(0, 60)
    rate = train.groupby(["sim_class", "age_bin"])["y"].agg(["sum", "count"])
    prior = train.groupby("sim_class")["y"].mean()
    # shrink sparse age bins towards the class rate
    k = 20.0
    rate["p"] = (rate["sum"] + k * prior.reindex(rate.index.get_level_values(0)).to_numpy()) / (
        rate["count"] + k
    )
    test = test.join(rate["p"], on=["sim_class", "age_bin"])
    test["p"] = test["p"].fillna(test["sim_class"].map(prior)).fillna(train["y"].mean())
    out = {
        "rows": float(len(t)),
        "positive_rate": float(t["y"].mean()),
        "mean_truth_p": float(t["p_failure_90d"].mean()),
        "truth_pr_auc": float(average_precision_score(test["y"], test["p_failure_90d"])),
        "truth_roc_auc": float(roc_auc_score(test["y"], test["p_failure_90d"])),
        "age_only_pr_auc": float(average_precision_score(test["y"], test["p"])),
        "age_only_roc_auc": float(roc_auc_score(test["y"], test["p"])),
    }
    return out
