"""Shared helpers of the asset_model tests: fixture files, a small stock, table counts."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from asset_model import AssetCategory
from asset_model.models import (
    Asset,
    Building,
    ImportRecord,
    MaintenanceEvent,
    PendingAssetAttribute,
)

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str) -> Path:
    return FIXTURES / name


def add_stock(session: Session) -> None:
    """BOILER-A (by GlobalId), LIFT-1 (by asset tag only) and building BLDG-1."""
    building = Building(global_id="BLDG-1", name="Bâtiment 1")
    session.add_all(
        [
            building,
            Asset(
                global_id="BOILER-A",
                name="Chaudière",
                category=AssetCategory.BOILER,
                building=building,
            ),
            Asset(
                asset_tag="LIFT-1",
                name="Ascenseur",
                category=AssetCategory.ELEVATOR,
                building=building,
            ),
        ]
    )


def counts(session: Session) -> dict[str, int]:
    """Row counts of every table an import may write."""
    return {
        model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0
        for model in (MaintenanceEvent, ImportRecord, PendingAssetAttribute, Asset)
    }
