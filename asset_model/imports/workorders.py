"""Import a CMMS work-order export (CSV, XLSX, Parquet) into the registry, all or nothing.

Columns (DESIGN §3): ``work_order_id`` (unique), ``asset_ref`` (GlobalId or asset tag),
``opened_at``, ``kind`` are required; ``closed_at``, ``cost_eur``, ``labour_hours``, ``trade``,
``description`` are optional. Every bad row is reported at once; nothing of a bad file is written.
A row already imported with the same content is left as it is (re-import changes nothing); the
same ``work_order_id`` with different content is an error. Rows naming an unknown asset are
written with no asset (kept aside) and attach later (:func:`attach_pending`).

Examples
--------
>>> from asset_model import open_registry, transaction
>>> engine = open_registry("sqlite://")
>>> with transaction(engine) as session:                       # doctest: +SKIP
...     summary = import_work_orders(session, "work_orders.csv")
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from asset_model.errors import ImportValidationError, RowProblem
from asset_model.imports.common import (
    ImportSummary,
    asset_ids_for,
    file_sha256,
    problems_from_mask,
    read_validated,
)
from asset_model.imports.parse import parse_datetimes, parse_numbers
from asset_model.models import ImportRecord, MaintenanceEvent
from asset_model.types import WorkOrderKind

REQUIRED = ["work_order_id", "asset_ref", "opened_at", "kind"]
OPTIONAL = ["closed_at", "cost_eur", "labour_hours", "trade", "description"]
MAX_LENGTHS = {"work_order_id": 128, "asset_ref": 128, "trade": 64, "description": 2048}
INSERT_CHUNK = 10_000

#: Accepted spellings of each kind (lower-case, accents as exported by French CMMS tools).
KIND_ALIASES: dict[str, str] = {
    **{k.value: k.value for k in WorkOrderKind},
    "préventif": "preventive",
    "preventif": "preventive",
    "préventive": "preventive",
    "entretien": "preventive",
    "correctif": "corrective",
    "corrective": "corrective",
    "curatif": "corrective",
    "réparation": "corrective",
    "panne": "failure",
    "dépannage": "failure",
    "depannage": "failure",
    "breakdown": "failure",
    "contrôle": "inspection",
    "controle": "inspection",
    "visite": "inspection",
    "remplacement": "replacement",
    "renouvellement": "replacement",
}
_COMPARED = [
    "asset_ref",
    "kind",
    "opened_at",
    "closed_at",
    "cost_eur",
    "labour_hours",
    "trade",
    "description",
]


def validate_work_orders(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[RowProblem]]:
    """Typed work orders and the list of every problem (index = user-visible row numbers)."""
    problems: list[RowProblem] = []
    for col in OPTIONAL:
        if col not in frame.columns:
            frame[col] = pd.Series(pd.NA, index=frame.index, dtype="str")
    for col in REQUIRED:
        problems += problems_from_mask(frame[col].isna(), col, "missing value")
    for col, limit in MAX_LENGTHS.items():
        too_long = frame[col].str.len().fillna(0) > limit
        problems += problems_from_mask(too_long, col, f"longer than {limit} characters")

    kind_text = frame["kind"].str.lower().str.strip()
    kind = kind_text.map(KIND_ALIASES)
    allowed = ", ".join(k.value for k in WorkOrderKind)
    bad_kind = frame["kind"].notna() & kind.isna()
    reasons = "unknown kind '" + frame["kind"].astype("str") + f"' (expected one of {allowed})"
    problems += problems_from_mask(bad_kind, "kind", reasons)

    opened, bad_opened = parse_datetimes(frame["opened_at"])
    closed, bad_closed = parse_datetimes(frame["closed_at"])
    for col, bad in (("opened_at", bad_opened), ("closed_at", bad_closed)):
        reasons = "bad date '" + frame[col].astype("str") + "' (expected YYYY-MM-DD or DD/MM/YYYY)"
        problems += problems_from_mask(bad, col, reasons)
    before = closed.notna() & opened.notna() & (closed < opened)
    problems += problems_from_mask(before, "closed_at", "closed before it was opened")

    numbers = {}
    for col in ("cost_eur", "labour_hours"):
        values, bad = parse_numbers(frame[col])
        problems += problems_from_mask(bad, col, "not a number '" + frame[col].astype("str") + "'")
        problems += problems_from_mask(values < 0, col, "negative value")
        numbers[col] = values

    ids = frame["work_order_id"]
    dup = ids.notna() & ids.duplicated(keep="first")
    if dup.any():
        first_row = pd.Series(ids.index, index=ids.index).groupby(ids.to_numpy()).transform("min")
        reasons = "duplicate work_order_id '" + ids.astype("str") + "' (first at row "
        reasons = reasons + first_row.astype("str") + ")"
        problems += problems_from_mask(dup, "work_order_id", reasons)

    typed = pd.DataFrame(
        {
            "work_order_id": ids,
            "asset_ref": frame["asset_ref"],
            "kind": kind,
            "opened_at": opened,
            "closed_at": closed,
            "cost_eur": numbers["cost_eur"].round(2),
            "labour_hours": numbers["labour_hours"],
            "trade": frame["trade"],
            "description": frame["description"],
        },
        index=frame.index,
    )
    return typed, problems


def _existing(session: Session, ids: list[str]) -> pd.DataFrame:
    cols = [
        MaintenanceEvent.work_order_id,
        MaintenanceEvent.asset_ref,
        MaintenanceEvent.kind,
        MaintenanceEvent.opened_at,
        MaintenanceEvent.closed_at,
        MaintenanceEvent.cost_eur,
        MaintenanceEvent.labour_hours,
        MaintenanceEvent.trade,
        MaintenanceEvent.description,
    ]
    rows = []
    for i in range(0, len(ids), 2000):
        part = ids[i : i + 2000]
        rows += session.execute(select(*cols).where(MaintenanceEvent.work_order_id.in_(part))).all()
    frame = pd.DataFrame(rows, columns=["work_order_id", *_COMPARED])
    return frame


def _comparable(frame: pd.DataFrame) -> pd.DataFrame:
    """Each compared column as text, so file rows and registry rows compare exactly."""
    out = pd.DataFrame(index=frame.index)
    out["asset_ref"] = frame["asset_ref"].astype("str")
    out["kind"] = frame["kind"].map(lambda k: getattr(k, "value", k)).astype("str")
    for col in ("opened_at", "closed_at"):
        ts = pd.to_datetime(frame[col], utc=True)
        out[col] = ts.dt.strftime("%Y-%m-%d %H:%M:%S.%f").fillna("")
    for col, digits in (("cost_eur", 2), ("labour_hours", 6)):
        num = pd.to_numeric(frame[col].astype("float64"), errors="coerce").round(digits)
        text = num.map(lambda v, d=digits: "" if pd.isna(v) else f"{v:.{d}f}")
        out[col] = text
    for col in ("trade", "description"):
        out[col] = frame[col].astype("str").where(frame[col].notna(), "")
    return out


def _records(typed: pd.DataFrame, asset_ids: dict[str, int], import_id: int) -> list[dict]:
    def _dt(series: pd.Series) -> list[dt.datetime | None]:
        values = series.dt.to_pydatetime() if len(series) else np.array([], dtype=object)
        return [None if pd.isna(v) else v for v in values]

    opened = _dt(typed["opened_at"])
    closed = _dt(typed["closed_at"])
    costs = [None if pd.isna(v) else Decimal(f"{v:.2f}") for v in typed["cost_eur"]]
    hours = [None if pd.isna(v) else float(v) for v in typed["labour_hours"]]
    records = []
    for i, (wo, ref, kind, trade, desc) in enumerate(
        zip(
            typed["work_order_id"].tolist(),
            typed["asset_ref"].tolist(),
            typed["kind"].tolist(),
            typed["trade"].tolist(),
            typed["description"].tolist(),
            strict=True,
        )
    ):
        records.append(
            {
                "work_order_id": wo,
                "asset_ref": ref,
                "asset_id": asset_ids.get(ref),
                "kind": WorkOrderKind(kind),
                "opened_at": opened[i],
                "closed_at": closed[i],
                "cost_eur": costs[i],
                "labour_hours": hours[i],
                "trade": None if pd.isna(trade) else trade,
                "description": None if pd.isna(desc) else desc,
                "import_id": import_id,
            }
        )
    return records


def import_work_orders(
    session: Session,
    path: Path | str,
    *,
    column_map: Mapping[str, str] | None = None,
) -> ImportSummary:
    """Validate and import a work-order file in the caller's transaction.

    Raises :class:`~asset_model.errors.ImportValidationError` listing every bad row (and writes
    nothing) when any row cannot be read, repeats a ``work_order_id``, or conflicts with a work
    order already in the registry.
    """
    path = Path(path)
    typed = read_validated(
        path,
        required=REQUIRED,
        optional=OPTIONAL,
        column_map=column_map,
        validate=validate_work_orders,
    )

    existing = _existing(session, typed["work_order_id"].tolist())
    is_new = ~typed["work_order_id"].isin(existing["work_order_id"])
    if len(existing):
        old = _comparable(existing.set_index("work_order_id"))
        again = typed[~is_new]
        new = _comparable(again.set_index("work_order_id")).loc[:, _COMPARED]
        old = old.loc[new.index, _COMPARED]
        differs = (old.to_numpy() != new.to_numpy()).any(axis=1)
        if differs.any():
            conflicts = []
            rows = again.index[differs]
            for row, wo in zip(rows, again["work_order_id"][differs], strict=True):
                cols = [c for c in _COMPARED if old.at[wo, c] != new.at[wo, c]]
                was = ", ".join(old.at[wo, c] or "∅" for c in cols)
                conflicts.append(
                    RowProblem(
                        int(row),
                        "work_order_id",
                        f"work order '{wo}' was already imported with a different "
                        f"{', '.join(cols)} (registry: {was})",
                    )
                )
            raise ImportValidationError(path, conflicts)

    asset_ids = asset_ids_for(session, typed["asset_ref"].unique().tolist())
    unknown = sorted(set(typed["asset_ref"]) - set(asset_ids))
    pending_mask = ~typed["asset_ref"].isin(list(asset_ids))
    new_rows = typed[is_new]
    import_id = None
    if len(new_rows):
        record = ImportRecord(
            kind="workorders",
            path=str(path),
            sha256=file_sha256(path),
            rows_read=len(typed),
            rows_written=len(new_rows),
            rows_pending=int(pending_mask.sum()),
        )
        session.add(record)
        session.flush()
        import_id = record.id
        for start in range(0, len(new_rows), INSERT_CHUNK):
            chunk = new_rows.iloc[start : start + INSERT_CHUNK]
            session.execute(insert(MaintenanceEvent), _records(chunk, asset_ids, import_id))
        session.flush()
    return ImportSummary(
        kind="workorders",
        path=path,
        sha256=file_sha256(path) if import_id is None else record.sha256,
        rows_read=len(typed),
        rows_written=len(new_rows),
        rows_unchanged=int((~is_new).sum()),
        rows_pending=int(pending_mask.sum()),
        unknown_refs=tuple(unknown),
        import_id=import_id,
    )
