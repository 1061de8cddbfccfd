"""Predict benchmark: quality on a simulated world, and the cost of each stage.

Quality (issue 5): on the test period, PR-AUC and ROC-AUC of the model, of the simulator's truth
(``simulation/truth/monthly_risk.parquet``, read here only), of each baseline, and of a plain
LightGBM on raw per-channel monthly means + age. Performance: feature computation (numpy grid
over Dask partitions) against the same window means as one DuckDB SQL query, and LightGBM
training through our wrapper against ``lightgbm.train`` on the same matrix.

    .venv/bin/python -m benchmarks.bench_predict --workspace /tmp/pw            # existing world
    .venv/bin/python -m benchmarks.bench_predict --estates 4 --years 4         # build one first
    .venv/bin/python -m benchmarks.bench_predict --workspace /tmp/pw --quality-only \
        --model /tmp/pw/models/<stamp>   # judge a model trained by `patrimoine train`
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score

from patrimoine import open_workspace
from predict import load_workspace_data, make_labels, monthly_cutoffs, time_split, train
from predict.features.build import KEY_COLUMNS
from predict.train import fit_booster, lgbm_params
from predict.workflow import WARMUP_DAYS, _features


def _cli(ws: Path, *args: str) -> None:
    exe = Path(sys.executable).parent / "patrimoine"
    subprocess.run([str(exe), "--workspace", str(ws), *args], check=True)


def build_world(ws: Path, estates: int, years: float, seed: int) -> None:
    stock = ws.parent / f"{ws.name}-stock"
    _cli(ws, "generate-stock", "--estates", str(estates), "--out", str(stock), "--seed", str(seed))
    _cli(ws, "ingest", *[str(p) for p in sorted(stock.glob("*.ifc*"))])
    _cli(ws, "simulate", "--years", str(years), "--seed", str(seed))


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def auc_pair(y: np.ndarray, p: np.ndarray) -> tuple[float, float]:
    return float(average_precision_score(y, p)), float(roc_auc_score(y, p))


def raw_means(readings_dir: Path, features: pd.DataFrame, channels: list[str]) -> pd.DataFrame:
    """Each row's plain 30-day mean per channel, straight from the readings (no cleaning of
    ours: what an analyst computes), aligned on ``features`` (columns ``<channel>__mean30``)."""
    from asset_model.readings_store import read_readings

    out = pd.DataFrame(np.nan, index=features.index, columns=[f"{c}__mean30" for c in channels])
    keys = features[["asset_ref", "cutoff"]].astype({"asset_ref": "str"})
    readings = read_readings(readings_dir, channels=list(channels)).compute()
    readings = readings.astype({"asset_ref": "str", "channel": "str"})
    for ch, r in readings.groupby("channel", sort=False):
        wide = r.pivot_table(index="day", columns="asset_ref", values="value", aggfunc="mean")
        wide = wide.reindex(pd.date_range(wide.index.min(), wide.index.max(), freq="D"))
        # the mean of the readings of [cutoff - 30, cutoff): rolling over the day before
        mean30 = wide.rolling(30, min_periods=1).mean().shift(1)
        long = mean30.stack().rename(f"{ch}__mean30").rename_axis(["cutoff", "asset_ref"])
        merged = keys.merge(long.reset_index(), on=["asset_ref", "cutoff"], how="left")
        out[f"{ch}__mean30"] = merged[f"{ch}__mean30"].to_numpy()
    return out


def plain_lightgbm(features, y, idx, channels) -> np.ndarray:
    """What a hurried analyst builds: raw 30-day means per channel + age, default LightGBM."""
    cols = ["age_years"] + [f"{c}__mean30" for c in channels]
    X = features[cols]
    m = lgb.LGBMClassifier(n_estimators=200, verbose=-1, n_jobs=2, random_state=0)
    m.fit(X.iloc[idx["train"]], y[idx["train"]])
    return m.predict_proba(X.iloc[idx["test"]])[:, 1]


def simple_lightgbm(features, y, idx, channels) -> np.ndarray:
    """A straightforward LightGBM: category, age, 30-day means, failures in the past year."""
    cols = ["category", "age_years", "failures_365d"] + [f"{c}__mean30" for c in channels]
    X = features[cols]
    m = lgb.LGBMClassifier(
        n_estimators=200, learning_rate=0.05, verbose=-1, n_jobs=2, random_state=0
    )
    m.fit(X.iloc[idx["train"]], y[idx["train"]])
    return m.predict_proba(X.iloc[idx["test"]])[:, 1]


def per_category_lines(test, yt, preds, truth) -> list[str]:
    """PR-AUC per category of every scorer (and of the truth where it exists), test period."""
    names = list(preds)
    head = (
        "| category | rows | positives | "
        + ("truth | " if truth is not None else "")
        + " | ".join(names)
        + " |"
    )
    lines = ["### PR-AUC per category (test period)\n", head]
    lines.append("|" + "---|" * (head.count("|") - 1))
    cats = test["category"].astype("str").to_numpy()
    for c in sorted(set(cats)):
        m = cats == c
        y = yt[m]
        if y.sum() == 0 or y.all():
            continue
        vals = []
        if truth is not None:
            have = m & np.isfinite(truth)
            ok = have.sum() == m.sum() and 0 < yt[have].sum() < have.sum()
            vals.append(f"{average_precision_score(yt[have], truth[have]):.3f}" if ok else "—")
        vals += [f"{average_precision_score(y, preds[n][m]):.3f}" for n in names]
        lines.append(f"| {c} | {int(m.sum())} | {int(y.sum())} | " + " | ".join(vals) + " |")
    return [*lines, ""]


def honest_world_lines(workspace: Path, assets: pd.DataFrame) -> list[str]:
    """How hard the world is (simulation.check): truth vs an age-only rate, all cutoffs."""
    truth_dir = workspace / "simulation" / "truth"
    if not (truth_dir / "monthly_risk.parquet").is_file():
        return []
    import json

    from simulation import class_of
    from simulation.check import world_difficulty

    # the parameters this world was simulated with (a --parameters file, or the shipped ones)
    params = json.loads((truth_dir / "parameters.json").read_text(encoding="utf-8"))
    sim_class = class_of(assets, params)
    classes = dict(zip(assets["asset_ref"].astype(str), sim_class, strict=True))
    w = world_difficulty(truth_dir, classes)
    return [
        "### The world (truth table; age-only = failure rate by class × age-year, fitted on the "
        "first half of the cutoffs, scored on the second)\n",
        f"Positive rate {w['positive_rate']:.4f}; truth PR-AUC {w['truth_pr_auc']:.3f} / ROC-AUC "
        f"{w['truth_roc_auc']:.3f}; age-only PR-AUC {w['age_only_pr_auc']:.3f} / ROC-AUC "
        f"{w['age_only_roc_auc']:.3f}; truth / age-only PR-AUC = "
        f"{w['truth_pr_auc'] / w['age_only_pr_auc']:.2f}.\n",
    ]


def duckdb_means(readings_dir: Path, cutoffs: list[pd.Timestamp], channels: list[str]) -> float:
    """The 7/30/90-day means per asset/channel/cutoff as one DuckDB query; seconds."""
    import duckdb

    cut = ", ".join(f"(TIMESTAMP '{c:%Y-%m-%d}')" for c in cutoffs)
    chans = ", ".join(f"'{c}'" for c in channels)
    sql = f"""
    WITH r AS (SELECT asset_ref, channel, day, value
               FROM read_parquet('{readings_dir}/bucket=*/*.parquet', hive_partitioning=false)
               WHERE channel IN ({chans})),
         c(cutoff) AS (VALUES {cut})
    SELECT r.asset_ref, r.channel, c.cutoff,
      avg(value) FILTER (WHERE day >= c.cutoff - INTERVAL 7 DAY) AS mean7,
      avg(value) FILTER (WHERE day >= c.cutoff - INTERVAL 30 DAY) AS mean30,
      avg(value) AS mean90,
      stddev_pop(value) FILTER (WHERE day >= c.cutoff - INTERVAL 30 DAY) AS std30,
      regr_slope(value, epoch(day)) AS slope90
    FROM r JOIN c ON r.day < c.cutoff AND r.day >= c.cutoff - INTERVAL 90 DAY
    GROUP BY ALL
    """
    t = time.perf_counter()
    n = duckdb.sql(sql).df().shape[0]
    secs = time.perf_counter() - t
    print(f"duckdb rows {n}")
    return secs


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--workspace", type=Path, default=Path("/tmp/bench-predict-ws"))
    ap.add_argument("--estates", type=int, default=4)
    ap.add_argument("--years", type=float, default=4)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--horizon", type=int, default=90)
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/predict.md"))
    ap.add_argument(
        "--model", type=Path, help="an artifact folder from `patrimoine train`: judged, not trained"
    )
    ap.add_argument("--quality-only", action="store_true", help="skip the performance stages")
    args = ap.parse_args(argv)
    if not (args.workspace / "registry.sqlite").is_file():
        build_world(args.workspace, args.estates, args.years, args.seed)
    ws = open_workspace(args.workspace)
    lines = [
        f"# predict benchmark\n\nCommand: `.venv/bin/python -m benchmarks.bench_predict "
        f"{' '.join(argv if argv is not None else sys.argv[1:])}`\n"
    ]
    t0 = time.perf_counter()
    with ws.session() as s:
        data = load_workspace_data(s, ws.readings_dir)
    end = data.history_end
    cutoffs = monthly_cutoffs(
        data.history_start + pd.Timedelta(days=WARMUP_DAYS), end - pd.Timedelta(days=args.horizon)
    )
    split = time_split(cutoffs, horizon_days=args.horizon)
    t_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    features = _features(data, ws.readings_dir, cutoffs, None)
    t_feat = time.perf_counter() - t0
    labels = make_labels(features, data.work_orders, horizon_days=args.horizon, history_end=end)
    t0 = time.perf_counter()
    if args.model is not None:
        from predict import load_artifact

        art = load_artifact(args.model, features)
        lines.append(
            f"Model: `{args.model}` (trained by `patrimoine train`; its test window "
            f"{art.metadata['test'][0]}..{art.metadata['test'][1]})\n"
        )
    else:
        art = train(features, labels, split, horizon_days=args.horizon, num_threads=2)
    t_train = time.perf_counter() - t0
    period = split.period_of(features["cutoff"]).to_numpy()
    obs = labels["observed"].to_numpy()
    y = labels["failed"].to_numpy()
    idx = {p: np.flatnonzero((period == p) & obs) for p in ("train", "valid", "test")}
    test = features.iloc[idx["test"]]
    yt = y[idx["test"]]
    from predict.baselines import PastFailureRateBaseline, WeibullAgeBaseline

    tr = features.iloc[idx["train"]]
    # the analyst's LightGBMs read their own raw means, not our cleaned windows
    means = raw_means(ws.readings_dir, features, data.channels)
    analyst = features.copy()
    analyst[means.columns] = means  # same columns, same order: only the values are raw
    preds = {
        "model": art.predict_proba(test),
        "weibull_age": WeibullAgeBaseline(args.horizon)
        .fit(tr, y[idx["train"]])
        .predict_proba(test)[:, 1],
        "past_failure_rate": PastFailureRateBaseline()
        .fit(tr, y[idx["train"]])
        .predict_proba(test)[:, 1],
        "plain_lightgbm": plain_lightgbm(analyst, y, idx, data.channels),
        "simple_lightgbm_with_category": simple_lightgbm(analyst, y, idx, data.channels),
    }
    truth_path = args.workspace / "simulation" / "truth" / "monthly_risk.parquet"
    rows = []
    if truth_path.is_file():
        truth = pd.read_parquet(truth_path)
        truth["cutoff"] = pd.to_datetime(truth["cutoff"]).astype("datetime64[ns]")
        key = test[["asset_ref", "cutoff"]].astype({"asset_ref": "str"})
        merged = key.merge(
            truth[["asset_ref", "cutoff", "p_failure_90d"]].astype({"asset_ref": "str"}),
            on=["asset_ref", "cutoff"],
            how="left",
        )
        have = merged["p_failure_90d"].notna().to_numpy()
        preds_truth = merged["p_failure_90d"].to_numpy()
        rows.append(
            (
                "truth (simulator, hidden state)",
                *auc_pair(yt[have], preds_truth[have]),
                int(have.sum()),
            )
        )
        for name, p in preds.items():
            rows.append(
                (name + " (rows with truth)", *auc_pair(yt[have], p[have]), int(have.sum()))
            )
    for name, p in preds.items():
        rows.append((name, *auc_pair(yt, p), len(yt)))
    cat_lines = per_category_lines(test, yt, preds, preds_truth if truth_path.is_file() else None)
    from predict.evaluate import expected_calibration_error

    ece = expected_calibration_error(yt.astype(float), preds["model"])
    best_base = max(auc_pair(yt, preds[k])[0] for k in ("weibull_age", "past_failure_rate"))
    plain = auc_pair(yt, preds["plain_lightgbm"])[0]
    simple = auc_pair(yt, preds["simple_lightgbm_with_category"])[0]
    model = auc_pair(yt, preds["model"])[0]
    lines += [
        f"World: {args.workspace}; {data.assets.shape[0]} assets, channels {data.channels}, "
        f"history {data.history_start:%Y-%m-%d} to {end:%Y-%m-%d}; test cutoffs "
        f"{split.test[0]:%Y-%m-%d}..{split.test[-1]:%Y-%m-%d}, {len(yt)} rows, "
        f"{int(yt.sum())} positives (label: failure work order within {args.horizon} days).\n",
        "## Quality (test period)\n",
        "| scorer | PR-AUC | ROC-AUC | rows |",
        "|---|---|---|---|",
        *[f"| {n} | {a:.4f} | {b:.4f} | {r} |" for n, a, b, r in rows],
        "",
        f"Model PR-AUC / best baseline = {model / best_base:.2f} (goal ≥ 2); model / plain "
        f"LightGBM = {model / plain:.2f} (goal ≥ 1.2); model / simple LightGBM with category = "
        f"{model / simple:.2f}; model ECE = {ece:.4f} (goal < 0.02).\n",
        *cat_lines,
        *honest_world_lines(args.workspace, data.assets),
    ]
    if args.quality_only:
        _write(lines, args.out)
        return
    # performance
    X = features[[c for c in features.columns if c not in KEY_COLUMNS]].iloc[idx["train"]]
    ytr = y[idx["train"]]
    params = lgbm_params(len(ytr), int(ytr.sum()), num_threads=2)
    t0 = time.perf_counter()
    fit_booster(X, ytr, params)
    t_ours = time.perf_counter() - t0
    raw = {
        k: v
        for k, v in params.items()
        if k
        not in (
            "n_estimators",
            "n_jobs",
            "random_state",
            "subsample",
            "subsample_freq",
            "colsample_bytree",
            "reg_lambda",
        )
    }
    raw.update(
        num_threads=2,
        seed=0,
        bagging_fraction=params["subsample"],
        bagging_freq=params["subsample_freq"],
        feature_fraction=params["colsample_bytree"],
        lambda_l2=params["reg_lambda"],
    )
    t0 = time.perf_counter()
    lgb.train(raw, lgb.Dataset(X, ytr), num_boost_round=params["n_estimators"])
    t_raw = time.perf_counter() - t0
    t_duck = duckdb_means(ws.readings_dir, cutoffs, data.channels)
    from asset_model.readings_store import read_readings
    from predict.features.build import readings_features

    t0 = time.perf_counter()
    readings_features(
        read_readings(ws.readings_dir, channels=data.channels), cutoffs, data.channels
    )
    t_win = time.perf_counter() - t0
    lines += [
        "## Performance (this machine, 2 shared cores)\n",
        "| stage | seconds |",
        "|---|---|",
        f"| load registry + weather | {t_load:.1f} |",
        f"| features ({len(features):,} rows × {features.shape[1]} cols, "
        f"{len(cutoffs)} cutoffs) | {t_feat:.1f} |",
        f"| DuckDB: 7/30/90 means, std, slope only, one SQL query | {t_duck:.1f} |",
        f"| our readings windows only (numpy grid, Dask partitions, no weather) | {t_win:.1f} |",
        f"| train (fit, iteration choice, calibration, baselines, evaluation) | {t_train:.1f} |",
        f"| LightGBM via our wrapper (LGBMClassifier, {len(ytr):,} rows) | {t_ours:.1f} |",
        f"| lightgbm.train on the same matrix | {t_raw:.1f} |",
        "",
        f"Peak RSS {peak_mb():.0f} MB. Wrapper overhead {100 * (t_ours / t_raw - 1):+.0f} %.\n",
    ]
    _write(lines, args.out)


def _write(lines: list[str], out: Path) -> None:
    text = "\n".join(lines)
    print(text)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
