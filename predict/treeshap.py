"""Exact path-dependent TreeSHAP for small trees, by lookup table (numba).

A row's path-dependent TreeSHAP values in one tree (what LightGBM's ``pred_contrib``
computes) depend only on which way the row goes at each internal node of that tree, taken at
every node, on its path or not. Our trees have at most ``num_leaves - 1`` = 6 internal nodes,
so at most 2^6 = 64 outcome patterns: each tree's leaf value and the Shapley value of each
feature it uses are tabulated for every pattern once per model (brute force over coalitions
of the tree's features, where ``v(S)`` follows the pattern at nodes whose feature is in ``S``
and averages the children by training count elsewhere). A row then costs, per tree, its
decisions (LightGBM's own rules: missing types, default directions, the zero threshold,
categorical bitsets) and one table lookup. Raw scores add the leaf values in tree order from
0.0, as LightGBM does, so they are bit for bit LightGBM's; contributions agree with
``pred_contrib`` to rounding (1e-12).

Models this does not cover (more than :data:`MAX_SPLITS` internal nodes in a tree, linear
trees, several trees per iteration) get ``None`` from :func:`compile_booster`; callers then
use LightGBM's ``pred_contrib``.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from math import factorial

import lightgbm as lgb
import numpy as np

from predict.treeshap_kernels import (
    CATEGORICAL,
    Tables,
    matrix_kernel,
    raw_kernel,
    top_kernel,
)

#: Above this many internal nodes in a tree the tables (2^nodes rows) stop paying off.
MAX_SPLITS = 10
_CACHE: weakref.WeakKeyDictionary[lgb.Booster, tuple[int, TreeTables | None]] = (
    weakref.WeakKeyDictionary()
)


@dataclass(frozen=True)
class TreeTables:
    """Every tree's decisions (flat node arrays) and its per-pattern leaf and SHAP tables."""

    n_features: int
    node_start: np.ndarray  # int64 [trees + 1]: a tree's internal nodes
    feature: np.ndarray  # int64 [nodes]
    threshold: np.ndarray  # float64 [nodes]
    kind: np.ndarray  # int64 [nodes]: missing type 0 None, 1 Zero, 2 NaN, or CATEGORICAL
    zero_left: np.ndarray  # bool [nodes]: where |value| <= kZeroThreshold goes (numerical)
    nan_left: np.ndarray  # bool [nodes]: where NaN goes (numerical)
    cat_start: np.ndarray  # int64 [nodes]: the node's bitset in ``cat_bits``
    cat_len: np.ndarray  # int64 [nodes]
    cat_bits: np.ndarray  # uint32
    leaf_start: np.ndarray  # int64 [trees + 1]: the tree's 2^nodes leaf values in ``leaf``
    leaf: np.ndarray  # float64
    used_start: np.ndarray  # int64 [trees + 1]: the tree's features in ``used``
    used: np.ndarray  # int64
    phi_start: np.ndarray  # int64 [trees + 1]: the tree's [features, 2^nodes] table in ``phi``
    phi: np.ndarray  # float64
    expected: np.ndarray  # float64 [trees]: v(∅), the bias column's share of each tree


def _parse_trees(model: str) -> list[dict[str, str]] | None:
    """The ``Tree=`` blocks of a LightGBM text model as key → text; None if not handled."""
    head, _, rest = model.partition("\nTree=")
    header = dict(line.split("=", 1) for line in head.splitlines() if "=" in line)
    if header.get("num_tree_per_iteration", "1") != "1":
        return None
    body = rest.split("\nend of trees", 1)[0]
    trees = []
    for block in body.split("\nTree=") if body else []:
        tree = dict(line.split("=", 1) for line in block.splitlines()[1:] if "=" in line)
        if tree.get("is_linear", "0") != "0":
            return None
        trees.append(tree)
    return trees


def _ints(text: str) -> np.ndarray:
    return np.array(text.split(), dtype=np.int64)


