"""``patrimoine score`` on a large world, stage by stage, against raw LightGBM in the same run.

Runs the product's own ``score_workspace`` as the CLI does (a ``LocalCluster`` of one
single-threaded worker per core, drivers for every asset by default) on a COPY of the
workspace's registry, with timers around its stages (read-ahead start, registry and weather
load, as-of features, which include the model step when every driver is worded: each
partition is scored on its worker; ``RiskScore`` write), then writes the CSV as the CLI does.
The references, measured after the timed run on the same features, gathered for them:
LightGBM's own ``predict(raw_score=True)`` on every row, and its ``pred_contrib`` (what the
drivers were computed with before) on a sample, per row. The Dask task stream of the timed
run is summarised per kind of task (count, compute seconds, first start and last end). The
probabilities are checked against LightGBM's. Run it from the checkout it measures
(``python -m`` puts the working folder first on the path; ``PYTHONPATH`` alone would measure
this one)::

    python -m benchmarks.bench_score_million --workspace /work/mil/ws
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import resource
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from dask.utils import key_split
from distributed import get_task_stream

import predict.workflow as workflow
from asset_model import write_csv
from patrimoine.compute import dask_client
from patrimoine.settings import Settings
from patrimoine.workspace import open_workspace
from predict.artifact import load_artifact

STAGES = (
    "read_ahead_for_scoring",
    "load_workspace_data",
    "asof_features",
    "score",
    "write_risk_scores",
)


def _timed(name: str, fn: Callable[..., Any], seen: dict[str, Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        t = time.perf_counter()
        out = fn(*args, **kwargs)
        seen[name] = time.perf_counter() - t
        seen[f"{name}_result"] = out
        return out

    return run


def task_summary(records: list[dict[str, Any]], wall_start: float) -> dict[str, Any]:
    """Per kind of Dask task (its key's prefix): how many, their total compute seconds, and
    when the first started and the last ended, in seconds from ``wall_start``."""
    kinds: dict[str, dict[str, float]] = {}
    for record in records:
        name = key_split(record["key"])
        for span in record.get("startstops", ()):
            if span["action"] != "compute":
                continue
            k = kinds.setdefault(name, {"tasks": 0, "compute_s": 0.0, "first": 1e18, "last": 0})
            k["tasks"] += 1
            k["compute_s"] += span["stop"] - span["start"]
            k["first"] = min(k["first"], span["start"] - wall_start)
            k["last"] = max(k["last"], span["stop"] - wall_start)
    return {
        name: {k: round(v, 2) for k, v in kind.items()}
        for name, kind in sorted(kinds.items(), key=lambda item: item[1]["first"])
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--workspace", type=Path, required=True)
    ap.add_argument("--drivers-share", type=float, default=1.0)
    ap.add_argument("--contrib-sample", type=int, default=20_000)
    ap.add_argument("--out", type=Path, default=Path("/tmp/score-million.json"))
    args = ap.parse_args(argv)
    seen: dict[str, Any] = {}
    original = {name: getattr(workflow, name) for name in STAGES}
    for name in STAGES:
        setattr(workflow, name, _timed(name, original[name], seen))
    with tempfile.TemporaryDirectory(dir=args.workspace.parent) as tmp:
        registry = Path(tmp) / "registry.sqlite"
        shutil.copy(args.workspace / "registry.sqlite", registry)
        ws = open_workspace(Settings(workspace=args.workspace, db_url=f"sqlite:///{registry}"))
        print("load avg", os.getloadavg(), flush=True)
        t0, wall_start = time.perf_counter(), time.time()
        with dask_client(None) as client:
            t_cluster = time.perf_counter() - t0
            with ws.session() as session, get_task_stream(client) as stream:
                result = workflow.score_workspace(
                    session,
                    ws.readings_dir,
                    ws.models_dir,
                    client=client,
                    drivers_share=args.drivers_share,
                )
                t_commit = time.perf_counter()
            t_score = time.perf_counter() - t0
            csv = Path(tmp) / "scores.csv"
            write_csv(result.scores, csv)
            t_csv = time.perf_counter() - t0 - t_score
            total = time.perf_counter() - t0
            # not timed: the same features gathered here, for LightGBM's own predict (with
            # every driver worded, scoring never gathers them)
            artifact = load_artifact(workflow.latest_artifact(ws.models_dir))
            data = seen["load_workspace_data_result"]
            features = original["asof_features"](
                Path(tmp) / "check", data, artifact, ws.readings_dir, result.as_of, client
            )
    n = len(result.scores)
    t = time.perf_counter()
    matrix = artifact.matrix(features)
    raw = artifact.booster.predict(matrix, raw_score=True)
    t_lgb_predict = time.perf_counter() - t
    lgb_p = artifact.calibrate(
        1 / (1 + np.exp(-(np.asarray(raw, dtype=np.float64) + artifact.offset(features))))
    )
    ours = result.scores.set_index("asset_ref")["p_failure"]
    diff = float(np.max(np.abs(ours.loc[features["asset_ref"]].to_numpy() - lgb_p)))
    sample = matrix[: args.contrib_sample]
    t = time.perf_counter()
    artifact.booster.predict(sample, pred_contrib=True)
    contrib_per_row = (time.perf_counter() - t) / len(sample)
    worded = int((result.scores["drivers"] != "").sum())
    figures = {
        "assets_scored": n,
        "trees": artifact.booster.num_trees(),
        "features": len(artifact.feature_names),
        "drivers_worded": worded,
        "cluster_start_s": t_cluster,
        **{f"{k}_s": seen[k] for k in STAGES if k in seen},
        "score_workspace_s": t_commit - t0 - t_cluster,
        "commit_s": t_score - (t_commit - t0),
        "csv_s": t_csv,
        "total_s": total,
        "lightgbm_predict_raw_all_rows_s": t_lgb_predict,
        "lightgbm_pred_contrib_per_row_ms": contrib_per_row * 1e3,
        "lightgbm_pred_contrib_all_worded_rows_est_s": contrib_per_row * worded,
        "max_abs_diff_p_vs_lightgbm": diff,
        "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6,
        "load_avg_end": os.getloadavg(),
    }
    figures["task_stream"] = task_summary(stream.data, wall_start)
    print(json.dumps(figures, indent=2), flush=True)
    args.out.write_text(json.dumps(figures, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
