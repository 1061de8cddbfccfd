"""The taxonomy and the property-set facts, without any file or registry."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bim_ingest import IngestError, classify, load_taxonomy
from bim_ingest.psets import asset_facts, facts_from, find_facts, parse_date, parse_years
from bim_ingest.spatial import compound_angle, space_usage, storey_elevations, typology
from bim_ingest.taxonomy import plain_case


@pytest.mark.parametrize(
    ("ifc_class", "type_class", "predefined", "names", "schema", "expected"),
    [
        ("IfcBoiler", None, "WATER", ["B1"], "IFC4", "boiler"),
        ("IfcEnergyConversionDevice", "IfcBoilerType", None, ["BOI_0501"], "IFC2X3", "boiler"),
        ("IfcFlowMovingDevice", "IfcPumpType", None, ["P1"], "IFC2X3", "pump"),
        ("IfcEnergyConversionDevice", "IfcHeatExchangerType", None, ["R"], "IFC2X3", "radiator"),
        ("IfcEnergyConversionDevice", "IfcSpaceHeaterType", None, ["R"], "IFC2X3", "radiator"),
        ("IfcFlowMovingDevice", "IfcFanType", None, ["F"], "IFC2X3", "ventilation_fan"),
        ("IfcFlowController", "IfcValveType", None, ["V"], "IFC2X3", "valve"),
        (
            "IfcFlowTerminal",
            "IfcElectricApplianceType",
            None,
            ["M_Elevator-Hydraulic:3500 lbs"],
            "IFC2X3",
            "elevator",
        ),
        (
            "IfcFlowTerminal",
            "IfcElectricApplianceType",
            None,
            ["Lave-linge"],
            "IFC2X3",
            "electrical",
        ),
        (
            "IfcFlowTerminal",
            "IfcLightFixtureType",
            None,
            ["Lighting Switches:One Way Switch"],
            "IFC2X3",
            "electrical",
        ),
        ("IfcFlowTerminal", "IfcLightFixtureType", None, ["Parkalux D333"], "IFC2X3", "light"),
        ("IfcBuildingElementProxy", None, None, ["Chaudière murale gaz"], "IFC4", "boiler"),
        ("IfcBuildingElementProxy", None, None, ["Heizkessel"], "IFC4", "boiler"),
        ("IfcBuildingElementProxy", None, None, ["Caisson VMC"], "IFC4", "ventilation_fan"),
        ("IfcBuildingElementProxy", None, None, ["Ascenseur"], "IFC4", "elevator"),
        ("IfcBuildingElementProxy", None, None, ["Aufzug 1"], "IFC4", "elevator"),
        ("IfcBuildingElementProxy", None, None, ["Cumulus 200L"], "IFC4", "water_heater"),
        ("IfcBuildingElementProxy", None, None, ["chauffe-eau"], "IFC4", "water_heater"),
        ("IfcBuildingElementProxy", None, None, ["PAC air-eau"], "IFC4", "heat_pump"),
        ("IfcBuildingElementProxy", None, None, ["Pompe à chaleur"], "IFC4", "heat_pump"),
        ("IfcUnitaryEquipment", None, None, ["Pompe à chaleur air/eau"], "IFC4", "heat_pump"),
        ("IfcUnitaryEquipment", "IfcUnitaryEquipmentType", None, ["PAC 8 kW"], "IFC4", "heat_pump"),
        (
            "IfcUnitaryEquipment",
            "IfcUnitaryEquipmentType",
            None,
            ["CTA"],
            "IFC4",
            "ventilation_fan",
        ),
        ("IfcBuildingElementProxy", None, None, ["Radiateur acier"], "IFC4", "radiator"),
        ("IfcBuildingElementProxy", None, None, ["Statue"], "IFC4", "other"),
        ("IfcFlowTerminal", None, None, ["Radiateur"], "IFC2X3", "radiator"),
        ("IfcTransportElement", None, None, ["Heis"], "IFC2X3", "elevator"),
        ("IfcSanitaryTerminal", "IfcSanitaryTerminalType", "BATH", [""], "IFC4X3", "sanitary"),
        ("IfcDistributionFlowElement", None, None, ["Kamin"], "IFC2X3", "other"),
    ],
)
def test_classify_catches_what_real_files_do(
    ifc_class: str,
    type_class: str | None,
    predefined: str | None,
    names: list[str],
    schema: str,
    expected: str,
) -> None:
    got = classify(
        ifc_class, type_class=type_class, predefined_type=predefined, name=names, schema=schema
    )
    assert got.category == expected


def test_proxy_with_electrical_psets_is_electrical() -> None:
    got = classify(
        "IfcBuildingElementProxy",
        name=["White Board"],
        pset_names=["PSet_Revit_Electrical - Loads"],
        schema="IFC2X3",
    )
    assert got.category == "electrical"
    assert classify("IfcBuildingElementProxy", name=["White Board"]).category == "other"


def test_default_lives_follow_the_maintenance_facts() -> None:
    assert classify("IfcBoiler").expected_life_years == 17
    assert classify("IfcPump").expected_life_years == 12
    assert classify("IfcTransportElement").expected_life_years == 25
    assert classify("IfcBuildingElementProxy", name="cumulus").expected_life_years == 12


NAMES = [
    "Chaudière murale gaz 12-3",
    "CHAUDIÈRE COLLECTIVE",
    "Heizkörper Typ 22",
    "WÄRMEPUMPE",
    "Pompe à chaleur air/eau",
    "PAC-01",
    "Caisson VMC",
    "M_Elevator-Hydraulic:3500 lbs",
    "Straße Aufzug",  # ß lowers to itself but upper-cases to SS: matched case-insensitively
    "İç ünite",  # İ lowers to two characters
    "ſwitch",  # long s folds with s
    "ΣΩΤΗΡ ς",
    "Monte-Charge",
    "",
]


def test_lower_cased_name_patterns_match_as_the_case_insensitive_ones() -> None:
    tax = load_taxonomy()
    compared = 0
    for rule in tax.rules:
        if rule.name_pattern is None:
            continue
        assert rule.name_lowered is not None, rule  # the shipped patterns all have a fast twin
        for text in NAMES:
            if plain_case(text):
                fast = rule.name_lowered.search(text.lower()) is not None
                assert fast == (rule.name_pattern.search(text) is not None), (rule, text)
                compared += 1
    assert compared >= 20 * 10  # every shipped pattern against the plain names
    # classify falls back to the case-insensitive pattern for the special letters
    assert not plain_case("ſwitch")
    assert not plain_case("İç ünite")
    assert classify("IfcFlowTerminal", name="ſwitch", taxonomy=tax).category == "electrical"


@pytest.mark.parametrize("pattern", [r"[A-z]_", r"\x41", r"(?i)a", r"(?P<n>a)", r"\Bx"])
def test_patterns_lower_casing_could_change_keep_only_the_case_insensitive_form(
    tmp_path: Path, pattern: str
) -> None:
    path = tmp_path / "tax.csv"
    path.write_text(f"priority,name_pattern,category\n1,{pattern},boiler\n", encoding="utf-8")
    (rule,) = load_taxonomy(path).rules
    assert rule.name_pattern is not None
    assert rule.name_lowered is None


def test_type_facts_found_once_merge_under_the_occurrence_ones() -> None:
    own = {"Pset_ManufacturerOccurrence": {"SerialNumber": "SN1", "Manufacturer": "n/a"}}
    typ = {"Pset_ManufacturerTypeInformation": {"Manufacturer": "Acme", "ModelLabel": "X1"}}
    merged = facts_from({**find_facts(typ), **find_facts(own)})
    assert merged == asset_facts(own, typ)
    assert (merged.manufacturer, merged.serial_number) == ("Acme", "SN1")


def test_user_taxonomy_overrides_the_shipped_one(tmp_path: Path) -> None:
    path = tmp_path / "mine.csv"
    path.write_text(
        "priority,ifc_class,name_pattern,category,expected_life_years\n"
        "1,IfcBuildingElementProxy,statue,fire_safety,3\n",
        encoding="utf-8",
    )
    tax = load_taxonomy(path)
    got = classify("IfcBuildingElementProxy", name="Statue", taxonomy=tax)
    assert (got.category, got.expected_life_years) == ("fire_safety", 3)
    assert classify("IfcBoiler", taxonomy=tax).category == "other"


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("priority,category\n1,spaceship\n", "row 2.*unknown category 'spaceship'"),
        ("priority,category,name_pattern\n1,boiler,(unclosed\n", "row 2.*bad rule"),
        ("ifc_class\nIfcBoiler\n", "misses column"),
    ],
)
def test_bad_taxonomy_is_refused_with_row_and_reason(tmp_path: Path, text: str, match: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(IngestError, match=match):
        load_taxonomy(path)


def test_facts_whatever_the_spelling_and_placeholders_are_unknown() -> None:
    facts = asset_facts(
        {
            "PSet_Revit_Other": {"InstallationDate": "InstallationDate", "SerialNumber": "-"},
            "Pset_ManufacturerOccurence": {"SerialNumber": "SN1", "BarCode": "n/a"},
            "COBie_Component": {"InstallationDate": "1900-12-31T23:59:59", "TagNumber": "T-1"},
            "Pset_Warranty": {"WarrantyEndDate": "N/A"},
        },
        {
            "Pset_ManufacturersTypeInformation": {"Manufacturer": "Atlantic", "ModelLabel": "X"},
            "Pset_ServiceLife": {"ServiceLifeDuration": "P15Y"},
        },
    )
    assert facts.manufacturer == "Atlantic"
    assert facts.model == "X"
    assert facts.serial_number == "SN1"
    assert facts.installed_on is None
    assert facts.expected_life_years == 15
    assert facts.warranty_until is None
    assert facts.tag == "T-1"


def test_instance_psets_win_over_type_psets() -> None:
    facts = asset_facts(
        {"Identity Data": {"Manufacturer": "Own"}},
        {"Pset_ManufacturerTypeInformation": {"Manufacturer": "Type"}},
    )
    assert facts.manufacturer == "Own"


def test_warranty_from_cobie_duration() -> None:
    facts = asset_facts(
        {
            "COBie_Component": {"WarrantyStartDate": "2020-01-01"},
            "COBie_Warranty": {"WarrantyDurationParts": 2.0},
        }
    )
    assert facts.warranty_until == dt.date(2022, 1, 1)


def test_dates_durations_and_spatial_helpers() -> None:
    assert parse_date("12/03/2015") == dt.date(2015, 3, 12)
    assert parse_date("1900-01-01") is None
    assert parse_date("bientôt") is None
    assert parse_years(18, "month") == 1.5
    assert parse_years("n/a") is None
    assert compound_angle((-33, -52, -7, -200000)) == pytest.approx(
        -(33 + 52 / 60 + 7.2 / 3600), abs=1e-9
    )
    assert space_usage("Local VMC") == "technical"
    assert space_usage("Hall d'entrée") == "common"
    assert space_usage("Wohnung 3") == "dwelling"
    assert typology("Appartement F4") == "T4"
    # metres written into a millimetre file: the elevations are kept as metres
    assert storey_elevations([0.0, 2.8, 5.6], 0.001) == [0.0, 2.8, 5.6]
    assert storey_elevations([0.0, 2800.0], 0.001) == [0.0, 2.8]
    assert storey_elevations([0.0, 9.1863], 0.3048) == [0.0, 2.8]
