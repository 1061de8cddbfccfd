"""The simulator's parameters (``parameters.json``), and which simulated class each asset falls in.

Examples
--------
>>> from simulation.parameters import load_parameters
>>> p = load_parameters()
>>> p["classes"]["boiler_individual"]["events_per_year"]
0.12
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

PARAMETERS_FILE = Path(__file__).with_name("parameters.json")


def load_parameters(path: Path | str | None = None, **overrides: Any) -> dict[str, Any]:
    """The parameter tree; ``overrides`` replace top-level keys (a deep copy is returned)."""
    params = json.loads(Path(path or PARAMETERS_FILE).read_text(encoding="utf-8"))
    params = copy.deepcopy(params)
    params.update(overrides)
    return params


def class_of(assets: pd.DataFrame, params: dict[str, Any]) -> pd.Series:
    """The simulated class of each asset (``None`` for equipment the world does not simulate)."""
    out = pd.Series([None] * len(assets), index=assets.index, dtype=object)
    category = assets["category"].astype(object).to_numpy()
    serves = assets["serves"].astype(object).to_numpy()
    for name, spec in params["classes"].items():
        match = spec["match"]
        mask = category == match["category"]
        if "serves" in match:
            want = match["serves"]
            # unknown serves: dwelling-level when the asset sits in a dwelling
            mask &= np.where(pd.isna(serves), want == "dwelling", serves == want)
        mask &= pd.isna(out.to_numpy())
        out[mask] = name
    return out


def bathtub(age_y: np.ndarray, median_life: np.ndarray, p: dict[str, Any]) -> np.ndarray:
    """g(age) of §4.4, the wear term stretched by the type's median life."""
    b = p["hazard"]["bathtub"]
    scale = b["wear_scale_y"] * median_life / b["reference_life_y"]
    a = np.maximum(age_y, 0.0)
    return (
        b["infant"] * np.exp(-a / b["infant_tau_y"]) + b["floor"] + (a / scale) ** b["wear_power"]
    )
