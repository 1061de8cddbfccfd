"""Attach kept-aside work orders and attributes to assets that have arrived since.

bim_ingest calls :func:`attach_pending` at the end of every ingest, in the same transaction.
A kept-aside row attaches to the asset whose GlobalId, or else whose asset tag, equals its
``asset_ref``.
"""

from __future__ import annotations

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from asset_model.imports.attributes import FIELDS, apply_attributes
from asset_model.imports.common import AttachSummary, asset_ids_for
from asset_model.models import Asset, MaintenanceEvent, PendingAssetAttribute


def attach_pending(session: Session) -> AttachSummary:
    """Attach every kept-aside row whose asset is now in the registry.

    Examples
    --------
    >>> with transaction(engine) as session:                   # doctest: +SKIP
    ...     attach_pending(session).work_orders_attached
    12
    """
    refs = session.scalars(
        select(MaintenanceEvent.asset_ref).where(MaintenanceEvent.asset_id.is_(None)).distinct()
    ).all()
    ids = asset_ids_for(session, refs)
    attached = 0
    if ids:
        table = MaintenanceEvent.__table__
        stmt = (
            update(table)
            .where(table.c.asset_ref == bindparam("ref"), table.c.asset_id.is_(None))
            .values(asset_id=bindparam("aid"))
        )
        params = [{"ref": ref, "aid": aid} for ref, aid in ids.items()]
        session.flush()
        attached = 0
        for i in range(0, len(params), 2000):
            part = [p["ref"] for p in params[i : i + 2000]]
            attached += (
                session.scalar(
                    select(func.count())
                    .select_from(MaintenanceEvent)
                    .where(
                        MaintenanceEvent.asset_id.is_(None), MaintenanceEvent.asset_ref.in_(part)
                    )
                )
                or 0
            )
        session.connection().execute(stmt, params)
        session.expire_all()

    pendings = session.scalars(select(PendingAssetAttribute)).all()
    attr_ids = asset_ids_for(session, [p.asset_ref for p in pendings])
    applied = 0
    for pending in pendings:
        aid = attr_ids.get(pending.asset_ref)
        if aid is None:
            continue
        asset = session.get(Asset, aid)
        assert asset is not None
        values = {f: getattr(pending, f) for f in FIELDS if getattr(pending, f) is not None}
        apply_attributes(asset, values)
        session.delete(pending)
        applied += 1
    session.flush()
    wo_left = session.scalar(
        select(func.count())
        .select_from(MaintenanceEvent)
        .where(MaintenanceEvent.asset_id.is_(None))
    )
    attr_left = session.scalar(select(func.count()).select_from(PendingAssetAttribute))
    return AttachSummary(
        work_orders_attached=int(attached),
        attributes_applied=applied,
        work_orders_pending=int(wo_left or 0),
        attributes_pending=int(attr_left or 0),
    )
