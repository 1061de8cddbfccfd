"""The model artifact: a folder a scorer can trust (DESIGN §5).

```
<models>/<timestamp>/
  model.txt          LightGBM text model (the local booster, best iteration only)
  features.json      ordered [{name, dtype, categories?}], checked against the frame at scoring
  calibration.json   Platt scaling fitted on the validation period: p = σ(a·logit(raw) + b)
  metadata.json      horizon, training window, split dates, channels, data sha256, versions
  metrics.json       held-out metrics for the model and each baseline
  baselines.json     Weibull age baseline and lifetime Weibulls (remaining life)
  report.md          the evaluation report
```
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

from predict import treeshap
from predict.errors import ArtifactError

#: Rows per call of the TreeSHAP tables: bounds the float64 input matrix (rows × features).
CHUNK = 65_536
FILES = ("model.txt", "features.json", "calibration.json", "metadata.json", "metrics.json")


def feature_spec(frame: pd.DataFrame, names: list[str]) -> list[dict[str, Any]]:
    """``[{name, dtype, categories?}]`` of ``names`` in ``frame``."""
    spec: list[dict[str, Any]] = []
    for n in names:
        s = frame[n]
        if isinstance(s.dtype, pd.CategoricalDtype):
            cats = [str(c) for c in s.cat.categories]
            spec.append({"name": n, "dtype": "category", "categories": cats})
        else:
            spec.append({"name": n, "dtype": "float64"})
    return spec


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-7, 1 - 1e-7)
    return np.log(p / (1 - p))


@dataclass(frozen=True)
class ModelArtifact:
    """A trained, calibrated model and what it needs to score a frame safely."""

    booster: lgb.Booster
    features: list[dict[str, Any]]
    calibration: dict[str, Any]
    metadata: dict[str, Any]
    metrics: dict[str, Any] = field(default_factory=dict)
    baselines: dict[str, Any] = field(default_factory=dict)
    report: str = ""
    path: Path | None = None

    @property
    def feature_names(self) -> list[str]:
        return [f["name"] for f in self.features]

    def check_features(self, frame: pd.DataFrame) -> None:
        """Raise :class:`ArtifactError` naming the first feature missing or of another kind."""
        for f in self.features:
            name = f["name"]
            if name not in frame.columns:
                raise ArtifactError(
                    f"feature {name!r} of the model is missing from the frame: the artifact "
                    f"was trained on another feature set (channels {self.metadata.get('channels')})"
                )
            is_cat = isinstance(frame[name].dtype, pd.CategoricalDtype)
            if is_cat != (f["dtype"] == "category"):
                raise ArtifactError(
                    f"feature {name!r} is {frame[name].dtype} in the frame but {f['dtype']} "
                    "in the artifact"
                )

    def matrix(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The model's columns, categoricals re-coded to the training levels (unknown → NaN)."""
        self.check_features(frame)
        data = {}
        for f in self.features:
            s = frame[f["name"]]
            if f["dtype"] == "category":
                s = pd.Categorical(s.astype("object"), categories=f["categories"])
            else:
                s = s.astype("float64")
            data[f["name"]] = s
        return pd.DataFrame(data, index=frame.index)

    def _input_columns(self, frame: pd.DataFrame) -> list[np.ndarray]:
        """Each model column as LightGBM reads it (float64; float columns are not copied).

        Categoricals become codes of the levels saved in model.txt (unknown or missing → NaN),
        as :meth:`matrix` then ``booster.predict`` make them.
        """
        self.check_features(frame)
        levels = iter(self.booster.pandas_categorical or [])
        cols = []
        for f in self.features:
            s = frame[f["name"]]
            if f["dtype"] != "category":
                cols.append(s.to_numpy(dtype=np.float64))
                continue
            # matrix() keeps the artifact's levels, then LightGBM re-codes to model.txt's:
            # code each distinct value once, then every row through its own category's code
            cat = s if isinstance(s.dtype, pd.CategoricalDtype) else s.astype("category")
            seen = pd.Index(cat.cat.categories.astype("object"))
            known = seen.isin(pd.Index(f["categories"], dtype="object"))
            target = pd.Index(next(levels, f["categories"]), dtype="object")
            code = np.where(known, target.get_indexer(seen), -1).astype(np.float64)
            code = np.append(np.where(code < 0, np.nan, code), np.nan)  # row code -1: missing
            cols.append(code[cat.cat.codes.to_numpy()])
        return cols

    def _input_chunks(self, frame: pd.DataFrame) -> Iterator[tuple[slice, np.ndarray]]:
        """LightGBM's input matrix of ``frame``, :data:`CHUNK` rows at a time (column-major)."""
        cols = self._input_columns(frame)
        for start in range(0, len(frame), CHUNK):
            rows = slice(start, min(start + CHUNK, len(frame)))
            x = np.empty((len(cols), rows.stop - rows.start))
            for j, col in enumerate(cols):
                x[j] = col[rows]
            yield rows, x.T

    def inputs(self, frame: pd.DataFrame) -> np.ndarray:
        """The float64 matrix (rows × model columns) LightGBM predicts ``frame`` from."""
        return np.array(self._input_columns(frame)).T.reshape(len(frame), len(self.features))

    def offset(self, frame: pd.DataFrame) -> np.ndarray:
        """Log-odds the trees boost from: the Weibull age baseline's risk (0 when absent)."""
        if self.metadata.get("init_score") != "weibull_age" or "weibull_age" not in self.baselines:
            return np.zeros(len(frame))
        from predict.baselines import WeibullAgeBaseline

        base = WeibullAgeBaseline.from_json(self.baselines["weibull_age"])
        return _logit(base.predict_proba(frame)[:, 1])

    def raw_score(self, frame: pd.DataFrame) -> np.ndarray:
        """The trees' raw score (log-odds, without the offset), LightGBM's bit for bit.

        From the TreeSHAP tables of :mod:`predict.treeshap` in chunks when they cover the
        model, else from ``booster.predict``.
        """
        tables = treeshap.compile_booster(self.booster)
        if tables is None:
            raw = self.booster.predict(self.matrix(frame), raw_score=True)
            return np.asarray(raw, dtype=np.float64)
        raw = np.empty(len(frame))
        for rows, x in self._input_chunks(frame):
            raw[rows] = treeshap.raw_scores(tables, x)
        return raw

    def raw_probability(self, frame: pd.DataFrame) -> np.ndarray:
        """Uncalibrated probability: σ(trees' raw score + the age-baseline offset)."""
        return _sigmoid(self.raw_score(frame) + self.offset(frame))

    def probability(self, raw_score: np.ndarray, offset: np.ndarray) -> np.ndarray:
        """Calibrated probability from the trees' raw score and the offset (see predict_proba)."""
        return self.calibrate(_sigmoid(raw_score + offset))

    def calibrate(self, raw: np.ndarray) -> np.ndarray:
        a, b = float(self.calibration["a"]), float(self.calibration["b"])
        return _sigmoid(a * _logit(raw) + b)

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        """Calibrated probability of a failure within the horizon, one per row."""
        return self.probability(self.raw_score(frame), self.offset(frame))

    def _category_credit(
        self, frame: pd.DataFrame, offset_median: float | None, offset: np.ndarray | None = None
    ) -> tuple[np.ndarray | None, int]:
        """The age baseline's offset relative to the median asset, and ``category``'s column."""
        off = self.offset(frame) if offset is None else offset
        if not off.any() or "category" not in self.feature_names:
            return None, -1
        ref = float(np.median(off)) if offset_median is None else offset_median
        return off - ref, self.feature_names.index("category")

    def contributions(
        self, frame: pd.DataFrame, *, offset_median: float | None = None
    ) -> pd.DataFrame:
        """Per-feature TreeSHAP contributions (log-odds), LightGBM's ``pred_contrib`` less bias.

        Exact path-dependent TreeSHAP from :mod:`predict.treeshap`'s tables (LightGBM's
        ``pred_contrib`` for models they do not cover). The age baseline's offset is credited
        to ``category`` relative to ``offset_median`` (default: the median over ``frame``;
        pass the whole stock's when scoring in chunks).
        """
        c = self._contributions(frame)
        credit, col = self._category_credit(frame, offset_median)
        if credit is not None:
            # the category/age baseline the trees start from, relative to the median asset
            c[:, col] += credit
        return pd.DataFrame(c, columns=self.feature_names, index=frame.index)

    def _contributions(self, frame: pd.DataFrame) -> np.ndarray:
        """The trees' contributions, rows × features (no bias column, no offset)."""
        tables = treeshap.compile_booster(self.booster)
        if tables is None:
            c = self.booster.predict(self.matrix(frame), pred_contrib=True)
        else:
            c = treeshap.contributions(tables, self.inputs(frame))
        return np.asarray(c)[:, :-1]

    def top_contributions(
        self,
        frame: pd.DataFrame,
        *,
        k: int = 3,
        offset_median: float | None = None,
        offset: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The trees' raw score, and each row's ``k`` largest :meth:`contributions`.

        Returns ``(raw_score, columns, values)``, the last two rows × k and sorted (ties rank
        the lower column first, as a stable sort). With the TreeSHAP tables it is one pass
        over the trees and the rows × features matrix is never built. ``offset`` is
        :meth:`offset` of ``frame`` when the caller already has it.
        """
        n = len(frame)
        k = min(k, len(self.features))
        raw, order, top = np.empty(n), np.empty((n, k), np.int64), np.empty((n, k))
        credit, col = self._category_credit(frame, offset_median, offset)
        tables = treeshap.compile_booster(self.booster)
        if tables is None:
            for start in range(0, n, CHUNK):  # pred_contrib's matrix: rows × features
                rows = slice(start, start + CHUNK)
                c = self._contributions(frame.iloc[rows])
                if credit is not None:
                    c[:, col] += credit[rows]
                order[rows] = np.argsort(-c, axis=1, kind="stable")[:, :k]
                top[rows] = np.take_along_axis(c, order[rows], axis=1)
                raw[rows] = self.raw_score(frame.iloc[rows])
            return raw, order, top
        for rows, x in self._input_chunks(frame):
            part = None if credit is None else credit[rows]
            raw[rows], order[rows], top[rows] = treeshap.top_contributions(tables, x, k, part, col)
        return raw, order, top


def save_artifact(artifact: ModelArtifact, folder: Path) -> ModelArtifact:
    """Write the artifact folder (created) and return the artifact with its ``path`` set."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    artifact.booster.save_model(str(folder / "model.txt"))

    def dump(name: str, obj: Any) -> None:
        (folder / name).write_text(json.dumps(obj, indent=2, default=str), encoding="utf-8")

    dump("features.json", artifact.features)
    dump("calibration.json", artifact.calibration)
    dump("metadata.json", artifact.metadata)
    dump("metrics.json", artifact.metrics)
    dump("baselines.json", artifact.baselines)
    (folder / "report.md").write_text(artifact.report, encoding="utf-8")
    return ModelArtifact(**{**artifact.__dict__, "path": folder})


def load_artifact(folder: Path | str, frame: pd.DataFrame | None = None) -> ModelArtifact:
    """Read an artifact folder; check its parts agree (and fit ``frame`` when given).

    Raises :class:`ArtifactError` naming the missing file or the first mismatching feature;
    warns when the LightGBM version differs from the one that trained it.
    """
    folder = Path(folder)
    for name in FILES:
        if not (folder / name).is_file():
            raise ArtifactError(f"{folder}: not a model artifact ({name} is missing)")
    try:
        booster = lgb.Booster(model_file=str(folder / "model.txt"))

        def read(name: str, default: Any = None) -> Any:
            p = folder / name
            return json.loads(p.read_text(encoding="utf-8")) if p.is_file() else default

        features = read("features.json")
        calibration = read("calibration.json")
        metadata = read("metadata.json")
        metrics = read("metrics.json")
        baselines = read("baselines.json", {})
    except (lgb.basic.LightGBMError, json.JSONDecodeError, OSError) as err:
        raise ArtifactError(f"{folder}: unreadable model artifact: {err}") from err
    names = [f["name"] for f in features]
    for i, (a, b) in enumerate(zip(booster.feature_name(), names, strict=False)):
        if a != b:
            raise ArtifactError(
                f"{folder}: model.txt feature {i} is {a!r} but features.json says {b!r}"
            )
    if len(booster.feature_name()) != len(names):
        raise ArtifactError(
            f"{folder}: model.txt has {len(booster.feature_name())} features, "
            f"features.json {len(names)}"
        )
    trained_with = metadata.get("versions", {}).get("lightgbm")
    if trained_with and trained_with != lgb.__version__:
        warnings.warn(
            f"{folder} was trained with LightGBM {trained_with}, this is {lgb.__version__}",
            UserWarning,
            stacklevel=2,
        )
    report = (
        (folder / "report.md").read_text(encoding="utf-8")
        if (folder / "report.md").is_file()
        else ""
    )
    art = ModelArtifact(
        booster=booster,
        features=features,
        calibration=calibration,
        metadata=metadata,
        metrics=metrics,
        baselines=baselines,
        report=report,
        path=folder,
    )
    if frame is not None:
        art.check_features(frame)
    return art
