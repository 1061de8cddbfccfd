"""Maintenance history (work orders) and the record of import files."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import Enum, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from asset_model.models.base import Base
from asset_model.types import IntPK, WorkOrderKind, utcnow

if TYPE_CHECKING:
    from asset_model.models.assets import Asset


class MaintenanceEvent(Base):
    """One work order. ``asset_id`` is empty while its ``asset_ref`` names no known asset yet:
    such rows are kept aside and attach when the asset arrives in a later ingest."""

    __tablename__ = "maintenance_event"
    id: Mapped[IntPK]
    work_order_id: Mapped[str] = mapped_column(String(128), unique=True, index=True)
    asset_ref: Mapped[str] = mapped_column(String(128), index=True)
    asset_id: Mapped[int | None] = mapped_column(ForeignKey("asset.id"), index=True)
    kind: Mapped[WorkOrderKind] = mapped_column(
        Enum(WorkOrderKind, native_enum=False, length=16, validate_strings=True), index=True
    )
    opened_at: Mapped[dt.datetime]
    closed_at: Mapped[dt.datetime | None]
    cost_eur: Mapped[Decimal | None]
    labour_hours: Mapped[float | None]
    trade: Mapped[str | None] = mapped_column(String(64))
    description: Mapped[str | None] = mapped_column(String(2048))
    import_id: Mapped[int | None] = mapped_column(ForeignKey("import_record.id"))
    asset: Mapped[Asset | None] = relationship(back_populates="events")


class PendingAssetAttribute(Base):
    """An asset-attributes row whose asset is not in the registry yet (applied on arrival)."""

    __tablename__ = "pending_asset_attribute"
    id: Mapped[IntPK]
    asset_ref: Mapped[str] = mapped_column(String(128), unique=True, index=True)
    asset_tag: Mapped[str | None] = mapped_column(String(64))
    installed_on: Mapped[dt.date | None]
    manufacturer: Mapped[str | None] = mapped_column(String(255))
    model: Mapped[str | None] = mapped_column(String(255))
    expected_life_years: Mapped[float | None]
    import_id: Mapped[int | None] = mapped_column(ForeignKey("import_record.id"))


class ImportRecord(Base):
    """One imported file: what it was, when, and what it did (rows written, attached, pending)."""

    __tablename__ = "import_record"
    id: Mapped[IntPK]
    kind: Mapped[str] = mapped_column(String(32))
    path: Mapped[str] = mapped_column(String(1024))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    imported_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    rows_read: Mapped[int] = mapped_column(default=0)
    rows_written: Mapped[int] = mapped_column(default=0)
    rows_pending: Mapped[int] = mapped_column(default=0)
