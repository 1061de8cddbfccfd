"""COBie 2.4 export: the registry's active assets as a workbook that :func:`read_cobie` reads
back into the same registry, and that holds what a published COBie of the same model holds.

What goes where (see docs/bim_ingest.md, "COBie"):

- Component: the active assets whose IFC class COBie counts as a component (equipment,
  terminals, controls, doors, windows, coverings, proxies, transport, furniture); ``Space`` is
  the space's name, "n/a" for an asset that sits in a storey only. Registered assets that COBie
  does not list (``IfcRoof``, a bare ``IfcDistributionFlowElement``) go to the extra sheet
  ``PatrimoineAsset`` with the same columns, so the registry still round-trips.
- Type: Manufacturer, ModelNumber (``ModelLabel``), ``ExpectedLife`` (``DurationUnit`` "year")
  as the type declares them, else as its components share them — never the taxonomy's default
  life; ``Category`` is the classification as the model labels it. The registry's own values
  travel as ``Patrimoine`` Attribute rows.
- Zone and System: one row per zone and space, per system and component, as COBie 2.4 keys
  them.

Examples
--------
>>> with transaction(engine) as session:                      # doctest: +SKIP
...     export_cobie(session, "handover.xlsx")
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from asset_model.models import Asset, AssetType, Building, Dwelling, Space, Storey, System
from asset_model.types import AssetStatus
from bim_ingest.cobie_sheets import CREATED_BY, EXTRA_SHEET, OURS, SHEETS, is_cobie_component
from bim_ingest.psets import asset_facts, clean

Row = dict[str, Any]


def _cell(value: Any) -> Any:
    if value is None or value == "":
        return "n/a"
    if isinstance(value, (list, tuple, dict)):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def _norm(name: str) -> str:
    return re.sub(r"[\s_\-]", "", name).lower()


def _prop(psets: dict[str, Any] | None, *names: str) -> Any:
    """The first non-placeholder property called one of ``names`` in any pset."""
    wanted = [_norm(n) for n in names]
    for want in wanted:
        for props in (psets or {}).values():
            if not isinstance(props, dict):
                continue
            for prop, value in props.items():
                if _norm(str(prop)) == want and clean(value, prop) is not None:
                    return clean(value, prop)
    return None


def classification_label(text: str | None) -> str | None:
    """Our "ref; ref" classification as COBie's comma-separated Category, labels unchanged."""
    parts = [p.strip() for p in str(text or "").split(";") if p.strip()]
    return ",".join(parts) or None


_TYPE_EXTRAS = [
    c
    for c in SHEETS["Type"]
    if c.startswith(("Warranty", "Nominal", "Replacement", "AssetType"))
    or c in ("Shape", "Size", "Color", "Finish", "Grade", "Material", "Constituents", "Features")
    or c.endswith("Performance")
]


class _Sheets:
    """Rows per sheet, with the CreatedBy / CreatedOn / ExtSystem every row carries."""

    def __init__(self) -> None:
        now = dt.datetime.now(dt.UTC).replace(microsecond=0, tzinfo=None).isoformat()
        self.base = {"CreatedBy": CREATED_BY, "CreatedOn": now, "ExtSystem": OURS}
        self.rows: dict[str, list[Row]] = {name: [] for name in SHEETS}

    def add(self, sheet: str, **row: Any) -> None:
        self.rows[sheet].append({**self.base, **row})

    def ours(self, sheet: str, row_name: str, row_id: str, values: dict[str, Any]) -> None:
        """Our extras of one row as Attribute rows of external object Patrimoine."""
        for key, value in values.items():
            if value is not None:
                self.add(
                    "Attribute",
                    Name=key,
                    Category=OURS,
                    SheetName=sheet,
                    RowName=row_name,
                    Value=str(value),
                    ExtObject=OURS,
                    RowIdentifier=row_id,
                )


