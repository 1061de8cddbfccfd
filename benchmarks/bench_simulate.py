"""Benchmark: simulate N dwellings (~6.5 assets each) over 3 years, streaming building chunks.

    .venv/bin/python -m benchmarks.bench_simulate --dwellings 10000
    .venv/bin/python -m benchmarks.bench_simulate --dwellings 100000   # ~1M assets (full size)

Reports wall time, peak RSS, rows written per second, and compares with a reference measured in
the same run: writing the same number of readings rows to Parquet with pyarrow alone (the floor
for any simulator that writes its output). Also times the IFC generator on a slice of the stock
and reports the world's difficulty (truth vs age-only PR-AUC).
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from simulation import (
    class_of,
    load_parameters,
    plan_stock,
    simulate_history,
    stock_frames,
    write_stock,
)
from simulation.check import world_difficulty


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _reference_write(rows: int, chunks: int, out: Path) -> float:
    """Write ``rows`` readings rows (same schema, random values) in ``chunks`` Parquet files."""
    rng = np.random.default_rng(0)
    per = -(-rows // max(chunks, 1))
    t0 = time.perf_counter()
    done, i = 0, 0
    refs = np.array([f"{i:022d}" for i in range(5000)], dtype=object)
    while done < rows:
        n = min(per, rows - done)
        table = pa.table(
            {
                "asset_ref": pa.array(refs[rng.integers(0, len(refs), n)], pa.string()),
                "channel": pa.array(np.full(n, "energy_kwh", dtype=object), pa.string()),
                "ts": pa.array(
                    np.datetime64("2022-01-01", "ms") + rng.integers(0, 1096, n) * 86_400_000,
                    pa.timestamp("ms"),
                ),
                "value": pa.array(rng.random(n), pa.float64()),
            }
        )
        pq.write_table(table, out / f"ref-{i:05d}.parquet", compression="zstd")
        done += n
        i += 1
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dwellings", type=int, default=10_000)
    ap.add_argument("--years", type=float, default=3)
    ap.add_argument("--chunk-assets", type=int, default=10_000)
    ap.add_argument("--ifc-estates", type=int, default=10, help="estates written as IFC (timing)")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()

    tmp = Path(args.out or tempfile.mkdtemp(prefix="bench_sim_"))
    t0 = time.perf_counter()
    stock = plan_stock(dwellings=args.dwellings, seed=0)
    assets, buildings, dwellings = stock_frames(stock)
    t_plan = time.perf_counter() - t0
    print(
        f"stock: {len(buildings)} buildings, {len(dwellings)} dwellings, {len(assets)} assets "
        f"(planned in {t_plan:.1f} s)"
    )

    t0 = time.perf_counter()
    sub = plan_stock(estates=args.ifc_estates, seed=0)
    files = write_stock(sub, tmp / "ifc")
    t_ifc = time.perf_counter() - t0
    ifc_assets = len(sub.assets)
    print(
        f"IFC generator: {len(files)} files, {ifc_assets} assets in {t_ifc:.1f} s "
        f"({ifc_assets / t_ifc:,.0f} assets/s)"
    )

    rss0 = _peak_rss_mb()
    t0 = time.perf_counter()
    summary = simulate_history(
        assets,
        buildings,
        dwellings,
        out_dir=tmp / "sim",
        years=args.years,
        seed=0,
        chunk_assets=args.chunk_assets,
        progress=None,
    )
    t_sim = time.perf_counter() - t0
    rss = _peak_rss_mb()
    wo_rows = sum(summary.work_orders.values())
    rows = summary.readings_rows + wo_rows + summary.truth_rows
    print(
        f"simulate: {t_sim:.1f} s, {summary.chunks} chunks, peak RSS {rss:.0f} MB "
        f"(before: {rss0:.0f} MB)"
    )
    print(
        f"  readings {summary.readings_rows:,}, work orders {wo_rows:,}, "
        f"truth {summary.truth_rows:,} rows -> {rows / t_sim:,.0f} rows/s"
    )

    ref_dir = tmp / "ref"
    ref_dir.mkdir()
    t_ref = _reference_write(summary.readings_rows, summary.chunks, ref_dir)
    print(
        f"reference (pyarrow writes the same readings rows): {t_ref:.1f} s "
        f"-> {summary.readings_rows / t_ref:,.0f} rows/s; simulator/reference = "
        f"{t_sim / t_ref:.1f}x"
    )

    classes = dict(zip(assets["asset_ref"], class_of(assets, load_parameters()), strict=True))
    d_all = world_difficulty(summary.truth_dir, classes)
    d_boil = world_difficulty(summary.truth_dir, classes, only=["boiler_individual"])
    print(
        "world (all simulated classes): "
        + ", ".join(f"{k} {v:.4f}" for k, v in d_all.items() if k != "rows")
    )
    print(
        "world (individual boilers):    "
        + ", ".join(f"{k} {v:.4f}" for k, v in d_boil.items() if k != "rows")
    )
    rates = {c: summary.failure_rate(c) for c in sorted(summary.assets_by_class)}
    print(
        "failures per unit-year (incl. end of life): "
        + ", ".join(f"{c} {r:.3f}" for c, r in rates.items())
    )
    print(f"output in {tmp}")


if __name__ == "__main__":
    main()
