"""Build a plan: statutory work, candidates, optimisation, scheduling — frames in, frames out.

Examples
--------
>>> from planner import PlanConstraints, build_plan          # doctest: +SKIP
>>> result = build_plan(assets, work_orders, dwellings, buildings, scores,
...                     PlanConstraints(budget_eur=1e6, years=5))   # doctest: +SKIP
>>> result.plan[["asset_ref", "action", "scheduled_on", "crew"]].head()  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from planner.candidates import affected_dwellings, asset_baseline, make_candidates
from planner.errors import PlanInfeasibleError, PlanInputError
from planner.optimise import OptimiseResult, Problem, optimise
from planner.parameters import Crew, PlanConstraints, PlanParameters
from planner.schedule import default_crews, schedule
from planner.statutory import load_statutory, statutory_due

PLAN_COLUMNS = [
    "asset_ref",
    "asset_tag",
    "category",
    "building",
    "dwelling",
    "action",
    "trade",
    "scheduled_on",
    "duration_h",
    "crew",
    "cost_eur",
    "p_failure_before",
    "p_failure_after",
    "dwellings_affected",
    "statutory",
    "rank",
    "reason",
]
"""The DESIGN §6 columns, in order (CSV export)."""

SERVICES = ("heating", "hot_water", "elevator")


@dataclass
class PlanResult:
    """A plan: rows (``PLAN_COLUMNS`` plus ``asset_id, year, start, end, visit, benefit_eur,
    failures_avoided``), crew work segments, and the figures of the solve."""

    plan: pd.DataFrame
    segments: pd.DataFrame
    constraints: PlanConstraints
    parameters: PlanParameters
    crews: tuple[Crew, ...]
    objective: float
    bound: float
    gap: float
    solver: str
    status: str
    solve_seconds: float
    n_candidates: int
    budgets: list[float]
    metrics: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    model_run_id: int | None = None

    def budget_use(self) -> pd.DataFrame:
        """Spend by plan year and category (statutory and chosen work)."""
        frame = self.plan.assign(year=self.plan["year"] + 1)
        table = frame.pivot_table(
            index="year", columns="category", values="cost_eur", aggfunc="sum", fill_value=0.0
        )
        table["total"] = table.sum(axis=1)
        table["budget"] = pd.Series(self.budgets, index=range(1, len(self.budgets) + 1))
        return table.reset_index()


def _yearly_hours(crews: tuple[Crew, ...], c: PlanConstraints, p: PlanParameters) -> dict:
    """Working hours per (trade, year) from the crews' weekly hours and the working days."""
    out: dict[tuple[str, int], float] = {}
    for y in range(c.years):
        a, b = c.year_start(y), c.year_start(y + 1)
        days = np.busday_count(a, b)
        weeks = days / 5.0
        for crew in crews:
            h = min(crew.hours_per_week, 5 * p.productive_hours_per_day) * weeks
            out[(crew.trade, y)] = out.get((crew.trade, y), 0.0) + h
    return out


