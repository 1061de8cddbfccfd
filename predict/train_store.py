"""Training from a feature store: the sample in, the full test period out.

:func:`train_from_store` reads the sampled rows of a :class:`~predict.features.store.FeatureStore`
(every row when nothing was sampled), trains with :func:`predict.train.train` (LightGBM on the
Dask cluster when a client is given, in-process otherwise: the same code as for a pandas frame),
and, when negatives were sampled, puts the result back on the full-data scale as
:mod:`predict.sampling` explains: the Platt intercept gets ``log(rate)``, and the model and both
baselines are evaluated on every row of the test period, one cutoff at a time.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from predict.artifact import ModelArtifact
from predict.baselines import PastFailureRateBaseline, WeibullAgeBaseline
from predict.evaluate import evaluate, evaluation_report
from predict.features.store import LABEL_COLUMNS, FeatureStore, read_features
from predict.labels import TimeSplit
from predict.sampling import prior_corrected
from predict.train import train


def training_frame(store: FeatureStore) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The sampled rows as (features, labels) for :func:`predict.train.train`."""
    frame = read_features(store, sampled_only=True, labels=True)
    labels = frame[["asset_ref", "cutoff", "failed", "observed", "weight"]].copy()
    return frame.drop(columns=LABEL_COLUMNS), labels


def train_from_store(
    store: FeatureStore,
    split: TimeSplit,
    *,
    horizon_days: int = 90,
    client: Any = None,
    num_threads: int | None = None,
    random_state: int = 0,
    metadata: dict[str, Any] | None = None,
) -> ModelArtifact:
    """Train on the store's sample; with sampled negatives, correct and evaluate on every row."""
    features, labels = training_frame(store)
    art = train(
        features,
        labels,
        split,
        horizon_days=horizon_days,
        client=client,
        num_threads=num_threads,
        random_state=random_state,
        metadata=metadata,
    )
    rate = store.sample_rate
    if rate >= 1.0:
        return art
    # the baselines train() fitted, refitted on the same sampled training rows (deterministic)
    period = split.period_of(features["cutoff"]).to_numpy()
    rows = np.flatnonzero((period == "train") & labels["observed"].to_numpy(dtype=bool))
    y_tr = labels["failed"].to_numpy(dtype=bool)[rows]
    train_rows = features.iloc[rows]
    weibull = WeibullAgeBaseline(horizon_days=horizon_days).fit(train_rows, y_tr)
    past = PastFailureRateBaseline().fit(train_rows, y_tr)
    sample_info = {
        "negative_rate": rate,
        "seed": random_state,
        "rows": int(len(features)),
        "positives": int(labels["failed"].sum()),
        "rows_before_sampling": store.rows,
        "weights": "1 for positives, 1/negative_rate for negatives (column `weight`)",
    }
    del features, labels, train_rows
    calibration = dict(art.calibration)
    calibration["b"] = float(calibration["b"]) + math.log(rate)
    calibration["prior_correction"] = math.log(rate)
    corrected = replace(art, calibration=calibration)
    y, cats = [], []
    preds: dict[str, list[np.ndarray]] = {"model": [], "weibull_age": [], "past_failure_rate": []}
    for cutoff in split.test:
        f = read_features(store, cutoffs=[cutoff], sampled_only=False, labels=True)
        f = f[f["observed"].to_numpy(dtype=bool)]
        y.append(f["failed"].to_numpy(dtype=bool))
        cats.append(f["category"].astype("str").to_numpy(dtype=object))
        preds["model"].append(corrected.predict_proba(f))
        preds["weibull_age"].append(prior_corrected(weibull.predict_proba(f)[:, 1], rate))
        preds["past_failure_rate"].append(prior_corrected(past.predict_proba(f)[:, 1], rate))
    y_all = np.concatenate(y)
    metrics = evaluate(
        y_all, {k: np.concatenate(v) for k, v in preds.items()}, np.concatenate(cats)
    )
    meta = dict(art.metadata)
    meta["training_sample"] = sample_info
    meta["evaluation"] = f"every row of the test period ({len(y_all)} rows), not the sample"
    meta["rows"] = {**meta.get("rows", {}), "test_full": int(len(y_all))}
    report = evaluation_report(metrics, title=f"Failure within {horizon_days} days — test period")
    report += (
        f"\nTest cutoffs {meta['test'][0]} to {meta['test'][1]}, every row ({len(y_all):,}); "
        f"trained on {meta['train_start']} to {meta['train_end']} with every positive and "
        f"{rate:.1%} of the negative rows (seed {random_state}); calibrated on "
        f"{meta['valid'][0]} to {meta['valid'][1]} (Platt, intercept corrected by "
        f"log({rate:.4g}) for the sampling); best iteration {meta['best_iteration']}.\n"
    )
    return replace(corrected, metrics=metrics, report=report, metadata=meta)
