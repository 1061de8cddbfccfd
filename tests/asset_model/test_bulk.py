"""Bulk inserts: the rows the ORM would write, in the session's transaction, on both databases."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from asset_model import AssetCategory, RegistryError, open_registry
from asset_model.bulk import insert_rows
from asset_model.models import Asset, Building, ModelRun, RiskScore, Site

TABLE = RiskScore.__table__


@pytest.fixture
def session(registry_url: str):
    engine = open_registry(registry_url)
    with Session(engine) as s:
        building = Building(name="Tour A", site=Site(name="Les Acacias"))
        boiler = AssetCategory.BOILER
        s.add_all([Asset(name=f"C{i}", category=boiler, building=building) for i in range(3)])
        s.add(ModelRun(artifact_path="m", horizon_days=90))
        s.commit()
        yield s
    engine.dispose()


def _columns(s: Session) -> dict[str, object]:
    ids = s.scalars(select(Asset.id).order_by(Asset.id)).all()
    return {
        "model_run_id": np.full(3, s.scalar(select(ModelRun.id))),
        "asset_id": np.array(ids),
        "as_of": [dt.date(2025, 1, 1)] * 3,
        "horizon_days": np.full(3, 90),
        "p_failure": np.array([0.1, 0.25, 0.5]),
        "remaining_life_years": np.array([3.5, np.nan, 12.0]),
        "drivers": np.array(["age 23 years", "", "service overdue by 8 months"], dtype=object),
    }


def test_rows_read_back_as_the_orm_sees_them(session: Session) -> None:
    cols = _columns(session)
    assert insert_rows(session, TABLE, cols) == 3
    session.commit()
    got = session.scalars(select(RiskScore).order_by(RiskScore.asset_id)).all()
    assert [r.asset_id for r in got] == list(cols["asset_id"])
    assert [r.as_of for r in got] == [dt.date(2025, 1, 1)] * 3
    assert [r.p_failure for r in got] == [0.1, 0.25, 0.5]
    assert [r.remaining_life_years for r in got] == [3.5, None, 12.0]
    assert [r.drivers for r in got] == ["age 23 years", "", "service overdue by 8 months"]


def test_a_rollback_removes_the_rows(session: Session) -> None:
    insert_rows(session, TABLE, _columns(session))
    session.rollback()
    assert session.scalar(select(func.count()).select_from(RiskScore)) == 0


def test_bad_columns_are_named(session: Session) -> None:
    with pytest.raises(RegistryError, match="no column.*p_fail"):
        insert_rows(session, TABLE, {"p_fail": [0.1]})
    cols = _columns(session)
    cols["drivers"] = cols["drivers"][:2]
    with pytest.raises(RegistryError, match="unequal length"):
        insert_rows(session, TABLE, cols)


def test_a_duplicate_row_fails_clearly_and_writes_nothing(session: Session) -> None:
    insert_rows(session, TABLE, _columns(session))
    with pytest.raises(RegistryError, match="risk_score"):
        insert_rows(session, TABLE, _columns(session))
    session.rollback()
    assert session.scalar(select(func.count()).select_from(RiskScore)) == 0
