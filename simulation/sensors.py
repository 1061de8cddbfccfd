"""What the landlord's meters and sensors see: daily channels with load, noise, gaps and lags.

Signals follow table G4: during a P-F window the hidden degradation ``deg`` ramps from 0 to 1 and
shifts the load-normalised quantities (cycles per degree-day, kWh per degree-day, COP, door
re-opens, fan and pump power); raw values are dominated by weather, occupants, oversizing and
noise, so only load-normalised features carry the signal (§4.9). Gaps: 2-5 % missing days, dead
periods, rare spikes (§4.5 noise).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

SCHEMA = pa.schema(
    [
        ("asset_ref", pa.string()),
        ("channel", pa.string()),
        ("ts", pa.timestamp("ms")),
        ("value", pa.float64()),
    ]
)
_MODE = {"cycling": 1, "efficiency": 2}


def _gaps(rng: np.random.Generator, shape: tuple[int, int], p: dict[str, Any]) -> np.ndarray:
    """True where a reading exists."""
    m, days = shape
    lo, hi = p["missing_day_share"]
    share = rng.uniform(lo, hi, m)[:, None]
    keep = rng.random(shape) >= share
    n_dead = rng.poisson(p["dead_period_per_year"] * days / 365.25, m)
    dlo, dhi = p["dead_period_days"]
    for i in np.nonzero(n_dead)[0]:
        for _ in range(n_dead[i]):
            s = int(rng.integers(0, days))
            keep[i, s : s + int(rng.integers(dlo, dhi + 1))] = False
    return keep


def _noise(rng: np.random.Generator, shape: tuple[int, ...], sigma: float) -> np.ndarray:
    return rng.lognormal(-(sigma**2) / 2, sigma, shape)


class _Collector:
    def __init__(self, day0: pd.Timestamp, days: int, params: dict[str, Any], rng) -> None:
        self.parts: list[pa.Table] = []
        self.days = np.asarray(
            (day0 + pd.to_timedelta(np.arange(days), unit="D")).values, dtype="datetime64[ms]"
        )
        self.p = params["sensors"]
        self.rng = rng

    def add(self, refs: np.ndarray, channels: dict[str, np.ndarray], spikes: bool = True):
        if len(refs) == 0:
            return
        first = next(iter(channels.values()))
        keep = _gaps(self.rng, first.shape, self.p)
        for channel, values in channels.items():
            vals = values.astype(np.float64)
            if spikes and channel == "energy_kwh":
                spike = self.rng.random(vals.shape) < self.p["spike_share"]
                vals = np.where(spike, vals * 10, vals)
            mask = keep & np.isfinite(vals)
            ii, dd = np.nonzero(mask)
            ref_arr = pa.array(refs, pa.string())
            chan = pa.array([channel], pa.string())
            self.parts.append(
                pa.table(
                    {
                        "asset_ref": ref_arr.take(pa.array(ii)),
                        "channel": chan.take(pa.array(np.zeros(len(ii), dtype=np.int32))),
                        "ts": pa.array(self.days[dd], pa.timestamp("ms")),
                        "value": pa.array(np.round(vals[ii, dd], 3), pa.float64()),
                    },
                    schema=SCHEMA,
                )
            )

    def table(self) -> pa.Table:
        if not self.parts:
            return SCHEMA.empty_table()
        return pa.concat_tables(self.parts)


def sensor_readings(
    *,
    assets: pd.DataFrame,
    buildings: pd.DataFrame,
    dwellings: pd.DataFrame,
    temps: np.ndarray,
    dju: np.ndarray,
    deg: np.ndarray,
    mode: np.ndarray,
    foul: np.ndarray,
    down: np.ndarray,
    usage: np.ndarray,
    trips: np.ndarray,
    params: dict[str, Any],
    rng: np.random.Generator,
    day0: pd.Timestamp,
) -> pa.Table:
    """Long table ``asset_ref, channel, ts, value`` (the landlord's readings export)."""
    days = temps.shape[1]
    out = _Collector(day0, days, params, rng)
    sp = params["sensors"]
    dp = params["dwellings"]
    cls = assets["sim_class"].to_numpy(object)
    bidx = assets["b_idx"].to_numpy(np.int64)
    refs = assets["asset_ref"].to_numpy(object)
    cover = np.array(
        [params["classes"][c]["sensor_coverage"] if c else 0.0 for c in cls], dtype=np.float64
    )
    sensed = rng.random(len(assets)) < cover
    up = ~down

    # ---- weather (one series per building, the building GlobalId as asset_ref)
    out.add(
        buildings["building_ref"].to_numpy(object),
        {"outdoor_temp_c": np.round(temps + rng.normal(0, 0.3, temps.shape), 1)},
        spikes=False,
    )

    # ---- dwelling heat demand (kWh/day) per dwelling, then per building
    dw = dwellings.reset_index(drop=True)
    b_of_dw = (
        dw["building_ref"].map({r: i for i, r in enumerate(buildings["building_ref"])}).to_numpy()
    )
    area = pd.to_numeric(dw["area_m2"], errors="coerce").fillna(60.0).to_numpy(np.float64)
    house = dw.get("is_house", pd.Series(False, index=dw.index)).to_numpy(bool)
    ua = area * np.where(house, dp["ua_w_per_m2k_house"], dp["ua_w_per_m2k_flat"])
    dw_usage = _lognormal_unit_mean(rng, dp["usage_sigma"], len(dw))
    occupied = np.ones((len(dw), days), dtype=bool)
    n_vac = rng.poisson(dp["vacancy_per_year"] * days / 365.25, len(dw))
    vlo, vhi = dp["vacancy_days"]
    for i in np.nonzero(n_vac)[0]:
        s = int(rng.integers(0, days))
        occupied[i, s : s + int(rng.integers(vlo, vhi + 1))] = False
    heat = ua[:, None] * dju[b_of_dw] * 24 / 1000 * dw_usage[:, None]
    heat = np.where(occupied, heat, heat * 0.35)  # frost protection when vacant
    dhw = dp["dhw_kwh_per_day"] * dw_usage[:, None] * occupied
    dw_index = {r: i for i, r in enumerate(dw["dwelling_ref"])}
    a_dw = assets["dwelling_ref"].map(dw_index).to_numpy(np.float64)
    bld_heat = np.zeros((len(buildings), days))
    np.add.at(bld_heat, b_of_dw, heat)
    bld_dhw = np.zeros((len(buildings), days))
    np.add.at(bld_dhw, b_of_dw, dhw)
    fuel_of_dw = np.array(heat)  # what the dwelling meter sees for heating (default: heat meter)

    def dwelling_load(idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        k = a_dw[idx]
        ok = ~np.isnan(k)
        kk = np.where(ok, k, 0).astype(np.int64)
        h = np.where(ok[:, None], heat[kk], dju[bidx[idx]] * 24 * 0.1 * usage[idx, None])
        w = np.where(ok[:, None], dhw[kk], dp["dhw_kwh_per_day"] * usage[idx, None])
        return h, w

    # ---- individual boilers
    idx = np.nonzero(cls == "boiler_individual")[0]
    if len(idx):
        h, _ = dwelling_load(idx)
        lo, hi = params["classes"]["boiler_individual"]["oversizing"]
        over = rng.uniform(lo, hi, len(idx))[:, None]
        d, md, f = deg[idx], mode[idx], foul[idx]
        eff = 0.92 * (1 - 0.07 * f) * (1 - 0.10 * d * (md == _MODE["efficiency"]))
        gas = h / eff * up[idx]
        k = a_dw[idx]
        ok = ~np.isnan(k)
        fuel_of_dw[k[ok].astype(np.int64)] = gas[ok]
        _boiler_channels(
            out,
            refs[idx[sensed[idx]]],
            h[sensed[idx]],
            gas[sensed[idx]],
            over[sensed[idx]],
            d[sensed[idx]],
            md[sensed[idx]],
            temps[bidx[idx[sensed[idx]]]],
            up[idx[sensed[idx]]],
            sp,
            rng,
        )

    # ---- collective boilers (cascade: the building load split between them)
    idx = np.nonzero(cls == "boiler_collective")[0]
    if len(idx):
        per = pd.Series(bidx[idx]).map(pd.Series(bidx[idx]).value_counts()).to_numpy()
        h = (bld_heat[bidx[idx]] / 0.9 + bld_dhw[bidx[idx]]) / per[:, None]
        lo, hi = params["classes"]["boiler_collective"]["oversizing"]
        over = rng.uniform(lo, hi, len(idx))[:, None]
        d, md, f = deg[idx], mode[idx], foul[idx]
        eff = 0.9 * (1 - 0.07 * f) * (1 - 0.10 * d * (md == _MODE["efficiency"]))
        gas = h / eff * up[idx]
        _boiler_channels(
            out, refs[idx], h / 20, gas, over, d, md, temps[bidx[idx]], up[idx], sp, rng, scale=gas
        )

    # ---- heat pumps
    idx = np.nonzero((cls == "heat_pump") & sensed)[0]
    idx_all = np.nonzero(cls == "heat_pump")[0]
    if len(idx_all):
        h, _ = dwelling_load(idx_all)
        t_out = temps[bidx[idx_all]]
        cop = np.clip(2.6 + 0.09 * t_out, 1.6, 4.5) * (1 - 0.25 * deg[idx_all])
        elec = h / cop * up[idx_all]
        k = a_dw[idx_all]
        ok = ~np.isnan(k)
        fuel_of_dw[k[ok].astype(np.int64)] = elec[ok]
        s = np.isin(idx_all, idx)
        if s.any():
            noise_e = _noise(rng, elec[s].shape, sp["noise_sigma_energy"])
            cop_obs = np.where(h[s] > 1.0, cop[s] * _noise(rng, cop[s].shape, 0.05), np.nan)
            faults = rng.poisson(0.01 + 0.15 * deg[idx_all[s]])
            out.add(
                refs[idx_all[s]],
                {
                    "energy_kwh": elec[s] * noise_e,
                    "cop": np.where(up[idx_all[s]], cop_obs, np.nan),
                    "fault_count": faults,
                },
            )

    # ---- water heaters (dwelling) and the collective storage
    idx = np.nonzero((cls == "water_heater") & sensed)[0]
    if len(idx):
        _, w = dwelling_load(idx)
        e = (w / 0.9 + 1.2) * (1 + 0.2 * deg[idx]) * up[idx]
        out.add(refs[idx], {"energy_kwh": e * _noise(rng, e.shape, sp["noise_sigma_energy"])})
    idx = np.nonzero((cls == "dhw_storage") & sensed)[0]
    if len(idx):
        e = (bld_dhw[bidx[idx]] / 0.85 + 15) * (1 + 0.15 * deg[idx]) * up[idx]
        out.add(refs[idx], {"energy_kwh": e * _noise(rng, e.shape, sp["noise_sigma_energy"])})

    # ---- pumps: runtime follows the heating season; power rises with bearing wear
    idx = np.nonzero((cls == "pump") & sensed)[0]
    if len(idx):
        dj = dju[bidx[idx]]
        heating_on = np.clip(dj / 3.0, 0, 1)
        name = assets["name"].astype(str).str.lower().to_numpy()[idx] if "name" in assets else None
        always = (
            np.array(["ecs" in x or "bouclage" in x for x in name])
            if name is not None
            else np.zeros(len(idx), bool)
        )
        booster = (
            np.array(["surpress" in x for x in name]) if name is not None else np.zeros(len(idx))
        ).astype(bool)
        runtime = np.where(always[:, None], 24.0, 24.0 * heating_on)
        runtime = np.where(booster[:, None], 5.0 * _noise(rng, runtime.shape, 0.2), runtime)
        runtime = np.minimum(24.0, runtime * _noise(rng, runtime.shape, 0.03)) * up[idx]
        power = rng.uniform(0.08, 0.6, len(idx))[:, None] * (1 + 0.15 * deg[idx])
        energy = runtime * power * _noise(rng, runtime.shape, 0.05)
        out.add(refs[idx], {"runtime_h": np.round(runtime, 2), "energy_kwh": energy})

    # ---- ventilation fans
    idx = np.nonzero((cls == "ventilation_fan") & sensed)[0]
    if len(idx):
        power = rng.uniform(0.3, 1.5, len(idx))[:, None]
        sign = np.where(rng.random(len(idx)) < 0.5, -1.0, 1.0)[:, None]  # belt slip / bearing
        e = 24 * power * (1 + sign * 0.15 * deg[idx]) * up[idx]
        out.add(
            refs[idx],
            {
                "energy_kwh": e * _noise(rng, e.shape, 0.04),
                "fault_count": rng.poisson(0.01 + 0.2 * deg[idx]),
            },
        )

    # ---- elevators
    idx = np.nonzero((cls == "elevator") & sensed)[0]
    if len(idx):
        weekday = ((day0.day_of_week + np.arange(days)) % 7) < 5
        mean = trips[idx, None] * np.where(weekday, 1.05, 0.85)[None, :]
        mean = mean * _noise(rng, mean.shape, 0.15) * up[idx]
        tr = rng.poisson(mean)
        reopen = rng.poisson(tr * 0.02 * (1 + 3 * deg[idx]))
        out.add(
            refs[idx],
            {
                "trips": tr,
                "door_reopens": reopen,
                "fault_count": rng.poisson(0.02 + 0.3 * deg[idx]),
            },
        )

    # ---- dwelling meters (asset_ref = the dwelling GlobalId)
    has = rng.random(len(dw)) < dp["meter_coverage"]
    if has.any():
        base = dp["base_elec_kwh_per_day"] * dw_usage[:, None] * np.where(occupied, 1, 0.15)
        total = (fuel_of_dw + dhw / 0.9 + base)[has]
        out.add(
            dw["dwelling_ref"].to_numpy(object)[has],
            {"energy_kwh": total * _noise(rng, total.shape, sp["noise_sigma_energy"])},
        )
    return out.table()


def _lognormal_unit_mean(rng: np.random.Generator, sigma: float, size: Any) -> np.ndarray:
    return rng.lognormal(-(sigma**2) / 2, sigma, size)


def _boiler_channels(out, refs, heat, gas, over, d, md, t_out, up, sp, rng, scale=None):
    """cycles (starts/day ∝ oversizing and load), energy, supply temperature, lockouts."""
    if len(refs) == 0:
        return
    cyc_mode = md == _MODE["cycling"]
    base = over * (2.0 + 0.6 * np.sqrt(np.maximum(heat, 0)))
    m = 1 + 1.0 * d * cyc_mode
    cycles = np.round(base * m * _noise(rng, base.shape, sp["noise_sigma_cycles"])) * up
    energy = gas * _noise(rng, gas.shape, sp["noise_sigma_energy"])
    heating = np.maximum(0.0, 18 - t_out) > 0.5
    supply = np.where(
        heating,
        32 + 1.5 * np.maximum(0, 18 - t_out) - 2.0 * d * cyc_mode + 3.0 * d * (md == 2),
        np.nan,
    ) + rng.normal(0, 1.5, gas.shape)
    supply = np.where(up, supply, np.nan)
    late = cyc_mode & (d > 0.6)
    faults = rng.poisson(0.02 * (1 + 2 * late) + 0.03 * d)
    out.add(
        refs,
        {
            "cycles": cycles,
            "energy_kwh": energy,
            "supply_temp_c": np.round(supply, 1),
            "fault_count": faults,
        },
    )
