"""Bulk inserts of large row sets, inside the session's transaction.

SQLAlchemy's ``session.execute(insert(Table), [dict, …])`` builds and processes one parameter
dict per row: for the million ``RiskScore`` rows of a large stock that bookkeeping cost as much
as the database's own work. Here the columns go to the driver as tuples (SQLite's
``executemany``) or through ``COPY`` (PostgreSQL), on the connection the session already holds,
so a rollback still removes every row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Table
from sqlalchemy.orm import Session

from asset_model.errors import RegistryError

#: Rows per driver call: bounds the Python tuples alive at once.
CHUNK_ROWS = 100_000


def _python_values(arr: np.ndarray) -> list[Any]:
    """Driver-native values: int, float, str, ISO dates; NaN / NaT / None as NULL."""
    if arr.dtype.kind == "f":
        return [None if v != v else v for v in arr.tolist()]
    if arr.dtype.kind in "iub":
        return arr.tolist()
    if arr.dtype.kind == "M":
        return [None if pd.isna(v) else pd.Timestamp(v).date().isoformat() for v in arr]
    out = arr.astype(object).tolist()
    return [
        v.isoformat() if isinstance(v, dt.date) else (None if v is None or v != v else v)
        for v in out
    ]


def insert_rows(session: Session, table: Table, columns: Mapping[str, Any]) -> int:
    """Insert the rows given column by column (equal lengths) into ``table``; the row count.

    Dates may be ``datetime.date`` objects or ISO strings. Runs in the session's transaction:
    nothing is committed here.
    """
    names = list(columns)
    unknown = [n for n in names if n not in table.c]
    if unknown:
        raise RegistryError(f"{table.name} has no column(s) {', '.join(unknown)}")
    arrays = {n: np.asarray(columns[n]) for n in names}
    lengths = {len(a) for a in arrays.values()}
    if len(lengths) > 1:
        raise RegistryError(f"insert into {table.name}: columns of unequal length {lengths}")
    n_rows = lengths.pop() if lengths else 0
    if n_rows == 0:
        return 0
    raw = session.connection().connection.driver_connection
    dialect = session.get_bind().dialect.name
    cursor = raw.cursor()
    try:
        for start in range(0, n_rows, CHUNK_ROWS):
            part = [_python_values(arrays[n][start : start + CHUNK_ROWS]) for n in names]
            rows = list(zip(*part, strict=True))
            if dialect == "postgresql":
                sql = f"COPY {table.name} ({', '.join(names)}) FROM STDIN"
                with cursor.copy(sql) as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join("?" for _ in names)
                sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({marks})"
                cursor.executemany(sql, rows)
    except Exception as err:  # the driver's own error class: name the table, keep the cause
        raise RegistryError(f"insert into {table.name} failed: {err}") from err
    finally:
        cursor.close()
    return n_rows
