"""Read-only helpers for the spatial structure: space usage, dwellings, typology, geolocation.

Examples
--------
>>> space_usage("Chaufferie"), space_usage("Séjour"), space_usage("Treppenhaus")
('technical', 'dwelling', 'common')
>>> is_dwelling_name("Logement A-101 (T3)"), typology("Logement A-101 (T3)")
(True, 'T3')
>>> round(compound_angle((48, 51, 24, 0)), 4)
48.8567
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

DWELLING_RE = re.compile(
    r"(logement|dwelling|apartment|appartement|\bappt\b|wohnung|wohneinheit|\bflat\b|"
    r"housing unit|residential unit|\blgt\b|\b[TF][1-7]\b)",
    re.IGNORECASE,
)
NOT_DWELLING_ZONE_RE = re.compile(
    r"(thermal|thermique|fire|incendie|brand|hvac|lighting|[ée]clairage|security|s[ée]curit)",
    re.IGNORECASE,
)
TYPOLOGY_RE = re.compile(r"\b([TF])\s?([1-7])(?:\s?bis)?\b", re.IGNORECASE)
TECHNICAL_RE = re.compile(
    r"(chaufferie|local technique|locaux techniques|\bLT\b|sous[- ]station|machinerie|"
    r"local (vmc|ventilation|compteurs?|[ée]lectrique|ordures|poubelles|chaudi[eè]re)|tgbt|"
    r"boiler ?room|plant ?room|mechanical|electrical room|\briser\b|technical|heizraum|"
    r"technik|hausanschluss|maschinenraum|shaft|gaine)",
    re.IGNORECASE,
)
COMMON_RE = re.compile(
    r"(hall|circulation|escalier|palier|couloir|d[ée]gagement|parties communes|cage|"
    r"corridor|stair|lobby|entrance|landing|lift lobby|treppenhaus|flur|\bdiele\b|eingang|"
    r"parking|garage|cave|cellier|local v[ée]los|bike|common)",
    re.IGNORECASE,
)
ROOM_RE = re.compile(
    r"(s[ée]jour|salon|chambre|cuisine|salle (de bain|d.eau)|\bsdb\b|\bwc\b|toilettes|"
    r"entr[ée]e|living|bed ?room|kitchen|bath|dining|wohnen|schlafen|kind|k[üu]che|\bbad\b|"
    r"essen|zimmer|\bdusche\b)",
    re.IGNORECASE,
)
COLLECTIVE_RE = re.compile(
    r"(collecti|chaufferie|communal|central|zentral|shared|building|immeuble|geb[äa]ude)",
    re.IGNORECASE,
)


def _text(parts: Iterable[str | None]) -> str:
    return " | ".join(p for p in parts if p)


def space_usage(*names: str | None) -> str:
    """`technical`, `common`, `dwelling` or `other` from a space's names / types (FR/EN/DE)."""
    text = _text(names)
    if TECHNICAL_RE.search(text):
        return "technical"
    if DWELLING_RE.search(text):
        return "dwelling"
    if COMMON_RE.search(text):
        return "common"
    if ROOM_RE.search(text):
        return "dwelling"
    return "other"


def is_dwelling_name(*names: str | None) -> bool:
    text = _text(names)
    return bool(DWELLING_RE.search(text)) and not NOT_DWELLING_ZONE_RE.search(text)


def typology(*names: str | None) -> str | None:
    """``T1`` … ``T7`` from names like "Logement 12 - T3" or "F4" (F is the older spelling)."""
    m = TYPOLOGY_RE.search(_text(names))
    return f"T{m[2]}" if m else None


def is_collective(*names: str | None) -> bool:
    return bool(COLLECTIVE_RE.search(_text(names)))


def compound_angle(value: Sequence[int] | None) -> float | None:
    """Decimal degrees from an IfcCompoundPlaneAngleMeasure (deg, min, sec[, millionths])."""
    if not value:
        return None
    parts = list(value) + [0] * (4 - len(value))
    deg, minutes, sec, micro = (float(p) for p in parts[:4])
    sign = -1.0 if any(p < 0 for p in (deg, minutes, sec, micro)) else 1.0
    result = abs(deg) + abs(minutes) / 60 + abs(sec) / 3600 + abs(micro) / 3.6e9
    return sign * result


def storey_elevations(raw: Sequence[float | None], scale: float) -> list[float | None]:
    """Elevations in metres, correcting files whose elevations ignore the declared length unit.

    Storey elevations in metres in a millimetre file (a common exporter slip) show as a building
    a few millimetres high: when the scaled range is under 0.5 m while the raw range is at least
    2 units, the raw values are taken as metres. Values beyond 2 km scaled are read as mm.
    """
    values = [v for v in raw if v is not None]
    if not values:
        return list(raw)
    raw_span = max(values) - min(values)
    scaled_span = raw_span * scale
    if scale < 1 and len(values) > 1 and scaled_span < 0.5 <= 2 <= raw_span:
        factor = 1.0
    elif max(abs(v) for v in values) * scale > 2000:
        factor = scale / 1000
    else:
        factor = scale
    return [round(v * factor, 4) if v is not None else None for v in raw]
