"""``patrimoine demo``: the sample stock, a simulated history, and every stage run on it.

Ingests ``sample_ifc/`` (plus ``--estates N-1`` more generated estates), simulates ``--years``
of history, imports it through the public import functions, then trains, scores, looks for
energy anomalies and plans. Without ``--no-serve`` it would serve the dashboard.
"""

from __future__ import annotations

import time
import traceback
from pathlib import Path

import click

from patrimoine.commands.simulate import echo_summary
from patrimoine.context import CliContext, pass_cli
from simulation import (
    generate_stock,
    import_landlord_files,
    registry_frames,
    simulate_history,
)

SAMPLE_IFC = Path(__file__).resolve().parents[2] / "sample_ifc"
BUDGET_EUR_PER_DWELLING = 350.0  # demo plan budget per dwelling and year [A]


def _sample_files(workspace_root: Path, estates: int, seed: int) -> list[Path]:
    files = sorted(SAMPLE_IFC.glob("*.ifc")) if seed == 0 else []
    if not files:  # installed without the repository, or another seed: regenerate
        files = generate_stock(workspace_root / "ifc" / "sample", estates=1, seed=seed)
    if estates > 1:
        from simulation import plan_stock, write_stock

        more = plan_stock(estates=estates - 1, seed=seed, first_estate=1)
        files += write_stock(more, workspace_root / "ifc" / "generated")
    return files


@click.command("demo")
@click.option("--no-serve", is_flag=True, help="Stop after planning; do not serve the dashboard.")
@click.option("--years", type=click.FloatRange(0.5, 10), default=3, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--estates",
    type=click.IntRange(1, 500),
    default=3,
    show_default=True,
    help="Estates: the sample (sample_ifc/), plus generated ones (164 dwellings each), so "
    "the model has a few hundred failures to learn from.",
)
@pass_cli
def demo(obj: CliContext, no_serve: bool, years: float, seed: int, estates: int) -> None:
    """Build a demo workspace: sample stock, simulated history, model, scores and plan.

    \b
    patrimoine --workspace ./workspace demo --no-serve
    """
    t_all = time.perf_counter()
    ws = obj.workspace
    click.echo(f"Workspace: {ws.root}")

    # 1. ingest
    from bim_ingest import ingest_file

    t0 = time.perf_counter()
    files = _sample_files(ws.root, estates, seed)
    for path in files:
        report = ingest_file(ws.engine, path)
        click.echo(f"  ingested {path.name}: {report.added} added, {report.changed} changed")
    click.echo(f"[1/5] ingest: {len(files)} IFC files in {time.perf_counter() - t0:.1f} s")

    # 2. simulate and import
    t0 = time.perf_counter()
    with ws.session() as session:
        assets, buildings, dwellings = registry_frames(session)
    summary = simulate_history(
        assets, buildings, dwellings, out_dir=ws.simulation_dir, years=years, seed=seed
    )
    echo_summary(summary)
    with ws.session() as session:
        imported = import_landlord_files(session, ws.readings_dir, summary.landlord_dir)
    for line in imported.work_orders.lines():
        click.echo(f"  {line}")
    click.echo(f"[2/5] simulate + import: {time.perf_counter() - t0:.1f} s")

    # 3-5. the downstream stages, through their public functions; a failing stage is reported
    # and the demo goes on, then exits non-zero
    failed = []
    for name, stage in (
        ("train/score", lambda: _train_score(obj)),
        ("plan", lambda: _plan(obj, dwellings=len(dwellings))),
    ):
        try:
            stage()
        except Exception as err:  # noqa: BLE001 - reported, and the exit code says so
            if obj.settings.verbose:
                traceback.print_exc()
            click.echo(f"  stage {name} FAILED: {type(err).__name__}: {err}", err=True)
            failed.append(name)

    _final_summary(obj)
    click.echo(f"Demo finished in {time.perf_counter() - t_all:.1f} s")
    if failed:
        raise click.ClickException(f"demo stages failed: {', '.join(failed)}")
    if not no_serve:
        click.echo("No dashboard exists yet (dash_app is not written): nothing to serve.")


def _train_score(obj: CliContext) -> None:
    ws = obj.workspace
    try:
        from predict import anomalies_workspace, score_workspace, train_from_workspace
    except ImportError as err:  # pragma: no cover - stage not installed
        click.echo(f"[3/5] train/score skipped: predict unavailable ({err})")
        return
    t0 = time.perf_counter()
    with ws.session() as session:
        result = train_from_workspace(session, ws.readings_dir, ws.models_dir, num_threads=2)
    for name, entry in result.artifact.metrics.items():
        o = entry["overall"]
        click.echo(f"  {name:>18}: PR-AUC {o['pr_auc']:.4f}  ROC-AUC {o['roc_auc']:.4f}")
    click.echo(f"[3/5] train: model run {result.model_run_id} in {time.perf_counter() - t0:.1f} s")
    t0 = time.perf_counter()
    with ws.session() as session:
        scored = score_workspace(session, ws.readings_dir, ws.models_dir)
    click.echo(
        f"[4/5] score: {len(scored.scores)} assets as of {scored.as_of:%Y-%m-%d} "
        f"in {time.perf_counter() - t0:.1f} s"
    )
    t0 = time.perf_counter()
    with ws.session() as session:
        found = anomalies_workspace(session, ws.readings_dir)
    flagged = int(found["flagged"].sum()) if "flagged" in found else 0
    click.echo(
        f"      anomalies: {len(found)} meters compared, {flagged} flagged "
        f"in {time.perf_counter() - t0:.1f} s"
    )


def _plan(obj: CliContext, *, dwellings: int) -> None:
    ws = obj.workspace
    try:
        from planner import export_plan, plan_workspace
    except ImportError as err:  # pragma: no cover - stage not installed
        click.echo(f"[5/5] plan skipped: planner unavailable ({err})")
        return
    t0 = time.perf_counter()
    budget = round(BUDGET_EUR_PER_DWELLING * max(dwellings, 1), -3)
    with ws.session() as session:
        result, plan_id = plan_workspace(session, budget, years=1)
    paths = export_plan(result, ws.plans_dir / f"plan-{plan_id}.csv")
    click.echo(
        f"[5/5] plan {plan_id}: {len(result.plan)} interventions for {budget:,.0f} EUR/yr "
        f"in {time.perf_counter() - t0:.1f} s -> {', '.join(str(p) for p in paths)}"
    )


def _final_summary(obj: CliContext) -> None:
    from asset_model import assets_frame, buildings_frame, dwellings_frame, work_orders_frame
    from asset_model.readings_store import read_readings

    ws = obj.workspace
    with ws.session() as session:
        assets = assets_frame(session)
        n_b = len(buildings_frame(session))
        n_d = len(dwellings_frame(session))
        wo = work_orders_frame(session)
    click.echo(f"Summary: {n_b} buildings, {n_d} dwellings, {len(assets)} assets")
    for cat, n in assets["category"].value_counts().items():
        click.echo(f"  {cat:>16}: {n}")
    kinds = ", ".join(f"{k} {v}" for k, v in wo["kind"].value_counts().items())
    click.echo(f"  work orders: {len(wo)} ({kinds})")
    rows = len(read_readings(ws.readings_dir, columns=["value"]))
    click.echo(f"  readings rows: {rows:,}")


COMMANDS: list[click.Command] = [demo]
