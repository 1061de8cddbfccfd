"""Plain records extracted from a model (IFC or COBie): no ifcopenshell object escapes them.

Records are picklable, so worker processes extract and the parent process writes.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass
class SourceRecord:
    path: str
    sha256: str
    schema: str | None
    application: str | None
    kind: str = "ifc"
    project_global_id: str | None = None
    project_name: str | None = None


@dataclass
class SiteRecord:
    global_id: str
    name: str | None = None
    address: str | None = None
    latitude: float | None = None
    longitude: float | None = None


@dataclass
class BuildingRecord:
    global_id: str
    name: str | None = None
    site_global_id: str | None = None
    address: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    year_built: int | None = None


@dataclass
class StoreyRecord:
    global_id: str
    building_global_id: str
    name: str | None = None
    elevation_m: float | None = None


@dataclass
class DwellingRecord:
    global_id: str
    building_global_id: str
    name: str | None = None
    storey_global_id: str | None = None
    typology: str | None = None
    area_m2: float | None = None


@dataclass
class SpaceRecord:
    global_id: str
    building_global_id: str
    name: str | None = None
    long_name: str | None = None
    storey_global_id: str | None = None
    dwelling_global_id: str | None = None
    usage: str = "other"
    area_m2: float | None = None


@dataclass
class SystemRecord:
    global_id: str
    name: str | None = None
    kind: str | None = None
    building_global_id: str | None = None
    members: list[str] = field(default_factory=list)


@dataclass
class TypeRecord:
    global_id: str
    name: str | None = None
    ifc_class: str | None = None
    predefined_type: str | None = None
    category: str | None = None
    manufacturer: str | None = None
    model: str | None = None
    expected_life_years: float | None = None
    properties: dict[str, Any] | None = None


@dataclass
class AssetRecord:
    global_id: str
    name: str | None
    ifc_class: str
    category: str
    description: str | None = None
    predefined_type: str | None = None
    type_global_id: str | None = None
    building_global_id: str | None = None
    storey_global_id: str | None = None
    space_global_id: str | None = None
    dwelling_global_id: str | None = None
    serves: str | None = None
    manufacturer: str | None = None
    model: str | None = None
    serial_number: str | None = None
    installed_on: dt.date | None = None
    expected_life_years: float | None = None
    warranty_until: dt.date | None = None
    classification: str | None = None
    tag: str | None = None
    properties: dict[str, Any] | None = None


@dataclass
class ModelRecords:
    """Everything one file holds, as plain records, ready for :func:`bim_ingest.sync`."""

    source: SourceRecord
    sites: list[SiteRecord] = field(default_factory=list)
    buildings: list[BuildingRecord] = field(default_factory=list)
    storeys: list[StoreyRecord] = field(default_factory=list)
    dwellings: list[DwellingRecord] = field(default_factory=list)
    spaces: list[SpaceRecord] = field(default_factory=list)
    systems: list[SystemRecord] = field(default_factory=list)
    types: list[TypeRecord] = field(default_factory=list)
    assets: list[AssetRecord] = field(default_factory=list)
    network: Counter[tuple[str, str]] = field(default_factory=Counter)  # (building, class)
    skipped: Counter[str] = field(default_factory=Counter)  # non-equipment elements by class
