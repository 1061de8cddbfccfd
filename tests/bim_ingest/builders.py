"""Tiny IFC models built in memory with ifcopenshell.api, for IFC2X3, IFC4 and IFC4X3."""

from __future__ import annotations

from pathlib import Path

import ifcopenshell
import ifcopenshell.api.aggregate
import ifcopenshell.api.classification
import ifcopenshell.api.context
import ifcopenshell.api.group
import ifcopenshell.api.owner.settings
import ifcopenshell.api.project
import ifcopenshell.api.pset
import ifcopenshell.api.root
import ifcopenshell.api.spatial
import ifcopenshell.api.system
import ifcopenshell.api.type
import ifcopenshell.api.unit

SCHEMAS = ("IFC2X3", "IFC4", "IFC4X3")

# owner history (required by IFC2X3): the user and application of the file being built
ifcopenshell.api.owner.settings.get_user = lambda f: f.by_type("IfcPersonAndOrganization")[0]
ifcopenshell.api.owner.settings.get_application = lambda f: f.by_type("IfcApplication")[0]


def _new(f: ifcopenshell.file, cls: str, name: str | None = None, **attrs: object):
    ent = ifcopenshell.api.root.create_entity(f, ifc_class=cls, name=name)
    for k, v in attrs.items():
        setattr(ent, k, v)
    return ent


def _equipment(
    f: ifcopenshell.file,
    schema: str,
    ifc4_class: str,
    ifc2x3_class: str,
    type_class: str,
    name: str,
    type_name: str,
    container,
    predefined=None,
):
    """An equipment occurrence + its type, as each schema models it."""
    cls = ifc2x3_class if schema == "IFC2X3" else ifc4_class
    el = _new(f, cls, name)
    typ = _new(f, type_class, type_name)
    if predefined is not None:
        typ.PredefinedType = predefined
    ifcopenshell.api.type.assign_type(f, related_objects=[el], relating_type=typ)
    ifcopenshell.api.spatial.assign_container(f, products=[el], relating_structure=container)
    return el, typ


