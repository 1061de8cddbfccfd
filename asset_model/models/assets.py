"""Equipment: asset types, assets and the systems they belong to."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlalchemy import Column, Enum, ForeignKey, String, Table, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from asset_model.models.base import Base
from asset_model.types import (
    AssetCategory,
    AssetStatus,
    GlobalId,
    IntPK,
    Name,
    Serves,
    utcnow,
)

if TYPE_CHECKING:
    from asset_model.models.maintenance import MaintenanceEvent
    from asset_model.models.spatial import Building, Dwelling, SourceFile, Space, Storey

CategoryColumn = Enum(AssetCategory, native_enum=False, length=32, validate_strings=True)

asset_system = Table(
    "asset_system",
    Base.metadata,
    Column("asset_id", ForeignKey("asset.id", ondelete="CASCADE"), primary_key=True),
    Column("system_id", ForeignKey("system.id", ondelete="CASCADE"), primary_key=True),
)


class System(Base):
    """A building system (heating, ventilation, …) grouping assets."""

    __tablename__ = "system"
    id: Mapped[IntPK]
    global_id: Mapped[GlobalId]
    building_id: Mapped[int | None] = mapped_column(ForeignKey("building.id"), index=True)
    name: Mapped[Name]
    kind: Mapped[str | None] = mapped_column(String(32))
    building: Mapped[Building | None] = relationship(back_populates="systems")
    assets: Mapped[list[Asset]] = relationship(secondary=asset_system, back_populates="systems")


class AssetType(Base):
    """A type object (IfcBoilerType, COBie Type): manufacturer, model, expected life."""

    __tablename__ = "asset_type"
    __table_args__ = (UniqueConstraint("name", "ifc_class", "manufacturer", "model"),)
    id: Mapped[IntPK]
    global_id: Mapped[GlobalId]
    name: Mapped[Name]
    ifc_class: Mapped[str | None] = mapped_column(String(64))
    predefined_type: Mapped[str | None] = mapped_column(String(64))
    category: Mapped[AssetCategory | None] = mapped_column(CategoryColumn)
    manufacturer: Mapped[Name]
    model: Mapped[Name]
    expected_life_years: Mapped[float | None]
    properties: Mapped[dict[str, Any] | None]
    assets: Mapped[list[Asset]] = relationship(back_populates="asset_type")


class Asset(Base):
    """One piece of equipment. Never deleted once it has history: decommissioned instead."""

    __tablename__ = "asset"
    id: Mapped[IntPK]
    global_id: Mapped[GlobalId]
    asset_tag: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)
    name: Mapped[Name]
    description: Mapped[str | None] = mapped_column(String(1024))
    ifc_class: Mapped[str | None] = mapped_column(String(64))
    predefined_type: Mapped[str | None] = mapped_column(String(64))
    category: Mapped[AssetCategory] = mapped_column(CategoryColumn, index=True)
    serves: Mapped[Serves | None] = mapped_column(Enum(Serves, native_enum=False, length=16))
    status: Mapped[AssetStatus] = mapped_column(
        Enum(AssetStatus, native_enum=False, length=16), default=AssetStatus.ACTIVE, index=True
    )
    building_id: Mapped[int | None] = mapped_column(ForeignKey("building.id"), index=True)
    storey_id: Mapped[int | None] = mapped_column(ForeignKey("storey.id"))
    space_id: Mapped[int | None] = mapped_column(ForeignKey("space.id"))
    dwelling_id: Mapped[int | None] = mapped_column(ForeignKey("dwelling.id"), index=True)
    asset_type_id: Mapped[int | None] = mapped_column(ForeignKey("asset_type.id"), index=True)
    manufacturer: Mapped[Name]
    model: Mapped[Name]
    serial_number: Mapped[Name]
    installed_on: Mapped[dt.date | None]
    expected_life_years: Mapped[float | None]
    warranty_until: Mapped[dt.date | None]
    classification: Mapped[str | None] = mapped_column(String(255))
    properties: Mapped[dict[str, Any] | None]
    overrides: Mapped[dict[str, Any] | None]
    """What the landlord's asset-attributes imports set (field → ISO text or number): these win
    over the IFC's values when a model is ingested again (DESIGN §3)."""
    source_file_id: Mapped[int | None] = mapped_column(ForeignKey("source_file.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    decommissioned_at: Mapped[dt.datetime | None]

    building: Mapped[Building | None] = relationship(back_populates="assets")
    storey: Mapped[Storey | None] = relationship()
    space: Mapped[Space | None] = relationship()
    dwelling: Mapped[Dwelling | None] = relationship()
    asset_type: Mapped[AssetType | None] = relationship(back_populates="assets")
    source_file: Mapped[SourceFile | None] = relationship()
    systems: Mapped[list[System]] = relationship(secondary=asset_system, back_populates="assets")
    events: Mapped[list[MaintenanceEvent]] = relationship(back_populates="asset")
