"""Records → registry: upsert by GlobalId, report added / changed / removed, never delete.

Rules (see docs/bim_ingest.md):

* Buildings merge on GlobalId, else on same site name + building name (discipline models).
* An incoming asset, space, storey or dwelling whose GlobalId is already registered in a
  *different building* is a GlobalId conflict: the whole file is refused.
* A previous file is an earlier revision of this one when it has the same path, or when at
  least half of its still-active assets reappear in this file (same project re-exported under
  another name). Its active assets missing from this file are decommissioned (status +
  ``decommissioned_at``), never deleted; one that reappears later is reactivated.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from asset_model import attach_pending
from asset_model.models import (
    Asset,
    AssetType,
    Building,
    Dwelling,
    NetworkCount,
    Site,
    SourceFile,
    Space,
    Storey,
    System,
    asset_system,
)
from asset_model.types import AssetStatus
from bim_ingest.errors import IngestError
from bim_ingest.records import ModelRecords

CHUNK = 900  # bound parameters per IN (...) query stay under SQLite's limit
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


@dataclass
class IngestReport:
    """What one file brought to the registry (picklable, printable)."""

    path: str
    sha256: str = ""
    schema: str | None = None
    application: str | None = None
    kind: str = "ifc"
    added: int = 0
    changed: int = 0
    unchanged: int = 0
    removed: int = 0
    decommissioned: int = 0
    reactivated: int = 0
    by_category: dict[str, int] = field(default_factory=dict)
    network: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    buildings: int = 0
    storeys: int = 0
    spaces: int = 0
    dwellings: int = 0
    systems: int = 0
    types: int = 0
    work_orders_attached: int = 0
    seconds: float = 0.0

    @property
    def assets(self) -> int:
        return sum(self.by_category.values())

    @property
    def network_total(self) -> int:
        return sum(self.network.values())

    def summary(self) -> str:
        """One line per file for the CLI."""
        cats = ", ".join(f"{k} {v}" for k, v in sorted(self.by_category.items()))
        return (
            f"{self.path}: {self.assets} assets (added {self.added}, changed {self.changed}, "
            f"removed {self.removed}, decommissioned {self.decommissioned}); "
            f"by category: {cats or 'none'}; network elements counted {self.network_total}; "
            f"{self.buildings} building(s), {self.storeys} storeys, {self.spaces} spaces, "
            f"{self.dwellings} dwellings, {self.systems} systems"
        )


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _fit(model: Any, rows: list[dict[str, Any]]) -> None:
    """Cut text to its column's length (PostgreSQL refuses longer values; SQLite keeps them)."""
    limits = {
        c.name: c.type.length
        for c in model.__table__.columns
        if getattr(c.type, "length", None) and c.name != "global_id"
    }
    for row in rows:
        for key, limit in limits.items():
            value = row.get(key)
            if isinstance(value, str) and len(value) > limit:
                row[key] = value[:limit]


def _overridden(overrides: dict[str, Any]) -> dict[str, Any]:
    """``Asset.overrides`` (JSON) as column values of the asset rows written here."""
    out: dict[str, Any] = {}
    for name, value in overrides.items():
        if name == "installed_on" and value is not None:
            out[name] = dt.date.fromisoformat(str(value)[:10])
        elif name in ASSET_FIELDS:
            out[name] = value
    return out


def _existing(session: Session, model: Any, gids: list[str], cols: Sequence[str]) -> dict:
    out: dict[str, dict[str, Any]] = {}
    columns = [model.id, model.global_id] + [getattr(model, c) for c in cols]
    for part in _chunks(gids):
        for row in session.execute(select(*columns).where(model.global_id.in_(part))):
            m = row._mapping
            out[m["global_id"]] = {"id": m["id"], **{c: m[c] for c in cols}}
    return out


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        try:
            return abs(float(a) - float(b)) < 1e-6
        except (TypeError, ValueError):
            return a == b
    if isinstance(a, dt.datetime) and isinstance(b, dt.date) and not isinstance(b, dt.datetime):
        return a.date() == b
    return a == b or (str(a) == str(b) and a is not None and b is not None)


