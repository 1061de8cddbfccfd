"""Our COBie export of real IFC files against IfcOpenShell's ``ifcfm`` COBie 2.4 preset, and
against the COBie xBIM's toolkit published of SampleHouse4 (shared/ifc).

``ifcfm`` (a dev dependency) is the independent reference: it reads the IFC itself, we export
the registry the IFC was ingested into. Its rows are taken element by element from its
``cobie24`` functions, because its spreadsheet writer keeps one row per Name (duplicate
component names collapse) and it leaves ExpectedLife empty and writes the life into
DurationUnit (read here as the life, like our reader does). Known, documented differences
are asserted as such: furniture is not registered (so not exported), components without a
type object are exported by us and skipped by ``ifcfm``, elevations are in metres.
"""

from __future__ import annotations

import re
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

import ifcopenshell
import ifcopenshell.api
import ifcopenshell.api.owner.settings
import ifcopenshell.util.element
import ifcopenshell.util.unit
import openpyxl
import pytest

from asset_model import open_registry, transaction
from bim_ingest import export_cobie, ingest_file
from bim_ingest.cobie import EXTRA_SHEET
from bim_ingest.cobie_read import type_life
from bim_ingest.taxonomy import class_ancestry

cobie24 = pytest.importorskip("ifcfm.cobie24")


def _na(value: Any) -> Any:
    return None if value in (None, "", "n/a") else value


def _safe(fn: Any) -> Any:
    def inner(*args: Any) -> Any:
        try:
            return fn(*args)
        except (AttributeError, TypeError):  # ifcfm fails on IFC4 files without OwnerHistory
            return None

    return inner