def build_plan(
    assets: pd.DataFrame,
    work_orders: pd.DataFrame,
    dwellings: pd.DataFrame,
    buildings: pd.DataFrame,
    scores: pd.DataFrame,
    constraints: PlanConstraints,
    parameters: PlanParameters | None = None,
    *,
    statutory_table: pd.DataFrame | None = None,
    do_schedule: bool = True,
    capacity_use: float = 0.9,
) -> PlanResult:
    """The whole plan from registry frames (pure: reads nothing, writes nothing).

    Raises PlanInputError (bad budget, no scores, a statutory trade with no crew) and
    PlanInfeasibleError (statutory work alone over a year's budget, or over crew hours).
    """
    p = parameters or PlanParameters()
    c = constraints
    budgets = c.annual_budgets()
    table = load_statutory() if statutory_table is None else statutory_table
    base = asset_baseline(assets, scores, dwellings, c, p)  # raises when no scores
    due = statutory_due(assets, work_orders, c, p, buildings=buildings, table=table)
    stat_cost = due.groupby("year")["cost_eur"].sum().reindex(range(c.years), fill_value=0.0)
    over = stat_cost.to_numpy() - np.asarray(budgets)
    if (over > 0).any():
        y = int(np.argmax(over))
        raise PlanInfeasibleError(
            f"statutory work alone costs {stat_cost.iloc[y]:,.0f} EUR in plan year {y + 1}, "
            f"{over[y]:,.0f} EUR over the budget of {budgets[y]:,.0f} EUR"
            + (f" ({int((over > 0).sum())} years short)" if (over > 0).sum() > 1 else ""),
            shortfall_eur=float(over[y]),
            year=y,
        )
    cands = make_candidates(assets, scores, dwellings, c, p, baseline=base)
    stat_hours = due.groupby("trade")["duration_h"].sum() / c.years
    notes: list[str] = []
    if c.crews is None:
        needed = {t: float(stat_hours.get(t, 0.0)) for t in set(due["trade"]) | set(cands["trade"])}
        weekly = due.groupby(["trade", pd.to_datetime(due["due_on"]).dt.to_period("W")])[
            "duration_h"
        ].sum()
        peak = {
            t: float(s.droplevel(0).sort_index().rolling(4, min_periods=1).mean().max())
            for t, s in weekly.groupby(level=0)
        }
        crews = default_crews(needed, buildings, p, peak)
    else:
        crews = tuple(c.crews)
    crew_trades = {cr.trade for cr in crews}
    lacking = sorted(set(due["trade"]) - crew_trades)
    if lacking:
        raise PlanInputError(
            f"no crew for trade(s) {', '.join(lacking)} that statutory work needs: "
            "add crews for them to the crews file"
        )
    dropped = sorted(set(cands["trade"]) - crew_trades)
    if dropped:
        notes.append(f"no crew for trade(s) {', '.join(dropped)}: their improvements left out")
        cands = cands[cands["trade"].isin(crew_trades)].reset_index(drop=True)
    hours = _yearly_hours(crews, c, p)
    trades = sorted(crew_trades)
    cap = np.zeros((len(trades), c.years))
    stat_ht = due.groupby(["trade", "year"])["duration_h"].sum()
    for i, t in enumerate(trades):
        for y in range(c.years):
            left = hours.get((t, y), 0.0) * capacity_use - float(stat_ht.get((t, y), 0.0))
            if hours.get((t, y), 0.0) < float(stat_ht.get((t, y), 0.0)):
                raise PlanInfeasibleError(
                    f"statutory work needs {stat_ht[(t, y)]:,.0f} h of trade '{t}' in plan year "
                    f"{y + 1}, its crews have {hours.get((t, y), 0.0):,.0f} h"
                )
            cap[i, y] = max(0.0, left)
    group = pd.factorize(cands["asset_id"])[0]
    pb = Problem(
        value=cands["benefit_eur"].to_numpy(float),
        cost=cands["cost_eur"].to_numpy(float),
        hours=cands["duration_h"].to_numpy(float),
        group=group,
        year=cands["year"].to_numpy(int),
        resource=np.searchsorted(trades, cands["trade"].to_numpy()),
        budgets=np.asarray(budgets) - stat_cost.to_numpy(),
        capacity=cap,
    )
    res: OptimiseResult = optimise(
        pb,
        method=c.method,
        gap=c.mip_gap,
        time_limit=c.time_limit_s,
        exact_max_candidates=c.exact_max_candidates,
    )
    chosen = cands[res.selected] if len(cands) else cands
    rows = _rows(due, chosen, assets, buildings, c)
    affected = affected_dwellings(assets, dwellings, p).set_index("asset_id")["dwellings_affected"]
    stat = rows["statutory"] & rows["asset_id"].notna()
    rows.loc[stat, "dwellings_affected"] = rows.loc[stat, "asset_id"].map(affected).fillna(0)
    rows["dwellings_affected"] = rows["dwellings_affected"].astype(int)
    segments = pd.DataFrame(columns=["job_id", "crew", "day", "start", "end", "hours"])
    if do_schedule:
        rows, segments = schedule(rows, buildings, crews, c, p)
        lost = rows["statutory"].eq(False) & rows["crew"].isna()
        if lost.any():
            notes.append(
                f"{int(lost.sum())} improvement(s) did not fit the crews' weeks and were left out"
            )
            rows = rows[~lost]
            segments = segments[segments["job_id"].isin(rows["job_id"])]
    else:
        rows = rows.assign(
            crew=None, scheduled_on=rows["window_start"], start=pd.NaT, end=pd.NaT, visit=pd.NA
        )
    rows = rows.copy()
    ratio = np.where(rows["statutory"], np.inf, rows["benefit_eur"] / rows["cost_eur"].clip(1e-9))
    order = np.lexsort((pd.to_datetime(rows["scheduled_on"]).to_numpy(), -ratio))
    rows = rows.iloc[order].reset_index(drop=True)
    rows["rank"] = np.arange(1, len(rows) + 1)
    objective = float(rows["benefit_eur"].sum())
    bound = max(res.bound, objective)
    gap = 0.0 if bound <= 0 else (bound - objective) / bound
    metrics = plan_metrics(base, rows, budgets)
    run_id = scores["model_run_id"].dropna().max() if "model_run_id" in scores else None
    return PlanResult(
        plan=rows,
        segments=segments.reset_index(drop=True),
        constraints=c,
        parameters=p,
        crews=crews,
        objective=objective,
        bound=bound,
        gap=gap,
        solver=res.solver,
        status=res.status,
        solve_seconds=res.seconds,
        n_candidates=len(cands),
        budgets=budgets,
        metrics=metrics,
        notes=notes,
        model_run_id=None if run_id is None or pd.isna(run_id) else int(run_id),
    )


