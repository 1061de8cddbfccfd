"""IFC → plain records. Relationship entities are walked once into dicts (faster than
``ifcopenshell.util.element`` per element), then every element is read once.

Examples
--------
>>> records = extract_ifc(Path("model.ifc"))            # doctest: +SKIP
>>> records.assets[0].category
'boiler'
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import ifcopenshell
import ifcopenshell.util.unit

from bim_ingest.errors import IngestError
from bim_ingest.psets import asset_facts, clean
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
from bim_ingest.spatial import (
    compound_angle,
    is_collective,
    is_dwelling_name,
    space_usage,
    storey_elevations,
    typology,
)
from bim_ingest.step_file import open_ifc, sha256_of
from bim_ingest.taxonomy import (
    COLLECTIVE_LIFE,
    Taxonomy,
    classify,
    is_asset_class,
    is_network,
    load_taxonomy,
)


def _attr(entity: Any, name: str) -> Any:
    try:
        return getattr(entity, name)
    except AttributeError:
        return None


def _predefined(entity: Any) -> str | None:
    value = _attr(entity, "PredefinedType")
    if value in (None, "NOTDEFINED", "USERDEFINED"):
        if value == "USERDEFINED":
            return clean(_attr(entity, "ObjectType") or _attr(entity, "ElementType")) or value
        return None
    return str(value)


def _props(pset: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for prop in pset.HasProperties or ():
        kind = prop.is_a()
        if kind == "IfcPropertySingleValue":
            val = prop.NominalValue
            out[prop.Name] = val.wrappedValue if val is not None else None
        elif kind == "IfcPropertyEnumeratedValue":
            vals = [v.wrappedValue for v in prop.EnumerationValues or ()]
            out[prop.Name] = vals[0] if len(vals) == 1 else vals
        elif kind == "IfcPropertyListValue":
            out[prop.Name] = [v.wrappedValue for v in prop.ListValues or ()]
        elif kind == "IfcPropertyBoundedValue":
            lo, hi = prop.LowerBoundValue, prop.UpperBoundValue
            out[prop.Name] = [lo.wrappedValue if lo else None, hi.wrappedValue if hi else None]
    return out


def _address(addr: Any) -> str | None:
    if addr is None or not addr.is_a("IfcPostalAddress"):
        return None
    parts = list(addr.AddressLines or ())
    parts += [" ".join(p for p in (addr.PostalCode, addr.Town) if p)]
    parts += [addr.Country]
    text = ", ".join(p for p in parts if p and clean(p))
    return text[:512] or None


def _application(f: ifcopenshell.file) -> str | None:
    for oh in f.by_type("IfcOwnerHistory")[:1]:
        app = oh.OwningApplication
        if app is not None:
            text = " ".join(p for p in (app.ApplicationFullName, app.Version) if p)
            if text.strip():
                return text[:255]
    try:
        system = f.header.file_name.originating_system
    except (AttributeError, RuntimeError):
        system = None
    return (system or None) and str(system)[:255]


def _json_safe(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, float) and value != value:  # NaN
        return None
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


_AREA_PROPS = (
    "surfacehabitable",
    "netfloorarea",
    "netarea",
    "grossfloorarea",
    "area",
    "surface",
    "wohnflache",
)
_TYPOLOGY_PROPS = ("typologie", "typology", "typologielogement", "dwellingtype")
_YEAR_PROPS = ("yearofconstruction", "constructionyear", "anneedeconstruction", "baujahr")


def _find_prop(psets: dict[str, dict[str, Any]], names: tuple[str, ...]) -> Any:
    """The first non-placeholder value of a property named one of ``names`` (normalised)."""
    for want in names:
        for props in psets.values():
            for key, value in props.items():
                if key.replace(" ", "").replace("_", "").lower() == want:
                    value = clean(value, key)
                    if value is not None:
                        return value
    return None


def _number(value: Any) -> float | None:
    try:
        return float(value) if value is not None and not isinstance(value, bool) else None
    except (TypeError, ValueError):
        return None


class _Index:
    """The relationships of one file, walked once."""

    def __init__(self, f: ifcopenshell.file) -> None:
        self.parent: dict[int, Any] = {}
        for rel in f.by_type("IfcRelAggregates"):
            for child in rel.RelatedObjects or ():
                self.parent[child.id()] = rel.RelatingObject
        for rel in f.by_type("IfcRelNests"):
            for child in rel.RelatedObjects or ():
                self.parent.setdefault(child.id(), rel.RelatingObject)
        self.container: dict[int, Any] = {}
        for rel in f.by_type("IfcRelContainedInSpatialStructure"):
            for el in rel.RelatedElements or ():
                self.container[el.id()] = rel.RelatingStructure
        self.type_of: dict[int, Any] = {}
        for rel in f.by_type("IfcRelDefinesByType"):
            for obj in rel.RelatedObjects or ():
                self.type_of[obj.id()] = rel.RelatingType
        self.psets_of: dict[int, list[Any]] = defaultdict(list)
        for rel in f.by_type("IfcRelDefinesByProperties"):
            pdef = rel.RelatingPropertyDefinition
            if pdef is None or not pdef.is_a("IfcPropertySet"):
                continue
            for obj in rel.RelatedObjects or ():
                self.psets_of[obj.id()].append(pdef)
        self.groups: dict[int, list[Any]] = defaultdict(list)  # group id -> members
        self.groups_of: dict[int, list[Any]] = defaultdict(list)  # member id -> groups
        for rel in f.by_type("IfcRelAssignsToGroup"):
            group = rel.RelatingGroup
            for obj in rel.RelatedObjects or ():
                self.groups[group.id()].append(obj)
                self.groups_of[obj.id()].append(group)
        self.classification: dict[int, list[str]] = defaultdict(list)
        for rel in f.by_type("IfcRelAssociatesClassification"):
            ref = rel.RelatingClassification
            code = _attr(ref, "Identification") or _attr(ref, "ItemReference")
            label = " ".join(str(p) for p in (code, _attr(ref, "Name")) if p)
            if not label:
                continue
            for obj in rel.RelatedObjects or ():
                self.classification[obj.id()].append(label)
        self.serviced: dict[int, Any] = {}
        for rel in f.by_type("IfcRelServicesBuildings"):
            for b in rel.RelatedBuildings or ():
                self.serviced.setdefault(rel.RelatingSystem.id(), b)
                break
        self._pset_cache: dict[int, dict[str, Any]] = {}
        self._chain_cache: dict[int, dict[str, Any]] = {}

    def pset_dict(self, pset: Any) -> dict[str, Any]:
        key = pset.id()
        cached = self._pset_cache.get(key)
        if cached is None:
            cached = self._pset_cache[key] = _props(pset)
        return cached

    def own_psets(self, entity: Any) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for pset in self.psets_of.get(entity.id(), ()):
            out.setdefault(pset.Name, {}).update(self.pset_dict(pset))
        return out

    def type_psets(self, typ: Any) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for pset in _attr(typ, "HasPropertySets") or ():
            if pset.is_a("IfcPropertySet"):
                out[pset.Name] = self.pset_dict(pset)
        return out

    def spatial_chain(self, entity: Any) -> dict[str, Any]:
        """The nearest space, storey, building and site above ``entity``."""
        node = self.container.get(entity.id()) or self.parent.get(entity.id())
        if node is None:
            return {}
        key = node.id()
        cached = self._chain_cache.get(key)
        if cached is None:
            cached = self._chain_cache[key] = self._walk_up(node)
        return cached

    def _walk_up(self, node: Any) -> dict[str, Any]:
        found: dict[str, Any] = {}
        seen = 0
        while node is not None and seen < 64:
            seen += 1
            if node.is_a("IfcSpace"):
                found.setdefault("space", node)
            elif node.is_a("IfcBuildingStorey"):
                found.setdefault("storey", node)
            elif node.is_a("IfcBuilding"):
                found.setdefault("building", node)
            elif node.is_a("IfcSite"):
                found.setdefault("site", node)
                break
            nid = node.id()
            node = self.parent.get(nid) or self.container.get(nid)
        return found


def extract_ifc(
    path: Path | str, *, taxonomy: Taxonomy | None = None, display_path: str | None = None
) -> ModelRecords:
    """Open one IFC / IFCZIP file and extract every record; refuse bad files with IngestError."""
    path = Path(path)
    taxonomy = taxonomy or load_taxonomy()
    f = open_ifc(path)
    try:
        return _extract(f, path, taxonomy, display_path or str(path))
    except IngestError:
        raise
    except (RuntimeError, ValueError, TypeError, AttributeError) as err:
        raise IngestError(path, reason=f"unreadable IFC content: {err}") from err


def _extract(f: ifcopenshell.file, path: Path, taxonomy: Taxonomy, shown: str) -> ModelRecords:
    schema = f.schema
    projects = f.by_type("IfcProject")
    project = projects[0] if projects else None
    source = SourceRecord(
        path=shown,
        sha256=sha256_of(path),
        schema=f.schema_identifier,
        application=_application(f),
        kind="ifc",
        project_global_id=project.GlobalId if project else None,
        project_name=(project.Name if project else None),
    )
    out = ModelRecords(source=source)
    idx = _Index(f)
    scale = ifcopenshell.util.unit.calculate_unit_scale(f) if project else 1.0

    # --- sites and buildings ---------------------------------------------------------------
    for site in f.by_type("IfcSite"):
        lat = compound_angle(_attr(site, "RefLatitude"))
        lon = compound_angle(_attr(site, "RefLongitude"))
        if lat == 0 and lon == 0:
            lat = lon = None
        out.sites.append(
            SiteRecord(
                site.GlobalId,
                site.Name or site.LongName,
                _address(_attr(site, "SiteAddress")),
                lat,
                lon,
            )
        )
    site_lookup = {s.global_id: s for s in out.sites}
    buildings = f.by_type("IfcBuilding")
    for b in buildings:
        chain = idx.spatial_chain(b)
        site = chain.get("site")
        srec = site_lookup.get(site.GlobalId) if site is not None else None
        out.buildings.append(
            BuildingRecord(
                b.GlobalId,
                b.Name or b.LongName,
                site.GlobalId if site is not None else None,
                _address(_attr(b, "BuildingAddress")) or (srec.address if srec else None),
                srec.latitude if srec else None,
                srec.longitude if srec else None,
            )
        )
        year = _number(_find_prop(idx.own_psets(b), _YEAR_PROPS))
        out.buildings[-1].year_built = int(year) if year and 1000 < year < 2200 else None
    fallback_building: str | None = None

    def building_of(chain: dict[str, Any]) -> str:
        nonlocal fallback_building
        b = chain.get("building")
        if b is not None:
            return b.GlobalId
        if len(buildings) == 1:
            return buildings[0].GlobalId
        if fallback_building is None:
            # no IfcBuilding above this element: one building named after the project/file
            base = project.GlobalId if project else source.sha256[:22]
            fallback_building = f"{base}:building"
            site = chain.get("site")
            out.buildings.append(
                BuildingRecord(
                    fallback_building,
                    (project.Name if project else None) or path.stem,
                    site.GlobalId if site is not None else None,
                )
            )
        return fallback_building

    # --- storeys ----------------------------------------------------------------------------
    storeys = f.by_type("IfcBuildingStorey")
    by_building: dict[str, list[Any]] = defaultdict(list)
    for s in storeys:
        by_building[building_of(idx.spatial_chain(s))].append(s)
    for bgid, items in by_building.items():
        elevs = storey_elevations([_attr(s, "Elevation") for s in items], scale)
        for s, elev in zip(items, elevs, strict=True):
            out.storeys.append(StoreyRecord(s.GlobalId, bgid, s.Name or s.LongName, elev))

    # --- dwellings (zones) and spaces --------------------------------------------------------
    space_dwelling: dict[str, str] = {}
    for zone in f.by_type("IfcZone"):
        members = [m for m in idx.groups.get(zone.id(), ()) if m.is_a("IfcSpace")]
        names = (zone.Name, _attr(zone, "LongName"), zone.ObjectType, zone.Description)
        if not members or not is_dwelling_name(*names):
            continue
        chain = idx.spatial_chain(members[0])
        st = chain.get("storey")
        zone_psets = idx.own_psets(zone)
        area = _number(_find_prop(zone_psets, _AREA_PROPS))
        if area is None:
            areas = [_number(_find_prop(idx.own_psets(m), _AREA_PROPS)) for m in members]
            area = sum(a for a in areas if a) or None
        out.dwellings.append(
            DwellingRecord(
                zone.GlobalId,
                building_of(chain),
                zone.Name or _attr(zone, "LongName"),
                st.GlobalId if st is not None else None,
                typology(*names) or typology(str(_find_prop(zone_psets, _TYPOLOGY_PROPS) or "")),
                area,
            )
        )
        for m in members:
            space_dwelling.setdefault(m.GlobalId, zone.GlobalId)
    dwelling_ids = {d.global_id for d in out.dwellings}
    space_usage_of: dict[str, str] = {}
    for sp in f.by_type("IfcSpace"):
        chain = idx.spatial_chain(sp)
        bgid = building_of(chain)
        st = chain.get("storey")
        names = (sp.Name, sp.LongName, sp.ObjectType)
        dwelling = space_dwelling.get(sp.GlobalId)
        usage = space_usage(*names)
        if (
            dwelling is None
            and is_dwelling_name(*names)
            and not re.search(
                r"(s[ée]jour|chambre|cuisine|room|zimmer)", " ".join(n or "" for n in names), re.I
            )
            and sp.GlobalId not in dwelling_ids
        ):
            # a space that is itself a dwelling
            sp_psets = idx.own_psets(sp)
            out.dwellings.append(
                DwellingRecord(
                    sp.GlobalId,
                    bgid,
                    sp.LongName or sp.Name,
                    st.GlobalId if st is not None else None,
                    typology(*names) or typology(str(_find_prop(sp_psets, _TYPOLOGY_PROPS) or "")),
                    _number(_find_prop(sp_psets, _AREA_PROPS)),
                )
            )
            dwelling = sp.GlobalId
        if dwelling is not None:
            usage = "dwelling"
        space_usage_of[sp.GlobalId] = usage
        out.spaces.append(
            SpaceRecord(
                sp.GlobalId,
                bgid,
                sp.Name,
                sp.LongName,
                st.GlobalId if st is not None else None,
                dwelling,
                usage,
                _number(_find_prop(idx.own_psets(sp), _AREA_PROPS)),
            )
        )

    # --- types --------------------------------------------------------------------------------
    type_records: dict[int, TypeRecord] = {}

    def type_record(typ: Any) -> TypeRecord:
        rec = type_records.get(typ.id())
        if rec is None:
            psets = idx.type_psets(typ)
            facts = asset_facts(psets)
            cls = classify(
                None,
                predefined_type=_predefined(typ),
                type_class=typ.is_a(),
                name=(typ.Name, _attr(typ, "ElementType")),
                taxonomy=taxonomy,
                schema=schema,
            )
            rec = type_records[typ.id()] = TypeRecord(
                typ.GlobalId,
                typ.Name,
                typ.is_a(),
                _predefined(typ),
                cls.category if cls.rule is not None else None,
                facts.manufacturer,
                facts.model,
                facts.expected_life_years or cls.expected_life_years,
                {k: {p: _json_safe(v) for p, v in d.items() if p != "id"} for k, d in psets.items()}
                or None,
            )
        return rec

    # --- elements -----------------------------------------------------------------------------
    asset_cache: dict[str, bool] = {}
    net_cache: dict[str, bool] = {}
    tags: Counter[str] = Counter()
    assets: list[AssetRecord] = []
    for el in f.by_type("IfcElement"):
        cls_name = el.is_a()
        net = net_cache.get(cls_name)
        if net is None:
            net = net_cache[cls_name] = is_network(cls_name, schema)
            asset_cache[cls_name] = is_asset_class(cls_name, schema)
        chain = idx.spatial_chain(el)
        if net:
            out.network[(building_of(chain), cls_name)] += 1
            continue
        if not asset_cache[cls_name]:
            if cls_name == "IfcCovering" and _attr(el, "PredefinedType") == "ROOFING":
                pass
            else:
                out.skipped[cls_name] += 1
                continue
        typ = idx.type_of.get(el.id())
        trec = type_record(typ) if typ is not None else None
        own = idx.own_psets(el)
        type_psets = idx.type_psets(typ) if typ is not None else {}
        psets = {k: dict(v) for k, v in type_psets.items()}  # merged: instance wins
        for k, v in own.items():
            psets.setdefault(k, {}).update(v)
        predefined = _predefined(el) or (trec.predefined_type if trec else None)
        c = classify(
            cls_name,
            predefined_type=predefined,
            type_class=typ.is_a() if typ is not None else None,
            name=(
                el.Name,
                _attr(el, "ObjectType"),
                typ.Name if typ is not None else None,
                _attr(typ, "ElementType") if typ is not None else None,
            ),
            pset_names=psets.keys(),
            taxonomy=taxonomy,
            schema=schema,
        )
        facts = asset_facts(own, type_psets)
        space = chain.get("space")
        storey = chain.get("storey")
        if storey is None and space is not None:
            storey = idx.spatial_chain(space).get("storey")
        space_gid = space.GlobalId if space is not None else None
        dwelling_gid = space_dwelling.get(space_gid) if space_gid else None
        if dwelling_gid is None and space_gid in dwelling_ids:
            dwelling_gid = space_gid
        serves = c.serves
        if serves is None:
            usage = space_usage_of.get(space_gid or "")
            if is_collective(el.Name, _attr(el, "ObjectType")) or usage in ("technical", "common"):
                serves = "building"
            elif dwelling_gid is not None:
                serves = "dwelling"
        life = facts.expected_life_years
        if life is None:
            life = c.expected_life_years
            if serves == "building" and c.category in COLLECTIVE_LIFE:
                life = COLLECTIVE_LIFE[c.category]
        labels = idx.classification.get(el.id()) or (
            idx.classification.get(typ.id()) if typ is not None else None
        )
        if facts.tag:
            tags[facts.tag] += 1
        assets.append(
            AssetRecord(
                global_id=el.GlobalId,
                name=(el.Name or "")[:255] or None,
                ifc_class=cls_name,
                category=c.category,
                description=(el.Description or "")[:1024] or None,
                predefined_type=(predefined or "")[:64] or None,
                type_global_id=trec.global_id if trec else None,
                building_global_id=building_of(chain),
                storey_global_id=storey.GlobalId if storey is not None else None,
                space_global_id=space_gid,
                dwelling_global_id=dwelling_gid,
                serves=serves,
                manufacturer=facts.manufacturer or (trec.manufacturer if trec else None),
                model=facts.model or (trec.model if trec else None),
                serial_number=facts.serial_number,
                installed_on=facts.installed_on,
                expected_life_years=life,
                warranty_until=facts.warranty_until,
                classification="; ".join(dict.fromkeys(labels))[:255] if labels else None,
                tag=facts.tag,
                properties={
                    k: {p: _json_safe(v) for p, v in d.items() if p != "id"}
                    for k, d in psets.items()
                }
                or None,
            )
        )
    for rec in assets:  # a tag shared by several assets identifies none of them
        if rec.tag and tags[rec.tag] > 1:
            rec.tag = None
    out.assets = assets
    out.types = list(type_records.values())

    # --- systems -------------------------------------------------------------------------------
    asset_building = {a.global_id: a.building_global_id for a in assets}
    for system in f.by_type("IfcSystem"):
        if system.is_a("IfcZone") or system.is_a("IfcStructuralAnalysisModel"):
            continue
        members = [
            m.GlobalId for m in idx.groups.get(system.id(), ()) if m.GlobalId in asset_building
        ]
        serviced = idx.serviced.get(system.id())
        bgid = serviced.GlobalId if serviced is not None else None
        if bgid is None and members:
            bgid = Counter(asset_building[m] for m in members).most_common(1)[0][0]
        kind = _predefined(system) or clean(system.ObjectType)
        out.systems.append(
            SystemRecord(
                system.GlobalId, system.Name, (kind or "")[:32].lower() or None, bgid, members
            )
        )
    return out
