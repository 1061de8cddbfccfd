"""Synthetic daily outdoor temperature: a yearly sinusoid plus AR(1) noise (§4.3).

Examples
--------
>>> import datetime as dt
>>> from simulation.parameters import load_parameters
>>> from simulation.weather import daily_temperature, degree_days
>>> t = daily_temperature(dt.date(2022, 1, 1), 365, load_parameters(), seed=0, site="Lille")
>>> 2200 < degree_days(t).sum() < 2900
True
"""

from __future__ import annotations

import datetime as dt
import zlib
from typing import Any

import numpy as np


def daily_temperature(
    start: dt.date, days: int, params: dict[str, Any], *, seed: int, site: str
) -> np.ndarray:
    """Mean daily outdoor temperature (°C) of one site, deterministic for (seed, site)."""
    w = params["weather"]
    rng = np.random.default_rng([seed, zlib.crc32(site.encode("utf-8")), 7])
    doy = (np.arange(days) + start.timetuple().tm_yday - 1) % 365.25
    seasonal = w["mean_temp_c"] - w["amplitude_c"] * np.cos(
        2 * np.pi * (doy - w["coldest_day_of_year"]) / 365.25
    )
    eps = rng.normal(0.0, w["ar1_sigma_c"], days + 60)
    noise = np.empty_like(eps)
    noise[0] = eps[0]
    for i in range(1, len(eps)):
        noise[i] = w["ar1_phi"] * noise[i - 1] + eps[i]
    return seasonal + noise[60:]


def degree_days(temp: np.ndarray, base: float = 18.0) -> np.ndarray:
    """French DJU: max(0, base − mean temperature)."""
    return np.maximum(0.0, base - temp)
