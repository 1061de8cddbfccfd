"""Planner test fixtures: a small housing stock in a real registry, with work orders and scores."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from sqlalchemy.orm import Session

from asset_model import open_registry, transaction
from asset_model.models import (
    Asset,
    Building,
    Dwelling,
    MaintenanceEvent,
    ModelRun,
    RiskScore,
    Site,
    Storey,
)
from planner import registry_inputs

START = dt.date(2027, 1, 4)


def make_stock(
    session: Session,
    *,
    seed: int = 0,
    buildings: int = 3,
    floors: int = 4,
    per_floor: int = 2,
    scores: bool = True,
) -> dict[str, int]:
    """Buildings with storeys and dwellings (some vulnerable), an individual boiler and water
    heater per dwelling, a collective pump, an elevator, a VMC fan and fire-safety equipment per
    building; preventive work orders for some; one model run with a score per asset."""
    rng = np.random.default_rng(seed)
    site = Site(global_id="SITE0000000000000000001", name="Estate", latitude=50.63, longitude=3.06)
    session.add(site)
    n_assets = 0
    for b in range(buildings):
        bld = Building(
            global_id=f"BLD{b:019d}",
            site=site,
            name=f"Bât {chr(65 + b)}",
            year_built=1975,
            latitude=50.6 + 0.02 * b,
            longitude=3.0 + 0.03 * b,
        )
        session.add(bld)
        storeys = [
            Storey(
                global_id=f"STY{b:03d}{f:016d}",
                building=bld,
                name=f"Niveau {f}",
                elevation_m=2.8 * f,
            )
            for f in range(floors)
        ]
        session.add_all(storeys)
        for f, st in enumerate(storeys):
            for k in range(per_floor):
                dw = Dwelling(
                    global_id=f"DW{b:03d}{f:03d}{k:014d}",
                    building=bld,
                    storey=st,
                    name=f"{chr(65 + b)}{f}{k}",
                    vulnerable=bool(rng.random() < 0.2),
                )
                session.add(dw)
                for cat, tag in (("boiler", "CH"), ("water_heater", "ECS")):
                    n_assets += 1
                    session.add(
                        Asset(
                            global_id=None,
                            asset_tag=f"{tag}-{b}{f}{k}",
                            name=f"{cat} {dw.name}",
                            category=cat,
                            serves="dwelling",
                            building=bld,
                            storey=st,
                            dwelling=dw,
                            installed_on=dt.date(2000 + int(rng.integers(0, 20)), 6, 1),
                        )
                    )
        for cat, serves in (
            ("elevator", "building"),
            ("ventilation_fan", "building"),
            ("pump", "building"),
            ("fire_safety", "building"),
        ):
            n_assets += 1
            session.add(
                Asset(
                    asset_tag=f"{cat[:3].upper()}-{b}",
                    name=f"{cat} {bld.name}",
                    category=cat,
                    serves=serves,
                    building=bld,
                    storey=storeys[0],
                    installed_on=dt.date(1995, 1, 1),
                )
            )
    session.flush()
    assets = session.query(Asset).order_by(Asset.id).all()
    wo = 0
    for a in assets:
        if rng.random() < 0.5:
            wo += 1
            kind = "inspection" if a.category == "fire_safety" else "preventive"
            session.add(
                MaintenanceEvent(
                    work_order_id=f"WO{wo:06d}",
                    asset=a,
                    asset_ref=a.asset_tag,
                    kind=kind,
                    opened_at=dt.datetime(2026, int(rng.integers(1, 13)), 10, 9, tzinfo=dt.UTC),
                    cost_eur=120,
                    labour_hours=1.5,
                    trade="heating",
                    description="entretien annuel",
                )
            )
    if scores:
        run = ModelRun(artifact_path="models/test", horizon_days=90)
        session.add(run)
        session.flush()
        for a in assets:
            session.add(
                RiskScore(
                    model_run=run,
                    asset=a,
                    as_of=START - dt.timedelta(days=4),
                    horizon_days=90,
                    p_failure=float(rng.beta(1.2, 8)),
                    remaining_life_years=float(rng.uniform(0, 15)),
                    drivers="age",
                )
            )
    session.flush()
    return {"assets": len(assets), "work_orders": wo}


@pytest.fixture
def stock_engine(tmp_path):  # noqa: ANN001, ANN201
    """A migrated SQLite registry holding the small stock."""
    engine = open_registry(f"sqlite:///{tmp_path / 'registry.sqlite'}")
    with transaction(engine) as session:
        make_stock(session)
    yield engine
    engine.dispose()


@pytest.fixture
def frames(stock_engine):  # noqa: ANN001, ANN201
    """The planner's input frames read from that registry."""
    with Session(stock_engine) as session:
        return registry_inputs(session)


@pytest.fixture
def stock_factory():  # noqa: ANN201
    return make_stock
