"""Errors of the registry and of the imports.

Every stage's errors derive from :class:`PatrimoineError`, so the composition root can turn any
of them into one clear line. Each error stores the structured fields it reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class PatrimoineError(Exception):
    """Base of every error the product reports to a user as one line."""


class RegistryError(PatrimoineError):
    """The registry cannot be opened, migrated or written."""


@dataclass(frozen=True)
class RowProblem:
    """One bad row of an import file: its line number as the user sees it (the header is row 1,
    the first data row is row 2), the column, and the reason."""

    row: int | None
    column: str | None
    reason: str

    def __str__(self) -> str:
        where = f"row {self.row}" if self.row is not None else "file"
        col = f", column '{self.column}'" if self.column else ""
        return f"{where}{col}: {self.reason}"


class ImportValidationError(PatrimoineError):
    """An import file failed validation; nothing of it was written.

    The message names the file and lists every bad row with its number and reason.
    """

    def __init__(self, path: Path | str, problems: list[RowProblem], *, limit: int = 50) -> None:
        self.path = Path(path)
        self.problems = list(problems)
        shown = "; ".join(str(p) for p in self.problems[:limit])
        more = len(self.problems) - limit
        tail = f"; … and {more} more" if more > 0 else ""
        n = len(self.problems)
        super().__init__(
            f"{self.path}: {n} problem{'s' if n != 1 else ''}, nothing imported: {shown}{tail}"
        )
