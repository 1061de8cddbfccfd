"""``patrimoine plan``: build, store and export a maintenance plan, or compare budgets."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from patrimoine.context import CliContext, pass_cli
from planner import (
    PlanInputError,
    PlanParameters,
    compare_workspace,
    export_plan,
    load_crews,
    plan_workspace,
)


def _euros(text: str) -> float:
    try:
        return float(text.replace("_", "").replace(",", "."))
    except ValueError:
        raise click.BadParameter(f"{text!r} is not an amount of euros") from None


@click.command("plan")
@click.option("--budget", "budget", type=str, help="Annual budget in EUR (e.g. 1.5e6).")
@click.option("--years", type=click.IntRange(1, 10), default=1, show_default=True)
@click.option(
    "--start",
    type=click.DateTime(["%Y-%m-%d"]),
    help="First day (default: the latest scores' as-of date).",
)
@click.option("--out", type=click.Path(path_type=Path), help="plan.csv | plan.xlsx | plan.ics")
@click.option("--compare", is_flag=True, help="Compare the BUDGETS given as arguments.")
@click.option("--crews", type=click.Path(exists=True, path_type=Path), help="Crews CSV/XLSX/JSON.")
@click.option("--parameters", type=click.Path(exists=True, path_type=Path), help="JSON/TOML.")
@click.option("--method", type=click.Choice(["auto", "exact", "heuristic"]), default="auto")
@click.argument("budgets", nargs=-1)
@pass_cli
def plan(
    obj: CliContext,
    budget: str | None,
    years: int,
    start: dt.datetime | None,
    out: Path | None,
    compare: bool,
    crews: Path | None,
    parameters: Path | None,
    method: str,
    budgets: tuple[str, ...],
) -> None:
    """Plan interventions under annual budgets, statutory work and crews; store and export it.

    \b
    patrimoine plan --budget 1.5e6 --years 5 --out plan.xlsx
    patrimoine plan --years 5 --compare 1e6 1.5e6 2e6 --out compare.csv
    """
    params = PlanParameters.load(parameters) if parameters else PlanParameters()
    crew_list = load_crews(crews) if crews else None
    day = start.date() if start else None
    ws = obj.workspace
    if compare or budgets:
        values = [_euros(b) for b in budgets] + ([_euros(budget)] if budget else [])
        if not values:
            raise PlanInputError("--compare needs budgets, e.g. --compare 1e6 1.5e6 2e6")
        with ws.session() as session:
            table = compare_workspace(
                session, values, years=years, start=day, crews=crew_list, parameters=params
            )
        shown = {
            "annual_budget_eur": "annual budget",
            "feasible": "feasible",
            "shortfall_eur": "shortfall",
            "cost_eur": "cost",
            "expected_failures": "exp. failures",
            "tenant_days_without_heating": "t-days heating",
            "tenant_days_without_hot_water": "t-days hot water",
            "tenant_days_without_elevator": "t-days elevator",
        }
        compact = table[[c for c in shown if c in table.columns]].rename(columns=shown)
        click.echo(compact.to_string(index=False, float_format=lambda v: f"{v:,.0f}"))
        click.echo(f"(over {years} year(s); tenant-days = dwellings × days without the service)")
        if out:
            out.parent.mkdir(parents=True, exist_ok=True)
            if out.suffix.lower() == ".xlsx":
                table.to_excel(out, index=False, sheet_name="compare")
            else:
                table.to_csv(out, index=False)
            click.echo(f"comparison written to {out}")
        return
    if budget is None:
        raise PlanInputError("give --budget EUR (or --compare B1 B2 …)")
    with ws.session() as session:
        result, plan_id = plan_workspace(
            session,
            _euros(budget),
            years=years,
            start=day,
            crews=crew_list,
            parameters=params,
            method=method,
        )
    m = result.metrics
    click.echo(
        f"plan {plan_id}: {len(result.plan)} interventions "
        f"({int(result.plan['statutory'].sum())} statutory), cost {m['cost_eur']:,.0f} EUR "
        f"of {m['budget_eur']:,.0f} EUR over {years} year(s)"
    )
    click.echo(
        f"solver {result.solver}: objective {result.objective:,.0f} EUR, bound "
        f"{result.bound:,.0f}, gap {result.gap:.2%}, {result.n_candidates} candidates"
    )
    click.echo(
        f"expected failures {m['expected_failures']:,.1f} (without plan "
        f"{m['expected_failures_without_plan']:,.1f}); tenant-days without heating "
        f"{m['tenant_days_without_heating']:,.0f}, hot water "
        f"{m['tenant_days_without_hot_water']:,.0f}, elevator "
        f"{m['tenant_days_without_elevator']:,.0f}"
    )
    for note in result.notes:
        click.echo(f"note: {note}")
    target = out or ws.plans_dir / f"plan-{plan_id}.csv"
    for path in export_plan(result, target):
        click.echo(f"written {path}")


COMMANDS: list[click.Command] = [plan]
