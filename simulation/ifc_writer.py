"""IFC files of a planned stock: one per building, IFC4 or IFC2X3 as real deliveries are.

Direct ``create_entity`` calls (the fast path: thousands of assets a second, for stocks of
100,000 dwellings); ``ifcopenshell.api`` sets up the representation context. Files are
reproducible byte for byte: seeded GlobalIds, fixed header time stamp, units created by hand.

Examples
--------
>>> from simulation import generate_stock
>>> paths = generate_stock("/tmp/stock", estates=1, seed=0)       # doctest: +SKIP
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from pathlib import Path

import ifcopenshell
import ifcopenshell.api
import ifcopenshell.guid
import numpy as np
import pandas as pd

from simulation.stock import TYPES, PlannedAsset, PlannedBuilding, PlannedStock, _Guids, plan_stock

FIXED_TIMESTAMP = 1_735_689_600  # 2025-01-01T00:00:00Z: files are byte-for-byte reproducible


def write_stock(stock: PlannedStock, out_dir: Path | str) -> list[Path]:
    """Write one IFC file per building into ``out_dir``; returns the paths (sorted)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for b in stock.buildings:
        path = out / b.file_name
        _write_building(b, path)
        paths.append(path)
    return sorted(paths)


def generate_stock(
    out_dir: Path | str, *, dwellings: int | None = None, estates: int = 1, seed: int = 0
) -> list[Path]:
    """Plan and write a stock: ``generate_stock(dir, dwellings=100_000)`` for benchmarks."""
    return write_stock(plan_stock(estates=estates, dwellings=dwellings, seed=seed), out_dir)


class _Writer:
    """Direct ``create_entity`` calls (fast path); the project set-up uses ``ifcopenshell.api``."""

    def __init__(self, b: PlannedBuilding) -> None:
        self.b = b
        self.f = ifcopenshell.file(schema=b.schema)
        self.ifc4 = b.schema != "IFC2X3"
        rng = np.random.default_rng(int(uuid.UUID(ifcopenshell.guid.expand(b.ref)).int % 2**63))
        self.guid = _Guids(rng)
        f = self.f
        person = f.createIfcPerson(None, "Martin", "Claire")
        org = f.createIfcOrganization(None, "Office Public de l'Habitat du Nord")
        user = f.createIfcPersonAndOrganization(person, org)
        app = f.createIfcApplication(org, "1.0", "Patrimoine sample stock generator", "PATRIMOINE")
        self.history = f.createIfcOwnerHistory(
            user,
            app,
            None,
            "ADDED" if self.ifc4 else "NOCHANGE",
            None,
            None,
            None,
            FIXED_TIMESTAMP,
        )
        self.project = self.root("IfcProject", "Patrimoine OPH", GlobalId=b.project_ref)
        # units by hand: ``unit.assign_unit`` orders them differently from one process to the
        # next (set iteration), which would break byte-for-byte reproducibility
        units = [
            f.createIfcSIUnit(None, kind, None, name)
            for kind, name in (
                ("LENGTHUNIT", "METRE"),
                ("AREAUNIT", "SQUARE_METRE"),
                ("VOLUMEUNIT", "CUBIC_METRE"),
                ("PLANEANGLEUNIT", "RADIAN"),
            )
        ]
        self.project.UnitsInContext = f.createIfcUnitAssignment(units)
        ifcopenshell.api.run("context.add_context", f, context_type="Model")

    def root(self, cls: str, name: str | None = None, **attrs) -> ifcopenshell.entity_instance:
        return self.f.create_entity(
            cls,
            GlobalId=attrs.pop("GlobalId", None) or self.guid(),
            OwnerHistory=self.history,
            Name=name,
            **attrs,
        )

    def pset(self, name: str, props: dict, targets: list) -> ifcopenshell.entity_instance:
        pset = self.root("IfcPropertySet", name, HasProperties=self._props(props))
        if targets:
            self.root(
                "IfcRelDefinesByProperties",
                None,
                RelatedObjects=targets,
                RelatingPropertyDefinition=pset,
            )
        return pset

    def _props(self, props: dict) -> list:
        out = []
        for key, (kind, value) in props.items():
            out.append(
                self.f.createIfcPropertySingleValue(
                    key, None, self.f.create_entity(kind, value), None
                )
            )
        return out


