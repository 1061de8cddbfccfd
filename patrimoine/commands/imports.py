"""``patrimoine import workorders|readings|assets FILE``: the landlord's CMMS and meter exports."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import click

from asset_model import (
    ImportSummary,
    attach_pending,
    import_asset_attributes,
    import_readings,
    import_work_orders,
    parse_column_map,
    relayout_readings,
)
from patrimoine.context import CliContext, pass_cli

PROGRESS_EVERY = 1_000_000
READABLE = {".csv", ".txt", ".tsv", ".xlsx", ".parquet", ".pq"}

_column_map_option = click.option(
    "--column-map",
    "column_map",
    metavar="JSON|FILE|OLD=NEW,…",
    help="Rename the file's own headers, e.g. 'N° OT=work_order_id,Nature=kind', a JSON object, "
    "or a JSON file holding one.",
)
_file_argument = click.argument("file", type=click.Path(path_type=Path, dir_okay=True))


def _echo_summary(summary: ImportSummary) -> None:
    for line in summary.lines():
        click.echo(line)


def _progress() -> Callable[[int], None]:
    """Prints the rows read so far on stderr, every million rows (on a TTY: in place)."""
    state = {"next": PROGRESS_EVERY}
    tty = sys.stderr.isatty()

    def report(rows: int) -> None:
        if rows >= state["next"]:
            state["next"] = (rows // PROGRESS_EVERY + 1) * PROGRESS_EVERY
            prefix = "\r" if tty else ""
            click.echo(f"{prefix}  {rows:,} rows read…", err=True, nl=not tty)

    return report


@click.group("import")
def import_group() -> None:
    """Import work orders, readings or asset attributes (CSV, XLSX or Parquet).

    A file with any bad row is refused whole (every bad row is listed); importing the same file
    again changes nothing; rows naming assets not in the registry yet are kept aside.
    """


@import_group.command("workorders")
@_file_argument
@_column_map_option
@pass_cli
def workorders(obj: CliContext, file: Path, column_map: str | None) -> None:
    """Import a work-order export: work_order_id, asset_ref, opened_at, kind, …"""
    mapping = parse_column_map(column_map)
    with obj.workspace.session() as session:
        summary = import_work_orders(session, file, column_map=mapping)
    _echo_summary(summary)


@import_group.command("readings")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@_column_map_option
@pass_cli
def readings(obj: CliContext, files: tuple[Path, ...], column_map: str | None) -> None:
    """Import meter/sensor readings (asset_ref, channel, ts, value), aggregated to daily.

    FILES may be files or folders (their .csv, .xlsx and .parquet files, in name order); each
    file is imported on its own, all or nothing.
    """
    mapping = parse_column_map(column_map)
    ws = obj.workspace
    for path in _expand(files):
        with ws.session() as session:
            summary = import_readings(
                session, ws.readings_dir, path, column_map=mapping, progress=_progress()
            )
        if sys.stderr.isatty() and summary.rows_read >= PROGRESS_EVERY:
            click.echo("", err=True)
        _echo_summary(summary)


def _expand(paths: tuple[Path, ...]) -> list[Path]:
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(
                p for p in path.iterdir() if p.is_file() and p.suffix.lower() in READABLE
            )
            if not found:
                raise click.ClickException(f"{path}: no .csv, .xlsx or .parquet file in it")
            out += found
        else:
            out.append(path)
    return out


@import_group.command("assets")
@_file_argument
@_column_map_option
@pass_cli
def assets(obj: CliContext, file: Path, column_map: str | None) -> None:
    """Import asset attributes: asset_ref, asset_tag, installed_on, manufacturer, model, …"""
    mapping = parse_column_map(column_map)
    with obj.workspace.session() as session:
        summary = import_asset_attributes(session, file, column_map=mapping)
        attached = attach_pending(session)
    _echo_summary(summary)
    if attached.work_orders_attached or attached.attributes_applied:
        click.echo(
            f"  attached {attached.work_orders_attached} kept-aside work orders and "
            f"{attached.attributes_applied} kept-aside attribute rows"
        )


@import_group.command("relayout")
@pass_cli
def relayout(obj: CliContext) -> None:
    """Rewrite readings stored by an earlier version in the (year, channel) layout.

    Same rows, same files; reads then skip the channels and years they do not need. Files
    already in the layout are left alone, so running it twice changes nothing.
    """
    rewritten = relayout_readings(obj.workspace.readings_dir)
    click.echo(f"{rewritten} readings file(s) rewritten in the (year, channel) layout")


COMMANDS: list[click.Command] = [import_group]
