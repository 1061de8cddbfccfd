"""COBie 2.4 export: the registry's active assets as a workbook that :func:`read_cobie` reads
back into the same registry (see :mod:`bim_ingest.cobie` for the columns and the extras).

Examples
--------
>>> with transaction(engine) as session:                      # doctest: +SKIP
...     export_cobie(session, "handover.xlsx")
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from asset_model.models import Asset, AssetType, Building, Dwelling, Space, Storey, System
from asset_model.types import AssetStatus
from bim_ingest.cobie import _OURS, CREATED_BY, SHEETS


def _cell(value: Any) -> Any:
    if value is None:
        return "n/a"
    if isinstance(value, (list, tuple, dict)):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def export_cobie(session: Session, path: Path | str) -> Path:
    """Write the registry's active assets as a COBie 2.4 workbook at ``path``."""
    import xlsxwriter

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0, tzinfo=None).isoformat()
    base = {"CreatedBy": CREATED_BY, "CreatedOn": now, "ExtSystem": _OURS}
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in SHEETS}
    buildings = session.scalars(select(Building).options(selectinload(Building.site))).all()
    names = {b.id: b.name or b.global_id for b in buildings}
    building_gid = {b.id: b.global_id for b in buildings}
    storey_gid: dict[int, str] = {}
    space_gid: dict[int, str] = {}
    for b in buildings:
        rows["Facility"].append(
            {
                "Name": names[b.id],
                "CreatedBy": CREATED_BY,
                "CreatedOn": now,
                "Category": "n/a",
                "ProjectName": "n/a",
                "SiteName": b.site.name if b.site else None,
                "LinearUnits": "meters",
                "AreaUnits": "square meters",
                "VolumeUnits": "cubic meters",
                "CurrencyUnit": "Euros",
                "AreaMeasurement": "n/a",
                "ExternalSystem": _OURS,
                "ExternalProjectObject": "IfcProject",
                "ExternalSiteObject": "IfcSite",
                "ExternalSiteIdentifier": b.site.global_id if b.site else None,
                "ExternalFacilityObject": "IfcBuilding",
                "ExternalFacilityIdentifier": b.global_id,
                "Description": b.address,
            }
        )
        for key in ("latitude", "longitude"):
            value = (
                getattr(b, key)
                if getattr(b, key) is not None
                else (getattr(b.site, key) if b.site else None)
            )
            if value is not None:
                rows["Attribute"].append(
                    {
                        **base,
                        "Name": key,
                        "Category": "Patrimoine",
                        "SheetName": "Facility",
                        "RowName": names[b.id],
                        "Value": str(value),
                        "ExtObject": _OURS,
                        "RowIdentifier": b.global_id,
                    }
                )
    floor_name = {}
    for s in session.scalars(select(Storey)).all():
        floor_name[s.id] = s.name or s.global_id
        storey_gid[s.id] = s.global_id
        rows["Floor"].append(
            {
                **base,
                "Name": floor_name[s.id],
                "Category": "Floor",
                "ExtObject": "IfcBuildingStorey",
                "ExtIdentifier": s.global_id,
                "Elevation": s.elevation_m,
                "FacilityName": names[s.building_id],
            }
        )
    space_name = {}
    space_members: dict[int, list[str]] = defaultdict(list)
    for s in session.scalars(select(Space)).all():
        space_name[s.id] = s.name or s.global_id
        space_gid[s.id] = s.global_id
        if s.dwelling_id is not None:
            space_members[s.dwelling_id].append(space_name[s.id])
        rows["Space"].append(
            {
                **base,
                "Name": space_name[s.id],
                "Category": s.usage,
                "FloorName": floor_name.get(s.storey_id),
                "Description": s.long_name,
                "ExtObject": "IfcSpace",
                "ExtIdentifier": s.global_id,
                "NetArea": s.area_m2,
                "FacilityName": names[s.building_id],
            }
        )
    for d in session.scalars(select(Dwelling)).all():
        label = f"Dwelling {d.typology}" if d.typology else "Dwelling"
        rows["Zone"].append(
            {
                **base,
                "Name": d.name or d.global_id,
                "Category": label,
                "SpaceNames": ",".join(space_members.get(d.id, [])),
                "ExtObject": "IfcZone",
                "ExtIdentifier": d.global_id,
                "Description": label,
                "FacilityName": names[d.building_id],
            }
        )
    assets = session.scalars(
        select(Asset)
        .where(Asset.status == AssetStatus.ACTIVE)
        .options(selectinload(Asset.asset_type), selectinload(Asset.systems))
    ).all()
    used_types = {a.asset_type_id for a in assets if a.asset_type_id is not None}
    type_class: dict[int, str] = {}
    for a in assets:
        if a.asset_type_id is not None and a.classification:
            type_class.setdefault(a.asset_type_id, a.classification)
    type_name: dict[int, str] = {}
    for t in session.scalars(select(AssetType).where(AssetType.id.in_(used_types or {-1}))):
        type_name[t.id] = t.name or t.global_id
        rows["Type"].append(
            {
                **base,
                "Name": type_name[t.id],
                "Category": type_class.get(t.id) or t.category or "n/a",
                "Description": t.name,
                "AssetType": "Fixed",
                "Manufacturer": t.manufacturer,
                "ModelNumber": t.model,
                "ExtObject": t.ifc_class,
                "ExtIdentifier": t.global_id,
                "ExpectedLife": t.expected_life_years,
                "DurationUnit": "year" if t.expected_life_years else None,
                "ModelReference": t.model,
            }
        )
    for a in assets:
        where = space_name.get(a.space_id) or floor_name.get(a.storey_id)
        rows["Component"].append(
            {
                **base,
                "Name": a.name or a.global_id,
                "TypeName": type_name.get(a.asset_type_id),
                "Space": where,
                "Description": a.description or a.name,
                "ExtObject": a.ifc_class,
                "ExtIdentifier": a.global_id,
                "SerialNumber": a.serial_number,
                "InstallationDate": a.installed_on,
                "TagNumber": a.asset_tag,
                "AssetIdentifier": a.asset_tag,
            }
        )
        ours = {
            "building_ref": building_gid.get(a.building_id),
            "storey_ref": storey_gid.get(a.storey_id),
            "space_ref": space_gid.get(a.space_id),
            "category": a.category,
            "serves": a.serves,
            "manufacturer": a.manufacturer,
            "model": a.model,
            "expected_life_years": a.expected_life_years,
            "warranty_until": a.warranty_until,
            "classification": a.classification,
            "predefined_type": a.predefined_type,
        }
        for key, value in ours.items():
            if value is not None:
                rows["Attribute"].append(
                    {
                        **base,
                        "Name": key,
                        "Category": "Patrimoine",
                        "SheetName": "Component",
                        "RowName": a.name,
                        "Value": str(value),
                        "ExtObject": _OURS,
                        "RowIdentifier": a.global_id,
                    }
                )
        for pset, props in (a.properties or {}).items():
            for prop, value in props.items():
                if value is None or isinstance(value, (list, dict)):
                    continue
                rows["Attribute"].append(
                    {
                        **base,
                        "Name": prop,
                        "Category": "Pset",
                        "SheetName": "Component",
                        "RowName": a.name,
                        "Value": value,
                        "ExtObject": pset,
                        "RowIdentifier": a.global_id,
                    }
                )
    for s in session.scalars(select(System).options(selectinload(System.assets))).all():
        members = [m for m in s.assets if m.status == AssetStatus.ACTIVE]
        rows["System"].append(
            {
                **base,
                "Name": s.name or s.global_id,
                "Category": s.kind or "n/a",
                "ComponentNames": ",".join(m.name or m.global_id for m in members),
                "ExtObject": "IfcSystem",
                "ExtIdentifier": s.global_id,
                "ComponentIdentifiers": ",".join(m.global_id for m in members),
            }
        )
    with xlsxwriter.Workbook(str(path), {"constant_memory": True}) as wb:
        bold = wb.add_format({"bold": True})
        for sheet, columns in SHEETS.items():
            ws = wb.add_worksheet(sheet)
            ws.write_row(0, 0, columns, bold)
            for r, row in enumerate(rows[sheet], start=1):
                ws.write_row(r, 0, [_cell(row.get(c)) for c in columns])
    return path
