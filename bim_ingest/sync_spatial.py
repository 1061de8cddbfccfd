"""Provenance and spatial records → registry: source file, sites, buildings, storeys, dwellings,
spaces.

* Buildings merge on GlobalId, else on same site name + building name (discipline models);
  storeys of a merged building merge on name.
* A storey, dwelling or space whose GlobalId is registered in *another building* refuses the
  file (GlobalId conflict).

Examples
--------
>>> source = sync_source(session, records.source)                  # doctest: +SKIP
>>> ids = sync_spatial(session, records, report)                   # doctest: +SKIP
>>> ids.building["2uwCrEgJrz2XtmGXEs9pi4"]                         # doctest: +SKIP
1
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from asset_model.models import Building, Dwelling, Site, SourceFile, Space, Storey
from bim_ingest.bulk import check_conflicts, existing, upsert
from bim_ingest.records import ModelRecords, SourceRecord
from bim_ingest.report import IngestReport


@dataclass
class SpatialIds:
    """Registry ids of one file's spatial records, by GlobalId."""

    building: dict[str, int] = field(default_factory=dict)
    storey: dict[str, int] = field(default_factory=dict)
    dwelling: dict[str, int] = field(default_factory=dict)
    space: dict[str, int] = field(default_factory=dict)
    building_gid_of: dict[int, str] = field(default_factory=dict)  # id -> GlobalId, for errors

    def remember_buildings(self, session: Session, before: dict[str, dict[str, Any]]) -> None:
        """Learn the GlobalIds of the buildings registered rows sit in (for conflict errors)."""
        ids = list({v["building_id"] for v in before.values() if v.get("building_id")})
        if ids:
            query = select(Building.id, Building.global_id).where(Building.id.in_(ids))
            self.building_gid_of.update(session.execute(query).all())


def sync_source(session: Session, src: SourceRecord) -> SourceFile:
    """The SourceFile row of this file (same path and content: ingested again)."""
    source = session.scalar(
        select(SourceFile).where(SourceFile.path == src.path, SourceFile.sha256 == src.sha256)
    )
    if source is None:
        source = SourceFile(
            path=src.path,
            sha256=src.sha256,
            schema=src.schema,
            application=src.application,
            kind=src.kind,
        )
        session.add(source)
    else:
        source.ingested_at = dt.datetime.now(dt.UTC)
    session.flush()
    return source


def _buildings(session: Session, records: ModelRecords, ids: SpatialIds) -> None:
    site_rows = [dataclasses.asdict(s) for s in records.sites]
    site_ids, *_ = upsert(session, Site, site_rows, ("name", "address", "latitude", "longitude"))
    site_names = {s.global_id: s.name for s in records.sites}
    rows = []
    for b in records.buildings:
        known = session.scalar(select(Building.id).where(Building.global_id == b.global_id))
        if known is None and b.name and b.site_global_id and site_names.get(b.site_global_id):
            known = session.scalar(
                select(Building.id)
                .join(Site, Building.site_id == Site.id)
                .where(Building.name == b.name, Site.name == site_names[b.site_global_id])
            )
            if known is not None:  # another discipline's model of the same building
                ids.building[b.global_id] = known
                continue
        rows.append(
            {
                "global_id": b.global_id,
                "name": b.name,
                "address": b.address,
                "latitude": b.latitude,
                "longitude": b.longitude,
                "site_id": site_ids.get(b.site_global_id or ""),
                "year_built": b.year_built,
            }
        )
    cols = ("name", "address", "latitude", "longitude", "site_id", "year_built")
    building_ids, *_ = upsert(session, Building, rows, cols)
    ids.building.update(building_ids)
    query = select(Building.id, Building.global_id).where(
        Building.id.in_(list(ids.building.values()) or [-1])
    )
    ids.building_gid_of = dict(session.execute(query).all())


def _storeys(session: Session, path: str, records: ModelRecords, ids: SpatialIds) -> None:
    rows = [
        {
            "global_id": s.global_id,
            "name": s.name,
            "elevation_m": s.elevation_m,
            "building_id": ids.building[s.building_global_id],
        }
        for s in records.storeys
    ]
    before = existing(session, Storey, [r["global_id"] for r in rows], ("building_id",))
    ids.remember_buildings(session, before)
    check_conflicts(path, "IfcBuildingStorey", before, rows, ids.building_gid_of)
    unknown = [r for r in rows if r["global_id"] not in before and r["name"]]
    if unknown:
        # a discipline model's storey with another GlobalId but the same name: one storey
        building_ids = list({r["building_id"] for r in unknown})
        named: dict[tuple[int, str], int] = {}
        query = (
            select(Storey.building_id, Storey.name, Storey.id)
            .where(Storey.building_id.in_(building_ids))
            .order_by(Storey.id)
        )
        for building_id, name, storey_id in session.execute(query):
            named.setdefault((building_id, name), storey_id)
        for r in unknown:
            same = named.get((r["building_id"], r["name"]))
            if same is not None:
                ids.storey[r["global_id"]] = same
    rows = [r for r in rows if r["global_id"] not in ids.storey]
    storey_ids, *_ = upsert(session, Storey, rows, ("name", "elevation_m", "building_id"))
    ids.storey.update(storey_ids)


def sync_spatial(session: Session, records: ModelRecords, report: IngestReport) -> SpatialIds:
    """Upsert sites, buildings, storeys, dwellings and spaces; refuse GlobalId conflicts."""
    path = records.source.path
    ids = SpatialIds()
    _buildings(session, records, ids)
    report.buildings = len(set(ids.building.values()))
    _storeys(session, path, records, ids)

    drows = [
        {
            "global_id": d.global_id,
            "name": d.name,
            "typology": d.typology,
            "area_m2": d.area_m2,
            "building_id": ids.building[d.building_global_id],
            "storey_id": ids.storey.get(d.storey_global_id or ""),
        }
        for d in records.dwellings
    ]
    before = existing(session, Dwelling, [r["global_id"] for r in drows], ("building_id",))
    ids.remember_buildings(session, before)
    check_conflicts(path, "dwelling", before, drows, ids.building_gid_of)
    cols = ("name", "typology", "area_m2", "building_id", "storey_id")
    ids.dwelling, *_ = upsert(session, Dwelling, drows, cols)

    sprows = [
        {
            "global_id": s.global_id,
            "name": s.name,
            "long_name": s.long_name,
            "usage": s.usage,
            "area_m2": s.area_m2,
            "building_id": ids.building[s.building_global_id],
            "storey_id": ids.storey.get(s.storey_global_id or ""),
            "dwelling_id": ids.dwelling.get(s.dwelling_global_id or ""),
        }
        for s in records.spaces
    ]
    before = existing(session, Space, [r["global_id"] for r in sprows], ("building_id",))
    ids.remember_buildings(session, before)
    check_conflicts(path, "IfcSpace", before, sprows, ids.building_gid_of)
    cols = ("name", "long_name", "usage", "area_m2", "building_id", "storey_id", "dwelling_id")
    ids.space, *_ = upsert(session, Space, sprows, cols)
    report.storeys, report.dwellings, report.spaces = len(ids.storey), len(drows), len(sprows)
    return ids