def plan_metrics(base: pd.DataFrame, rows: pd.DataFrame, budgets: list[float]) -> dict[str, float]:
    """Expected failures and tenant-days without each service over the horizon, with the plan."""
    chosen = rows[~rows["statutory"]]
    avoided = chosen.groupby("asset_id")["failures_avoided"].sum()
    left = base["failures_leave"] - base["asset_id"].map(avoided).fillna(0.0)
    out = {
        "budget_eur": float(sum(budgets)),
        "cost_eur": float(rows["cost_eur"].sum()),
        "statutory_cost_eur": float(rows.loc[rows["statutory"], "cost_eur"].sum()),
        "expected_failures_without_plan": float(base["failures_leave"].sum()),
        "expected_failures": float(left.sum()),
        "failures_avoided": float(avoided.sum()),
        "benefit_eur": float(chosen["benefit_eur"].sum()),
    }
    for s in SERVICES:
        m = base["service"] == s
        out[f"tenant_days_without_{s}"] = float(
            (left[m] * base.loc[m, "tenant_days_per_failure"]).sum()
        )
    return out


def _rows(
    due: pd.DataFrame,
    chosen: pd.DataFrame,
    assets: pd.DataFrame,
    buildings: pd.DataFrame,
    c: PlanConstraints,
) -> pd.DataFrame:
    """Statutory occurrences and chosen candidates as plan rows with a window each."""
    stat = pd.DataFrame(
        {
            "asset_id": due["asset_id"].astype("Int64"),
            "building_id": due["building_id"].astype("Int64"),
            "category": due["category"],
            "action": due["action"],
            "trade": due["trade"],
            "year": due["year"].astype(int),
            "duration_h": due["duration_h"].astype(float),
            "cost_eur": due["cost_eur"].astype(float),
            "p_failure_before": np.nan,
            "p_failure_after": np.nan,
            "dwellings_affected": 0,
            "statutory": True,
            "task": due["task"],
            "overdue": due["overdue"].astype(bool),
            "reason": due["reason"],
            "benefit_eur": 0.0,
            "failures_avoided": 0.0,
            "window_start": pd.to_datetime(due["earliest_on"]),
            "window_end": pd.to_datetime(due["due_on"]),
        }
    )
    ys = [pd.Timestamp(c.year_start(y)) for y in range(c.years + 1)]
    yr = chosen["year"].astype(int).to_numpy()
    imp = pd.DataFrame(
        {
            "asset_id": chosen["asset_id"].astype("Int64").to_numpy(),
            "building_id": chosen["building_id"].astype("Int64").to_numpy(),
            "category": chosen["category"].to_numpy(),
            "action": chosen["action"].to_numpy(),
            "trade": chosen["trade"].to_numpy(),
            "year": yr,
            "duration_h": chosen["duration_h"].astype(float).to_numpy(),
            "cost_eur": chosen["cost_eur"].astype(float).to_numpy(),
            "p_failure_before": chosen["p_failure_before"].to_numpy(),
            "p_failure_after": chosen["p_failure_after"].to_numpy(),
            "dwellings_affected": chosen["dwellings_affected"].astype(int).to_numpy(),
            "statutory": False,
            "task": None,
            "overdue": False,
            "reason": chosen["reason"].to_numpy(),
            "benefit_eur": chosen["benefit_eur"].to_numpy(),
            "failures_avoided": chosen["failures_avoided"].to_numpy(),
            "window_start": [ys[y] for y in yr],
            "window_end": [ys[y + 1] - pd.Timedelta(days=1) for y in yr],
        }
    )
    rows = (
        pd.concat([x for x in (stat, imp) if len(x)], ignore_index=True)
        if (len(stat) or len(imp))
        else stat
    )
    info = assets.set_index("asset_id")
    aid = rows["asset_id"]
    rows["asset_ref"] = aid.map(info["asset_ref"])
    rows["asset_tag"] = aid.map(info["asset_tag"])
    rows["dwelling"] = aid.map(info["dwelling"])
    bnames = buildings.set_index("building_id")["name"] if len(buildings) else pd.Series()
    rows["building"] = rows["building_id"].map(bnames)
    rows["building"] = rows["building"].fillna(aid.map(info["building"]))
    rows["job_id"] = np.arange(len(rows))
    return rows


