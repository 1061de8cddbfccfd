"""The equipment taxonomy: IFC class, PredefinedType, type class and names → category and life.

The mapping is a CSV data file shipped with the package (``taxonomy.csv``); a user passes their
own file to :func:`load_taxonomy`. Rules are tried in ascending ``priority``; the first rule whose
every non-empty condition holds wins. Conditions: ``ifc_class`` (the element's class or one of its
supertypes), ``predefined_type`` (the element's or its type's), ``type_class`` (the type object's
class or one of its supertypes), ``name_pattern`` (a case-insensitive regex searched in the
element's name, object type and its type's name), ``pset_pattern`` (a regex on property set names).

Examples
--------
>>> tax = load_taxonomy()
>>> classify("IfcFlowTerminal", type_class="IfcElectricApplianceType",
...          name="M_Elevator-Hydraulic:3500 lbs", taxonomy=tax).category
'elevator'
>>> classify("IfcFlowTerminal", type_class="IfcLightFixtureType", name="One Way Switch",
...          taxonomy=tax).category
'electrical'
"""

from __future__ import annotations

import csv
import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import ifcopenshell.ifcopenshell_wrapper as wrapper

from asset_model.types import AssetCategory
from bim_ingest.errors import IngestError

DEFAULT_TAXONOMY = Path(__file__).with_name("taxonomy.csv")
REQUIRED_COLUMNS = ("priority", "category")
OPTIONAL_COLUMNS = (
    "ifc_class",
    "predefined_type",
    "type_class",
    "name_pattern",
    "pset_pattern",
    "serves",
    "expected_life_years",
)
#: Classes that are network (pipes, ducts, cables and their fittings): counted, not registered.
NETWORK_CLASSES = ("IfcFlowSegment", "IfcFlowFitting")
#: Classes whose elements are registered as assets (everything else is counted as skipped).
ASSET_CLASSES = (
    "IfcDistributionElement",
    "IfcBuildingElementProxy",
    "IfcTransportElement",
    "IfcWindow",
    "IfcDoor",
    "IfcRoof",
    "IfcFurnishingElement",  # COBie lists furniture as components; category ``other``
)
#: Service life of building-level (collective) equipment where it differs (maintenance facts G1).
COLLECTIVE_LIFE = {"boiler": 25.0}


@dataclass(frozen=True)
class Rule:
    priority: float
    category: str
    ifc_class: str | None = None
    predefined_type: str | None = None
    type_class: str | None = None
    name_pattern: re.Pattern[str] | None = None
    pset_pattern: re.Pattern[str] | None = None
    serves: str | None = None
    expected_life_years: float | None = None
    name_lowered: re.Pattern[str] | None = None  # case-sensitive twin for lower-cased names


@dataclass(frozen=True)
class Taxonomy:
    """An ordered list of rules and the file it came from."""

    rules: tuple[Rule, ...]
    path: Path


@dataclass(frozen=True)
class Classification:
    category: str
    expected_life_years: float | None
    serves: str | None
    rule: int | None  # priority of the matching rule, None for the fallback `other`


@functools.lru_cache(maxsize=8192)
def class_ancestry(ifc_class: str | None, schema: str = "IFC4") -> tuple[str, ...]:
    """The class and its supertypes in ``schema`` (lower-cased), e.g. IfcBoiler → …IfcElement.

    Unknown classes (a COBie ExtObject from another schema) give just themselves.
    """
    if not ifc_class:
        return ()
    names = [ifc_class.lower()]
    for name in (schema, "IFC4", "IFC2X3", "IFC4X3_ADD2"):
        try:
            decl = wrapper.schema_by_name(name).declaration_by_name(ifc_class)
        except (RuntimeError, IndexError, KeyError):
            continue
        sup = decl.supertype() if hasattr(decl, "supertype") else None
        while sup is not None:
            names.append(sup.name().lower())
            sup = sup.supertype()
        break
    return tuple(names)


# Characters whose case-insensitive matching is not "compare the lower-cased forms": lowering
# changes their length (İ, ß …) or they fold with another letter (ſ ~ s, ς ~ σ). Texts and
# patterns without them match the same with IGNORECASE and after ``str.lower()``.
_SPECIAL_CASE = frozenset(
    c
    for c in map(chr, range(0x80, 0x10000))
    if len(c.lower()) != 1 or len(c.upper()) != 1 or c.upper().lower() != c.lower()
)


def plain_case(text: str) -> bool:
    """Whether ``text`` matches the same case-insensitively and lower-cased (see above)."""
    return text.isascii() or (_SPECIAL_CASE.isdisjoint(text) and max(text) <= "\uffff")


def _same_kind(a: str, b: str) -> bool:
    return (a.islower() and b.islower()) or (a.isupper() and b.isupper()) or (a + b).isdigit()


