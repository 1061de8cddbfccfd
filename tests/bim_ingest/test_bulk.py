"""Bulk reads and writes by GlobalId store what SQLAlchemy's own insert stores, on both backends."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import insert, select

from asset_model import open_registry, transaction
from asset_model.models import Asset, Building
from bim_ingest.bulk import existing, insert_rows, upsert

COLUMNS = [c for c in Asset.__table__.columns if c.name not in ("id", "created_at", "updated_at")]


@pytest.fixture
def engine(registry_url: str):
    eng = open_registry(registry_url)
    yield eng
    eng.dispose()


def _row(gid: str, building_id: int, **extra: object) -> dict:
    row = {
        "global_id": gid,
        "name": "Chaudière",
        "category": "boiler",
        "building_id": building_id,
        "installed_on": dt.date(2012, 6, 1),
        "expected_life_years": 17.0,
        "properties": {"Pset_ManufacturerOccurrence": {"SerialNumber": "SN1", "Nb": [1, None]}},
        "status": "active",
        "decommissioned_at": None,
    }
    row.update(extra)
    return row


def test_insert_rows_stores_what_a_core_insert_stores(engine) -> None:
    with transaction(engine) as s:
        s.add(Building(global_id="B", name="Résidence"))
        s.flush()
        bid = s.scalar(select(Building.id))
        ours = [_row("A1", bid), _row("A2", bid, properties=None, installed_on=None)]
        core = [_row("C1", bid), _row("C2", bid, properties=None, installed_on=None)]
        insert_rows(s, Asset.__table__, ours)
        s.execute(insert(Asset), core)
    with transaction(engine) as s:
        rows = {a.global_id: a for a in s.scalars(select(Asset))}
        for mine, theirs in (("A1", "C1"), ("A2", "C2")):
            for col in COLUMNS:
                if col.name != "global_id":
                    assert getattr(rows[mine], col.name) == getattr(rows[theirs], col.name), col
            assert rows[mine].created_at is not None
            assert rows[mine].status == "active"


def test_existing_and_upsert_over_many_global_ids(engine) -> None:
    with transaction(engine) as s:
        s.add(Building(global_id="B", name="Résidence"))
        s.flush()
        bid = s.scalar(select(Building.id))
        rows = [_row(f"G{i:05d}", bid) for i in range(2500)]  # more than one IN (…) chunk
        ids, added, changed, before = upsert(s, Asset, rows, ("name", "building_id"))
        assert (len(ids), len(added), changed, before) == (2500, 2500, set(), {})
    with transaction(engine) as s:
        found = existing(s, Asset, [f"G{i:05d}" for i in range(0, 3000, 2)], ("name",))
        assert len(found) == 1250
        assert found["G00002"]["name"] == "Chaudière"
        again = [
            _row(f"G{i:05d}", bid, name="Chaudière 2" if i == 7 else "Chaudière")
            for i in range(2500)
        ]
        ids2, added, changed, _ = upsert(s, Asset, again, ("name", "building_id"))
        assert ids2 == ids
        assert (added, changed) == (set(), {"G00007"})
