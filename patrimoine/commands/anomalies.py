"""``patrimoine anomalies``: energy consumption of dwellings and equipment against peers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from patrimoine.context import CliContext, pass_cli
from predict import anomalies_workspace


@click.command("anomalies")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="anomalies.csv")
@click.option(
    "--as-of",
    "as_of",
    type=click.DateTime(["%Y-%m-%d"]),
    help="End of the period compared (default: the day after the latest reading).",
)
@click.option(
    "--price",
    "price",
    type=click.FloatRange(min=0.0),
    default=0.18,
    show_default=True,
    help="EUR per kWh for the excess cost.",
)
@click.option("--all", "show_all", is_flag=True, help="Write every meter, not only flagged.")
@pass_cli
def anomalies(
    obj: CliContext, out: Path | None, as_of: dt.datetime | None, price: float, show_all: bool
) -> None:
    """Flag meters whose weather-normalised consumption departs from their peers (|M| > 3.5).

    \b
    patrimoine anomalies --out anomalies.csv
    """
    ws = obj.workspace
    with ws.session() as session:
        frame = anomalies_workspace(session, ws.readings_dir, as_of=as_of, price_eur_per_kwh=price)
    flagged = frame[frame["flagged"]]
    click.echo(
        f"{len(frame)} meters compared, {len(flagged)} flagged; excess "
        f"{flagged['excess_kwh'].clip(lower=0).sum():,.0f} kWh/year "
        f"({flagged['excess_eur'].clip(lower=0).sum():,.0f} EUR)"
    )
    for r in flagged.head(10).itertuples(index=False):
        click.echo(f"  {r.meter_ref} ({r.kind}, {r.building}): z {r.modified_z:+.1f}, {r.reason}")
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        (frame if show_all else flagged).drop(columns=["flagged"]).to_csv(out, index=False)
        click.echo(f"Wrote {out}")


COMMANDS: list[click.Command] = [anomalies]