def _upsert(
    session: Session, model: Any, rows: list[dict[str, Any]], cols: Sequence[str]
) -> tuple[dict[str, int], set[str], set[str], dict[str, dict[str, Any]]]:
    """Insert new rows, update changed ones; returns ids by GlobalId, added, changed, before."""
    _fit(model, rows)
    gids = [r["global_id"] for r in rows]
    before = _existing(session, model, gids, cols)
    ids = {g: v["id"] for g, v in before.items()}
    new = [r for r in rows if r["global_id"] not in before]
    changed: set[str] = set()
    updates = []
    for r in rows:
        old = before.get(r["global_id"])
        if old is None:
            continue
        diff = {c: r[c] for c in cols if c in r and not _same(old[c], r[c])}
        if diff:
            changed.add(r["global_id"])
            updates.append({"id": old["id"], **diff})
    for part in _chunks(updates, 500):
        session.execute(update(model), list(part))
    # Core executemany, without the ORM's bulk-persistence layer (≈ 40 % of the write time)
    connection, table = session.connection(), model.__table__
    for part in _chunks(new, 2000):
        connection.execute(table.insert(), list(part))
    if new:
        fresh = _existing(session, model, [r["global_id"] for r in new], ())
        ids.update({g: v["id"] for g, v in fresh.items()})
    return ids, {r["global_id"] for r in new}, changed, before


def _check_conflicts(
    path: str,
    what: str,
    before: dict[str, dict[str, Any]],
    rows: list[dict[str, Any]],
    building_gid_of: dict[int, str],
) -> None:
    for r in rows:
        old = before.get(r["global_id"])
        if old is None or old.get("building_id") is None:
            continue
        if old["building_id"] != r["building_id"]:
            raise IngestError(
                path,
                entity=f"{what} {r.get('name') or ''}".strip(),
                global_id=r["global_id"],
                reason=(
                    "GlobalId conflict: already registered in building "
                    f"{building_gid_of.get(old['building_id'], old['building_id'])}, "
                    f"here in building {building_gid_of.get(r['building_id'], r['building_id'])}"
                ),
            )


