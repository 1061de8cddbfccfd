"""The daily simulation of one chunk of buildings: hidden state, failures, work orders, sensors.

Vectorised with numpy over the chunk's assets, one step per day (model in ``docs/simulation.md``):

- end of life: Weibull(k, η) per class, conditional on the age reached at the start (G1);
- repairable events: λ(t) = λ0·g(age)·s(season)·HR_unserviced·HR_foul^fouling·load^γ·u_site
  (§4.4), λ0 calibrated so the fleet mean matches G2; a share ``p_prog`` of events are fault
  onsets that fail after a Gamma(2) P-F interval, the rest fail at once (sudden);
- statutory visits (on time / late / missed, Markov compliance) cut fouling, reset the
  "unserviced" clock and repair a fault in its P-F window with p = 0.5;
- after a failure: replacement (end of life, old age, or ≥ 3 failures in 12 months) or repair,
  with a rework failure within 30 days with p = 0.15;
- the truth: for each monthly cutoff the probability of ≥ 1 failure in the next 90 days given the
  hidden state (pending fault, age, the intensity path), in closed form.

:func:`simulate_chunk` returns plain frames; :mod:`simulation.run` writes them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from simulation.parameters import bathtub
from simulation.sensors import sensor_readings
from simulation.truth import HORIZON, KIND_PROG, KIND_REWORK, failures_frame, truth_frame
from simulation.workorders import work_orders_frame

NONE = np.iinfo(np.int32).max // 2


@dataclass
class ChunkResult:
    work_orders: pd.DataFrame
    readings: pa.Table
    failures: pd.DataFrame
    truth: pd.DataFrame
    attributes: pd.DataFrame
    unserviced_share: dict[str, float]
    mean_intensity: dict[str, float]  # events per unit-year, λ averaged over the run


def _lognormal_unit_mean(rng: np.random.Generator, sigma: float, size: Any) -> np.ndarray:
    return rng.lognormal(-(sigma**2) / 2, sigma, size)


def _class_table(params: dict[str, Any], names: list[str]) -> dict[str, np.ndarray]:
    keys = [
        "median_life_y", "weibull_k", "events_per_year", "p_prog", "pf_mean_days",
        "season_amplitude", "hr_unserviced", "fouling_per_year", "hr_fouling",
        "sensor_coverage", "resolution_days_mean",
    ]  # fmt: skip
    return {
        k: np.array([float(params["classes"][n][k]) for n in names], dtype=np.float64) for k in keys
    }


def _survival(age: np.ndarray, median: float, k: float, deterministic: bool) -> np.ndarray:
    if deterministic or k <= 0:
        return (age < median).astype(np.float64)
    eta = median / np.log(2) ** (1 / k)
    return np.exp(-((age / eta) ** k))


def _stationary_ages(rng, cls_idx, names, median, k, deterministic, cap) -> np.ndarray:
    """Age of the unit in place: the stationary renewal density ∝ S(a), truncated at ``cap``
    (G1's initial-age upper bound and the building's age)."""
    age = np.zeros(len(cls_idx))
    for i, _ in enumerate(names):
        m = np.nonzero(cls_idx == i)[0]
        if not len(m):
            continue
        grid = np.linspace(0, 4 * median[m[0]], 4001)
        dens = _survival(grid, median[m[0]], k[m[0]], bool(deterministic[m[0]]))
        cdf = np.concatenate([[0.0], np.cumsum((dens[1:] + dens[:-1]) / 2)])
        top = np.interp(np.maximum(cap[m], 0.0), grid, cdf)
        age[m] = np.interp(rng.random(len(m)) * top, cdf, grid)
    return age


def calibrated_lambda0(params: dict[str, Any], name: str) -> float:
    """λ0 (events per unit-year at g = 1) so that the fleet mean matches G2 (§4.4), averaging
    g(age) over the stationary age distribution of the units in place."""
    spec = params["classes"][name]
    ages = spec["initial_age_y"]
    hi = 45.0 if ages == "building" else ages[1]
    med = spec["median_life_y"]
    grid = np.linspace(0, hi, 401)
    wts = _survival(grid, med, spec["weibull_k"], bool(spec.get("deterministic_life")))
    g = np.average(bathtub(grid + 1.5, np.full_like(grid, med), params), weights=wts)
    svc = spec.get("service")
    hr = 1.0
    if svc and spec["hr_unserviced"] != 1.0:
        unserv = 1 - svc["compliance"]
        hr = 1 + (spec["hr_unserviced"] - 1) * unserv
        if spec["fouling_per_year"] > 0:
            f_ok = spec["fouling_per_year"] * 0.8
            f_bad = min(1.5, spec["fouling_per_year"] * 4)
            hr *= (1 - unserv) * spec["hr_fouling"] ** f_ok + unserv * spec["hr_fouling"] ** f_bad
    return spec["events_per_year"] / (g * hr)


def _visit_matrix(
    rng: np.random.Generator,
    spec: dict[str, Any] | None,
    n: int,
    start: dt.date,
    days: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(visits n×days bool, last service day before start, serviced-last-year flags)."""
    visits = np.zeros((n, days), dtype=bool)
    last = np.full(n, -NONE, dtype=np.int64)
    if spec is None or n == 0:
        return visits, last, np.ones(n, dtype=bool)
    interval = spec["interval_days"]
    compliance = spec["compliance"]
    if interval < 365:
        phase = rng.integers(0, interval, n)
        for k in range(-1, days // interval + 2):
            day = phase + k * interval + rng.integers(-5, 6, n)
            done = rng.random(n) < compliance
            ok = done & (day >= 0) & (day < days)
            visits[np.nonzero(ok)[0], day[ok]] = True
            before = done & (day < 0)
            last = np.where(before, np.maximum(last, day), last)
        return visits, last, np.ones(n, dtype=bool)
    persistence = spec["persistence"]
    recover = compliance * (1 - persistence) / (1 - compliance)
    serviced = rng.random(n) < compliance
    every = max(1, round(interval / 365))
    phase = rng.integers(0, every, n)
    first_serviced = serviced.copy()
    # last service before the start: the previous campaign if serviced, else 1-3 years ago
    prev_day = (dt.date(start.year - 1, spec["month"], 1) - start).days + rng.integers(
        0, spec["spread_days"] + 1, n
    )
    last = np.where(serviced, prev_day, prev_day - 365 * rng.integers(1, 4, n))
    for year in range(start.year, start.year + days // 365 + 2):
        due = ((year - start.year) % every) == phase
        p = np.where(serviced, persistence, recover)
        now = rng.random(n) < p
        serviced = np.where(due, now, serviced)
        base = (dt.date(year, spec["month"], 1) - start).days
        day = base + rng.integers(0, spec["spread_days"] + 1, n)
        late = rng.random(n) < spec["p_late"]
        day = day + np.where(late, rng.integers(30, 151, n), 0)
        ok = due & now & (day >= 0) & (day < days)
        visits[np.nonzero(ok)[0], day[ok]] = True
    return visits, last, first_serviced


def simulate_chunk(
    assets: pd.DataFrame,
    buildings: pd.DataFrame,
    dwellings: pd.DataFrame,
    temps: np.ndarray,
    *,
    start: dt.date,
    days: int,
    params: dict[str, Any],
    rng: np.random.Generator,
    chunk_id: int,
) -> ChunkResult:
    """Simulate ``days`` days of the chunk's assets (``assets['sim_class']`` set, ``b_idx`` the
    row of the asset's building in ``buildings`` and ``temps``)."""
    assets = assets.reset_index(drop=True)
    n = len(assets)
    names = sorted(params["classes"])
    cls_idx = assets["sim_class"].map({c: i for i, c in enumerate(names)}).to_numpy(np.int64)
    t = _class_table(params, names)
    hz = params["hazard"]
    bidx = assets["b_idx"].to_numpy(np.int64)
    day0 = pd.Timestamp(start)
    dju = np.maximum(0.0, params["weather"]["dju_base_c"] - temps)  # buildings × days
    kernel = np.ones(7) / 7
    dju7 = np.array([np.convolve(np.pad(r, (6, 0), mode="edge"), kernel, "valid") for r in dju])
    dju7 = dju7.reshape(dju.shape)
    dju_norm = dju7 / max(dju.mean(), 1e-9)

    median = t["median_life_y"][cls_idx]
    k = t["weibull_k"][cls_idx]
    deterministic = np.array([bool(params["classes"][c].get("deterministic_life")) for c in names])[
        cls_idx
    ]
    eta = np.where(k > 0, median / np.log(2) ** (1 / np.where(k > 0, k, 1)), median)
    lam0 = np.array([calibrated_lambda0(params, c) for c in names])[cls_idx] / 365.25
    p_prog = t["p_prog"][cls_idx]
    pf_mean = t["pf_mean_days"][cls_idx]
    amp = t["season_amplitude"][cls_idx]
    hr_unserv = t["hr_unserviced"][cls_idx]
    foul_rate = t["fouling_per_year"][cls_idx] / 365.25
    hr_foul = t["hr_fouling"][cls_idx]

    # ---- static covariates
    site_u = _lognormal_unit_mean(rng, hz["site_frailty_sigma"], len(buildings))[bidx]
    # unit frailty (make, installation quality, use): past failures of a unit carry signal
    u = site_u * _lognormal_unit_mean(rng, hz.get("unit_frailty_sigma", 0.0), n)
    is_elev = assets["sim_class"].to_numpy() == "elevator"
    if is_elev.any():
        spec = params["classes"]["elevator"]
        vand = _lognormal_unit_mean(rng, spec["vandalism_sigma"], len(buildings))[bidx]
        n_dw = buildings["dwellings"].to_numpy(np.float64)[bidx]
        lifts = assets.loc[is_elev].groupby("b_idx").size()
        per = lifts.reindex(range(len(buildings))).fillna(1).to_numpy()[bidx]
        trips = spec["trips_per_dwelling_day"] * np.maximum(n_dw, 4) / per
        load = (trips / 300.0) ** spec["trips_gamma"]
        u = np.where(is_elev, u * vand * load / np.mean(load[is_elev]), u)
    else:
        trips = np.zeros(n)
    usage = _lognormal_unit_mean(rng, params["dwellings"]["usage_sigma"], n)
    u = u * np.where(amp >= 0.3, usage ** hz["load_gamma"], 1.0)
    hard_water = np.where(rng.random(len(buildings)) < 0.4, 1.5, 1.0)[bidx]

    # ---- ages and lives
    year_built = pd.to_numeric(assets["year_built"], errors="coerce").to_numpy(np.float64)
    bage = np.where(np.isnan(year_built), 40.0, start.year - year_built).clip(0, 80)
    lo = np.zeros(n)
    hi = np.zeros(n)
    for i, c in enumerate(names):
        rng_ages = params["classes"][c]["initial_age_y"]
        m = cls_idx == i
        if rng_ages == "building":  # original units, or replaced once past ~1.2 median lives
            lo[m], hi[m] = 0.0, np.minimum(bage[m], 1.2 * median[m])
        else:
            lo[m], hi[m] = rng_ages[0], rng_ages[1]
    age0 = _stationary_ages(rng, cls_idx, names, median, k, deterministic, np.minimum(hi, bage))
    # the registry's installed_on is ignored: on a simulated world it is our own earlier output,
    # and re-simulating with the same seed must give the same files (idempotent re-import)
    inst = -(age0 * 365.25).astype(np.int64)

    def draw_life(age_y: np.ndarray, idx: np.ndarray) -> np.ndarray:
        """Remaining life (days) of units ``idx`` given survival to ``age_y`` (conditional
        Weibull; fixed life for deterministic types)."""
        uu = rng.random(len(idx))
        kk = np.where(k[idx] > 0, k[idx], 1.0)
        e = eta[idx]
        total = e * ((age_y / e) ** kk - np.log(uu)) ** (1 / kk)
        total = np.where(
            deterministic[idx],
            np.maximum(median[idx], age_y + rng.uniform(0, 1.0, len(idx))),
            total,
        )
        return np.maximum(((total - age_y) * 365.25).astype(np.int64), 1)

    eol = draw_life(age0, np.arange(n))

    # ---- service schedules
    visits = np.zeros((n, days), dtype=bool)
    last_svc = np.full(n, -NONE, dtype=np.int64)
    serviced0 = np.ones(n, dtype=bool)
    has_service = np.zeros(n, dtype=bool)
    for i, c in enumerate(names):
        m = np.nonzero(cls_idx == i)[0]
        spec = params["classes"][c].get("service")
        if spec is None or len(m) == 0:
            continue
        v, last, s0 = _visit_matrix(rng, spec, len(m), start, days)
        visits[m] = v
        last_svc[m] = last
        serviced0[m] = s0
        has_service[m] = True
    foul = np.where(serviced0, rng.uniform(0, 0.3, n), rng.uniform(0.3, 1.2, n)) * (foul_rate > 0)

    # ---- state
    pend = np.full(n, NONE, dtype=np.int64)
    pend_on = np.zeros(n, dtype=np.int64)
    pend_kind = np.zeros(n, dtype=np.int8)
    mode_names = ["sudden", "cycling", "efficiency", "doors", "belt_bearing", "bearing"]
    pend_mode = np.zeros(n, dtype=np.int8)
    mode_p = np.zeros((n, len(mode_names)))
    mode_pf = np.repeat(pf_mean[:, None], len(mode_names), axis=1)  # mean P-F (days) per mode
    for i, c in enumerate(names):
        m = cls_idx == i
        for mname, share in params["classes"][c]["modes"].items():
            mode_p[m, mode_names.index(mname)] = share
        for mname, days_ in params["classes"][c].get("pf_mean_days_by_mode", {}).items():
            mode_pf[m, mode_names.index(mname)] = days_
    policy_n = np.array(
        [params["classes"][c].get("policy_failures_12m", hz["policy_failures_12m"]) for c in names]
    )[cls_idx]
    fails12 = np.full((n, int(policy_n.max())), -NONE, dtype=np.int64)
    rof = [params["classes"][c].get("replace_on_failure", hz["replace_on_failure"]) for c in names]
    rof_base = np.array([r["base"] for r in rof])[cls_idx]
    rof_slope = np.array([r["slope"] for r in rof])[cls_idx]
    rof_max = np.array([r["max"] for r in rof])[cls_idx]
    down_until = np.full(n, -1, dtype=np.int64)

    lam_store = np.zeros((n, days), dtype=np.float32)
    deg_store = np.zeros((n, days), dtype=np.float32)
    mode_store = np.zeros((n, days), dtype=np.int8)
    foul_store = np.zeros((n, days), dtype=np.float32)
    down_store = np.zeros((n, days), dtype=bool)
    unserv_days = np.zeros(n, dtype=np.int64)

    cutoffs = [d for d in range(days - HORIZON + 1) if (day0 + pd.Timedelta(days=d)).day == 1]
    snap_age = {}
    snap_pend = {}

    wo: list[tuple[np.ndarray, int, str, Any]] = []  # (asset idx, day, kind, text key(s))
    fl: list[tuple[np.ndarray, int, np.ndarray, np.ndarray, np.ndarray]] = []
    rep: list[tuple[np.ndarray, int, str]] = []
    psp_days = {
        (dt.date(y, 7, 1) - start).days for y in range(start.year, start.year + days // 365 + 2)
    }
    heating = np.isin(
        assets["sim_class"].to_numpy(), ["boiler_individual", "boiler_collective", "heat_pump"]
    )
    simulated = lam0 > 0
    eol_fail_share = np.array([params["classes"][c].get("eol_failure_share", 0.5) for c in names])[
        cls_idx
    ]

    for d in range(days):
        age_y = (d - inst) / 365.25
        if d in snap_age or d in cutoffs:
            snap_age[d] = age_y.copy()
            elapsed = np.where(pend_kind == KIND_PROG, d - pend_on, -1)
            snap_pend[d] = (elapsed, pend_kind.copy(), mode_pf[np.arange(n), pend_mode])
        unserv = has_service & ((d - last_svc) > hz["unserviced_after_days"]) & (hr_unserv != 1)
        unserv_days += unserv
        foul = np.minimum(1.5, foul + foul_rate * hard_water)
        season = 1.0 - amp + amp * dju_norm[bidx, d]
        lam = (
            lam0
            * bathtub(age_y, median, params)
            * season
            * np.where(unserv, hr_unserv, 1.0)
            * hr_foul**foul
            * u
        )
        lam_store[:, d] = lam
        foul_store[:, d] = foul
        event = simulated & (rng.random(n) < -np.expm1(-lam))
        is_prog = event & (rng.random(n) < p_prog) & (pend == NONE)
        sudden = event & ~is_prog
        if is_prog.any():
            idx = np.nonzero(is_prog)[0]
            cum = mode_p[idx].cumsum(axis=1)
            draw = rng.random(len(idx))[:, None]
            pend_mode[idx] = np.argmax(draw < cum, axis=1)
            mean_len = mode_pf[idx, pend_mode[idx]]
            length = np.maximum(3, rng.gamma(2.0, mean_len / 2.0)).astype(np.int64)
            pend[idx] = d + length
            pend_on[idx] = d
            pend_kind[idx] = KIND_PROG
        # statutory / contract visits
        vis = visits[:, d]
        if vis.any():
            found = vis & (pend_kind == KIND_PROG) & (rng.random(n) < hz["p_detect_at_visit"])
            if found.any():
                wo.append((np.nonzero(found)[0], d, "corrective", "detected"))
                pend[found] = NONE
                pend_kind[found] = 0
            foul = np.where(vis, foul * 0.4, foul)
            last_svc = np.where(vis, d, last_svc)
        ramp = np.where(pend_kind == KIND_PROG, (d - pend_on) / np.maximum(pend - pend_on, 1), 0.0)
        deg_store[:, d] = np.clip(ramp, 0, 1)
        mode_store[:, d] = np.where(pend_kind == KIND_PROG, pend_mode, 0)
        due = pend == d
        eolf = eol == d
        fail = (sudden | due | eolf) & (d > down_until)
        eol_replace_only = eolf & (deterministic | (rng.random(n) >= eol_fail_share))
        fail &= ~eol_replace_only
        if eol_replace_only.any():
            idx = np.nonzero(eol_replace_only)[0]
            rep.append((idx, d, "end_of_life"))
            inst[idx] = d
            eol[idx] = d + draw_life(np.zeros(len(idx)), idx)
            foul[idx] = 0.0
            pend[idx] = NONE
            pend_kind[idx] = 0
        if fail.any():
            idx = np.nonzero(fail)[0]
            predictable = due[idx] & (pend_kind[idx] == KIND_PROG)
            fmode = np.where(
                eolf[idx],
                "end_of_life",
                np.where(
                    due[idx] & (pend_kind[idx] == KIND_REWORK),
                    "rework",
                    np.where(
                        predictable, np.array(mode_names, dtype=object)[pend_mode[idx]], "sudden"
                    ),
                ),
            ).astype(object)
            onset = np.where(predictable, pend_on[idx], -1)
            fl.append((idx, d, predictable, fmode, onset))
            wo.append((idx, d, "failure", fmode))
            fails12[idx] = np.roll(fails12[idx], 1, axis=1)
            fails12[idx, 0] = d
            res = np.maximum(0, rng.exponential(t["resolution_days_mean"][cls_idx[idx]]))
            down_until[idx] = d + res.astype(np.int64)
            a = age_y[idx]
            p_rep = np.minimum(
                rof_max[idx],
                rof_base[idx] + rof_slope[idx] * np.maximum(0, a / median[idx] - 0.7),
            )
            nth = fails12[idx, policy_n[idx] - 1]
            policy = (d - nth < 365) & (a > hz["policy_min_age_share"] * median[idx])
            replace = eolf[idx] | policy | (rng.random(len(idx)) < p_rep)
            r_idx = idx[replace]
            if len(r_idx):
                rep.append((r_idx, d, "after_failure"))
                new_day = d + 1 + rng.integers(0, 10, len(r_idx))
                inst[r_idx] = new_day
                eol[r_idx] = new_day + draw_life(np.zeros(len(r_idx)), r_idx)
                foul[r_idx] = 0.0
                pend[r_idx] = NONE
                pend_kind[r_idx] = 0
                fails12[r_idx] = -NONE
            k_idx = idx[~replace]
            if len(k_idx):
                cleared = pend[k_idx] <= d
                pend[k_idx[cleared]] = NONE
                pend_kind[k_idx[cleared]] = 0
                rw = (rng.random(len(k_idx)) < hz["p_rework"]) & (pend[k_idx] == NONE)
                rw_idx = k_idx[rw]
                lo_rw, hi_rw = hz["rework_days"]
                pend[rw_idx] = d + rng.integers(lo_rw, hi_rw + 1, len(rw_idx))
                pend_on[rw_idx] = d
                pend_kind[rw_idx] = KIND_REWORK
        down_store[:, d] = d <= down_until
        if d in psp_days:
            old = heating & ((d - inst) / 365.25 > median) & (pend == NONE)
            pick = old & (rng.random(n) < hz["psp_share_per_year"] * 5)
            if pick.any():
                idx = np.nonzero(pick)[0]
                rep.append((idx, d, "psp"))
                inst[idx] = d
                eol[idx] = d + draw_life(np.zeros(len(idx)), idx)
                foul[idx] = 0.0

    # ---- truth (closed form given the hidden state, §4.7 oracle)
    failures = failures_frame(assets, fl, day0)
    truth = truth_frame(
        assets, cutoffs, snap_age, snap_pend, lam_store, visits, p_prog, mode_p, mode_pf, eta, k,
        deterministic, median, hz["p_detect_at_visit"], failures, day0, simulated, eol_fail_share,
    )  # fmt: skip
    work_orders = work_orders_frame(
        assets, wo, rep, visits, params, rng, day0, days, chunk_id, names, cls_idx
    )
    readings = sensor_readings(
        assets=assets,
        buildings=buildings,
        dwellings=dwellings,
        temps=temps,
        dju=dju,
        deg=deg_store,
        mode=mode_store,
        foul=foul_store,
        down=down_store,
        usage=usage,
        trips=trips,
        params=params,
        rng=rng,
        day0=day0,
    )
    final_inst = day0 + pd.to_timedelta(inst, unit="D")
    known_share = params["work_orders"]["installed_on_known_share"]
    keep = rng.random(n) < known_share
    attributes = pd.DataFrame(
        {
            "asset_ref": assets["asset_ref"],
            "asset_tag": assets["asset_tag"],
            "installed_on": pd.Series(final_inst.strftime("%Y-%m-%d"), dtype=object).where(
                keep, None
            ),
        }
    )
    share = {}
    for c in ("boiler_individual", "boiler_collective", "heat_pump"):
        m = assets["sim_class"].to_numpy() == c
        if m.any():
            share[c] = float(unserv_days[m].sum() / (m.sum() * days))
    lam_year = lam_store.mean(axis=1) * 365.25
    intensity = {
        c: float(lam_year[cls_idx == i].mean()) for i, c in enumerate(names) if (cls_idx == i).any()
    }
    return ChunkResult(work_orders, readings, failures, truth, attributes, share, intensity)
