"""Simulate the registry's stock and write what a landlord would hand over, plus the truth.

Examples
--------
>>> from simulation import registry_frames, simulate_history, import_landlord_files
>>> with workspace.session() as session:                              # doctest: +SKIP
...     assets, buildings, dwellings = registry_frames(session)
>>> summary = simulate_history(assets, buildings, dwellings,          # doctest: +SKIP
...                            out_dir=workspace.simulation_dir, years=3, seed=0)
>>> with workspace.session() as session:                              # doctest: +SKIP
...     import_landlord_files(session, workspace.readings_dir, summary.landlord_dir)

Output (contract 5): ``<out>/landlord/`` holds ``work_orders.csv``, ``asset_attributes.csv`` and
``readings/part-NNNNN.parquet`` (long format ``asset_ref, channel, ts, value``);
``<out>/truth/`` holds ``monthly_risk.parquet``, ``failures.parquet`` and ``parameters.json``.
The simulation streams over chunks of whole buildings, so memory is bounded by the chunk size.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy.orm import Session

from asset_model import (
    assets_frame,
    buildings_frame,
    dwellings_frame,
    import_asset_attributes,
    import_readings,
    import_work_orders,
)
from simulation.engine import simulate_chunk
from simulation.parameters import class_of, load_parameters
from simulation.weather import daily_temperature

TRUTH_SCHEMA = pa.schema(
    [
        ("asset_ref", pa.string()),
        ("cutoff", pa.timestamp("ms")),
        ("p_failure_90d", pa.float64()),
        ("failures_90d", pa.int32()),
        ("age_years", pa.float32()),
    ]
)
FAILURE_SCHEMA = pa.schema(
    [
        ("asset_ref", pa.string()),
        ("day", pa.timestamp("ms")),
        ("predictable", pa.bool_()),
        ("fault_mode", pa.string()),
        ("pf_onset", pa.timestamp("ms")),
    ]
)


class SimulationError(ValueError):
    """The stock cannot be simulated (nothing to simulate, bad parameters)."""


@dataclass
class SimulationSummary:
    landlord_dir: Path
    truth_dir: Path
    assets: int = 0
    buildings: int = 0
    dwellings: int = 0
    days: int = 0
    chunks: int = 0
    work_orders: dict[str, int] = field(default_factory=dict)
    readings_rows: int = 0
    truth_rows: int = 0
    failures: int = 0
    failures_by_class: dict[str, int] = field(default_factory=dict)
    assets_by_class: dict[str, int] = field(default_factory=dict)
    unserviced_share: dict[str, float] = field(default_factory=dict)
    mean_intensity: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0

    def failure_rate(self, sim_class: str) -> float:
        """Failures per unit-year of one simulated class."""
        n = self.assets_by_class.get(sim_class, 0)
        return self.failures_by_class.get(sim_class, 0) / max(n * self.days / 365.25, 1e-9)


def registry_frames(session: Session) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """``(assets, buildings, dwellings)`` of the active stock, in the simulator's columns."""
    assets = assets_frame(session, active_only=True)
    dwellings = dwellings_frame(session)
    buildings = buildings_frame(session)
    dw_ref = dict(zip(dwellings["dwelling_id"], dwellings["dwelling_ref"], strict=True))
    assets["dwelling_ref"] = assets["dwelling_id"].map(dw_ref)
    b_ref = dict(zip(buildings["building_id"], buildings["building_ref"], strict=True))
    dwellings["building_ref"] = dwellings["building_id"].map(b_ref)
    storeys = dict(zip(buildings["building_ref"], buildings["storeys"], strict=True))
    dwellings["is_house"] = dwellings["building_ref"].map(storeys).fillna(9) <= 2
    assets = assets[assets["building_ref"].notna()]
    return assets.reset_index(drop=True), buildings, dwellings


