"""Asset facts (manufacturer, model, serial, dates, life, warranty) from property sets.

Real files spell the standard property sets in several ways (``Pset_ManufacturerOccurence``,
``Pset_ManufacturersTypeInformation``), use COBie psets (``COBie_Component``, ``COBie_Type``) or
vendor ones (``PSet_Revit_Identity Data``, ``Identity Data``, ``Other``). Facts are looked up by
normalised property name in every pset, standard psets first; placeholder values ("n/a", "-",
"unknown", a value equal to its own property name, 1900 dates) count as unknown.

Examples
--------
>>> facts = asset_facts({"Pset_ManufacturerTypeInformation": {"Manufacturer": "Acme",
...                      "ModelLabel": "X1"}, "COBie_Component": {"InstallationDate":
...                      "1900-12-12T23:23:59", "SerialNumber": "n/a"}})
>>> facts.manufacturer, facts.model, facts.installed_on, facts.serial_number
('Acme', 'X1', None, None)
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

PLACEHOLDERS = {
    "",
    "n/a",
    "na",
    "n.a.",
    "n.a",
    "none",
    "null",
    "unknown",
    "inconnu",
    "unbekannt",
    "-",
    "--",
    "?",
    "tbc",
    "tbd",
    "nil",
    "not applicable",
    "sans objet",
}

# normalised property name -> fact
FACT_NAMES: dict[str, tuple[str, ...]] = {
    "manufacturer": ("manufacturer", "fabricant", "hersteller", "manufacturername"),
    "model": (
        "modelnumber",
        "modellabel",  # COBie's ModelNumber, as xBIM and ifcfm map it
        "modelreference",
        "model",
        "modele",
        "modèle",
        "typenumber",
        "productname",
    ),
    "serial_number": ("serialnumber", "serialno", "numerodeserie", "seriennummer"),
    "installed_on": (
        "installationdate",
        "dateofinstallation",
        "dateinstallation",
        "datedemiseenservice",
        "commissioningdate",
        "installationsdatum",
    ),
    "expected_life": (
        "expectedlife",
        "servicelifeduration",
        "servicelife",
        "designlife",
        "dureedevie",
        "nutzungsdauer",
        "lifeexpectancy",
    ),
    "warranty_end": ("warrantyenddate", "warrantyexpirydate", "findegarantie"),
    "warranty_start": ("warrantystartdate",),
    "warranty_years": ("warrantydurationparts", "warrantyperiod", "warrantyduration"),
    "tag": ("tagnumber", "assetidentifier", "assettag"),
    "duration_unit": ("durationunit",),
    "acquired_on": ("acquisitiondate", "purchasedate"),
}
_LOOKUP = {alias: fact for fact, aliases in FACT_NAMES.items() for alias in aliases}
_RANK = {alias: i for aliases in FACT_NAMES.values() for i, alias in enumerate(aliases)}

_PSET_ORDER = (
    re.compile(r"^pset_manufacturer", re.I),
    re.compile(r"^pset_(servicelife|warranty|constructionoccurrence|asset)", re.I),
    re.compile(r"^pset_", re.I),
    re.compile(r"^cobie", re.I),
    re.compile(r"identity data", re.I),
    re.compile(r"other", re.I),
)


@functools.lru_cache(maxsize=65536)
def _norm(name: str) -> str:
    return re.sub(r"[\s_\-./()]", "", name).lower()


@functools.lru_cache(maxsize=8192)
def _pset_rank(name: str) -> int:
    for i, pattern in enumerate(_PSET_ORDER):
        if pattern.search(name):
            return i
    return len(_PSET_ORDER)


def clean(value: Any, prop: str | None = None) -> Any:
    """The value, or None when it is a placeholder (also when it merely repeats ``prop``)."""
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        value = value[0] if len(value) == 1 else ", ".join(str(v) for v in value)
    if isinstance(value, str):
        text = value.strip()
        if text.lower() in PLACEHOLDERS:
            return None
        if prop is not None and _norm(text) == _norm(prop):
            return None
        return text
    return value


def parse_date(value: Any) -> dt.date | None:
    """ISO / French / COBie dates; 1900 placeholders and unreadable text give None."""
    value = clean(value)
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, dt.datetime):
        day = value.date()
    elif isinstance(value, dt.date):
        day = value
    elif isinstance(value, (int, float)):
        if 1901 <= value <= 2200:
            return dt.date(int(value), 1, 1)
        return None
    else:
        text = str(value).strip()
        day = None
        m = re.match(r"^(\d{4})-(\d{1,2})-(\d{1,2})", text)
        if m:
            try:
                day = dt.date(int(m[1]), int(m[2]), int(m[3]))
            except ValueError:
                return None
        m = day is None and re.match(r"^(\d{1,2})[/.](\d{1,2})[/.](\d{4})", text)
        if m:
            try:
                day = dt.date(int(m[3]), int(m[2]), int(m[1]))
            except ValueError:
                return None
        if day is None and re.fullmatch(r"\d{4}", text):
            day = dt.date(int(text), 1, 1)
        if day is None:
            return None
    if day.year <= 1900:
        return None
    return day


_ISO_DURATION = re.compile(r"^P(?:(\d+(?:\.\d+)?)Y)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)D)?")
_UNIT_YEARS = {
    "year": 1.0,
    "years": 1.0,
    "month": 1 / 12,
    "months": 1 / 12,
    "week": 7 / 365.25,
    "weeks": 7 / 365.25,
    "day": 1 / 365.25,
    "days": 1 / 365.25,
}


def parse_years(value: Any, unit: str | None = None) -> float | None:
    """A duration in years: a number (in ``unit``, default years) or ISO 8601 ``P15Y``."""
    value = clean(value)
    if value is None or isinstance(value, bool):
        return None
    factor = _UNIT_YEARS.get((unit or "year").strip().lower(), 1.0)
    if isinstance(value, (int, float)):
        years = float(value) * factor
    else:
        text = str(value).strip().replace(",", ".")
        m = _ISO_DURATION.match(text)
        if m and any(m.groups()):
            y, mo, d = (float(g) if g else 0.0 for g in m.groups())
            years = y + mo / 12 + d / 365.25
        else:
            m2 = re.match(r"^(\d+(?:\.\d+)?)\s*([a-zA-Z]*)", text)
            if not m2:
                return None
            years = float(m2[1]) * _UNIT_YEARS.get(m2[2].lower(), factor)
    if years <= 0 or years > 200:
        return None
    return round(years, 3)


def add_years(day: dt.date, years: float) -> dt.date:
    """``day`` plus ``years`` (calendar years when whole, else 365.25-day years)."""
    if float(years).is_integer():
        try:
            return day.replace(year=day.year + int(years))
        except ValueError:  # 29 February
            return day.replace(year=day.year + int(years), day=28)
    return day + dt.timedelta(days=round(years * 365.25))


@dataclass(frozen=True)
class AssetFacts:
    manufacturer: str | None = None
    model: str | None = None
    serial_number: str | None = None
    installed_on: dt.date | None = None
    expected_life_years: float | None = None
    warranty_until: dt.date | None = None
    tag: str | None = None


def find_facts(*layers: Mapping[str, Mapping[str, Any]]) -> dict[str, tuple[Any, str]]:
    """First non-placeholder value of every fact, with the property it came from.

    ``layers`` are searched in order (the occurrence's psets, then its type's): instance wins.
    """
    found: dict[str, tuple[Any, str]] = {}
    ordered = [(name, layer[name]) for layer in layers for name in sorted(layer, key=_pset_rank)]
    for pset_name, props in ordered:
        # within one pset, the preferred spelling first (ModelNumber before ModelLabel)
        items = sorted(props.items(), key=lambda kv: _RANK.get(_norm(kv[0]), 99))
        for prop, value in items:
            fact = _LOOKUP.get(_norm(prop))
            if fact is None or fact in found:
                continue
            value = clean(value, prop)
            if value is None:
                continue
            if fact == "expected_life":
                unit = next(
                    (v for k, v in props.items() if _norm(k) == "durationunit" and clean(v)),
                    None,
                )
                value = parse_years(value, unit)
            elif fact in ("installed_on", "warranty_end", "warranty_start", "acquired_on"):
                value = parse_date(value)
            elif fact == "warranty_years":
                value = parse_years(value)
            if value is None:
                continue
            found[fact] = (value, f"{pset_name}.{prop}")
    return found


def asset_facts(*layers: Mapping[str, Mapping[str, Any]]) -> AssetFacts:
    """The facts of one asset from its property sets: its own first, then its type's."""
    return facts_from(find_facts(*layers))


def facts_from(found: Mapping[str, tuple[Any, str]]) -> AssetFacts:
    """:class:`AssetFacts` from :func:`find_facts`' result.

    ``find_facts(own, type_psets)`` equals ``{**find_facts(type_psets), **find_facts(own)}``,
    so the type's part can be found once per type and merged under each occurrence's.
    """

    def get(fact: str) -> Any:
        return found[fact][0] if fact in found else None

    installed = get("installed_on")
    warranty = get("warranty_end")
    if warranty is None and get("warranty_years") is not None:
        start = get("warranty_start") or installed
        if start is not None:
            warranty = add_years(start, get("warranty_years"))
    text = {
        k: (str(get(k))[:255] if get(k) is not None else None)
        for k in ("manufacturer", "model", "serial_number", "tag")
    }
    return AssetFacts(
        manufacturer=text["manufacturer"],
        model=text["model"],
        serial_number=text["serial_number"],
        installed_on=installed,
        expected_life_years=get("expected_life"),
        warranty_until=warranty,
        tag=text["tag"][:64] if text["tag"] else None,
    )
