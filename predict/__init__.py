"""Failure risk, remaining life and energy anomalies from the registry and the readings.

Start with :func:`train_from_workspace` and :func:`score_workspace` (what ``patrimoine train``
and ``patrimoine score`` call), or compose the steps yourself: :func:`build_features` (one row
per asset and monthly cutoff, only data strictly before the cutoff), :func:`make_labels`,
:func:`time_split`, :func:`train` (LightGBM, locally or on a Dask cluster, calibrated, evaluated
against :class:`WeibullAgeBaseline` and :class:`PastFailureRateBaseline`), :func:`score`.
Artifacts are folders: :func:`save_artifact`, :func:`load_artifact` (raises
:class:`ArtifactError`). Energy anomalies against peers: :func:`detect_anomalies`, or
:func:`anomalies_workspace`.
"""

from predict.anomalies import anomaly_signatures, detect_anomalies, meter_signatures
from predict.artifact import ModelArtifact, load_artifact, save_artifact
from predict.baselines import PastFailureRateBaseline, WeibullAgeBaseline
from predict.errors import ArtifactError, PredictError
from predict.evaluate import binary_metrics, evaluate, evaluation_report
from predict.features.build import build_features, feature_columns, monthly_cutoffs
from predict.labels import TimeSplit, make_labels, time_split
from predict.scoring import ScoreReference, score, score_reference
from predict.survival import fit_lifetimes, remaining_life_years
from predict.train import train
from predict.workflow import (
    SCORE_CSV_COLUMNS,
    ScoreResult,
    TrainResult,
    anomalies_workspace,
    latest_artifact,
    load_workspace_data,
    score_workspace,
    train_from_workspace,
)

__all__ = [
    "SCORE_CSV_COLUMNS",
    "ArtifactError",
    "ModelArtifact",
    "PastFailureRateBaseline",
    "PredictError",
    "ScoreReference",
    "ScoreResult",
    "TimeSplit",
    "TrainResult",
    "WeibullAgeBaseline",
    "anomalies_workspace",
    "anomaly_signatures",
    "binary_metrics",
    "build_features",
    "detect_anomalies",
    "evaluate",
    "evaluation_report",
    "feature_columns",
    "fit_lifetimes",
    "latest_artifact",
    "load_artifact",
    "load_workspace_data",
    "make_labels",
    "meter_signatures",
    "monthly_cutoffs",
    "remaining_life_years",
    "save_artifact",
    "score",
    "score_reference",
    "score_workspace",
    "time_split",
    "train",
    "train_from_workspace",
]
