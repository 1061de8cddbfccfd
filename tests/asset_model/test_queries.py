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
    Dwelling,
    MaintenanceEvent,
    Site,
    SourceFile,
    Space,
    Storey,
)
from asset_model.queries import (
    ASSET_COLUMNS,
    WORK_ORDER_COLUMNS,
    _assets_select,
    _frame,
    _work_orders_select,
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


@pytest.fixture
def stock(workspace):  # noqa: ANN001, ANN201
    """Forty assets whose columns repeat (categories, dates, buildings) or are missing, in
    every place of the hierarchy: a frame read once per distinct value must equal the rows."""
    categories = [AssetCategory.BOILER, AssetCategory.ELEVATOR, AssetCategory.RADIATOR]
    with workspace.session() as s:
        site = Site(global_id="SITE-1", name="Site", latitude=45.0, longitude=5.0)
        b1 = Building(global_id="BLDG-1", name="B1", site=site, year_built=1975)
        b2 = Building(global_id="BLDG-2", name="B2", site=site, latitude=46.5)
        storey = Storey(global_id="ST-0", name="RDC", building=b1, elevation_m=0.0)
        upper = Storey(global_id="ST-1", name="R+1", building=b1, elevation_m=3.0)
        dwelling = Dwelling(global_id="D-1", name="Logement 1", building=b1, storey=upper)
        space = Space(global_id="SP-1", name="Séjour", building=b1, storey=upper, dwelling=dwelling)
        kind = AssetType(global_id="T-1", name="Condens", manufacturer="Acme", model="C9")
        life = AssetType(global_id="T-2", name="Lift", expected_life_years=25.0)
        source = SourceFile(path="/ifc/b1.ifc", sha256="0" * 64)
        s.add_all([site, b1, b2, storey, upper, dwelling, space, kind, life, source])
        assets = [
            Asset(
                global_id=f"G-{i}" if i % 4 else None,
                asset_tag=f"TAG-{i}",
                name=f"Asset {i}" if i % 5 else None,
                category=categories[i % 3],
                serves=[Serves.BUILDING, Serves.DWELLING, None][i % 3],
                status=AssetStatus.DECOMMISSIONED if i % 7 == 3 else AssetStatus.ACTIVE,
                building=[b1, b2, None][i % 3],
                storey=storey if i % 6 == 0 else None,
                space=space if i % 6 == 1 else None,
                dwelling=dwelling if i % 6 == 1 else None,
                asset_type=[kind, life, None][i % 3],
                manufacturer="Own" if i % 9 == 0 else None,
                installed_on=[dt.date(2010, 3, 31), dt.date(2019, 1, 1), None][i % 3],
                expected_life_years=15.0 if i % 8 == 0 else None,
                source_file=source if i % 2 else None,
            )
            for i in range(40)
        ]
        s.add_all(assets)
        s.flush()
        opened = dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
        s.add_all(
            MaintenanceEvent(
                work_order_id=f"WO-{i}",
                asset_ref=f"TAG-{i % 40}",
                asset_id=assets[i % 40].id if i % 5 else None,
                kind=list(WorkOrderKind)[i % len(WorkOrderKind)],
                opened_at=opened + dt.timedelta(days=i // 3),
                closed_at=opened + dt.timedelta(days=i // 3, hours=2) if i % 2 else None,
                cost_eur=Decimal("10.50") * i if i % 3 else None,
                labour_hours=1.5 if i % 4 else None,
            )
            for i in range(60)
        )
    return workspace


def _rows(session, stmt, names: list[str]) -> pd.DataFrame:  # noqa: ANN001
    """The reference: SQLAlchemy's own rows (a ``Row`` per row), as a frame."""
    return pd.DataFrame(session.execute(stmt).all(), columns=names)


def _text(values: pd.Series) -> pd.Series:
    return pd.Series([None if pd.isna(v) else str(v) for v in values], index=values.index)


def test_frames_equal_sqlalchemy_rows(stock) -> None:  # noqa: ANN001
    with stock.session() as s:
        for active_only in (False, True):
            stmt = _assets_select(ASSET_COLUMNS, active_only)
            expected = _rows(s, stmt, ASSET_COLUMNS)
            pd.testing.assert_frame_equal(_frame(s, stmt, ASSET_COLUMNS), expected)
            for column in ("category", "serves", "status"):
                expected[column] = _text(expected[column])
            expected["installed_on"] = pd.to_datetime(expected["installed_on"])
            expected["expected_life_years"] = expected["expected_life_years"].astype("float64")
            got = assets_frame(s, active_only=active_only)
            pd.testing.assert_frame_equal(got, expected, check_exact=True)
        assert len(got) < 40
        for attached_only in (False, True):
            stmt = _work_orders_select(WORK_ORDER_COLUMNS, attached_only)
            expected = _rows(s, stmt, WORK_ORDER_COLUMNS)
            pd.testing.assert_frame_equal(_frame(s, stmt, WORK_ORDER_COLUMNS), expected)
            expected["kind"] = _text(expected["kind"])
            for column in ("opened_at", "closed_at"):
                expected[column] = pd.to_datetime(expected[column], utc=True)
            expected["cost_eur"] = pd.to_numeric(expected["cost_eur"]).astype("float64")
            expected["labour_hours"] = expected["labour_hours"].astype("float64")
            expected["asset_id"] = expected["asset_id"].astype("Int64")
            got = work_orders_frame(s, attached_only=attached_only)
            pd.testing.assert_frame_equal(got, expected, check_exact=True)


def test_columns_read_the_same_values(stock) -> None:  # noqa: ANN001
    scoring = ["asset_id", "asset_ref", "category", "status", "building_ref", "installed_on"]
    with stock.session() as s:
        every = assets_frame(s)
        for columns in [[c] for c in ASSET_COLUMNS] + [scoring, ASSET_COLUMNS[::-1]]:
            got = assets_frame(s, columns=columns)
            pd.testing.assert_frame_equal(got, every[columns], check_exact=True)
        orders = work_orders_frame(s, attached_only=False)
        for columns in [[c] for c in WORK_ORDER_COLUMNS] + [["asset_id", "kind", "opened_at"]]:
            got = work_orders_frame(s, attached_only=False, columns=columns)
            pd.testing.assert_frame_equal(got, orders[columns], check_exact=True)
        with pytest.raises(ValueError, match="no asset column \\['colour'\\]"):
            assets_frame(s, columns=["asset_id", "colour"])
