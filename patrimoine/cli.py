"""The ``patrimoine`` command line: resolves settings once and wires the stages' public functions.

Each verb lives in ``patrimoine/commands/``; this module only holds the global options and the
error policy: a :class:`~asset_model.errors.PatrimoineError` (or a missing file) becomes one line
on stderr and exit code 1; ``--verbose`` adds the traceback.
"""

from __future__ import annotations

import sys
import traceback
from pathlib import Path
from typing import Any

import click

from asset_model.errors import PatrimoineError
from patrimoine.commands import (
    anomalies,
    demo,
    export,
    imports,
    ingest,
    plan,
    score,
    serve,
    simulate,
    train,
)
from patrimoine.context import CliContext
from patrimoine.settings import resolve_settings


class _Group(click.Group):
    """Turns the product's errors into one clear line and a non-zero exit."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (PatrimoineError, OSError) as err:
            _report(ctx, err)
            raise click.ClickException(_one_line(err)) from err

    def main(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().main(*args, **kwargs)
        except (click.ClickException, click.Abort, SystemExit, KeyboardInterrupt):
            raise
        except Exception as err:  # noqa: BLE001 - the last line of defence of the CLI
            if "--verbose" in sys.argv or "-v" in sys.argv:
                traceback.print_exc()
            click.echo(
                f"Error: internal error: {type(err).__name__}: {_one_line(err)} "
                "(run again with --verbose for the trace)",
                err=True,
            )
            sys.exit(2)


def _one_line(err: BaseException) -> str:
    if isinstance(err, FileNotFoundError) and err.filename:
        return f"{err.filename}: no such file"
    if isinstance(err, OSError) and err.filename:
        return f"{err.filename}: {err.strerror or err}"
    return " ".join(str(err).split()) or type(err).__name__


def _report(ctx: click.Context, err: BaseException) -> None:
    obj = ctx.find_object(CliContext)
    if obj is not None and obj.settings.verbose:
        traceback.print_exception(err)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--workspace",
    type=click.Path(path_type=Path, file_okay=False),
    envvar="PATRIMOINE_WORKSPACE",
    help="Workspace folder (registry, readings, models, plans). Default: ./workspace.",
)
@click.option(
    "--db-url",
    envvar="PATRIMOINE_DB_URL",
    help="Registry URL, e.g. postgresql+psycopg://user@host/db. Default: SQLite in the workspace.",
)
@click.option(
    "--scheduler",
    envvar="PATRIMOINE_SCHEDULER",
    help="Dask scheduler address (tcp://host:8786). Default: an in-process LocalCluster.",
)
@click.option("-v", "--verbose", is_flag=True, help="Show the full trace of errors.")
@click.version_option(package_name="patrimoine")
@click.pass_context
def cli(
    ctx: click.Context,
    workspace: Path | None,
    db_url: str | None,
    scheduler: str | None,
    verbose: bool,
) -> None:
    """Patrimoine: the housing stock from BIM models, failure risk, and maintenance plans."""
    settings = resolve_settings(workspace, db_url, scheduler, verbose)
    ctx.obj = CliContext(settings)
    ctx.call_on_close(ctx.obj.close)


for _module in (ingest, imports, simulate, train, score, anomalies, plan, export, serve, demo):
    for _command in _module.COMMANDS:
        cli.add_command(_command)


def main() -> None:
    cli(prog_name="patrimoine")
