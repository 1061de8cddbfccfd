"""Feature families (one pandas function each) and :func:`build_features`, which wires them."""

from predict.features.build import build_features, feature_columns, monthly_cutoffs

__all__ = ["build_features", "feature_columns", "monthly_cutoffs"]
