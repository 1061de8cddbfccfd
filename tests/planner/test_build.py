"""Whole plans on a small real registry: budgets, statutory work, crews, objective, bad inputs."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from planner import (
    PLAN_COLUMNS,
    Crew,
    PlanConstraints,
    PlanInfeasibleError,
    PlanInputError,
    PlanParameters,
    build_plan,
    compare_budgets,
    load_crews,
    load_statutory,
    statutory_due,
)
from planner.candidates import affected_dwellings

START = dt.date(2027, 1, 4)


def _plan(frames, budget, years=2, parameters=None, **kw):  # noqa: ANN001, ANN202
    """A plan where every option with a positive benefit may use the budget (the default), so
    that budgets, crews and weeks get exercised."""
    return build_plan(
        **frames,
        constraints=PlanConstraints(budget, years=years, start=START, **kw),
        parameters=parameters or PlanParameters(min_benefit_per_euro=0.0),
    )


@pytest.mark.parametrize(("budget", "years"), [(25_000, 1), (30_000, 2), (60_000, 3), (400_000, 2)])
def test_budgets_statutory_crews_and_objective(frames, budget, years) -> None:  # noqa: ANN001
    result = _plan(frames, budget, years)
    plan = result.plan
    assert list(plan[PLAN_COLUMNS].columns) == PLAN_COLUMNS
    # budgets never exceeded, year by year
    spend = plan.groupby("year")["cost_eur"].sum()
    assert (spend <= budget + 1e-6).all()
    assert plan["cost_eur"].sum() <= budget * years + 1e-6
    # every statutory occurrence is there, scheduled within its window (on time)
    due = statutory_due(
        frames["assets"], frames["work_orders"], result.constraints, buildings=frames["buildings"]
    )
    stat = plan[plan["statutory"]]
    assert len(stat) == len(due)
    assert stat["crew"].notna().all()
    sched = pd.to_datetime(stat["scheduled_on"])
    assert (sched <= stat["window_end"]).all()
    assert (sched >= stat["window_start"]).all()
    assert (pd.to_datetime(stat["end"]).dt.normalize() <= stat["window_end"]).all()
    # never more than the legal interval between two visits of the same statutory task
    interval = load_statutory().set_index("task")["interval_days"]
    key = stat["asset_id"].astype("str") + "/" + stat["building_id"].astype("str")
    for (task, _), chain in stat.assign(key=key).groupby(["task", "key"]):
        days = pd.to_datetime(chain["scheduled_on"]).sort_values().diff().dt.days.dropna()
        assert (days <= interval[task]).all(), (task, days.max())
    # crews never over their hours, Monday-Friday, within working hours, no lunch work
    seg = result.segments.assign(
        start=pd.to_datetime(result.segments["start"]), end=pd.to_datetime(result.segments["end"])
    )
    hours = {c.name: c.hours_per_week for c in result.crews}
    iso = seg["start"].dt.isocalendar()
    weekly = seg.groupby([seg["crew"], iso["year"], iso["week"]])["hours"].sum()
    for (crew, _, _), h in weekly.items():
        assert h <= hours[crew] + 1e-6
    assert (seg.groupby(["crew", seg["start"].dt.date])["hours"].sum() <= 8 + 1e-6).all()
    assert (seg["start"].dt.day_of_week < 5).all()
    assert (seg["start"].dt.hour >= 8).all()
    assert (seg["end"] <= seg["start"].dt.normalize() + pd.Timedelta(hours=17)).all()
    lunch_start = seg["start"].dt.normalize() + pd.Timedelta(hours=12)
    assert not (
        (seg["start"] < lunch_start + pd.Timedelta(hours=1)) & (seg["end"] > lunch_start)
    ).any()
    # every row's hours are booked exactly
    booked = seg.groupby("job_id")["hours"].sum()
    assert np.allclose(booked.reindex(plan["job_id"]).to_numpy(), plan["duration_h"].to_numpy())
    # the objective is the sum of the rows; bound and gap consistent
    assert result.objective == pytest.approx(plan["benefit_eur"].sum())
    assert result.bound >= result.objective - 1e-6
    assert 0 <= result.gap <= 0.01
    assert (
        plan.loc[~plan["statutory"], "p_failure_after"]
        < plan.loc[~plan["statutory"], "p_failure_before"]
    ).all()
    assert plan["rank"].tolist() == list(range(1, len(plan) + 1))


def test_big_jobs_span_weeks_and_heuristic_method(frames) -> None:  # noqa: ANN001
    result = _plan(frames, 400_000, years=2, method="heuristic")
    assert result.solver == "lp-dual-greedy"
    lifts = result.plan[(result.plan["category"] == "elevator") & ~result.plan["statutory"]]
    long_jobs = lifts[lifts["duration_h"] > 35]
    assert len(long_jobs)  # elevator overhaul/replacement: longer than a crew-week
    seg = result.segments[result.segments["job_id"].isin(long_jobs["job_id"])]
    weeks = pd.to_datetime(seg["start"]).dt.isocalendar()["week"]
    assert seg.groupby("job_id")["hours"].sum().to_numpy() == pytest.approx(
        long_jobs.set_index("job_id")["duration_h"].reindex(seg["job_id"].unique()).to_numpy()
    )
    assert weeks.groupby(seg["job_id"]).nunique().min() >= 2
    assert result.gap <= 0.05
    assert result.objective == pytest.approx(result.plan["benefit_eur"].sum())
    frugal = build_plan(  # an option must be worth its cost
        **frames,
        constraints=PlanConstraints(400_000, years=2, start=START),
        parameters=PlanParameters(min_benefit_per_euro=1.0),
    )
    imp = frugal.plan[~frugal.plan["statutory"]]
    assert (imp["benefit_eur"] >= imp["cost_eur"]).all()
    assert frugal.metrics["cost_eur"] < result.metrics["cost_eur"]


def test_nothing_worth_its_cost_leaves_statutory_work_only(frames) -> None:  # noqa: ANN001
    result = _plan(frames, 60_000, years=1, parameters=PlanParameters(min_benefit_per_euro=1e6))
    assert result.n_candidates == 0
    assert result.plan["statutory"].all()
    assert result.objective == 0.0
    assert result.metrics["expected_failures"] == result.metrics["expected_failures_without_plan"]


def test_more_budget_fewer_failures(frames) -> None:  # noqa: ANN001
    table = compare_budgets(
        **frames,
        budgets=[10_000, 30_000, 40_000, 80_000],
        constraints=PlanConstraints(1.0, years=2, start=START),
    )
    ok = table[table["feasible"]]
    assert len(ok) == 3
    assert not table.iloc[0]["feasible"]
    assert table.iloc[0]["shortfall_eur"] > 0
    assert ok["expected_failures"].is_monotonic_decreasing
    assert (ok["cost_eur"] <= ok["budget_eur"] + 1e-6).all()
    assert ok["tenant_days_without_heating"].iloc[-1] < ok["tenant_days_without_heating"].iloc[0]


def test_statutory_over_budget_says_by_how_much(frames) -> None:  # noqa: ANN001
    c = PlanConstraints(5_000, years=1, start=START)
    due = statutory_due(frames["assets"], frames["work_orders"], c, buildings=frames["buildings"])
    short = due["cost_eur"].sum() - 5_000
    with pytest.raises(PlanInfeasibleError, match=f"{short:,.0f} EUR over the budget") as err:
        build_plan(**frames, constraints=c)
    assert err.value.shortfall_eur == pytest.approx(short)


@pytest.mark.parametrize("budget", [0, -10, float("nan")])
def test_bad_budget(frames, budget) -> None:  # noqa: ANN001
    with pytest.raises(PlanInputError, match="budget must be a positive amount"):
        _plan(frames, budget)


def test_bad_years(frames) -> None:  # noqa: ANN001
    with pytest.raises(PlanInputError, match="years must be between 1 and 10"):
        _plan(frames, 1e5, years=11)


def test_no_scores_yet(frames) -> None:  # noqa: ANN001
    empty = frames["scores"].iloc[0:0]
    with pytest.raises(PlanInputError, match="no risk scores"):
        build_plan(
            **{**frames, "scores": empty}, constraints=PlanConstraints(1e5, years=1, start=START)
        )


def test_trade_with_no_crew(frames) -> None:  # noqa: ANN001
    crews = (Crew("H1", "heating", 35.0), Crew("L1", "lift", 35.0))
    with pytest.raises(PlanInputError, match="no crew for trade.*chimney_sweep"):
        _plan(frames, 1e5, years=1, crews=crews)


def test_crews_too_small_for_statutory_work(frames) -> None:  # noqa: ANN001
    trades = ["chimney_sweep", "fire_safety", "heating", "lift", "lift_inspector", "ventilation"]
    crews = tuple(Crew(f"{t}-1", t, 35.0) for t in trades) + (Crew("tiny", "plumbing", 1.0),)
    crews = tuple(c if c.trade != "heating" else Crew("h", "heating", 0.1) for c in crews)
    with pytest.raises(PlanInfeasibleError, match="trade 'heating'"):
        _plan(frames, 1e5, years=1, crews=crews)


def test_crews_file_and_nearest_crew(frames, tmp_path) -> None:  # noqa: ANN001
    trades = [
        "chimney_sweep",
        "fire_safety",
        "heating",
        "lift",
        "lift_inspector",
        "ventilation",
        "plumbing",
    ]
    rows = []
    for t in trades:  # one crew near building A (west), one near building C (east)
        rows.append(
            {
                "crew": f"{t}-west",
                "trade": t,
                "hours_per_week": 35,
                "latitude": 50.6,
                "longitude": 3.0,
            }
        )
        rows.append(
            {
                "crew": f"{t}-east",
                "trade": t,
                "hours_per_week": 35,
                "latitude": 50.64,
                "longitude": 3.06,
            }
        )
    path = tmp_path / "crews.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    crews = load_crews(path)
    result = _plan(frames, 30_000, years=1, crews=crews)
    by_building = result.plan.groupby("building")["crew"].agg(
        lambda s: s.str.endswith("west").mean()
    )
    assert by_building["Bât A"] > 0.9
    assert by_building["Bât C"] < 0.1
    bad = tmp_path / "bad.csv"
    pd.DataFrame([{"crew": "x", "trade": "lift", "hours_per_week": -1}]).to_csv(bad, index=False)
    with pytest.raises(PlanInputError, match="row 1: hours_per_week must be positive"):
        load_crews(bad)


def test_hardship_counts_the_right_dwellings(frames) -> None:  # noqa: ANN001
    a, d = frames["assets"], frames["dwellings"]
    p = PlanParameters(vulnerable_weight=1.0, elevator_floor_weight=0.5)
    aff = affected_dwellings(a, d, p).set_index("asset_id")
    per_building = d.groupby("building_id").size()
    elev = a[a["category"] == "elevator"].iloc[0]
    pump = a[a["category"] == "pump"].iloc[0]
    boiler = a[a["category"] == "boiler"].iloc[0]
    # 4 floors × 2 dwellings: elevator serves floors 1..3 (6 dwellings), weights 1, 1.5, 2
    assert aff.loc[elev["asset_id"], "dwellings_affected"] == 6
    assert aff.loc[elev["asset_id"], "hardship_weight"] == pytest.approx(2 * (1 + 1.5 + 2))
    assert aff.loc[pump["asset_id"], "dwellings_affected"] == per_building[pump["building_id"]]
    assert aff.loc[boiler["asset_id"], "dwellings_affected"] == 1
    heavier = affected_dwellings(a, d, PlanParameters(vulnerable_weight=3.0))
    assert heavier["hardship_weight"].sum() > aff["hardship_weight"].sum()


def test_parameters_file_overrides_and_errors(tmp_path) -> None:  # noqa: ANN001
    path = tmp_path / "p.toml"
    path.write_text("eur_per_dwelling_day = 55.0\n[replace_cost_eur]\nboiler = 4200\n")
    p = PlanParameters.load(path)
    assert p.eur_per_dwelling_day == 55.0
    assert p.replace_cost_eur["boiler"] == 4200
    assert p.replace_cost_eur["elevator"] == 48000
    bad = tmp_path / "bad.json"
    bad.write_text('{"eur_per_tenant": 3}')
    with pytest.raises(PlanInputError, match="unknown parameter.*eur_per_tenant"):
        PlanParameters.load(bad)
    bad.write_text('{"service_factor": 1.5}')
    with pytest.raises(PlanInputError, match="service_factor"):
        PlanParameters.load(bad)


def test_winter_weighs_more_and_heating_work_avoids_winter(frames) -> None:  # noqa: ANN001
    result = _plan(frames, 60_000, years=1)
    work = result.plan[~result.plan["statutory"] & (result.plan["trade"] == "heating")]
    assert len(work)
    months = pd.to_datetime(work["scheduled_on"]).dt.month
    assert months.isin([5, 6, 7, 8, 9]).all()
