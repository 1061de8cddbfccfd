"""COBie 2.4 workbook → records: :func:`read_cobie`.

Rows are keyed by GlobalId (``ExtIdentifier``) wherever the workbook has one, so duplicate
component names, as real handovers have, do not merge; a row without one gets a stable
identifier hashed from its names. Our own export's extras (``Patrimoine`` Attribute rows, the
``PatrimoineAsset`` sheet, ``RowIdentifier``, ``ComponentIdentifiers``) restore the registry
exactly; a workbook from another tool is located by Space / Floor names and classified with
the taxonomy like IFC.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bim_ingest.cobie_sheets import EXTRA_SHEET, OURS, read_sheets, split_names
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

Rows = list[dict[str, Any]]
Attributes = dict[tuple[str, str], dict[str, dict[str, Any]]]
_LENGTH = {
    "millimeters": 0.001,
    "millimetres": 0.001,
    "millimeter": 0.001,
    "millimetre": 0.001,
    "centimeters": 0.01,
    "centimetres": 0.01,
    "meters": 1.0,
    "metres": 1.0,
    "meter": 1.0,
    "metre": 1.0,
    "feet": 0.3048,
    "foot": 0.3048,
    "inches": 0.0254,
    "inch": 0.0254,
}


@dataclass
class _Places:
    """Where things are: facilities, floors and spaces by (building GlobalId, name)."""

    default_building: str = ""
    facilities: dict[str, str] = field(default_factory=dict)  # name -> GlobalId
    floors: dict[tuple[str, str], str] = field(default_factory=dict)
    spaces: dict[tuple[str, str], SpaceRecord] = field(default_factory=dict)
    space_by_gid: dict[str, SpaceRecord] = field(default_factory=dict)
    space_by_name: dict[str, SpaceRecord] = field(default_factory=dict)  # first one wins
    floor_by_name: dict[str, tuple[str, str]] = field(default_factory=dict)

    def building(self, row: dict[str, Any]) -> str:
        return self.facilities.get(_text(row.get("FacilityName")) or "", self.default_building)


def read_cobie(path: Path | str, *, taxonomy: Taxonomy | None = None) -> ModelRecords:
    """Read a COBie 2.4 workbook (.xlsx, .xls) into records; refuse it when it is not COBie."""
    path = Path(path)
    sheets = read_sheets(path)
    return _records(path, sheets, taxonomy or load_taxonomy())


def _text(value: Any) -> str | None:
    got = clean(value)
    return None if got is None else str(got)


def _ident(value: Any, *parts: Any) -> str:
    got = _text(value)
    if got is not None:
        return got[:64]
    digest = hashlib.sha1("|".join(str(p) for p in parts).encode()).hexdigest()[:20]
    return f"cobie:{digest}"


def _float(value: Any) -> float | None:
    try:
        return float(value) if clean(value) is not None else None
    except (TypeError, ValueError):
        return None


def _plain(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def _records(path: Path, sh: dict[str, Rows], tax: Taxonomy) -> ModelRecords:
    if not sh["Facility"]:
        raise IngestError(path, entity="Facility", reason="the Facility sheet has no row")
    first = sh["Facility"][0]
    out = ModelRecords(
        SourceRecord(
            path=str(path),
            sha256=sha256_of(path),
            schema="COBie2.4",
            application=(_text(first.get("ExternalSystem")) or "COBie")[:255],
            kind="cobie",
            project_global_id=_text(first.get("ExternalProjectIdentifier")),
            project_name=_text(first.get("ProjectName")),
        )
    )
    attrs = _attributes(sh["Attribute"])
    places = _Places()
    _facilities(out, sh["Facility"], attrs, places)
    scale = _LENGTH.get(str(first.get("LinearUnits") or "meters").strip().lower(), 1.0)
    _floors(out, sh["Floor"], places, scale)
    _spaces(out, sh["Space"], places)
    _zones(out, sh["Zone"], places)
    types, type_rows = _types(out, sh["Type"], attrs, tax)
    for c in sh["Component"] + sh[EXTRA_SHEET]:
        out.assets.append(_component(c, types, type_rows, attrs, places, tax))
    _systems(out, sh["System"], places.default_building)
    return out


def _attributes(rows: Rows) -> Attributes:
    """Attribute rows as {(sheet, owner GlobalId or name): {pset: {name: value}}}."""
    attrs: Attributes = defaultdict(dict)
    for a in rows:
        owner = _text(a.get("RowIdentifier")) or _text(a.get("RowName"))
        if owner is None:
            continue
        pset = _text(a.get("ExtObject")) or _text(a.get("Category")) or "COBie_Attribute"
        sheet = str(a.get("SheetName") or "").strip()
        attrs[(sheet, owner)].setdefault(pset, {})[str(a["Name"])] = a.get("Value")
    return attrs


def _facilities(out: ModelRecords, rows: Rows, attrs: Attributes, places: _Places) -> None:
    for f in rows:
        name = str(f["Name"])
        gid = _ident(f.get("ExternalFacilityIdentifier"), "facility", name)
        site_gid = None
        if _text(f.get("SiteName")) or _text(f.get("ExternalSiteIdentifier")):
            site_gid = _ident(f.get("ExternalSiteIdentifier"), "site", f.get("SiteName"))
            if site_gid not in {s.global_id for s in out.sites}:
                out.sites.append(SiteRecord(site_gid, _text(f.get("SiteName"))))
        ours = attrs.get(("Facility", gid), {}).get(OURS, {})
        lat, lon = _float(ours.get("latitude")), _float(ours.get("longitude"))
        if site_gid is not None and out.sites[-1].global_id == site_gid:
            out.sites[-1].latitude, out.sites[-1].longitude = lat, lon
        out.buildings.append(
            BuildingRecord(
                gid, None if name == gid else name, site_gid, _text(f.get("Description")), lat, lon
            )
        )
        places.facilities[name] = gid
    places.default_building = out.buildings[0].global_id


def _floors(out: ModelRecords, rows: Rows, places: _Places, scale: float) -> None:
    for fl in rows:
        b, name = places.building(fl), str(fl["Name"])
        gid = _ident(fl.get("ExtIdentifier"), b, "floor", name)
        elev = _float(fl.get("Elevation"))
        out.storeys.append(
            StoreyRecord(gid, b, name, round(elev * scale, 4) if elev is not None else None)
        )
        places.floors[(b, name)] = gid
        places.floor_by_name.setdefault(name, (b, gid))


def _spaces(out: ModelRecords, rows: Rows, places: _Places) -> None:
    for sp in rows:
        b, name = places.building(sp), str(sp["Name"])
        gid = _ident(sp.get("ExtIdentifier"), b, "space", name)
        floor = places.floors.get((b, _text(sp.get("FloorName")) or ""))
        rec = SpaceRecord(gid, b, name, _text(sp.get("Description")), floor)
        rec.usage = space_usage(rec.name, rec.long_name, _text(sp.get("Category")))
        rec.area_m2 = _float(sp.get("NetArea")) or _float(sp.get("GrossArea"))
        out.spaces.append(rec)
        places.spaces[(b, name)] = rec
        places.space_by_gid[gid] = rec
        places.space_by_name.setdefault(name, rec)


def _zones(out: ModelRecords, rows: Rows, places: _Places) -> None:
    """Dwelling zones; COBie 2.4 writes one row per zone and space, some tools a list."""
    grouped: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for z in rows:
        grouped[(places.building(z), str(z["Name"]))].append(z)
    for (b, name), zrows in grouped.items():
        z = zrows[0]
        names = (name, _text(z.get("Category")), _text(z.get("Description")))
        if not is_dwelling_name(*names):
            continue
        member_names = dict.fromkeys(n for r in zrows for n in split_names(r.get("SpaceNames")))
        members = [places.spaces[(b, n)] for n in member_names if (b, n) in places.spaces]
        gid = _ident(z.get("ExtIdentifier"), b, "zone", name)
        storey = members[0].storey_global_id if members else None
        out.dwellings.append(DwellingRecord(gid, b, name, storey, typology(*names)))
        for m in members:
            m.dwelling_global_id = m.dwelling_global_id or gid
            m.usage = "dwelling"


def type_life(row: dict[str, Any]) -> float | None:
    """ExpectedLife in DurationUnit (year, month, …) in years.

    IfcOpenShell's ``ifcfm`` COBie 2.4 preset leaves ExpectedLife empty and writes the service
    life (``25`` or ``P25Y``) into DurationUnit: that is read as the life, in years.
    """
    unit = _text(row.get("DurationUnit"))
    life = clean(row.get("ExpectedLife"))
    if life is None:
        return parse_years(unit) if unit is not None else None
    return parse_years(life, unit if unit and parse_years(unit) is None else None)


def _types(
    out: ModelRecords, rows: Rows, attrs: Attributes, tax: Taxonomy
) -> tuple[dict[str, TypeRecord], dict[str, dict[str, Any]]]:
    """Type records and rows, by Name (what TypeName refers to) and by GlobalId."""
    types: dict[str, TypeRecord] = {}
    type_rows: dict[str, dict[str, Any]] = {}
    for t in rows:
        name = str(t["Name"])
        gid = _ident(t.get("ExtIdentifier"), "type", name)
        psets = {"COBie_Type": {k: v for k, v in t.items() if clean(v) is not None}}
        extra = attrs.get(("Type", gid), attrs.get(("Type", name), {}))
        psets.update({k: v for k, v in extra.items() if k != OURS})
        ours = extra.get(OURS, {})
        cls = classify(
            None,
            type_class=_text(t.get("ExtObject")),
            name=(name, _text(t.get("Category")), _text(t.get("Description"))),
            taxonomy=tax,
        )
        # our export's own values win (n/a included); another tool's workbook has none
        life = type_life(t) or asset_facts(psets).expected_life_years
        columns = {
            "category": cls.category if cls.rule is not None else None,
            "predefined_type": None,
            "manufacturer": _text(t.get("Manufacturer")),
            "model": _text(t.get("ModelNumber")) or _text(t.get("ModelReference")),
            "expected_life_years": life,
        }
        got = {k: _text(ours[k]) if k in ours else v for k, v in columns.items()}
        types[name] = TypeRecord(
            gid,
            name,
            _text(t.get("ExtObject")),
            got["predefined_type"],
            got["category"],
            got["manufacturer"],
            got["model"],
            parse_years(got["expected_life_years"]),
            {k: {p: _plain(v) for p, v in d.items()} for k, d in psets.items()},
        )
        type_rows[name] = type_rows[gid] = t
        types[gid] = types[name]
    out.types = list({id(t): t for t in types.values()}.values())
    return types, type_rows


def _locate(
    c: dict[str, Any], ours: dict[str, Any], places: _Places
) -> tuple[str, str | None, SpaceRecord | None]:
    """(building, storey, space) of a component: our references, else its Space cell."""
    refs = {k: _text(ours.get(k)) for k in ("space_ref", "storey_ref", "building_ref")}
    if refs["building_ref"] in places.facilities.values():
        storeys = set(places.floors.values())
        storey = refs["storey_ref"] if refs["storey_ref"] in storeys else None
        return refs["building_ref"], storey, places.space_by_gid.get(refs["space_ref"] or "")
    for where in split_names(c.get("Space")):  # several spaces: the first known one
        space = places.space_by_name.get(where)
        if space is not None:
            return space.building_global_id, space.storey_global_id, space
        if where in places.floor_by_name:
            b, floor = places.floor_by_name[where]
            return b, floor, None
    return places.default_building, None, None


def _component(
    c: dict[str, Any],
    types: dict[str, TypeRecord],
    type_rows: dict[str, dict[str, Any]],
    attrs: Attributes,
    places: _Places,
    tax: Taxonomy,
) -> AssetRecord:
    name = str(c["Name"])
    gid = _ident(c.get("ExtIdentifier"), "component", name, c.get("Space"))
    type_name = _text(c.get("TypeName")) or ""
    extra = attrs.get(("Component", gid), attrs.get(("Component", name), {}))
    ours = extra.get(OURS, {})
    typ, trow = types.get(type_name), type_rows.get(type_name, {})
    ref = _text(ours.get("type_ref"))  # ours: the exact type, even when two share a name
    if ref is not None and ref in types:
        typ, trow = types[ref], type_rows[ref]
    building, storey, space = _locate(c, ours, places)
    psets = {k: {p: _plain(v) for p, v in d.items()} for k, d in extra.items() if k != OURS}
    cls = classify(
        _text(c.get("ExtObject")),
        type_class=typ.ifc_class if typ else None,
        name=(
            name,
            typ.name if typ else None,
            _text(trow.get("Category")),
            _text(trow.get("Description")),
        ),
        pset_names=psets.keys(),
        taxonomy=tax,
    )
    dwelling = space.dwelling_global_id if space else None
    serves = _text(ours.get("serves")) or cls.serves
    if serves is None and space is not None:
        if space.usage in ("technical", "common"):
            serves = "building"
        elif dwelling:
            serves = "dwelling"
    life = (
        parse_years(ours.get("expected_life_years"))
        or (typ.expected_life_years if typ else None)
        or cls.expected_life_years
    )
    return AssetRecord(
        global_id=gid,
        name=None if name == gid else name,
        ifc_class=_text(c.get("ExtObject")) or "IfcElement",
        category=_text(ours.get("category")) or cls.category,
        description=None if _text(c.get("Description")) == name else _text(c.get("Description")),
        predefined_type=_text(ours.get("predefined_type")),
        type_global_id=typ.global_id if typ else None,
        building_global_id=building,
        storey_global_id=storey,
        space_global_id=space.global_id if space else None,
        dwelling_global_id=dwelling,
        serves=serves,
        manufacturer=_text(ours.get("manufacturer")) or (typ.manufacturer if typ else None),
        model=_text(ours.get("model")) or (typ.model if typ else None),
        serial_number=_text(c.get("SerialNumber")),
        installed_on=parse_date(c.get("InstallationDate")),
        expected_life_years=life,
        warranty_until=parse_date(ours.get("warranty_until")),
        classification=_text(ours.get("classification")) or _text(trow.get("Category")),
        tag=_text(c.get("TagNumber")) or _text(c.get("AssetIdentifier")),
        properties=psets or None,
    )


def _systems(out: ModelRecords, rows: Rows, building: str) -> None:
    """Systems with their members; COBie 2.4 writes one row per system and component."""
    by_name: dict[str, list[str]] = defaultdict(list)
    for a in out.assets:
        by_name[a.name or a.global_id].append(a.global_id)
    known = {a.global_id for a in out.assets}
    systems: dict[str, SystemRecord] = {}
    for s in rows:
        name = str(s["Name"])
        gid = _ident(s.get("ExtIdentifier"), "system", name)
        rec = systems.get(gid)
        if rec is None:
            kind = (_text(s.get("Category")) or "")[:32] or None
            rec = systems[gid] = SystemRecord(gid, name, kind, building, [])
        ids = [i for i in split_names(s.get("ComponentIdentifiers")) if i in known]
        if not ids:
            ids = [g for n in split_names(s.get("ComponentNames")) for g in by_name.get(n, [])]
        rec.members.extend(i for i in ids if i not in rec.members)
    out.systems = list(systems.values())
