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
#: Fault modes the engine knows (``modes`` and ``pf_mean_days_by_mode`` keys of a class; the
#: same list as ``mode_names`` in ``simulation.engine.simulate_chunk``).
FAULT_MODES = ("sudden", "cycling", "efficiency", "doors", "belt_bearing", "bearing")
#: Keys that are probabilities or shares, wherever they appear.
_PROBABILITY_KEYS = {
    "p_prog", "sensor_coverage", "compliance", "persistence", "p_late", "eol_failure_share",
    "p_rework", "p_detect_at_visit", "psp_share_per_year", "policy_min_age_share",
    "meter_coverage", "vacancy_per_year", "spike_share", "base", "max",
}  # fmt: skip
#: Sections whose numbers may be negative (temperatures, calendar days).
_SIGNED_SECTIONS = {"weather"}


class ParameterError(ValueError):
    """A parameters file that cannot drive the simulator (message names the file and the key)."""


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


def read_parameters_file(path: Path | str) -> dict[str, Any]:
    """A user's ``parameters.json`` (the shipped file's layout), read and validated.

    Raises
    ------
    ParameterError
        Naming the file and the first bad key: unreadable JSON, a missing key, a value of the
        wrong kind, a probability outside [0, 1], a negative rate, an unknown fault mode.
    """
    path = Path(path)
    try:
        params = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ParameterError(
            f"{path}: not valid JSON (line {err.lineno}, column {err.colno}: {err.msg})"
        ) from err
    validate_parameters(params, source=str(path))
    return params


def validate_parameters(params: Any, *, source: str = "parameters") -> None:
    """Check ``params`` against the shipped file's layout; raise :class:`ParameterError`.

    Every key of the shipped file's sections (``weather``, ``dwellings``, ``sensors``,
    ``hazard``) must be present with the same kind of value; each class needs ``match.category``
    and the keys every shipped class has (a class named like a shipped one needs all of that
    one's keys). Extra keys are allowed (``sources``, notes).
    """
    default = load_parameters()

    def fail(where: str, what: str) -> None:
        raise ParameterError(f"{source}: {where}: {what}")

    if not isinstance(params, dict):
        fail("top level", f"expected a JSON object, got {type(params).__name__}")
    for section in ("weather", "dwellings", "sensors", "hazard"):
        if section not in params:
            fail(section, "missing section")
        _check_like(params[section], default[section], section, fail)
    classes = params.get("classes")
    if not isinstance(classes, dict) or not classes:
        fail("classes", "expected a non-empty object of simulated classes")
    specs = list(default["classes"].values())
    common = set.intersection(*(set(v) for v in specs)) - {"sources"}
    for name, spec in classes.items():
        where = f"classes.{name}"
        if not isinstance(spec, dict):
            fail(where, "expected an object")
        match = spec.get("match")
        if not isinstance(match, dict) or not isinstance(match.get("category"), str):
            fail(f"{where}.match", 'expected {"category": "..."}')
        ref = default["classes"].get(name)
        needed = (set(ref) - {"sources"}) if ref is not None else common
        free = {"modes", "pf_mean_days_by_mode"}  # any known modes, checked below
        like = {k: (ref or _first_with(specs, k))[k] for k in needed - free}
        _check_like(spec, like, where, fail)
        if "modes" not in spec:
            fail(f"{where}.modes", "missing (use {} for a class without fault onsets)")
        for key in sorted(free):
            if not isinstance(spec.get(key, {}), dict):
                fail(f"{where}.{key}", "expected an object {mode: number}")
            for mode, value in (spec.get(key) or {}).items():
                _check_like(value, 1.0, f"{where}.{key}.{mode}", fail)
            unknown = sorted(set(spec.get(key) or {}) - set(FAULT_MODES))
            if unknown:
                fail(f"{where}.{key}", f"unknown fault mode(s) {unknown}; known: {FAULT_MODES}")
        shares = list((spec.get("modes") or {}).values())
        if shares and abs(sum(shares) - 1.0) > 0.01:
            fail(f"{where}.modes", f"shares must sum to 1, got {sum(shares):.3f}")
        if spec["median_life_y"] <= 0:
            fail(f"{where}.median_life_y", "must be > 0")


def _first_with(specs: list[dict[str, Any]], key: str) -> dict[str, Any]:
    return next(s for s in specs if key in s)


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _check_like(value: Any, like: Any, where: str, fail: Any) -> None:
    """``value`` has the kind of ``like`` (recursively for objects); numbers finite, in range."""
    if isinstance(like, dict):
        if not isinstance(value, dict):
            fail(where, f"expected an object, got {json.dumps(value)[:40]}")
        for key, sub in like.items():
            if key == "sources":
                continue
            if key not in value:
                fail(f"{where}.{key}", "missing")
            _check_like(value[key], sub, f"{where}.{key}", fail)
        return
    if _is_number(like):
        if not _is_number(value) or not np.isfinite(value):
            fail(where, f"expected a number, got {json.dumps(value)[:40]}")
        key = where.rsplit(".", 1)[-1]
        if key in _PROBABILITY_KEYS and not 0.0 <= value <= 1.0:
            fail(where, f"a probability must be in [0, 1], got {value}")
        if where.split(".", 1)[0] not in _SIGNED_SECTIONS and value < 0:
            fail(where, f"must be >= 0, got {value}")
        return
    if isinstance(like, list):
        if isinstance(value, str) and where.endswith("initial_age_y"):
            if value != "building":
                fail(where, f'expected [low, high] or "building", got {value!r}')
            return
        if not isinstance(value, list) or (
            like and all(_is_number(x) for x in like) and len(value) != len(like)
        ):
            fail(
                where, f"expected a list like {json.dumps(like)[:40]}, got {json.dumps(value)[:40]}"
            )
        if like and all(_is_number(x) for x in like):
            for i, x in enumerate(value):
                _check_like(x, like[0], f"{where}[{i}]", fail)
        return
    if isinstance(like, str) and where.endswith("initial_age_y"):
        if value != "building" and not (
            isinstance(value, list) and len(value) == 2 and all(_is_number(x) for x in value)
        ):
            fail(where, f'expected [low, high] or "building", got {json.dumps(value)[:40]}')
        return
    if isinstance(like, str) and not isinstance(value, str):
        fail(where, f"expected text, got {json.dumps(value)[:40]}")