def _compound(deg: float) -> tuple[int, int, int, int]:
    sign = -1 if deg < 0 else 1
    deg = abs(deg)
    d = int(deg)
    m = int((deg - d) * 60)
    s = int(((deg - d) * 60 - m) * 60)
    micro = int(round(((((deg - d) * 60 - m) * 60) - s) * 1e6))
    return (sign * d, sign * m, sign * s, sign * micro)


def _write_building(b: PlannedBuilding, path: Path) -> None:
    w = _Writer(b)
    f = w.f
    city, postcode, lat, lon = b.city
    address = f.createIfcPostalAddress(
        "SITE", None, None, None, [b.street], None, city, None, postcode, "France"
    )
    site = w.root(
        "IfcSite",
        b.site_name,
        GlobalId=b.site_ref,
        LongName=b.site_name,
        CompositionType="ELEMENT",
        RefLatitude=_compound(lat),
        RefLongitude=_compound(lon),
        RefElevation=25.0,
        SiteAddress=address,
    )
    bld_addr = f.createIfcPostalAddress(
        "OFFICE", None, None, None, [b.street], None, city, None, postcode, "France"
    )
    building = w.root(
        "IfcBuilding",
        b.name,
        GlobalId=b.ref,
        LongName=f"{b.site_name} - {b.name}",
        CompositionType="ELEMENT",
        BuildingAddress=bld_addr,
    )
    w.pset(
        "Pset_BuildingCommon",
        {
            "YearOfConstruction": ("IfcLabel", str(b.year_built)),
            "NumberOfStoreys": ("IfcInteger", len(b.storey_names)),
            "IsLandmarked": ("IfcLogical", False),
        },
        [building],
    )
    w.root("IfcRelAggregates", None, RelatingObject=w.project, RelatedObjects=[site])
    w.root("IfcRelAggregates", None, RelatingObject=site, RelatedObjects=[building])
    storeys = [
        w.root(
            "IfcBuildingStorey",
            name,
            GlobalId=ref,
            CompositionType="ELEMENT",
            Elevation=round(2.8 * i, 2),
        )
        for i, (name, ref) in enumerate(zip(b.storey_names, b.storey_refs, strict=True))
    ]
    w.root("IfcRelAggregates", None, RelatingObject=building, RelatedObjects=storeys)

    spaces = {}
    by_storey: dict[int, list] = {}
    zones = []
    for s in b.spaces:
        attrs = {"LongName": s.long_name, "CompositionType": "ELEMENT"}
        if w.ifc4:
            attrs["PredefinedType"] = "INTERNAL"
        obj_type = {
            "dwelling": "Logement",
            "common": "Partie commune",
            "technical": "Local technique",
        }[s.usage]
        ent = w.root("IfcSpace", s.name, GlobalId=s.ref, ObjectType=obj_type, **attrs)
        spaces[s.ref] = ent
        by_storey.setdefault(s.storey, []).append(ent)
        if s.usage == "dwelling":
            w.pset(
                "Pset_SpaceCommon",
                {"Reference": ("IfcIdentifier", s.name), "IsExternal": ("IfcBoolean", False)},
                [ent],
            )
            w.pset(
                "Patrimoine_Logement",
                {
                    "Typologie": ("IfcLabel", s.typology),
                    "SurfaceHabitable": ("IfcAreaMeasure", s.area_m2),
                },
                [ent],
            )
            qto = w.root(
                "IfcElementQuantity",
                "Qto_SpaceBaseQuantities",
                Quantities=[f.createIfcQuantityArea("NetFloorArea", None, None, s.area_m2)],
            )
            w.root(
                "IfcRelDefinesByProperties",
                None,
                RelatedObjects=[ent],
                RelatingPropertyDefinition=qto,
            )
            zone = w.root(
                "IfcZone",
                f"Logement {s.name}",
                GlobalId=s.zone_ref,
                ObjectType="Logement",
                Description=f"{s.typology}",
            )
            w.root("IfcRelAssignsToGroup", None, RelatedObjects=[ent], RelatingGroup=zone)
            zones.append(zone)
    for idx, ents in by_storey.items():
        w.root("IfcRelAggregates", None, RelatingObject=storeys[idx], RelatedObjects=ents)

    types = {}
    used = sorted({a.type_key for a in b.assets})
    for key in used:
        t = TYPES[key]
        cls, ptype, obj = _type_class(key, w.ifc4)
        attrs = {"PredefinedType": ptype} if ptype else {}
        if obj and w.ifc4 or obj:
            attrs["ElementType"] = obj
        life = (
            ("IfcDuration", f"P{t.life_years}Y")
            if w.ifc4
            else ("IfcTimeMeasure", float(t.life_years * 365 * 86400))
        )
        mti = w.pset(
            "Pset_ManufacturerTypeInformation",
            {
                "Manufacturer": ("IfcLabel", t.manufacturer),
                "ModelLabel": ("IfcLabel", t.model),
                "ModelReference": ("IfcLabel", t.model.split()[0].upper()),
            },
            [],
        )
        sl = w.pset("Pset_ServiceLife", {"ServiceLifeDuration": life}, [])
        types[key] = w.root(
            cls, t.name, GlobalId=b.type_refs[key], HasPropertySets=[mti, sl], **attrs
        )

    contained: dict[str, list] = {}
    by_type: dict[str, list] = {}
    for a in b.assets:
        cls, attrs = _occurrence_class(a.type_key, w.ifc4)
        name = a.name if w.ifc4 or a.type_key == "water_heater" else _code_name(a)
        ent = w.root(cls, name, GlobalId=a.ref, Tag=a.tag, **attrs)
        contained.setdefault(a.space_ref, []).append(ent)
        by_type.setdefault(a.type_key, []).append(ent)
    for space_ref, ents in contained.items():
        w.root(
            "IfcRelContainedInSpatialStructure",
            None,
            RelatedElements=ents,
            RelatingStructure=spaces[space_ref],
        )
    for key, ents in by_type.items():
        w.root("IfcRelDefinesByType", None, RelatedObjects=ents, RelatingType=types[key])
    heating = [
        e for k, es in by_type.items() if k in ("boiler_coll", "pump_heat", "pump_dhw") for e in es
    ]
    if heating:
        system = w.root("IfcSystem", "Chauffage collectif", ObjectType="Chauffage")
        w.root("IfcRelAssignsToGroup", None, RelatedObjects=heating, RelatingGroup=system)
        w.root("IfcRelServicesBuildings", None, RelatingSystem=system, RelatedBuildings=[building])
    _ = zones
    header = f.header
    header.file_name.name = path.name
    header.file_name.time_stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(FIXED_TIMESTAMP))
    header.file_name.author = ["Patrimoine"]
    header.file_name.organization = ["Office Public de l'Habitat du Nord"]
    header.file_description.description = ["ViewDefinition [CoordinationView]"]
    f.write(str(path))


