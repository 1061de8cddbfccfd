"""The object the CLI hands to every verb: settings, and the workspace opened on first use."""

from __future__ import annotations

import click

from patrimoine.settings import Settings
from patrimoine.workspace import Workspace, open_workspace


class CliContext:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._workspace: Workspace | None = None

    @property
    def workspace(self) -> Workspace:
        if self._workspace is None:
            self._workspace = open_workspace(self.settings)
        return self._workspace

    def close(self) -> None:
        if self._workspace is not None:
            self._workspace.close()


pass_cli = click.make_pass_decorator(CliContext)
