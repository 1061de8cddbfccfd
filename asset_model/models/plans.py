"""What planner writes back: plans and their planned interventions (DESIGN §6)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import Enum, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from asset_model.models.base import Base
from asset_model.types import InterventionAction, IntPK, utcnow

if TYPE_CHECKING:
    from asset_model.models.assets import Asset


class Plan(Base):
    __tablename__ = "plan"
    id: Mapped[IntPK]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    name: Mapped[str | None] = mapped_column(String(255))
    budget_eur: Mapped[Decimal]
    years: Mapped[int]
    start_on: Mapped[dt.date]
    objective: Mapped[float | None]
    bound: Mapped[float | None]
    gap: Mapped[float | None]
    solver: Mapped[str | None] = mapped_column(String(64))
    parameters: Mapped[dict[str, Any] | None]
    model_run_id: Mapped[int | None] = mapped_column(ForeignKey("model_run.id"))
    interventions: Mapped[list[PlannedIntervention]] = relationship(
        back_populates="plan", cascade="all, delete-orphan"
    )


class PlannedIntervention(Base):
    __tablename__ = "planned_intervention"
    id: Mapped[IntPK]
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"), index=True)
    asset_id: Mapped[int | None] = mapped_column(ForeignKey("asset.id"), index=True)
    action: Mapped[InterventionAction] = mapped_column(
        Enum(InterventionAction, native_enum=False, length=16, validate_strings=True)
    )
    trade: Mapped[str] = mapped_column(String(64))
    scheduled_on: Mapped[dt.date]
    duration_h: Mapped[float]
    crew: Mapped[str | None] = mapped_column(String(64))
    cost_eur: Mapped[Decimal]
    p_failure_before: Mapped[float | None]
    p_failure_after: Mapped[float | None]
    dwellings_affected: Mapped[int] = mapped_column(default=0)
    statutory: Mapped[bool] = mapped_column(default=False)
    rank: Mapped[int]
    reason: Mapped[str | None] = mapped_column(String(1024))
    plan: Mapped[Plan] = relationship(back_populates="interventions")
    asset: Mapped[Asset | None] = relationship()
