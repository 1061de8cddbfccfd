r"""Recognising an import file: its format from its first bytes, and a CSV file's dialect.

Examples
--------
>>> import pathlib, tempfile
>>> p = pathlib.Path(tempfile.mkdtemp()) / "ot.csv"
>>> _ = p.write_bytes("N° OT;Coût\r\nOT-1;12,5\r\n".encode("cp1252"))
>>> file_format(p), sniff_csv(p)
('csv', CsvDialect(encoding='cp1252', delimiter=';', decimal=','))
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from pathlib import Path

from asset_model.errors import ImportValidationError, PatrimoineError, RowProblem

_SNIFF_BYTES = 1 << 16


class ImportFileError(PatrimoineError):
    """An import file cannot be read at all (missing, unreadable, not a table)."""


@dataclass(frozen=True)
class CsvDialect:
    encoding: str
    delimiter: str
    decimal: str


def file_format(path: Path) -> str:
    """``csv``, ``xlsx`` or ``parquet`` from the first bytes; clear errors for the rest."""
    path = Path(path)
    if not path.exists():
        raise ImportFileError(f"{path}: no such file")
    if path.is_dir():
        raise ImportFileError(f"{path}: is a folder, not a file")
    if path.stat().st_size == 0:
        raise ImportValidationError(path, [RowProblem(None, None, "the file is empty")])
    with path.open("rb") as fh:
        head = fh.read(_SNIFF_BYTES)
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportValidationError(
            path,
            [RowProblem(None, None, "old binary .xls workbook: save it as .xlsx or CSV")],
        )
    if b"\x00" in head:
        raise ImportValidationError(
            path, [RowProblem(None, None, "binary content: not a CSV, XLSX or Parquet file")]
        )
    return "csv"


def _text_encoding(path: Path) -> str:
    """UTF-8 (BOM or not) when the whole file decodes as UTF-8, else Windows-1252/Latin-1."""
    with path.open("rb") as fh:
        head = fh.read(4)
        if head.startswith(codecs.BOM_UTF8):
            return "utf-8"
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        fh.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            while chunk := fh.read(1 << 22):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
            return "utf-8"
        except UnicodeDecodeError:
            pass
        fh.seek(0)
        decoder = codecs.getincrementaldecoder("cp1252")()
        try:
            while chunk := fh.read(1 << 22):
                decoder.decode(chunk)
            return "cp1252"
        except UnicodeDecodeError:
            return "latin-1"


def sniff_csv(path: Path) -> CsvDialect:
    """Encoding, separator and decimal mark of a delimited text file."""
    encoding = _text_encoding(path)
    with path.open("rb") as fh:
        raw = fh.read(_SNIFF_BYTES)
    text = raw.decode(encoding, errors="replace").lstrip("\ufeff")
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines:
        raise ImportValidationError(path, [RowProblem(None, None, "the file is empty")])
    header = lines[0]
    counts = {sep: header.count(sep) for sep in (";", "\t", "|", ",")}
    delimiter = max(counts, key=lambda s: counts[s])
    if counts[delimiter] == 0:
        delimiter = ","
    decimal = "."
    if delimiter != ",":
        body = "\n".join(lines[1:200])
        if re.search(
            r"(^|["
            + re.escape(delimiter)
            + r"])\s*-?\d+,\d+\s*($|["
            + re.escape(delimiter)
            + r"])",
            body,
            flags=re.M,
        ):
            decimal = ","
    # arrow's CSV reader skips a UTF-8 BOM itself
    return CsvDialect(encoding=encoding, delimiter=delimiter, decimal=decimal)
