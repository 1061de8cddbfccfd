"""The feature store computes, partition by partition, exactly the in-memory feature frame;
its negative sample keeps every positive and is a pure function of the seed."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from predict import score, train_from_workspace
from predict.errors import PredictError
from predict.features.store import (
    PartitionMap,
    ReadAhead,
    features_at,
    read_ahead,
    read_features,
    write_feature_store,
)
from predict.features.store_tasks import StoreSpec, bucket_readings
from predict.labels import make_labels
from predict.sampling import NegativeSample
from predict.workflow import _features

pytestmark = pytest.mark.filterwarnings("ignore:Port .* is already in use:UserWarning")


@pytest.fixture(scope="module")
def data(world_data):
    ws, d, cutoffs = world_data
    return ws, d, cutoffs[::4]  # every fourth month: enough rows, a quick test


def _store(tmp_path, ws, d, cutoffs, *, partitions, client=None, **kw):
    return write_feature_store(
        tmp_path / "store",
        d.assets,
        d.work_orders,
        ws.readings_dir,
        cutoffs,
        channels=d.channels,
        buildings=d.buildings,
        dju=d.dju,
        weather_key=d.weather_key,
        partitions=partitions,
        client=client,
        **kw,
    )


@pytest.fixture(scope="module")
def expected(data):
    ws, d, cutoffs = data
    return _features(d, ws.readings_dir, cutoffs, None)


@pytest.mark.parametrize("partitions", [1, 3])
def test_store_equals_in_memory_features(tmp_path, data, expected, partitions):
    ws, d, cutoffs = data
    store = _store(tmp_path, ws, d, cutoffs, partitions=partitions)
    got = read_features(store)
    pd.testing.assert_frame_equal(got, expected)
    assert got["cycles__mean30__peer_z"].notna().any()  # peers seen across partitions
    assert got["building_failures_365d"].notna().any()


def test_store_on_a_local_cluster_equals_in_memory_features(
    tmp_path, data, expected, cluster_client
):
    ws, d, cutoffs = data
    store = _store(tmp_path, ws, d, cutoffs, partitions=4, client=cluster_client)
    pd.testing.assert_frame_equal(read_features(store), expected)


def test_one_cutoff_straight_to_the_frame_is_the_store_frame(tmp_path, data, expected):
    # scoring: pass 1 as in the store, then the frame without writing features/ and reading back
    ws, d, cutoffs = data
    inputs = {"channels": d.channels, "buildings": d.buildings, "dju": d.dju}
    inputs.update(weather_key=d.weather_key, partitions=3)
    got = features_at(
        tmp_path / "at", d.assets, d.work_orders, ws.readings_dir, cutoffs[-1], **inputs
    )
    store = write_feature_store(
        tmp_path / "store", d.assets, d.work_orders, ws.readings_dir, [cutoffs[-1]], **inputs
    )
    pd.testing.assert_frame_equal(got, read_features(store), check_exact=True)
    one = expected[expected["cutoff"] == cutoffs[-1]].reset_index(drop=True)
    pd.testing.assert_frame_equal(got, one)
    assert not any((tmp_path / "at").iterdir())  # nothing left behind
    with pytest.raises(PredictError, match="no rows"):
        features_at(tmp_path / "none", d.assets.iloc[:0], d.work_orders, None, cutoffs[-1])


@pytest.mark.parametrize("partitions", [1, 3])
@pytest.mark.parametrize("on_cluster", [False, True])
def test_features_mapped_where_they_are_equal_the_gathered_frame(
    tmp_path, data, expected, partitions, on_cluster, cluster_client
):
    # scoring a large stock: pass 1's rows stay where they were computed (never written),
    # the cross-asset columns come from a few columns of every row, and each partition's
    # features go through the map there: together, exactly the gathered frame
    ws, d, cutoffs = data
    seen = []

    def with_context(features, context):  # noqa: ANN001, ANN202  (local: pickled by value)
        flag = pd.Series(context, index=features.index, name="context")
        return pd.concat([features, flag], axis=1)

    def prepare(frame):  # noqa: ANN001, ANN202
        seen.append(list(frame.columns))
        return len(frame)

    inputs = {"channels": d.channels, "buildings": d.buildings, "dju": d.dju}
    inputs.update(weather_key=d.weather_key, partitions=partitions)
    client = cluster_client if on_cluster else None
    at = (tmp_path / "at", d.assets, d.work_orders, ws.readings_dir, cutoffs[-1])
    mapped = PartitionMap(with_context, columns=["asset_ref"], prepare=prepare)
    got = features_at(*at, **inputs, client=client, apply=mapped)
    gathered = features_at(*at, **inputs, client=client)
    assert seen == [["asset_ref"]]
    assert (got.pop("context") == len(gathered)).all()  # prepare saw every row
    got = got.sort_values("asset_ref", kind="stable").reset_index(drop=True)
    # each partition's categoricals hold its own categories: concatenated, they are strings
    cats = {c: t for c, t in gathered.dtypes.items() if isinstance(t, pd.CategoricalDtype)}
    assert cats
    pd.testing.assert_frame_equal(got.astype(cats), gathered, check_exact=True)
    one = expected[expected["cutoff"] == cutoffs[-1]].reset_index(drop=True)
    pd.testing.assert_frame_equal(got.astype(cats), one)
    assert got["cycles__mean30__peer_z"].notna().any()  # peers seen across partitions
    assert not any((tmp_path / "at").iterdir())  # nothing written


def test_readings_read_ahead_give_the_same_features(tmp_path, data, expected, cluster_client):
    # scoring reads the readings on the workers while the registry loads: the features must
    # not depend on it, whether it covers every partition, some, a wider window, or nothing
    ws, d, cutoffs = data
    cutoff = cutoffs[-1]
    one = expected[expected["cutoff"] == cutoff].reset_index(drop=True)
    inputs = {"channels": d.channels, "buildings": d.buildings, "dju": d.dju}
    inputs.update(weather_key=d.weather_key, partitions=3)
    client = cluster_client
    some = read_ahead(client, ws.readings_dir, d.channels, cutoff, 3, limit=2)
    assert sorted(some.futures) == [0, 1]
    # 60 more days each side and the weather channel too: the windows keep only theirs
    start, end = some.start - pd.Timedelta(days=60), some.end + pd.Timedelta(days=60)
    channels = [*d.channels, "outdoor_temp_c"]
    buckets = np.arange(64)
    read = {
        k: client.submit(
            bucket_readings, ws.readings_dir, channels, start, end, buckets[buckets % 3 == k]
        )
        for k in range(3)
    }
    wider = ReadAhead(3, channels, start, end, read)
    other = read_ahead(client, ws.readings_dir, d.channels, cutoff, 4)  # other partitions
    spec = StoreSpec(tmp_path, ws.readings_dir, [cutoff], list(d.channels), weather=True)
    assert some.covers(spec, 3)
    assert wider.covers(spec, 3)
    assert not other.covers(spec, 3)

    def at(ahead):  # noqa: ANN001, ANN202
        return features_at(
            tmp_path / "at",
            d.assets,
            d.work_orders,
            ws.readings_dir,
            cutoff,
            client=client,
            ahead=ahead,
            **inputs,
        )

    for ahead in (some, wider, other):
        pd.testing.assert_frame_equal(at(ahead), one)
    # what was read ahead is what the windows see: nothing read, no window statistics
    got = at(ReadAhead(3, channels, start, end, {k: client.submit(list, []) for k in range(3)}))
    assert one["cycles__mean30"].notna().any()
    assert got["cycles__mean30"].isna().all()
    assert read_ahead(None, ws.readings_dir, d.channels, cutoff, 3) is None


def test_a_cutoff_task_run_again_writes_the_same_rows(tmp_path, data):
    # a worker lost after its pass-2 task finished has the task run again elsewhere: its
    # inputs must still be there (a 1 M-asset training run died of it)
    from predict.features.store import _compute, _pass_one, _start
    from predict.features.store_tasks import cutoff_task

    ws, d, cutoffs = data
    spec = _start(
        tmp_path / "s",
        ws.readings_dir,
        cutoffs[-2:],
        d.work_orders,
        channels=d.channels,
        weather=True,
        buildings=d.buildings,
    )
    _compute(_pass_one(spec, d.assets, d.work_orders, d.weather_key, d.dju, 2, None), None)
    first = [pd.read_parquet(f) for f in cutoff_task(spec.cutoffs, spec)]
    again = [pd.read_parquet(f) for f in cutoff_task(spec.cutoffs, spec)]
    assert len(first) == 2
    for a, b in zip(first, again, strict=True):
        pd.testing.assert_frame_equal(a, b)
    # inputs gone (a store emptied under it): a clear error naming the folder
    from predict.features.store_tasks import read_parts

    with pytest.raises(PredictError, match="no part files under .*empty"):
        read_parts([tmp_path / "empty"])


def test_negative_sample_keeps_every_positive_and_is_seeded(tmp_path, data, expected):
    ws, d, cutoffs = data
    end = d.history_end
    labels = make_labels(expected, d.work_orders, horizon_days=90, history_end=end)
    kw = {"horizon_days": 90, "history_end": end}
    sample = NegativeSample(rate=0.3, seed=7, full_cutoffs=(cutoffs[-1],))
    a = read_features(
        _store(tmp_path / "a", ws, d, cutoffs, partitions=1, sample=sample, **kw), labels=True
    )
    b = read_features(
        _store(tmp_path / "b", ws, d, cutoffs, partitions=3, sample=sample, **kw), labels=True
    )
    other = NegativeSample(rate=0.3, seed=8)
    c = read_features(
        _store(tmp_path / "c", ws, d, cutoffs, partitions=1, sample=other, **kw), labels=True
    )
    pd.testing.assert_frame_equal(a, b)  # same seed: same rows, whatever the partitioning
    assert not a[["asset_ref", "cutoff"]].equals(c[["asset_ref", "cutoff"]])
    positives = expected.loc[labels["failed"].to_numpy(), ["asset_ref", "cutoff"]]
    kept = a.loc[a["failed"], ["asset_ref", "cutoff"]]
    assert len(positives) > 0
    pd.testing.assert_frame_equal(kept.reset_index(drop=True), positives.reset_index(drop=True))
    share = (~a["failed"]).sum() / (~labels["failed"]).sum()
    assert 0.2 < share < 0.4
    np.testing.assert_allclose(a.loc[~a["failed"], "weight"], 1 / 0.3)
    assert (a.loc[a["failed"], "weight"] == 1.0).all()
    # the kept rows' features are the in-memory rows' features
    merged = a.merge(expected, on=["asset_ref", "cutoff"], suffixes=("", "_mem"))
    np.testing.assert_allclose(merged["cycles__mean30"], merged["cycles__mean30_mem"])
    # a cutoff kept whole holds every row (the test period is evaluated on all of them)
    whole = read_features(store_of(tmp_path / "a"), cutoffs=[cutoffs[-1]], sampled_only=False)
    assert len(whole) == (expected["cutoff"] == cutoffs[-1]).sum()


def store_of(tmp_path):
    import json

    from predict.features.store import FeatureStore

    meta = json.loads((tmp_path / "store" / "store.json").read_text())
    return FeatureStore(
        folder=tmp_path / "store",
        cutoffs=[pd.Timestamp(c) for c in meta["cutoffs"]],
        channels=meta["channels"],
        weather=meta["weather"],
        rows=meta["rows"],
        sampled=meta["sampled"],
        positives=meta["positives"],
        sample_rate=meta["sample_rate"],
    )


def test_training_on_a_sample_is_corrected_and_evaluated_on_every_test_row(world_ws, tmp_path):
    ws, _ = world_ws
    with ws.session() as session:
        full = train_from_workspace(session, ws.readings_dir, tmp_path / "full", num_threads=1)
        sampled = train_from_workspace(
            session, ws.readings_dir, tmp_path / "s", num_threads=1, max_training_rows=600
        )
    info = sampled.artifact.metadata["training_sample"]
    rate = info["negative_rate"]
    assert 0 < rate < 1
    assert sampled.artifact.calibration["prior_correction"] == pytest.approx(math.log(rate))
    # evaluated on every test row: the same rows and positives as the unsampled model
    m_full = full.artifact.metrics["model"]["overall"]
    m_s = sampled.artifact.metrics["model"]["overall"]
    assert m_s["rows"] == m_full["rows"]
    assert m_s["positives"] == m_full["positives"]
    assert "every row" in sampled.artifact.report
    assert "training_sample" not in full.artifact.metadata
    # the corrected level is the population's, not the sample's (positives ≫ base rate there)
    mean_p = np.mean([r["predicted"] for r in m_s["reliability"]])
    assert mean_p < 3 * m_full["base_rate"]


def test_drivers_for_the_riskiest_share_only(world_ws, data, expected, tmp_path):
    ws, _ = world_ws
    _, _, cutoffs = data
    with ws.session() as session:
        art = train_from_workspace(session, ws.readings_dir, tmp_path, num_threads=1).artifact
    frame = expected[expected["cutoff"] == cutoffs[-1]].reset_index(drop=True)
    every = score(art, frame)
    some = score(art, frame, drivers_share=0.25)
    worded = some["drivers"].str.len() > 0
    assert worded.sum() == int(np.ceil(0.25 * len(frame)))
    # the riskiest rows, worded exactly as when every row is worded
    assert some.loc[worded, "p_failure"].min() >= some.loc[~worded, "p_failure"].max()
    pd.testing.assert_series_equal(some.loc[worded, "drivers"], every.loc[worded, "drivers"])
    pd.testing.assert_frame_equal(some.drop(columns="drivers"), every.drop(columns="drivers"))


def test_partitions_hold_whole_buckets_and_scoring_takes_larger_ones():
    from predict.workflow import ASSETS_PER_SCORING_PARTITION, store_partitions

    assert [store_partitions(n) for n in (1, 10_000, 15_000, 30_000, 644_401)] == [1, 1, 2, 4, 64]
    assert store_partitions(999_458, ASSETS_PER_SCORING_PARTITION) == 16
    assert all(64 % store_partitions(n) == 0 for n in range(1, 2_000_000, 7_919))


def test_window_features_of_bucket_frames_equal_those_of_their_concatenation():
    from predict.features.build import readings_features

    days = pd.date_range("2024-01-01", periods=40, freq="D")
    a = pd.DataFrame({"asset_ref": "A", "channel": "cycles", "day": days, "value": 1.0})
    b = pd.DataFrame({"asset_ref": "B", "channel": "cycles", "day": days, "value": 3.0})
    b.loc[5, "value"] = 50.0
    cut = [pd.Timestamp("2024-02-01"), pd.Timestamp("2024-02-10")]
    both = readings_features(pd.concat([a, b], ignore_index=True), cut, ["cycles"])
    apart = readings_features([a, b], cut, ["cycles"])
    pd.testing.assert_frame_equal(apart, both)
    assert apart["asset_ref"].tolist() == ["A", "A", "B", "B"]
    assert apart["cycles__mean30"].round(6).tolist()[:2] == [1.0, 1.0]
