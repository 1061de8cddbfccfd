"""``patrimoine score``: risk, remaining life and drivers for every active asset."""

from __future__ import annotations

import contextlib
import datetime as dt
from pathlib import Path

import click

from asset_model import write_csv
from patrimoine.compute import dask_client
from patrimoine.context import CliContext, pass_cli
from predict import score_workspace


@click.command("score")
@click.option(
    "--as-of",
    "as_of",
    type=click.DateTime(["%Y-%m-%d"]),
    help="Scoring date (default: the day after the latest data).",
)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="scores.csv")
@click.option(
    "--model",
    "model",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Artifact folder (default: the latest under <workspace>/models).",
)
@click.option("--no-cluster", is_flag=True, help="Compute in-process without Dask.")
@click.option(
    "--drivers-share",
    type=click.FloatRange(0, 1),
    default=1.0,
    show_default=True,
    help="Share of the assets, riskiest first, whose drivers are worded (the rest get none).",
)
@pass_cli
def score(
    obj: CliContext,
    as_of: dt.datetime | None,
    out: Path | None,
    model: Path | None,
    no_cluster: bool,
    drivers_share: float,
) -> None:
    """Score every active asset with the latest model; write RiskScore rows (and a CSV).

    \b
    patrimoine score --out scores.csv
    patrimoine score --as-of 2025-01-01
    """
    ws = obj.workspace
    use_cluster = bool(obj.settings.scheduler) or not no_cluster
    with contextlib.ExitStack() as stack:
        client = stack.enter_context(dask_client(obj.settings.scheduler)) if use_cluster else None
        with ws.session() as session:
            result = score_workspace(
                session,
                ws.readings_dir,
                ws.models_dir,
                as_of=as_of,
                artifact_path=model,
                client=client,
                drivers_share=drivers_share,
            )
    s = result.scores
    click.echo(
        f"Scored {len(s)} active assets as of {result.as_of:%Y-%m-%d} (model run "
        f"{result.model_run_id}); mean p_failure {s['p_failure'].mean():.4f}"
    )
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        write_csv(s, out)
        click.echo(f"Wrote {out}")


COMMANDS: list[click.Command] = [score]