def simulate_history(
    assets: pd.DataFrame,
    buildings: pd.DataFrame,
    dwellings: pd.DataFrame,
    *,
    out_dir: Path | str,
    years: float = 3,
    start: dt.date | str = dt.date(2022, 1, 1),
    seed: int = 0,
    params: dict[str, Any] | None = None,
    chunk_assets: int = 20_000,
    progress: Callable[[str], None] | None = None,
) -> SimulationSummary:
    """Simulate ``years`` of daily operation and write the landlord files and the truth."""
    params = params or load_parameters()
    start = dt.date.fromisoformat(start) if isinstance(start, str) else start
    days = int(round(years * 365.25))
    if days < 1:
        raise SimulationError(f"years must be > 0, got {years}")
    t0 = time.perf_counter()
    out = Path(out_dir)
    landlord, truth = out / "landlord", out / "truth"
    for folder in (landlord, truth):
        if folder.exists():
            shutil.rmtree(folder)
    (landlord / "readings").mkdir(parents=True)
    truth.mkdir(parents=True)
    assets = assets.copy()
    assets["sim_class"] = class_of(assets, params)
    assets = assets[assets["sim_class"].notna()].copy()
    assets["asset_tag"] = _landlord_tags(assets)
    if assets.empty:
        raise SimulationError("no equipment to simulate: the registry holds no known category")
    buildings = buildings[buildings["building_ref"].isin(assets["building_ref"])].copy()
    buildings = buildings.sort_values("building_ref").reset_index(drop=True)
    if "site" not in buildings:
        buildings["site"] = "site"
    buildings["site"] = buildings["site"].fillna("site").astype(str)
    if "is_house" not in dwellings:
        dwellings = dwellings.assign(is_house=False)
    summary = SimulationSummary(
        landlord, truth, days=days, buildings=len(buildings), dwellings=len(dwellings)
    )
    sizes = assets.groupby("building_ref").size().reindex(buildings["building_ref"]).to_numpy()
    bounds = _chunks(sizes, chunk_assets)
    weather: dict[str, np.ndarray] = {}
    truth_w = pq.ParquetWriter(truth / "monthly_risk.parquet", TRUTH_SCHEMA)
    fail_w = pq.ParquetWriter(truth / "failures.parquet", FAILURE_SCHEMA)
    wo_path, attr_path = landlord / "work_orders.csv", landlord / "asset_attributes.csv"
    unserv_num: dict[str, float] = {}
    intensity_num: dict[str, float] = {}
    try:
        for chunk_id, (lo, hi) in enumerate(bounds):
            b = buildings.iloc[lo:hi].reset_index(drop=True)
            a = assets[assets["building_ref"].isin(b["building_ref"])].copy()
            a["b_idx"] = a["building_ref"].map({r: i for i, r in enumerate(b["building_ref"])})
            a = a.sort_values(["b_idx", "asset_ref"], kind="stable").reset_index(drop=True)
            d = dwellings[dwellings["building_ref"].isin(b["building_ref"])]
            temps = np.stack([_weather(weather, s, start, days, params, seed) for s in b["site"]])
            rng = np.random.default_rng([seed, chunk_id, 11])
            res = simulate_chunk(
                a, b, d, temps, start=start, days=days, params=params, rng=rng, chunk_id=chunk_id
            )
            res.work_orders.to_csv(wo_path, mode="a", header=chunk_id == 0, index=False)
            res.attributes.to_csv(attr_path, mode="a", header=chunk_id == 0, index=False)
            if res.readings.num_rows:
                pq.write_table(
                    res.readings,
                    landlord / "readings" / f"part-{chunk_id:05d}.parquet",
                    compression="zstd",
                )
            truth_w.write_table(pa.Table.from_pandas(res.truth, TRUTH_SCHEMA, preserve_index=False))
            fail_w.write_table(
                pa.Table.from_pandas(
                    res.failures[["asset_ref", "day", "predictable", "fault_mode", "pf_onset"]],
                    FAILURE_SCHEMA,
                    preserve_index=False,
                )
            )
            summary.chunks += 1
            summary.assets += len(a)
            summary.readings_rows += res.readings.num_rows
            summary.truth_rows += len(res.truth)
            summary.failures += len(res.failures)
            for k, v in res.work_orders["kind"].value_counts().items():
                summary.work_orders[k] = summary.work_orders.get(k, 0) + int(v)
            cls_of = dict(zip(a["asset_ref"], a["sim_class"], strict=True))
            for k, v in res.failures["asset_ref"].map(cls_of).value_counts().items():
                summary.failures_by_class[k] = summary.failures_by_class.get(k, 0) + int(v)
            for k, v in a["sim_class"].value_counts().items():
                summary.assets_by_class[k] = summary.assets_by_class.get(k, 0) + int(v)
            for k, v in res.mean_intensity.items():
                n_k = int((a["sim_class"] == k).sum())
                intensity_num[k] = intensity_num.get(k, 0.0) + v * n_k
            for k, v in res.unserviced_share.items():
                unserv_num[k] = unserv_num.get(k, 0.0) + v * int((a["sim_class"] == k).sum())
            if progress:
                progress(
                    f"  chunk {chunk_id + 1}/{len(bounds)}: {len(a)} assets, "
                    f"{res.readings.num_rows} readings, {len(res.work_orders)} work orders"
                )
    finally:
        truth_w.close()
        fail_w.close()
    summary.unserviced_share = {k: v / summary.assets_by_class[k] for k, v in unserv_num.items()}
    summary.mean_intensity = {k: v / summary.assets_by_class[k] for k, v in intensity_num.items()}
    (truth / "parameters.json").write_text(
        json.dumps(
            {"seed": seed, "start": start.isoformat(), "days": days, **params},
            ensure_ascii=False,
            indent=1,
        ),
        encoding="utf-8",
    )
    summary.seconds = time.perf_counter() - t0
    return summary


