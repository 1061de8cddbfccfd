"""COBie 2.4 workbooks: :func:`read_cobie` turns one into records; :func:`export_cobie` (in
``cobie_write``) writes the registry as one (Facility, Floor, Space, Zone, Type, Component,
System, Attribute).

Components are keyed by ``ExtIdentifier`` (the IFC GlobalId), so duplicate component names, as
real handovers have, do not merge. Our export adds a few ``Attribute`` rows under the external
object ``Patrimoine`` (category, serves, warranty end, expected life) and one column
``RowIdentifier`` (the owner's GlobalId) so that re-ingesting the export gives the same registry;
other tools ignore them. A COBie without them is classified with the taxonomy like IFC.

Examples
--------
>>> with transaction(engine) as session:                      # doctest: +SKIP
...     export_cobie(session, "handover.xlsx")
>>> ingest_file(other_engine, "handover.xlsx").added           # doctest: +SKIP
42
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from pathlib import Path
from typing import Any

from bim_ingest.errors import IngestError
from bim_ingest.psets import asset_facts, clean, parse_date, parse_years
from bim_ingest.records import (
    AssetRecord,
    BuildingRecord,
    DwellingRecord,
    ModelRecords,
    SiteRecord,
    SourceRecord,
    SpaceRecord,
    StoreyRecord,
    SystemRecord,
    TypeRecord,
)
from bim_ingest.spatial import is_dwelling_name, space_usage, typology
from bim_ingest.step_file import sha256_of
from bim_ingest.taxonomy import Taxonomy, classify, load_taxonomy

CREATED_BY = "patrimoine@localhost"
SHEETS: dict[str, list[str]] = {
    "Facility": [
        "Name",
        "CreatedBy",
        "CreatedOn",
        "Category",
        "ProjectName",
        "SiteName",
        "LinearUnits",
        "AreaUnits",
        "VolumeUnits",
        "CurrencyUnit",
        "AreaMeasurement",
        "ExternalSystem",
        "ExternalProjectObject",
        "ExternalProjectIdentifier",
        "ExternalSiteObject",
        "ExternalSiteIdentifier",
        "ExternalFacilityObject",
        "ExternalFacilityIdentifier",
        "Description",
        "ProjectDescription",
        "SiteDescription",
        "Phase",
    ],
    "Floor": [
        "Name",
        "CreatedBy",
        "CreatedOn",
        "Category",
        "ExtSystem",
        "ExtObject",
        "ExtIdentifier",
        "Description",
        "Elevation",
        "Height",
        "FacilityName",
    ],
    "Space": [
        "Name",
        "CreatedBy",
        "CreatedOn",
        "Category",
        "FloorName",
        "Description",
        "ExtSystem",
        "ExtObject",
        "ExtIdentifier",
        "RoomTag",
        "UsableHeight",
        "GrossArea",
        "NetArea",
        "FacilityName",
    ],
    "Zone": [
        "Name",
        "CreatedBy",
        "CreatedOn",
        "Category",
        "SpaceNames",
        "ExtSystem",
        "ExtObject",
        "ExtIdentifier",
        "Description",
        "FacilityName",
    ],
    "Type": [
        "Name",
        "CreatedBy",
        "CreatedOn",
        "Category",
        "Description",
        "AssetType",
        "Manufacturer",
        "ModelNumber",
        "WarrantyGuarantorParts",
        "WarrantyDurationParts",
        "WarrantyGuarantorLabor",
        "WarrantyDurationLabor",
        "WarrantyDurationUnit",
        "ExtSystem",
        "ExtObject",
        "ExtIdentifier",
        "ReplacementCost",
        "ExpectedLife",
        "DurationUnit",
        "WarrantyDescription",
        "NominalLength",
        "NominalWidth",
        "NominalHeight",
        "ModelReference",
        "Shape",
        "Size",
        "Color",
        "Finish",
        "Grade",
        "Material",
        "Constituents",
        "Features",
        "AccessibilityPerformance",
        "CodePerformance",
        "SustainabilityPerformance",
    ],
    "Component": [
        "Name",
        "CreatedBy",
        "CreatedOn",
        "TypeName",
        "Space",
        "Description",
        "ExtSystem",
        "ExtObject",
        "ExtIdentifier",
        "SerialNumber",
        "InstallationDate",
        "WarrantyStartDate",
        "TagNumber",
        "BarCode",
        "AssetIdentifier",
    ],
    "System": [
        "Name",
        "CreatedBy",
        "CreatedOn",
        "Category",
        "ComponentNames",
        "ExtSystem",
        "ExtObject",
        "ExtIdentifier",
        "Description",
        "ComponentIdentifiers",
    ],
    "Attribute": [
        "Name",
        "CreatedBy",
        "CreatedOn",
        "Category",
        "SheetName",
        "RowName",
        "Value",
        "Unit",
        "ExtSystem",
        "ExtObject",
        "ExtIdentifier",
        "Description",
        "AllowedValues",
        "RowIdentifier",
    ],
}
REQUIRED_SHEETS = ("Facility", "Component")
_LENGTH = {
    "millimeters": 0.001,
    "millimetres": 0.001,
    "centimeters": 0.01,
    "meters": 1.0,
    "metres": 1.0,
    "feet": 0.3048,
    "inches": 0.0254,
}
_OURS = "Patrimoine"


# --------------------------------------------------------------------------------- reading
def _sheet_rows(wb: Any, name: str) -> list[dict[str, Any]]:
    if name not in wb.sheetnames:
        return []
    rows = wb[name].iter_rows(values_only=True)
    header = next(rows, None)
    if not header:
        return []
    keys = [str(h).strip() if h is not None else "" for h in header]
    out = []
    for row in rows:
        rec = {k: v for k, v in zip(keys, row, strict=False) if k}
        if clean(rec.get("Name")) is None:
            continue
        out.append({k: (v.strip() if isinstance(v, str) else v) for k, v in rec.items()})
    return out


def _ident(value: Any, *parts: Any) -> str:
    got = clean(value)
    if got is not None:
        return str(got)[:64]
    digest = hashlib.sha1("|".join(str(p) for p in parts).encode()).hexdigest()[:20]
    return f"cobie:{digest}"


def read_cobie(path: Path | str, *, taxonomy: Taxonomy | None = None) -> ModelRecords:
    """Read a COBie 2.4 workbook (.xlsx) into records; refuse it when it is not COBie."""
    from openpyxl import load_workbook

    path = Path(path)
    taxonomy = taxonomy or load_taxonomy()
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as err:  # noqa: BLE001 - openpyxl raises many kinds on bad files
        raise IngestError(path, reason=f"not a readable xlsx workbook ({err})") from err
    try:
        missing = [s for s in REQUIRED_SHEETS if s not in wb.sheetnames]
        if missing:
            raise IngestError(
                path,
                reason=f"not a COBie 2.4 workbook: no sheet "
                f"{', '.join(missing)} (sheets: {', '.join(wb.sheetnames[:8])})",
            )
        sheets = {name: _sheet_rows(wb, name) for name in SHEETS}
    finally:
        wb.close()
    return _records(path, sheets, taxonomy)


def _records(path: Path, sh: dict[str, list[dict[str, Any]]], tax: Taxonomy) -> ModelRecords:
    facilities = sh["Facility"]
    if not facilities:
        raise IngestError(path, entity="Facility", reason="the Facility sheet has no row")
    first = facilities[0]
    out = ModelRecords(
        SourceRecord(
            path=str(path),
            sha256=sha256_of(path),
            schema="COBie2.4",
            application=(clean(first.get("ExternalSystem")) or "COBie")[:255],
            kind="cobie",
            project_global_id=clean(first.get("ExternalProjectIdentifier")),
            project_name=clean(first.get("ProjectName")),
        )
    )
    attrs: dict[tuple[str, str], dict[str, dict[str, Any]]] = defaultdict(dict)
    for a in sh["Attribute"]:
        owner = clean(a.get("RowIdentifier")) or clean(a.get("RowName"))
        if owner is None:
            continue
        pset = clean(a.get("ExtObject")) or clean(a.get("Category")) or "COBie_Attribute"
        attrs[(str(a.get("SheetName") or ""), owner)].setdefault(pset, {})[a["Name"]] = a.get(
            "Value"
        )

    facility_gid: dict[str, str] = {}
    scale = _LENGTH.get(str(first.get("LinearUnits") or "meters").lower(), 1.0)
    for f in facilities:
        gid = _ident(f.get("ExternalFacilityIdentifier"), "facility", f["Name"])
        site_gid = None
        if clean(f.get("SiteName")) or clean(f.get("ExternalSiteIdentifier")):
            site_gid = _ident(f.get("ExternalSiteIdentifier"), "site", f.get("SiteName"))
            if site_gid not in {s.global_id for s in out.sites}:
                out.sites.append(SiteRecord(site_gid, clean(f.get("SiteName"))))
        ours = attrs.get(("Facility", gid), {}).get(_OURS, {})
        lat, lon = _float(ours.get("latitude")), _float(ours.get("longitude"))
        if site_gid is not None and out.sites[-1].global_id == site_gid:
            out.sites[-1].latitude, out.sites[-1].longitude = lat, lon
        name = None if f["Name"] == gid else f["Name"]
        out.buildings.append(
            BuildingRecord(gid, name, site_gid, clean(f.get("Description")), lat, lon)
        )
        facility_gid[f["Name"]] = gid
    default_b = out.buildings[0].global_id

    def building(row: dict[str, Any]) -> str:
        return facility_gid.get(clean(row.get("FacilityName")) or "", default_b)

    floors: dict[tuple[str, str], str] = {}
    for fl in sh["Floor"]:
        b = building(fl)
        gid = _ident(fl.get("ExtIdentifier"), b, "floor", fl["Name"])
        elev = fl.get("Elevation")
        elev = round(float(elev) * scale, 4) if isinstance(elev, (int, float)) else None
        out.storeys.append(StoreyRecord(gid, b, fl["Name"], elev))
        floors[(b, fl["Name"])] = gid
    spaces: dict[tuple[str, str], SpaceRecord] = {}
    for sp in sh["Space"]:
        b = building(sp)
        gid = _ident(sp.get("ExtIdentifier"), b, "space", sp["Name"])
        rec = SpaceRecord(
            gid,
            b,
            sp["Name"],
            clean(sp.get("Description")),
            floors.get((b, clean(sp.get("FloorName")) or "")),
        )
        rec.usage = space_usage(rec.name, rec.long_name, clean(sp.get("Category")))
        area = sp.get("NetArea") or sp.get("GrossArea")
        rec.area_m2 = float(area) if isinstance(area, (int, float)) else None
        out.spaces.append(rec)
        spaces[(b, sp["Name"])] = rec
    for z in sh["Zone"]:
        b = building(z)
        names = (z["Name"], clean(z.get("Category")), clean(z.get("Description")))
        if not is_dwelling_name(*names):
            continue
        members = [spaces.get((b, n.strip())) for n in str(z.get("SpaceNames") or "").split(",")]
        members = [m for m in members if m is not None]
        gid = _ident(z.get("ExtIdentifier"), b, "zone", z["Name"])
        out.dwellings.append(
            DwellingRecord(
                gid,
                b,
                z["Name"],
                members[0].storey_global_id if members else None,
                typology(*names),
            )
        )
        for m in members:
            m.dwelling_global_id = m.dwelling_global_id or gid
            m.usage = "dwelling"

    types: dict[str, TypeRecord] = {}
    type_rows: dict[str, dict[str, Any]] = {}
    for t in sh["Type"]:
        gid = _ident(t.get("ExtIdentifier"), "type", t["Name"])
        psets = {"COBie_Type": {k: v for k, v in t.items() if v not in (None, "")}}
        psets.update(attrs.get(("Type", gid), attrs.get(("Type", t["Name"]), {})))
        facts = asset_facts(psets)
        unit = t.get("DurationUnit")
        life = parse_years(t.get("ExpectedLife"), unit if isinstance(unit, str) else None)
        if life is None and not isinstance(unit, str):
            # ifcfm's COBie 2.4 preset writes the service life into DurationUnit
            life = parse_years(unit)
        cls = classify(
            None,
            type_class=clean(t.get("ExtObject")),
            name=(t["Name"], clean(t.get("Category")), clean(t.get("Description"))),
            taxonomy=tax,
        )
        types[t["Name"]] = TypeRecord(
            gid,
            t["Name"],
            clean(t.get("ExtObject")),
            None,
            cls.category if cls.rule is not None else None,
            clean(t.get("Manufacturer")),
            clean(t.get("ModelNumber")),
            life or facts.expected_life_years,
            {k: {p: _plain(v) for p, v in d.items()} for k, d in psets.items() if k != _OURS},
        )
        type_rows[t["Name"]] = t
    out.types = list(types.values())

    space_by_gid = {rec.global_id: rec for rec in spaces.values()}
    storey_gids = set(floors.values())
    for c in sh["Component"]:
        b_default = default_b
        gid = _ident(c.get("ExtIdentifier"), "component", c["Name"], c.get("Space"))
        typ = types.get(clean(c.get("TypeName")) or "")
        trow = type_rows.get(clean(c.get("TypeName")) or "", {})
        where = clean(c.get("Space"))
        space = None
        storey_gid = None
        extra = attrs.get(("Component", gid), attrs.get(("Component", c["Name"]), {}))
        ours = extra.get(_OURS, {})
        refs = {k: clean(ours.get(k)) for k in ("space_ref", "storey_ref", "building_ref")}
        if refs["building_ref"] in facility_gid.values():
            b_default = refs["building_ref"]
            space = space_by_gid.get(refs["space_ref"] or "")
            storey_gid = refs["storey_ref"] if refs["storey_ref"] in storey_gids else None
            where = None
        for (b, name), rec in spaces.items():
            if name == where:
                space, b_default = rec, b
                break
        if space is None:
            for (b, name), fgid in floors.items():
                if name == where:
                    storey_gid, b_default = fgid, b
                    break
        if space is not None:
            storey_gid = space.storey_global_id
        psets = {k: {p: _plain(v) for p, v in d.items()} for k, d in extra.items() if k != _OURS}
        cls = classify(
            clean(c.get("ExtObject")),
            type_class=typ.ifc_class if typ else None,
            name=(
                c["Name"],
                typ.name if typ else None,
                clean(trow.get("Category")),
                clean(trow.get("Description")),
            ),
            pset_names=psets.keys(),
            taxonomy=tax,
        )
        category = clean(ours.get("category")) or cls.category
        serves = clean(ours.get("serves")) or cls.serves
        dwelling = space.dwelling_global_id if space else None
        if serves is None and space is not None:
            serves = (
                "building"
                if space.usage in ("technical", "common")
                else "dwelling"
                if dwelling
                else None
            )
        life = (
            parse_years(ours.get("expected_life_years"))
            or (typ.expected_life_years if typ else None)
            or cls.expected_life_years
        )
        out.assets.append(
            AssetRecord(
                global_id=gid,
                name=c["Name"],
                ifc_class=clean(c.get("ExtObject")) or "IfcElement",
                category=category,
                description=clean(c.get("Description")),
                predefined_type=clean(ours.get("predefined_type")),
                type_global_id=typ.global_id if typ else None,
                building_global_id=b_default,
                storey_global_id=storey_gid,
                space_global_id=space.global_id if space else None,
                dwelling_global_id=dwelling,
                serves=serves,
                manufacturer=clean(ours.get("manufacturer")) or (typ.manufacturer if typ else None),
                model=clean(ours.get("model")) or (typ.model if typ else None),
                serial_number=clean(c.get("SerialNumber")),
                installed_on=parse_date(c.get("InstallationDate")),
                expected_life_years=life,
                warranty_until=parse_date(ours.get("warranty_until")),
                classification=clean(ours.get("classification")) or clean(trow.get("Category")),
                tag=clean(c.get("TagNumber")),
                properties=psets or None,
            )
        )
    by_name: dict[str, list[str]] = defaultdict(list)
    for a in out.assets:
        by_name[a.name or ""].append(a.global_id)
    known = {a.global_id for a in out.assets}
    for s in sh["System"]:
        ids = [
            i.strip()
            for i in str(s.get("ComponentIdentifiers") or "").split(",")
            if i.strip() in known
        ]
        if not ids:
            ids = [
                g
                for n in str(s.get("ComponentNames") or "").split(",")
                for g in by_name.get(n.strip(), [])
            ]
        out.systems.append(
            SystemRecord(
                _ident(s.get("ExtIdentifier"), "system", s["Name"]),
                s["Name"],
                (clean(s.get("Category")) or "")[:32] or None,
                default_b,
                ids,
            )
        )
    return out


def _float(value: Any) -> float | None:
    try:
        return float(value) if clean(value) is not None else None
    except (TypeError, ValueError):
        return None


def _plain(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value
