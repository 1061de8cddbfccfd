"""Imports of the landlord's files: work orders, readings and asset attributes (DESIGN §3).

Each import validates the whole file first (every bad row is listed in one
:class:`~asset_model.errors.ImportValidationError`) and writes nothing of a bad file; importing
the same file again changes nothing. Rows naming assets the registry does not know yet are kept
aside and attached by :func:`attach_pending` when those assets arrive.
"""

from asset_model.imports.attach import attach_pending
from asset_model.imports.attributes import import_asset_attributes
from asset_model.imports.common import AttachSummary, ImportSummary
from asset_model.imports.reader import parse_column_map
from asset_model.imports.readings import import_readings
from asset_model.imports.sniff import ImportFileError
from asset_model.imports.workorders import import_work_orders

__all__ = [
    "AttachSummary",
    "ImportFileError",
    "ImportSummary",
    "attach_pending",
    "import_asset_attributes",
    "import_readings",
    "import_work_orders",
    "parse_column_map",
]
