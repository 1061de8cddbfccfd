"""``patrimoine export …``: the registry as files (``assets``; other stages add formats)."""

from __future__ import annotations

from pathlib import Path

import click

from asset_model import export_assets_csv
from patrimoine.commands.ingest import export_cobie_command
from patrimoine.context import CliContext, pass_cli


@click.group("export")
def export_group() -> None:
    """Export the registry (assets CSV, COBie workbook …)."""


@export_group.command("assets")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@pass_cli
def export_assets(obj: CliContext, file: Path) -> None:
    """Write one CSV row per asset (asset_ref, asset_tag, name, category, building, …)."""
    with obj.workspace.session() as session:
        rows = export_assets_csv(session, file)
    click.echo(f"{file}: {rows} assets written")


export_group.add_command(export_cobie_command)

COMMANDS: list[click.Command] = [export_group]
