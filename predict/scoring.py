"""Score every active asset: failure probability, remaining life and top drivers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from predict.artifact import ModelArtifact
from predict.baselines import WeibullAgeBaseline
from predict.explain import driver_words
from predict.sampling import prior_corrected
from predict.survival import DEFAULT_LIFE_YEARS, PRIOR_SHAPE, remaining_life_years

SCORE_COLUMNS = ["asset_id", "asset_ref", "p_failure", "remaining_life_years", "drivers"]
RISK_CLIP = (0.2, 5.0)


@dataclass(frozen=True)
class ScoreReference:
    """What scoring a row takes from the whole stock: the median of the age baseline's offset
    (the drivers credit the offset relative to it) and each category's median age (the age of
    an asset of unknown age). Scoring a stock in parts gives every part the stock's."""

    offset_median: float
    median_age: dict[str, float]


#: The columns :func:`score_reference` reads (with the age baseline's own age column).
REFERENCE_COLUMNS = ["category", "age_years", "effective_age_years"]


def _age(features: pd.DataFrame) -> pd.Series:
    age = features["effective_age_years"].astype("float64")
    return age.fillna(features["age_years"].astype("float64"))


def score_reference(artifact: ModelArtifact, frame: pd.DataFrame) -> ScoreReference:
    """The stock-wide figures of :class:`ScoreReference`, from ``frame`` (every asset scored,
    at least :data:`REFERENCE_COLUMNS`)."""
    off = artifact.offset(frame)
    medians = _age(frame).groupby(frame["category"].astype("str")).median().dropna()
    return ScoreReference(
        offset_median=float(np.median(off)) if off.any() else 0.0,
        median_age={str(k): float(v) for k, v in medians.items()},
    )


def _explained(
    artifact: ModelArtifact, features: pd.DataFrame, offset: np.ndarray, offset_median: float
) -> tuple[np.ndarray, np.ndarray]:
    """The trees' raw score and the drivers in words of every row (TreeSHAP, one pass).

    Contributions are credited relative to the whole stock's median offset.
    """
    raw, order, top = artifact.top_contributions(
        features, offset_median=offset_median, offset=offset
    )
    return raw, driver_words(order, top, features[artifact.feature_names])


def _probability_and_drivers(
    artifact: ModelArtifact, features: pd.DataFrame, share: float, ref: float
) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities, and the drivers of the ``share`` of rows with the highest risk ("" else).

    When every row is worded, one pass over the trees gives both.
    """
    off = artifact.offset(features)
    out = np.full(len(features), "", dtype=object)
    n = min(len(features), max(1, int(np.ceil(share * len(features))))) if share > 0 else 0
    if n == len(features) and n > 0:
        raw, out[:] = _explained(artifact, features, off, ref)
        return artifact.probability(raw, off), out
    p = artifact.probability(artifact.raw_score(features), off)
    if n > 0:
        rows = np.sort(np.argsort(-p, kind="stable")[:n])
        out[rows] = _explained(artifact, features.iloc[rows], off[rows], ref)[1]
    return p, out


def _per_category(cat: pd.Series, value: Callable[[str], float]) -> np.ndarray:
    """``value(category)`` for every row, computed once per distinct category."""
    codes, uniques = pd.factorize(cat)
    return np.array([value(c) for c in uniques], dtype=np.float64)[codes]


def score(
    artifact: ModelArtifact,
    features: pd.DataFrame,
    *,
    drivers_share: float = 1.0,
    reference: ScoreReference | None = None,
) -> pd.DataFrame:
    """Score the rows of a feature frame (one cutoff, the as-of date) with the artifact.

    Remaining life follows :mod:`predict.survival`: the category's lifetime Weibull conditioned
    on the asset's age (since installation or last replacement), with hazards multiplied by
    ``clip(p / p₀, 0.2, 5)`` where ``p₀`` is the Weibull age baseline's risk at that age.
    Assets of unknown age get the median age of their category in the frame, or in
    ``reference`` (else 0).
    Drivers are worded for the ``drivers_share`` of rows with the highest risk (default all;
    the others get ""), from exact TreeSHAP contributions (:mod:`predict.treeshap`).
    ``reference``: the stock's figures when ``features`` is a part of it (default: its own).
    """
    ref = reference if reference is not None else score_reference(artifact, features)
    p, drivers = _probability_and_drivers(artifact, features, drivers_share, ref.offset_median)
    cat = features["category"].astype("str")
    age = _age(features).fillna(cat.map(ref.median_age).astype("float64")).fillna(0.0)
    lifetimes = artifact.baselines.get("lifetimes", {})
    shape = _per_category(cat, lambda c: lifetimes.get(c, {}).get("shape", PRIOR_SHAPE))
    life = features["expected_life_years"].astype("float64").fillna(DEFAULT_LIFE_YEARS)
    prior_scale = life / 0.893  # Γ(1 + 1/3): mean = expected life under the prior shape
    scale = _per_category(cat, lambda c: lifetimes.get(c, {}).get("scale", np.nan))
    scale = np.where(np.isnan(scale), prior_scale.to_numpy(), scale)
    if "weibull_age" in artifact.baselines:
        base = WeibullAgeBaseline.from_json(artifact.baselines["weibull_age"])
        p0 = base.hazard_probability(features["category"], age)
        # fitted on a negative sample: back on the full-data scale, as the calibrated p is
        rate = float(artifact.metadata.get("training_sample", {}).get("negative_rate", 1.0))
        p0 = prior_corrected(p0, rate)
        mult = np.clip(p / np.maximum(p0, 1e-6), *RISK_CLIP)
    else:
        mult = np.ones(len(p))
    rl = remaining_life_years(age.to_numpy(), shape, scale, mult)
    return pd.DataFrame(
        {
            "asset_id": features["asset_id"].to_numpy(),
            "asset_ref": features["asset_ref"].astype("str").to_numpy(),
            "p_failure": p,
            # up to the next 0.01 year: an asset in service has some life left
            "remaining_life_years": np.ceil(np.round(rl * 100, 6)) / 100,
            "drivers": drivers,
        }
    )