_CODES = {
    "boiler_ind": "CH",
    "boiler_coll": "CH",
    "pump_boost": "SUR",
    "pump_heat": "CIRC",
    "pump_dhw": "CIRC",
    "fan_vmcgaz": "EXT",
    "fan_vmc": "EXT",
    "radiator": "RAD",
    "daaf": "DET",
    "light": "ECL",
    "lift": "ASC",
    "tank_dhw": "BAL",
    "heat_pump": "PAC",
}


def _code_name(a: PlannedAsset) -> str:
    """IFC2X3 occurrences carry only a drawing code: the kind is on the type object."""
    suffix = a.name.rsplit(" ", 1)[-1] if a.dwelling_ref else f"{a.storey:02d}"
    return f"{_CODES[a.type_key]}-{suffix}"


def _type_class(key: str, ifc4: bool) -> tuple[str, str | None, str | None]:
    """(type class, PredefinedType, ElementType) of a type object."""
    table = {
        "boiler_coll": ("IfcBoilerType", "WATER", None),
        "boiler_ind": ("IfcBoilerType", "WATER", None),
        "pump_heat": ("IfcPumpType", "CIRCULATOR", None),
        "pump_dhw": ("IfcPumpType", "CIRCULATOR", None),
        "pump_boost": ("IfcPumpType", "ENDSUCTION", None),
        "tank_dhw": ("IfcTankType", "STORAGE", "Préparateur ECS"),
        "fan_vmc": ("IfcFanType", "CENTRIFUGALFORWARDCURVED", "Caisson VMC"),
        "fan_vmcgaz": ("IfcFanType", "CENTRIFUGALFORWARDCURVED", "Extracteur VMC"),
        "lift": ("IfcTransportElementType", "ELEVATOR", "Ascenseur"),
        "radiator": ("IfcSpaceHeaterType", "RADIATOR" if ifc4 else "SECTIONALRADIATOR", None),
        "daaf": ("IfcSensorType", "SMOKESENSOR", "DAAF"),
        "water_heater": ("IfcElectricApplianceType", "FREESTANDINGWATERHEATER", "Chauffe-eau"),
        "heat_pump": ("IfcChillerType", "AIRCOOLED", None),
        "light": ("IfcLightFixtureType", "POINTSOURCE", "Hublot"),
    }
    cls, ptype, obj = table[key]
    if not ifc4 and key == "water_heater":
        return "IfcBuildingElementProxyType", "USERDEFINED", "Chauffe-eau électrique"
    if not ifc4 and key == "radiator":
        return cls, "PANELRADIATOR", None
    return cls, ptype, obj


