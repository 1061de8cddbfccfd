"""Patrimoine's composition root: settings, the workspace and the CLI that wire the stages.

Start with :func:`open_workspace`; the stages' own APIs live in ``bim_ingest``, ``asset_model``,
``predict`` and ``planner``.
"""

from patrimoine.settings import Settings, resolve_settings
from patrimoine.workspace import Workspace, open_workspace

__all__ = ["Settings", "Workspace", "open_workspace", "resolve_settings"]
