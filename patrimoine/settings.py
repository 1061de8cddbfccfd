"""Settings, resolved once at the edge: CLI options, then ``PATRIMOINE_*`` variables, defaults."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from asset_model.db import sqlite_url

DEFAULT_WORKSPACE = Path("workspace")
REGISTRY_FILE = "registry.sqlite"


@dataclass(frozen=True)
class Settings:
    """Where a deployment keeps its data and how it computes.

    ``db_url`` None means the embedded SQLite registry inside the workspace; ``scheduler`` None
    means an in-process Dask cluster (or none for small data).
    """

    workspace: Path
    db_url: str | None = None
    scheduler: str | None = None
    verbose: bool = False

    @property
    def registry_url(self) -> str:
        return self.db_url or sqlite_url(self.workspace / REGISTRY_FILE)


def resolve_settings(
    workspace: Path | str | None = None,
    db_url: str | None = None,
    scheduler: str | None = None,
    verbose: bool = False,
    env: Mapping[str, str] | None = None,
) -> Settings:
    """Settings from explicit values, else ``PATRIMOINE_WORKSPACE`` / ``PATRIMOINE_DB_URL`` /
    ``PATRIMOINE_SCHEDULER``, else the defaults (``./workspace``, SQLite, local Dask)."""
    env = os.environ if env is None else env
    ws = workspace or env.get("PATRIMOINE_WORKSPACE") or DEFAULT_WORKSPACE
    return Settings(
        workspace=Path(ws).expanduser().resolve(),
        db_url=db_url or env.get("PATRIMOINE_DB_URL") or None,
        scheduler=scheduler or env.get("PATRIMOINE_SCHEDULER") or None,
        verbose=verbose,
    )
