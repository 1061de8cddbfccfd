"""Choose interventions under annual budgets and crew hours: exact MILP (HiGHS) or a heuristic.

Examples
--------
>>> import numpy as np
>>> from planner.optimise import Problem, optimise
>>> pb = Problem(value=np.array([5.0, 4.0, 3.0]), cost=np.array([3.0, 2.0, 2.0]),
...              hours=np.zeros(3), group=np.array([0, 1, 2]), year=np.zeros(3, int),
...              resource=np.zeros(3, int), budgets=np.array([4.0]), capacity=np.array([[1.0]]))
>>> res = optimise(pb, method="exact")
>>> sorted(np.flatnonzero(res.selected).tolist()), res.objective
([1, 2], 7.0)

The model: maximise Σ value·x subject to, per asset, at most one option; per year, Σ cost·x ≤
budget left after statutory work; per (trade, year), Σ hours·x ≤ crew hours left. Weekly crew
loads are then met by the scheduler, which spreads the year's hours over its weeks.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass

import highspy
import numpy as np
import scipy.sparse as sp

from planner.errors import PlanInputError


@dataclass
class Problem:
    """A selection problem. ``group`` numbers assets (one option each at most), ``year`` the
    budget year of each option, ``resource`` the trade index; ``capacity[trade, year]`` hours."""

    value: np.ndarray
    cost: np.ndarray
    hours: np.ndarray
    group: np.ndarray
    year: np.ndarray
    resource: np.ndarray
    budgets: np.ndarray
    capacity: np.ndarray

    @property
    def size(self) -> int:
        return int(len(self.value))


@dataclass
class OptimiseResult:
    selected: np.ndarray
    objective: float
    bound: float
    gap: float
    solver: str
    status: str
    seconds: float


def _matrix(pb: Problem) -> tuple[sp.csc_matrix, np.ndarray]:
    n = pb.size
    n_groups = int(pb.group.max()) + 1 if n else 0
    n_years = len(pb.budgets)
    n_res = pb.capacity.shape[0]
    cols = np.arange(n)
    rows = np.concatenate(
        [pb.group, n_groups + pb.year, n_groups + n_years + pb.resource * n_years + pb.year]
    )
    vals = np.concatenate([np.ones(n), pb.cost, pb.hours])
    m = n_groups + n_years + n_res * n_years
    a = sp.csc_matrix((vals, (rows, np.tile(cols, 3))), shape=(m, n))
    upper = np.concatenate([np.ones(n_groups), pb.budgets, pb.capacity.reshape(-1)])
    return a, upper


_BANNER_SHOWN = False


def _new_highs() -> highspy.Highs:
    """A HiGHS instance; its C++ constructor prints a copyright banner on stdout the first time,
    which would land in the CLI's output: that one time, stdout is sent to /dev/null."""
    global _BANNER_SHOWN
    if _BANNER_SHOWN:
        return highspy.Highs()
    _BANNER_SHOWN = True
    try:
        sys.stdout.flush()
        saved = os.dup(1)
    except (OSError, ValueError):
        return highspy.Highs()
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            return highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def _highs(
    pb: Problem,
    *,
    integer: bool,
    gap: float,
    time_limit: float,
    start: OptimiseResult | None = None,
) -> highspy.Highs:
    a, upper = _matrix(pb)
    lp = highspy.HighsLp()
    lp.num_col_ = pb.size
    lp.num_row_ = a.shape[0]
    lp.col_cost_ = pb.value.astype(float)
    lp.col_lower_ = np.zeros(pb.size)
    lp.col_upper_ = np.ones(pb.size)
    lp.row_lower_ = np.full(a.shape[0], -highspy.kHighsInf)
    lp.row_upper_ = upper.astype(float)
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = a.indptr
    lp.a_matrix_.index_ = a.indices
    lp.a_matrix_.value_ = a.data
    if integer:
        lp.integrality_ = [highspy.HighsVarType.kInteger] * pb.size
    h = _new_highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("mip_rel_gap", float(gap))
    h.setOptionValue("time_limit", float(time_limit))
    h.setOptionValue("threads", 1)
    h.setOptionValue("random_seed", 0)
    h.passModel(lp)
    if start is not None and len(start.selected) == pb.size:
        sol = highspy.HighsSolution()
        sol.col_value = start.selected.astype(float).tolist()
        sol.value_valid = True
        h.setSolution(sol)
    h.run()
    return h


def _empty(solver: str) -> OptimiseResult:
    return OptimiseResult(np.zeros(0, bool), 0.0, 0.0, 0.0, solver, "empty", 0.0)


def solve_exact(
    pb: Problem,
    *,
    gap: float = 0.005,
    time_limit: float = 60.0,
    start: OptimiseResult | None = None,
) -> OptimiseResult:
    """Branch and bound with HiGHS to a relative gap ``gap`` (or the time limit).

    ``start`` (a feasible plan, e.g. :func:`solve_heuristic`'s) is handed to HiGHS as its first
    incumbent: the MILP then never returns worse than it, even when stopped by the time limit,
    and its LP bound is kept when HiGHS proves none.
    """
    if pb.size == 0:
        return _empty("highs-mip")
    t0 = time.perf_counter()
    h = _highs(pb, integer=True, gap=gap, time_limit=time_limit, start=start)
    status = h.modelStatusToString(h.getModelStatus())
    x = np.asarray(h.getSolution().col_value)
    selected = x > 0.5 if len(x) == pb.size else np.zeros(pb.size, bool)
    if not _feasible(pb, selected):
        selected = np.zeros(pb.size, bool)
    if start is not None and pb.value[start.selected].sum() > pb.value[selected].sum():
        selected = start.selected.copy()
    obj = float(pb.value[selected].sum())
    bound = float(h.getInfo().mip_dual_bound)
    if not np.isfinite(bound):
        bound = start.bound if start is not None else float("inf")
    if start is not None:
        bound = min(bound, start.bound)
    bound = max(bound, obj)
    return OptimiseResult(
        selected=selected,
        objective=obj,
        bound=bound,
        gap=_gap(obj, bound) if np.isfinite(bound) else float("nan"),
        solver="highs-mip",
        status=status,
        seconds=time.perf_counter() - t0,
    )


