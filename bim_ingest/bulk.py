"""Bulk reads and writes by GlobalId for the sync: few round trips, little per-row overhead.

* :func:`existing` reads the registered rows of many GlobalIds in one query (SQLite:
  ``IN (SELECT value FROM json_each(?))``, JSON1 is built in since SQLite 3.38; PostgreSQL:
  ``= ANY(?)``) instead of one ``IN (…)`` of 900 parameters per chunk, each compiled anew.
* :func:`insert_rows` hands rows to the driver's ``executemany`` with the columns' own bind
  processors applied in one loop: the values stored are those SQLAlchemy would store, without its
  per-row parameter machinery (most of the Python time of a 100,000-row insert); Python-side
  column defaults (``created_at`` …) are evaluated once per call.
* :func:`upsert` inserts the new rows, updates the changed ones by primary key and reports both.

Examples
--------
>>> ids, added, changed, before = upsert(session, Site, rows, ("name", "address"))  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Table, any_, bindparam, column, func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.types import ARRAY, String

from bim_ingest.errors import IngestError

CHUNK = 900  # bound parameters per IN (...) query stay under SQLite's limit


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def fit(model: Any, rows: list[dict[str, Any]]) -> None:
    """Cut text to its column's length (PostgreSQL refuses longer values; SQLite keeps them)."""
    limits = [
        (c.name, c.type.length)
        for c in model.__table__.columns
        if getattr(c.type, "length", None) and c.name != "global_id"
    ]
    if not rows:
        return
    limits = [(key, limit) for key, limit in limits if key in rows[0]]
    for key, limit in limits:
        for row in rows:
            value = row[key]
            if value.__class__ is str and len(value) > limit:
                row[key] = value[:limit]


def same(a: Any, b: Any) -> bool:
    """Whether a registered value and an incoming one are the same (floats, dates, enums)."""
    if isinstance(a, float) or isinstance(b, float):
        try:
            return abs(float(a) - float(b)) < 1e-6
        except (TypeError, ValueError):
            return a == b
    if isinstance(a, dt.datetime) and isinstance(b, dt.date) and not isinstance(b, dt.datetime):
        return a.date() == b
    return a == b or (str(a) == str(b) and a is not None and b is not None)


def _gid_filter(session: Session, model: Any, gids: Sequence[str]) -> Iterable[Any]:
    """WHERE clauses that together cover ``gids``: one for SQLite and PostgreSQL."""
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        values = select(column("value")).select_from(func.json_each(json.dumps(list(gids))))
        yield model.global_id.in_(values.scalar_subquery())
    elif dialect == "postgresql":
        yield model.global_id == any_(bindparam("gids", list(gids), type_=ARRAY(String)))
    else:
        for part in chunks(gids):
            yield model.global_id.in_(part)


def existing(session: Session, model: Any, gids: Sequence[str], cols: Sequence[str]) -> dict:
    """``{GlobalId: {"id": …, col: …}}`` of the registered rows among ``gids``."""
    out: dict[str, dict[str, Any]] = {}
    if not gids:
        return out
    columns = [model.id, model.global_id] + [getattr(model, c) for c in cols]
    for where in _gid_filter(session, model, gids):
        for row in session.execute(select(*columns).where(where)):
            out[row[1]] = {"id": row[0], **dict(zip(cols, row[2:], strict=True))}
    return out


def _defaults(table: Table, present: set[str]) -> dict[str, Any]:
    """Python-side column defaults for the columns the rows lack (one value for all rows)."""
    out: dict[str, Any] = {}
    for col in table.columns:
        default = col.default
        if col.name in present or default is None:
            continue
        if default.is_callable:
            out[col.name] = default.arg(None)
        elif default.is_scalar:
            out[col.name] = default.arg
    return out


def insert_rows(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """INSERT ``rows`` (dicts with the same keys) through the driver's executemany."""
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    keys = list(rows[0])
    constants = _defaults(table, set(keys))
    names = keys + list(constants)
    compiled = table.insert().compile(dialect=dialect, column_keys=names)
    processors = []
    for name in names:
        col_type = table.c[name].type
        processors.append(col_type.dialect_impl(dialect).bind_processor(dialect))
    fixed = []
    for name, proc in zip(names[len(keys) :], processors[len(keys) :], strict=True):
        value = constants[name]
        fixed.append(proc(value) if proc is not None else value)
    order = compiled.positiontup
    columns = [[row[k] for row in rows] for k in keys]
    for i, proc in enumerate(processors[: len(keys)]):
        if proc is not None:
            columns[i] = [proc(v) for v in columns[i]]
    columns += [[value] * len(rows) for value in fixed]
    if order is not None:  # positional paramstyle (SQLite's qmark)
        position = {name: i for i, name in enumerate(names)}
        params: list[Any] = list(zip(*(columns[position[n]] for n in order), strict=True))
    else:  # named (psycopg's pyformat)
        params = [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)]
    for part in chunks(params, 5000):
        connection.exec_driver_sql(str(compiled), list(part))


def upsert(
    session: Session,
    model: Any,
    rows: list[dict[str, Any]],
    cols: Sequence[str],
    before: dict[str, dict[str, Any]] | None = None,
) -> tuple[dict[str, int], set[str], set[str], dict[str, dict[str, Any]]]:
    """Insert new rows, update changed ones; returns ids by GlobalId, added, changed, before.

    ``before`` is :func:`existing` of the rows' GlobalIds with ``cols`` when the caller has it.
    """
    fit(model, rows)
    if before is None:
        before = existing(session, model, [r["global_id"] for r in rows], cols)
    ids = {g: v["id"] for g, v in before.items()}
    new = [r for r in rows if r["global_id"] not in before]
    changed: set[str] = set()
    updates = []
    for r in rows:
        old = before.get(r["global_id"])
        if old is None:
            continue
        diff = {c: r[c] for c in cols if c in r and not same(old[c], r[c])}
        if diff:
            changed.add(r["global_id"])
            updates.append({"id": old["id"], **diff})
    for part in chunks(updates, 500):
        session.execute(update(model), list(part))
    insert_rows(session, model.__table__, new)
    if new:
        fresh = existing(session, model, [r["global_id"] for r in new], ())
        ids.update({g: v["id"] for g, v in fresh.items()})
    return ids, {r["global_id"] for r in new}, changed, before


def check_conflicts(
    path: str,
    what: str,
    before: dict[str, dict[str, Any]],
    rows: list[dict[str, Any]],
    building_gid_of: dict[int, str],
) -> None:
    """Refuse the file when a GlobalId is already registered in another building."""
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
