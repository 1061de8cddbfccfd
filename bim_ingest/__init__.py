"""BIM ingest: IFC (IFC2X3, IFC4, IFC4X3; .ifc, .ifczip) and COBie 2.4 workbooks → registry.

Start with :func:`ingest_file` (one file, one transaction) or :func:`ingest_files` (several
files: worker processes extract and write, one writer at a time). :func:`classify` and
:func:`load_taxonomy` expose the equipment taxonomy (``taxonomy.csv``, overridable);
:func:`export_cobie` writes a COBie 2.4 workbook of the registry that :func:`ingest_file`
reads back.
"""

from bim_ingest.cobie import read_cobie
from bim_ingest.cobie_write import export_cobie
from bim_ingest.errors import IngestError
from bim_ingest.extract import extract_ifc
from bim_ingest.ingest_file import extract_file, ingest_file, ingest_files, write_records
from bim_ingest.records import ModelRecords
from bim_ingest.sync import IngestReport, sync_records
from bim_ingest.taxonomy import Classification, Taxonomy, classify, load_taxonomy

__all__ = [
    "Classification",
    "IngestError",
    "IngestReport",
    "ModelRecords",
    "Taxonomy",
    "classify",
    "export_cobie",
    "extract_file",
    "extract_ifc",
    "ingest_file",
    "ingest_files",
    "load_taxonomy",
    "read_cobie",
    "sync_records",
    "write_records",
]
