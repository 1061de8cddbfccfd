from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from asset_model.models import ModelRun, RiskScore
from predict import (
    ArtifactError,
    PredictError,
    load_artifact,
    save_artifact,
    score_workspace,
    train,
    train_from_workspace,
)

pytestmark = [
    pytest.mark.filterwarnings("ignore:Port .* is already in use:UserWarning"),
    # lightgbm.dask always warns that it overrides n_jobs with each worker's threads
    pytest.mark.filterwarnings("ignore:Parameter n_jobs will be ignored:UserWarning"),
]


def test_local_training_reports_model_and_baselines(local_artifact):
    m = local_artifact.metrics
    assert set(m) == {"model", "weibull_age", "past_failure_rate"}
    for entry in m.values():
        o = entry["overall"]
        assert 0 <= o["pr_auc"] <= 1
        assert 0 <= o["roc_auc"] <= 1
        assert 0 <= o["ece"] <= 1
        assert len(o["reliability"]) == 10
    assert "boiler" in m["model"]["by_category"]
    assert "PR-AUC" in local_artifact.report
    assert "Reliability" in local_artifact.report


def test_training_from_the_mean_rate_instead_of_the_age_baseline(tmp_path, frames):
    features, labels, split, _ = frames
    art = train(features, labels, split, num_threads=1, boost_from_age=False)
    assert art.metadata["init_score"] == "none"
    assert not art.offset(features).any()  # scoring adds no age offset back
    save_artifact(art, tmp_path / "m")
    loaded = load_artifact(tmp_path / "m", features)
    np.testing.assert_allclose(loaded.predict_proba(features), art.predict_proba(features))


def test_cluster_training_matches_local_training(frames, local_artifact, cluster_client):
    features, labels, split, _ = frames
    dask_art = train(features, labels, split, client=cluster_client, num_threads=1)
    assert dask_art.metadata["trained_on"] == "dask"
    test_rows = features[split.period_of(features["cutoff"]) == "test"]
    p_local = local_artifact.raw_probability(test_rows)
    p_dask = dask_art.raw_probability(test_rows)
    # data-parallel LightGBM bins each worker's data: same model up to small differences
    assert np.corrcoef(p_local, p_dask)[0, 1] > 0.9
    assert np.abs(p_local - p_dask).mean() < 0.05


def test_artifact_round_trip(tmp_path, frames, local_artifact):
    features = frames[0]
    saved = save_artifact(local_artifact, tmp_path / "m")
    loaded = load_artifact(tmp_path / "m", features)
    np.testing.assert_array_equal(
        loaded.predict_proba(features), local_artifact.predict_proba(features)
    )
    cats = {f["name"]: f.get("categories") for f in loaded.features}
    assert cats["category"] == [str(c) for c in features["category"].cat.categories]
    assert loaded.calibration == saved.calibration
    assert json.loads((tmp_path / "m" / "metadata.json").read_text())["horizon_days"] == 90


def test_artifact_from_another_feature_set_is_refused(tmp_path, frames, local_artifact):
    features = frames[0]
    save_artifact(local_artifact, tmp_path / "m")
    other = features.drop(columns=[c for c in features.columns if c.startswith("door_reopens")])
    with pytest.raises(
        ArtifactError, match="feature 'door_reopens__mean7' of the model is missing"
    ):
        load_artifact(tmp_path / "m", other)
    (tmp_path / "m" / "features.json").write_text(json.dumps([{"name": "x", "dtype": "float64"}]))
    with pytest.raises(ArtifactError, match="model.txt feature 0 is 'age_years'"):
        load_artifact(tmp_path / "m")


def test_not_an_artifact(tmp_path):
    with pytest.raises(ArtifactError, match="model.txt is missing"):
        load_artifact(tmp_path)


