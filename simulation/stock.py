"""The sample housing stock: a French social-housing estate, as a plan and as IFC files.

:func:`plan_stock` draws the estate(s) deterministically from a seed (buildings, dwellings,
equipment with their GlobalIds); ``simulation.ifc_writer.write_stock`` writes one IFC file per
building, the way a landlord receives them from different contractors (IFC4 for the tower and
the houses, IFC2X3 with equipment known only by its type object and water heaters as named
proxies for the walk-ups).
:func:`stock_frames` gives the same stock as the frames the simulator reads from the registry, so
benchmarks can simulate a million assets without ingesting them first.

One estate ("Résidence Les Tilleuls", Lille) holds 164 dwellings and about 1,040 assets:

- ``A``: a 12-storey tower (72 dwellings) with a collective gas boiler room (two boilers in
  cascade, three circulation pumps, a hot-water storage tank), two elevators, two collective VMC
  fans on the roof, radiators and a smoke detector (DAAF) per dwelling, lights on each landing;
- ``B``, ``C``, ``D``: 4-storey walk-ups (24 dwellings each) with an individual gas boiler, an
  electric water heater, radiators and a DAAF per dwelling, a VMC-gaz extractor and a booster
  pump per building (IFC2X3);
- ``E``: a row of 20 terraced houses with an air-to-water heat pump, an electric water heater,
  radiators and a DAAF each.

Examples
--------
>>> from simulation.stock import plan_stock
>>> stock = plan_stock(estates=1, seed=0)
>>> len(stock.dwellings), stock.buildings[0].name
(164, 'Tour A')
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import ifcopenshell
import ifcopenshell.guid
import numpy as np
import pandas as pd

DWELLINGS_PER_ESTATE = 164

CITIES: list[tuple[str, str, float, float]] = [
    ("Lille", "59000", 50.6292, 3.0573),
    ("Roubaix", "59100", 50.6942, 3.1746),
    ("Tourcoing", "59200", 50.7239, 3.1612),
    ("Villeneuve-d'Ascq", "59650", 50.6233, 3.1450),
    ("Lens", "62300", 50.4329, 2.8333),
    ("Amiens", "80000", 49.8941, 2.2958),
    ("Rouen", "76000", 49.4431, 1.0993),
    ("Reims", "51100", 49.2583, 4.0317),
]
STREETS = ["rue des Tilleuls", "avenue Jean Jaurès", "rue Victor Hugo", "rue Pasteur"]
ESTATE_NAMES = ["Les Tilleuls", "Les Acacias", "Le Clos Fleuri", "Les Peupliers", "Le Moulin"]


@dataclass
class EquipmentType:
    key: str
    name: str
    manufacturer: str
    model: str
    life_years: int


TYPES: dict[str, EquipmentType] = {
    t.key: t
    for t in [
        EquipmentType(
            "boiler_coll", "Chaudière gaz condensation 350 kW", "De Dietrich", "C 630 Eco", 25
        ),
        EquipmentType(
            "boiler_ind", "Chaudière murale gaz 24 kW", "Saunier Duval", "ThemaPlus Condens F25", 17
        ),
        EquipmentType("pump_heat", "Circulateur chauffage DN50", "Grundfos", "MAGNA3 50-120 F", 12),
        EquipmentType("pump_dhw", "Circulateur bouclage ECS", "Wilo", "Stratos-Z 30/1-8", 12),
        EquipmentType("pump_boost", "Surpresseur eau froide", "Salmson", "Multi-HE 404", 12),
        EquipmentType("tank_dhw", "Préparateur ECS 1500 L", "Lacaze", "PS 1500", 20),
        EquipmentType("fan_vmc", "Caisson VMC collective", "Aldes", "VEC 240 Micro-Watt", 20),
        EquipmentType("fan_vmcgaz", "Extracteur VMC gaz", "Atlantic", "Optima 3 DSC", 20),
        EquipmentType("lift", "Ascenseur 630 kg 8 personnes", "Schindler", "3300", 25),
        EquipmentType("radiator", "Radiateur acier panneau", "Finimetal", "Reggane 3000", 25),
        EquipmentType("daaf", "DAAF détecteur de fumée", "Kidde", "29HD-FR", 10),
        EquipmentType(
            "water_heater", "Chauffe-eau électrique 200L", "Atlantic", "Chauffeo 200 L", 12
        ),
        EquipmentType(
            "heat_pump", "Pompe à chaleur air/eau 8 kW", "Daikin", "Altherma 3 R EBLA08", 17
        ),
        EquipmentType("light", "Hublot LED palier", "Sarlam", "Kubik LED", 15),
    ]
}


@dataclass
class PlannedSpace:
    ref: str
    name: str
    long_name: str
    usage: str  # dwelling | common | technical
    storey: int
    typology: str | None = None
    area_m2: float | None = None
    zone_ref: str | None = None


@dataclass
class PlannedAsset:
    ref: str
    tag: str
    name: str
    category: str
    serves: str
    type_key: str
    space_ref: str
    dwelling_ref: str | None
    storey: int


@dataclass
class PlannedBuilding:
    ref: str
    name: str
    kind: str  # tower | walkup | houses
    schema: str
    file_name: str
    year_built: int
    storey_names: list[str]
    storey_refs: list[str]
    site_ref: str
    site_name: str
    city: tuple[str, str, float, float]
    street: str
    spaces: list[PlannedSpace] = field(default_factory=list)
    assets: list[PlannedAsset] = field(default_factory=list)
    project_ref: str = ""
    type_refs: dict[str, str] = field(default_factory=dict)
    other_refs: list[str] = field(default_factory=list)


@dataclass
class PlannedStock:
    buildings: list[PlannedBuilding]

    @property
    def dwellings(self) -> list[PlannedSpace]:
        return [s for b in self.buildings for s in b.spaces if s.usage == "dwelling"]

    @property
    def assets(self) -> list[PlannedAsset]:
        return [a for b in self.buildings for a in b.assets]


class _Guids:
    """Deterministic IFC GlobalIds from a seeded generator."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng

    def __call__(self) -> str:
        return ifcopenshell.guid.compress(uuid.UUID(bytes=self.rng.bytes(16)).hex)