def export_cobie(session: Session, path: Path | str) -> Path:
    """Write the registry's active assets as a COBie 2.4 workbook at ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    out = _Sheets()
    buildings = _facilities(session, out)
    names = {i: b.name or b.global_id for i, b in buildings.items()}
    floors = _floors(session, out, names)
    spaces = _spaces_and_zones(session, out, names, floors)
    assets = session.scalars(
        select(Asset)
        .where(Asset.status == AssetStatus.ACTIVE)
        .options(selectinload(Asset.asset_type))
        .order_by(Asset.id)
    ).all()
    type_names = _types(session, out, assets)
    for a in assets:
        _component(out, a, type_names, spaces, floors, buildings)
    _systems(session, out)
    _write(path, out.rows)
    return path


def _facilities(session: Session, out: _Sheets) -> dict[int, Building]:
    query = select(Building).options(selectinload(Building.site)).order_by(Building.id)
    buildings = {b.id: b for b in session.scalars(query)}
    names = {b.id: b.name or b.global_id for b in buildings.values()}
    for b in buildings.values():
        out.rows["Facility"].append(
            {
                "Name": names[b.id],
                "CreatedBy": CREATED_BY,
                "CreatedOn": out.base["CreatedOn"],
                "ProjectName": None,
                "SiteName": b.site.name if b.site else None,
                "LinearUnits": "meters",
                "AreaUnits": "square meters",
                "VolumeUnits": "cubic meters",
                "CurrencyUnit": "Euros",
                "ExternalSystem": OURS,
                "ExternalProjectObject": "IfcProject",
                "ExternalSiteObject": "IfcSite",
                "ExternalSiteIdentifier": b.site.global_id if b.site else None,
                "ExternalFacilityObject": "IfcBuilding",
                "ExternalFacilityIdentifier": b.global_id,
                "Description": b.address,
            }
        )
        site = b.site
        out.ours(
            "Facility",
            names[b.id],
            b.global_id,
            {
                k: getattr(b, k) if getattr(b, k) is not None else getattr(site, k, None)
                for k in ("latitude", "longitude")
            },
        )
    return buildings


def _floors(session: Session, out: _Sheets, names: dict[int, str]) -> dict[int, Storey]:
    storeys = {s.id: s for s in session.scalars(select(Storey).order_by(Storey.id))}
    for s in storeys.values():
        out.add(
            "Floor",
            Name=s.name or s.global_id,
            Category="Floor",
            ExtObject="IfcBuildingStorey",
            ExtIdentifier=s.global_id,
            Elevation=s.elevation_m,
            FacilityName=names[s.building_id],
        )
    return storeys


def _spaces_and_zones(
    session: Session, out: _Sheets, names: dict[int, str], floors: dict[int, Storey]
) -> dict[int, Space]:
    spaces = {s.id: s for s in session.scalars(select(Space).order_by(Space.id))}
    members: dict[int, list[str]] = defaultdict(list)
    for s in spaces.values():
        name = s.name or s.global_id
        if s.dwelling_id is not None:
            members[s.dwelling_id].append(name)
        floor = floors.get(s.storey_id) if s.storey_id is not None else None
        out.add(
            "Space",
            Name=name,
            Category=s.usage,
            FloorName=(floor.name or floor.global_id) if floor else None,
            Description=s.long_name,
            ExtObject="IfcSpace",
            ExtIdentifier=s.global_id,
            NetArea=s.area_m2,
            FacilityName=names[s.building_id],
        )
    for d in session.scalars(select(Dwelling).order_by(Dwelling.id)):
        label = f"Dwelling {d.typology}" if d.typology else "Dwelling"
        for space_name in members.get(d.id) or [None]:  # COBie 2.4: one row per zone and space
            out.add(
                "Zone",
                Name=d.name or d.global_id,
                Category=label,
                SpaceNames=space_name,
                ExtObject="IfcZone",
                ExtIdentifier=d.global_id,
                Description=label,
                FacilityName=names[d.building_id],
            )
    return spaces


def _shared(values: list[Any]) -> Any:
    """The value most components of a type give (Revit puts type data on occurrences)."""
    counts = Counter(v for v in values if v is not None)
    return counts.most_common(1)[0][0] if counts else None


def _omniclass(props: dict[str, Any] | None) -> str | None:
    """Revit's "OmniClass Number : OmniClass Title", the Category a Revit COBie writes."""
    number, title = _prop(props, "OmniClass Number"), _prop(props, "OmniClass Title")
    if number and title:
        return f"{number} : {title}"
    return number or title


def type_columns(t: AssetType, members: list[Asset]) -> dict[str, Any]:
    """Manufacturer, ModelNumber, ModelReference, ExpectedLife and Category of a Type row.

    As xBIM and ifcfm map them: the type's ``Pset_ManufacturerTypeInformation`` (ModelNumber is
    its ModelLabel), ``Pset_ServiceLife`` and COBie psets; where the type declares nothing, the
    value its components share (Revit exports type parameters on the occurrences).
    """
    props = t.properties or {}
    reference = _prop(props, "ModelReference")
    model = _prop(props, "ModelNumber", "ModelLabel", "ArticleNumber")
    if model is None and reference is None:
        model = t.model or _shared([a.model for a in members])
    life = asset_facts(props).expected_life_years or _shared(
        [asset_facts(a.properties or {}).expected_life_years for a in members]
    )
    labels = [classification_label(a.classification) for a in members]
    return {
        "Manufacturer": t.manufacturer or _shared([a.manufacturer for a in members]),
        "ModelNumber": model,
        "ModelReference": reference,
        "ExpectedLife": life,
        "DurationUnit": "year" if life is not None else None,
        "Category": _shared(labels) or _shared([_omniclass(a.properties) for a in members]),
    }