def test_train_and_score_the_workspace(world_ws, tmp_path):
    ws, info = world_ws
    with ws.session() as session:
        result = train_from_workspace(session, ws.readings_dir, ws.models_dir, num_threads=1)
    assert result.report_path.is_file()
    with ws.session() as session:
        run = session.get(ModelRun, result.model_run_id)
        assert run.artifact_path == str(result.artifact.path)
        assert "model" in run.metrics
    with ws.session() as session:
        scored = score_workspace(session, ws.readings_dir, ws.models_dir)
    s = scored.scores
    assert len(s) == info["assets"]  # every active asset, the lone roof included
    assert s["p_failure"].between(0, 1).all()
    assert (s["remaining_life_years"] > 0).all()
    assert s["drivers"].str.len().gt(0).all()
    pumps = s[s["category"] == "pump"]  # no readings at all, unknown age
    assert len(pumps) == 4
    assert pumps["p_failure"].notna().all()
    with ws.session() as session:
        n = session.scalar(
            select(func.count(RiskScore.id)).where(RiskScore.model_run_id == scored.model_run_id)
        )
    assert n == len(s)
    # scoring again on the same date replaces the rows instead of failing on uniqueness
    with ws.session() as session:
        score_workspace(session, ws.readings_dir, ws.models_dir)


def test_scoring_on_the_workers_equals_scoring_the_gathered_features(
    world_ws, tmp_path, cluster_client
):
    # on a cluster each partition is scored where its features are (read ahead, never
    # gathered), with the whole stock's reference: the same scores as the whole frame's
    from predict.scoring import score
    from predict.workflow import asof_features, latest_artifact, load_workspace_data

    ws, info = world_ws
    models = tmp_path / "models"
    with ws.session() as session:
        train_from_workspace(session, ws.readings_dir, models, num_threads=1)
        got = score_workspace(session, ws.readings_dir, models, client=cluster_client).scores
        data = load_workspace_data(session, ws.readings_dir)
    art = load_artifact(latest_artifact(models))
    features = asof_features(tmp_path / "f", data, art, ws.readings_dir, data.history_end, None)
    want = score(art, features).set_index("asset_ref")
    assert len(got) == info["assets"]
    assert got["asset_ref"].is_monotonic_increasing
    got = got.set_index("asset_ref")
    cols = ["p_failure", "remaining_life_years", "drivers"]
    pd.testing.assert_frame_equal(got[cols], want.loc[got.index, cols], check_exact=True)
    assert got["drivers"].str.len().gt(0).all()


def test_cli_train_score_anomalies(world_ws, tmp_path):
    from patrimoine.cli import cli

    ws, info = world_ws
    runner = CliRunner()
    base = ["--workspace", str(ws.root)]
    r = runner.invoke(cli, [*base, "train", "--no-cluster"])
    assert r.exit_code == 0, r.output
    assert "PR-AUC" in r.output
    out = tmp_path / "scores.csv"
    r = runner.invoke(cli, [*base, "score", "--no-cluster", "--out", str(out)])
    assert r.exit_code == 0, r.output
    csv = pd.read_csv(out)
    assert list(csv.columns) == [
        "asset_ref",
        "asset_tag",
        "category",
        "building",
        "p_failure",
        "remaining_life_years",
        "drivers",
    ]
    assert len(csv) == info["assets"]
    an = tmp_path / "anomalies.csv"
    r = runner.invoke(cli, [*base, "anomalies", "--out", str(an)])
    assert r.exit_code == 0, r.output
    flagged = pd.read_csv(an)
    # the dwelling that heats three times its peers is flagged, with a heating reason
    first = flagged[flagged["meter_ref"] == "D" + "0" * 21]
    assert len(first) == 1
    assert first["excess_kwh"].iloc[0] > 0
    assert "heating" in first["reason"].iloc[0]


def test_no_failures_in_history_is_a_clear_error(tmp_path):
    from patrimoine import open_workspace

    from .conftest import make_world  # noqa: TID252

    ws = open_workspace(tmp_path / "ws")
    with ws.session() as session:
        make_world(session, ws.readings_dir, n_buildings=1, failures=False, days=500)
    with ws.session() as session, pytest.raises(PredictError, match="no failure work order"):
        train_from_workspace(session, ws.readings_dir, ws.models_dir, num_threads=1)
    ws.close()


def test_train_and_score_on_each_registry_backend(workspace):
    from .conftest import make_world  # noqa: TID252

    with workspace.session() as session:
        info = make_world(session, workspace.readings_dir, n_buildings=2, days=700, seed=3)
    with workspace.session() as session:
        result = train_from_workspace(
            session, workspace.readings_dir, workspace.models_dir, num_threads=1
        )
    with workspace.session() as session:
        scored = score_workspace(session, workspace.readings_dir, workspace.models_dir)
        n = session.scalar(
            select(func.count(RiskScore.id)).where(RiskScore.model_run_id == result.model_run_id)
        )
    assert n == len(scored.scores) == info["assets"]
