"""Planner: interventions and replacements under budgets, statutory maintenance and crews.

Frames in, frames out: :func:`build_plan` takes the registry frames (assets, work orders,
dwellings, buildings, risk scores) and returns a :class:`PlanResult` (rows with the DESIGN §6
columns, crew work segments, objective, bound, gap). :func:`plan_workspace` is the wiring the CLI
and the demo call: read the registry, plan, store Plan + PlannedIntervention rows.

Examples
--------
>>> from planner import PlanConstraints, PlanParameters, load_statutory
>>> len(load_statutory()) >= 8
True
"""

from planner.build import PLAN_COLUMNS, PlanResult, build_plan, compare_budgets, plan_metrics
from planner.candidates import make_candidates
from planner.errors import PlanInfeasibleError, PlanInputError, PlannerError
from planner.exports import export_csv, export_ical, export_plan, export_xlsx, plan_table
from planner.optimise import OptimiseResult, Problem, optimise, solve_exact, solve_heuristic
from planner.parameters import Crew, PlanConstraints, PlanParameters, load_crews
from planner.schedule import default_crews, haversine_km, schedule
from planner.statutory import load_statutory, statutory_due
from planner.store import compare_workspace, plan_workspace, registry_inputs, save_plan

__all__ = [
    "PLAN_COLUMNS",
    "Crew",
    "OptimiseResult",
    "PlanConstraints",
    "PlanInfeasibleError",
    "PlanInputError",
    "PlanParameters",
    "PlanResult",
    "PlannerError",
    "Problem",
    "build_plan",
    "compare_budgets",
    "compare_workspace",
    "default_crews",
    "export_csv",
    "export_ical",
    "export_plan",
    "export_xlsx",
    "haversine_km",
    "load_crews",
    "load_statutory",
    "make_candidates",
    "optimise",
    "plan_metrics",
    "plan_table",
    "plan_workspace",
    "registry_inputs",
    "save_plan",
    "schedule",
    "solve_exact",
    "solve_heuristic",
    "statutory_due",
]