def sync_records(session: Session, records: ModelRecords) -> IngestReport:
    """Write one file's records in ``session`` (the caller owns the transaction)."""
    src = records.source
    report = IngestReport(src.path, src.sha256, src.schema, src.application, src.kind)
    path = src.path

    # --- provenance ----------------------------------------------------------------------
    source = session.scalar(
        select(SourceFile).where(SourceFile.path == path, SourceFile.sha256 == src.sha256)
    )
    if source is None:
        source = SourceFile(
            path=path,
            sha256=src.sha256,
            schema=src.schema,
            application=src.application,
            kind=src.kind,
        )
        session.add(source)
    else:
        source.ingested_at = dt.datetime.now(dt.UTC)
    session.flush()

    # --- sites ----------------------------------------------------------------------------
    site_rows = [dataclasses.asdict(s) for s in records.sites]
    site_ids, *_ = _upsert(session, Site, site_rows, ("name", "address", "latitude", "longitude"))
    site_names = {s.global_id: s.name for s in records.sites}

    # --- buildings: GlobalId, else same site name + building name ---------------------------
    building_ids: dict[str, int] = {}
    brows = []
    for b in records.buildings:
        row = {
            "global_id": b.global_id,
            "name": b.name,
            "address": b.address,
            "latitude": b.latitude,
            "longitude": b.longitude,
            "site_id": site_ids.get(b.site_global_id or ""),
            "year_built": b.year_built,
        }
        known = session.scalar(select(Building.id).where(Building.global_id == b.global_id))
        if known is None and b.name and b.site_global_id and site_names.get(b.site_global_id):
            known = session.scalar(
                select(Building.id)
                .join(Site, Building.site_id == Site.id)
                .where(Building.name == b.name, Site.name == site_names[b.site_global_id])
            )
            if known is not None:
                building_ids[b.global_id] = known
                continue
        brows.append(row)
    ids, *_ = _upsert(
        session,
        Building,
        brows,
        ("name", "address", "latitude", "longitude", "site_id", "year_built"),
    )
    building_ids.update(ids)
    building_gid_of = dict(
        session.execute(
            select(Building.id, Building.global_id).where(
                Building.id.in_(list(building_ids.values()) or [-1])
            )
        ).all()
    )
    report.buildings = len(set(building_ids.values()))

    # --- storeys, dwellings, spaces -------------------------------------------------------
    srows = [
        {
            "global_id": s.global_id,
            "name": s.name,
            "elevation_m": s.elevation_m,
            "building_id": building_ids[s.building_global_id],
        }
        for s in records.storeys
    ]
    before = _existing(session, Storey, [r["global_id"] for r in srows], ("building_id",))
    building_gid_of.update(_building_gids(session, before))
    _check_conflicts(path, "IfcBuildingStorey", before, srows, building_gid_of)
    storey_ids: dict[str, int] = {}
    for r in [r for r in srows if r["global_id"] not in before and r["name"]]:
        # a discipline model's storey with another GlobalId but the same name: one storey
        same = session.scalar(
            select(Storey.id)
            .where(Storey.building_id == r["building_id"], Storey.name == r["name"])
            .limit(1)
        )
        if same is not None:
            storey_ids[r["global_id"]] = same
    srows = [r for r in srows if r["global_id"] not in storey_ids]
    ids, *_ = _upsert(session, Storey, srows, ("name", "elevation_m", "building_id"))
    storey_ids.update(ids)

    drows = [
        {
            "global_id": d.global_id,
            "name": d.name,
            "typology": d.typology,
            "area_m2": d.area_m2,
            "building_id": building_ids[d.building_global_id],
            "storey_id": storey_ids.get(d.storey_global_id or ""),
        }
        for d in records.dwellings
    ]
    before = _existing(session, Dwelling, [r["global_id"] for r in drows], ("building_id",))
    building_gid_of.update(_building_gids(session, before))
    _check_conflicts(path, "dwelling", before, drows, building_gid_of)
    dwelling_ids, *_ = _upsert(
        session, Dwelling, drows, ("name", "typology", "area_m2", "building_id", "storey_id")
    )

    sprows = [
        {
            "global_id": s.global_id,
            "name": s.name,
            "long_name": s.long_name,
            "usage": s.usage,
            "area_m2": s.area_m2,
            "building_id": building_ids[s.building_global_id],
            "storey_id": storey_ids.get(s.storey_global_id or ""),
            "dwelling_id": dwelling_ids.get(s.dwelling_global_id or ""),
        }
        for s in records.spaces
    ]
    before = _existing(session, Space, [r["global_id"] for r in sprows], ("building_id",))
    building_gid_of.update(_building_gids(session, before))
    _check_conflicts(path, "IfcSpace", before, sprows, building_gid_of)
    space_ids, *_ = _upsert(
        session,
        Space,
        sprows,
        ("name", "long_name", "usage", "area_m2", "building_id", "storey_id", "dwelling_id"),
    )
    report.storeys, report.dwellings, report.spaces = len(storey_ids), len(drows), len(sprows)

    # --- types ------------------------------------------------------------------------------
    type_ids: dict[str, int] = {}
    for t in records.types:
        fitted = {
            "name": t.name,
            "ifc_class": t.ifc_class,
            "predefined_type": t.predefined_type,
            "manufacturer": t.manufacturer,
            "model": t.model,
        }
        _fit(AssetType, [fitted])
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

    # --- assets -----------------------------------------------------------------------------
    arows = []
    for a in records.assets:
        arows.append(
            {
                "global_id": a.global_id,
                "name": a.name,
                "description": a.description,
                "ifc_class": a.ifc_class,
                "predefined_type": a.predefined_type,
                "category": a.category,
                "serves": a.serves,
                "building_id": building_ids.get(a.building_global_id or ""),
                "storey_id": storey_ids.get(a.storey_global_id or ""),
                "space_id": space_ids.get(a.space_global_id or ""),
                "dwelling_id": dwelling_ids.get(a.dwelling_global_id or ""),
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
                "status": AssetStatus.ACTIVE.value,
                "decommissioned_at": None,
            }
        )
    gids = [r["global_id"] for r in arows]
    before = _existing(
        session, Asset, gids, (*ASSET_FIELDS, "status", "source_file_id", "overrides")
    )
    for r in arows:  # the landlord's register wins over the model (import assets)
        old = before.get(r["global_id"])
        if old is not None and old["overrides"]:
            r.update(_overridden(old["overrides"]))
    building_gid_of.update(_building_gids(session, before))
    _check_conflicts(path, "element", before, arows, building_gid_of)
    for r in arows:  # status/provenance moves are not "changes" of the asset itself
        old = before.get(r["global_id"])
        if old is not None and old["status"] != AssetStatus.ACTIVE:
            report.reactivated += 1
    ids, added, changed, _ = _upsert(
        session, Asset, arows, (*ASSET_FIELDS, "status", "decommissioned_at", "source_file_id")
    )
    by_gid = {r["global_id"]: r for r in arows}
    real_changes = {
        g for g in changed if any(not _same(before[g][c], by_gid[g][c]) for c in ASSET_FIELDS)
    }
    report.added, report.changed = len(added), len(real_changes) + report.reactivated
    report.unchanged = len(arows) - report.added - report.changed
    _assign_tags(session, records, ids)

    # --- decommission what earlier revisions had and this one lacks --------------------------
    previous = session.execute(
        select(Asset.source_file_id, func.count())
        .where(
            Asset.status == AssetStatus.ACTIVE,
            Asset.source_file_id != source.id,
            Asset.source_file_id.is_not(None),
            Asset.building_id.in_(list(set(building_ids.values())) or [-1]),
        )
        .group_by(Asset.source_file_id)
    ).all()
    moved = Counter(before[g]["source_file_id"] for g in before)
    categories = {str(r["category"]) for r in arows}
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
            for part in _chunks(list(stale)):
                session.execute(
                    update(Asset)
                    .where(Asset.id.in_(part))
                    .values(status=AssetStatus.DECOMMISSIONED, decommissioned_at=now)
                )
            report.removed += len(stale)
            report.decommissioned += len(stale)
            session.execute(delete(NetworkCount).where(NetworkCount.source_file_id == sf_id))

    # --- systems and membership ----------------------------------------------------------------
    sys_rows = [
        {
            "global_id": s.global_id,
            "name": s.name,
            "kind": s.kind,
            "building_id": building_ids.get(s.building_global_id or ""),
        }
        for s in records.systems
    ]
    system_ids, *_ = _upsert(session, System, sys_rows, ("name", "kind", "building_id"))
    if system_ids:
        session.execute(
            delete(asset_system).where(asset_system.c.system_id.in_(list(system_ids.values())))
        )
        links = [
            {"asset_id": ids[m], "system_id": system_ids[s.global_id]}
            for s in records.systems
            for m in dict.fromkeys(s.members)
            if m in ids
        ]
        for part in _chunks(links, 500):
            session.execute(insert(asset_system), list(part))
    report.systems = len(system_ids)

    # --- network counts -----------------------------------------------------------------------
    session.execute(delete(NetworkCount).where(NetworkCount.source_file_id == source.id))
    net_rows = [
        {"building_id": building_ids[b], "source_file_id": source.id, "ifc_class": cls, "count": n}
        for (b, cls), n in records.network.items()
    ]
    if net_rows:
        session.execute(insert(NetworkCount), net_rows)
    network: Counter[str] = Counter()
    for (_, cls), n in records.network.items():
        network[cls] += n
    report.network = dict(network)
    report.by_category = dict(Counter(a.category for a in records.assets))
    report.skipped = dict(records.skipped)
    session.flush()
    report.work_orders_attached = attach_pending(session).work_orders_attached
    return report


def _building_gids(session: Session, before: dict[str, dict[str, Any]]) -> dict[int, str]:
    ids = list({v["building_id"] for v in before.values() if v.get("building_id") is not None})
    if not ids:
        return {}
    return dict(
        session.execute(select(Building.id, Building.global_id).where(Building.id.in_(ids))).all()
    )


def _assign_tags(session: Session, records: ModelRecords, ids: dict[str, int]) -> None:
    """Set ``asset_tag`` from TagNumber/AssetIdentifier when no other asset already holds it."""
    tagged = {a.tag: a.global_id for a in records.assets if a.tag}
    if not tagged:
        return
    taken: dict[str, int] = {}
    tags = list(tagged)
    for part in _chunks(tags):
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
    for part in _chunks(rows, 500):
        session.execute(update(Asset), list(part))
