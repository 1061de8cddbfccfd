"""The planner and the registry: read the inputs, store plans (Plan + PlannedIntervention).

Examples
--------
>>> from planner import plan_workspace                        # doctest: +SKIP
>>> with workspace.session() as session:                      # doctest: +SKIP
...     result, plan_id = plan_workspace(session, budget_eur=1.5e6, years=5)
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd
from sqlalchemy.orm import Session

from asset_model import (
    InterventionAction,
    assets_frame,
    buildings_frame,
    dwellings_frame,
    risk_scores_frame,
    work_orders_frame,
)
from asset_model.models import Plan, PlannedIntervention
from planner.build import PlanResult, build_plan, compare_budgets
from planner.parameters import Crew, PlanConstraints, PlanParameters


def registry_inputs(session: Session) -> dict[str, pd.DataFrame]:
    """The frames the planner needs, read from the registry (latest model run's scores)."""
    return {
        "assets": assets_frame(session, active_only=True),
        "work_orders": work_orders_frame(session),
        "dwellings": dwellings_frame(session),
        "buildings": buildings_frame(session),
        "scores": risk_scores_frame(session),
    }


def default_start(scores: pd.DataFrame) -> dt.date:
    """The latest scores' as-of date, or today when nothing was scored."""
    if scores.empty or scores["as_of"].isna().all():
        return dt.date.today()
    return pd.Timestamp(scores["as_of"].max()).date()


def save_plan(session: Session, result: PlanResult, *, name: str | None = None) -> int:
    """Store the plan and its rows; returns the new Plan id (the caller's transaction commits)."""
    c = result.constraints
    budget = c.budget_eur if isinstance(c.budget_eur, int | float) else max(c.budget_eur)
    plan = Plan(
        name=name or f"plan {c.start} {c.years}y",
        budget_eur=Decimal(str(round(float(budget), 2))),
        years=int(c.years),
        start_on=c.start,
        objective=float(result.objective),
        bound=float(result.bound),
        gap=float(result.gap),
        solver=result.solver,
        parameters={
            "annual_budgets_eur": [float(b) for b in result.budgets],
            "metrics": result.metrics,
            "notes": result.notes,
            "crews": [vars(cr) for cr in result.crews],
        },
        model_run_id=result.model_run_id,
    )
    for r in result.plan.itertuples():
        sched = pd.Timestamp(r.scheduled_on).date() if pd.notna(r.scheduled_on) else c.start
        plan.interventions.append(
            PlannedIntervention(
                asset_id=None if pd.isna(r.asset_id) else int(r.asset_id),
                action=InterventionAction(r.action),
                trade=str(r.trade)[:64],
                scheduled_on=sched,
                duration_h=float(r.duration_h),
                crew=None if r.crew is None or pd.isna(r.crew) else str(r.crew)[:64],
                cost_eur=Decimal(str(round(float(r.cost_eur), 2))),
                p_failure_before=None if pd.isna(r.p_failure_before) else float(r.p_failure_before),
                p_failure_after=None if pd.isna(r.p_failure_after) else float(r.p_failure_after),
                dwellings_affected=int(r.dwellings_affected),
                statutory=bool(r.statutory),
                rank=int(r.rank),
                reason=str(r.reason)[:1024],
            )
        )
    session.add(plan)
    session.flush()
    return int(plan.id)


def plan_workspace(
    session: Session,
    budget_eur: float | tuple[float, ...],
    *,
    years: int = 1,
    start: dt.date | None = None,
    crews: tuple[Crew, ...] | None = None,
    parameters: PlanParameters | None = None,
    method: str = "auto",
    save: bool = True,
) -> tuple[PlanResult, int | None]:
    """Read the registry, build the plan, store it (``save``); returns (result, plan id).

    ``start`` defaults to the as-of date of the latest risk scores (the day the plan's knowledge
    refers to; ``patrimoine score`` scores as of the day after the latest data), else today.
    """
    PlanConstraints(budget_eur=budget_eur, years=years).annual_budgets()  # fail before reading
    inputs = registry_inputs(session)
    constraints = PlanConstraints(
        budget_eur=budget_eur,
        years=years,
        start=start or default_start(inputs["scores"]),
        crews=crews,
        method=method,
    )
    result = build_plan(**inputs, constraints=constraints, parameters=parameters)
    plan_id = save_plan(session, result) if save else None
    return result, plan_id


def compare_workspace(
    session: Session,
    budgets: list[float],
    *,
    years: int = 1,
    start: dt.date | None = None,
    crews: tuple[Crew, ...] | None = None,
    parameters: PlanParameters | None = None,
) -> pd.DataFrame:
    """:func:`compare_budgets` on the registry's frames (same default start as
    :func:`plan_workspace`)."""
    inputs = registry_inputs(session)
    constraints = PlanConstraints(
        budget_eur=max(budgets) if budgets else 1.0,
        years=years,
        start=start or default_start(inputs["scores"]),
        crews=crews,
    )
    return compare_budgets(
        **inputs, budgets=budgets, constraints=constraints, parameters=parameters
    )
