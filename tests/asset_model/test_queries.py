"""The registry frames: values of every column type as SQLAlchemy itself converts them, on
SQLite and PostgreSQL (the rows come from the DBAPI cursor, each column through its type)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd
import pytest

from asset_model import assets_frame, work_orders_frame
from asset_model.models import (
    Asset,
    AssetType,
    Building,
    MaintenanceEvent,
    Site,
    Storey,
)
from asset_model.types import AssetCategory, AssetStatus, Serves, WorkOrderKind


@pytest.fixture
def ws(workspace):  # noqa: ANN001, ANN201
    with workspace.session() as s:
        site = Site(global_id="SITE-1", name="Site", latitude=45.0, longitude=5.0)
        building = Building(global_id="BLDG-1", name="B1", site=site, year_built=1975)
        storey = Storey(global_id="ST-0", name="RDC", building=building, elevation_m=0.0)
        boiler_type = AssetType(
            global_id="T-1", name="Condens 9000", manufacturer="Acme", expected_life_years=20.0
        )
        boiler = Asset(
            global_id="BOILER-A",
            asset_tag="CH-01",
            name="Chaudière",
            category=AssetCategory.BOILER,
            serves=Serves.BUILDING,
            building=building,
            storey_id=None,
            asset_type=boiler_type,
            installed_on=dt.date(2010, 3, 31),
        )
        lift = Asset(
            asset_tag="LIFT-1",
            name="Ascenseur",
            category=AssetCategory.ELEVATOR,
            status=AssetStatus.DECOMMISSIONED,
        )
        s.add_all([site, building, storey, boiler_type, boiler, lift])
        s.flush()
        opened = dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
        s.add_all(
            [
                MaintenanceEvent(
                    work_order_id="WO-1",
                    asset_ref="BOILER-A",
                    asset_id=boiler.id,
                    kind=WorkOrderKind.FAILURE,
                    opened_at=opened,
                    closed_at=opened + dt.timedelta(hours=5),
                    cost_eur=Decimal("123.45"),
                    labour_hours=2.5,
                ),
                MaintenanceEvent(
                    work_order_id="WO-2",
                    asset_ref="NOT-YET",
                    kind=WorkOrderKind.PREVENTIVE,
                    opened_at=opened + dt.timedelta(days=1),
                ),
            ]
        )
    return workspace


def test_assets_frame_values_of_every_column_type(ws) -> None:  # noqa: ANN001
    with ws.session() as s:
        frame = assets_frame(s).set_index("asset_ref")
        active = assets_frame(s, active_only=True)
    boiler, lift = frame.loc["BOILER-A"], frame.loc["LIFT-1"]  # no GlobalId: the tag
    assert (boiler["category"], boiler["serves"], boiler["status"]) == (
        "boiler",
        "building",
        "active",
    )
    assert boiler["installed_on"] == pd.Timestamp("2010-03-31")
    assert frame["installed_on"].dtype.kind == "M"
    assert pd.isna(lift["installed_on"])
    assert boiler["expected_life_years"] == 20.0  # from its type
    assert (boiler["manufacturer"], boiler["type_name"]) == ("Acme", "Condens 9000")
    assert (boiler["latitude"], boiler["year_built"]) == (45.0, 1975)  # the site's coordinates
    assert lift["status"] == "decommissioned"
    assert pd.isna(lift["serves"])  # not recorded: missing, not the string 'nan'
    assert active["asset_ref"].tolist() == ["BOILER-A"]


def test_work_orders_frame_values_of_every_column_type(ws) -> None:  # noqa: ANN001
    with ws.session() as s:
        attached = work_orders_frame(s)
        every = work_orders_frame(s, attached_only=False)
    assert attached["work_order_id"].tolist() == ["WO-1"]
    row = attached.iloc[0]
    assert row["kind"] == "failure"
    assert row["asset_id"] == 1
    assert row["opened_at"] == pd.Timestamp("2024-01-02 03:04:05", tz="UTC")
    assert row["closed_at"] == pd.Timestamp("2024-01-02 08:04:05", tz="UTC")
    assert row["cost_eur"] == 123.45
    assert row["labour_hours"] == 2.5
    assert every["kind"].tolist() == ["failure", "preventive"]
    assert pd.isna(every["asset_id"].iloc[1])
    assert pd.isna(every["cost_eur"].iloc[1])
    assert str(every["opened_at"].dt.tz) == "UTC"
