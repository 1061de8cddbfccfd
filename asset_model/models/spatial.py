"""Spatial hierarchy: site → building → storey → space, and dwellings (groups of spaces)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import Enum, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from asset_model.models.base import Base
from asset_model.types import GlobalId, IntPK, Name, SpaceUsage, utcnow

if TYPE_CHECKING:
    from asset_model.models.assets import Asset, System


class SourceFile(Base):
    """Provenance of everything ingested: one row per ingested file revision."""

    __tablename__ = "source_file"
    id: Mapped[IntPK]
    path: Mapped[str] = mapped_column(String(1024))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    schema: Mapped[str | None] = mapped_column(String(32))
    application: Mapped[Name]
    kind: Mapped[str] = mapped_column(String(16), default="ifc")
    ingested_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Site(Base):
    __tablename__ = "site"
    id: Mapped[IntPK]
    global_id: Mapped[GlobalId]
    name: Mapped[Name]
    address: Mapped[str | None] = mapped_column(String(512))
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    buildings: Mapped[list[Building]] = relationship(back_populates="site")


class Building(Base):
    __tablename__ = "building"
    id: Mapped[IntPK]
    global_id: Mapped[GlobalId]
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id"))
    name: Mapped[Name]
    address: Mapped[str | None] = mapped_column(String(512))
    year_built: Mapped[int | None]
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    site: Mapped[Site | None] = relationship(back_populates="buildings")
    storeys: Mapped[list[Storey]] = relationship(back_populates="building")
    spaces: Mapped[list[Space]] = relationship(back_populates="building")
    dwellings: Mapped[list[Dwelling]] = relationship(back_populates="building")
    assets: Mapped[list[Asset]] = relationship(back_populates="building")
    systems: Mapped[list[System]] = relationship(back_populates="building")
    network_counts: Mapped[list[NetworkCount]] = relationship(back_populates="building")


class Storey(Base):
    __tablename__ = "storey"
    id: Mapped[IntPK]
    global_id: Mapped[GlobalId]
    building_id: Mapped[int] = mapped_column(ForeignKey("building.id"), index=True)
    name: Mapped[Name]
    elevation_m: Mapped[float | None]
    building: Mapped[Building] = relationship(back_populates="storeys")


class Dwelling(Base):
    """A dwelling (logement): an IfcZone grouping spaces, or a space that is itself a dwelling."""

    __tablename__ = "dwelling"
    id: Mapped[IntPK]
    global_id: Mapped[GlobalId]
    building_id: Mapped[int] = mapped_column(ForeignKey("building.id"), index=True)
    storey_id: Mapped[int | None] = mapped_column(ForeignKey("storey.id"))
    name: Mapped[Name]
    typology: Mapped[str | None] = mapped_column(String(16))
    area_m2: Mapped[float | None]
    vulnerable: Mapped[bool] = mapped_column(default=False)
    building: Mapped[Building] = relationship(back_populates="dwellings")
    storey: Mapped[Storey | None] = relationship()
    spaces: Mapped[list[Space]] = relationship(back_populates="dwelling")


class Space(Base):
    __tablename__ = "space"
    id: Mapped[IntPK]
    global_id: Mapped[GlobalId]
    building_id: Mapped[int] = mapped_column(ForeignKey("building.id"), index=True)
    storey_id: Mapped[int | None] = mapped_column(ForeignKey("storey.id"), index=True)
    dwelling_id: Mapped[int | None] = mapped_column(ForeignKey("dwelling.id"), index=True)
    name: Mapped[Name]
    long_name: Mapped[Name]
    usage: Mapped[SpaceUsage] = mapped_column(
        Enum(SpaceUsage, native_enum=False, length=16), default=SpaceUsage.OTHER
    )
    area_m2: Mapped[float | None]
    building: Mapped[Building] = relationship(back_populates="spaces")
    storey: Mapped[Storey | None] = relationship()
    dwelling: Mapped[Dwelling | None] = relationship(back_populates="spaces")


class NetworkCount(Base):
    """Pipes, ducts and fittings are network, not equipment: counted per building and class."""

    __tablename__ = "network_count"
    id: Mapped[IntPK]
    building_id: Mapped[int] = mapped_column(ForeignKey("building.id"), index=True)
    source_file_id: Mapped[int] = mapped_column(ForeignKey("source_file.id"))
    ifc_class: Mapped[str] = mapped_column(String(64))
    count: Mapped[int]
    building: Mapped[Building] = relationship(back_populates="network_counts")
