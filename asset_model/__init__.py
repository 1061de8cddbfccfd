"""The registry: the housing stock, its equipment and its maintenance history.

Start with :func:`open_registry` (SQLite or PostgreSQL, migrated on open), then read the stock
with :func:`assets_frame` and :func:`work_orders_frame`. Mapped classes are in
``asset_model.models``. This package imports nothing else of the product's.
"""

from asset_model.bulk import insert_rows
from asset_model.db import open_registry, schema_revision, transaction, upgrade
from asset_model.errors import ImportValidationError, PatrimoineError, RegistryError, RowProblem
from asset_model.export import (
    EXPORT_ASSET_COLUMNS,
    assets_export_frame,
    export_assets_csv,
    write_csv,
)
from asset_model.imports import (
    AttachSummary,
    ImportFileError,
    ImportSummary,
    attach_pending,
    import_asset_attributes,
    import_readings,
    import_work_orders,
    parse_column_map,
)
from asset_model.queries import (
    assets_frame,
    buildings_frame,
    dwellings_frame,
    risk_scores_frame,
    work_orders_frame,
)
from asset_model.readings_footers import readings_channels, readings_span, relayout_readings
from asset_model.readings_store import (
    aggregation_of,
    bucket_of,
    read_readings,
    write_daily,
)
from asset_model.types import (
    AssetCategory,
    AssetStatus,
    InterventionAction,
    Serves,
    SpaceUsage,
    WorkOrderKind,
)

__all__ = [
    "AssetCategory",
    "AssetStatus",
    "ImportValidationError",
    "InterventionAction",
    "PatrimoineError",
    "RegistryError",
    "RowProblem",
    "Serves",
    "SpaceUsage",
    "WorkOrderKind",
    "assets_frame",
    "buildings_frame",
    "dwellings_frame",
    "insert_rows",
    "open_registry",
    "risk_scores_frame",
    "schema_revision",
    "transaction",
    "upgrade",
    "work_orders_frame",
    # imports and the readings store (foundation)
    "AttachSummary",
    "ImportFileError",
    "ImportSummary",
    "aggregation_of",
    "attach_pending",
    "bucket_of",
    "import_asset_attributes",
    "import_readings",
    "import_work_orders",
    "parse_column_map",
    "read_readings",
    "readings_channels",
    "readings_span",
    "relayout_readings",
    "write_daily",
    "EXPORT_ASSET_COLUMNS",
    "assets_export_frame",
    "export_assets_csv",
    "write_csv",
]
