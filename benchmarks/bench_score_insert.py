"""The ``RiskScore`` insert of ``score_workspace``, timed for every active asset of a world.

The product's own write (``predict.workflow.write_risk_scores``, then commit) on a COPY of the
workspace's SQLite registry, removed afterwards. The scores are placeholders (random): the
insert's cost does not depend on them::

    python -m benchmarks.bench_score_insert --workspace /work/big/ws
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from asset_model import assets_frame, open_registry
from asset_model.models import ModelRun
from predict.workflow import write_risk_scores


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--workspace", type=Path, required=True)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copy(args.workspace / "registry.sqlite", Path(tmp) / "registry.sqlite")
        engine = open_registry(f"sqlite:///{tmp}/registry.sqlite")
        with Session(engine) as session:
            active = assets_frame(session, active_only=True)
            run = ModelRun(artifact_path="placeholder", horizon_days=90, data_sha256=None)
            session.add(run)
            session.flush()
            rng = np.random.default_rng(0)
            words = "age 23 years (+0.41); energy 30-day mean vs year +12 % (+0.20)"
            scores = pd.DataFrame(
                {
                    "asset_id": active["asset_id"],
                    "p_failure": rng.random(len(active)),
                    "remaining_life_years": rng.random(len(active)) * 20,
                    "drivers": np.where(rng.random(len(active)) < 0.1, words, ""),
                }
            )
            t = time.perf_counter()
            write_risk_scores(
                session,
                scores,
                model_run_id=run.id,
                as_of=pd.Timestamp("2025-01-01"),
                horizon_days=90,
            )
            t1 = time.perf_counter()
            session.commit()
            t2 = time.perf_counter()
        engine.dispose()
    print(
        f"insert {len(scores):,} RiskScore rows (predict.workflow.write_risk_scores): "
        f"write {t1 - t:.1f} s, commit {t2 - t1:.1f} s, total {t2 - t:.1f} s"
    )


if __name__ == "__main__":
    main()