def _tree_tables(tree: dict[str, str]) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """(features used, leaf value per pattern, Shapley values [pattern, feature], v(∅))."""
    leaf_value = np.array(tree["leaf_value"].split(), dtype=np.float64)
    m = int(tree["num_leaves"]) - 1
    if m == 0:
        return np.zeros(0, np.int64), leaf_value[:1], np.zeros((1, 0)), float(leaf_value[0])
    split_feature = _ints(tree["split_feature"])
    left, right = _ints(tree["left_child"]), _ints(tree["right_child"])
    counts = np.array(tree["internal_count"].split(), dtype=np.float64)
    leaf_count = np.array(tree["leaf_count"].split(), dtype=np.float64)
    used = np.unique(split_feature)
    k = len(used)
    local = np.searchsorted(used, split_feature)
    patterns = np.arange(1 << m)[:, None]
    subsets = np.arange(1 << k)[None, :]

    def value(child: int) -> tuple[np.ndarray | float, float]:
        """v(S) below ``child`` for every (pattern, subset), and the child's count."""
        if child < 0:
            return float(leaf_value[~child]), float(leaf_count[~child])
        lv, lc = value(int(left[child]))
        rv, rc = value(int(right[child]))
        goes_left = (patterns >> child) & 1 == 1
        follow = np.where(goes_left, lv, rv)
        # TreeSHAP's zero fractions: each child's share of the node's training rows
        average = lc / counts[child] * lv + rc / counts[child] * rv
        in_s = (subsets >> local[child]) & 1 == 1
        return np.where(in_s, follow, average), float(counts[child])

    v = np.broadcast_to(value(0)[0], (1 << m, 1 << k))
    size = np.array([bin(s).count("1") for s in range(1 << k)])
    weight = np.array([factorial(s) * factorial(k - s - 1) / factorial(k) for s in range(k)])
    phi = np.empty((1 << m, k))
    for q in range(k):
        without = np.array([s for s in range(1 << k) if not (s >> q) & 1])
        phi[:, q] = (v[:, without | (1 << q)] - v[:, without]) @ weight[size[without]]
    follow_all = np.zeros(1 << m, dtype=np.int64)
    for p in range(1 << m):  # the leaf each pattern reaches
        node = 0
        while node >= 0:
            node = int(left[node] if (p >> node) & 1 else right[node])
        follow_all[p] = ~node
    return used, leaf_value[follow_all], phi, float(v[0, 0])


def _decisions(tree: dict[str, str]) -> dict[str, np.ndarray]:
    """A tree's internal nodes as flat arrays (LightGBM's decision_type bits decoded)."""
    m = int(tree["num_leaves"]) - 1
    if m == 0:
        empty = np.zeros(0, np.int64)
        return {"feature": empty, "threshold": np.zeros(0), "decision": empty, "bits": []}
    decision = _ints(tree["decision_type"])
    threshold = np.array(tree["threshold"].split(), dtype=np.float64)
    bits: list[np.ndarray] = []
    if int(tree.get("num_cat", "0")) > 0:
        bounds = _ints(tree["cat_boundaries"])
        words = np.array(tree["cat_threshold"].split(), dtype=np.uint32)
        bits = [words[bounds[i] : bounds[i + 1]] for i in range(len(bounds) - 1)]
    return {
        "feature": _ints(tree["split_feature"]),
        "threshold": threshold,
        "decision": decision,
        "bits": bits,
    }


