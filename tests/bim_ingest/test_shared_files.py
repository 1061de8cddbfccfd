"""Every file of ../shared/ifc against what SOURCES.md says it holds."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest

from bim_ingest import IngestError, extract_file
from bim_ingest.records import ModelRecords

FILES = [
    "xbim-cobieexpress__TestFile.ifc",
    "bim2sim__b03_heating_with_building_blenderBIM.ifc",
    "bim2sim__3rooms_Heater_AirTerminal_Table_with_SB.ifc",
    "web-ifc__Office_A_20110811.ifc",
    "xbim-exchange__Standard_Classroom_CIC_6_Project_mod2.ifc",
    "bimserver-testfiles__AC11-FZK-Haus-IFC.ifc",
    "web-ifc__AC20-FZK-Haus.ifc",
    "bimserver-testfiles__AC90R1-niedriha-V2-2x3.ifc",
    "bimserver__IfcTransportElement.ifc",
    "xbim-cobieexpress__SampleHouse4.ifc",
    "bsi-ifc43-samples__bath-csg-solid.ifc",
    "bsi-ifc43-samples__basin-tessellation.ifc",
    "format-variants/bim2sim__AC20-FZK-Haus.ifczip",
]


@pytest.fixture(scope="module")
def extracted(shared_ifc: Path) -> dict[str, ModelRecords]:
    return {name: extract_file(shared_ifc / name) for name in FILES}


def _cats(rec: ModelRecords) -> Counter[str]:
    return Counter(a.category for a in rec.assets)


def test_every_shared_file_is_read_and_nothing_dropped(extracted) -> None:
    for name, rec in extracted.items():
        assert rec.buildings, name
        for asset in rec.assets:
            assert asset.global_id, name
            assert asset.category, name
            assert asset.building_global_id, name


def test_heating_model(extracted) -> None:
    rec = extracted["bim2sim__b03_heating_with_building_blenderBIM.ifc"]
    cats = _cats(rec)
    assert (cats["boiler"], cats["pump"], cats["radiator"], cats["valve"]) == (1, 4, 7, 11)
    assert not [a for a in rec.assets if "Pipe" in a.ifc_class]
    net = Counter()
    for (_, cls), n in rec.network.items():
        net[cls] += n
    assert net == {"IfcPipeSegment": 100, "IfcPipeFitting": 97}
    assert rec.sites[0].latitude is None  # no georeference
    assert all(a.storey_global_id for a in rec.assets if a.category != "window")


def test_three_rooms(extracted) -> None:
    cats = _cats(extracted["bim2sim__3rooms_Heater_AirTerminal_Table_with_SB.ifc"])
    assert (cats["air_terminal"], cats["radiator"]) == (2, 2)


def test_office_elevator_typed_as_electric_appliance(extracted) -> None:
    rec = extracted["web-ifc__Office_A_20110811.ifc"]
    lifts = [a for a in rec.assets if "Hydraulic" in (a.name or "")]
    assert [a.category for a in lifts] == ["elevator"]
    assert lifts[0].ifc_class == "IfcFlowTerminal"
    assert len(rec.spaces) == 99
    assert len(rec.storeys) == 3
    assert sum(1 for a in rec.assets if a.ifc_class == "IfcFlowTerminal") == 31
    # Revit placeholders ("Manufacturer" = "Manufacturer") are unknown, real values are kept
    assert lifts[0].manufacturer is None
    assert lifts[0].serial_number is None
    assert any(a.manufacturer == "Bradley Corporation" for a in rec.assets)


def test_classroom_proxies_are_electrical(extracted) -> None:
    rec = extracted["xbim-exchange__Standard_Classroom_CIC_6_Project_mod2.ifc"]
    proxies = [a for a in rec.assets if a.ifc_class == "IfcBuildingElementProxy"]
    assert len(proxies) == 18
    assert {a.category for a in proxies} == {"electrical"}
    assert _cats(rec)["light"] == 8


def test_cobie_testfile_placeholders(extracted) -> None:
    rec = extracted["xbim-cobieexpress__TestFile.ifc"]
    furniture = [a for a in rec.assets if a.ifc_class == "IfcFurnishingElement"]
    assert [a.category for a in furniture] == ["other"]  # a COBie component, kept as other
    equipment = [a for a in rec.assets if a.category not in ("door", "window", "other")]
    assert len(equipment) == 5
    assert Counter(a.category for a in equipment) == {
        "boiler": 1,
        "ventilation_fan": 2,
        "pump": 1,
        "electrical": 1,
    }
    assert all(a.installed_on is None for a in equipment)  # 1900 dates
    boiler = next(a for a in equipment if a.category == "boiler")
    assert (boiler.manufacturer, boiler.model, boiler.serial_number) == (
        "sales@boilr.com",
        "Model3",
        "SerialNo4",
    )  # COBie's ModelNumber is the ModelLabel (as xBIM and ifcfm map it), not ModelReference
    assert boiler.expected_life_years == 15
    assert boiler.classification.startswith("Pr_60_60_08_33")
    assert len(rec.spaces) == 5
    assert len(rec.storeys) == 2


def test_fzk_houses_and_architecture_only_files(extracted) -> None:
    ac11 = extracted["bimserver-testfiles__AC11-FZK-Haus-IFC.ifc"]
    assert _cats(ac11)["sanitary"] == 6
    kamin = [a for a in ac11.assets if a.ifc_class == "IfcDistributionFlowElement"]
    assert [a.category for a in kamin] == ["other"]  # kept, counted as other
    assert len(ac11.spaces) == 7
    assert len(ac11.storeys) == 2
    niedriha = extracted["bimserver-testfiles__AC90R1-niedriha-V2-2x3.ifc"]
    assert len(niedriha.spaces) == 19
    assert len(niedriha.storeys) == 4
    assert set(_cats(niedriha)) <= {"door", "window"}
    house = extracted["xbim-cobieexpress__SampleHouse4.ifc"]
    assert set(_cats(house)) <= {"door", "window", "roof", "other"}
    others = {a.ifc_class for a in house.assets if a.category == "other"}
    assert others == {"IfcFurniture"}  # furniture: COBie components, not equipment


def test_transport_elements_in_millimetre_file(extracted) -> None:
    rec = extracted["bimserver__IfcTransportElement.ifc"]
    assert _cats(rec) == {"elevator": 3}
    assert len(rec.storeys) == 7
    assert not rec.spaces
    elevations = sorted(s.elevation_m for s in rec.storeys)
    assert 10 < elevations[0] < 50
    assert elevations[-1] - elevations[0] < 40


@pytest.mark.parametrize(
    "name", ["bsi-ifc43-samples__bath-csg-solid.ifc", "bsi-ifc43-samples__basin-tessellation.ifc"]
)
def test_ifc4x3_sanitary_without_site_or_storey(extracted, name: str) -> None:
    rec = extracted[name]
    assert rec.source.schema.startswith("IFC4X3")
    assert not rec.sites
    assert not rec.storeys
    (asset,) = rec.assets
    assert asset.category == "sanitary"
    assert asset.storey_global_id is None
    assert asset.building_global_id == rec.buildings[0].global_id


def test_ifczip_ingests_like_the_ifc(extracted) -> None:
    zipped = extracted["format-variants/bim2sim__AC20-FZK-Haus.ifczip"]
    plain = extracted["web-ifc__AC20-FZK-Haus.ifc"]
    assert sorted((a.global_id, a.category) for a in zipped.assets) == sorted(
        (a.global_id, a.category) for a in plain.assets
    )
    assert len(zipped.spaces) == len(plain.spaces)


@pytest.mark.parametrize(
    ("name", "match"),
    [
        ("format-variants/bim2sim__AC20-FZK-Haus.ifcxml", "ifcXML is not supported"),
        (
            "expected-failures/bimserver-testfiles__FJK-Project-Final.ifc",
            "unsupported IFC schema IFC2X_FINAL",
        ),
        (
            "expected-failures/web-ifc__KIT-Simple-Road-Test-Web-IFC4x3_RC2.ifc",
            "unsupported IFC schema IFC4X3_RC2",
        ),
        ("xbim-cobieexpress__SampleHouse4.cobiezip", "COBIE_EXPRESS STEP schema"),
    ],
)
def test_refused_shared_files(shared_ifc: Path, name: str, match: str) -> None:
    with pytest.raises(IngestError, match=match) as info:
        extract_file(shared_ifc / name)
    assert name.split("/")[-1] in str(info.value)


def test_truncated_corrupt_empty_and_foreign_files(shared_ifc: Path, tmp_path: Path) -> None:
    data = (shared_ifc / "xbim-cobieexpress__TestFile.ifc").read_bytes()
    cases = {
        "truncated.ifc": (data[: len(data) // 2], "truncated STEP file"),
        "empty.ifc": (b"", "empty file"),
        "notes.ifc": (b"Minutes of the site meeting\n", "not an IFC file"),
        "garbage.ifczip": (b"PK\x03\x04garbage", "not a readable zip"),
    }
    for name, (content, match) in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(IngestError, match=match):
            extract_file(path)
    copy = tmp_path / "copy.ifc"
    shutil.copy(shared_ifc / "bsi-ifc43-samples__bath-csg-solid.ifc", copy)
    assert extract_file(copy).assets
