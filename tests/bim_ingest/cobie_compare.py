"""Our COBie export against ifcfm's COBie 2.4 rows, per sheet, as a markdown table.

``python -m tests.bim_ingest.cobie_compare ../shared/ifc/*.ifc`` (needs the dev dependency
``ifcfm``). The counts are what docs/bim_ingest.md, "COBie", reports; the rules behind them are
asserted in test_cobie_reference.py.
"""

from __future__ import annotations

import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from bim_ingest.cobie_read import type_life
from tests.bim_ingest.test_cobie_reference import _na, _ours, _reference

_COLUMNS = {
    "Component": [
        ("Name",) * 2,
        ("TypeName",) * 2,
        ("Space",) * 2,
        ("ExtObject", "ExternalObject"),
    ],
    "Type": [("Name",) * 2, ("Manufacturer",) * 2, ("ModelNumber",) * 2],
    "Floor": [("Name",) * 2],
    "Space": [("Name",) * 2, ("FloorName",) * 2],
}


def _same(mine: dict[str, Any], theirs: dict[str, Any], sheet: str) -> bool:
    """Equal columns; on Type, equal wherever ifcfm has a value (we may add one it lacks)."""
    if sheet == "Type":
        pairs = [(type_life(mine), type_life(theirs))]
        pairs += [(_na(mine[a]), _na(theirs[b])) for a, b in _COLUMNS[sheet]]
        return all(t is None or str(m) == str(t) for m, t in pairs)
    return all(str(_na(mine[a])) == str(_na(theirs[b])) for a, b in _COLUMNS[sheet])


def _added(mine: dict[str, Any], theirs: dict[str, Any]) -> bool:
    """A Type row where we give a value ifcfm leaves empty (from the components)."""
    pairs = [(type_life(mine), type_life(theirs))]
    pairs += [(_na(mine[c]), _na(theirs[c])) for c in ("Manufacturer", "ModelNumber")]
    return any(m is not None and t is None for m, t in pairs)


def compare(path: Path) -> list[str]:
    """One markdown row per sheet: ifcfm rows, ours, common, same, only ifcfm, only ours."""
    with tempfile.TemporaryDirectory() as tmp, pytest.MonkeyPatch.context() as mp:
        ref, ours = _reference(path, mp), _ours(path, Path(tmp))
    lines = []
    for sheet in _COLUMNS:
        theirs = {r["ExternalIdentifier"]: r for r in ref[sheet]}
        mine = {r["ExtIdentifier"]: r for r in ours[sheet]}
        common = set(theirs) & set(mine)
        same = sum(_same(mine[g], theirs[g], sheet) for g in common)
        added = sum(_added(mine[g], theirs[g]) for g in common) if sheet == "Type" else 0
        label = f"{sheet} ({added} filled from components)" if added else sheet
        lines.append(
            f"| {path.name} | {label} | {len(theirs)} | {len(mine)} | {len(common)} | {same} "
            f"| {len(set(theirs) - set(mine))} | {len(set(mine) - set(theirs))} |"
        )
    pairs = Counter(
        (r["ExtIdentifier"], r["ComponentIdentifiers"])
        for r in ours["System"]
        if _na(r["ComponentIdentifiers"])
    )
    common_pairs = sum((pairs & ref["System"]).values())
    lines.append(
        f"| {path.name} | System rows | {sum(ref['System'].values())} | {sum(pairs.values())} "
        f"| {common_pairs} | {common_pairs} | {sum((ref['System'] - pairs).values())} "
        f"| {sum((pairs - ref['System']).values())} |"
    )
    return lines


def main(paths: list[str]) -> None:
    print("| file | sheet | ifcfm | ours | same id | columns same | only ifcfm | only ours |")
    print("|---|---|---|---|---|---|---|---|")
    for p in paths:
        print("\n".join(compare(Path(p))))


if __name__ == "__main__":
    main(sys.argv[1:])