def _reference(path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """ifcfm's COBie 2.4 rows, per element (its writer would drop duplicate names)."""
    for name in ("get_created_by", "get_created_on", "get_external_system"):
        monkeypatch.setattr(cobie24, name, _safe(getattr(cobie24, name)))
    f = ifcopenshell.open(str(path))
    return {
        "Component": [cobie24.get_component_data(f, e) for e in cobie24.get_components(f)],
        "Type": [cobie24.get_type_data(f, e) for e in cobie24.get_types(f)],
        "Floor": [cobie24.get_floor_data(f, e) for e in cobie24.get_floors(f)],
        "Space": [cobie24.get_space_data(f, e) for e in cobie24.get_spaces(f)],
        "System": Counter((s.GlobalId, e.GlobalId) for s, e in cobie24.get_systems(f)),
        "type_of": {
            e.GlobalId: ifcopenshell.util.element.get_type(e).GlobalId
            for e in cobie24.get_components(f)
        },
        "unit": ifcopenshell.util.unit.calculate_unit_scale(f),
        "schema": f.schema,
    }


def _ours(path: Path, tmp: Path) -> dict[str, list[dict[str, Any]]]:
    engine = open_registry(f"sqlite:///{tmp / 'registry.sqlite'}")
    ingest_file(engine, path)
    with transaction(engine) as s:
        export_cobie(s, tmp / "export.xlsx")
    engine.dispose()
    wb = openpyxl.load_workbook(tmp / "export.xlsx", read_only=True)
    sheets = {}
    for ws in wb.worksheets:
        rows = list(ws.iter_rows(values_only=True))
        sheets[ws.title] = [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]
    wb.close()
    return sheets


def _is(ifc_class: str, schema: str, parent: str) -> bool:
    return parent.lower() in class_ancestry(ifc_class, schema)


def _with_type_data(source: Path, target: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The heating model with what a supplier declares on its boiler and pump types.

    No shared file carries Pset_ManufacturerTypeInformation or Pset_ServiceLife on its types,
    which is where ifcfm reads Type.Manufacturer, ModelNumber (= ModelLabel) and the life.
    """
    # no owner history on the new psets (an IFC4 file; other tests set a builder's user)
    monkeypatch.setattr(ifcopenshell.api.owner.settings, "get_user", lambda f: None)
    monkeypatch.setattr(ifcopenshell.api.owner.settings, "get_application", lambda f: None)
    f = ifcopenshell.open(str(source))
    boiler, pump = f.by_type("IfcBoilerType")[0], f.by_type("IfcPumpType")[0]
    for typ, maker, label, reference, life in [
        (boiler, "Viessmann", "Vitodens 200-W", "B2HF", "P18Y"),
        (pump, "Grundfos", "Magna3 32-100", None, "P10Y"),
    ]:
        pset = ifcopenshell.api.run("pset.add_pset", f, product=typ, name="Pset_ServiceLife")
        ifcopenshell.api.run(
            "pset.edit_pset", f, pset=pset, properties={"ServiceLifeDuration": life}
        )
        pset = ifcopenshell.api.run(
            "pset.add_pset", f, product=typ, name="Pset_ManufacturerTypeInformation"
        )
        props = {"Manufacturer": maker, "ModelLabel": label, "ModelReference": reference}
        ifcopenshell.api.run(
            "pset.edit_pset", f, pset=pset, properties={k: v for k, v in props.items() if v}
        )
    f.write(str(target))
    return target


@pytest.mark.parametrize(
    "name",
    [
        "xbim-cobieexpress__TestFile.ifc",  # IFC2X3, COBie psets, furniture
        "bim2sim__b03_heating_with_building_blenderBIM.ifc",  # IFC4, systems
        "with type data",  # the same, its boiler and pump types declaring their data
        pytest.param(  # Revit, 202 components, 99 spaces, vanity units as furniture (~15 s)
            "web-ifc__Office_A_20110811.ifc", marks=pytest.mark.slow
        ),
    ],
)
def test_export_matches_ifcfm_element_for_element(
    shared_ifc: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    source = shared_ifc / name
    if name == "with type data":
        heating = shared_ifc / "bim2sim__b03_heating_with_building_blenderBIM.ifc"
        source = _with_type_data(heating, tmp_path / "heating.ifc", monkeypatch)
    ref = _reference(source, monkeypatch)
    ours = _ours(source, tmp_path)

    # Component: every typed COBie component, furniture included, with the same columns
    theirs = {r["ExternalIdentifier"]: r for r in ref["Component"]}
    mine = {r["ExtIdentifier"]: r for r in ours["Component"]}
    assert set(theirs) - set(mine) == set()
    assert all(_na(mine[g]["TypeName"]) is None for g in set(mine) - set(theirs))  # untyped
    common = set(theirs) & set(mine)
    assert common
    for column, theirs_column in [
        ("Name", "Name"),
        ("TypeName", "TypeName"),
        ("Space", "Space"),
        ("ExtObject", "ExternalObject"),
        ("Description", "Description"),
    ]:
        differ = [
            g for g in common if str(_na(mine[g][column])) != str(_na(theirs[g][theirs_column]))
        ]
        assert differ == [], (column, differ[:3])

    # Type: one row per type name (COBie's key; the registry merges same-named types of one
    # class, manufacturer and model), the GlobalId of one of them, manufacturer, model, life
    types = {r["ExternalIdentifier"]: r for r in ref["Type"]}
    exported = {r["Name"]: r for r in ours["Type"]}
    declared: Counter[str] = Counter()
    assert len(exported) == len(ours["Type"])
    assert set(exported) == {theirs[g]["TypeName"] for g in common}
    for name, row in exported.items():
        want = types[row["ExtIdentifier"]]
        same_name = {g for g, r in types.items() if r["Name"] == name}
        assert {ref["type_of"][g] for g in common if theirs[g]["TypeName"] == name} <= same_name
        # where the type declares a value, the same; where it does not, ifcfm leaves n/a and
        # we may give the value its components share (Revit puts type data on occurrences)
        for column in ("Manufacturer", "ModelNumber"):
            if _na(want[column]) is not None:
                assert row[column] == want[column], (name, column)
                declared[column] += 1
        if type_life(want) is not None:  # ifcfm: the life sits in DurationUnit
            assert type_life(row) == type_life(want), name
            assert _na(row["ExpectedLife"]) is not None
            assert row["DurationUnit"] == "year"
            declared["ExpectedLife"] += 1
    if name == "with type data":
        assert declared == {"Manufacturer": 2, "ModelNumber": 2, "ExpectedLife": 2}

    # Floor and Space: same GlobalIds, names, floors; elevations in metres
    floors = {r["ExternalIdentifier"]: r for r in ref["Floor"]}
    assert {r["ExtIdentifier"]: r["Name"] for r in ours["Floor"]} == {
        g: r["Name"] for g, r in floors.items()
    }
    for row in ours["Floor"]:
        raw = floors[row["ExtIdentifier"]]["Elevation"]
        assert float(row["Elevation"]) == pytest.approx(float(raw) * ref["unit"], abs=1e-3)
    assert {(r["ExtIdentifier"], r["Name"], r["FloorName"]) for r in ours["Space"]} == {
        (r["ExternalIdentifier"], r["Name"], r["FloorName"] or "n/a") for r in ref["Space"]
    }

    # System: one row per system and component, the same pairs; a system none of whose
    # members is registered (pipes only) keeps one row without component, ifcfm drops it
    rows = [(r["ExtIdentifier"], _na(r["ComponentIdentifiers"])) for r in ours["System"]]
    assert Counter(p for p in rows if p[1] is not None) == ref["System"]
    empty = [system for system, component in rows if component is None]
    assert len(empty) == len(set(empty))
    assert not set(empty) & {system for system, _ in ref["System"]}


def _cobie_express(path: Path) -> dict[str, dict[str, dict[str, Any]]]:
    """Components and types of xBIM's COBie (COBIE_EXPRESS STEP in a .cobiezip), by GlobalId.

    ifcopenshell has no COBIE_EXPRESS schema; the STEP instances are simple enough to split:
    COMPONENT(created, ExternalId, AltExternalId, system, ExternalObject, Name, …, Type, Spaces).
    """
    with zipfile.ZipFile(path) as z:
        text = z.read(z.namelist()[0]).decode("utf-8")
    entities = dict(re.findall(r"^(#\d+)=(.*);\s*$", text, re.M))

    def args(ref: str) -> list[str]:
        body = entities[ref]
        out, depth, quoted, current = [], 0, False, ""
        for ch in body[body.index("(") + 1 : body.rindex(")")]:
            quoted = not quoted if ch == "'" else quoted
            depth += (ch == "(") - (ch == ")") if not quoted else 0
            if ch == "," and depth == 0 and not quoted:
                out.append(current)
                current = ""
            else:
                current += ch
        return [*out, current]

    def text_of(value: str) -> str | None:
        return value.strip("'") if value.startswith("'") else None

    def name(ref: str) -> str | None:
        return text_of(args(ref)[5]) if ref.startswith("#") else None

    sheets: dict[str, dict[str, dict[str, Any]]] = {"Component": {}, "Type": {}}
    for ref, body in entities.items():
        if body.startswith("COMPONENT("):
            a = args(ref)
            sheets["Component"][text_of(a[1]) or ""] = {
                "Name": text_of(a[5]),
                "ExtObject": text_of(args(a[4])[0]),
                "TypeName": name(a[-2]),
                "Space": ",".join(name(r) or "" for r in re.findall(r"#\d+", a[-1])),
            }
        elif body.startswith("TYPE("):
            a = args(ref)
            sheets["Type"][text_of(a[1]) or ""] = {
                "Name": text_of(a[5]),
                "ExtObject": text_of(args(a[4])[0]),
            }
    return sheets


def test_export_matches_xbims_published_cobie_of_the_same_house(
    shared_ifc: Path, tmp_path: Path
) -> None:
    """SampleHouse4.cobiezip is the COBie xBIM's toolkit made of SampleHouse4.ifc (shared)."""
    theirs = _cobie_express(shared_ifc / "xbim-cobieexpress__SampleHouse4.cobiezip")
    ours = _ours(shared_ifc / "xbim-cobieexpress__SampleHouse4.ifc", tmp_path)
    mine = {r["ExtIdentifier"]: r for r in ours["Component"]}
    assert len(theirs["Component"]) == 24
    only_theirs = {
        theirs["Component"][g]["ExtObject"] for g in set(theirs["Component"]) - set(mine)
    }
    assert only_theirs == {"IfcCovering"}  # ceilings are finishes, not registered
    assert set(mine) <= set(theirs["Component"])
    floors = {r["Name"] for r in ours["Floor"]}
    for g, row in mine.items():
        want = theirs["Component"][g]
        assert (row["Name"], row["TypeName"], row["ExtObject"]) == (
            want["Name"],
            want["TypeName"],
            want["ExtObject"],
        )
        # xBIM writes the storey's name for an element outside any space; we (as ifcfm) n/a
        assert row["Space"] == (want["Space"] if want["Space"] not in floors else "n/a")
    types = {r["ExtIdentifier"]: r for r in ours["Type"]}
    assert set(types) <= set(theirs["Type"])
    for g, row in types.items():
        assert (row["Name"], row["ExtObject"]) == (
            theirs["Type"][g]["Name"],
            theirs["Type"][g]["ExtObject"],
        )
    # the roof is registered but is no COBie component: on our extra sheet only
    assert [r["ExtObject"] for r in ours[EXTRA_SHEET]] == ["IfcRoof"]