def _types(session: Session, out: _Sheets, assets: list[Asset]) -> dict[int, str]:
    members: dict[int, list[Asset]] = defaultdict(list)
    for a in assets:
        if a.asset_type_id is not None:
            members[a.asset_type_id].append(a)
    type_names: dict[int, str] = {}
    query = select(AssetType).where(AssetType.id.in_(set(members) or {-1}))
    for t in session.scalars(query.order_by(AssetType.id)):
        name = type_names[t.id] = t.name or t.global_id
        props = t.properties or {}
        row = {col: _prop(props, col) for col in _TYPE_EXTRAS}
        moveable = "furni" in (t.ifc_class or "").lower()
        row["AssetType"] = row["AssetType"] or ("Moveable" if moveable else "Fixed")
        out.add(
            "Type",
            **row,
            **type_columns(t, members[t.id]),
            Name=name,
            Description=_prop(props, "Description") or t.name,
            ExtObject=t.ifc_class,
            ExtIdentifier=t.global_id,
        )
        # the registry's own values, "n/a" included, so that reading back restores them
        registry = {
            "category": t.category,
            "predefined_type": t.predefined_type,
            "manufacturer": t.manufacturer,
            "model": t.model,
            "expected_life_years": t.expected_life_years,
        }
        out.ours("Type", name, t.global_id, {k: v or "n/a" for k, v in registry.items()})
    return type_names


def _component(
    out: _Sheets,
    a: Asset,
    type_names: dict[int, str],
    spaces: dict[int, Space],
    floors: dict[int, Storey],
    buildings: dict[int, Building],
) -> None:
    name = a.name or a.global_id
    building = buildings.get(a.building_id) if a.building_id is not None else None
    space = spaces.get(a.space_id) if a.space_id is not None else None
    storey = floors.get(a.storey_id) if a.storey_id is not None else None
    out.add(
        "Component" if is_cobie_component(a.ifc_class) else EXTRA_SHEET,
        Name=name,
        TypeName=type_names.get(a.asset_type_id) if a.asset_type_id is not None else None,
        Space=(space.name or space.global_id) if space else None,
        Description=a.description or a.name,
        ExtObject=a.ifc_class,
        ExtIdentifier=a.global_id,
        SerialNumber=a.serial_number,
        InstallationDate=a.installed_on,
        WarrantyStartDate=_prop(a.properties, "WarrantyStartDate"),
        TagNumber=a.asset_tag,
        BarCode=_prop(a.properties, "BarCode"),
        AssetIdentifier=a.asset_tag,
    )
    out.ours(
        "Component",
        name,
        a.global_id,
        {
            "building_ref": building.global_id if building else None,
            "type_ref": a.asset_type.global_id if a.asset_type else None,
            "storey_ref": storey.global_id if storey else None,
            "space_ref": space.global_id if space else None,
            "category": a.category,
            "serves": a.serves,
            "manufacturer": a.manufacturer,
            "model": a.model,
            "expected_life_years": a.expected_life_years,
            "warranty_until": a.warranty_until,
            "classification": a.classification,
            "predefined_type": a.predefined_type,
        },
    )
    for pset, props in (a.properties or {}).items():
        for prop, value in props.items():
            if value is None or isinstance(value, (list, dict)):
                continue
            out.add(
                "Attribute",
                Name=prop,
                Category="Pset",
                SheetName="Component",
                RowName=name,
                Value=value,
                ExtObject=pset,
                RowIdentifier=a.global_id,
            )


def _systems(session: Session, out: _Sheets) -> None:
    for s in session.scalars(select(System).options(selectinload(System.assets))):
        members = [m for m in s.assets if m.status == AssetStatus.ACTIVE] or [None]
        for m in members:  # COBie 2.4: one row per system and component
            out.add(
                "System",
                Name=s.name or s.global_id,
                Category=s.kind,
                ComponentNames=(m.name or m.global_id) if m else None,
                ExtObject="IfcSystem",
                ExtIdentifier=s.global_id,
                Description=s.name,
                ComponentIdentifiers=m.global_id if m else None,
            )


def _write(path: Path, rows: dict[str, list[Row]]) -> None:
    import xlsxwriter

    with xlsxwriter.Workbook(str(path), {"constant_memory": True}) as wb:
        bold = wb.add_format({"bold": True})
        for sheet, columns in SHEETS.items():
            ws = wb.add_worksheet(sheet)
            ws.write_row(0, 0, columns, bold)
            for r, row in enumerate(rows[sheet], start=1):
                ws.write_row(r, 0, [_cell(row.get(c)) for c in columns])
