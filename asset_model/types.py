"""Column types and enumerations shared by the registry's mapped classes."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Annotated, Any

from sqlalchemy import JSON, DateTime, Numeric, String, TypeDecorator
from sqlalchemy.orm import mapped_column


class AssetCategory(enum.StrEnum):
    """Canonical equipment categories (DESIGN §1), used by every stage and export."""

    BOILER = "boiler"
    HEAT_PUMP = "heat_pump"
    WATER_HEATER = "water_heater"
    RADIATOR = "radiator"
    VENTILATION_FAN = "ventilation_fan"
    AIR_TERMINAL = "air_terminal"
    PUMP = "pump"
    VALVE = "valve"
    ELEVATOR = "elevator"
    SANITARY = "sanitary"
    LIGHT = "light"
    FIRE_SAFETY = "fire_safety"
    ELECTRICAL = "electrical"
    METER = "meter"
    WINDOW = "window"
    DOOR = "door"
    ROOF = "roof"
    OTHER = "other"


class AssetStatus(enum.StrEnum):
    ACTIVE = "active"
    DECOMMISSIONED = "decommissioned"


class Serves(enum.StrEnum):
    """Whether one piece of equipment serves a single dwelling or a whole building."""

    DWELLING = "dwelling"
    BUILDING = "building"


class SpaceUsage(enum.StrEnum):
    DWELLING = "dwelling"
    COMMON = "common"
    TECHNICAL = "technical"
    OTHER = "other"


class WorkOrderKind(enum.StrEnum):
    """Kinds of work order (DESIGN §3). A ``failure`` is a breakdown call-out."""

    PREVENTIVE = "preventive"
    CORRECTIVE = "corrective"
    FAILURE = "failure"
    INSPECTION = "inspection"
    REPLACEMENT = "replacement"


class InterventionAction(enum.StrEnum):
    INSPECT = "inspect"
    SERVICE = "service"
    REPAIR = "repair"
    REPLACE = "replace"


class UtcDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: Any, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


IntPK = Annotated[int, mapped_column(primary_key=True)]
GlobalId = Annotated[str | None, mapped_column(String(64), unique=True, index=True)]
Name = Annotated[str | None, mapped_column(String(255))]
Money = Annotated[Decimal | None, mapped_column(Numeric(14, 2))]
Json = Annotated[dict[str, Any] | None, mapped_column(JSON)]
