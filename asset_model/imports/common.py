"""What every import shares: the summary it returns, file hashing, problems, asset lookup."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from asset_model.errors import ImportValidationError, RowProblem
from asset_model.imports.reader import open_table, read_text_frame
from asset_model.models import Asset, Building, Dwelling, Site

_IN_CHUNK = 2000


@dataclass(frozen=True)
class ImportSummary:
    """What one import did. ``rows_pending`` rows name an asset the registry does not know yet
    (``unknown_refs``): they are kept aside and attach when the asset arrives."""

    kind: str
    path: Path
    sha256: str
    rows_read: int
    rows_written: int
    rows_unchanged: int
    rows_pending: int
    unknown_refs: tuple[str, ...] = ()
    import_id: int | None = None
    daily_rows: int = 0

    def lines(self, *, max_refs: int = 20) -> list[str]:
        """Human-readable summary lines (the CLI prints them)."""
        out = [
            f"{self.path}: {self.kind}: {self.rows_read} rows read, {self.rows_written} written, "
            f"{self.rows_unchanged} unchanged, {self.rows_pending} kept aside"
        ]
        if self.kind == "readings":
            out[0] += f"; {self.daily_rows} daily values in the readings dataset"
        if self.unknown_refs:
            shown = ", ".join(self.unknown_refs[:max_refs])
            more = len(self.unknown_refs) - max_refs
            tail = f" … and {more} more" if more > 0 else ""
            out.append(f"  unknown asset refs ({len(self.unknown_refs)}): {shown}{tail}")
        return out


@dataclass(frozen=True)
class AttachSummary:
    """What :func:`attach_pending` attached, and what is still waiting for its asset."""

    work_orders_attached: int
    attributes_applied: int
    work_orders_pending: int
    attributes_pending: int


def file_sha256(path: Path) -> str:
    with Path(path).open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def problems_from_mask(
    mask: pd.Series, column: str | None, reason: str | pd.Series
) -> list[RowProblem]:
    """One :class:`RowProblem` per True cell of ``mask`` (index = row numbers)."""
    rows = mask.index[mask.to_numpy(dtype=bool)]
    if isinstance(reason, pd.Series):
        reasons = reason.loc[rows].tolist()
        return [RowProblem(int(r), column, str(why)) for r, why in zip(rows, reasons, strict=True)]
    return [RowProblem(int(r), column, reason) for r in rows]


def read_validated(
    path: Path,
    *,
    required: list[str],
    optional: list[str],
    column_map: Mapping[str, str] | None,
    validate: Callable[[pd.DataFrame], tuple[pd.DataFrame, list[RowProblem]]],
) -> pd.DataFrame:
    """Read a whole import file and validate it: the typed frame, or an
    :class:`ImportValidationError` listing every problem (the header's and the rows')."""
    table = open_table(path, required=required, optional=optional, column_map=column_map)
    frame = read_text_frame(table)
    if frame.empty and not table.problems:
        raise ImportValidationError(path, [RowProblem(None, None, "no data rows under the header")])
    typed, problems = validate(frame)
    problems = table.problems + problems
    if problems:
        raise ImportValidationError(path, sorted_problems(problems))
    return typed


def sorted_problems(problems: Iterable[RowProblem]) -> list[RowProblem]:
    return sorted(problems, key=lambda p: (p.row is not None, p.row or 0, p.column or ""))


def _chunks(values: list[str]) -> Iterable[list[str]]:
    for i in range(0, len(values), _IN_CHUNK):
        yield values[i : i + _IN_CHUNK]


def asset_ids_for(session: Session, refs: Iterable[str]) -> dict[str, int]:
    """``asset_ref -> Asset.id`` for the refs that match an asset's GlobalId or asset tag.

    A GlobalId match wins over a tag match when both exist.
    """
    unique = sorted({r for r in refs if r})
    found: dict[str, int] = {}
    for part in _chunks(unique):
        rows = session.execute(
            select(Asset.id, Asset.global_id, Asset.asset_tag).where(
                or_(Asset.global_id.in_(part), Asset.asset_tag.in_(part))
            )
        ).all()
        by_tag = {tag: aid for aid, _gid, tag in rows if tag is not None}
        by_gid = {gid: aid for aid, gid, _tag in rows if gid is not None}
        for ref in part:
            if ref in by_gid:
                found[ref] = by_gid[ref]
            elif ref in by_tag:
                found[ref] = by_tag[ref]
    return found


def known_reading_refs(session: Session, refs: Iterable[str]) -> set[str]:
    """The refs naming an asset (GlobalId or tag), a dwelling, a building or a site."""
    unique = sorted({r for r in refs if r})
    known = set(asset_ids_for(session, unique))
    rest = [r for r in unique if r not in known]
    for model in (Dwelling, Building, Site):
        if not rest:
            break
        for part in _chunks(rest):
            known.update(
                session.scalars(select(model.global_id).where(model.global_id.in_(part))).all()
            )
        rest = [r for r in rest if r not in known]
    return known
