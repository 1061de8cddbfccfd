"""Predict at scale (issue 5, performance): features, training and scoring on a big world.

On a world built at full size (100,000 dwellings, 3 years; see benchmarks/results/predict_scale.md
for the commands) this times every stage and records the peak memory of this process and of
the Dask workers (a ``LocalCluster`` whose worker memory limit is far below the data size):

* load (registry frames, weather, history span);
* features for training through the feature store (partition-wise, Parquet), with the
  negative sample (every positive, a seeded share of negatives; the test period whole);
* training-matrix assembly (reading the sample back);
* LightGBM through our wrapper against ``lightgbm.train`` on the same matrix;
* the whole training (fit, iteration choice, calibration, baselines, full test evaluation);
* scoring every active asset (features at the as-of date, probabilities, ``pred_contrib``
  drivers, remaining life), and the model step alone on >= 1,000,000 rows (the as-of frame
  repeated: the stock has ~6.4 assets per dwelling, so 100,000 dwellings give ~644,000 assets);
* our reading-window features against the same window statistics as one DuckDB SQL query over
  the same Parquet readings, on the same buckets, in the same run.

    .venv/bin/python -m benchmarks.bench_predict_scale --workspace /tmp/predscale/ws
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
import psutil

from asset_model.readings_store import read_readings
from patrimoine import open_workspace
from predict import load_workspace_data, monthly_cutoffs, score, time_split
from predict.explain import top_drivers
from predict.features.build import KEY_COLUMNS, readings_features
from predict.features.readings import LOOKBACK_DAYS
from predict.sampling import NegativeSample, sample_rate
from predict.survival import fit_lifetimes
from predict.train import fit_booster, lgbm_params
from predict.train_store import train_from_store, training_frame
from predict.workflow import MAX_TRAINING_ROWS, WARMUP_DAYS, asof_features, write_store

ROWS: list[tuple[str, float, float, float, str]] = []


class Peaks:
    """Polls the RSS of this process and of the Dask workers (max over a stage)."""

    def __init__(self, pids: list[int]) -> None:
        self.procs = [psutil.Process(p) for p in pids]
        self.me = psutil.Process()
        self.reset()
        self._stop = threading.Event()
        threading.Thread(target=self._run, daemon=True).start()

    def reset(self) -> None:
        self.main = 0
        self.worker = 0

    def sample(self) -> None:
        try:
            self.main = max(self.main, self.me.memory_info().rss)
            for p in self.procs:
                self.worker = max(self.worker, p.memory_info().rss)
        except psutil.Error:
            pass

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            time.sleep(0.2)

    def stop(self) -> None:
        self._stop.set()


PEAKS: Peaks | None = None
PARTIAL: Path | None = None


@contextmanager
def stage(name: str, note: str = "") -> Iterator[dict[str, Any]]:
    info: dict[str, Any] = {"note": note}
    if PEAKS:
        PEAKS.reset()
    print(f"[{time.strftime('%H:%M:%S')}] {name} …", flush=True)
    t0 = time.perf_counter()
    yield info
    secs = time.perf_counter() - t0
    if PEAKS:
        PEAKS.sample()
    main = PEAKS.main / 2**30 if PEAKS else float("nan")
    worker = PEAKS.worker / 2**30 if PEAKS else float("nan")
    ROWS.append((name, secs, main, worker, info["note"]))
    if PARTIAL is not None:
        PARTIAL.write_text(
            "\n".join(f"| {r[0]} | {r[1]:.1f} | {r[2]:.2f} | {r[3]:.2f} | {r[4]} |" for r in ROWS)
        )
    print(
        f"    {secs:.1f} s, main {main:.2f} GB, worker {worker:.2f} GB {info['note']}", flush=True
    )


def raw_lgb_train(X: pd.DataFrame, y: np.ndarray, params: dict[str, Any]) -> lgb.Booster:
    """The same fit with ``lightgbm.train`` (native parameter names)."""
    rename = {
        "subsample": "bagging_fraction",
        "subsample_freq": "bagging_freq",
        "colsample_bytree": "feature_fraction",
        "reg_lambda": "lambda_l2",
        "n_jobs": "num_threads",
        "random_state": "seed",
    }
    raw = {rename.get(k, k): v for k, v in params.items() if k != "n_estimators"}
    return lgb.train(raw, lgb.Dataset(X, y), num_boost_round=params["n_estimators"])


def duckdb_windows(
    files: list[str], cutoffs: list[pd.Timestamp], channels: list[str], memory: str
) -> tuple[float, int]:
    """Our 11 window statistics per asset/channel/cutoff as one DuckDB query; (seconds, rows)."""
    import duckdb

    cut = ", ".join(f"(TIMESTAMP '{c:%Y-%m-%d}')" for c in cutoffs)
    chans = ", ".join(f"'{c}'" for c in channels)
    lo = min(cutoffs) - pd.Timedelta(days=LOOKBACK_DAYS)
    paths = ", ".join(f"'{f}'" for f in files)
    sql = f"""
    WITH r AS (SELECT asset_ref, channel, day, value FROM read_parquet([{paths}])
               WHERE channel IN ({chans}) AND day >= TIMESTAMP '{lo:%Y-%m-%d}'
                 AND value IS NOT NULL AND isfinite(value)),
         c(cutoff) AS (VALUES {cut}),
         w AS (
      SELECT r.asset_ref, r.channel, c.cutoff,
        avg(value) FILTER (WHERE day >= c.cutoff - INTERVAL 7 DAY) AS mean7,
        avg(value) FILTER (WHERE day >= c.cutoff - INTERVAL 30 DAY) AS mean30,
        avg(value) FILTER (WHERE day >= c.cutoff - INTERVAL 90 DAY) AS mean90,
        stddev_pop(value) FILTER (WHERE day >= c.cutoff - INTERVAL 30 DAY) AS std30,
        stddev_pop(value) FILTER (WHERE day >= c.cutoff - INTERVAL 90 DAY) AS std90,
        regr_slope(value, epoch(day) / 86400)
          FILTER (WHERE day >= c.cutoff - INTERVAL 90 DAY) AS slope90,
        avg(value) FILTER (WHERE day >= c.cutoff - INTERVAL 120 DAY
                             AND day < c.cutoff - INTERVAL 30 DAY) AS prev90,
        avg(value) FILTER (WHERE day < c.cutoff - INTERVAL 30 DAY) AS year,
        count(*) FILTER (WHERE day >= c.cutoff - INTERVAL 30 DAY) AS n30,
        max(day) AS last_day
      FROM r JOIN c ON r.day < c.cutoff AND r.day >= c.cutoff - INTERVAL 365 DAY
      GROUP BY ALL)
    SELECT asset_ref, channel, cutoff, mean7, mean30, mean90, std30, std90,
      30 * slope90 / (abs(mean90) + 1e-9) AS trend90,
      mean7 / (abs(mean30) + 1e-9) AS ratio7_30,
      mean30 / (abs(prev90) + 1e-9) AS ratio30_prev90,
      mean30 / (abs(year) + 1e-9) AS ratio30_year,
      n30 / 30.0 AS cov30,
      date_diff('day', last_day, cutoff) AS days_since_reading
    FROM w
    """
    con = duckdb.connect()
    con.execute(f"SET threads TO 2; SET memory_limit = '{memory}'")
    con.execute(f"SET temp_directory = '{tempfile.mkdtemp(prefix='duckdb-')}'")
    t = time.perf_counter()
    n = con.execute(f"SELECT count(*) FROM ({sql})").fetchone()[0]
    return time.perf_counter() - t, int(n)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--workspace", type=Path, default=Path("/tmp/predscale/ws"))
    ap.add_argument("--store", type=Path, default=None, help="feature store folder (kept)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--worker-memory", default="4GiB")
    ap.add_argument("--max-rows", type=int, default=MAX_TRAINING_ROWS)
    ap.add_argument("--horizon", type=int, default=90)
    ap.add_argument("--duckdb-buckets", type=int, default=8, help="buckets in the DuckDB race")
    ap.add_argument("--million", type=int, default=1_000_000)
    ap.add_argument("--drivers-share", type=float, default=0.1)
    ap.add_argument("--all-drivers", action="store_true", help="also score with every driver")
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/predict_scale.md"))
    args = ap.parse_args(argv)
    global PEAKS, PARTIAL
    PARTIAL = Path("/tmp") / f"{args.out.stem}.partial.md"
    from distributed import Client, LocalCluster

    ws = open_workspace(args.workspace)
    store_dir = args.store or args.workspace / "feature-store"
    load_before = os.getloadavg()
    cluster = LocalCluster(
        n_workers=args.workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        memory_limit=args.worker_memory,
    )
    client = Client(cluster)
    PEAKS = Peaks(list(client.run(os.getpid).values()))
    facts: dict[str, Any] = {}

    with stage("load (registry, weather, history span)"):
        with ws.session() as session:
            data = load_workspace_data(session, ws.readings_dir)
        end = data.history_end
        cutoffs = monthly_cutoffs(
            data.history_start + pd.Timedelta(days=WARMUP_DAYS),
            end - pd.Timedelta(days=args.horizon),
        )
        split = time_split(cutoffs, horizon_days=args.horizon)
        used = sorted(set(split.train) | set(split.valid) | set(split.test))
        rate = sample_rate(len(data.assets) * len(used), args.max_rows)
    facts.update(assets=len(data.assets), cutoffs=len(used), rate=rate, channels=data.channels)
    sample = NegativeSample(rate=rate, seed=0, full_cutoffs=tuple(split.test) if rate < 1 else ())
    with stage("features for training (feature store, on the cluster)") as info:
        store = write_store(
            store_dir,
            data,
            ws.readings_dir,
            used,
            client,
            horizon_days=args.horizon,
            history_end=end,
            sample=sample,
        )
        info["note"] = (
            f"{store.rows:,} asset-months, {store.positives:,} positives; sample kept "
            f"{store.sampled:,} ({store.counts['partitions']} partitions)"
        )
    size = sum(p.stat().st_size for p in store_dir.rglob("*.parquet")) / 2**30
    facts.update(rows=store.rows, sampled=store.sampled, positives=store.positives, disk=size)
    with stage("training-matrix assembly (read the sample back)") as info:
        features, labels = training_frame(store)
        info["note"] = f"{len(features):,} rows × {features.shape[1]} columns"
    period = split.period_of(features["cutoff"]).to_numpy()
    tr = np.flatnonzero((period == "train") & labels["observed"].to_numpy(dtype=bool))
    X = features[[c for c in features.columns if c not in KEY_COLUMNS]].iloc[tr]
    y = labels["failed"].to_numpy(dtype=bool)[tr]
    params = lgbm_params(len(y), int(y.sum()), num_threads=2)
    del features, labels
    fit_booster(X.iloc[:2000], y[:2000], {**params, "n_estimators": 5})  # warm-up, not timed
    with stage("LightGBM: our wrapper (LGBMClassifier), training rows") as info:
        fit_booster(X, y, params)
        info["note"] = f"{len(y):,} rows, {int(y.sum()):,} positives"
    t_ours = ROWS[-1][1]
    with stage("LightGBM: lightgbm.train on the same matrix"):
        raw_lgb_train(X, y, params)
    t_raw = ROWS[-1][1]
    facts["overhead"] = 100 * (t_ours / t_raw - 1)
    del X
    with stage("training (fit, iteration, calibration, baselines, full test evaluation)") as info:
        meta = {"channels": data.channels, "weather": data.dju is not None}
        art = train_from_store(
            store, split, horizon_days=args.horizon, num_threads=2, metadata=meta
        )
        m = art.metrics["model"]["overall"]
        info["note"] = f"test rows {m['rows']:,}, PR-AUC {m['pr_auc']:.3f}, ROC {m['roc_auc']:.3f}"
    facts["metrics"] = {k: v["overall"] for k, v in art.metrics.items()}
    with stage("training: lifetimes per category (remaining life)"):
        wo = data.work_orders[data.work_orders["opened_at"] < end]
        art.baselines["lifetimes"] = fit_lifetimes(
            data.assets, wo, end, observed_from=data.history_start
        )
    del data, wo
    # scoring from scratch, as `patrimoine score` does it (less the RiskScore insert): a fresh
    # load, the as-of features of every active asset, the model it just trained
    scratch = len(ROWS)
    with stage("scoring from scratch: load (registry, weather, history span)"), ws.session() as s:
        data = load_workspace_data(s, ws.readings_dir)
    with stage("scoring from scratch: features at the as-of date (feature store, cluster)") as info:
        asof = asof_features(
            store_dir.with_name("score-store"), data, art, ws.readings_dir, end, client
        )
        info["note"] = f"{len(asof):,} active assets × {asof.shape[1]} columns"
    share = args.drivers_share
    with stage(f"scoring from scratch: model, drivers for the riskiest {share:.0%}, life") as info:
        score(art, asof, drivers_share=share)
        info["note"] = f"{len(asof):,} active assets"
    facts["scratch"] = sum(r[1] for r in ROWS[scratch:])
    facts["scratch_no_load"] = sum(r[1] for r in ROWS[scratch + 1 :])
    if args.all_drivers:
        with stage("scoring: model, drivers for every asset, remaining life (the default)"):
            score(art, asof)
    with stage("  of which probabilities"):
        art.predict_proba(asof)
    with stage("  of which pred_contrib, first 50,000 rows"):
        contrib = art.contributions(asof.iloc[:50_000])
    t_contrib = ROWS[-1][1] / len(contrib)
    with stage("  of which drivers in words, first 50,000 rows"):
        top_drivers(contrib, asof.iloc[:50_000][art.feature_names])
    facts["all_drivers"] = (t_contrib + ROWS[-1][1] / len(contrib)) * len(asof)
    facts["active"] = len(asof)
    del contrib
    reps = -(-args.million // len(asof))
    big = pd.concat([asof] * reps, ignore_index=True).iloc[: args.million]
    with stage(f"scoring {len(big):,} rows, drivers for the riskiest {share:.0%}") as info:
        score(art, big, drivers_share=share)
        info["note"] = "the as-of frame repeated: the model step at 1 M rows"
    with stage(f"scoring {len(big):,} rows, no drivers") as info:
        score(art, big, drivers_share=0.0)
        info["note"] = f"probabilities and remaining life; {art.booster.num_trees()} trees"
    del big, asof
    client.close()
    cluster.close()
    PEAKS.stop()
    PEAKS = None
    # the reading-window features against DuckDB, same buckets, in-process both
    folders = sorted(p for p in ws.readings_dir.glob("bucket=*") if p.is_dir())
    n = min(args.duckdb_buckets, len(folders))
    files = [str(f) for d in folders[:n] for f in sorted(d.glob("part-*.parquet"))]
    rd = read_readings(
        ws.readings_dir,
        channels=data.channels,
        start=min(used) - pd.Timedelta(days=LOOKBACK_DAYS),
        end=max(used) - pd.Timedelta(days=1),
    )
    rd = rd.partitions[:n]
    with stage(f"our reading windows, {n} of {len(folders)} buckets (no weather)") as info:
        ours = readings_features(rd, used, data.channels)
        info["note"] = f"{len(ours):,} asset-cutoff rows × {len(data.channels)} channels"
    t_win = ROWS[-1][1]
    del ours
    with stage(f"DuckDB: the same 11 window statistics, one SQL query, {n} buckets") as info:
        t_duck, nrows = duckdb_windows(files, used, data.channels, "4GB")
        info["note"] = f"{nrows:,} asset-channel-cutoff rows"
    facts["duck_ratio"] = t_win / t_duck
    write_report(args, facts, load_before, n, len(folders))


def write_report(args: Any, facts: dict[str, Any], load_before: tuple, n: int, nb: int) -> None:
    load_after = os.getloadavg()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    lines = [
        "# Predict at scale (issue 5, performance)\n",
        f"Command: `.venv/bin/python -m benchmarks.bench_predict_scale {' '.join(sys.argv[1:])}`\n",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"{psutil.virtual_memory().total / 2**30:.0f} GiB, Python {platform.python_version()}; "
        f"load average before {load_before[0]:.1f}/{load_before[1]:.1f}, after "
        f"{load_after[0]:.1f}/{load_after[1]:.1f} (cores shared with other jobs).\n",
        f"World: {facts['assets']:,} assets, channels {facts['channels']}; {facts['cutoffs']} "
        f"monthly cutoffs; {facts['rows']:,} asset-months, {facts['positives']:,} positives. "
        f"Training sample: every positive and {facts['rate']:.2%} of the negatives "
        f"({facts['sampled']:,} rows; the test period kept whole for evaluation); feature store "
        f"{facts['disk']:.2f} GiB of Parquet. Dask: LocalCluster, {args.workers} workers × 1 "
        f"thread, memory limit {args.worker_memory} each.\n",
        "| stage | seconds | peak RSS main (GB) | peak RSS worker (GB) | notes |",
        "|---|---:|---:|---:|---|",
    ]
    for name, secs, main, worker, note in ROWS:
        w = "—" if np.isnan(worker) else f"{worker:.2f}"
        mm = "—" if np.isnan(main) else f"{main:.2f}"
        lines.append(f"| {name} | {secs:.1f} | {mm} | {w} | {note} |")
    met = facts["metrics"]
    lines += [
        "",
        f"LightGBM wrapper overhead vs `lightgbm.train`: {facts['overhead']:+.0f} % (goal < 20 %).",
        f"Reading windows / DuckDB on {n} of {nb} buckets: {facts['duck_ratio']:.2f}× "
        "(goal within 2×).",
        f"Scoring from scratch ({facts['active']:,} active assets): {facts['scratch']:.0f} s with "
        f"the load, {facts['scratch_no_load']:.0f} s without (as-of features + model step).",
        f"Process max RSS over the whole run: {peak:.2f} GB.",
        f"Drivers for every one of the {facts['active']:,} active assets (`pred_contrib` + "
        f"wording, extrapolated from the first 50,000 rows): about {facts['all_drivers']:.0f} s "
        "on top of the model step.",
        "",
        "Test period (every row), PR-AUC / ROC-AUC: "
        + "; ".join(f"{k} {v['pr_auc']:.4f} / {v['roc_auc']:.4f}" for k, v in met.items())
        + ".\n",
    ]
    text = "\n".join(lines)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
