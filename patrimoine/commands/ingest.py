"""``patrimoine ingest FILES...`` and ``patrimoine export cobie FILE.xlsx``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from bim_ingest import IngestError, IngestReport, export_cobie, ingest_files, load_taxonomy
from patrimoine.context import CliContext, pass_cli


@click.command("ingest")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--processes",
    "-j",
    default=2,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Worker processes extracting files in parallel (one file per process).",
)
@click.option(
    "--taxonomy",
    "taxonomy_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Your own taxonomy CSV instead of the one shipped with bim_ingest.",
)
@pass_cli
@click.pass_context
def ingest_command(
    ctx: click.Context,
    obj: CliContext,
    files: tuple[Path, ...],
    processes: int,
    taxonomy_file: Path | None,
) -> None:
    """Ingest IFC (.ifc, .ifczip: IFC2X3, IFC4, IFC4X3) and COBie 2.4 (.xlsx, .xls) files.

    Each file is one transaction: a refused file leaves the registry as it was and the others
    still go in. The exit code is 1 when any file was refused.
    """
    taxonomy = load_taxonomy(taxonomy_file)
    url = obj.settings.registry_url
    _ = obj.workspace  # creates and migrates the registry once, before the workers start
    results: list[IngestReport | IngestError] = []
    with click.progressbar(
        length=len(files), label="Ingesting", file=sys.stderr, show_pos=True
    ) as bar:

        def progress(path: str, result: IngestReport | IngestError) -> None:
            bar.update(1)

        results = ingest_files(
            url, list(files), processes=processes, taxonomy=taxonomy, progress=progress
        )
    failed = 0
    for result in results:
        if isinstance(result, IngestError):
            failed += 1
            click.echo(f"Error: {' '.join(str(result).split())}", err=True)
        else:
            click.echo(result.summary())
    ok = len(results) - failed
    click.echo(f"{ok} file(s) ingested, {failed} refused.")
    if failed:
        ctx.exit(1)


@click.command("cobie")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@pass_cli
def export_cobie_command(obj: CliContext, file: Path) -> None:
    """Write the registry as a COBie 2.4 workbook (Facility, Floor, Space, Zone, Type,
    Component, System), readable back by ``patrimoine ingest``."""
    with obj.workspace.session() as session:
        path = export_cobie(session, file)
    click.echo(f"COBie workbook written: {path}")


COMMANDS: list[click.Command] = [ingest_command]
