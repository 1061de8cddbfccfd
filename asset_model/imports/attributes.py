"""Import asset attributes (tag, install date, make, model, expected life) from a landlord file.

Columns (DESIGN §3): ``asset_ref`` (required: GlobalId or asset tag), ``asset_tag``,
``installed_on``, ``manufacturer``, ``model``, ``expected_life_years``. Given values complement
or override what the IFC carried; empty cells leave the registry's value alone. Rows naming an
asset the registry does not know are kept aside (:class:`PendingAssetAttribute`) and applied by
:func:`attach_pending` when the asset arrives. A later file overrides an earlier one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import select
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
from asset_model.models import Asset, ImportRecord, PendingAssetAttribute

REQUIRED = ["asset_ref"]
OPTIONAL = ["asset_tag", "installed_on", "manufacturer", "model", "expected_life_years"]
FIELDS = OPTIONAL
MAX_LENGTHS = {"asset_ref": 128, "asset_tag": 64, "manufacturer": 255, "model": 255}


def validate_attributes(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[RowProblem]]:
    """Typed attribute rows and every problem (index = user-visible row numbers)."""
    problems: list[RowProblem] = []
    for col in OPTIONAL:
        if col not in frame.columns:
            frame[col] = pd.Series(pd.NA, index=frame.index, dtype="str")
    problems += problems_from_mask(frame["asset_ref"].isna(), "asset_ref", "missing value")
    for col, limit in MAX_LENGTHS.items():
        too_long = frame[col].str.len().fillna(0) > limit
        problems += problems_from_mask(too_long, col, f"longer than {limit} characters")
    installed, bad = parse_datetimes(frame["installed_on"])
    problems += problems_from_mask(
        bad, "installed_on", "bad date '" + frame["installed_on"].astype("str") + "'"
    )
    life, bad = parse_numbers(frame["expected_life_years"])
    problems += problems_from_mask(
        bad,
        "expected_life_years",
        "not a number '" + frame["expected_life_years"].astype("str") + "'",
    )
    problems += problems_from_mask(life <= 0, "expected_life_years", "must be positive")
    for col in ("asset_ref", "asset_tag"):
        values = frame[col]
        dup = values.notna() & values.duplicated(keep="first")
        problems += problems_from_mask(
            dup, col, "duplicate " + col + " '" + values.astype("str") + "' in the file"
        )
    typed = pd.DataFrame(
        {
            "asset_ref": frame["asset_ref"],
            "asset_tag": frame["asset_tag"],
            "installed_on": installed.dt.date.where(installed.notna(), None),
            "manufacturer": frame["manufacturer"],
            "model": frame["model"],
            "expected_life_years": life,
        },
        index=frame.index,
    )
    return typed, problems


def _given(row: Mapping[str, Any]) -> dict[str, Any]:
    out = {}
    for field in FIELDS:
        value = row[field]
        if value is None or (not isinstance(value, dt.date) and pd.isna(value)):
            continue
        out[field] = float(value) if field == "expected_life_years" else value
    return out


def apply_attributes(asset: Asset | PendingAssetAttribute, values: Mapping[str, Any]) -> bool:
    """Set the given values on ``asset``; True when anything changed.

    On a registered asset the values are also kept in ``Asset.overrides``, so that a later
    ingest of the IFC model does not undo what the landlord's register says.
    """
    changed = False
    for field, value in values.items():
        if value is not None and getattr(asset, field) != value:
            setattr(asset, field, value)
            changed = True
    if isinstance(asset, Asset):
        kept = {
            f: v.isoformat() if isinstance(v, dt.date) else v
            for f, v in values.items()
            if v is not None and f != "asset_tag"
        }
        merged = {**(asset.overrides or {}), **kept}
        if merged != (asset.overrides or {}):
            asset.overrides = merged
    return changed


def import_asset_attributes(
    session: Session,
    path: Path | str,
    *,
    column_map: Mapping[str, str] | None = None,
) -> ImportSummary:
    """Validate and apply an asset-attributes file in the caller's transaction."""
    path = Path(path)
    typed = read_validated(
        path,
        required=REQUIRED,
        optional=OPTIONAL,
        column_map=column_map,
        validate=validate_attributes,
    )

    ids = asset_ids_for(session, typed["asset_ref"].tolist())
    # a tag may not move onto an asset when another asset already holds it
    tags = typed[typed["asset_tag"].notna()]
    if len(tags):
        tag_owner: dict[str, int] = {}
        wanted = sorted(set(tags["asset_tag"]))
        for i in range(0, len(wanted), 2000):
            part = wanted[i : i + 2000]
            for aid, tag in session.execute(
                select(Asset.id, Asset.asset_tag).where(Asset.asset_tag.in_(part))
            ):
                tag_owner[tag] = aid
        clash = [
            RowProblem(int(row), "asset_tag", f"asset tag '{tag}' already belongs to another asset")
            for row, ref, tag in zip(tags.index, tags["asset_ref"], tags["asset_tag"], strict=True)
            if tag in tag_owner and ids.get(ref) != tag_owner[tag]
        ]
        if clash:
            raise ImportValidationError(path, clash)

    written = unchanged = pending = 0
    unknown: list[str] = []
    record = ImportRecord(
        kind="assets", path=str(path), sha256=file_sha256(path), rows_read=len(typed)
    )
    session.add(record)
    session.flush()
    # in chunks: SQLite refuses more than 32,766 bound parameters in one statement
    wanted_ids = sorted(set(ids.values()))
    assets = {
        a.id: a
        for i in range(0, len(wanted_ids), 2000)
        for a in session.scalars(select(Asset).where(Asset.id.in_(wanted_ids[i : i + 2000])))
    }
    pendings = {
        p.asset_ref: p
        for p in session.scalars(
            select(PendingAssetAttribute).where(
                PendingAssetAttribute.asset_ref.in_([r for r in typed["asset_ref"] if r not in ids])
            )
        )
    }
    for row in typed.to_dict("records"):
        ref = row["asset_ref"]
        values = _given(row)
        if ref in ids:
            if apply_attributes(assets[ids[ref]], values):
                written += 1
            else:
                unchanged += 1
            continue
        pending += 1
        unknown.append(ref)
        existing = pendings.get(ref)
        if existing is None:
            session.add(PendingAssetAttribute(asset_ref=ref, import_id=record.id, **values))
            written += 1
        elif apply_attributes(existing, values):  # type: ignore[arg-type]
            existing.import_id = record.id
            written += 1
        else:
            unchanged += 1
    if written == 0:
        session.delete(record)
        record_id = None
    else:
        record.rows_written = written
        record.rows_pending = pending
        record_id = record.id
    session.flush()
    return ImportSummary(
        kind="assets",
        path=path,
        sha256=record.sha256,
        rows_read=len(typed),
        rows_written=written,
        rows_unchanged=unchanged,
        rows_pending=pending,
        unknown_refs=tuple(sorted(unknown)),
        import_id=record_id,
    )
