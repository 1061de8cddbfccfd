"""Reading COBie workbooks that other tools wrote: ifcfm's, and the NIBS template's conventions."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import ifcopenshell
import openpyxl
import pandas as pd
import pytest
from sqlalchemy import select

from asset_model import assets_frame, open_registry, transaction
from asset_model.models import AssetType, System
from bim_ingest import export_cobie, ingest_file
from bim_ingest.cobie import EXTRA_SHEET, is_cobie_component
from tests.bim_ingest.test_cobie_reference import _safe, _with_type_data

ifcfm = pytest.importorskip("ifcfm")


def _frame(url: str) -> pd.DataFrame:
    engine = open_registry(url)
    with transaction(engine) as s:
        frame = assets_frame(s).set_index("asset_ref")
    engine.dispose()
    return frame


def test_ifcfm_workbook_ingests_like_its_ifc(
    shared_ifc: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    heating = shared_ifc / "bim2sim__b03_heating_with_building_blenderBIM.ifc"
    model = _with_type_data(heating, tmp_path / "heating.ifc", monkeypatch)
    # ifcfm's COBie 2.4 preset as its command line writes it ("N/A", "-"); its Coordinate
    # sheet fails (list + tuple), its Attribute sheet on a history without application,
    # and its rows on an owner history without user
    monkeypatch.delitem(ifcfm.cobie24.config["categories"], "Coordinate")
    monkeypatch.delitem(ifcfm.cobie24.config["categories"], "Attribute")  # needs an application
    for name in (
        "get_created_by",
        "get_created_on",
        "get_external_system",
        "get_email_from_history",
    ):
        monkeypatch.setattr(ifcfm.cobie24, name, _safe(getattr(ifcfm.cobie24, name)))
    parser = ifcfm.Parser(preset="cobie24")
    parser.parse(ifcopenshell.open(str(model)))
    writer = ifcfm.Writer(parser)
    writer.write(null="N/A", empty="-")
    writer.write_xlsx(str(tmp_path / "ifcfm.xlsx"))
    header = next(openpyxl.load_workbook(tmp_path / "ifcfm.xlsx")["Component"].iter_rows())
    assert "ExternalIdentifier" in [c.value for c in header]  # not the template's ExtIdentifier

    ingest_file(open_registry(f"sqlite:///{tmp_path / 'ifc.sqlite'}"), model)
    report = ingest_file(
        open_registry(f"sqlite:///{tmp_path / 'cobie.sqlite'}"), tmp_path / "ifcfm.xlsx"
    )
    assert report.kind == "cobie"
    ifc = _frame(f"sqlite:///{tmp_path / 'ifc.sqlite'}")
    cobie = _frame(f"sqlite:///{tmp_path / 'cobie.sqlite'}")
    # ifcfm keeps one component per Name: 5 of the 35 here (valves, pumps share names)
    assert 0 < len(cobie) < len(ifc)
    assert set(cobie.index) <= set(ifc.index)
    for column in ("name", "ifc_class", "category", "type_name", "space", "building"):
        mine, theirs = cobie[column], ifc.loc[cobie.index, column]
        assert mine.fillna("").astype(str).tolist() == theirs.fillna("").astype(str).tolist()
    boiler = cobie[cobie.category == "boiler"].iloc[0]
    assert (boiler.manufacturer, boiler.model) == ("Viessmann", "Vitodens 200-W")
    assert boiler.expected_life_years == 18  # ifcfm wrote "P18Y" into DurationUnit
    # System: ifcfm writes one row per system and component naming it; one system each
    engine = open_registry(f"sqlite:///{tmp_path / 'cobie.sqlite'}")
    with transaction(engine) as s:
        pump = s.scalars(select(AssetType).where(AssetType.name == "Inline-Pumpe")).one()
        assert (pump.manufacturer, pump.model, pump.expected_life_years) == (
            "Grundfos",
            "Magna3 32-100",
            10,
        )
        systems = {x.global_id: {a.name for a in x.assets} for x in s.scalars(select(System))}
    engine.dispose()
    rows = list(
        openpyxl.load_workbook(tmp_path / "ifcfm.xlsx")["System"].iter_rows(values_only=True)
    )
    expected: dict[str, set[str]] = {}
    for row in rows[1:]:
        record = dict(zip(rows[0], row, strict=True))
        expected.setdefault(record["ExternalIdentifier"], set()).add(record["ComponentNames"])
    assert systems == expected
    assert sum(len(names) for names in systems.values()) > len(systems) > 0


_TEMPLATE = {  # the NIBS COBie 2.4 template's conventions, as a published handover holds them
    "Instruction": [["Sheet", "Purpose"], ["Contact", "People and companies"]],
    "Contact": [["Email", "CreatedBy", "Company"], ["info@builder.example", "n/a", "Builder"]],
    "Facility": [
        ["Name", "CreatedBy", "CreatedOn", "Category", "ProjectName", "SiteName"]
        + ["LinearUnits", "ExternalSystem", "ExternalFacilityIdentifier"],
        ["Duplex", "info@builder.example", "2011-09-07T12:00:00", "11-12 21 00 : Apartment"]
        + ["Project", "Site", "feet", "Autodesk Revit", "1xS3BCk291UvhgP2dvNsgp"],
    ],
    "Floor": [
        ["Name", "CreatedBy", "Category", "ExtSystem", "ExtObject", "ExtIdentifier", "Elevation"],
        ["Level 1", "n/a", "Floor", "Revit", "IfcBuildingStorey", "1xS3BCk291UvhgP2a6eflK", 0],
        ["Level 2", "n/a", "Floor", "Revit", "IfcBuildingStorey", "1xS3BCk291UvhgP2a6efl_", 10],
    ],
    "Space": [
        ["Name", "Category", "FloorName", "Description", "ExtObject", "ExtIdentifier", "NetArea"],
        ["A101", "13-15 11 34 11 : Kitchen", "Level 1", "Kitchen", "IfcSpace", "0BTBFw6f90N", 12],
        ["A102", "13-55 24 11 : Living Room", "Level 1", "Living", "IfcSpace", "0BTBFw6f90O", 25],
        ["A201", "13-55 29 00 : Bedroom", "Level 2", "Bedroom", "IfcSpace", "0BTBFw6f90P", 14],
    ],
    "Zone": [  # one row per zone and space
        ["Name", "Category", "SpaceNames", "ExtObject", "ExtIdentifier"],
        ["Unit A", "Apartment", "A101", "IfcZone", "2ZgrEbq8j0VvRFQdSpe7gQ"],
        ["Unit A", "Apartment", "A102", "IfcZone", "2ZgrEbq8j0VvRFQdSpe7gQ"],
        ["Unit A", "Apartment", "A201", "IfcZone", "2ZgrEbq8j0VvRFQdSpe7gQ"],
        ["Lighting Zone", "Lighting", "A101", "IfcZone", "2ZgrEbq8j0VvRFQdSpe7gR"],
    ],
    "Type": [
        ["Name", "Category", "Description", "Manufacturer", "ModelNumber", "ExtObject"]
        + ["ExtIdentifier", "ExpectedLife", "DurationUnit", "ModelReference"],
        ["Boiler-1", "23-33 11 11 : Boilers", "Gas boiler", "hvac@maker.example", "GB-24"]
        + ["IfcBoilerType", "0Qt2jbYmj9sBmXW5$HdN7E", 20, "Year", "n/a"],
        ["Rad-600", "Pr_60_60_96_68 : Radiators", "n/a", "n/a", "n/a", "IfcFlowTerminalType"]
        + ["0Qt2jbYmj9sBmXW5$HdN7F", 300, "month", "n/a"],
        ["Door-36", "23-17 11 00 : Doors", "Door", "n/a", "n/a", "IfcDoorStyle"]
        + ["0Qt2jbYmj9sBmXW5$HdN7G", "n/a", "n/a", "D36-R"],
    ],
    "Component": [
        ["Name", "CreatedBy", "TypeName", "Space", "Description", "ExtSystem", "ExtObject"]
        + ["ExtIdentifier", "SerialNumber", "InstallationDate", "TagNumber", "AssetIdentifier"],
        [
            "Boiler-1 1",
            "n/a",
            "Boiler-1",
            "A101",
            "Gas boiler",
            "Revit",
            "IfcEnergyConversionDevice",
        ]
        + ["1bI2w2_NX6MeX1o2wg6Hhq", "SN-4471", "2011-06-01T00:00:00", "n/a", "B-001"],
        ["Rad-600 1", "n/a", "Rad-600", "A101,A102", "n/a", "Revit", "IfcFlowTerminal"]
        + ["1bI2w2_NX6MeX1o2wg6Hhr", "n/a", "1900-12-31T23:59:59", "n/a", "n/a"],
        ["Rad-600 1", "n/a", "Rad-600", "A201", "n/a", "Revit", "IfcFlowTerminal"]
        + ["1bI2w2_NX6MeX1o2wg6Hhs", "n/a", "n/a", "n/a", "n/a"],
        ["Door-36 1", "n/a", "Door-36", "A102", "n/a", "Revit", "IfcDoor"]
        + ["1bI2w2_NX6MeX1o2wg6Hht", "n/a", "n/a", "n/a", "n/a"],
    ],
    "System": [  # one row per system and component
        ["Name", "Category", "ComponentNames", "ExtObject", "ExtIdentifier"],
        ["Heating", "Heating", "Boiler-1 1", "IfcSystem", "3mR7Wz8b1CNe9kTq3r_g0A"],
        ["Heating", "Heating", "Rad-600 1", "IfcSystem", "3mR7Wz8b1CNe9kTq3r_g0A"],
    ],
    "Attribute": [
        ["Name", "Category", "SheetName", "RowName", "Value", "Unit", "ExtObject"],
        ["NominalCapacity", "Submitted", "Type", "Boiler-1", 24, "kW", "Pset_BoilerTypeCommon"],
    ],
}


def _write_xlsx(path: Path) -> Path:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for sheet, rows in _TEMPLATE.items():
        ws = wb.create_sheet(sheet)
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path


def _write_xls(path: Path) -> Path:
    import xlwt

    wb = xlwt.Workbook()
    for sheet, rows in _TEMPLATE.items():
        ws = wb.add_sheet(sheet)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                ws.write(r, c, value)
    wb.save(str(path))
    return path


def _write_xlsx_as_xls(path: Path) -> Path:
    return _write_xlsx(path.with_suffix(".xls"))  # read by its content, not its name


@pytest.mark.parametrize(
    "write", [_write_xlsx, _write_xls, _write_xlsx_as_xls], ids=["xlsx", "xls", "renamed"]
)
def test_published_handover_conventions_are_read(tmp_path: Path, write) -> None:
    path = write(tmp_path / f"duplex{'.xls' if write is _write_xls else '.xlsx'}")
    url = f"sqlite:///{tmp_path / 'r.sqlite'}"
    report = ingest_file(open_registry(url), path)
    assert report.by_category == {"boiler": 1, "radiator": 2, "door": 1}
    frame = _frame(url)
    boiler = frame.loc["1bI2w2_NX6MeX1o2wg6Hhq"]
    assert (boiler.manufacturer, boiler.model, boiler.serial_number) == (
        "hvac@maker.example",
        "GB-24",
        "SN-4471",
    )
    assert boiler.expected_life_years == 20  # ExpectedLife 20, DurationUnit "Year"
    assert pd.Timestamp(boiler.installed_on).date() == dt.date(2011, 6, 1)
    assert boiler.asset_tag == "B-001"  # AssetIdentifier when TagNumber is n/a
    radiators = frame[frame.type_name == "Rad-600"]
    assert (radiators.expected_life_years == 25).all()  # 300 months
    assert sorted(radiators.space) == ["A101", "A201"]  # "A101,A102": the first space
    assert radiators.installed_on.isna().all()  # the 1900 placeholder
    assert set(frame.dwelling.dropna()) == {"Unit A"}  # four rows, one dwelling zone
    assert frame.loc["1bI2w2_NX6MeX1o2wg6Hhs"].storey_elevation_m == pytest.approx(3.048)
    assert frame.loc["1bI2w2_NX6MeX1o2wg6Hht"].model == "D36-R"  # ModelReference
    engine = open_registry(url)
    with transaction(engine) as s:
        (heating,) = s.scalars(select(System)).all()
        # "Rad-600 1" names two components: both are members, the boiler too
        assert sorted(a.name for a in heating.assets) == ["Boiler-1 1", "Rad-600 1", "Rad-600 1"]
    engine.dispose()


@pytest.mark.parametrize(
    "name",
    [
        "xbim-cobieexpress__TestFile.ifc",
        "bim2sim__b03_heating_with_building_blenderBIM.ifc",
    ],
)
def test_a_cobie_without_our_extras_gets_the_categories_of_its_ifc(
    shared_ifc: Path, tmp_path: Path, name: str
) -> None:
    """Our export less its Attribute rows and extra sheet is what another tool would hand over:
    classified from ExtObject, the Type's class, names and Category alone, as the IFC was."""
    engine = open_registry(f"sqlite:///{tmp_path / 'ifc.sqlite'}")
    ingest_file(engine, shared_ifc / name)
    with transaction(engine) as s:
        export_cobie(s, tmp_path / "export.xlsx")
    engine.dispose()
    wb = openpyxl.load_workbook(tmp_path / "export.xlsx")
    del wb["Attribute"], wb[EXTRA_SHEET]
    wb.save(tmp_path / "foreign.xlsx")
    ingest_file(open_registry(f"sqlite:///{tmp_path / 'cobie.sqlite'}"), tmp_path / "foreign.xlsx")
    ifc = _frame(f"sqlite:///{tmp_path / 'ifc.sqlite'}")
    cobie = _frame(f"sqlite:///{tmp_path / 'cobie.sqlite'}")
    assert set(cobie.index) == {g for g in ifc.index if is_cobie_component(ifc.ifc_class[g])}
    for column in ("category", "name", "type_name", "space", "ifc_class"):
        mine, theirs = cobie[column], ifc.loc[cobie.index, column]
        assert mine.fillna("").astype(str).tolist() == theirs.fillna("").astype(str).tolist()
