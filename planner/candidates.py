"""Candidate interventions per asset, their cost, their effect on failures and their worth.

Examples
--------
>>> import pandas as pd
>>> from planner.candidates import annual_rate
>>> round(float(annual_rate(pd.Series([0.1]), 90).iloc[0]), 3)
0.427

For each scored asset the options are: an extra ``service`` (categories without a statutory
service), a ``repair`` (overhaul) now, ``replace`` in plan year 0..N-1, or leave it (choose none).
Expected benefit = avoided failures × (repair cost + tenant hardship per failure), hardship =
weighted dwellings affected × outage days × service weight × season factor × € per dwelling-day.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from planner.errors import PlanInputError
from planner.parameters import PlanConstraints, PlanParameters

CANDIDATE_COLUMNS = [
    "candidate_id",
    "asset_id",
    "category",
    "building_id",
    "action",
    "year",
    "trade",
    "cost_eur",
    "duration_h",
    "p_failure_before",
    "p_failure_after",
    "failures_avoided",
    "tenant_days_avoided",
    "benefit_eur",
    "dwellings_affected",
    "reason",
]

STATUTORY_SERVICED = {"boiler", "heat_pump", "elevator", "ventilation_fan"}


def annual_rate(p_failure: pd.Series, horizon_days: float | pd.Series) -> pd.Series:
    """Failures per year implied by a probability of >= 1 failure within ``horizon_days``."""
    p = p_failure.astype("float64").clip(0.0, 0.999)
    return -np.log1p(-p) * 365.0 / horizon_days


def latest_scores(scores: pd.DataFrame) -> pd.DataFrame:
    """One score per asset: its latest as-of date."""
    if scores is None or scores.empty:
        raise PlanInputError(
            "no risk scores in the registry yet: run `patrimoine train` and `patrimoine score` "
            "before planning"
        )
    ordered = scores.sort_values(["asset_id", "as_of"], kind="stable")
    return ordered.groupby("asset_id", as_index=False).tail(1).reset_index(drop=True)


def affected_dwellings(
    assets: pd.DataFrame, dwellings: pd.DataFrame, parameters: PlanParameters
) -> pd.DataFrame:
    """Per asset: ``dwellings_affected`` (count) and ``hardship_weight`` (weighted count).

    Individual equipment: its dwelling. Elevators: dwellings above the ground floor, weighted
    1 + ``elevator_floor_weight`` × (floor − 1). Other building equipment: every dwelling of the
    building. Vulnerable households count ``vulnerable_weight`` times.
    """
    p = parameters
    d = dwellings.copy()
    vul = d["vulnerable"].fillna(False).astype(bool).to_numpy()
    d["w"] = np.where(vul, p.vulnerable_weight, 1.0)
    elev = pd.to_numeric(d["storey_elevation_m"], errors="coerce")
    base = elev.groupby(d["building_id"]).transform("min")
    floor = ((elev - base) / p.storey_height_m).round().fillna(1.0)
    d["floor_w"] = np.where(floor >= 1, 1.0 + p.elevator_floor_weight * (floor - 1), 0.0) * d["w"]
    d["above"] = (floor >= 1).astype(float)
    per_b = d.groupby("building_id").agg(
        n_all=("w", "size"), w_all=("w", "sum"), n_up=("above", "sum"), w_up=("floor_w", "sum")
    )
    per_d = d.set_index("dwelling_id")["w"]
    out = pd.DataFrame({"asset_id": assets["asset_id"].to_numpy()})
    b = assets["building_id"].map(lambda v: v).to_numpy()
    blds = per_b.reindex(pd.Index(b, dtype="object")).fillna(0.0)
    individual = (
        assets["dwelling_id"].notna().to_numpy()
        | (assets["serves"].fillna("") == "dwelling").to_numpy()
    )
    is_elev = (assets["category"] == "elevator").to_numpy()
    dw_w = assets["dwelling_id"].map(per_d).fillna(1.0).to_numpy()
    out["dwellings_affected"] = np.where(
        individual, 1, np.where(is_elev, blds["n_up"].to_numpy(), blds["n_all"].to_numpy())
    ).astype(int)
    out["hardship_weight"] = np.where(
        individual, dw_w, np.where(is_elev, blds["w_up"].to_numpy(), blds["w_all"].to_numpy())
    )
    return out


def _season_factor(service: str, p: PlanParameters) -> float:
    share = np.asarray(p.failure_month_share.get(service, p.failure_month_share["other"]), float)
    weight = np.asarray(p.season_weight.get(service, p.season_weight["other"]), float)
    return float((share / share.sum() * weight).sum())


def asset_baseline(
    assets: pd.DataFrame,
    scores: pd.DataFrame,
    dwellings: pd.DataFrame,
    constraints: PlanConstraints,
    parameters: PlanParameters,
) -> pd.DataFrame:
    """Per scored active asset: annual failure rate, expected failures per plan year if left
    alone, dwellings affected and hardship per failure (EUR and tenant-days)."""
    p = parameters
    s = latest_scores(scores)
    act = assets[assets["status"].fillna("active") == "active"]
    base = act.merge(
        s[["asset_id", "p_failure", "horizon_days", "remaining_life_years"]], on="asset_id"
    )
    if base.empty:
        raise PlanInputError("no risk score belongs to an active asset of the registry")
    base = base.reset_index(drop=True)
    aff = affected_dwellings(base, dwellings, p)
    base["dwellings_affected"] = aff["dwellings_affected"].to_numpy()
    base["hardship_weight"] = aff["hardship_weight"].to_numpy()
    base["lam"] = annual_rate(base["p_failure"], base["horizon_days"].astype(float)).to_numpy()
    cat = base["category"].astype("str")
    base["service"] = cat.map(lambda c: p.service_of_category.get(c, "other"))
    outage = cat.map(lambda c: p.of("outage_days", c))
    sw = base["service"].map(lambda s_: p.service_weight.get(s_, p.service_weight["other"]))
    season = base["service"].map(lambda s_: _season_factor(s_, p))
    base["tenant_days_per_failure"] = base["dwellings_affected"] * outage
    base["hardship_eur_per_failure"] = (
        base["hardship_weight"] * outage * sw * season * p.eur_per_dwelling_day
    )
    collective = (base["serves"] == "building") & cat.isin(["boiler", "pump", "water_heater"])
    factor = np.where(collective, p.collective_replace_factor, 1.0)
    base["repair_cost"] = cat.map(lambda c: p.of("repair_cost_eur", c)) * factor
    base["value_per_failure"] = base["repair_cost"] + base["hardship_eur_per_failure"]
    base["cost_factor"] = factor
    years = int(constraints.years)
    base["failures_leave"] = (base["lam"].to_numpy()[:, None] * growth_matrix(base, years, p)).sum(
        axis=1
    )
    return base


def growth_matrix(base: pd.DataFrame, years: int, p: PlanParameters) -> np.ndarray:
    """Failure-rate multiplier per asset and plan year if left alone: ``ageing_per_year`` ** t,
    times ``end_of_life_factor`` from the year its ``remaining_life_years`` runs out."""
    t = np.arange(years, dtype=float)
    growth = np.broadcast_to(p.ageing_per_year**t, (len(base), years)).copy()
    life = pd.to_numeric(base["remaining_life_years"], errors="coerce").to_numpy(float)
    past = (t[None, :] + 0.5) >= np.where(np.isnan(life), np.inf, life)[:, None]
    return np.where(past, growth * p.end_of_life_factor, growth)


def make_candidates(
    assets: pd.DataFrame,
    scores: pd.DataFrame,
    dwellings: pd.DataFrame,
    constraints: PlanConstraints,
    parameters: PlanParameters | None = None,
    *,
    baseline: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Every worthwhile candidate intervention (``CANDIDATE_COLUMNS``), one row each.

    Raises PlanInputError when there are no scores.
    """
    p = parameters or PlanParameters()
    base = (
        asset_baseline(assets, scores, dwellings, constraints, p) if baseline is None else baseline
    )
    years = int(constraints.years)
    span = max(years, int(p.appraisal_years))
    growth = growth_matrix(base, span, p)
    discount = (1.0 + p.discount_rate) ** -np.arange(span)
    lam = base["lam"].to_numpy()
    cat = base["category"].astype("str")
    horizon = base["horizon_days"].astype(float).to_numpy() / 365.0
    new_lam = cat.map(lambda c: p.of("new_unit_annual_failures", c)).to_numpy()
    trade = cat.map(lambda c: p.trade_of_category.get(c, p.trade_of_category["default"]))
    factor = base["cost_factor"].to_numpy()
    pieces = []

    def piece(action, year, cost, hours, avoided, lam_before, lam_after, why):
        # avoided: failures avoided per year (n × span); the horizon's count is reported, the
        # discounted count over the appraisal period is what the option is worth
        worth = (avoided * discount).sum(axis=1)
        avoided = avoided[:, :years].sum(axis=1)
        return pd.DataFrame(
            {
                "asset_id": base["asset_id"].to_numpy(),
                "category": cat.to_numpy(),
                "building_id": base["building_id"].to_numpy(),
                "action": action,
                "year": year,
                "trade": trade.to_numpy(),
                "cost_eur": np.round(cost, 2),
                "duration_h": hours,
                "p_failure_before": 1 - np.exp(-lam_before * horizon),
                "p_failure_after": 1 - np.exp(-lam_after * horizon),
                "failures_avoided": avoided,
                "appraisal_failures": worth,
                "why": why,
            }
        )

    serviceable = ~cat.isin(STATUTORY_SERVICED).to_numpy()
    first_year = np.zeros((len(base), span))
    first_year[:, 0] = np.where(serviceable, lam * (1 - p.service_factor), 0.0)
    pieces.append(
        piece(
            "service",
            0,
            cat.map(lambda c: p.of("service_cost_eur", c)).to_numpy(),
            cat.map(lambda c: p.of("service_hours", c)).to_numpy(),
            first_year,
            lam,
            lam * p.service_factor,
            f"extra service cuts the failure rate by {1 - p.service_factor:.0%} for a year",
        )
    )
    pieces.append(
        piece(
            "repair",
            0,
            cat.map(lambda c: p.of("overhaul_cost_eur", c)).to_numpy() * factor,
            cat.map(lambda c: p.of("overhaul_hours", c)).to_numpy(),
            lam[:, None] * growth * (1 - p.overhaul_factor),
            lam,
            lam * p.overhaul_factor,
            f"overhaul cuts the failure rate by {1 - p.overhaul_factor:.0%}",
        )
    )
    replace_cost = cat.map(lambda c: p.of("replace_cost_eur", c)).to_numpy() * factor
    replace_hours = cat.map(lambda c: p.of("replace_hours", c)).to_numpy()
    for y in range(years):
        avoided = lam[:, None] * growth - new_lam[:, None]
        avoided[:, :y] = 0.0
        pieces.append(
            piece(
                "replace",
                y,
                replace_cost,
                replace_hours,
                avoided,
                lam * growth[:, y],
                new_lam,
                "replacement resets the failure rate to a new unit's"
                + (" (now)" if y == 0 else f" (from plan year {y + 1})"),
            )
        )
    cands = pd.concat(pieces, ignore_index=True)
    info = base.set_index("asset_id")
    aid = cands["asset_id"]
    cands["dwellings_affected"] = aid.map(info["dwellings_affected"]).astype(int)
    vpf = aid.map(info["value_per_failure"]).to_numpy()
    cands["benefit_eur"] = cands["appraisal_failures"] * vpf
    cands["tenant_days_avoided"] = cands["failures_avoided"] * aid.map(
        info["tenant_days_per_failure"]
    ).to_numpy(dtype=float)
    cands = cands[
        (cands["failures_avoided"] > 1e-9)
        & (cands["benefit_eur"] > 0)
        & (cands["benefit_eur"] >= p.min_benefit_per_euro * cands["cost_eur"])
    ]
    cands = cands.reset_index(drop=True)
    cands["candidate_id"] = np.arange(len(cands))
    if cands.empty:
        cands["reason"] = pd.Series(dtype="str")
        return cands[CANDIDATE_COLUMNS]
    horizon_txt = cands["asset_id"].map(info["horizon_days"]).astype(int).astype(str)
    cands["reason"] = (
        "p(failure within "
        + horizon_txt
        + " d) = "
        + cands["p_failure_before"].map(lambda v: f"{v:.0%}")
        + "; "
        + cands["why"]
        + "; avoids "
        + cands["failures_avoided"].map(lambda v: f"{v:.2f}")
        + " expected failures ("
        + cands["dwellings_affected"].astype(str)
        + " dwellings affected), worth "
        + cands["benefit_eur"].map(lambda v: f"{v:,.0f}")
        + " EUR"
    )
    return cands[CANDIDATE_COLUMNS]
