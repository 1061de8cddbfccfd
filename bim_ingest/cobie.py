"""COBie 2.4 workbooks: :func:`read_cobie` turns one into records (``cobie_read``);
:func:`export_cobie` (``cobie_write``) writes the registry as one; ``cobie_sheets`` holds the
sheets, their columns and the spellings that published workbooks use.

Examples
--------
>>> with transaction(engine) as session:                      # doctest: +SKIP
...     export_cobie(session, "handover.xlsx")
>>> ingest_file(other_engine, "handover.xlsx").added           # doctest: +SKIP
42
"""

from __future__ import annotations

from bim_ingest.cobie_read import read_cobie
from bim_ingest.cobie_sheets import CREATED_BY, EXTRA_SHEET, OURS, SHEETS, is_cobie_component

__all__ = ["CREATED_BY", "EXTRA_SHEET", "OURS", "SHEETS", "is_cobie_component", "read_cobie"]