def _lowered(pattern: str) -> re.Pattern[str] | None:
    """``pattern`` for lower-cased text, case-sensitive (about 4x faster than IGNORECASE).

    None when lower-casing could change its meaning: escapes other than ``\\b \\s \\w \\d``
    and punctuation (``\\B``, ``\\x41`` …), ``(?`` groups with letters (names, flags) or
    ``(?<``, ranges mixing cases (``[A-z]``), special-case letters.
    """
    if (
        re.search(r"\\(?![bswd])\w|\(\?[A-Za-z<]", pattern)
        or not plain_case(pattern)
        or any(not _same_kind(*m.groups()) for m in re.finditer(r"(\w)-(\w)", pattern))
    ):
        return None
    try:
        return re.compile(pattern.lower())
    except re.error:
        return None


def _opt(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def load_taxonomy(path: Path | str | None = None) -> Taxonomy:
    """Read a taxonomy CSV (the shipped one when ``path`` is None).

    Raises :class:`IngestError` naming the file, row and reason for a bad rule.
    """
    path = Path(path) if path is not None else DEFAULT_TAXONOMY
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as err:
        raise IngestError(path, reason=f"cannot read the taxonomy: {err}") from err
    reader = csv.DictReader(text.splitlines())
    header = {(h or "").strip().lower() for h in reader.fieldnames or []}
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise IngestError(path, reason=f"taxonomy misses column(s) {', '.join(missing)}")
    valid = {c.value for c in AssetCategory}
    rules = []
    for n, raw in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()}
        where = f"row {n}"
        category = row.get("category", "").lower()
        if category not in valid:
            raise IngestError(path, entity=where, reason=f"unknown category {category!r}")
        try:
            priority = float(row["priority"])
            life = float(row["expected_life_years"]) if row.get("expected_life_years") else None
            name_re = _opt(row.get("name_pattern"))
            pset_re = _opt(row.get("pset_pattern"))
            rule = Rule(
                priority=priority,
                category=category,
                ifc_class=(_opt(row.get("ifc_class")) or "").lower() or None,
                predefined_type=(_opt(row.get("predefined_type")) or "").upper() or None,
                type_class=(_opt(row.get("type_class")) or "").lower() or None,
                name_pattern=re.compile(name_re, re.IGNORECASE) if name_re else None,
                name_lowered=_lowered(name_re) if name_re else None,
                pset_pattern=re.compile(pset_re, re.IGNORECASE) if pset_re else None,
                serves=(_opt(row.get("serves")) or "").lower() or None,
                expected_life_years=life,
            )
        except (ValueError, re.error) as err:
            raise IngestError(path, entity=where, reason=f"bad rule: {err}") from err
        if rule.serves not in (None, "dwelling", "building"):
            raise IngestError(
                path,
                entity=where,
                reason=f"serves must be dwelling or building, not {rule.serves!r}",
            )
        rules.append(rule)
    rules.sort(key=lambda r: r.priority)
    return Taxonomy(tuple(rules), path)


@functools.lru_cache(maxsize=4)
def _default() -> Taxonomy:
    return load_taxonomy()


def classify(
    ifc_class: str | None,
    *,
    predefined_type: str | None = None,
    type_class: str | None = None,
    name: str | Iterable[str | None] = "",
    pset_names: Iterable[str] = (),
    taxonomy: Taxonomy | None = None,
    schema: str = "IFC4",
) -> Classification:
    """Category, default service life and default ``serves`` of one element.

    ``name`` is one text or several (name, object type, type name …), all searched.
    """
    tax = taxonomy or _default()
    classes = class_ancestry(ifc_class, schema)
    tclasses = class_ancestry(type_class, schema)
    texts = [name] if isinstance(name, str) else [t for t in name if t]
    text = " | ".join(t for t in texts if t)
    lowered = text.lower() if plain_case(text) else None
    ptype = (predefined_type or "").upper()
    psets = " | ".join(pset_names)
    for rule in tax.rules:
        if rule.ifc_class and rule.ifc_class not in classes:
            continue
        if rule.type_class and rule.type_class not in tclasses:
            continue
        if rule.predefined_type and rule.predefined_type != ptype:
            continue
        if rule.name_pattern:
            if lowered is not None and rule.name_lowered is not None:
                if not rule.name_lowered.search(lowered):
                    continue
            elif not rule.name_pattern.search(text):
                continue
        if rule.pset_pattern and not rule.pset_pattern.search(psets):
            continue
        return Classification(
            rule.category, rule.expected_life_years, rule.serves, int(rule.priority)
        )
    return Classification(AssetCategory.OTHER.value, None, None, None)


def is_network(ifc_class: str, schema: str = "IFC4") -> bool:
    """Pipes, ducts, cable carriers and their fittings: counted per building, not registered."""
    anc = class_ancestry(ifc_class, schema)
    return any(c.lower() in anc for c in NETWORK_CLASSES)


def is_asset_class(ifc_class: str, schema: str = "IFC4") -> bool:
    anc = class_ancestry(ifc_class, schema)
    return any(c.lower() in anc for c in ASSET_CLASSES) and not is_network(ifc_class, schema)