def compare_budgets(
    assets: pd.DataFrame,
    work_orders: pd.DataFrame,
    dwellings: pd.DataFrame,
    buildings: pd.DataFrame,
    scores: pd.DataFrame,
    budgets: list[float],
    constraints: PlanConstraints,
    parameters: PlanParameters | None = None,
) -> pd.DataFrame:
    """Per annual budget: cost, expected failures, tenant-days without heating / hot water /
    elevator over the horizon — the curve a board decides on. Infeasible budgets get a row with
    ``feasible`` False and the shortfall."""
    if not budgets:
        raise PlanInputError("give at least one budget to compare")
    rows: list[dict[str, Any]] = []
    for b in budgets:
        c = PlanConstraints(
            budget_eur=float(b),
            years=constraints.years,
            start=constraints.start,
            crews=constraints.crews,
            mip_gap=constraints.mip_gap,
            time_limit_s=constraints.time_limit_s,
            method=constraints.method,
            exact_max_candidates=constraints.exact_max_candidates,
        )
        try:
            r = build_plan(
                assets, work_orders, dwellings, buildings, scores, c, parameters, do_schedule=False
            )
        except PlanInfeasibleError as err:
            rows.append(
                {
                    "annual_budget_eur": float(b),
                    "feasible": False,
                    "shortfall_eur": err.shortfall_eur,
                }
            )
            continue
        rows.append(
            {
                "annual_budget_eur": float(b),
                "feasible": True,
                "shortfall_eur": 0.0,
                **r.metrics,
                "objective": r.objective,
                "gap": r.gap,
            }
        )
    return pd.DataFrame(rows)


def _today() -> dt.date:
    return dt.date.today()
