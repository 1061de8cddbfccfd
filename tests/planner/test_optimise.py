"""The optimiser against brute force on random small instances, and its two methods."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from planner import Problem, optimise, solve_exact, solve_heuristic
from planner.optimise import solve_greedy_ratio


@st.composite
def problems(draw) -> Problem:  # noqa: ANN001
    n = draw(st.integers(1, 10))
    years = draw(st.integers(1, 2))
    trades = draw(st.integers(1, 2))
    ints = st.integers(1, 50)
    value = np.array(draw(st.lists(ints, min_size=n, max_size=n)), float)
    cost = np.array(draw(st.lists(ints, min_size=n, max_size=n)), float)
    hours = np.array(draw(st.lists(st.integers(0, 10), min_size=n, max_size=n)), float)
    group = np.array(draw(st.lists(st.integers(0, n - 1), min_size=n, max_size=n)))
    group = np.unique(group, return_inverse=True)[1]
    year = np.array(draw(st.lists(st.integers(0, years - 1), min_size=n, max_size=n)))
    res = np.array(draw(st.lists(st.integers(0, trades - 1), min_size=n, max_size=n)))
    budgets = np.array(draw(st.lists(st.integers(0, 120), min_size=years, max_size=years)), float)
    cap = np.array(
        draw(st.lists(st.integers(0, 25), min_size=years * trades, max_size=years * trades)), float
    ).reshape(trades, years)
    return Problem(value, cost, hours, group, year, res, budgets, cap)


def feasible(pb: Problem, x: np.ndarray) -> bool:
    if np.bincount(pb.group[x], minlength=pb.group.max() + 1).max(initial=0) > 1:
        return False
    spend = np.bincount(pb.year[x], weights=pb.cost[x], minlength=len(pb.budgets))
    if (spend > pb.budgets + 1e-6).any():
        return False
    used = np.zeros_like(pb.capacity)
    np.add.at(used, (pb.resource[x], pb.year[x]), pb.hours[x])
    return bool((used <= pb.capacity + 1e-6).all())


def brute_force(pb: Problem) -> float:
    best = 0.0
    for bits in itertools.product([False, True], repeat=pb.size):
        x = np.array(bits)
        if feasible(pb, x):
            best = max(best, float(pb.value[x].sum()))
    return best


@settings(max_examples=60, deadline=None)
@given(problems())
def test_exact_matches_brute_force_and_heuristics_stay_feasible(pb: Problem) -> None:
    best = brute_force(pb)
    exact = solve_exact(pb, gap=0.0)
    assert feasible(pb, exact.selected)
    assert exact.objective == np.float64(pb.value[exact.selected].sum())
    assert abs(exact.objective - best) <= 1e-6 * max(1.0, best)
    assert exact.bound >= best - 1e-6
    heur = solve_heuristic(pb)
    assert feasible(pb, heur.selected)
    assert heur.objective <= best + 1e-6
    assert heur.bound >= best - 1e-6  # the LP relaxation bounds the optimum
    greedy = solve_greedy_ratio(pb)
    assert feasible(pb, greedy.selected)
    warm = solve_exact(pb, gap=0.0, start=heur)
    assert feasible(pb, warm.selected)
    assert abs(warm.objective - best) <= 1e-6 * max(1.0, best)
    auto = optimise(pb, method="auto", gap=0.0)
    assert feasible(pb, auto.selected)
    assert abs(auto.objective - best) <= 1e-6 * max(1.0, best)


def test_heuristic_gap_on_a_larger_instance() -> None:
    rng = np.random.default_rng(3)
    n = 3000
    pb = Problem(
        value=rng.gamma(2.0, 100.0, n),
        cost=rng.gamma(2.0, 300.0, n),
        hours=rng.uniform(1, 10, n),
        group=np.arange(n) // 3,
        year=rng.integers(0, 3, n),
        resource=rng.integers(0, 4, n),
        budgets=np.full(3, 150_000.0),
        capacity=np.full((4, 3), 800.0),
    )
    exact = optimise(pb, method="exact", gap=0.001)
    heur = optimise(pb, method="heuristic")
    greedy = solve_greedy_ratio(pb)
    assert exact.gap <= 0.001 + 1e-9
    assert feasible(pb, exact.selected)
    assert feasible(pb, heur.selected)
    assert heur.objective <= exact.bound + 1e-6
    assert heur.gap < 0.02
    assert greedy.objective <= exact.bound + 1e-6