_TYPOLOGY_AREA = {"T1": 32.0, "T2": 48.0, "T3": 66.0, "T4": 80.0, "T5": 95.0}
_RADIATORS = {"T1": 2, "T2": 3, "T3": 4, "T4": 5, "T5": 6}


def plan_stock(
    *, estates: int = 1, seed: int = 0, dwellings: int | None = None, first_estate: int = 0
) -> PlannedStock:
    """Draw ``estates`` estates (or enough for ``dwellings`` dwellings), deterministically.

    Estate ``i`` only depends on ``(seed, i)``, so a bigger stock extends a smaller one.
    """
    if dwellings is not None:
        if dwellings < 1:
            raise ValueError(f"dwellings must be >= 1, got {dwellings}")
        estates = -(-dwellings // DWELLINGS_PER_ESTATE)
    if estates < 1:
        raise ValueError(f"estates must be >= 1, got {estates}")
    buildings: list[PlannedBuilding] = []
    for e in range(first_estate, first_estate + estates):
        buildings.extend(_plan_estate(e, seed))
    return PlannedStock(buildings)


def _plan_estate(e: int, seed: int) -> list[PlannedBuilding]:
    rng = np.random.default_rng([seed, e])
    guid = _Guids(rng)
    city = CITIES[0] if e == 0 else CITIES[int(rng.integers(len(CITIES)))]
    lat_jitter, lon_jitter = (0.0, 0.0) if e == 0 else tuple(rng.normal(0, 0.01, 2))
    city = (city[0], city[1], city[2] + lat_jitter, city[3] + lon_jitter)
    estate_name = ESTATE_NAMES[e % len(ESTATE_NAMES)]
    site_name = f"Résidence {estate_name}" + ("" if e < len(ESTATE_NAMES) else f" {e + 1}")
    street = STREETS[e % len(STREETS)]
    site_ref = guid()
    prefix = f"E{e + 1:05d}"
    base_year = int(rng.integers(1962, 1980)) if e else 1968
    specs = [
        ("A", "tower", "IFC4", 14, base_year + 4),
        ("B", "walkup", "IFC2X3", 4, base_year - 3),
        ("C", "walkup", "IFC2X3", 4, base_year),
        ("D", "walkup", "IFC2X3", 4, base_year + 7),
        ("E", "houses", "IFC4", 2, 2008 if e == 0 else int(rng.integers(1995, 2015))),
    ]
    out = []
    for letter, kind, schema, _n_storeys, year in specs:
        if kind == "tower":
            storey_names = ["RDC"] + [f"Étage {i}" for i in range(1, 13)] + ["Toiture terrasse"]
            bname = f"Tour {letter}"
        elif kind == "walkup":
            storey_names = ["RDC", "Étage 1", "Étage 2", "Étage 3"]
            bname = f"Bâtiment {letter}"
        else:
            storey_names = ["RDC", "Étage 1"]
            bname = f"Maisons {letter}"
        b = PlannedBuilding(
            ref=guid(),
            name=bname,
            kind=kind,
            schema=schema,
            file_name=f"{prefix}_{_slug(estate_name)}_{letter}_{schema}.ifc",
            year_built=year,
            storey_names=storey_names,
            storey_refs=[guid() for _ in storey_names],
            site_ref=site_ref,
            site_name=site_name,
            city=city,
            street=f"{int(rng.integers(1, 120))} {street}",
            project_ref=guid(),
        )
        b.type_refs = {k: guid() for k in TYPES}
        tag_prefix = f"{prefix}-{letter}"
        _fill_building(b, rng, guid, tag_prefix)
        out.append(b)
    return out


def _slug(text: str) -> str:
    keep = "".join(ch if ch.isalnum() else "_" for ch in text.lower())
    return keep.replace("é", "e").replace("è", "e").strip("_")


def _fill_building(b: PlannedBuilding, rng: np.random.Generator, guid: _Guids, tp: str) -> None:
    counter = {"n": 0}

    def add_space(name, long_name, usage, storey, typology=None):
        area = None
        if typology:
            area = round(_TYPOLOGY_AREA[typology] * float(rng.uniform(0.9, 1.1)), 1)
        s = PlannedSpace(
            guid(),
            name,
            long_name,
            usage,
            storey,
            typology,
            area,
            guid() if usage == "dwelling" else None,
        )
        b.spaces.append(s)
        return s

    def add_asset(name, category, serves, type_key, space, dwelling=None):
        counter["n"] += 1
        a = PlannedAsset(
            guid(),
            f"{tp}-{counter['n']:05d}",
            name,
            category,
            serves,
            type_key,
            space.ref,
            dwelling.ref if dwelling else None,
            space.storey,
        )
        b.assets.append(a)
        return a

    def dwelling_equipment(d, individual_boiler, heat_pump, water_heater):
        label = d.name
        if individual_boiler:
            add_asset(f"Chaudière murale gaz {label}", "boiler", "dwelling", "boiler_ind", d, d)
        if heat_pump:
            add_asset(
                f"Pompe à chaleur air/eau {label}", "heat_pump", "dwelling", "heat_pump", d, d
            )
        if water_heater:
            add_asset(
                f"Chauffe-eau électrique 200L {label}",
                "water_heater",
                "dwelling",
                "water_heater",
                d,
                d,
            )
        for r in range(_RADIATORS[d.typology or "T3"]):
            add_asset(f"Radiateur {label}-{r + 1}", "radiator", "dwelling", "radiator", d, d)
        add_asset(f"DAAF {label}", "fire_safety", "dwelling", "daaf", d, d)

    typologies = np.array(["T1", "T2", "T3", "T4", "T5"])
    if b.kind == "tower":
        hall = add_space("Hall", "Hall d'entrée", "common", 0)
        chauff = add_space("Chaufferie", "Chaufferie collective gaz", "technical", 0)
        add_space("Local OM", "Local ordures ménagères", "common", 0)
        for i in (1, 2):
            add_asset(f"Chaudière collective {i}", "boiler", "building", "boiler_coll", chauff)
        add_asset("Circulateur chauffage départ 1", "pump", "building", "pump_heat", chauff)
        add_asset("Circulateur chauffage départ 2", "pump", "building", "pump_heat", chauff)
        add_asset("Circulateur bouclage ECS", "pump", "building", "pump_dhw", chauff)
        add_asset("Préparateur ECS collectif", "water_heater", "building", "tank_dhw", chauff)
        add_asset("Éclairage hall", "light", "building", "light", hall)
        top = len(b.storey_names) - 1
        for s in range(1, top):
            palier = add_space(f"Palier {s}", f"Palier étage {s}", "common", s)
            add_asset(f"Éclairage palier {s}", "light", "building", "light", palier)
            for k, letter in enumerate("ABCDEF"):
                typ = str(typologies[[0, 1, 2, 2, 3, 4][k]])
                d = add_space(f"{s}{letter}", f"Logement {s}{letter} - {typ}", "dwelling", s, typ)
                dwelling_equipment(d, False, False, False)
        vmc = add_space("Local VMC", "Local VMC toiture", "technical", top)
        mach = add_space("Machinerie ascenseur", "Machinerie ascenseurs", "technical", top)
        add_asset("Caisson VMC collective Nord", "ventilation_fan", "building", "fan_vmc", vmc)
        add_asset("Caisson VMC collective Sud", "ventilation_fan", "building", "fan_vmc", vmc)
        add_asset("Ascenseur A1", "elevator", "building", "lift", mach)
        add_asset("Ascenseur A2", "elevator", "building", "lift", mach)
    elif b.kind == "walkup":
        add_space("Cage d'escalier 1", "Cage d'escalier 1", "common", 0)
        cave = add_space("Local technique", "Local technique sous-sol", "technical", 0)
        add_asset("Surpresseur eau froide", "pump", "building", "pump_boost", cave)
        for s in range(len(b.storey_names)):
            for letter in "ABCDEF":
                typ = str(typologies[int(rng.choice(5, p=[0.1, 0.25, 0.35, 0.2, 0.1]))])
                d = add_space(f"{s}{letter}", f"Logement {s}{letter} - {typ}", "dwelling", s, typ)
                dwelling_equipment(d, True, False, True)
        roof = add_space("Combles", "Combles techniques", "technical", len(b.storey_names) - 1)
        add_asset("Extracteur VMC gaz", "ventilation_fan", "building", "fan_vmcgaz", roof)
    else:
        for h in range(20):
            typ = "T4" if h % 3 else "T5"
            d = add_space(f"M{h + 1}", f"Logement M{h + 1} - {typ}", "dwelling", 0, typ)
            dwelling_equipment(d, False, True, True)
    _ = rng, tp


# ---------------------------------------------------------------- frames for the simulator


def stock_frames(stock: PlannedStock) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """``(assets, buildings, dwellings)`` as the simulator reads them from the registry."""
    assets = pd.DataFrame(
        {
            "asset_ref": [a.ref for b in stock.buildings for a in b.assets],
            "asset_tag": [a.tag for b in stock.buildings for a in b.assets],
            "name": [a.name for b in stock.buildings for a in b.assets],
            "category": [a.category for b in stock.buildings for a in b.assets],
            "serves": [a.serves for b in stock.buildings for a in b.assets],
            "building_ref": [b.ref for b in stock.buildings for _ in b.assets],
            "dwelling_ref": [a.dwelling_ref for b in stock.buildings for a in b.assets],
            "year_built": [b.year_built for b in stock.buildings for _ in b.assets],
            "installed_on": pd.NaT,
        }
    )
    buildings = pd.DataFrame(
        {
            "building_ref": [b.ref for b in stock.buildings],
            "name": [b.name for b in stock.buildings],
            "site": [b.site_name for b in stock.buildings],
            "year_built": [b.year_built for b in stock.buildings],
            "latitude": [b.city[2] for b in stock.buildings],
            "dwellings": [sum(s.usage == "dwelling" for s in b.spaces) for b in stock.buildings],
        }
    )
    rows = [
        (s.ref, b.ref, s.long_name, s.typology, s.area_m2, b.kind == "houses")
        for b in stock.buildings
        for s in b.spaces
        if s.usage == "dwelling"
    ]
    dwellings = pd.DataFrame(
        rows, columns=["dwelling_ref", "building_ref", "name", "typology", "area_m2", "is_house"]
    )
    return assets, buildings, dwellings
