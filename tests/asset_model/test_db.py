"""Opening, creating and upgrading the registry on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from alembic import command
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from asset_model import AssetCategory, RegistryError, open_registry, schema_revision, upgrade
from asset_model.db import alembic_config, create_registry_engine, head_revision
from asset_model.models import Asset, Building, MaintenanceEvent, Site


def test_open_creates_every_table_at_head(registry_url: str) -> None:
    engine = open_registry(registry_url)
    assert schema_revision(engine) == head_revision()
    tables = set(inspect(engine).get_table_names())
    assert {
        "asset",
        "building",
        "maintenance_event",
        "risk_score",
        "planned_intervention",
    } <= tables
    engine.dispose()


def test_reopening_keeps_the_data(registry_url: str) -> None:
    engine = open_registry(registry_url)
    with Session(engine) as s, s.begin():
        s.add(Building(name="Tour A", site=Site(name="Les Acacias")))
    engine.dispose()
    engine = open_registry(registry_url)
    with Session(engine) as s:
        assert s.scalars(select(Building.name)).all() == ["Tour A"]
    engine.dispose()


def test_an_older_schema_is_upgraded_not_rebuilt(registry_url: str) -> None:
    engine = create_registry_engine(registry_url)
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")  # the state of a workspace made before revision 0001
    assert schema_revision(engine) is None
    upgrade(engine, "head")
    with Session(engine) as s, s.begin():
        s.add(Building(name="B1"))
    upgrade(engine, "head")  # a no-op on an up-to-date registry
    with Session(engine) as s:
        assert s.scalar(select(Building.name)) == "B1"
    engine.dispose()


def test_foreign_keys_are_enforced(registry_url: str) -> None:
    engine = open_registry(registry_url)
    with pytest.raises(IntegrityError, match="(?i)foreign key"), Session(engine) as s, s.begin():
        s.add(Asset(name="orphan", category=AssetCategory.BOILER, building_id=999))
    engine.dispose()


def test_datetimes_come_back_in_utc(registry_url: str) -> None:
    engine = open_registry(registry_url)
    opened = dt.datetime(2024, 1, 15, 8, 30, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    with Session(engine) as s, s.begin():
        s.add(
            MaintenanceEvent(work_order_id="WO1", asset_ref="X", kind="failure", opened_at=opened)
        )
    with Session(engine) as s:
        got = s.scalar(select(MaintenanceEvent.opened_at))
    assert got == opened
    assert got.utcoffset() == dt.timedelta(0)
    engine.dispose()


def test_sqlite_runs_in_wal_mode(tmp_path) -> None:
    engine = open_registry(f"sqlite:///{tmp_path / 'r.sqlite'}")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    engine.dispose()


def test_unreachable_registry_is_one_clear_error() -> None:
    with pytest.raises(RegistryError, match="cannot connect to the registry"):
        open_registry("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")


def test_unknown_scheme_is_one_clear_error() -> None:
    with pytest.raises(RegistryError, match="not usable"):
        open_registry("nosuchdb://x")
