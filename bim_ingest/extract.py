"""IFC → plain records: open the checked file, index its relationships once, read each element once.

No ifcopenshell object leaves this step (records are picklable); the file and its index are
released before the records are returned, since ifcopenshell holds a model in memory at up to
~20 times its file size.

Examples
--------
>>> records = extract_ifc(Path("model.ifc"))            # doctest: +SKIP
>>> records.assets[0].category
'boiler'
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ifcopenshell

from bim_ingest.errors import IngestError
from bim_ingest.extract_elements import extract_elements
from bim_ingest.extract_spatial import extract_spatial
from bim_ingest.ifc_index import RelationIndex, attr
from bim_ingest.records import ModelRecords, SourceRecord
from bim_ingest.step_file import open_ifc, sha256_of
from bim_ingest.taxonomy import Taxonomy, load_taxonomy


def _application(f: ifcopenshell.file) -> str | None:
    """The authoring application: IfcOwnerHistory's IfcApplication, else the STEP header's."""
    for oh in f.by_type("IfcOwnerHistory")[:1]:
        app = attr(oh, "OwningApplication")
        if app is not None:
            text = " ".join(
                p for p in (attr(app, "ApplicationFullName"), attr(app, "Version")) if p
            )
            if text.strip():
                return text[:255]
    try:
        system = f.header.file_name.originating_system
    except (AttributeError, RuntimeError):
        system = None
    return (system or None) and str(system)[:255]


def extract_ifc(
    path: Path | str, *, taxonomy: Taxonomy | None = None, display_path: str | None = None
) -> ModelRecords:
    """Open one IFC / IFCZIP file and extract every record; refuse bad files with IngestError."""
    path = Path(path)
    taxonomy = taxonomy or load_taxonomy()
    f = open_ifc(path)
    try:
        return _extract(f, path, taxonomy, display_path or str(path))
    except IngestError:
        raise
    except (RuntimeError, ValueError, TypeError, AttributeError) as err:
        raise IngestError(path, reason=f"unreadable IFC content: {err}") from err
    finally:
        del f  # the model is the largest thing in memory: drop it before the records travel


def _extract(f: ifcopenshell.file, path: Path, taxonomy: Taxonomy, shown: str) -> ModelRecords:
    projects = f.by_type("IfcProject")
    project: Any = projects[0] if projects else None
    source = SourceRecord(
        path=shown,
        sha256=sha256_of(path),
        schema=f.schema_identifier,
        application=_application(f),
        kind="ifc",
        project_global_id=attr(project, "GlobalId") if project else None,
        project_name=attr(project, "Name") if project else None,
    )
    out = ModelRecords(source=source)
    index = RelationIndex(f)
    lookup = extract_spatial(index, out, project, path)
    extract_elements(index, out, lookup, taxonomy)
    return out
