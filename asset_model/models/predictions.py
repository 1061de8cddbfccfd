"""What predict writes back: model runs and risk scores."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from asset_model.models.base import Base
from asset_model.types import IntPK, utcnow

if TYPE_CHECKING:
    from asset_model.models.assets import Asset


class ModelRun(Base):
    """One trained model artifact (a folder in the workspace) and its held-out metrics."""

    __tablename__ = "model_run"
    id: Mapped[IntPK]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    artifact_path: Mapped[str] = mapped_column(String(1024))
    horizon_days: Mapped[int]
    train_start: Mapped[dt.date | None]
    train_end: Mapped[dt.date | None]
    data_sha256: Mapped[str | None] = mapped_column(String(64))
    metrics: Mapped[dict[str, Any] | None]
    scores: Mapped[list[RiskScore]] = relationship(back_populates="model_run")


class RiskScore(Base):
    """Failure probability within the horizon, remaining life and drivers, per asset and date."""

    __tablename__ = "risk_score"
    __table_args__ = (UniqueConstraint("model_run_id", "asset_id", "as_of"),)
    id: Mapped[IntPK]
    model_run_id: Mapped[int] = mapped_column(ForeignKey("model_run.id"), index=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("asset.id"), index=True)
    as_of: Mapped[dt.date] = mapped_column(index=True)
    horizon_days: Mapped[int]
    p_failure: Mapped[float]
    remaining_life_years: Mapped[float | None]
    drivers: Mapped[str | None] = mapped_column(String(1024))
    model_run: Mapped[ModelRun] = relationship(back_populates="scores")
    asset: Mapped[Asset] = relationship()