def _compile(booster: lgb.Booster) -> TreeTables | None:
    trees = _parse_trees(booster.model_to_string())
    if trees is None or any(int(t["num_leaves"]) - 1 > MAX_SPLITS for t in trees):
        return None
    feature, threshold, kind, zero_left, nan_left, cat_start, cat_len = [], [], [], [], [], [], []
    bits: list[np.ndarray] = []
    n_bits = 0
    node_start, leaf_start, used_start, phi_start = [0], [0], [0], [0]
    leaves, used, phis, expected = [], [], [], []
    for tree in trees:
        d = _decisions(tree)
        is_cat = (d["decision"] & 1) == 1
        feature.append(d["feature"])
        threshold.append(d["threshold"])
        missing = (d["decision"] >> 2) & 3
        default_left = (d["decision"] & 2) == 2
        zero_goes = d["threshold"] >= 0.0  # a zero value compared with the threshold
        kind.append(np.where(is_cat, CATEGORICAL, missing))
        # missing type Zero: zero (and NaN, read as 0) take the default side; NaN: NaN does;
        # None: NaN is read as 0 and compared
        zero_left.append(np.where(missing == 1, default_left, zero_goes))
        nan_left.append(np.where(missing == 0, zero_goes, default_left))
        starts, lens = np.zeros(len(is_cat), np.int64), np.zeros(len(is_cat), np.int64)
        for node in np.flatnonzero(is_cat):
            words = d["bits"][int(d["threshold"][node])]
            starts[node], lens[node] = n_bits, len(words)
            bits.append(words)
            n_bits += len(words)
        cat_start.append(starts)
        cat_len.append(lens)
        node_start.append(node_start[-1] + len(is_cat))
        tree_used, leaf, phi, ev = _tree_tables(tree)
        leaves.append(leaf)
        used.append(tree_used)
        phis.append(phi.T.ravel())
        expected.append(ev)
        leaf_start.append(leaf_start[-1] + len(leaf))
        used_start.append(used_start[-1] + len(tree_used))
        phi_start.append(phi_start[-1] + phi.size)

    def cat(parts: list[np.ndarray], dtype: type) -> np.ndarray:
        return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype)

    return TreeTables(
        n_features=booster.num_feature(),
        node_start=np.array(node_start, np.int64),
        feature=cat(feature, np.int64),
        threshold=cat(threshold, np.float64),
        kind=cat(kind, np.int64),
        zero_left=cat(zero_left, np.bool_),
        nan_left=cat(nan_left, np.bool_),
        cat_start=cat(cat_start, np.int64),
        cat_len=cat(cat_len, np.int64),
        cat_bits=cat(bits, np.uint32),
        leaf_start=np.array(leaf_start, np.int64),
        leaf=cat(leaves, np.float64),
        used_start=np.array(used_start, np.int64),
        used=cat(used, np.int64),
        phi_start=np.array(phi_start, np.int64),
        phi=cat(phis, np.float64),
        expected=np.array(expected, np.float64),
    )


def compile_booster(booster: lgb.Booster) -> TreeTables | None:
    """The lookup tables of ``booster``, or None when they do not cover its trees.

    Cached per booster (and recompiled if it has been trained further).

    Examples
    --------
    >>> tables = compile_booster(booster)  # doctest: +SKIP
    >>> raw, columns, values = top_contributions(tables, x, k=3)  # doctest: +SKIP
    """
    iteration, tables = _CACHE.get(booster, (-1, None))
    if iteration != booster.current_iteration():
        iteration, tables = booster.current_iteration(), _compile(booster)
        _CACHE[booster] = iteration, tables
    return tables


def _fields(t: TreeTables) -> Tables:
    """The tables as the kernels take them: a tuple of arrays, indexed by position."""
    return (
        np.array([t.n_features]),
        t.node_start,
        t.feature,
        t.threshold,
        t.kind,
        t.zero_left,
        t.cat_start,
        t.cat_len,
        t.cat_bits,
        t.leaf_start,
        t.leaf,
        t.used_start,
        t.used,
        t.phi_start,
        t.phi,
        t.nan_left,
    )


def raw_scores(tables: TreeTables, x: np.ndarray) -> np.ndarray:
    """The trees' raw score per row of ``x`` (LightGBM's input matrix), bit for bit."""
    return raw_kernel(np.asfortranarray(x, dtype=np.float64), _fields(tables))


def contributions(tables: TreeTables, x: np.ndarray) -> np.ndarray:
    """``pred_contrib``'s matrix: a column per feature, then the bias column."""
    bias = 0.0
    for ev in tables.expected:  # in tree order, as LightGBM adds each tree's expected value
        bias += float(ev)
    return matrix_kernel(np.asfortranarray(x, dtype=np.float64), _fields(tables), bias)


def top_contributions(
    tables: TreeTables,
    x: np.ndarray,
    k: int,
    adjust: np.ndarray | None = None,
    adjust_col: int = -1,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Raw score, and the ``k`` largest contributions of each row (columns, values), sorted.

    ``adjust`` is added to column ``adjust_col`` before ranking (the age baseline's offset
    credited to ``category``). Ties rank the lower column first, as a stable argsort does; the
    rows × features matrix is never held, one row's at a time.
    """
    k = min(k, x.shape[1])
    add = np.zeros(len(x)) if adjust is None else np.asarray(adjust, dtype=np.float64)
    x = np.asfortranarray(x, dtype=np.float64)
    return top_kernel(x, _fields(tables), add, adjust_col, k)
