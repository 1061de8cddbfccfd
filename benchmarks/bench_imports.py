"""Benchmark: importing meter readings (CSV and Parquet) into the partitioned readings store.

For each format, in the same run and on the same file:

* **import**: ``asset_model.import_readings`` (validation, daily aggregation, bucketed Parquet
  dataset, ImportRecord in a fresh SQLite registry);
* **reference**: pyarrow alone streaming the same file (CSV streaming reader with type inference /
  ``ParquetFile.iter_batches``), adding the same ``bucket`` column and writing a hive-partitioned
  Parquet dataset with ``pyarrow.dataset.write_dataset`` (no validation, no aggregation).

Each measurement runs in its own subprocess, which reports its wall time and its peak resident
memory (``VmHWM``). The import also runs on a file ``--memory-factor`` times larger, to show
whether peak memory grows with the file.

    .venv/bin/python -m benchmarks.bench_imports                 # 10 M rows (default)
    .venv/bin/python -m benchmarks.bench_imports --scale 2000000   # quicker
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.dataset as ds
import pyarrow.parquet as pq

RESULTS = Path(__file__).parent / "results" / "imports.md"
CHANNELS = ["energy_kwh", "supply_temp_c"]


def generate(path: Path, rows: int, fmt: str, *, seed: int = 1) -> None:
    """Hourly readings of ``rows`` rows: assets × 2 channels × hours, written in 1 M-row chunks."""
    hours = 24 * 120
    n_series = max(1, rows // hours)
    rng = np.random.default_rng(seed)
    start = np.datetime64("2024-01-01T00:00", "ms")
    schema = pa.schema(
        [
            ("asset_ref", pa.string()),
            ("channel", pa.string()),
            ("ts", pa.timestamp("ms")),
            ("value", pa.float64()),
        ]
    )
    writer: pacsv.CSVWriter | pq.ParquetWriter
    if fmt == "csv":
        writer = pacsv.CSVWriter(str(path), schema)
    else:
        writer = pq.ParquetWriter(str(path), schema)
    done = 0
    chunk = 1_000_000
    while done < rows:
        n = min(chunk, rows - done)
        idx = np.arange(done, done + n)
        series = (idx // hours) % n_series
        hour = idx % hours
        refs = np.char.add("ASSET-", (series // len(CHANNELS)).astype(str))
        table = pa.table(
            {
                "asset_ref": pa.array(refs),
                "channel": pa.array(np.array(CHANNELS)[series % len(CHANNELS)]),
                "ts": pa.array(start + hour.astype("timedelta64[h]"), pa.timestamp("ms")),
                "value": pa.array(np.round(rng.random(n) * 10, 3)),
            },
            schema=schema,
        )
        writer.write_table(table)
        done += n
    writer.close()


# ------------------------------------------------------------------ children (own process)


def child_import(path: Path, out: Path) -> dict:
    from asset_model import import_readings, open_registry, transaction

    engine = open_registry(f"sqlite:///{out / 'registry.sqlite'}")
    t0 = time.perf_counter()
    with transaction(engine) as session:
        summary = import_readings(session, out / "readings", path)
    seconds = time.perf_counter() - t0
    engine.dispose()
    return {"seconds": seconds, "rows": summary.rows_read, "daily_rows": summary.daily_rows}


def child_reference(path: Path, out: Path) -> dict:
    from asset_model.readings_store import buckets_of

    t0 = time.perf_counter()
    if path.suffix == ".csv":
        reader = pacsv.open_csv(path, read_options=pacsv.ReadOptions(block_size=1 << 24))
        schema = reader.schema
        batches = iter(reader)
    else:
        pf = pq.ParquetFile(path)
        schema = pf.schema_arrow
        batches = pf.iter_batches(batch_size=1_000_000)
    rows = 0

    def with_bucket():  # noqa: ANN202
        nonlocal rows
        for batch in batches:
            rows += batch.num_rows
            bucket = pa.array(buckets_of(batch.column("asset_ref")).astype(np.int32))
            yield pa.RecordBatch.from_arrays(
                [*batch.columns, bucket], names=[*batch.schema.names, "bucket"]
            )

    full = schema.append(pa.field("bucket", pa.int32()))
    ds.write_dataset(
        with_bucket(),
        out / "reference",
        schema=full,
        format="parquet",
        partitioning=ds.partitioning(pa.schema([("bucket", pa.int32())]), flavor="hive"),
        existing_data_behavior="overwrite_or_ignore",
    )
    return {"seconds": time.perf_counter() - t0, "rows": rows}


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM; ``ru_maxrss`` would include the parent's,
    as Linux keeps it across ``exec``)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_child(kind: str, path: Path, out: Path) -> dict:
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_imports", "--child", kind, str(path), str(out)],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).parent.parent,
        env={**os.environ, "OMP_WAIT_POLICY": "passive"},
    )
    if proc.returncode != 0:
        raise SystemExit(f"{kind} on {path} failed:\n{proc.stderr}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    shutil.rmtree(out, ignore_errors=True)
    return result


# ------------------------------------------------------------------ driver


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=10_000_000, help="reading rows per file")
    parser.add_argument(
        "--memory-factor", type=int, default=2, help="size ratio of the larger memory-check run"
    )
    parser.add_argument("--formats", default="csv,parquet")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--no-write", action="store_true", help="do not update results/imports.md")
    parser.add_argument("--child", nargs=3, metavar=("KIND", "FILE", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        kind, file, out = args.child
        fn = child_import if kind == "import" else child_reference
        result = fn(Path(file), Path(out))
        result["peak_rss_mb"] = peak_rss_mb()
        print(json.dumps(result))
        return 0

    load = os.getloadavg()[0]
    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench-imports-"))
    work.mkdir(parents=True, exist_ok=True)
    large = args.scale * args.memory_factor  # the larger file of the memory check
    lines = []
    try:
        for fmt in args.formats.split(","):
            big_file = work / f"readings_{args.scale}.{fmt}"
            large_file = work / f"readings_{large}.{fmt}"
            t0 = time.perf_counter()
            generate(big_file, args.scale, fmt)
            generate(large_file, large, fmt)
            gen = time.perf_counter() - t0
            size_mb = big_file.stat().st_size / 1e6
            print(
                f"[{fmt}] generated {args.scale:,} rows ({size_mb:.0f} MB) in {gen:.1f}s",
                flush=True,
            )
            ref = run_child("reference", big_file, work / "out")
            print(f"[{fmt}] reference {ref}", flush=True)
            imp = run_child("import", big_file, work / "out")
            print(f"[{fmt}] import    {imp}", flush=True)
            imp_large = run_child("import", large_file, work / "out")
            print(f"[{fmt}] import {large:,} rows {imp_large}", flush=True)
            large_file.unlink()
            ratio = imp["seconds"] / ref["seconds"]
            lines.append(
                f"| {fmt} | {args.scale:,} | {size_mb:.0f} | {imp['seconds']:.1f} | "
                f"{args.scale / imp['seconds'] / 1e6:.2f} | {imp['peak_rss_mb']:.0f} | "
                f"{ref['seconds']:.1f} | {args.scale / ref['seconds'] / 1e6:.2f} | "
                f"{ref['peak_rss_mb']:.0f} | **{ratio:.2f}×** | "
                f"{imp_large['peak_rss_mb']:.0f} MB peak, {imp_large['seconds']:.1f} s "
                f"at {large:,} rows |"
            )
            big_file.unlink()
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)
    cmd = ".venv/bin/python -m benchmarks.bench_imports" + (
        f" --scale {args.scale}" if args.scale != 10_000_000 else ""
    )
    report = "\n".join(
        [
            "# Imports: readings into the partitioned Parquet store",
            "",
            f"Command: `{cmd}` — {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, "
            f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores (shared), "
            f"Python {platform.python_version()}, pyarrow {pa.__version__}, "
            f"load average at start {load:.1f}.",
            "",
            "Hourly readings (2 channels: `energy_kwh` summed, `supply_temp_c` averaged) → daily. "
            "*import* = `asset_model.import_readings` (sniffing, SHA-256, validation, daily "
            "aggregation, bucketed dataset, ImportRecord in SQLite). *reference* = pyarrow alone "
            "streaming the same file and writing the raw rows to a hive-partitioned dataset with "
            "the same `bucket` column (no validation, no aggregation). Each run in its own "
            "process; peak memory is its high-water resident set (`VmHWM`).",
            "",
            "| format | rows | MB | import s | M rows/s | import peak MB | reference s | "
            "M rows/s | reference peak MB | import / reference | import on a larger file |",
            "|---|---|---|---|---|---|---|---|---|---|---|",
            *lines,
            "",
        ]
    )
    print(report)
    if not args.no_write:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(report, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
