"""COBie 2.4 sheets and columns, and reading a workbook's sheets as rows of canonical columns.

Published COBie workbooks spell the same column several ways: the NIBS / BS 1192-4 template
says ``ExtSystem, ExtObject, ExtIdentifier``, IfcOpenShell's ``ifcfm`` writes
``ExternalSystem, ExternalObject, ExternalIdentifier``; some tools change case or add spaces,
and sheet names may carry stray spaces. :func:`read_sheets` maps all of them to the columns of
:data:`SHEETS`, so the reader never looks for a spelling. Old Excel (``.xls``) handovers are
read with ``xlrd``.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from ifcopenshell.util.fm import cobie_component_classes

from bim_ingest.errors import IngestError
from bim_ingest.psets import clean
from bim_ingest.taxonomy import class_ancestry

CREATED_BY = "patrimoine@localhost"
OURS = "Patrimoine"  # ExtObject of our own Attribute rows, ignorable by other tools
# Registered assets that COBie does not count as components (IfcRoof, a bare
# IfcDistributionFlowElement) go to this extra sheet, read back by us, ignored by others.
EXTRA_SHEET = "PatrimoineAsset"
_EXT = ["ExtSystem", "ExtObject", "ExtIdentifier"]
SHEETS: dict[str, list[str]] = {
    "Facility": [
        "Name",
        "CreatedBy",
        "CreatedOn",
        "Category",
        "ProjectName",
        "SiteName",
        "LinearUnits",
        "AreaUnits",
        "VolumeUnits",
        "CurrencyUnit",
        "AreaMeasurement",
        "ExternalSystem",
        "ExternalProjectObject",
        "ExternalProjectIdentifier",
        "ExternalSiteObject",
        "ExternalSiteIdentifier",
        "ExternalFacilityObject",
        "ExternalFacilityIdentifier",
        "Description",
        "ProjectDescription",
        "SiteDescription",
        "Phase",
    ],
    "Floor": ["Name", "CreatedBy", "CreatedOn", "Category", *_EXT]
    + ["Description", "Elevation", "Height", "FacilityName"],
    "Space": ["Name", "CreatedBy", "CreatedOn", "Category", "FloorName", "Description", *_EXT]
    + ["RoomTag", "UsableHeight", "GrossArea", "NetArea", "FacilityName"],
    "Zone": ["Name", "CreatedBy", "CreatedOn", "Category", "SpaceNames", *_EXT]
    + ["Description", "FacilityName"],
    "Type": [
        "Name",
        "CreatedBy",
        "CreatedOn",
        "Category",
        "Description",
        "AssetType",
        "Manufacturer",
        "ModelNumber",
        "WarrantyGuarantorParts",
        "WarrantyDurationParts",
        "WarrantyGuarantorLabor",
        "WarrantyDurationLabor",
        "WarrantyDurationUnit",
        *_EXT,
        "ReplacementCost",
        "ExpectedLife",
        "DurationUnit",
        "WarrantyDescription",
        "NominalLength",
        "NominalWidth",
        "NominalHeight",
        "ModelReference",
        "Shape",
        "Size",
        "Color",
        "Finish",
        "Grade",
        "Material",
        "Constituents",
        "Features",
        "AccessibilityPerformance",
        "CodePerformance",
        "SustainabilityPerformance",
    ],
    "Component": ["Name", "CreatedBy", "CreatedOn", "TypeName", "Space", "Description", *_EXT]
    + ["SerialNumber", "InstallationDate", "WarrantyStartDate", "TagNumber", "BarCode"]
    + ["AssetIdentifier"],
    "System": ["Name", "CreatedBy", "CreatedOn", "Category", "ComponentNames", *_EXT]
    + ["Description", "ComponentIdentifiers"],
    "Attribute": ["Name", "CreatedBy", "CreatedOn", "Category", "SheetName", "RowName"]
    + ["Value", "Unit", *_EXT, "Description", "AllowedValues", "RowIdentifier"],
}
SHEETS[EXTRA_SHEET] = SHEETS["Component"]
REQUIRED_SHEETS = ("Facility", "Component")
# the other spelling of a column, by normalised name (see _norm)
_SYNONYMS = {
    "externalsystem": "extsystem",
    "externalobject": "extobject",
    "externalidentifier": "extidentifier",
    "extsystem": "externalsystem",
}


def _norm(name: Any) -> str:
    return re.sub(r"[\s_\-]", "", str(name or "")).lower()


def _columns(sheet: str, header: list[Any]) -> list[str]:
    """The canonical column of each header cell ('' for a column we do not know)."""
    known = {_norm(c): c for c in SHEETS[sheet]}
    out = []
    for cell in header:
        key = _norm(cell)
        out.append(known.get(key) or known.get(_SYNONYMS.get(key, ""), "") or str(cell or ""))
    return out


def _value(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return int(value)  # xlrd gives every number as a float
    return value


_NULLS = {"", "n/a", "na", "-"}  # what COBie writers put in an empty cell
_IDS = ("ExtIdentifier", "ExternalFacilityIdentifier")


def _rows(sheet: str, raw: list[list[Any]]) -> list[dict[str, Any]]:
    """Rows with a Name, or with an identifier (then named after it: ifcfm writes n/a)."""
    if not raw:
        return []
    keys = _columns(sheet, list(raw[0]))
    out = []
    for row in raw[1:]:
        rec = {k: _value(v) for k, v in zip(keys, row, strict=False) if k}
        name = rec.get("Name")
        if name is None or str(name).strip().lower() in _NULLS:
            ident = next((clean(rec.get(k)) for k in _IDS if clean(rec.get(k))), None)
            if ident is None:
                continue
            rec["Name"] = str(ident)
        out.append(rec)
    return out


def _xlsx(path: Path) -> dict[str, list[list[Any]]]:
    from openpyxl import load_workbook

    with path.open("rb") as fh:  # a file object: openpyxl would refuse the name "x.xls"
        wb = load_workbook(fh, read_only=True, data_only=True)
        try:
            return {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in wb}
        finally:
            wb.close()


def _xls(path: Path) -> dict[str, list[list[Any]]]:
    import xlrd

    book = xlrd.open_workbook(str(path))
    out = {}
    for sh in book.sheets():
        rows = []
        for r in range(sh.nrows):
            row = []
            for cell in sh.row(r):
                if cell.ctype == xlrd.XL_CELL_DATE:
                    row.append(dt.datetime(*xlrd.xldate_as_tuple(cell.value, book.datemode)))
                elif cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
                    row.append(None)
                else:
                    row.append(cell.value)
            rows.append(row)
        out[sh.name] = rows
    return out


def read_sheets(path: Path) -> dict[str, list[dict[str, Any]]]:
    """The COBie sheets of a workbook as rows keyed by canonical column; refuse a non-COBie."""
    with path.open("rb") as fh:  # by content, not name: an .xls may be a renamed .xlsx
        old = fh.read(4) == b"\xd0\xcf\x11\xe0"  # OLE2: Excel 97-2003
    try:
        raw = _xls(path) if old else _xlsx(path)
    except Exception as err:  # noqa: BLE001 - openpyxl and xlrd raise many kinds on bad files
        kind = "xls" if old else "xlsx"
        raise IngestError(path, reason=f"not a readable {kind} workbook ({err})") from err
    by_norm = {_norm(name): name for name in raw}
    missing = [s for s in REQUIRED_SHEETS if _norm(s) not in by_norm]
    if missing:
        raise IngestError(
            path,
            reason=f"not a COBie 2.4 workbook: no sheet "
            f"{', '.join(missing)} (sheets: {', '.join(list(raw)[:8])})",
        )
    return {s: _rows(s, raw.get(by_norm.get(_norm(s), ""), [])) for s in SHEETS}


def split_names(value: Any) -> list[str]:
    """A COBie list cell ('A101,A102') as its names; placeholders give none."""
    text = clean(value)
    if text is None:
        return []
    return [n.strip() for n in str(text).split(",") if clean(n.strip()) is not None]


def is_cobie_component(ifc_class: str | None) -> bool:
    """True for the classes COBie 2.4 lists as components (ifcopenshell.util.fm's list)."""
    ancestry = class_ancestry(ifc_class)
    return any(c.lower() in ancestry for c in cobie_component_classes)
