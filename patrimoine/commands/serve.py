"""CLI verbs of this stage (to be written by the stage's issue)."""

from __future__ import annotations

import click

COMMANDS: list[click.Command] = []
