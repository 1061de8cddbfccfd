"""Scoring from scratch on a big world: the load and the as-of features, timed, frame kept.

What ``patrimoine score`` does before the model (``load_workspace_data``, then the features
of the active assets at one cutoff, ``asof_frame``: ``asof_features`` less the artifact
check), on a ``LocalCluster`` of 2 processes × 1 thread at 4 GiB as in ``bench_predict_scale``.
Reads the workspace only. Run it once per code tree (``PYTHONPATH``) and readings layout, then
compare the kept frames::

    PYTHONPATH=. python -m benchmarks.bench_score_scratch after \\
        --workspace /work/big/ws --readings /work/big/readings-copy/readings
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("label")
    ap.add_argument("--workspace", type=Path, required=True)
    ap.add_argument("--readings", type=Path, help="readings dataset (default: the workspace's)")
    ap.add_argument("--out", type=Path, default=Path("/tmp"))
    args = ap.parse_args(argv)
    from distributed import Client, LocalCluster

    import predict
    from patrimoine.workspace import open_workspace
    from predict import load_workspace_data
    from predict.workflow import WorkspaceData, asof_frame

    print(args.label, "code", predict.__file__, "load avg", os.getloadavg(), flush=True)
    cluster = LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        memory_limit="4GiB",
    )
    client = Client(cluster)
    ws = open_workspace(args.workspace)
    readings = args.readings or ws.readings_dir
    out: dict[str, float] = {}
    t = time.perf_counter()
    with ws.session() as s:
        data = load_workspace_data(s, readings)
    out["load"] = time.perf_counter() - t
    print(args.label, f"load {out['load']:.1f} s", data.history_end, data.channels, flush=True)
    t = time.perf_counter()
    active = data.assets[data.assets["status"] == "active"].reset_index(drop=True)
    scoped = WorkspaceData(**{**data.__dict__, "assets": active})
    folder = args.out / f"score-store-{args.label}"
    features = asof_frame(folder, scoped, readings, data.history_end, client)
    out["asof"] = time.perf_counter() - t
    print(args.label, f"as-of {out['asof']:.1f} s", features.shape, os.getloadavg(), flush=True)
    features.to_parquet(args.out / f"score-features-{args.label}.parquet")
    (args.out / f"score-{args.label}.json").write_text(json.dumps(out), encoding="utf-8")
    client.close()
    cluster.close()


if __name__ == "__main__":
    main()
