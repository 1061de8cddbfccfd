"""Checks on the STEP file before ifcopenshell opens it: empty, XML, foreign, truncated,
unsupported schema — each refused with one clear line."""

from __future__ import annotations

import hashlib
import re
import zipfile
from pathlib import Path

import ifcopenshell

from bim_ingest.errors import IngestError

SUPPORTED_SCHEMAS = ("IFC2X3", "IFC4", "IFC4X3")
_SCHEMA_RE = re.compile(rb"FILE_SCHEMA\s*\(\s*\(\s*'([^']*)'", re.IGNORECASE)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _step_bytes(path: Path) -> tuple[bytes, bytes]:
    """The first and last 4 KiB of the STEP text (inside the zip for .ifczip)."""
    if path.suffix.lower() == ".ifczip":
        try:
            with zipfile.ZipFile(path) as zf:
                names = [n for n in zf.namelist() if n.lower().endswith(".ifc")]
                if not names:
                    raise IngestError(path, reason="the .ifczip archive holds no .ifc file")
                with zf.open(names[0]) as fh:
                    data = fh.read()
        except zipfile.BadZipFile as err:
            raise IngestError(path, reason=f"not a readable zip archive ({err})") from err
        return data[:4096], data[-4096:]
    with path.open("rb") as fh:
        head = fh.read(4096)
        size = path.stat().st_size
        fh.seek(max(0, size - 4096))
        tail = fh.read()
    return head, tail


def check_step_file(path: Path) -> str:
    """Refuse what ifcopenshell cannot read well; return the declared schema."""
    if not path.is_file():
        raise IngestError(path, reason="no such file")
    if path.stat().st_size == 0:
        raise IngestError(path, reason="empty file")
    if path.suffix.lower() in (".ifcxml", ".xml"):
        raise IngestError(
            path,
            reason="ifcXML is not supported (ifcopenshell reads STEP only): "
            "export the model as .ifc (STEP) or .ifczip",
        )
    head, tail = _step_bytes(path)
    if head.lstrip().startswith(b"<"):
        raise IngestError(
            path,
            reason="this is XML (ifcXML?), not an IFC STEP file: "
            "export the model as .ifc (STEP) or .ifczip",
        )
    if b"ISO-10303-21" not in head[:200]:
        raise IngestError(path, reason="not an IFC file (no ISO-10303-21 STEP header)")
    m = _SCHEMA_RE.search(head)
    schema = m[1].decode("ascii", "replace").upper() if m else ""
    if schema == "COBIE_EXPRESS":
        raise IngestError(
            path,
            reason="COBie in the xBIM COBIE_EXPRESS STEP schema is not "
            "supported: export it as a COBie 2.4 spreadsheet (.xlsx)",
        )
    if not any(schema == s or schema.startswith(s + "_") for s in SUPPORTED_SCHEMAS) or (
        schema.startswith("IFC4X3_RC")
    ):
        raise IngestError(
            path,
            reason=f"unsupported IFC schema {schema or '(none)'}: "
            "IFC2X3, IFC4 and IFC4X3 are supported",
        )
    if b"END-ISO-10303-21" not in tail:
        raise IngestError(path, reason="truncated STEP file (no END-ISO-10303-21 trailer)")
    return schema


def open_ifc(path: Path) -> ifcopenshell.file:
    """Open a .ifc / .ifczip after :func:`check_step_file`; errors become IngestError."""
    check_step_file(path)
    try:
        return ifcopenshell.open(str(path))
    except ifcopenshell.SchemaError as err:
        raise IngestError(path, reason=f"unsupported schema: {err}") from err
    except (ifcopenshell.Error, OSError, RuntimeError) as err:
        raise IngestError(path, reason=f"unreadable IFC: {err}") from err
