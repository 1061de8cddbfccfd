"""The workspace folder: registry, readings dataset, models, plans and exports of one deployment.

Examples
--------
>>> from patrimoine import open_workspace
>>> ws = open_workspace("/tmp/demo-workspace")          # doctest: +SKIP
>>> from asset_model import assets_frame
>>> with ws.session() as session:                       # doctest: +SKIP
...     assets = assets_frame(session)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from asset_model.db import open_registry, transaction
from patrimoine.settings import Settings, resolve_settings


@dataclass(frozen=True)
class Workspace:
    settings: Settings
    engine: Engine

    @property
    def root(self) -> Path:
        return self.settings.workspace

    @property
    def readings_dir(self) -> Path:
        """The partitioned Parquet dataset of daily readings."""
        return self.root / "readings"

    @property
    def models_dir(self) -> Path:
        return self.root / "models"

    @property
    def plans_dir(self) -> Path:
        return self.root / "plans"

    @property
    def exports_dir(self) -> Path:
        return self.root / "exports"

    @property
    def simulation_dir(self) -> Path:
        """Simulated landlord files (imported like real ones) and the separate truth folder."""
        return self.root / "simulation"

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One transaction: committed on success, rolled back whole on error."""
        with transaction(self.engine) as session:
            yield session

    def close(self) -> None:
        self.engine.dispose()


def open_workspace(settings: Settings | Path | str | None = None) -> Workspace:
    """Open (creating if needed) the workspace and its registry, migrated to the latest schema."""
    if not isinstance(settings, Settings):
        settings = resolve_settings(workspace=settings)
    settings.workspace.mkdir(parents=True, exist_ok=True)
    return Workspace(settings=settings, engine=open_registry(settings.registry_url))
