"""What one file brought to the registry: :class:`IngestReport` (picklable, printable).

Examples
--------
>>> report = IngestReport("heating.ifc", by_category={"boiler": 1, "pump": 2})
>>> report.assets
3
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class IngestReport:
    """What one file brought to the registry (picklable, printable)."""

    path: str
    sha256: str = ""
    schema: str | None = None
    application: str | None = None
    kind: str = "ifc"
    added: int = 0
    changed: int = 0
    unchanged: int = 0
    removed: int = 0
    decommissioned: int = 0
    reactivated: int = 0
    by_category: dict[str, int] = field(default_factory=dict)
    network: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    buildings: int = 0
    storeys: int = 0
    spaces: int = 0
    dwellings: int = 0
    systems: int = 0
    types: int = 0
    work_orders_attached: int = 0
    seconds: float = 0.0

    @property
    def assets(self) -> int:
        return sum(self.by_category.values())

    @property
    def network_total(self) -> int:
        return sum(self.network.values())

    def summary(self) -> str:
        """One line per file for the CLI."""
        cats = ", ".join(f"{k} {v}" for k, v in sorted(self.by_category.items()))
        return (
            f"{self.path}: {self.assets} assets (added {self.added}, changed {self.changed}, "
            f"removed {self.removed}, decommissioned {self.decommissioned}); "
            f"by category: {cats or 'none'}; network elements counted {self.network_total}; "
            f"{self.buildings} building(s), {self.storeys} storeys, {self.spaces} spaces, "
            f"{self.dwellings} dwellings, {self.systems} systems"
        )
