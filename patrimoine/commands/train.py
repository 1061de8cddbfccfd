"""``patrimoine train``: features, LightGBM and baselines, the artifact and its report."""

from __future__ import annotations

import contextlib
import datetime as dt

import click

from patrimoine.compute import dask_client
from patrimoine.context import CliContext, pass_cli
from predict import train_from_workspace


@click.command("train")
@click.option(
    "--horizon",
    type=click.IntRange(1, 3650),
    default=90,
    show_default=True,
    help="Days after each cutoff in which a failure counts.",
)
@click.option(
    "--as-of",
    "as_of",
    type=click.DateTime(["%Y-%m-%d"]),
    help="End of the history used (default: the day after the latest data).",
)
@click.option(
    "--no-cluster",
    is_flag=True,
    help="Train in-process without Dask (small data); ignored with --scheduler.",
)
@pass_cli
def train(obj: CliContext, horizon: int, as_of: dt.datetime | None, no_cluster: bool) -> None:
    """Train the failure model on the workspace; write the artifact, report and ModelRun row.

    \b
    patrimoine train --horizon 90
    patrimoine --scheduler tcp://10.0.0.5:8786 train
    """
    ws = obj.workspace
    use_cluster = bool(obj.settings.scheduler) or not no_cluster
    click.echo("Building features and training…", err=True)
    with contextlib.ExitStack() as stack:
        client = stack.enter_context(dask_client(obj.settings.scheduler)) if use_cluster else None
        with ws.session() as session:
            result = train_from_workspace(
                session,
                ws.readings_dir,
                ws.models_dir,
                horizon_days=horizon,
                as_of=as_of,
                client=client,
            )
    m = result.artifact.metrics
    for name, entry in m.items():
        o = entry["overall"]
        click.echo(
            f"{name:>18}: PR-AUC {o['pr_auc']:.4f}  ROC-AUC {o['roc_auc']:.4f}  "
            f"Brier {o['brier']:.4f}  ECE {o['ece']:.4f}"
        )
    click.echo(f"Model run {result.model_run_id}: {result.artifact.path}")
    click.echo(f"Report: {result.report_path}")


COMMANDS: list[click.Command] = [train]
