"""COBie 2.4: export → ingest elsewhere gives the same registry; foreign workbooks are read."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from asset_model import assets_frame, open_registry, transaction
from asset_model.models import Asset, AssetType, Dwelling, Space, Storey, System
from bim_ingest import IngestError, export_cobie, ingest_file
from bim_ingest.cobie import EXTRA_SHEET, SHEETS
from tests.bim_ingest.builders import build_model, write_model

SAME = [
    "asset_ref",
    "asset_tag",
    "name",
    "ifc_class",
    "predefined_type",
    "category",
    "serves",
    "status",
    "site",
    "building",
    "building_ref",
    "latitude",
    "longitude",
    "storey",
    "storey_elevation_m",
    "space",
    "dwelling",
    "type_name",
    "manufacturer",
    "model",
    "serial_number",
    "installed_on",
    "expected_life_years",
]


def _types(session: Session) -> set[tuple]:
    return {
        (t.global_id, t.name, t.ifc_class, t.predefined_type, t.category, t.manufacturer)
        + (t.model, t.expected_life_years)
        for t in session.scalars(select(AssetType))
    }


def _systems(session: Session) -> set[tuple]:
    return {
        (s.global_id, s.name, s.kind, tuple(sorted(a.global_id for a in s.assets)))
        for s in session.scalars(select(System))
    }


def _frame(engine):
    with transaction(engine) as s:
        frame = assets_frame(s)
    frame = frame.sort_values("asset_ref").reset_index(drop=True)[SAME]
    # an empty name is no name: IFC ingest keeps SampleHouse4's building LongName '' as ''
    return frame.replace("", None)


def test_round_trip_gives_the_same_registry(
    registry_url: str, tmp_path: Path, shared_ifc: Path
) -> None:
    first = open_registry(registry_url)
    second = open_registry(f"sqlite:///{tmp_path / 'elsewhere.sqlite'}")
    ingest_file(first, write_model(build_model("IFC2X3"), tmp_path / "tilleuls.ifc"))
    ingest_file(first, shared_ifc / "xbim-cobieexpress__TestFile.ifc")
    ingest_file(first, shared_ifc / "bim2sim__b03_heating_with_building_blenderBIM.ifc")
    ingest_file(first, shared_ifc / "xbim-cobieexpress__SampleHouse4.ifc")  # a roof
    ingest_file(first, shared_ifc / "bimserver-testfiles__AC11-FZK-Haus-IFC.ifc")  # a bare
    # IfcDistributionFlowElement (the fireplace)
    out = tmp_path / "handover.xlsx"
    with transaction(first) as s:
        export_cobie(s, out)
    wb = openpyxl.load_workbook(out, read_only=True)
    assert set(SHEETS) <= set(wb.sheetnames)
    header = [c.value for c in next(wb["Component"].iter_rows(max_row=1))]
    assert header[:9] == [
        "Name",
        "CreatedBy",
        "CreatedOn",
        "TypeName",
        "Space",
        "Description",
        "ExtSystem",
        "ExtObject",
        "ExtIdentifier",
    ]
    assert {"Manufacturer", "ModelNumber", "ExpectedLife"} <= {
        c.value for c in next(wb["Type"].iter_rows(max_row=1))
    }
    # COBie components only on the Component sheet; the roof and the fireplace aside
    classes = {r[7] for r in wb["Component"].iter_rows(min_row=2, values_only=True)}
    aside = {r[7] for r in wb[EXTRA_SHEET].iter_rows(min_row=2, values_only=True)}
    assert {"IfcRoof", "IfcDistributionFlowElement"} == aside
    assert not classes & aside
    # one System row per system and component
    systems = [(r[8], r[9]) for r in wb["System"].iter_rows(min_row=2, values_only=True)]
    assert len(systems) == len(set(systems)) > len({s for s, _ in systems})
    wb.close()
    report = ingest_file(second, out)
    assert report.kind == "cobie"
    assert report.added == report.assets > 0
    a, b = _frame(first), _frame(second)
    assert len(a) == len(b)
    for column in SAME:
        assert a[column].astype(str).tolist() == b[column].astype(str).tolist(), column
    with Session(first) as s1, Session(second) as s2:
        for model in (Storey, Space, Dwelling):
            assert s1.scalar(select(func.count()).select_from(model)) == s2.scalar(
                select(func.count()).select_from(model)
            ), model
        assert _types(s1) == _types(s2)
        assert _systems(s1) == _systems(s2)
    # ingesting the export again changes nothing
    again = ingest_file(second, out)
    assert (again.added, again.changed, again.removed) == (0, 0, 0)
    first.dispose()
    second.dispose()


def _foreign_cobie(path: Path) -> Path:
    """A minimal COBie 2.4 handover as another tool writes it (no Patrimoine attributes)."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    data = {
        "Facility": [
            ["Name", "ProjectName", "SiteName", "LinearUnits", "ExternalFacilityIdentifier"],
            ["Résidence du Parc", "Parc", "Quartier Nord", "millimeters", "FAC-1"],
        ],
        "Floor": [
            ["Name", "ExtIdentifier", "Elevation"],
            ["RDC", "FL-0", 0],
            ["R+1", "FL-1", 2900],
        ],
        "Space": [
            ["Name", "FloorName", "Description", "ExtIdentifier"],
            ["SS-01", "RDC", "Chaufferie", "SP-1"],
            ["101-1", "R+1", "Séjour", "SP-2"],
        ],
        "Zone": [
            ["Name", "Category", "SpaceNames", "ExtIdentifier"],
            ["Logement 101", "Logement T3", "101-1", "Z-1"],
        ],
        "Type": [
            [
                "Name",
                "Category",
                "Manufacturer",
                "ModelNumber",
                "ExtObject",
                "ExtIdentifier",
                "ExpectedLife",
                "DurationUnit",
            ],
            [
                "Chaudière 200kW",
                "Pr_60_60_08",
                "Viessmann",
                "Vitocrossal",
                "IfcBoilerType",
                "T-1",
                25,
                "year",
            ],
            ["Radiateur", "n/a", "Finimetal", "Reggane", "", "T-2", "", 30],
        ],
        "Component": [
            [
                "Name",
                "TypeName",
                "Space",
                "Description",
                "ExtObject",
                "ExtIdentifier",
                "SerialNumber",
                "InstallationDate",
                "TagNumber",
            ],
            [
                "CH-1",
                "Chaudière 200kW",
                "SS-01",
                "Chaudière collective",
                "IfcBoiler",
                "3Zb9Cn7qn0n8rJk_y0Zx01",
                "SN77",
                "2012-05-01",
                "TAG-CH1",
            ],
            [
                "RAD-1",
                "Radiateur",
                "101-1",
                "",
                "IfcFlowTerminal",
                "3Zb9Cn7qn0n8rJk_y0Zx02",
                "n/a",
                "1900-01-01",
                "",
            ],
        ],
    }
    for sheet, rows in data.items():
        ws = wb.create_sheet(sheet)
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path


