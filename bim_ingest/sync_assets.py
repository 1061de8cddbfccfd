"""Types and equipment records → registry, and the decommission rule for earlier revisions.

* Assets upsert by GlobalId; the landlord's register (``Asset.overrides``) wins over the model.
* ``changed`` counts assets whose own fields changed; a reactivated asset counts as changed.
* A previous file is an earlier revision when it has the same path, or when at least half of its
  still-active assets reappear here; its active assets this file lacks are decommissioned (an
  other-path revision only revises the disciplines it carries: envelope vs equipment).

Examples
--------
>>> type_ids = sync_types(session, records, report)                       # doctest: +SKIP
>>> written = sync_assets(session, records, spatial, type_ids, source, report)  # doctest: +SKIP
>>> decommission_missing(session, records, spatial, source, written, report)  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from asset_model.models import Asset, AssetType, NetworkCount, SourceFile
from asset_model.types import AssetStatus
from bim_ingest.bulk import check_conflicts, chunks, existing, fit, same, upsert
from bim_ingest.records import ModelRecords
from bim_ingest.report import IngestReport
from bim_ingest.sync_spatial import SpatialIds

# building-envelope categories: architecture models carry these, MEP models the rest
ENVELOPE = frozenset({"window", "door", "roof"})

ASSET_FIELDS = (
    "name",
    "description",
    "ifc_class",
    "predefined_type",
    "category",
    "serves",
    "building_id",
    "storey_id",
    "space_id",
    "dwelling_id",
    "asset_type_id",
    "manufacturer",
    "model",
    "serial_number",
    "installed_on",
    "expected_life_years",
    "warranty_until",
    "classification",
    "properties",
)
_WRITTEN = (*ASSET_FIELDS, "status", "decommissioned_at", "source_file_id")


@dataclass
class AssetsWritten:
    """What :func:`sync_assets` wrote: ids by GlobalId, the rows registered before, categories."""

    ids: dict[str, int]
    before: dict[str, dict[str, Any]]
    categories: set[str]


def _overridden(overrides: dict[str, Any]) -> dict[str, Any]:
    """``Asset.overrides`` (JSON) as column values of the asset rows written here."""
    out: dict[str, Any] = {}
    for name, value in overrides.items():
        if name == "installed_on" and value is not None:
            out[name] = dt.date.fromisoformat(str(value)[:10])
        elif name in ASSET_FIELDS:
            out[name] = value
    return out


def sync_types(session: Session, records: ModelRecords, report: IngestReport) -> dict[str, int]:
    """Upsert type objects by GlobalId, else by name + class + manufacturer + model."""
    type_ids: dict[str, int] = {}
    for t in records.types:
        fitted = {
            "name": t.name,
            "ifc_class": t.ifc_class,
            "predefined_type": t.predefined_type,
            "manufacturer": t.manufacturer,
            "model": t.model,
        }
        fit(AssetType, [fitted])
        row = session.scalar(select(AssetType).where(AssetType.global_id == t.global_id))
        if row is None:
            row = session.scalar(
                select(AssetType).where(
                    AssetType.name == fitted["name"],
                    AssetType.ifc_class == fitted["ifc_class"],
                    AssetType.manufacturer == fitted["manufacturer"],
                    AssetType.model == fitted["model"],
                )
            )
        if row is None:
            row = AssetType(global_id=t.global_id)
            session.add(row)
        row.name, row.ifc_class = fitted["name"], fitted["ifc_class"]
        row.predefined_type = fitted["predefined_type"]
        row.category, row.manufacturer, row.model = (
            t.category,
            fitted["manufacturer"],
            fitted["model"],
        )
        row.expected_life_years, row.properties = t.expected_life_years, t.properties
        session.flush()
        type_ids[t.global_id] = row.id
    report.types = len(type_ids)
    return type_ids


def sync_assets(
    session: Session,
    records: ModelRecords,
    spatial: SpatialIds,
    type_ids: dict[str, int],
    source: SourceFile,
    report: IngestReport,
) -> AssetsWritten:
    """Upsert the equipment (one file's assets) and count added / changed / unchanged."""
    building, storey, space = spatial.building, spatial.storey, spatial.space
    dwelling = spatial.dwelling
    active = AssetStatus.ACTIVE.value
    arows = [
        {
            "global_id": a.global_id,
            "name": a.name,
            "description": a.description,
            "ifc_class": a.ifc_class,
            "predefined_type": a.predefined_type,
            "category": a.category,
            "serves": a.serves,
            "building_id": building.get(a.building_global_id or ""),
            "storey_id": storey.get(a.storey_global_id or ""),
            "space_id": space.get(a.space_global_id or ""),
            "dwelling_id": dwelling.get(a.dwelling_global_id or ""),
            "asset_type_id": type_ids.get(a.type_global_id or ""),
            "manufacturer": a.manufacturer,
            "model": a.model,
            "serial_number": a.serial_number,
            "installed_on": a.installed_on,
            "expected_life_years": a.expected_life_years,
            "warranty_until": a.warranty_until,
            "classification": a.classification,
            "properties": a.properties,
            "source_file_id": source.id,
            "status": active,
            "decommissioned_at": None,
        }
        for a in records.assets
    ]
    before = existing(session, Asset, [r["global_id"] for r in arows], (*_WRITTEN, "overrides"))
    for r in arows:  # the landlord's register wins over the model (import assets)
        old = before.get(r["global_id"])
        if old is not None and old["overrides"]:
            r.update(_overridden(old["overrides"]))
    spatial.remember_buildings(session, before)
    check_conflicts(records.source.path, "element", before, arows, spatial.building_gid_of)
    for r in arows:  # status/provenance moves are not "changes" of the asset itself
        old = before.get(r["global_id"])
        if old is not None and old["status"] != AssetStatus.ACTIVE:
            report.reactivated += 1
    ids, added, changed, _ = upsert(session, Asset, arows, _WRITTEN, before=before)
    by_gid = {r["global_id"]: r for r in arows}
    real_changes = {
        g for g in changed if any(not same(before[g][c], by_gid[g][c]) for c in ASSET_FIELDS)
    }
    report.added, report.changed = len(added), len(real_changes) + report.reactivated
    report.unchanged = len(arows) - report.added - report.changed
    _assign_tags(session, records, ids)
    return AssetsWritten(ids, before, {str(r["category"]) for r in arows})


def _assign_tags(session: Session, records: ModelRecords, ids: dict[str, int]) -> None:
    """Set ``asset_tag`` from TagNumber/AssetIdentifier when no other asset already holds it."""
    tagged = {a.tag: a.global_id for a in records.assets if a.tag}
    if not tagged:
        return
    taken: dict[str, int] = {}
    tags = list(tagged)
    for part in chunks(tags):
        taken.update(
            session.execute(
                select(Asset.asset_tag, Asset.id).where(Asset.asset_tag.in_(part))
            ).all()
        )
    rows = [
        {"id": ids[g], "asset_tag": t}
        for t, g in tagged.items()
        if g in ids and taken.get(t, ids[g]) == ids[g]
    ]
    for part in chunks(rows, 500):
        session.execute(update(Asset), list(part))


def decommission_missing(
    session: Session,
    records: ModelRecords,
    spatial: SpatialIds,
    source: SourceFile,
    written: AssetsWritten,
    report: IngestReport,
) -> None:
    """Decommission what earlier revisions of this file had and this one lacks."""
    path = records.source.path
    previous = session.execute(
        select(Asset.source_file_id, func.count())
        .where(
            Asset.status == AssetStatus.ACTIVE,
            Asset.source_file_id != source.id,
            Asset.source_file_id.is_not(None),
            Asset.building_id.in_(list(set(spatial.building.values())) or [-1]),
        )
        .group_by(Asset.source_file_id)
    ).all()
    before, categories = written.before, written.categories
    moved = Counter(before[g]["source_file_id"] for g in before)
    covered = {
        "envelope": bool(categories & ENVELOPE),
        "equipment": bool(categories - ENVELOPE),
    }
    now = dt.datetime.now(dt.UTC)
    for sf_id, remaining in previous:
        sf_path = session.scalar(select(SourceFile.path).where(SourceFile.id == sf_id))
        total = remaining + moved.get(sf_id, 0)
        if sf_path == path or moved.get(sf_id, 0) >= 0.5 * total:
            stale_q = select(Asset.id).where(
                Asset.source_file_id == sf_id, Asset.status == AssetStatus.ACTIVE
            )
            if sf_path != path:
                # another file of the same model: it only revises the disciplines it carries
                # (an architecture-only export does not remove the boilers of the MEP model)
                if not covered["envelope"]:
                    stale_q = stale_q.where(Asset.category.not_in(ENVELOPE))
                if not covered["equipment"]:
                    stale_q = stale_q.where(Asset.category.in_(ENVELOPE))
            stale = session.scalars(stale_q).all()
            for part in chunks(list(stale)):
                session.execute(
                    update(Asset)
                    .where(Asset.id.in_(part))
                    .values(status=AssetStatus.DECOMMISSIONED, decommissioned_at=now)
                )
            report.removed += len(stale)
            report.decommissioned += len(stale)
            session.execute(delete(NetworkCount).where(NetworkCount.source_file_id == sf_id))
