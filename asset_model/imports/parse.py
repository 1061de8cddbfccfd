"""Vectorised parsing of text columns: dates (ISO or French), numbers (decimal comma), kinds.

Each parser takes a text Series (NA = empty cell) and returns the parsed Series and a boolean
Series marking the cells that were given but could not be read.

Examples
--------
>>> s = pd.Series(["2024-01-05", "05/01/2024 08:30", "31/02/2024", None])
>>> values, bad = parse_datetimes(s)
>>> values.dt.strftime("%Y-%m-%d %H:%M").tolist()[:2], bad.tolist()
(['2024-01-05 00:00', '2024-01-05 08:30'], [False, False, True, False])
>>> parse_numbers(pd.Series(["1 234,50", "12.5", "abc"]))[0].tolist()[:2]
[1234.5, 12.5]
"""

from __future__ import annotations

import pandas as pd

_FRENCH_FORMATS = (
    "%d/%m/%Y",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d-%m-%Y",
    "%d.%m.%Y",
    "%Y/%m/%d",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
)
_NUMBER = r"^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$"


def parse_datetimes(text: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Datetimes in UTC from ISO 8601 (date, datetime, offset) or ``dd/mm/yyyy[ HH:MM[:SS]]``.

    Naive values are taken as they are (read as UTC), so a date stays on its day.
    """
    given = text.notna()
    out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[us, UTC]")
    if not given.any():
        return out, given & False
    cleaned = text[given].astype("str").str.strip().str.replace("T", " ", n=1, regex=False)
    todo = cleaned
    parsed = pd.to_datetime(todo, format="ISO8601", errors="coerce", utc=True)
    out.loc[parsed.index] = parsed.astype("datetime64[us, UTC]")
    for fmt in _FRENCH_FORMATS:
        remaining = out.loc[todo.index].isna()
        if not remaining.any():
            break
        todo = todo[remaining]
        parsed = pd.to_datetime(todo, format=fmt, errors="coerce", utc=True)
        out.loc[parsed.index] = parsed.astype("datetime64[us, UTC]")
    bad = given & out.isna()
    return out, bad


def parse_numbers(text: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Floats from text with ``.`` or ``,`` decimals, spaces as thousands separators, ``€``."""
    given = text.notna()
    out = pd.Series(float("nan"), index=text.index, dtype="float64")
    if not given.any():
        return out, given & False
    cleaned = (
        text[given]
        .astype("str")
        .str.replace(r"[\s\u00a0\u202f€]", "", regex=True)
        .str.replace(",", ".", regex=False)
    )
    ok = cleaned.str.match(_NUMBER)
    out.loc[ok[ok].index] = cleaned[ok].astype("float64")
    bad = pd.Series(False, index=text.index)
    bad.loc[ok[~ok].index] = True
    return out, bad