def test_foreign_cobie_is_classified_and_located(tmp_path: Path) -> None:
    engine = open_registry(f"sqlite:///{tmp_path / 'r.sqlite'}")
    report = ingest_file(engine, _foreign_cobie(tmp_path / "parc.xlsx"))
    assert report.by_category == {"boiler": 1, "radiator": 1}
    with transaction(engine) as s:
        frame = assets_frame(s).set_index("asset_ref")
    boiler = frame.loc["3Zb9Cn7qn0n8rJk_y0Zx01"]
    assert (boiler.manufacturer, boiler.model, boiler.serial_number) == (
        "Viessmann",
        "Vitocrossal",
        "SN77",
    )
    assert boiler.expected_life_years == 25
    assert boiler.serves == "building"
    assert boiler.storey_elevation_m == 0
    assert boiler.asset_tag == "TAG-CH1"
    radiator = frame.loc["3Zb9Cn7qn0n8rJk_y0Zx02"]
    assert radiator.dwelling == "Logement 101"
    assert radiator.expected_life_years == 30  # ifcfm: the life in DurationUnit
    assert radiator.serves == "dwelling"
    assert radiator.storey_elevation_m == pytest.approx(2.9)
    assert str(radiator.installed_on) in ("NaT", "None", "nan")
    engine.dispose()


def test_not_a_cobie_workbook_is_refused(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    wb.active.title = "Budget"
    wb.save(tmp_path / "budget.xlsx")
    engine = open_registry(f"sqlite:///{tmp_path / 'r.sqlite'}")
    with pytest.raises(IngestError, match=r"budget.xlsx: refused: not a COBie 2.4 workbook"):
        ingest_file(engine, tmp_path / "budget.xlsx")
    (tmp_path / "broken.xlsx").write_bytes(b"not a zip")
    with pytest.raises(IngestError, match="not a readable xlsx workbook"):
        ingest_file(engine, tmp_path / "broken.xlsx")
    engine.dispose()


def test_two_types_of_one_name_round_trip(tmp_path: Path) -> None:
    """Two radiator types share a name (other class and maker): each component keeps its own."""
    path = _foreign_cobie(tmp_path / "parc.xlsx")
    wb = openpyxl.load_workbook(path)
    wb["Type"].append(["Radiateur", "n/a", "Acova", "Fassane", "IfcSpaceHeaterType", "T-3"])
    wb.save(path)
    first = open_registry(f"sqlite:///{tmp_path / 'first.sqlite'}")
    ingest_file(first, path)
    with transaction(first) as s:
        acova = s.scalars(select(AssetType).where(AssetType.global_id == "T-3")).one()
        finimetal = s.scalars(select(AssetType).where(AssetType.global_id == "T-2")).one()
        radiator = s.scalars(select(Asset).where(Asset.global_id.endswith("Zx02"))).one()
        radiator.asset_type = finimetal  # a COBie row names its type: the reader took the last
        assert acova.name == finimetal.name
        # a second radiator of the other type
        s.add(
            Asset(
                global_id="3Zb9Cn7qn0n8rJk_y0Zx03",
                name="RAD-2",
                category="radiator",
                ifc_class="IfcSpaceHeater",
                building_id=radiator.building_id,
                asset_type=acova,
            )
        )
    with transaction(first) as s:
        export_cobie(s, tmp_path / "out.xlsx")
    second = open_registry(f"sqlite:///{tmp_path / 'second.sqlite'}")
    ingest_file(second, tmp_path / "out.xlsx")
    with Session(first) as s1, Session(second) as s2:
        assert _types(s1) == _types(s2)
        owners = {a.global_id: a.asset_type.global_id for a in s2.scalars(select(Asset))}
    assert owners["3Zb9Cn7qn0n8rJk_y0Zx02"] == "T-2"
    assert owners["3Zb9Cn7qn0n8rJk_y0Zx03"] == "T-3"
    first.dispose()
    second.dispose()
