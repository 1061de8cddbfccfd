"""IFC spatial structure → records: sites, buildings, storeys, dwellings (zones) and spaces.

The returned :class:`SpatialLookup` tells the element extraction which building, dwelling and
space usage each container stands for.

Examples
--------
>>> index = RelationIndex(ifcopenshell.open("model.ifc"))          # doctest: +SKIP
>>> lookup = extract_spatial(index, out, project, Path("model.ifc"))  # doctest: +SKIP
>>> [s.usage for s in out.spaces][:3]                               # doctest: +SKIP
['dwelling', 'technical', 'common']
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ifcopenshell.util.unit

from bim_ingest.ifc_index import RelationIndex, attr
from bim_ingest.psets import clean
from bim_ingest.records import (
    BuildingRecord,
    DwellingRecord,
    ModelRecords,
    SiteRecord,
    SpaceRecord,
    StoreyRecord,
)
from bim_ingest.spatial import (
    compound_angle,
    is_dwelling_name,
    space_usage,
    storey_elevations,
    typology,
)

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
_ROOM_RE = re.compile(r"(s[ée]jour|chambre|cuisine|room|zimmer)", re.I)


def find_prop(psets: dict[str, dict[str, Any]], names: tuple[str, ...]) -> Any:
    """The first non-placeholder value of a property named one of ``names`` (normalised)."""
    for want in names:
        for props in psets.values():
            for key, value in props.items():
                if key.replace(" ", "").replace("_", "").lower() == want:
                    value = clean(value, key)
                    if value is not None:
                        return value
    return None


def number(value: Any) -> float | None:
    try:
        return float(value) if value is not None and not isinstance(value, bool) else None
    except (TypeError, ValueError):
        return None


def _address(addr: Any) -> str | None:
    if addr is None or not addr.is_a("IfcPostalAddress"):
        return None
    parts = list(attr(addr, "AddressLines") or ())
    parts += [" ".join(p for p in (attr(addr, "PostalCode"), attr(addr, "Town")) if p)]
    parts += [attr(addr, "Country")]
    text = ", ".join(p for p in parts if p and clean(p))
    return text[:512] or None


@dataclass
class SpatialLookup:
    """What element extraction needs to know of the spatial structure of one file."""

    out: ModelRecords
    buildings: list[Any]
    project: Any
    path: Path
    space_dwelling: dict[str, str] = field(default_factory=dict)  # space GlobalId -> dwelling
    dwelling_ids: set[str] = field(default_factory=set)  # the zones that are dwellings
    space_usage_of: dict[str, str] = field(default_factory=dict)
    fallback_building: str | None = None

    def building_of(self, chain: dict[str, Any]) -> str:
        """GlobalId of the building above a spatial chain (one is made up when there is none)."""
        b = chain.get("building")
        if b is not None:
            return attr(b, "GlobalId")
        if len(self.buildings) == 1:
            return attr(self.buildings[0], "GlobalId")
        if self.fallback_building is None:
            # no IfcBuilding above this element: one building named after the project/file
            project = self.project
            base = attr(project, "GlobalId") if project else self.out.source.sha256[:22]
            self.fallback_building = f"{base}:building"
            site = chain.get("site")
            self.out.buildings.append(
                BuildingRecord(
                    self.fallback_building,
                    (attr(project, "Name") if project else None) or self.path.stem,
                    attr(site, "GlobalId") if site is not None else None,
                )
            )
        return self.fallback_building

    def dwelling_of_space(self, space_gid: str | None) -> str | None:
        if not space_gid:
            return None
        dwelling = self.space_dwelling.get(space_gid)
        if dwelling is None and space_gid in self.dwelling_ids:
            return space_gid
        return dwelling


def extract_spatial(
    index: RelationIndex, out: ModelRecords, project: Any, path: Path
) -> SpatialLookup:
    """Fill ``out`` with sites, buildings, storeys, dwellings and spaces."""
    f = index.file
    lookup = SpatialLookup(out, f.by_type("IfcBuilding"), project, path)
    _sites_and_buildings(index, out, lookup.buildings)
    _storeys(index, out, lookup, project)
    _zones(index, out, lookup)
    _spaces(index, out, lookup)
    return lookup


def _sites_and_buildings(index: RelationIndex, out: ModelRecords, buildings: list[Any]) -> None:
    for site in index.file.by_type("IfcSite"):
        lat = compound_angle(attr(site, "RefLatitude"))
        lon = compound_angle(attr(site, "RefLongitude"))
        if lat == 0 and lon == 0:
            lat = lon = None
        out.sites.append(
            SiteRecord(
                attr(site, "GlobalId"),
                attr(site, "Name") or attr(site, "LongName") or None,
                _address(attr(site, "SiteAddress")),
                lat,
                lon,
            )
        )
    site_lookup = {s.global_id: s for s in out.sites}
    for b in buildings:
        site = index.spatial_chain(b).get("site")
        srec = site_lookup.get(attr(site, "GlobalId")) if site is not None else None
        year = number(find_prop(index.own_psets(b), _YEAR_PROPS))
        out.buildings.append(
            BuildingRecord(
                attr(b, "GlobalId"),
                attr(b, "Name") or attr(b, "LongName") or None,
                attr(site, "GlobalId") if site is not None else None,
                _address(attr(b, "BuildingAddress")) or (srec.address if srec else None),
                srec.latitude if srec else None,
                srec.longitude if srec else None,
                int(year) if year and 1000 < year < 2200 else None,
            )
        )


def _storeys(index: RelationIndex, out: ModelRecords, lookup: SpatialLookup, project: Any) -> None:
    scale = ifcopenshell.util.unit.calculate_unit_scale(index.file) if project else 1.0
    by_building: dict[str, list[Any]] = defaultdict(list)
    for s in index.file.by_type("IfcBuildingStorey"):
        by_building[lookup.building_of(index.spatial_chain(s))].append(s)
    for bgid, items in by_building.items():
        elevs = storey_elevations([attr(s, "Elevation") for s in items], scale)
        for s, elev in zip(items, elevs, strict=True):
            name = attr(s, "Name") or attr(s, "LongName")
            out.storeys.append(StoreyRecord(attr(s, "GlobalId"), bgid, name, elev))


def _zones(index: RelationIndex, out: ModelRecords, lookup: SpatialLookup) -> None:
    """IfcZones that group spaces and whose names say dwelling are dwellings."""
    for zone in index.file.by_type("IfcZone"):
        members = [m for m in index.groups.get(zone.id(), ()) if m.is_a("IfcSpace")]
        zone_name, long_name = attr(zone, "Name"), attr(zone, "LongName")
        names = (zone_name, long_name, attr(zone, "ObjectType"), attr(zone, "Description"))
        if not members or not is_dwelling_name(*names):
            continue
        chain = index.spatial_chain(members[0])
        st = chain.get("storey")
        zone_psets = index.own_psets(zone)
        area = number(find_prop(zone_psets, _AREA_PROPS))
        if area is None:
            areas = [number(find_prop(index.own_psets(m), _AREA_PROPS)) for m in members]
            area = sum(a for a in areas if a) or None
        zone_gid = attr(zone, "GlobalId")
        out.dwellings.append(
            DwellingRecord(
                zone_gid,
                lookup.building_of(chain),
                zone_name or long_name,
                attr(st, "GlobalId") if st is not None else None,
                typology(*names) or typology(str(find_prop(zone_psets, _TYPOLOGY_PROPS) or "")),
                area,
            )
        )
        for m in members:
            lookup.space_dwelling.setdefault(attr(m, "GlobalId"), zone_gid)
    lookup.dwelling_ids.update(d.global_id for d in out.dwellings)


def _spaces(index: RelationIndex, out: ModelRecords, lookup: SpatialLookup) -> None:
    """Spaces with their usage; a space whose name says dwelling is its own dwelling."""
    for sp in index.file.by_type("IfcSpace"):
        chain = index.spatial_chain(sp)
        bgid = lookup.building_of(chain)
        st = chain.get("storey")
        st_gid = attr(st, "GlobalId") if st is not None else None
        gid, name, long_name = attr(sp, "GlobalId"), attr(sp, "Name"), attr(sp, "LongName")
        names = (name, long_name, attr(sp, "ObjectType"))
        dwelling = lookup.space_dwelling.get(gid)
        usage = space_usage(*names)
        sp_psets = index.own_psets(sp)
        if (
            dwelling is None
            and is_dwelling_name(*names)
            and not _ROOM_RE.search(" ".join(n or "" for n in names))
            and gid not in lookup.dwelling_ids
        ):
            out.dwellings.append(
                DwellingRecord(
                    gid,
                    bgid,
                    long_name or name,
                    st_gid,
                    typology(*names) or typology(str(find_prop(sp_psets, _TYPOLOGY_PROPS) or "")),
                    number(find_prop(sp_psets, _AREA_PROPS)),
                )
            )
            dwelling = gid
            lookup.space_dwelling[gid] = gid  # its equipment serves this dwelling
        if dwelling is not None:
            usage = "dwelling"
        lookup.space_usage_of[gid] = usage
        area = number(find_prop(sp_psets, _AREA_PROPS))
        out.spaces.append(SpaceRecord(gid, bgid, name, long_name, st_gid, dwelling, usage, area))