def _landlord_tags(assets: pd.DataFrame) -> pd.Series:
    """The landlord's own equipment tags: the registry's where known, else ``B00012-0034``
    (building number by building GlobalId order, equipment number by GlobalId order)."""
    given = (
        assets["asset_tag"].astype(object)
        if "asset_tag" in assets
        else pd.Series(None, index=assets.index, dtype=object)
    )
    number = {r: i + 1 for i, r in enumerate(sorted(assets["building_ref"].astype(str).unique()))}
    order = assets.sort_values(["building_ref", "asset_ref"]).groupby("building_ref").cumcount()
    made = [
        f"B{number[str(b)]:05d}-{int(k) + 1:04d}"
        for b, k in zip(assets["building_ref"], order.reindex(assets.index), strict=True)
    ]
    return given.where(
        given.notna() & (given.astype(str) != ""), pd.Series(made, index=assets.index)
    )


def _weather(cache: dict, site: str, start: dt.date, days: int, params, seed: int) -> np.ndarray:
    if site not in cache:
        cache[site] = daily_temperature(start, days, params, seed=seed, site=site)
    return cache[site]


def _chunks(sizes: np.ndarray, target: int) -> list[tuple[int, int]]:
    out, lo, acc = [], 0, 0
    for i, s in enumerate(sizes):
        acc += int(s)
        if acc >= target:
            out.append((lo, i + 1))
            lo, acc = i + 1, 0
    if lo < len(sizes):
        out.append((lo, len(sizes)))
    return out


@dataclass
class ImportReport:
    attributes: Any
    work_orders: Any
    readings: list[Any]


def import_landlord_files(
    session: Session, readings_dir: Path | str, landlord_dir: Path | str
) -> ImportReport:
    """Import the landlord files through the public import functions (no back door)."""
    landlord = Path(landlord_dir)
    attrs = import_asset_attributes(session, landlord / "asset_attributes.csv")
    wos = import_work_orders(session, landlord / "work_orders.csv")
    readings = [
        import_readings(session, Path(readings_dir), p)
        for p in sorted((landlord / "readings").glob("*.parquet"))
    ]
    return ImportReport(attrs, wos, readings)