def _occurrence_class(key: str, ifc4: bool) -> tuple[str, dict]:
    """IFC4: the specific occurrence class; IFC2X3: the generic one, the kind on the type."""
    if ifc4:
        table = {
            "boiler_coll": ("IfcBoiler", "WATER"),
            "boiler_ind": ("IfcBoiler", "WATER"),
            "pump_heat": ("IfcPump", "CIRCULATOR"),
            "pump_dhw": ("IfcPump", "CIRCULATOR"),
            "pump_boost": ("IfcPump", "ENDSUCTION"),
            "tank_dhw": ("IfcTank", "STORAGE"),
            "fan_vmc": ("IfcFan", "CENTRIFUGALFORWARDCURVED"),
            "fan_vmcgaz": ("IfcFan", "CENTRIFUGALFORWARDCURVED"),
            "lift": ("IfcTransportElement", "ELEVATOR"),
            "radiator": ("IfcSpaceHeater", "RADIATOR"),
            "daaf": ("IfcSensor", "SMOKESENSOR"),
            "water_heater": ("IfcElectricAppliance", "FREESTANDINGWATERHEATER"),
            "heat_pump": ("IfcChiller", "AIRCOOLED"),
            "light": ("IfcLightFixture", "POINTSOURCE"),
        }
        cls, ptype = table[key]
        attrs = {"PredefinedType": ptype}
        return cls, attrs
    table2 = {
        "boiler_ind": "IfcEnergyConversionDevice",
        "boiler_coll": "IfcEnergyConversionDevice",
        "pump_boost": "IfcFlowMovingDevice",
        "pump_heat": "IfcFlowMovingDevice",
        "pump_dhw": "IfcFlowMovingDevice",
        "fan_vmcgaz": "IfcFlowMovingDevice",
        "fan_vmc": "IfcFlowMovingDevice",
        "radiator": "IfcFlowTerminal",
        "daaf": "IfcDistributionControlElement",
        "light": "IfcFlowTerminal",
        "water_heater": "IfcBuildingElementProxy",
        "lift": "IfcTransportElement",
        "tank_dhw": "IfcFlowStorageDevice",
        "heat_pump": "IfcEnergyConversionDevice",  # typed by IfcChillerType
    }
    cls = table2[key]
    attrs: dict = {}
    if key == "water_heater":
        attrs["ObjectType"] = "Chauffe-eau électrique 200L"
    if key == "lift":
        attrs["OperationType"] = "ELEVATOR"
    return cls, attrs


def file_summary(paths: Iterable[Path]) -> pd.DataFrame:
    """Entity counts per file and class (for the README and the determinism test)."""
    rows = []
    for p in paths:
        f = ifcopenshell.open(str(p))
        counts: dict[str, int] = {}
        for ent in f:
            counts[ent.is_a()] = counts.get(ent.is_a(), 0) + 1
        rows.extend((p.name, f.schema, k, v) for k, v in counts.items())
    return pd.DataFrame(rows, columns=["file", "schema", "ifc_class", "count"])
