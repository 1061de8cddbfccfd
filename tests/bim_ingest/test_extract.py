"""Extraction of small models built in memory, once per schema."""

from __future__ import annotations

from pathlib import Path

import ifcopenshell.api
import pytest

from bim_ingest import extract_ifc
from tests.bim_ingest.builders import SCHEMAS, _equipment, _new, build_model, write_model


@pytest.fixture(scope="module", params=SCHEMAS)
def model(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    schema = request.param
    f = build_model(schema)
    path = write_model(f, tmp_path_factory.mktemp(schema) / "tilleuls.ifc")
    return schema, f, extract_ifc(path)


def _asset(records, gid):
    return next(a for a in records.assets if a.global_id == gid)


def test_spatial_structure_in_metres(model) -> None:
    schema, _, rec = model
    assert rec.source.schema.startswith(schema)
    assert rec.source.application == "Patrimoine test builder 1.0"
    (site,) = rec.sites
    assert site.name == "Cité Jardin"
    assert site.latitude == pytest.approx(48 + 51 / 60 + 24 / 3600)
    assert site.longitude == pytest.approx(2.35)
    (building,) = rec.buildings
    assert building.site_global_id == site.global_id
    assert sorted(s.elevation_m for s in rec.storeys) == [0.0, 2.8]  # file is in millimetres
    usage = {s.long_name: s.usage for s in rec.spaces}
    assert usage == {
        "Chaufferie": "technical",
        "Séjour": "dwelling",
        "Chambre": "dwelling",
        "Salle de bain": "dwelling",
        "Hall d'entrée": "common",
    }


def test_dwellings_from_zones_with_typology(model) -> None:
    _, _, rec = model
    (dwelling,) = rec.dwellings
    assert (dwelling.name, dwelling.typology) == ("Logement 101 - T2", "T2")
    assert dwelling.area_m2 == 47.5
    assert rec.buildings[0].year_built == 1968
    members = {s.long_name for s in rec.spaces if s.dwelling_global_id == dwelling.global_id}
    assert members == {"Séjour", "Chambre", "Salle de bain"}


def test_every_equipment_classified_and_network_counted(model) -> None:
    schema, f, rec = model
    cats = {k: _asset(rec, gid).category for k, gid in f.equipment.items()}
    assert cats == {
        "boiler": "boiler",
        "pump": "pump",
        "radiator": "radiator",
        "valve": "valve",
        "light": "light",
        "switch": "electrical",
        "sink": "sanitary",
        "elevator": "elevator",
        "proxy": "water_heater",
    }
    assert len(rec.assets) == len(f.equipment)
    assert sum(rec.network.values()) == 5
    assert rec.skipped == {"IfcWall": 1}
    net_classes = {cls for (_, cls) in rec.network}
    expected = (
        {"IfcFlowSegment", "IfcFlowFitting"}
        if schema == "IFC2X3"
        else {"IfcPipeSegment", "IfcPipeFitting"}
    )
    assert net_classes == expected


def test_asset_facts_containers_and_serves(model) -> None:
    _, f, rec = model
    boiler = _asset(rec, f.equipment["boiler"])
    assert (boiler.manufacturer, boiler.model) == ("De Dietrich", "C 330 ECO")
    assert boiler.serial_number == "SN-4242"  # the instance's, not the type's
    assert str(boiler.installed_on) == "2009-10-01"
    assert boiler.warranty_until is None  # 1900 placeholder start
    assert boiler.expected_life_years == 22.0  # from Pset_ServiceLife, over the default
    assert boiler.tag == "CH-01"
    assert boiler.classification == "Pr_60_60_08_33 Gas fired boilers"
    assert boiler.serves == "building"  # in the boiler room
    assert boiler.space_global_id is not None
    assert boiler.storey_global_id is not None
    # instance and type psets merged, instance wins
    assert boiler.properties["Pset_ManufacturersTypeInformation"]["Manufacturer"] == ("De Dietrich")
    radiator = _asset(rec, f.equipment["radiator"])
    assert radiator.serves == "dwelling"
    assert radiator.dwelling_global_id is not None
    assert radiator.expected_life_years == 25
    lift = _asset(rec, f.equipment["elevator"])
    assert lift.space_global_id is None
    assert lift.storey_global_id is not None
    (system,) = rec.systems
    assert set(system.members) == {f.equipment["boiler"], f.equipment["pump"]}


def test_metre_file_gives_the_same_elevations(tmp_path: Path) -> None:
    rec = extract_ifc(write_model(build_model("IFC4", millimetres=False), tmp_path / "m.ifc"))
    assert sorted(s.elevation_m for s in rec.storeys) == [0.0, 2.8]


@pytest.mark.parametrize("schema", SCHEMAS)
def test_equipment_in_a_space_named_as_a_dwelling_serves_that_dwelling(
    schema: str, tmp_path: Path
) -> None:
    f = build_model(schema)
    storey = f.by_type("IfcBuildingStorey")[-1]
    flat = _new(f, "IfcSpace", "Logement 202")  # no IfcZone: the space is the dwelling
    ifcopenshell.api.aggregate.assign_object(f, products=[flat], relating_object=storey)
    heater, _ = _equipment(
        f, schema, "IfcSpaceHeater", "IfcEnergyConversionDevice", "IfcSpaceHeaterType",
        "Radiateur séjour 202", "Radiateur acier", flat,
    )  # fmt: skip
    rec = extract_ifc(write_model(f, tmp_path / "flat.ifc"))
    assert flat.GlobalId in {d.global_id for d in rec.dwellings}
    radiator = _asset(rec, heater.GlobalId)
    assert (radiator.space_global_id, radiator.dwelling_global_id) == (flat.GlobalId,) * 2
    assert radiator.serves == "dwelling"
