"""TreeSHAP by lookup table against LightGBM's own ``pred_contrib`` and ``raw_score``."""

from __future__ import annotations

import dataclasses
import re

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from predict import score, treeshap
from predict.explain import describe_feature, driver_words, top_drivers

SMALL = {"num_leaves": 7, "min_data_in_leaf": 5, "verbose": -1, "seed": 0, "num_threads": 1}


def _assert_like_lightgbm(booster: lgb.Booster, x: np.ndarray) -> None:
    tables = treeshap.compile_booster(booster)
    assert tables is not None
    raw = treeshap.raw_scores(tables, x)
    np.testing.assert_array_equal(raw, booster.predict(x, raw_score=True))
    contrib = treeshap.contributions(tables, x)
    np.testing.assert_allclose(contrib, booster.predict(x, pred_contrib=True), rtol=0, atol=1e-9)
    raw_top, order, top = treeshap.top_contributions(tables, x, 3)
    np.testing.assert_array_equal(raw_top, raw)
    expected = np.argsort(-contrib[:, :-1], axis=1, kind="stable")[:, :3]
    np.testing.assert_array_equal(order, expected)
    np.testing.assert_array_equal(top, np.take_along_axis(contrib[:, :-1], expected, axis=1))


def _odd_values(rng: np.random.Generator, n: int, f: int) -> np.ndarray:
    """Scores rows with NaN, ±0, values inside kZeroThreshold and plain values."""
    x = rng.normal(size=(n, f))
    odd = rng.choice([np.nan, 0.0, -0.0, 1e-40, -1e-40, 1e-35, 2e-35], size=(n, f))
    return np.where(rng.random((n, f)) < 0.3, odd, x)


@pytest.mark.parametrize(
    "params",
    [
        {"use_missing": False},  # missing type None: NaN scored as 0
        {"zero_as_missing": True},  # missing type Zero: zero (and NaN) take the default side
        {},  # missing type NaN, learned default side
    ],
)
def test_numerical_splits_match_lightgbm_for_every_missing_type(params):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3000, 5))
    x[rng.random(x.shape) < 0.2] = np.nan
    x[rng.random(x.shape) < 0.2] = 0.0
    y = (np.nan_to_num(x[:, 0]) + np.isnan(x[:, 1]) + (x[:, 2] == 0) + rng.normal(size=3000)) > 1
    booster = lgb.train({**SMALL, **params}, lgb.Dataset(x, y.astype(int)), num_boost_round=40)
    decision = np.concatenate(
        [
            np.array(line.split("=")[1].split(), dtype=int)
            for line in booster.model_to_string().splitlines()
            if line.startswith("decision_type=")
        ]
    )
    assert {(d >> 2) & 3 for d in decision} <= {0, 1, 2}
    if params == {}:
        assert {d & 2 for d in decision if (d >> 2) & 3 == 2} == {0, 2}  # default left and right
    _assert_like_lightgbm(booster, _odd_values(rng, 2000, 5))


def test_categorical_splits_match_lightgbm_for_unseen_negative_and_missing_categories():
    rng = np.random.default_rng(1)
    n = 4000
    cat = rng.integers(0, 40, n).astype(float)
    x = np.column_stack([cat, rng.normal(size=n)])
    y = (np.isin(cat, [3, 7, 11, 35]) ^ (x[:, 1] > 1)).astype(int)
    params = {**SMALL, "min_data_per_group": 5, "cat_smooth": 1, "max_cat_to_onehot": 4}
    booster = lgb.train(params, lgb.Dataset(x, y, categorical_feature=[0]), num_boost_round=30)
    assert re.search(r"^num_cat=[1-9]", booster.model_to_string(), re.MULTILINE)
    probe = _odd_values(rng, 2000, 2)
    probe[:, 0] = rng.choice([np.nan, -1.0, -3.0, 2.7, 35.0, 64.0, 1000.0, 3.0, 7.0], 2000)
    _assert_like_lightgbm(booster, probe)


def test_single_leaf_trees_and_further_training():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(200, 3))
    y = (x[:, 0] > 0).astype(int)
    booster = lgb.train({**SMALL, "min_data_in_leaf": 150}, lgb.Dataset(x, y), 3)
    assert all(t["num_leaves"] == 1 for t in booster.dump_model()["tree_info"])
    _assert_like_lightgbm(booster, x)
    grown = lgb.train(SMALL, lgb.Dataset(x, y, free_raw_data=False), 2, keep_training_booster=True)
    first = treeshap.compile_booster(grown)
    grown.update()  # trained further: the cached tables are rebuilt
    assert treeshap.compile_booster(grown) is not first
    _assert_like_lightgbm(grown, x)


def test_a_model_trained_on_a_world_matches_lightgbm(local_artifact, frames):
    art, features = local_artifact, frames[0]
    assert art.booster.num_trees() > 1
    x = art.inputs(features)
    _assert_like_lightgbm(art.booster, x)
    # the input matrix is what booster.predict makes of the categorical frame
    np.testing.assert_array_equal(
        art.raw_score(features), art.booster.predict(art.matrix(features), raw_score=True)
    )


