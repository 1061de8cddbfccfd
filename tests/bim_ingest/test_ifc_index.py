"""Reads by attribute position agree with ifcopenshell's own attribute access, per schema."""

from __future__ import annotations

import ifcopenshell.ifcopenshell_wrapper as wrapper
import pytest

from bim_ingest.ifc_index import RelationIndex, attr, pset_properties
from tests.bim_ingest.builders import SCHEMAS, build_model


@pytest.mark.parametrize("schema", SCHEMAS)
def test_attr_reads_what_getattr_reads_for_every_attribute(schema: str) -> None:
    f = build_model(schema)
    compared = 0
    for entity in f:
        decl = wrapper.schema_by_name(entity.is_a(True).split(".")[0]).declaration_by_name(
            entity.is_a()
        )
        if not hasattr(decl, "all_attributes"):  # a type wrapper (IfcLabel …)
            continue
        for a, derived in zip(decl.all_attributes(), decl.derived(), strict=True):
            if derived:  # computed by EXPRESS rules (IfcSIUnit.Dimensions): not read here
                assert attr(entity, a.name()) is None
                continue
            assert attr(entity, a.name()) == getattr(entity, a.name()), (entity, a.name())
            compared += 1
        assert attr(entity, "NoSuchAttribute") is None
    assert compared > 1000


@pytest.mark.parametrize("schema", SCHEMAS)
def test_relation_index_finds_what_util_element_finds(schema: str) -> None:
    import ifcopenshell.util.element as ue

    f = build_model(schema)
    index = RelationIndex(f)
    for gid in f.equipment.values():
        el = f.by_guid(gid)
        assert index.container.get(el.id()) == ue.get_container(el)
        assert index.type_of.get(el.id()) == ue.get_type(el)
        util = ue.get_psets(el, psets_only=True, should_inherit=False)
        own = index.own_psets(el)
        assert own.keys() == util.keys()
        for name, props in own.items():
            assert props == {k: v for k, v in util[name].items() if k != "id"}
    for pset in f.by_type("IfcPropertySet"):
        assert pset_properties(pset) == {
            k: v for k, v in ue.get_property_definition(pset).items() if k != "id"
        }
