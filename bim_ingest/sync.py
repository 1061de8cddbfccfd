"""Records → registry: upsert by GlobalId, report added / changed / removed, never delete.

Rules (see docs/bim_ingest.md):

* Buildings merge on GlobalId, else on same site name + building name (discipline models).
* An incoming asset, space, storey or dwelling whose GlobalId is already registered in a
  *different building* is a GlobalId conflict: the whole file is refused.
* A previous file is an earlier revision of this one when it has the same path, or when at
  least half of its still-active assets reappear in this file (same project re-exported under
  another name). Its active assets missing from this file are decommissioned (status +
  ``decommissioned_at``), never deleted; one that reappears later is reactivated.

The steps live in :mod:`bim_ingest.sync_spatial` (source file, sites … spaces) and
:mod:`bim_ingest.sync_assets` (types, assets, decommission); bulk reads and writes in
:mod:`bim_ingest.bulk`.

Examples
--------
>>> with transaction(engine) as session:                     # doctest: +SKIP
...     report = sync_records(session, extract_ifc("heating.ifc"))
>>> report.added, report.network_total                       # doctest: +SKIP
(1, 197)
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy import delete, insert
from sqlalchemy.orm import Session

from asset_model import attach_pending
from asset_model.models import NetworkCount, System, asset_system
from bim_ingest.bulk import chunks, upsert
from bim_ingest.records import ModelRecords
from bim_ingest.report import IngestReport
from bim_ingest.sync_assets import (
    ASSET_FIELDS,
    ENVELOPE,
    decommission_missing,
    sync_assets,
    sync_types,
)
from bim_ingest.sync_spatial import SpatialIds, sync_source, sync_spatial

__all__ = ["ASSET_FIELDS", "ENVELOPE", "IngestReport", "sync_records"]


def sync_records(session: Session, records: ModelRecords) -> IngestReport:
    """Write one file's records in ``session`` (the caller owns the transaction)."""
    src = records.source
    report = IngestReport(src.path, src.sha256, src.schema, src.application, src.kind)
    source = sync_source(session, src)
    spatial = sync_spatial(session, records, report)
    type_ids = sync_types(session, records, report)
    written = sync_assets(session, records, spatial, type_ids, source, report)
    decommission_missing(session, records, spatial, source, written, report)
    _systems(session, records, spatial, written.ids, report)
    _network(session, records, spatial, source.id, report)
    report.by_category = dict(Counter(a.category for a in records.assets))
    report.skipped = dict(records.skipped)
    session.flush()
    report.work_orders_attached = attach_pending(session).work_orders_attached
    return report


def _systems(
    session: Session,
    records: ModelRecords,
    spatial: SpatialIds,
    asset_ids: dict[str, int],
    report: IngestReport,
) -> None:
    """Upsert systems and replace their membership."""
    rows = [
        {
            "global_id": s.global_id,
            "name": s.name,
            "kind": s.kind,
            "building_id": spatial.building.get(s.building_global_id or ""),
        }
        for s in records.systems
    ]
    system_ids, *_ = upsert(session, System, rows, ("name", "kind", "building_id"))
    if system_ids:
        session.execute(
            delete(asset_system).where(asset_system.c.system_id.in_(list(system_ids.values())))
        )
        links = [
            {"asset_id": asset_ids[m], "system_id": system_ids[s.global_id]}
            for s in records.systems
            for m in dict.fromkeys(s.members)
            if m in asset_ids
        ]
        for part in chunks(links, 500):
            session.execute(insert(asset_system), list(part))
    report.systems = len(system_ids)


def _network(
    session: Session,
    records: ModelRecords,
    spatial: SpatialIds,
    source_id: int,
    report: IngestReport,
) -> None:
    """Replace this file's network counts (pipes, ducts … per building and class)."""
    session.execute(delete(NetworkCount).where(NetworkCount.source_file_id == source_id))
    rows = [
        {
            "building_id": spatial.building[b],
            "ifc_class": k,
            "count": n,
            "source_file_id": source_id,
        }
        for (b, k), n in records.network.items()
    ]
    if rows:
        session.execute(insert(NetworkCount), rows)
    network: Counter[str] = Counter()
    for (_, cls), n in records.network.items():
        network[cls] += n
    report.network = dict(network)