def test_large_or_linear_trees_fall_back_to_pred_contrib(local_artifact, frames):
    features, labels = frames[0], frames[1]
    data = lgb.Dataset(local_artifact.matrix(features), labels["failed"].astype(int))
    big = lgb.train({**SMALL, "num_leaves": 31, "min_data_in_leaf": 2}, data, 5)
    assert max(t["num_leaves"] for t in big.dump_model()["tree_info"]) - 1 > treeshap.MAX_SPLITS
    assert treeshap.compile_booster(big) is None
    rng = np.random.default_rng(2)
    x = rng.normal(size=(500, 3))
    linear = lgb.train({**SMALL, "linear_tree": True}, lgb.Dataset(x, x[:, 0] * 2.0), 5)
    assert treeshap.compile_booster(linear) is None
    art = dataclasses.replace(local_artifact, booster=big)
    contrib = art.contributions(features)
    expected = big.predict(art.matrix(features), pred_contrib=True)[:, :-1]
    credit = art.offset(features) - np.median(art.offset(features))
    expected[:, art.feature_names.index("category")] += credit
    np.testing.assert_array_equal(contrib.to_numpy(), expected)
    raw, order, top = art.top_contributions(features)
    np.testing.assert_array_equal(raw, big.predict(art.matrix(features), raw_score=True))
    np.testing.assert_array_equal(order, np.argsort(-expected, axis=1, kind="stable")[:, :3])
    assert score(art, features)["drivers"].str.len().gt(0).all()


def _row_by_row(contrib: pd.DataFrame, values: pd.DataFrame, k: int = 3) -> list[str]:
    """The drivers as they were worded before: one row and one feature at a time."""
    c = contrib.to_numpy()
    order = np.argsort(-c, axis=1, kind="stable")[:, :k]
    cols = {n: values[n].to_numpy(dtype=object) for n in contrib.columns}
    out = []
    for i in range(len(c)):
        words: list[str] = []
        for j in order[i]:
            name = contrib.columns[j]
            if c[i, j] <= 0 and words:
                break
            val = cols[name][i]
            text = describe_feature(name, None if pd.isna(val) else val)
            if name.startswith("any__drift_z"):
                best, best_z = "a reading channel", -1.0
                for col, arr in cols.items():
                    w = name.removeprefix("any__drift_z")
                    v = arr[i]
                    window = col.endswith((f"__wn_z{w}", f"__z{w}_year"))
                    if window and not pd.isna(v) and abs(float(v)) > best_z:
                        best, best_z = col.split("__")[0], abs(float(v))
                text = text.replace("a reading channel", best)
            life = cols.get("expected_life_years")
            if name == "age_over_life" and life is not None and pd.isna(val):
                text = text if pd.isna(life[i]) else "installation date unknown"
            if text not in words:
                words.append(text)
        out.append("; ".join(words))
    return out


def test_drivers_are_worded_as_row_by_row():
    rng = np.random.default_rng(3)
    n = 400
    values = pd.DataFrame(
        {
            "category": pd.Categorical(rng.choice(["boiler", "elevator", None], n)),
            "failures_365d": rng.integers(0, 3, n),
            "trend90": rng.choice([0.0, -0.0, np.nan, 0.1234], n),
            "cycles__ratio30_prev90": rng.choice([1.6, 0.5, np.nan], n),
            "any__drift_z30": rng.choice([3.2, np.nan], n),
            "cycles__wn_z30": rng.choice([1.0, -4.0, np.nan], n),
            "power__z30_year": rng.choice([4.0, -1.0, np.nan], n),
            "days_since_service": rng.choice([400.0, np.nan], n),
            "effective_age_years": rng.choice([12.0, np.nan], n),
            "age_over_life": rng.choice([0.8, np.nan], n),
            "expected_life_years": rng.choice([15.0, np.nan], n),
        }
    )
    contrib = pd.DataFrame(rng.choice([-0.5, 0.0, 0.2, 0.7], (n, values.shape[1])))
    contrib.columns = values.columns
    assert top_drivers(contrib, values) == _row_by_row(contrib, values)
    assert top_drivers(contrib, values, k=2) == _row_by_row(contrib, values, k=2)
    order = np.argsort(-contrib.to_numpy(), axis=1, kind="stable")[:, :3]
    top = np.take_along_axis(contrib.to_numpy(), order, axis=1)
    assert list(driver_words(order, top, values)) == _row_by_row(contrib, values)


def test_scores_are_those_of_lightgbm_and_its_pred_contrib(local_artifact, frames):
    art, features = local_artifact, frames[0]
    got = score(art, features)
    raw = art.booster.predict(art.matrix(features), raw_score=True) + art.offset(features)
    np.testing.assert_array_equal(got["p_failure"], art.calibrate(1 / (1 + np.exp(-raw))))
    contrib = pd.DataFrame(
        art.booster.predict(art.matrix(features), pred_contrib=True)[:, :-1],
        columns=art.feature_names,
    )
    off = art.offset(features)
    contrib["category"] += off - np.median(off)
    assert list(got["drivers"]) == _row_by_row(contrib, features[art.feature_names])
    some = score(art, features, drivers_share=0.3)
    pd.testing.assert_series_equal(some["p_failure"], got["p_failure"])
