"""Export the registry as files a landlord's other tools read: one CSV row per asset.

Examples
--------
>>> with transaction(engine) as session:                       # doctest: +SKIP
...     export_assets_csv(session, "assets.csv")
1284
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
from sqlalchemy.orm import Session

from asset_model.errors import PatrimoineError
from asset_model.queries import assets_frame

#: ``patrimoine export assets`` columns (DESIGN, "CLI"), in this order.
EXPORT_ASSET_COLUMNS = [
    "asset_ref",
    "asset_tag",
    "name",
    "ifc_class",
    "category",
    "site",
    "building",
    "storey",
    "space",
    "dwelling",
    "manufacturer",
    "model",
    "installed_on",
    "expected_life_years",
    "status",
    "source_file",
]


def assets_export_frame(session: Session) -> pd.DataFrame:
    """The registry's assets with exactly the export columns (dates as ``YYYY-MM-DD`` text)."""
    frame = assets_frame(session)[EXPORT_ASSET_COLUMNS].copy()
    frame["installed_on"] = frame["installed_on"].dt.strftime("%Y-%m-%d")
    return frame


def export_assets_csv(session: Session, path: Path | str) -> int:
    """Write every asset to ``path`` (UTF-8 CSV, ``,`` separator); returns the rows written.

    The file is written to a temporary name first, so a failure never leaves half a file.
    """
    path = Path(path)
    if path.exists() and path.is_dir():
        raise PatrimoineError(f"{path}: is a folder; give a .csv file name")
    if not path.parent.exists():
        raise PatrimoineError(f"{path.parent}: no such folder")
    frame = assets_export_frame(session)
    tmp = path.with_name(f".{path.name}.tmp")
    frame.to_csv(tmp, index=False, encoding="utf-8", lineterminator="\n")
    tmp.replace(path)
    return len(frame)


def write_csv(frame: pd.DataFrame, path: Path | str) -> int:
    """Write ``frame`` to ``path`` as UTF-8 CSV (``,``, text quoted, missing values empty);
    returns the rows written.

    Arrow's writer: a million scored assets in ~2 s where ``DataFrame.to_csv`` took ~20 s.
    The file is written under a temporary name first, so a failure never leaves half a file.
    """
    path = Path(path)
    if path.is_dir():
        raise PatrimoineError(f"{path}: is a folder; give a .csv file name")
    if not path.parent.exists():
        raise PatrimoineError(f"{path.parent}: no such folder")
    table = pa.Table.from_pandas(frame, preserve_index=False)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        pa_csv.write_csv(table, tmp, pa_csv.WriteOptions(quoting_style="needed"))
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    tmp.replace(path)
    return len(frame)
