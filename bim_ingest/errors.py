"""Errors of the BIM ingest: one clear line naming the file, the entity and the reason."""

from __future__ import annotations

from pathlib import Path

from asset_model.errors import PatrimoineError


class IngestError(PatrimoineError):
    """A file (or one entity in it) could not be ingested; nothing of that file was written.

    Examples
    --------
    >>> str(IngestError("a.ifc", reason="empty file"))
    'a.ifc: refused: empty file'
    >>> str(IngestError("a.ifc", entity="#12=IfcPump", global_id="0abc", reason="bad"))
    'a.ifc: refused: #12=IfcPump (GlobalId 0abc): bad'
    """

    def __init__(
        self,
        path: Path | str,
        entity: str | None = None,
        global_id: str | None = None,
        reason: str = "",
    ) -> None:
        self.path = Path(path)
        self.entity = entity
        self.global_id = global_id
        self.reason = reason
        where = ""
        if entity:
            where += f"{entity} "
        if global_id:
            where += f"(GlobalId {global_id}) "
        where = where.strip()
        super().__init__(f"{self.path}: refused: {where + ': ' if where else ''}{reason}")

    def __reduce__(self):  # noqa: ANN204 - picklable across worker processes
        return (type(self), (str(self.path), self.entity, self.global_id, self.reason))
