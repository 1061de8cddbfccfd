"""Planner benchmark: the optimiser at 100,000 candidates, 5 years, 6 trades.

Run: ``.venv/bin/python -m benchmarks.bench_planner [--assets 15000] [--years 5]``

A synthetic stock (buildings, dwellings, equipment of 6 trades, Beta-distributed risk scores)
goes through the planner's own candidate generation; the selection problem is then solved in
the same run by (1) HiGHS MILP to a stated gap, (2) the LP-dual greedy heuristic, (3) a plain
value-per-euro greedy (reference). Gaps are measured against the best proven bound of the run.
Then the whole ``build_plan`` (statutory work, optimisation, scheduling) is timed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from planner import PlanConstraints, PlanParameters, Problem, build_plan, make_candidates
from planner.candidates import asset_baseline
from planner.optimise import optimise, solve_exact, solve_greedy_ratio, solve_heuristic

RESULTS = Path(__file__).parent / "results" / "planner.md"
START = dt.date(2027, 1, 4)
MIX = [  # category, serves, share of assets
    ("boiler", "dwelling", 0.40),
    ("water_heater", "dwelling", 0.25),
    ("heat_pump", "dwelling", 0.05),
    ("boiler", "building", 0.02),
    ("pump", "building", 0.05),
    ("elevator", "building", 0.04),
    ("ventilation_fan", "building", 0.04),
    ("light", "building", 0.10),
    ("door", "building", 0.05),
]


def synthetic_stock(n_assets: int, seed: int = 0) -> dict[str, pd.DataFrame]:
    """Frames shaped like the registry's, for ``n_assets`` pieces of equipment."""
    rng = np.random.default_rng(seed)
    n_buildings = max(1, n_assets // 30)
    buildings = pd.DataFrame(
        {
            "building_id": np.arange(1, n_buildings + 1),
            "building_ref": [f"B{i}" for i in range(n_buildings)],
            "name": [f"Bât {i}" for i in range(n_buildings)],
            "latitude": 50.6 + rng.normal(0, 0.05, n_buildings),
            "longitude": 3.06 + rng.normal(0, 0.08, n_buildings),
        }
    )
    per_b = 20
    n_dw = n_buildings * per_b
    dwellings = pd.DataFrame(
        {
            "dwelling_id": np.arange(1, n_dw + 1),
            "building_id": np.repeat(buildings["building_id"], per_b).to_numpy(),
            "storey_elevation_m": np.tile(np.arange(per_b) // 4 * 2.8, n_buildings),
            "vulnerable": rng.random(n_dw) < 0.15,
        }
    )
    shares = np.array([m[2] for m in MIX])
    kind = rng.choice(len(MIX), n_assets, p=shares / shares.sum())
    cat = np.array([MIX[k][0] for k in kind])
    serves = np.array([MIX[k][1] for k in kind])
    b = rng.integers(1, n_buildings + 1, n_assets)
    dw = np.where(serves == "dwelling", (b - 1) * per_b + rng.integers(1, per_b + 1, n_assets), 0)
    assets = pd.DataFrame(
        {
            "asset_id": np.arange(1, n_assets + 1),
            "asset_ref": [f"A{i}" for i in range(n_assets)],
            "asset_tag": [f"T{i}" for i in range(n_assets)],
            "category": cat,
            "serves": serves,
            "status": "active",
            "building_id": b,
            "building": [f"Bât {i - 1}" for i in b],
            "dwelling_id": pd.array(np.where(dw > 0, dw, None), dtype="Int64"),
            "dwelling": np.where(dw > 0, [f"D{i}" for i in dw], None),
            "installed_on": pd.to_datetime("2000-01-01")
            + pd.to_timedelta(rng.integers(0, 9000, n_assets), unit="D"),
        }
    )
    scores = pd.DataFrame(
        {
            "model_run_id": 1,
            "asset_id": assets["asset_id"],
            "as_of": pd.Timestamp(START),
            "horizon_days": 90,
            "p_failure": rng.beta(0.8, 9, n_assets),
            "remaining_life_years": rng.uniform(0, 20, n_assets),
            "drivers": "",
        }
    )
    work_orders = pd.DataFrame(
        {
            "asset_id": pd.array(assets["asset_id"], dtype="Int64"),
            "kind": "preventive",
            "opened_at": pd.Timestamp("2026-01-01", tz="UTC")
            + pd.to_timedelta(rng.integers(0, 365, n_assets), unit="D"),
            "closed_at": pd.NaT,
            "description": "entretien annuel ramonage",
        }
    )
    work_orders["closed_at"] = pd.to_datetime(work_orders["closed_at"], utc=True)
    return {
        "assets": assets,
        "work_orders": work_orders,
        "dwellings": dwellings,
        "buildings": buildings,
        "scores": scores,
    }


def selection_problem(frames: dict, years: int, budget: float) -> tuple[Problem, int, int]:
    p = PlanParameters(min_benefit_per_euro=0.0)  # every option with a positive benefit
    c = PlanConstraints(budget, years=years, start=START)
    base = asset_baseline(frames["assets"], frames["scores"], frames["dwellings"], c, p)
    cands = make_candidates(
        frames["assets"], frames["scores"], frames["dwellings"], c, p, baseline=base
    )
    trades = sorted(cands["trade"].unique())
    # crews sized so that hours bind in some trades: 60 % of what the candidates would need
    need = cands.groupby(["trade", "year"])["duration_h"].sum() / cands["action"].nunique()
    cap = np.array([[need.get((t, y), 0.0) * 0.6 for y in range(years)] for t in trades])
    pb = Problem(
        value=cands["benefit_eur"].to_numpy(float),
        cost=cands["cost_eur"].to_numpy(float),
        hours=cands["duration_h"].to_numpy(float),
        group=pd.factorize(cands["asset_id"])[0],
        year=cands["year"].to_numpy(int),
        resource=np.searchsorted(trades, cands["trade"].to_numpy()),
        budgets=np.full(years, budget),
        capacity=cap,
    )
    return pb, len(trades), int(cands["asset_id"].nunique())


def outcome(world: Path, budget_factor: float, last: int = 3) -> list[dict[str, float]]:
    """Failures really addressed per euro on a simulated world, at each of the ``last`` scoring
    dates that the truth covers: the plan from the registry's risk scores vs 'oldest first'
    (replace the oldest equipment, by its true age at the cutoff, for the same spend; repair on
    failure addresses nothing ahead) vs the plan from the true probabilities (the ceiling).

    A failure is addressed when it happened (truth ``failures_90d``, the 90 days after the
    cutoff) on an asset the plan acts on. The plan sees only work orders opened before the
    cutoff. Only the truth file is read from truth, and only here.
    """
    from patrimoine import open_workspace
    from planner import registry_inputs, statutory_due

    ws = open_workspace(world)
    try:
        with ws.session() as session:
            frames = registry_inputs(session)
    finally:
        ws.close()
    all_scores = frames["scores"]
    truth_path = ws.simulation_dir / "truth" / "monthly_risk.parquet"
    if all_scores.empty or not truth_path.exists():
        raise FileNotFoundError("no risk scores or no truth in that workspace")
    all_truth = pd.read_parquet(truth_path)
    all_truth["cutoff"] = pd.to_datetime(all_truth["cutoff"])
    common = sorted(set(all_scores["as_of"].unique()) & set(all_truth["cutoff"].unique()))
    if not common:
        raise FileNotFoundError(
            "no risk scores as of a truth cutoff: score with `patrimoine score --as-of "
            f"{all_truth['cutoff'].max():%Y-%m-%d}` first"
        )
    refs = frames["assets"].set_index("asset_ref")["asset_id"]
    p = PlanParameters()
    out = []
    for cutoff in common[-last:]:
        scores = all_scores[all_scores["as_of"] == cutoff]
        opened = frames["work_orders"]["opened_at"].dt.tz_convert(None)
        wo = frames["work_orders"][opened < pd.Timestamp(cutoff)]
        f = {**frames, "scores": scores, "work_orders": wo}
        truth = all_truth[all_truth["cutoff"] == cutoff]
        truth = truth.assign(asset_id=truth["asset_ref"].map(refs)).dropna(subset=["asset_id"])
        truth["asset_id"] = truth["asset_id"].astype(int)
        fails = truth.set_index("asset_id")["failures_90d"]
        start = pd.Timestamp(cutoff).date()
        c0 = PlanConstraints(1.0, years=1, start=start)
        stat = statutory_due(f["assets"], wo, c0, buildings=f["buildings"])
        budget = float(stat["cost_eur"].sum()) * budget_factor
        c = PlanConstraints(budget, years=1, start=start)

        def addressed(result, fails=fails) -> tuple[float, float]:  # noqa: ANN001
            imp = result.plan[~result.plan["statutory"]]
            ids = imp["asset_id"].dropna().astype(int).unique()
            return float(fails.reindex(ids).fillna(0).sum()), float(imp["cost_eur"].sum())

        f_model, spend = addressed(build_plan(**f, constraints=c, do_schedule=False))
        true_scores = scores.drop(columns=["p_failure"]).merge(
            truth[["asset_id", "p_failure_90d"]].rename(columns={"p_failure_90d": "p_failure"}),
            on="asset_id",
        )
        oracle = build_plan(**{**f, "scores": true_scores}, constraints=c, do_schedule=False)
        f_oracle, spend_oracle = addressed(oracle)
        scored = f["assets"][f["assets"]["asset_id"].isin(scores["asset_id"])]
        age = scored["asset_id"].map(truth.set_index("asset_id")["age_years"])
        scored = scored.assign(age=age.to_numpy()).sort_values("age", ascending=False)
        cost = scored["category"].map(lambda k: p.of("replace_cost_eur", k)).to_numpy()
        take = np.cumsum(cost) <= spend
        f_oldest = float(fails.reindex(scored["asset_id"][take]).fillna(0).sum())
        out.append(
            {
                "cutoff": str(start),
                "budget": budget,
                "failures": float(fails.sum()),
                "spend": spend,
                "spend_oldest": float(cost[take].sum()),
                "spend_oracle": spend_oracle,
                "f_model": f_model,
                "f_oldest": f_oldest,
                "f_oracle": f_oracle,
            }
        )
    return out


def outcome_lines(world: Path | None, budget_factor: float) -> list[str]:
    left = [
        "Not measured in this run: it needs `--world WS`, a workspace holding a simulated world "
        "with truth (`<ws>/simulation/truth/monthly_risk.parquet`) and predict's RiskScores as "
        "of truth cutoffs (`patrimoine score --as-of DATE`). Command: "
        "`.venv/bin/python -m benchmarks.bench_planner --world WS`."
    ]
    if world is None:
        return left
    try:
        runs = outcome(world, budget_factor)
    except (FileNotFoundError, KeyError) as err:
        return [*left, "", f"(`--world {world}`: {err})"]
    k = 1000.0
    lines = [
        f"World `{world}`: one-year plans at each scoring date the truth covers, annual budget "
        f"= {budget_factor} × the year's statutory cost. Failures addressed = failures that "
        "really happened in the 90 days after the cutoff on the assets the plan acts on, per "
        "1,000 EUR of improvement spend (statutory work excluded).",
        "",
        "| cutoff | failures in 90 d | improvement spend | planner (predict's scores) | "
        "oldest first | planner (true probabilities) | planner / oldest |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    tot = dict.fromkeys(
        ("f_model", "f_oldest", "f_oracle", "spend", "spend_oldest", "spend_oracle", "failures"),
        0.0,
    )
    for r in runs:
        for key in tot:
            tot[key] += r[key]
        m, o, t = (
            r["f_model"] / max(r["spend"], 1) * k,
            r["f_oldest"] / max(r["spend_oldest"], 1) * k,
            r["f_oracle"] / max(r["spend_oracle"], 1) * k,
        )
        lines.append(
            f"| {r['cutoff']} | {r['failures']:.0f} | {r['spend']:,.0f} | "
            f"{r['f_model']:.0f} ({m:.3f}/k€) | {r['f_oldest']:.0f} ({o:.3f}/k€) | "
            f"{r['f_oracle']:.0f} ({t:.3f}/k€) | {m / o if o else float('inf'):.2f} |"
        )
    m = tot["f_model"] / max(tot["spend"], 1) * k
    o = tot["f_oldest"] / max(tot["spend_oldest"], 1) * k
    t = tot["f_oracle"] / max(tot["spend_oracle"], 1) * k
    lines += [
        f"| all | {tot['failures']:.0f} | {tot['spend']:,.0f} | {m:.3f}/k€ | {o:.3f}/k€ | "
        f"{t:.3f}/k€ | {m / o if o else float('inf'):.2f} |",
        "",
        f"Planner / oldest first: {m / o if o else float('inf'):.2f} × (goal ≥ 1.5); planner / "
        f"plan from the true probabilities (the ceiling): {m / t if t else float('nan'):.2f}.",
    ]
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--assets", type=int, default=18300)
    ap.add_argument("--years", type=int, default=5)
    ap.add_argument("--budget", type=float, default=None, help="annual EUR (default: scaled)")
    ap.add_argument("--gap", type=float, default=0.005)
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--plan-assets", type=int, default=3000, help="stock for the build_plan run")
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--world", type=Path, help="workspace of a simulated world with truth")
    ap.add_argument("--world-note", default="", help="how the world was made (for the report)")
    ap.add_argument(
        "--world-budget-factor",
        type=float,
        default=1.5,
        help="annual budget = factor × year-1 statutory cost",
    )
    args = ap.parse_args(argv)
    budget = args.budget or args.assets * 40.0
    load = os.getloadavg()[0]

    t0 = time.perf_counter()
    frames = synthetic_stock(args.assets)
    pb, n_trades, n_assets = selection_problem(frames, args.years, budget)
    t_cands = time.perf_counter() - t0
    print(
        f"{pb.size} candidates, {n_assets} assets, {args.years} years, {n_trades} trades "
        f"(generated in {t_cands:.1f} s)",
        flush=True,
    )

    runs = {}
    runs["HiGHS MILP, cold start"] = solve_exact(pb, gap=args.gap, time_limit=args.time_limit)
    runs["LP-dual greedy"] = solve_heuristic(pb)
    t0 = time.perf_counter()
    warm = optimise(pb, method="auto", gap=args.gap, time_limit=args.time_limit)
    warm.seconds = time.perf_counter() - t0
    runs[f"`auto` (what `plan` runs): {warm.solver}"] = warm
    runs["value/cost greedy"] = solve_greedy_ratio(pb)
    best_bound = min(
        r.bound for k, r in runs.items() if k != "value/cost greedy" and np.isfinite(r.bound)
    )
    lines = [
        "# Planner benchmark",
        "",
        f"Command: `.venv/bin/python -m benchmarks.bench_planner --assets {args.assets} "
        f"--years {args.years} --gap {args.gap}"
        + (f" --world {args.world}" if args.world else "")
        + "`",
        "",
        f"Machine: {platform.machine()}, Python {sys.version.split()[0]}, 2 cores shared with "
        f"four other engineers' jobs (load average at start {load:.1f}); HiGHS with 1 thread. "
        "Times vary by × 3 with the load; the objectives and gaps do not.",
        "",
        "## (a) Optimiser: selection under annual budgets and crew hours",
        "",
        f"{pb.size:,} candidate interventions ({n_assets:,} assets × service / overhaul / "
        f"replace in year 1..{args.years}; every option with a positive benefit, i.e. "
        "`min_benefit_per_euro=0`), "
        f"{args.years} years, {n_trades} trades, annual "
        f"budget {budget:,.0f} EUR, crew hours at 60 % of the candidates' needs. Gap = "
        "(best proven bound − objective) / bound; the bound is the MILP's dual bound or the "
        "LP relaxation, whichever is lower.",
        "",
        "| method | time (s) | objective (EUR) | own bound | gap to best bound |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, r in runs.items():
        gap = (best_bound - r.objective) / best_bound
        own = f"{r.bound:,.0f}" if name != "value/cost greedy" and np.isfinite(r.bound) else "—"
        lines.append(f"| {name} | {r.seconds:.1f} | {r.objective:,.0f} | {own} | {gap:.3%} |")
        print(
            f"{name}: {r.seconds:.1f} s, objective {r.objective:,.0f}, gap {gap:.3%} ({r.status})",
            flush=True,
        )
    exact = warm
    cold = runs["HiGHS MILP, cold start"]
    lines += [
        "",
        f"Goal: under 60 s for a stated gap under 1 %: `auto` (the greedy, then HiGHS from its "
        "plan if the greedy is not within the stated gap of its LP bound) "
        f"{'met' if exact.seconds < 60 and exact.gap < 0.01 else 'NOT met'} "
        f"({exact.seconds:.1f} s, proven gap {exact.gap:.3%}, solver {exact.solver}). "
        + (
            "The cold-started HiGHS reached its time limit without an incumbent here (objective "
            "0 above): that is why `auto` hands it the greedy's plan."
            if cold.objective == 0
            else "A cold-started HiGHS can stop far from the bound (or with no incumbent) when "
            "the cores are shared: that is why `auto` starts from the greedy's plan."
        ),
    ]

    t0 = time.perf_counter()
    small = synthetic_stock(args.plan_assets, seed=1)
    res = build_plan(
        **small,
        constraints=PlanConstraints(args.plan_assets * 400.0, years=args.years, start=START),
    )
    t_plan = time.perf_counter() - t0
    print(
        f"build_plan on {args.plan_assets} assets: {t_plan:.1f} s, {len(res.plan)} rows", flush=True
    )
    lines += [
        "",
        f"Whole `build_plan` (statutory due dates, candidates, MILP, scheduling on default "
        f"crews) on a {args.plan_assets:,}-asset synthetic stock over {args.years} years: "
        f"{t_plan:.1f} s, {len(res.plan):,} plan rows "
        f"({int(res.plan['statutory'].sum()):,} statutory), {len(res.segments):,} crew-day "
        f"segments, solver {res.solver}, gap {res.gap:.3%}.",
        "",
        "## (b) Outcome against the simulated world's truth",
        "",
        *outcome_lines(args.world, args.world_budget_factor),
        *(["", f"How that world was made: {args.world_note}"] if args.world_note else []),
    ]
    if not args.no_write:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text("\n".join(lines) + "\n", encoding="utf-8")
        print(f"written {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
