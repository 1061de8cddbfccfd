"""IFC elements → records: equipment (classified, with facts and properties), types, systems.

Network elements (pipes, ducts, cable carriers and fittings) are counted per building and class;
other non-equipment elements are counted as skipped. Each type object is read once: its record,
its facts and its JSON property sets are shared by all its occurrences.

Examples
--------
>>> lookup = extract_spatial(index, out, project, path)             # doctest: +SKIP
>>> extract_elements(index, out, lookup, load_taxonomy())           # doctest: +SKIP
>>> out.assets[0].category, out.network                             # doctest: +SKIP
('boiler', Counter({('2O2Fr$t4X7Zf8NOew3FLOH', 'IfcPipeSegment'): 197}))
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from bim_ingest.extract_spatial import SpatialLookup
from bim_ingest.ifc_index import RelationIndex, attr, json_psets, positions, predefined_type
from bim_ingest.psets import clean, facts_from, find_facts
from bim_ingest.records import AssetRecord, ModelRecords, SystemRecord, TypeRecord
from bim_ingest.spatial import is_collective
from bim_ingest.taxonomy import COLLECTIVE_LIFE, Taxonomy, classify, is_asset_class, is_network


@dataclass
class _TypeInfo:
    """One type object, read once for all its occurrences."""

    entity: Any
    record: TypeRecord
    psets: dict[str, dict[str, Any]]
    facts: dict[str, tuple[Any, str]]
    json: dict[str, dict[str, Any]]
    name: str | None
    element_type: str | None


def _type_info(index: RelationIndex, typ: Any, taxonomy: Taxonomy, schema: str) -> _TypeInfo:
    psets = index.type_psets(typ)
    found = find_facts(psets)
    facts = facts_from(found)
    name, element_type, cls_name = attr(typ, "Name"), attr(typ, "ElementType"), typ.is_a()
    predefined = predefined_type(typ)
    cls = classify(
        None,
        predefined_type=predefined,
        type_class=cls_name,
        name=(name, element_type),
        taxonomy=taxonomy,
        schema=schema,
    )
    json = json_psets(psets)
    record = TypeRecord(
        attr(typ, "GlobalId"),
        name,
        cls_name,
        predefined,
        cls.category if cls.rule is not None else None,
        facts.manufacturer,
        facts.model,
        facts.expected_life_years or cls.expected_life_years,
        json or None,
    )
    return _TypeInfo(typ, record, psets, found, json, name, element_type)


def _merged_properties(
    type_json: dict[str, dict[str, Any]], own_json: dict[str, dict[str, Any]]
) -> dict[str, dict[str, Any]] | None:
    """The type's property sets with the occurrence's on top (instance wins)."""
    if not own_json:
        return dict(type_json) or None
    if not type_json:
        return own_json
    merged = dict(type_json)
    for name, props in own_json.items():
        merged[name] = {**merged[name], **props} if name in merged else props
    return merged


def extract_elements(
    index: RelationIndex, out: ModelRecords, lookup: SpatialLookup, taxonomy: Taxonomy
) -> None:
    """Fill ``out`` with assets, types, network counts and skipped classes."""
    schema = index.file.schema
    kinds: dict[str, tuple[bool, bool]] = {}  # class -> (network, asset)
    types: dict[int, _TypeInfo] = {}
    tags: Counter[str] = Counter()
    assets: list[AssetRecord] = []
    fields = ("GlobalId", "Name", "Description", "ObjectType")
    field_positions: dict[str, tuple[int, ...]] = {}
    for el in index.file.by_type("IfcElement"):
        qualified = el.is_a(True)
        cls_name = qualified.rpartition(".")[2]
        kind = kinds.get(cls_name)
        if kind is None:
            kind = kinds[cls_name] = (
                is_network(cls_name, schema),
                is_asset_class(cls_name, schema),
            )
        chain = index.spatial_chain(el)
        if kind[0]:
            out.network[(lookup.building_of(chain), cls_name)] += 1
            continue
        if not kind[1] and not (
            cls_name == "IfcCovering" and attr(el, "PredefinedType") == "ROOFING"
        ):
            out.skipped[cls_name] += 1
            continue
        eid = el.id()
        typ = index.type_of.get(eid)
        info = None
        if typ is not None:
            info = types.get(typ.id())
            if info is None:
                info = types[typ.id()] = _type_info(index, typ, taxonomy, schema)
        trec = info.record if info is not None else None
        own = index.own_psets(el)
        pos = field_positions.get(qualified)
        if pos is None:
            pos = field_positions[qualified] = positions(qualified, fields)
        # every IfcElement has these four (IfcRoot, IfcObject): read by position
        gid, name = el.get_argument(pos[0]), el.get_argument(pos[1])
        description, object_type = el.get_argument(pos[2]), el.get_argument(pos[3])
        pset_names = list(info.psets) if info is not None else []
        pset_names += [k for k in own if k not in pset_names]
        predefined = predefined_type(el) or (trec.predefined_type if trec else None)
        c = classify(
            cls_name,
            predefined_type=predefined,
            type_class=trec.ifc_class if trec else None,
            name=(name, object_type, info.name, info.element_type) if info else (name, object_type),
            pset_names=pset_names,
            taxonomy=taxonomy,
            schema=schema,
        )
        found = find_facts(own) if own else {}
        if info is not None and info.facts:
            found = {**info.facts, **found}
        facts = facts_from(found)
        space = chain.get("space")
        storey = chain.get("storey")
        if storey is None and space is not None:
            storey = index.spatial_chain(space).get("storey")
        space_gid = attr(space, "GlobalId") if space is not None else None
        dwelling_gid = lookup.dwelling_of_space(space_gid)
        serves = c.serves
        if serves is None:
            usage = lookup.space_usage_of.get(space_gid or "")
            if is_collective(name, object_type) or usage in ("technical", "common"):
                serves = "building"
            elif dwelling_gid is not None:
                serves = "dwelling"
        life = facts.expected_life_years
        if life is None:
            life = c.expected_life_years
            if serves == "building" and c.category in COLLECTIVE_LIFE:
                life = COLLECTIVE_LIFE[c.category]
        labels = index.classification.get(eid) or (
            index.classification.get(typ.id()) if typ is not None else None
        )
        if facts.tag:
            tags[facts.tag] += 1
        assets.append(
            AssetRecord(
                global_id=gid,
                name=(name or "")[:255] or None,
                ifc_class=cls_name,
                category=c.category,
                description=(description or "")[:1024] or None,
                predefined_type=(predefined or "")[:64] or None,
                type_global_id=trec.global_id if trec else None,
                building_global_id=lookup.building_of(chain),
                storey_global_id=attr(storey, "GlobalId") if storey is not None else None,
                space_global_id=space_gid,
                dwelling_global_id=dwelling_gid,
                serves=serves,
                manufacturer=facts.manufacturer or (trec.manufacturer if trec else None),
                model=facts.model or (trec.model if trec else None),
                serial_number=facts.serial_number,
                installed_on=facts.installed_on,
                expected_life_years=life,
                warranty_until=facts.warranty_until,
                classification="; ".join(dict.fromkeys(labels))[:255] if labels else None,
                tag=facts.tag,
                properties=_merged_properties(
                    info.json if info is not None else {}, json_psets(own) if own else {}
                ),
            )
        )
    for rec in assets:  # a tag shared by several assets identifies none of them
        if rec.tag and tags[rec.tag] > 1:
            rec.tag = None
    out.assets = assets
    out.types = [info.record for info in types.values()]
    _systems(index, out)


def _systems(index: RelationIndex, out: ModelRecords) -> None:
    """IfcSystem and subclasses (zones aside), their member assets and building."""
    asset_building = {a.global_id: a.building_global_id for a in out.assets}
    for system in index.file.by_type("IfcSystem"):
        if system.is_a("IfcZone") or system.is_a("IfcStructuralAnalysisModel"):
            continue
        gids = (attr(m, "GlobalId") for m in index.groups.get(system.id(), ()))
        members = [g for g in gids if g in asset_building]
        serviced = index.serviced.get(system.id())
        bgid = attr(serviced, "GlobalId") if serviced is not None else None
        if bgid is None and members:
            bgid = Counter(asset_building[m] for m in members).most_common(1)[0][0]
        kind = predefined_type(system) or clean(attr(system, "ObjectType"))
        out.systems.append(
            SystemRecord(
                attr(system, "GlobalId"),
                attr(system, "Name"),
                (kind or "")[:32].lower() or None,
                bgid,
                members,
            )
        )
