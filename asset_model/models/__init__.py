"""The registry's mapped classes (SQLAlchemy 2 declarative, typed)."""

from asset_model.models.assets import Asset, AssetType, System, asset_system
from asset_model.models.base import Base
from asset_model.models.maintenance import ImportRecord, MaintenanceEvent, PendingAssetAttribute
from asset_model.models.plans import Plan, PlannedIntervention
from asset_model.models.predictions import ModelRun, RiskScore
from asset_model.models.spatial import (
    Building,
    Dwelling,
    NetworkCount,
    Site,
    SourceFile,
    Space,
    Storey,
)

__all__ = [
    "Asset",
    "AssetType",
    "Base",
    "Building",
    "Dwelling",
    "ImportRecord",
    "MaintenanceEvent",
    "ModelRun",
    "NetworkCount",
    "PendingAssetAttribute",
    "Plan",
    "PlannedIntervention",
    "RiskScore",
    "Site",
    "SourceFile",
    "Space",
    "Storey",
    "System",
    "asset_system",
]
