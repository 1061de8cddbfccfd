"""``patrimoine simulate`` and ``patrimoine generate-stock``: the simulated world.

``simulate`` reads the registry's stock, simulates years of daily operation, writes the landlord's
files to ``<workspace>/simulation/landlord/`` (and the truth to ``simulation/truth/``), then
imports them through the public import functions. ``generate-stock`` writes IFC files of a
synthetic stock of any size (one file per building) for benchmarks.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from patrimoine.context import CliContext, pass_cli
from simulation import (
    ParameterError,
    SimulationSummary,
    generate_stock,
    import_landlord_files,
    read_parameters_file,
    registry_frames,
    simulate_history,
)


def echo_summary(summary: SimulationSummary) -> None:
    """Print what the simulation produced (shared with ``demo``)."""
    click.echo(
        f"Simulated {summary.assets} assets in {summary.buildings} buildings over "
        f"{summary.days} days in {summary.seconds:.1f} s ({summary.chunks} chunk(s))"
    )
    kinds = ", ".join(f"{k} {v}" for k, v in sorted(summary.work_orders.items()))
    click.echo(f"  work orders: {kinds}")
    click.echo(f"  readings rows: {summary.readings_rows:,}; failures: {summary.failures}")
    click.echo(f"  landlord files: {summary.landlord_dir}")
    click.echo(f"  truth (never read by predict/planner): {summary.truth_dir}")


@click.command("simulate")
@click.option("--years", type=click.FloatRange(0.1, 30), default=3, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--start",
    type=click.DateTime(["%Y-%m-%d"]),
    default="2022-01-01",
    show_default=True,
    help="First simulated day.",
)
@click.option("--no-import", is_flag=True, help="Write the landlord files without importing.")
@click.option(
    "--parameters",
    "parameters_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A parameters.json of your own (the layout of simulation/parameters.json) instead of "
    "the shipped one: another world to test a model on.",
)
@pass_cli
def simulate(
    obj: CliContext,
    years: float,
    seed: int,
    start: dt.datetime,
    no_import: bool,
    parameters_file: Path | None,
) -> None:
    """Simulate a maintenance history for the registry's assets and import it.

    \b
    patrimoine simulate --years 3 --seed 0
    patrimoine simulate --years 3 --seed 7 --parameters my-world.json
    """
    params = None
    if parameters_file is not None:
        try:
            params = read_parameters_file(parameters_file)
        except ParameterError as err:
            raise click.BadParameter(str(err), param_hint="--parameters") from err
    ws = obj.workspace
    with ws.session() as session:
        frames = registry_frames(session)
    summary = simulate_history(
        *frames,
        out_dir=ws.simulation_dir,
        years=years,
        start=start.date(),
        seed=seed,
        params=params,
        progress=click.echo,
    )
    echo_summary(summary)
    if no_import:
        return
    with ws.session() as session:
        report = import_landlord_files(session, ws.readings_dir, summary.landlord_dir)
    for summary_ in (report.attributes, report.work_orders, *report.readings):
        for line in summary_.lines():
            click.echo(line)


@click.command("generate-stock")
@click.option("--dwellings", type=click.IntRange(1), help="Dwellings wanted (164 per estate).")
@click.option("--estates", type=click.IntRange(1), default=1, show_default=True)
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option("--seed", type=int, default=0, show_default=True)
def generate_stock_cmd(dwellings: int | None, estates: int, out: Path, seed: int) -> None:
    """Write IFC files of a synthetic French social-housing stock (one file per building).

    \b
    patrimoine generate-stock --dwellings 100000 --out /data/stock
    """
    paths = generate_stock(out, dwellings=dwellings, estates=estates, seed=seed)
    size = sum(p.stat().st_size for p in paths)
    click.echo(f"Wrote {len(paths)} IFC files ({size / 1e6:.1f} MB) to {out}")


COMMANDS: list[click.Command] = [simulate, generate_stock_cmd]