def _feasible(pb: Problem, x: np.ndarray) -> bool:
    """Does the 0/1 vector ``x`` meet every constraint of ``pb`` (1e-6 tolerance)?"""
    if not x.any():
        return True
    if np.bincount(pb.group[x]).max() > 1:
        return False
    spend = np.bincount(pb.year[x], weights=pb.cost[x], minlength=len(pb.budgets))
    if (spend > pb.budgets + 1e-6).any():
        return False
    used = np.zeros_like(pb.capacity, dtype=float)
    np.add.at(used, (pb.resource[x], pb.year[x]), pb.hours[x])
    return bool((used <= pb.capacity + 1e-6).all())


def _gap(obj: float, bound: float) -> float:
    return 0.0 if bound <= 0 else max(0.0, (bound - obj) / abs(bound))


def _greedy(pb: Problem, order: np.ndarray) -> np.ndarray:
    """Take options in ``order`` while their asset is free and budget and hours allow."""
    budgets = pb.budgets.astype(float).copy()
    capacity = pb.capacity.astype(float).copy()
    taken = np.zeros(int(pb.group.max()) + 1, bool)
    selected = np.zeros(pb.size, bool)
    cost, hours, group, year, res = pb.cost, pb.hours, pb.group, pb.year, pb.resource
    eps = 1e-9
    for i in order:
        g = group[i]
        if taken[g]:
            continue
        y = year[i]
        if cost[i] > budgets[y] + eps or hours[i] > capacity[res[i], y] + eps:
            continue
        budgets[y] -= cost[i]
        capacity[res[i], y] -= hours[i]
        taken[g] = True
        selected[i] = True
    return selected


def solve_greedy_ratio(pb: Problem) -> OptimiseResult:
    """Plain greedy on value per euro (the usual shortcut; reference in the benchmark)."""
    if pb.size == 0:
        return _empty("greedy-ratio")
    t0 = time.perf_counter()
    order = np.argsort(-pb.value / np.maximum(pb.cost, 1e-9), kind="stable")
    selected = _greedy(pb, order)
    obj = float(pb.value[selected].sum())
    return OptimiseResult(
        selected, obj, obj, float("nan"), "greedy-ratio", "heuristic", time.perf_counter() - t0
    )


def solve_heuristic(pb: Problem) -> OptimiseResult:
    """Greedy on LP dual prices: solve the LP relaxation, price budgets and crew hours with its
    duals, take options by value net of their priced resources, then top up by value per euro.
    The LP optimum is the bound; the gap to it is reported."""
    if pb.size == 0:
        return _empty("lp-dual-greedy")
    t0 = time.perf_counter()
    h = _highs(pb, integer=False, gap=0.0, time_limit=600.0)
    sol = h.getSolution()
    bound = float(h.getInfo().objective_function_value)
    n_groups = int(pb.group.max()) + 1
    duals = np.abs(np.asarray(sol.row_dual))
    n_years = len(pb.budgets)
    price_budget = duals[n_groups : n_groups + n_years]
    price_hours = duals[n_groups + n_years :].reshape(pb.capacity.shape)
    net = pb.value - price_budget[pb.year] * pb.cost - price_hours[pb.resource, pb.year] * pb.hours
    x_lp = np.asarray(sol.col_value)
    # LP-chosen options first (by their LP value), then by net value, then the rest by ratio
    key1 = -(x_lp > 1 - 1e-6).astype(float)
    order = np.lexsort((-pb.value / np.maximum(pb.cost, 1e-9), -net, key1))
    selected = _greedy(pb, order)
    obj = float(pb.value[selected].sum())
    bound = max(bound, obj)
    return OptimiseResult(
        selected,
        obj,
        bound,
        _gap(obj, bound),
        "lp-dual-greedy",
        "heuristic",
        time.perf_counter() - t0,
    )


def optimise(
    pb: Problem,
    *,
    method: str = "auto",
    gap: float = 0.005,
    time_limit: float = 60.0,
    exact_max_candidates: int = 300_000,
) -> OptimiseResult:
    """Solve ``pb``: ``exact`` (HiGHS MILP), ``heuristic`` (LP-dual greedy) or ``auto`` (up to
    ``exact_max_candidates`` options: the greedy, kept when already within ``gap`` of its LP
    bound, else handed to the MILP as its starting plan; heuristic alone above)."""
    if method not in {"auto", "exact", "heuristic"}:
        raise PlanInputError(f"method must be auto, exact or heuristic, got {method!r}")
    if method == "heuristic" or (method == "auto" and pb.size > exact_max_candidates):
        return solve_heuristic(pb)
    if method == "exact":
        return solve_exact(pb, gap=gap, time_limit=time_limit)
    # auto: the LP-dual greedy's plan is the MILP's first incumbent, its LP optimum a bound;
    # the MILP then improves the plan and tightens the bound until the gap or the time limit
    heur = solve_heuristic(pb)
    if heur.gap <= gap:  # already within the stated gap of the LP bound: proven good enough
        return heur
    best = solve_exact(pb, gap=gap, time_limit=time_limit, start=heur)
    best.seconds += heur.seconds
    best.solver = "highs-mip (started from lp-dual-greedy)"
    return best
