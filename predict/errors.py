"""Errors of the predict stage: each names what was wrong and where."""

from __future__ import annotations

from asset_model import PatrimoineError


class PredictError(PatrimoineError):
    """Features, labels, training or scoring cannot proceed on the data given."""


class ArtifactError(PredictError):
    """A model artifact is missing, unreadable, or does not match the feature frame."""
