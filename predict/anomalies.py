"""Energy anomalies: meters whose weather-normalised consumption departs from their peers.

Method (maintenance-facts §5.2, PRISM/CalTRACK style):

0. Meter spikes are dropped (:func:`predict.features.spikes.drop_spikes`, judged by the 14 days
   before each reading): one glitch in the last four weeks would otherwise read as a drift.
1. Per meter (a dwelling GlobalId, or an asset with an energy channel), fit the daily model
   ``E = α + β·DJU`` by least squares on the baseline year before the last 4 weeks (β ≥ 0; no
   weather → β = 0). α is the base load (hot water, appliances), β the heating slope.
2. Normalised annual consumption ``NAC = 365·α + β·DJU_year`` (DJU_year: the meter's own
   degree-days over a year, from the baseline's mean). Dwellings are compared per m² when every
   peer has an area.
3. Peers: same building and typology (dwellings) or same building and category (equipment);
   with fewer than ``min_peers`` the group widens to the building, then to the typology/category
   across the stock, then to all meters of the kind.
4. Modified z = 0.6745 (log x − median) / MAD (Iglewicz & Hoaglin), MAD = 0 guarded by the
   mean absolute deviation; flagged when |M| > 3.5.
5. Excess = NAC − peer median (kWh/year, back to kWh for intensities), in euros at
   ``price_eur_per_kwh`` (default 0.18 €/kWh, a blended French gas/electricity retail price).
6. Recent drift: the last 4 weeks against what the meter's own baseline model predicts for
   their weather; ``recent`` when more than 30 % above.
7. Reason hint from the peer z of α and β: high heating slope → envelope/heating fault; high
   base load → hot water leak or appliance; far below in winter → under-heating or vacancy.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from predict.features.peers import MAD_SCALE
from predict.features.spikes import SPIKE_WINDOW_DAYS, drop_spikes

ENERGY_CHANNEL = "energy_kwh"
DEFAULT_PRICE_EUR_PER_KWH = 0.18
THRESHOLD = 3.5
RECENT_DAYS = 28
BASELINE_DAYS = 365
RECENT_RATIO = 1.3

SIGNATURE_COLUMNS = ["meter_ref", "days", "alpha", "beta", "dju_year", "nac_kwh", "recent_ratio"]
ANOMALY_COLUMNS = [
    "meter_ref",
    "kind",
    "name",
    "building",
    "peer_group",
    "n_peers",
    "annual_kwh",
    "peer_median_kwh",
    "modified_z",
    "excess_kwh",
    "excess_eur",
    "recent",
    "recent_ratio",
    "reason",
]


def signatures_meta() -> pd.DataFrame:
    cols = {"meter_ref": pd.Series([], dtype="str")}
    cols.update({c: pd.Series([], dtype="float64") for c in SIGNATURE_COLUMNS[1:]})
    return pd.DataFrame(cols)


def meter_signatures(
    part: pd.DataFrame,
    *,
    as_of: pd.Timestamp,
    dju: pd.DataFrame | None = None,
    weather_key: pd.Series | None = None,
    min_days: int = 60,
) -> pd.DataFrame:
    """α, β, NAC and the recent ratio for each meter of ``part`` (readings columns).

    Examples
    --------
    >>> days = pd.date_range("2023-01-01", periods=400, freq="D")
    >>> part = pd.DataFrame({"asset_ref": "D1", "channel": "energy_kwh", "day": days,
    ...                      "value": 5.0})
    >>> s = meter_signatures(part, as_of=pd.Timestamp("2024-02-05"))
    >>> round(float(s.loc[0, "nac_kwh"]))
    1825
    """
    meta = signatures_meta()
    if len(part) == 0:
        return meta
    as_of = pd.Timestamp(as_of)
    start = as_of - pd.Timedelta(days=BASELINE_DAYS + RECENT_DAYS)
    split = as_of - pd.Timedelta(days=RECENT_DAYS)
    judged_from = start - pd.Timedelta(days=SPIKE_WINDOW_DAYS)
    p = part[(part["day"] >= judged_from) & (part["day"] < as_of) & part["value"].notna()]
    p = p[_not_spikes(p, judged_from) & (p["day"] >= start).to_numpy()]
    if len(p) == 0:
        return meta
    refs = p["asset_ref"].astype("str")
    if dju is not None and weather_key is not None:
        key = refs.map(weather_key).fillna("__all__")
        d_long = dju.stack(future_stack=True).rename("dju")
        idx = pd.MultiIndex.from_arrays([pd.DatetimeIndex(p["day"]), key.to_numpy()])
        d = d_long.reindex(idx).to_numpy(dtype=np.float64)
    else:
        d = np.zeros(len(p))
    frame = pd.DataFrame(
        {
            "ref": refs.to_numpy(),
            "x": p["value"].to_numpy(dtype=np.float64),
            "d": np.nan_to_num(d, nan=0.0),
            "base": (p["day"] < split).to_numpy(),
        }
    )
    rows = []
    for ref, g in frame.groupby("ref", sort=True):
        b, r = g[g["base"]], g[~g["base"]]
        if len(b) < min_days:
            continue
        x, dd = b["x"].to_numpy(), b["d"].to_numpy()
        var = dd.var()
        beta = float(np.cov(dd, x, bias=True)[0, 1] / var) if var > 1e-9 else 0.0
        beta = max(beta, 0.0)
        alpha = float(x.mean() - beta * dd.mean())
        if alpha < 0:
            alpha, beta = 0.0, float(x.sum() / max(dd.sum(), 1e-9))
        dju_year = float(dd.mean() * 365.0)
        expected = alpha * len(r) + beta * r["d"].sum()
        ratio = float(r["x"].sum() / expected) if len(r) >= 7 and expected > 0 else np.nan
        rows.append((ref, len(b), alpha, beta, dju_year, 365 * alpha + beta * dju_year, ratio))
    if not rows:
        return meta
    out = pd.DataFrame(rows, columns=SIGNATURE_COLUMNS)
    return out.astype(meta.dtypes.to_dict())


def _not_spikes(p: pd.DataFrame, origin: pd.Timestamp) -> np.ndarray:
    """False for the readings :func:`~predict.features.spikes.drop_spikes` drops: one glitch in
    the last four weeks (a tenfold day adds a third to their total) would raise a drift alert."""
    if len(p) == 0:
        return np.zeros(0, dtype=bool)
    codes, refs = pd.factorize(p["asset_ref"])
    days = (pd.DatetimeIndex(p["day"]).normalize() - origin).days.to_numpy()
    grid = np.full((len(refs), int(days.max()) + 1), np.nan)
    grid[codes, days] = p["value"].to_numpy(dtype=np.float64)
    return np.isfinite(drop_spikes(grid)[codes, days])


def _mod_z(x: pd.Series, groups: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    g = x.groupby(groups, sort=False)
    med = g.transform("median")
    dev = (x - med).abs()
    mad = dev.groupby(groups, sort=False).transform("median")
    alt = dev.groupby(groups, sort=False).transform("mean") * 1.253314
    scale = (mad / MAD_SCALE).where(mad > 0, alt)
    z = ((x - med) / scale.where(scale > 0)).fillna(0.0)
    return z, med, g.transform("size")


def _choose_groups(frame: pd.DataFrame, levels: list[list[str]], min_peers: int) -> pd.Series:
    """Per row, the narrowest peer group (a string key) with at least ``min_peers`` members."""
    chosen = pd.Series(None, index=frame.index, dtype="object")
    for i, cols in enumerate(levels):
        key = f"L{i}:" + frame[cols].astype("str").agg("|".join, axis=1) if cols else f"L{i}:all"
        key = pd.Series(key, index=frame.index) if isinstance(key, str) else key
        size = key.map(key.value_counts())
        take = chosen.isna() & (size >= min_peers)
        if i == len(levels) - 1:
            take = chosen.isna()
        chosen[take] = key[take]
    return chosen.astype("str")


def detect_anomalies(
    signatures: pd.DataFrame,
    meters: pd.DataFrame,
    *,
    min_peers: int = 6,
    price_eur_per_kwh: float = DEFAULT_PRICE_EUR_PER_KWH,
    threshold: float = THRESHOLD,
) -> pd.DataFrame:
    """Compare each meter's normalised consumption with its peers; every meter, flag column.

    ``meters`` describes the meters: ``meter_ref, kind ('dwelling'|'equipment'), name,
    building, group (typology or category), area_m2`` (NaN when unknown).
    """
    m = signatures.merge(meters, on="meter_ref", how="inner")
    if m.empty:
        return pd.DataFrame(columns=[*ANOMALY_COLUMNS, "flagged"])
    out = []
    for _, g in m.groupby("kind", sort=True):
        g = g.copy()
        area = g["area_m2"].astype("float64")
        per_m2 = bool(area.notna().all() and (area > 0).all())
        denom = area if per_m2 else pd.Series(1.0, index=g.index)
        g["intensity"] = g["nac_kwh"] / denom
        levels = [["building", "group"], ["building"], ["group"], []]
        g["peer_group"] = _choose_groups(g, levels, min_peers)
        eps = 1e-3
        z, med_log, size = _mod_z(np.log(g["intensity"].clip(lower=0) + eps), g["peer_group"])
        za, _, _ = _mod_z(np.log(g["alpha"].clip(lower=0) * 365 / denom + eps), g["peer_group"])
        zb, _, _ = _mod_z(g["beta"] / denom, g["peer_group"])
        peer_med = (np.exp(med_log) - eps) * denom
        g["modified_z"] = z
        g["n_peers"] = size - 1
        g["annual_kwh"] = g["nac_kwh"]
        g["peer_median_kwh"] = peer_med
        g["excess_kwh"] = g["nac_kwh"] - peer_med
        g["excess_eur"] = g["excess_kwh"] * price_eur_per_kwh
        g["recent"] = g["recent_ratio"] > RECENT_RATIO
        g["reason"] = [
            _reason(zi, ai, bi, b) for zi, ai, bi, b in zip(z, za, zb, g["beta"], strict=True)
        ]
        g["flagged"] = z.abs() > threshold
        out.append(g)
    res = pd.concat(out, ignore_index=True)
    res = res.assign(_abs=res["modified_z"].abs()).sort_values("_abs", ascending=False)
    return res[[*ANOMALY_COLUMNS, "flagged"]].reset_index(drop=True)


def _reason(z: float, za: float, zb: float, beta: float) -> str:
    if z > 0:
        if zb > 2 and zb >= za:
            return "high heating slope: envelope or heating fault (valve, open window, boiler)"
        if za > 2:
            return "high base load: hot-water leak, water-heater element or thermostat"
        return "high overall consumption against peers"
    if zb < -2 or beta == 0:
        return "far below peers: under-heating (energy poverty) or vacancy — social follow-up"
    return "low consumption against peers: vacancy or meter fault"


def meters_frame(assets: pd.DataFrame, dwellings: pd.DataFrame) -> pd.DataFrame:
    """The meter descriptions for :func:`detect_anomalies` from the registry frames."""
    d = pd.DataFrame(
        {
            "meter_ref": dwellings["dwelling_ref"].astype("str"),
            "kind": "dwelling",
            "name": dwellings["name"].astype("object"),
            "building": dwellings["building"].astype("object"),
            "group": dwellings["typology"].astype("object").fillna("?"),
            "area_m2": dwellings["area_m2"].astype("float64"),
        }
    )
    a = pd.DataFrame(
        {
            "meter_ref": assets["asset_ref"].astype("str"),
            "kind": "equipment",
            "name": assets["name"].astype("object"),
            "building": assets["building"].astype("object"),
            "group": assets["category"].astype("object"),
            "area_m2": np.nan,
        }
    )
    return pd.concat([d, a], ignore_index=True)


def anomaly_signatures(
    readings: Any,
    as_of: pd.Timestamp,
    *,
    dju: pd.DataFrame | None = None,
    weather_key: pd.Series | None = None,
    client: Any = None,
) -> pd.DataFrame:
    """:func:`meter_signatures` over a Dask (or pandas) frame of ``energy_kwh`` readings."""
    kwargs = {"as_of": as_of, "dju": dju, "weather_key": weather_key}
    if isinstance(readings, pd.DataFrame):
        return meter_signatures(readings, **kwargs)
    lazy = readings.map_partitions(meter_signatures, meta=signatures_meta(), **kwargs)
    res = client.compute(lazy).result() if client is not None else lazy.compute()
    return res.reset_index(drop=True)
