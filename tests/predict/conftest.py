"""A tiny, structured synthetic world for predict's tests (registry rows + daily readings).

Failures follow a hidden wear state: a wear episode starts at random, raises the boiler's
load-normalised cycling (and the elevator's door re-opens) for some weeks, and raises the
failure hazard; age adds a Weibull-like term. Raw channels are seasonal (winter load) so only
load-normalised or own-past features carry the signal.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from asset_model.models import (
    Asset,
    Building,
    Dwelling,
    MaintenanceEvent,
    Site,
)
from asset_model.readings_store import write_daily
from asset_model.types import AssetCategory, Serves, WorkOrderKind

START = pd.Timestamp("2021-01-01")


def _gid(prefix: str, i: int) -> str:
    return f"{prefix}{i:0{22 - len(prefix)}d}"


def make_world(
    session,
    readings_dir: Path,
    *,
    n_buildings: int = 4,
    dwellings_per_building: int = 10,
    days: int = 3 * 365,
    seed: int = 0,
    failures: bool = True,
    weather: bool = True,
) -> dict:
    rng = np.random.default_rng(seed)
    site = Site(global_id=_gid("S", 1), name="Site 1")
    session.add(site)
    session.flush()
    assets: list[Asset] = []
    dwellings: list[Dwelling] = []
    buildings: list[Building] = []
    for b in range(n_buildings):
        bld = Building(
            global_id=_gid("B", b), name=f"Bat {b}", site_id=site.id, year_built=1960 + 10 * b
        )
        session.add(bld)
        session.flush()
        buildings.append(bld)
        for d in range(dwellings_per_building):
            k = b * dwellings_per_building + d
            dw = Dwelling(
                global_id=_gid("D", k),
                name=f"Logement {k}",
                building_id=bld.id,
                typology=["T2", "T3"][d % 2],
                area_m2=[45.0, 65.0][d % 2],
            )
            session.add(dw)
            session.flush()
            dwellings.append(dw)
            installed = START.date() - dt.timedelta(days=int(rng.integers(365, 20 * 365)))
            assets.append(
                Asset(
                    global_id=_gid("A", k),
                    asset_tag=f"CH-{k:04d}",
                    name=f"Chaudière {k}",
                    category=AssetCategory.BOILER,
                    serves=Serves.DWELLING,
                    building_id=bld.id,
                    dwelling_id=dw.id,
                    installed_on=installed,
                    expected_life_years=15.0,
                    manufacturer=["Saunier", "Frisquet"][k % 2],
                    model="X",
                )
            )
        assets.append(
            Asset(
                global_id=_gid("E", b),
                asset_tag=f"ASC-{b}",
                name=f"Ascenseur {b}",
                category=AssetCategory.ELEVATOR,
                serves=Serves.BUILDING,
                building_id=bld.id,
                installed_on=dt.date(1995, 1, 1),
                expected_life_years=25.0,
            )
        )
        assets.append(
            Asset(
                global_id=_gid("P", b),
                asset_tag=f"POMPE-{b}",
                name=f"Pompe {b}",
                category=AssetCategory.PUMP,
                serves=Serves.BUILDING,
                building_id=bld.id,
                installed_on=None,
                expected_life_years=12.0,
            )
        )
    # a category with a single asset, no readings and no history
    assets.append(
        Asset(
            global_id=_gid("R", 0),
            asset_tag="TOIT-0",
            name="Toiture 0",
            category=AssetCategory.ROOF,
            serves=Serves.BUILDING,
            building_id=buildings[0].id,
            installed_on=dt.date(1980, 1, 1),
            expected_life_years=40.0,
        )
    )
    session.add_all(assets)
    session.flush()
    n, t = len(assets), np.arange(days)
    day_index = START + pd.to_timedelta(t, unit="D")
    temp = 11 + 8 * np.sin(2 * np.pi * (t - 110) / 365.25) + rng.normal(0, 2.5, days)
    dju = np.maximum(0, 18 - temp)
    # hidden wear: episodes of 30-60 days, rate ~1 per asset-year
    wear = np.zeros((n, days))
    for i in range(n):
        for s in np.flatnonzero(rng.random(days) < 1 / 365):
            wear[i, s : s + int(rng.integers(30, 60))] = 1.0
    cats = np.array([a.category.value for a in assets])
    ages = np.array(
        [((START.date() - a.installed_on).days / 365.25) if a.installed_on else 8.0 for a in assets]
    )
    hazard = (
        0.0004 * (cats != "roof")[:, None] * (1 + (ages[:, None] + t / 365.25) / 15.0) + 0.02 * wear
    )
    fail = (rng.random((n, days)) < hazard) if failures else np.zeros((n, days), bool)
    rows = []
    for i, a in enumerate(assets):
        if cats[i] == "boiler":
            cyc = (5 + 1.2 * dju) * (1 + 0.8 * wear[i]) * rng.lognormal(0, 0.15, days)
            rows.append(
                pd.DataFrame(
                    {"asset_ref": a.global_id, "channel": "cycles", "day": day_index, "value": cyc}
                )
            )
            kwh = (4 + 2.0 * dju) * rng.lognormal(0, 0.1, days)
            rows.append(
                pd.DataFrame(
                    {
                        "asset_ref": a.global_id,
                        "channel": "energy_kwh",
                        "day": day_index,
                        "value": kwh,
                    }
                )
            )
        elif cats[i] == "elevator":
            trips = 200 * rng.lognormal(0, 0.1, days)
            reopen = trips * 0.02 * (1 + 2 * wear[i]) * rng.lognormal(0, 0.2, days)
            rows.append(
                pd.DataFrame(
                    {"asset_ref": a.global_id, "channel": "trips", "day": day_index, "value": trips}
                )
            )
            rows.append(
                pd.DataFrame(
                    {
                        "asset_ref": a.global_id,
                        "channel": "door_reopens",
                        "day": day_index,
                        "value": reopen,
                    }
                )
            )
        # pumps: no readings at all
    for k, dw in enumerate(dwellings):
        boost = 3.0 if k == 0 else 1.0  # one dwelling heats three times its peers
        e = (3 + 0.9 * dju * boost) * rng.lognormal(0, 0.1, days)
        rows.append(
            pd.DataFrame(
                {"asset_ref": dw.global_id, "channel": "energy_kwh", "day": day_index, "value": e}
            )
        )
    if weather:
        rows.append(
            pd.DataFrame(
                {
                    "asset_ref": site.global_id,
                    "channel": "outdoor_temp_c",
                    "day": day_index,
                    "value": temp,
                }
            )
        )
    write_daily(readings_dir, pd.concat(rows, ignore_index=True), file_key="world")
    wo_id = 0
    events = []
    for i, a in enumerate(assets):
        for d in np.flatnonzero(fail[i]):
            wo_id += 1
            events.append(
                MaintenanceEvent(
                    work_order_id=f"WO{wo_id}",
                    asset_ref=a.asset_tag,
                    asset_id=a.id,
                    kind=WorkOrderKind.FAILURE,
                    opened_at=(START + pd.Timedelta(days=int(d), hours=9)).to_pydatetime(),
                )
            )
        if cats[i] == "boiler":
            for d in range(int(rng.integers(0, 365)), days, 365):
                if rng.random() < 0.75:
                    wo_id += 1
                    events.append(
                        MaintenanceEvent(
                            work_order_id=f"WO{wo_id}",
                            asset_ref=a.global_id,
                            asset_id=a.id,
                            kind=WorkOrderKind.PREVENTIVE,
                            opened_at=(START + pd.Timedelta(days=int(d), hours=8)).to_pydatetime(),
                        )
                    )
    session.add_all(events)
    session.flush()
    return {
        "assets": len(assets),
        "failures": int(fail.sum()),
        "days": days,
        "dwellings": len(dwellings),
    }


import pytest  # noqa: E402


@pytest.fixture(scope="module")
def world_ws(tmp_path_factory):
    """A workspace (SQLite) holding the tiny world: 48 assets, 3 years of readings."""
    from patrimoine import open_workspace

    ws = open_workspace(tmp_path_factory.mktemp("world") / "ws")
    with ws.session() as session:
        info = make_world(session, ws.readings_dir)
    yield ws, info
    ws.close()


@pytest.fixture(scope="module")
def world_data(world_ws):
    """The tiny world's workspace, what predict loads of it, and its monthly cutoffs after a
    90-day warm-up."""
    from predict import load_workspace_data, monthly_cutoffs

    ws, _ = world_ws
    with ws.session() as session:
        data = load_workspace_data(session, ws.readings_dir)
    cutoffs = monthly_cutoffs(data.history_start + pd.Timedelta(days=90), data.history_end)
    return ws, data, cutoffs


@pytest.fixture(scope="module")
def frames(world_data):
    """The tiny world's training frames: features, labels, time split and loaded data."""
    from predict import make_labels, time_split
    from predict.workflow import _features

    ws, data, cutoffs = world_data
    cutoffs = [c for c in cutoffs if c + pd.Timedelta(days=90) <= data.history_end]
    features = _features(data, ws.readings_dir, cutoffs, None)
    labels = make_labels(features, data.work_orders, history_end=data.history_end)
    return features, labels, time_split(cutoffs), data


@pytest.fixture(scope="module")
def local_artifact(frames):
    """A model trained locally (default parameters: 7 leaves, up to 800 trees) on ``frames``."""
    from predict import train

    features, labels, split, _ = frames
    return train(features, labels, split, num_threads=1)


@pytest.fixture(scope="module")
def cluster_client():
    """A real two-worker ``LocalCluster`` (one process per worker), shared by a module."""
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client
