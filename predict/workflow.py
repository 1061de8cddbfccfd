"""One call per CLI verb: read the workspace, run the stage, write artifact/rows back.

The session, the readings folder, the models folder and the Dask client are passed in by the
composition root (CLI, demo); nothing here reads settings or the environment.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import shutil
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from asset_model import (
    assets_frame,
    buildings_frame,
    dwellings_frame,
    insert_rows,
    work_orders_frame,
)
from asset_model.models import Asset, Building, MaintenanceEvent, ModelRun, RiskScore, Site
from asset_model.readings_footers import (
    RowGroup,
    footer_groups,
    readings_channels,
    readings_span,
)
from asset_model.readings_store import N_BUCKETS, read_readings
from predict.anomalies import (
    DEFAULT_PRICE_EUR_PER_KWH,
    ENERGY_CHANNEL,
    anomaly_signatures,
    detect_anomalies,
    meters_frame,
)
from predict.artifact import ModelArtifact, load_artifact, save_artifact
from predict.errors import ArtifactError, PredictError
from predict.features.build import WEATHER_CHANNELS, build_features, monthly_cutoffs, weather_inputs
from predict.features.readings import LOOKBACK_DAYS
from predict.features.store import (
    ASSET_INPUTS,
    WORK_ORDER_INPUTS,
    FeatureStore,
    PartitionMap,
    ReadAhead,
    features_at,
    read_ahead,
    warm_workers,
    write_feature_store,
)
from predict.labels import time_split
from predict.sampling import NegativeSample, sample_rate
from predict.scoring import REFERENCE_COLUMNS, score, score_reference
from predict.survival import fit_lifetimes
from predict.train_store import train_from_store

#: History needed before the first training cutoff (so the first rows have some past).
WARMUP_DAYS = 90
#: Training rows kept at most (about): above it negatives are sampled (:mod:`predict.sampling`).
MAX_TRAINING_ROWS = 1_000_000
#: Assets per feature-store partition, training (many cutoffs) and scoring (one). A partition
#: reads its assets' readings over the span its cutoffs need: one cutoff needs a year where
#: training reads the whole history, so a scoring partition holds more assets for as much
#: memory, and fewer tasks save each task's fixed cost (~0.5 s of per-column pandas work:
#: 64 tasks made a third of pass 1 on a 1 M-asset stock).
ASSETS_PER_PARTITION = 10_000
ASSETS_PER_SCORING_PARTITION = 60_000
#: The registry columns predict reads: the features' and labels', and the score CSV's.
LOAD_ASSET_COLUMNS = [*ASSET_INPUTS, "asset_tag", "building"]
SCORE_CSV_COLUMNS = [
    "asset_ref",
    "asset_tag",
    "category",
    "building",
    "p_failure",
    "remaining_life_years",
    "drivers",
]


@dataclass(frozen=True)
class WorkspaceData:
    """The registry frames and readings predict needs, read once."""

    assets: pd.DataFrame
    work_orders: pd.DataFrame
    buildings: pd.DataFrame
    dju: pd.DataFrame | None
    weather_key: pd.Series | None
    channels: list[str]
    history_start: pd.Timestamp
    history_end: pd.Timestamp


def _naive(s: pd.Series) -> pd.Series:
    s = pd.to_datetime(s)
    if getattr(s.dt, "tz", None) is not None:
        s = s.dt.tz_convert("UTC").dt.tz_localize(None)
    return s


def _site_of_building(session: Session) -> dict[str, str]:
    stmt = select(Building.global_id, Site.global_id).join(Site, Building.site_id == Site.id)
    return {str(b): str(s) for b, s in session.execute(stmt).all()}


@dataclass(frozen=True)
class _ReadingsSide:
    channels: list[str]
    weather: pd.DataFrame
    span: tuple[Any, Any]


def _readings_side(readings_dir: Path, footers: list[RowGroup] | None) -> _ReadingsSide:
    """What the load takes from the readings store: channels, weather rows and the span."""
    # read once for the channels and the span
    groups = footer_groups(readings_dir) if footers is None else footers
    found = readings_channels(readings_dir, groups=groups)
    channels = [c for c in found if c not in WEATHER_CHANNELS]
    # here, not on a cluster, whose workers may be busy reading ahead
    weather = read_readings(readings_dir, channels=list(WEATHER_CHANNELS)).compute(scheduler="sync")
    span = readings_span(readings_dir, channels, groups=groups) if channels else (None, None)
    return _ReadingsSide(channels, weather, span)


def load_workspace_data(
    session: Session, readings_dir: Path, *, footers: list[RowGroup] | None = None
) -> WorkspaceData:
    """Assets, work orders (keyed by the asset's ``asset_ref``), weather and the history span.

    Only the registry columns predict reads (:data:`LOAD_ASSET_COLUMNS`, and the work orders'
    ``asset_id, asset_ref, kind, opened_at``): on a million assets the other columns and their
    joins were half of the load. The readings store's side (footers, weather) is read in a
    thread meanwhile: Arrow works while the registry's rows are turned into Python.
    ``footers``: the readings store's :func:`footer_groups`, when the caller has read them."""
    with ThreadPoolExecutor(1) as pool:
        side = pool.submit(_readings_side, readings_dir, footers)
        assets = assets_frame(session, columns=LOAD_ASSET_COLUMNS)
        if assets.empty:
            raise PredictError("the registry has no assets: ingest IFC files first")
        wo = work_orders_frame(session, columns=["asset_id", "kind", "opened_at"])
        ref_of = assets.set_index("asset_id")["asset_ref"]
        wo = wo.assign(
            asset_ref=wo["asset_id"].map(ref_of).astype("str"), opened_at=_naive(wo["opened_at"])
        )[WORK_ORDER_INPUTS]
        site_of = _site_of_building(session)
        buildings = buildings_frame(session)
        readings = side.result()
    channels = readings.channels
    dju, key = weather_inputs(readings.weather, assets, site_of)
    starts, ends = [], []
    if len(wo):
        starts.append(wo["opened_at"].min())
        ends.append(wo["opened_at"].max())
    lo, hi = readings.span
    if lo is not None:
        starts.append(lo)
        ends.append(hi)
    if not starts:
        raise PredictError("no work orders and no readings: there is no history to learn from")
    return WorkspaceData(
        assets=assets,
        work_orders=wo,
        buildings=buildings,
        dju=dju,
        weather_key=key,
        channels=channels,
        history_start=pd.Timestamp(min(starts)).normalize(),
        history_end=pd.Timestamp(max(ends)).normalize() + pd.Timedelta(days=1),
    )


def _features(
    data: WorkspaceData, readings_dir: Path, cutoffs: list[pd.Timestamp], client: Any, **kw: Any
) -> pd.DataFrame:
    readings = None
    if data.channels:
        readings = read_readings(
            readings_dir,
            channels=data.channels,
            start=min(cutoffs) - pd.Timedelta(days=LOOKBACK_DAYS),
            end=max(cutoffs) - pd.Timedelta(days=1),
        )
    return build_features(
        data.assets,
        data.work_orders,
        readings,
        cutoffs,
        buildings=data.buildings,
        channels=data.channels,
        dju=data.dju,
        weather_key=data.weather_key,
        client=client,
        **kw,
    )


def store_partitions(n_assets: int, assets_per_partition: int = ASSETS_PER_PARTITION) -> int:
    """Feature-store partitions for a stock: about ``assets_per_partition`` assets each, the
    nearest power of two (so each holds as many readings buckets), at most one per bucket."""
    wanted = max(n_assets / assets_per_partition, 1.0)
    return min(N_BUCKETS, 1 << round(np.log2(wanted)))


@contextlib.contextmanager
def _store_folder(store_dir: Path | None, models_dir: Path) -> Iterator[Path]:
    """The given folder (kept), or a temporary one under ``models_dir`` (removed after)."""
    if store_dir is not None:
        yield Path(store_dir)
        return
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    folder = Path(models_dir) / f".feature-store-{stamp}"
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _store_inputs(
    data: WorkspaceData, readings_dir: Path, assets_per_partition: int = ASSETS_PER_PARTITION
) -> dict[str, Any]:
    """What the feature store reads of the workspace (training and scoring alike)."""
    return {
        "assets": data.assets,
        "work_orders": data.work_orders,
        "readings_dir": readings_dir if data.channels else None,
        "channels": data.channels,
        "buildings": data.buildings,
        "dju": data.dju,
        "weather_key": data.weather_key,
        "partitions": store_partitions(len(data.assets), assets_per_partition),
    }


def write_store(
    folder: Path,
    data: WorkspaceData,
    readings_dir: Path,
    cutoffs: Sequence[pd.Timestamp],
    client: Any,
    **kw: Any,
) -> FeatureStore:
    """The workspace's features at ``cutoffs``, partition by partition (see the feature store)."""
    return write_feature_store(
        folder, cutoffs=cutoffs, client=client, **_store_inputs(data, readings_dir), **kw
    )


def asof_frame(
    folder: Path,
    data: WorkspaceData,
    readings_dir: Path,
    cutoff: pd.Timestamp,
    client: Any,
    ahead: ReadAhead | None = None,
    apply: PartitionMap | None = None,
) -> pd.DataFrame:
    """Features of every asset of ``data`` at ``cutoff`` (installed or not, as scoring needs),
    rows in no particular order: pass 1 through a feature store in ``folder``, then straight
    to the frame (:func:`~predict.features.store.features_at`), or through ``apply``."""
    inputs = _store_inputs(data, readings_dir, ASSETS_PER_SCORING_PARTITION)
    return features_at(
        folder,
        cutoff=cutoff,
        client=client,
        drop_uninstalled=False,
        ordered=False,
        ahead=ahead,
        apply=apply,
        **inputs,
    )


def read_ahead_for_scoring(
    session: Session,
    readings_dir: Path,
    artifact: ModelArtifact,
    as_of: Any,
    client: Any,
    *,
    footers: list[RowGroup] | None = None,
) -> ReadAhead | None:
    """Start reading the readings of the as-of window on the workers, before the registry is
    loaded (the load left the workers idle for a fifth of scoring a million assets).

    The cutoff and the partitions are worked out as scoring will (as-of date, else the day
    after the last reading or work order; active assets) from two small queries and the
    readings ``footers`` (read here when not given); where they turn out otherwise, pass 1
    reads for itself."""
    channels = [c for c in artifact.metadata.get("channels", []) if c not in WEATHER_CHANNELS]
    if client is None or not channels:
        return None
    active = session.scalar(select(func.count()).where(Asset.status == "active")) or 0
    if as_of is not None:
        cutoff = pd.Timestamp(as_of).normalize()
    else:
        attached = MaintenanceEvent.asset_id.is_not(None)  # as the load's work orders
        last = select(func.max(MaintenanceEvent.opened_at)).where(attached)
        ends = [readings_span(readings_dir, channels, groups=footers)[1], session.scalar(last)]
        ends = [_naive(pd.Series([e])).iloc[0] for e in ends if e is not None]
        if not ends:
            return None
        cutoff = max(ends).normalize() + pd.Timedelta(days=1)
    partitions = store_partitions(active, ASSETS_PER_SCORING_PARTITION)
    return read_ahead(client, readings_dir, channels, cutoff, partitions)


@dataclass(frozen=True)
class TrainResult:
    artifact: ModelArtifact
    model_run_id: int
    report_path: Path


def train_from_workspace(
    session: Session,
    readings_dir: Path,
    models_dir: Path,
    *,
    horizon_days: int = 90,
    as_of: Any = None,
    client: Any = None,
    num_threads: int | None = None,
    random_state: int = 0,
    max_training_rows: int | None = MAX_TRAINING_ROWS,
    store_dir: Path | None = None,
) -> TrainResult:
    """Features, labels, split, LightGBM + baselines, artifact folder, ``ModelRun`` row.

    ``as_of`` (default: the day after the latest work order or reading) ends the history used.
    The artifact goes to ``models_dir/<UTC timestamp>/`` with ``report.md``. Features are
    computed partition by partition into a feature store (``store_dir``, kept; default a
    temporary folder under ``models_dir``). When the asset-months exceed
    ``max_training_rows``, training keeps every positive and a seeded sample of the negatives,
    and the model is evaluated on every row of the test period (:mod:`predict.sampling`).
    """
    if not isinstance(horizon_days, int) or horizon_days <= 0:
        raise PredictError(f"`horizon_days` must be a positive int. Got {horizon_days!r}.")
    warm_workers(client)
    data = load_workspace_data(session, readings_dir)
    end = pd.Timestamp(as_of).normalize() if as_of is not None else data.history_end
    wo = data.work_orders[data.work_orders["opened_at"] < end]
    data = WorkspaceData(**{**data.__dict__, "work_orders": wo, "history_end": end})
    last = end - pd.Timedelta(days=horizon_days)
    cutoffs = monthly_cutoffs(data.history_start + pd.Timedelta(days=WARMUP_DAYS), last)
    split = time_split(cutoffs, horizon_days=horizon_days)
    used = sorted(set(split.train) | set(split.valid) | set(split.test))
    rate = sample_rate(len(data.assets) * len(used), max_training_rows)
    sample = NegativeSample(
        rate=rate, seed=random_state, full_cutoffs=tuple(split.test) if rate < 1 else ()
    )
    meta = {
        "channels": data.channels,
        "weather": data.dju is not None,
        "history_start": str(data.history_start.date()),
        "history_end": str(end.date()),
    }
    with _store_folder(store_dir, models_dir) as folder:
        store = write_store(
            folder,
            data,
            readings_dir,
            used,
            client,
            horizon_days=horizon_days,
            history_end=end,
            sample=sample,
        )
        artifact = train_from_store(
            store,
            split,
            horizon_days=horizon_days,
            client=client,
            num_threads=num_threads,
            random_state=random_state,
            metadata=meta,
        )
    artifact.baselines["lifetimes"] = fit_lifetimes(
        data.assets, wo, end, observed_from=data.history_start
    )
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    saved = save_artifact(artifact, Path(models_dir) / stamp)
    overall = {name: _summary(m["overall"]) for name, m in artifact.metrics.items()}
    run = ModelRun(
        artifact_path=str(saved.path),
        horizon_days=horizon_days,
        train_start=split.train[0].date(),
        train_end=split.train[-1].date(),
        data_sha256=artifact.metadata["data_sha256"],
        metrics=overall,
    )
    session.add(run)
    session.flush()
    assert saved.path is not None
    return TrainResult(artifact=saved, model_run_id=run.id, report_path=saved.path / "report.md")


def _summary(m: dict[str, Any]) -> dict[str, Any]:
    return {
        k: (None if isinstance(v, float) and not np.isfinite(v) else v)
        for k, v in m.items()
        if k != "reliability"
    }


def latest_artifact(models_dir: Path) -> Path:
    """The newest artifact folder under ``models_dir`` (names are UTC timestamps)."""
    found = sorted(p for p in Path(models_dir).glob("*") if (p / "model.txt").is_file())
    if not found:
        raise ArtifactError(f"no trained model under {models_dir}: run `patrimoine train` first")
    return found[-1]


def asof_features(
    folder: Path,
    data: WorkspaceData,
    artifact: ModelArtifact,
    readings_dir: Path,
    cutoff: pd.Timestamp,
    client: Any,
    ahead: ReadAhead | None = None,
    apply: PartitionMap | None = None,
) -> pd.DataFrame:
    """Features of every active asset at ``cutoff``, built as ``artifact`` was trained (its
    channels, with or without weather), through a feature store in ``folder``; rows in no
    particular order. With ``apply``, what it returns of each partition's features."""
    channels = list(artifact.metadata.get("channels", data.channels))
    active = data.assets[data.assets["status"] == "active"].reset_index(drop=True)
    scoped = WorkspaceData(**{**data.__dict__, "assets": active, "channels": channels})
    if not artifact.metadata.get("weather", False):
        # trained without weather: build without it so the features match the artifact
        scoped = WorkspaceData(**{**scoped.__dict__, "dju": None, "weather_key": None})
    features = asof_frame(folder, scoped, readings_dir, cutoff, client, ahead, apply)
    if apply is None:
        artifact.check_features(features)
    return features


def _score_part(artifact: ModelArtifact, features: pd.DataFrame, reference: Any) -> pd.DataFrame:
    return score(artifact, features, reference=reference)


def scoring_map(artifact: ModelArtifact) -> PartitionMap:
    """Scoring with every driver worded, partition by partition on the workers: the stock's
    :class:`~predict.scoring.ScoreReference` first, from a few columns of every row."""
    return PartitionMap(
        fn=functools.partial(_score_part, artifact),
        columns=REFERENCE_COLUMNS,
        prepare=functools.partial(score_reference, artifact),
    )


@dataclass(frozen=True)
class ScoreResult:
    scores: pd.DataFrame  # SCORE_CSV_COLUMNS
    model_run_id: int
    as_of: pd.Timestamp


def score_workspace(
    session: Session,
    readings_dir: Path,
    models_dir: Path,
    *,
    as_of: Any = None,
    artifact_path: Path | None = None,
    client: Any = None,
    store_dir: Path | None = None,
    drivers_share: float = 1.0,
) -> ScoreResult:
    """Score every active asset at ``as_of`` and write one ``RiskScore`` row per asset.

    ``as_of`` defaults to the day after the latest data. Assets without readings or history
    are scored too (their window features are missing, which the model handles). Features
    go through the feature store as in training (``store_dir``: see
    :func:`train_from_workspace`). ``drivers_share`` < 1 words the drivers of only that share
    of the assets, the riskiest (``pred_contrib`` is most of the cost on a large stock).
    """
    path = Path(artifact_path) if artifact_path else latest_artifact(models_dir)
    artifact = load_artifact(path)
    warm_workers(client)
    footers = footer_groups(readings_dir)  # once, for the read-ahead and the load
    ahead = read_ahead_for_scoring(session, readings_dir, artifact, as_of, client, footers=footers)
    data = load_workspace_data(session, readings_dir, footers=footers)
    cutoff = pd.Timestamp(as_of).normalize() if as_of is not None else data.history_end
    active = data.assets[data.assets["status"] == "active"].reset_index(drop=True)
    with _store_folder(store_dir, models_dir) as folder:
        if drivers_share >= 1.0:  # on the workers: the features are never gathered here
            every = scoring_map(artifact)
            scores = asof_features(
                folder, data, artifact, readings_dir, cutoff, client, ahead, every
            )
        else:  # the riskiest share of the whole stock: every probability first
            features = asof_features(folder, data, artifact, readings_dir, cutoff, client, ahead)
            scores = score(artifact, features, drivers_share=drivers_share)
    del ahead  # its futures: the workers free the readings
    run_id = session.scalar(
        select(ModelRun.id).where(ModelRun.artifact_path == str(path)).order_by(ModelRun.id.desc())
    )
    if run_id is None:
        run = ModelRun(
            artifact_path=str(path),
            horizon_days=int(artifact.metadata.get("horizon_days", 90)),
            data_sha256=artifact.metadata.get("data_sha256"),
        )
        session.add(run)
        session.flush()
        run_id = run.id
    horizon = int(artifact.metadata.get("horizon_days", 90))
    write_risk_scores(session, scores, model_run_id=run_id, as_of=cutoff, horizon_days=horizon)
    info = active.set_index("asset_id")[["asset_tag", "category", "building"]]
    out = scores.join(info, on="asset_id")[SCORE_CSV_COLUMNS]
    # by asset_ref, as the features were before: the few output columns, not the ~200 inputs
    out = out.take(out["asset_ref"].argsort(kind="stable").to_numpy()).reset_index(drop=True)
    return ScoreResult(scores=out, model_run_id=run_id, as_of=cutoff)


def write_risk_scores(
    session: Session,
    scores: pd.DataFrame,
    *,
    model_run_id: int,
    as_of: pd.Timestamp,
    horizon_days: int,
) -> None:
    """Replace the ``RiskScore`` rows of this model run and date by ``scores`` (``asset_id``,
    ``p_failure``, ``remaining_life_years``, ``drivers``): scoring the same day again
    replaces, never duplicates."""
    day = pd.Timestamp(as_of).date()
    session.execute(
        delete(RiskScore).where(RiskScore.model_run_id == model_run_id, RiskScore.as_of == day)
    )
    # in asset order: the indexes on asset_id then grow at their end; in the frame's
    # (asset_ref) order every row landed on a random page (45 s instead of 11 s for 1 M rows)
    scores = scores.sort_values("asset_id", kind="stable")
    n = len(scores)
    insert_rows(  # tuples or COPY: SQLAlchemy's per-row dicts cost as much as the writes
        session,
        RiskScore.__table__,
        {
            "model_run_id": np.full(n, model_run_id),
            "asset_id": scores["asset_id"].to_numpy(dtype=np.int64),
            "as_of": np.full(n, day.isoformat(), dtype=object),
            "horizon_days": np.full(n, horizon_days),
            "p_failure": scores["p_failure"].to_numpy(dtype=np.float64),
            "remaining_life_years": scores["remaining_life_years"].to_numpy(dtype=np.float64),
            "drivers": scores["drivers"].astype("str").str.slice(0, 1024).to_numpy(dtype=object),
        },
    )


def anomalies_workspace(
    session: Session,
    readings_dir: Path,
    *,
    as_of: Any = None,
    price_eur_per_kwh: float = DEFAULT_PRICE_EUR_PER_KWH,
    min_peers: int = 6,
    client: Any = None,
) -> pd.DataFrame:
    """Every dwelling and equipment meter with ``energy_kwh``, scored against its peers."""
    assets = assets_frame(session, active_only=True)
    dwellings = dwellings_frame(session)
    site_of = _site_of_building(session)
    weather = read_readings(readings_dir, channels=list(WEATHER_CHANNELS)).compute()
    # dwellings take their building's weather: describe them as pseudo-assets for the key map
    bref = buildings_frame(session).set_index("building_id")["building_ref"]
    pseudo = pd.concat(
        [
            assets[["asset_ref", "building_ref"]],
            pd.DataFrame(
                {
                    "asset_ref": dwellings["dwelling_ref"].astype("str"),
                    "building_ref": dwellings["building_id"].map(bref),
                }
            ),
        ],
        ignore_index=True,
    )
    dju, key = weather_inputs(weather, pseudo, site_of)
    energy = read_readings(readings_dir, channels=[ENERGY_CHANNEL])
    if as_of is None:
        last = energy["day"].max().compute()
        if pd.isna(last):
            raise PredictError(f"no {ENERGY_CHANNEL} readings in {readings_dir}")
        as_of = pd.Timestamp(last) + pd.Timedelta(days=1)
    sig = anomaly_signatures(energy, pd.Timestamp(as_of), dju=dju, weather_key=key, client=client)
    return detect_anomalies(
        sig,
        meters_frame(assets, dwellings),
        min_peers=min_peers,
        price_eur_per_kwh=price_eur_per_kwh,
    )