def build_model(
    schema: str,
    *,
    millimetres: bool = True,
    drop: tuple[str, ...] = (),
    rename: dict[str, str] | None = None,
    building_name: str = "Résidence Les Tilleuls",
    site_name: str = "Cité Jardin",
) -> ifcopenshell.file:
    """A 2-storey residential building: dwellings as IfcZone, a boiler room, equipment.

    Equipment names are keys of the returned file's ``equipment`` mapping (name -> GlobalId).
    ``drop`` leaves out equipment by name (a later revision); ``rename`` renames some.
    """
    rename = rename or {}
    f = ifcopenshell.api.project.create_file(version=schema)
    org = f.create_entity("IfcOrganization", Name="Patrimoine")
    user = f.create_entity("IfcPersonAndOrganization", f.create_entity("IfcPerson"), org)
    f.create_entity("IfcApplication", org, "1.0", "Patrimoine test builder", "patrimoine")
    del user
    project = _new(f, "IfcProject", "Projet Tilleuls")
    if millimetres:
        length = ifcopenshell.api.unit.add_si_unit(f, unit_type="LENGTHUNIT", prefix="MILLI")
    else:
        length = ifcopenshell.api.unit.add_si_unit(f, unit_type="LENGTHUNIT")
    ifcopenshell.api.unit.assign_unit(f, units=[length])
    ifcopenshell.api.context.add_context(f, context_type="Model")
    site = _new(f, "IfcSite", site_name)
    site.RefLatitude = (48, 51, 24, 0)
    site.RefLongitude = (2, 21, 0, 0)
    building = _new(f, "IfcBuilding", building_name)
    ifcopenshell.api.aggregate.assign_object(f, products=[site], relating_object=project)
    ifcopenshell.api.aggregate.assign_object(f, products=[building], relating_object=site)
    scale = 1000.0 if millimetres else 1.0
    storeys = []
    for i in range(2):
        st = _new(f, "IfcBuildingStorey", f"Niveau {i}")
        st.Elevation = i * 2.8 * scale
        ifcopenshell.api.aggregate.assign_object(f, products=[st], relating_object=building)
        storeys.append(st)
    spaces = {}
    for i, (name, long_name) in enumerate(
        [
            ("B01", "Chaufferie"),
            ("A01", "Séjour"),
            ("A02", "Chambre"),
            ("A03", "Salle de bain"),
            ("C01", "Hall d'entrée"),
        ]
    ):
        sp = _new(f, "IfcSpace", name)
        sp.LongName = long_name
        ifcopenshell.api.aggregate.assign_object(
            f, products=[sp], relating_object=storeys[0 if i in (0, 4) else 1]
        )
        spaces[long_name] = sp
    zone = _new(f, "IfcZone", "Logement 101 - T2")
    ifcopenshell.api.group.assign_group(
        f, products=[spaces["Séjour"], spaces["Chambre"], spaces["Salle de bain"]], group=zone
    )
    pset = ifcopenshell.api.pset.add_pset(f, product=zone, name="Patrimoine_Logement")
    ifcopenshell.api.pset.edit_pset(f, pset=pset, properties={"SurfaceHabitable": 47.5})
    pset = ifcopenshell.api.pset.add_pset(f, product=building, name="Pset_BuildingCommon")
    ifcopenshell.api.pset.edit_pset(f, pset=pset, properties={"YearOfConstruction": "1968"})

    eq: dict[str, object] = {}

    def add(key: str, *args, **kw) -> None:
        if key in drop:
            return
        el, typ = _equipment(f, schema, *args, **kw)
        el.Name = rename.get(key, el.Name)
        eq[key] = el

    add(
        "boiler",
        "IfcBoiler",
        "IfcEnergyConversionDevice",
        "IfcBoilerType",
        "Chaudière gaz collective",
        "Chaudière condensation 300 kW",
        spaces["Chaufferie"],
        predefined="WATER",
    )
    add(
        "pump",
        "IfcPump",
        "IfcFlowMovingDevice",
        "IfcPumpType",
        "P-01",
        "Circulateur",
        spaces["Chaufferie"],
        predefined="CIRCULATOR",
    )
    add(
        "radiator",
        "IfcSpaceHeater",
        "IfcEnergyConversionDevice",
        "IfcSpaceHeaterType" if schema != "IFC2X3" else "IfcSpaceHeaterType",
        "R-01",
        "Radiateur acier",
        spaces["Séjour"],
    )
    add(
        "valve",
        "IfcValve",
        "IfcFlowController",
        "IfcValveType",
        "V-01",
        "Vanne d'arrêt",
        spaces["Chaufferie"],
    )
    add(
        "light",
        "IfcLightFixture",
        "IfcFlowTerminal",
        "IfcLightFixtureType",
        "Hublot",
        "Hublot LED",
        spaces["Hall d'entrée"],
    )
    add(
        "switch",
        "IfcLightFixture",
        "IfcFlowTerminal",
        "IfcLightFixtureType",
        "Interrupteur va-et-vient",
        "Interrupteur",
        spaces["Hall d'entrée"],
    )
    add(
        "sink",
        "IfcSanitaryTerminal",
        "IfcFlowTerminal",
        "IfcSanitaryTerminalType",
        "Lavabo",
        "Lavabo",
        spaces["Salle de bain"],
    )
    # an elevator: IfcTransportElement everywhere
    if "elevator" not in drop:
        lift = _new(f, "IfcTransportElement", rename.get("elevator", "Ascenseur A"))
        ifcopenshell.api.spatial.assign_container(f, products=[lift], relating_structure=storeys[0])
        eq["elevator"] = lift
    # a proxy known only by its name
    if "proxy" not in drop:
        proxy = _new(f, "IfcBuildingElementProxy", rename.get("proxy", "Cumulus 200 L"))
        ifcopenshell.api.spatial.assign_container(
            f, products=[proxy], relating_structure=spaces["Salle de bain"]
        )
        eq["proxy"] = proxy
    # network: 3 pipe segments and 2 fittings
    for i in range(5):
        seg_cls = (
            ("IfcPipeSegment" if i < 3 else "IfcPipeFitting")
            if schema != "IFC2X3"
            else ("IfcFlowSegment" if i < 3 else "IfcFlowFitting")
        )
        pipe = _new(f, seg_cls, f"Tube {i}")
        ifcopenshell.api.spatial.assign_container(f, products=[pipe], relating_structure=storeys[0])
    # a wall: not equipment, counted as skipped
    wall = _new(f, "IfcWall", "Mur")
    ifcopenshell.api.spatial.assign_container(f, products=[wall], relating_structure=storeys[0])

    if "boiler" in eq:
        boiler = eq["boiler"]
        pset = ifcopenshell.api.pset.add_pset(f, product=boiler, name="Pset_ManufacturerOccurence")
        ifcopenshell.api.pset.edit_pset(
            f, pset=pset, properties={"SerialNumber": "SN-4242", "BarCode": "n/a"}
        )
        pset = ifcopenshell.api.pset.add_pset(f, product=boiler, name="COBie_Component")
        ifcopenshell.api.pset.edit_pset(
            f,
            pset=pset,
            properties={
                "InstallationDate": "2009-10-01",
                "WarrantyStartDate": "1900-12-31T23:59:59",
                "TagNumber": "CH-01",
            },
        )
        typ = next(
            r.RelatingType for r in f.by_type("IfcRelDefinesByType") if boiler in r.RelatedObjects
        )
        pset = ifcopenshell.api.pset.add_pset(
            f, product=typ, name="Pset_ManufacturersTypeInformation"
        )
        ifcopenshell.api.pset.edit_pset(
            f,
            pset=pset,
            properties={
                "Manufacturer": "De Dietrich",
                "ModelLabel": "C 330 ECO",
                "SerialNumber": "TYPE",
            },
        )
        pset = ifcopenshell.api.pset.add_pset(f, product=typ, name="Pset_ServiceLife")
        ifcopenshell.api.pset.edit_pset(f, pset=pset, properties={"ServiceLifeDuration": 22.0})
        system = ifcopenshell.api.system.add_system(
            f, ifc_class="IfcSystem" if schema == "IFC2X3" else "IfcDistributionSystem"
        )
        system.Name = "Chauffage collectif"
        ifcopenshell.api.system.assign_system(f, products=[boiler], system=system)
        if "pump" in eq:
            ifcopenshell.api.system.assign_system(f, products=[eq["pump"]], system=system)
        classification = ifcopenshell.api.classification.add_classification(
            f, classification="Uniclass"
        )
        ifcopenshell.api.classification.add_reference(
            f,
            products=[boiler],
            classification=classification,
            identification="Pr_60_60_08_33",
            name="Gas fired boilers",
        )
    f.equipment = {k: v.GlobalId for k, v in eq.items()}  # type: ignore[attr-defined]
    return f


def write_model(f: ifcopenshell.file, path: Path) -> Path:
    f.write(str(path))
    return path
