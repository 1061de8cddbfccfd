"""The numba kernels of :mod:`predict.treeshap`: LightGBM's decisions and the table lookups.

The tables come as a tuple of arrays (:func:`predict.treeshap._fields` gives the positions):
0 features, 1 node start per tree, 2 node feature, 3 threshold, 4 kind, 5 where a zero goes,
6-8 categorical bitsets (start, length, words), 9-10 leaf values per pattern (start, values),
11-12 features per tree (start, columns), 13-14 Shapley values per pattern (start, values),
15 where NaN goes.
"""

from __future__ import annotations

import numba
import numpy as np

#: LightGBM's ``kZeroThreshold`` (``1e-35f``, a float widened to double).
ZERO = float(np.float32(1e-35))
#: Node kind of a categorical split; numerical ones are their missing type: 0 None, 1 Zero, 2 NaN.
CATEGORICAL = 3
#: Rows that go through a tree together (accumulators: features × 256 float64, in L2).
BLOCK = 256
Tables = tuple[np.ndarray, ...]


@numba.njit(cache=True, inline="always")
def _in_bitset(v: float, bits: np.ndarray, start: int, n: int) -> bool:
    """LightGBM's CategoricalDecision: NaN, negative and out-of-range categories go right."""
    if np.isnan(v) or v <= -1.0 or v >= 2147483648.0:
        return False
    c = int(v)  # static_cast<int> truncates toward zero
    word = c >> 5
    return word < n and (bits[start + word] >> np.uint32(c & 31)) & np.uint32(1) == 1


@numba.njit(cache=True)
def _block(
    x: np.ndarray, i0: int, i1: int, t: Tables, raw: np.ndarray, acc: np.ndarray, with_shap: bool
) -> None:
    """Raw scores of rows ``i0:i1`` of ``x`` into ``raw``, Shapley values into ``acc`` [f, row].

    Tree by tree over a block of rows, so a tree's nodes and tables stay in cache while the
    block's rows go through it; each row still adds its trees in order (LightGBM's sum).
    """
    rows = i1 - i0
    raw[:] = 0.0
    pattern = np.zeros(rows, dtype=np.int64)
    for tree in range(len(t[1]) - 1):
        first, last = t[1][tree], t[1][tree + 1]
        pattern[:] = 0
        for j in range(last - first):
            node = first + j
            f = t[2][node]
            if t[4][node] == CATEGORICAL:
                for r in range(rows):
                    left = _in_bitset(x[i0 + r, f], t[8], t[6][node], t[7][node])
                    pattern[r] |= np.int64(left) << j
                continue
            # NumericalDecision as selects over a column of the block (SIMD, no branches);
            # dense rows reach the trees with |v| <= kZeroThreshold as 0 (LightGBM's c_api)
            threshold, zero_left, nan_left = t[3][node], t[5][node], t[15][node]
            for r in range(rows):
                v = x[i0 + r, f]
                left = v <= threshold
                left = zero_left if abs(v) <= ZERO else left
                left = nan_left if np.isnan(v) else left
                pattern[r] |= np.int64(left) << j
        leaf0 = t[9][tree]
        for r in range(rows):
            raw[r] += t[10][leaf0 + pattern[r]]
        if with_shap:
            u0, u1 = t[11][tree], t[11][tree + 1]
            n_patterns = t[9][tree + 1] - leaf0
            for q in range(u1 - u0):
                column, phi0 = t[12][u0 + q], t[13][tree] + q * n_patterns
                for r in range(rows):
                    acc[column, r] += t[14][phi0 + pattern[r]]


@numba.njit(parallel=True, cache=True)
def raw_kernel(x: np.ndarray, t: Tables) -> np.ndarray:
    n = x.shape[0]
    out = np.empty(n)
    dummy = np.zeros((0, 0))
    for b in numba.prange((n + BLOCK - 1) // BLOCK):
        i0, i1 = b * BLOCK, min(n, (b + 1) * BLOCK)
        _block(x, i0, i1, t, out[i0:i1], dummy, False)
    return out


@numba.njit(parallel=True, cache=True)
def matrix_kernel(x: np.ndarray, t: Tables, bias: float) -> np.ndarray:
    n, n_features = x.shape
    out = np.empty((n, n_features + 1))
    raw = np.empty(n)
    for b in numba.prange((n + BLOCK - 1) // BLOCK):
        i0, i1 = b * BLOCK, min(n, (b + 1) * BLOCK)
        acc = np.zeros((n_features, i1 - i0))
        _block(x, i0, i1, t, raw[i0:i1], acc, True)
        out[i0:i1, :n_features] = acc.T
        out[i0:i1, n_features] = bias
    return out


@numba.njit(parallel=True, cache=True)
def top_kernel(
    x: np.ndarray, t: Tables, adjust: np.ndarray, adjust_col: int, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n, n_features = x.shape
    raw = np.empty(n)
    order = np.full((n, k), -1, dtype=np.int64)
    top = np.zeros((n, k))
    for b in numba.prange((n + BLOCK - 1) // BLOCK):
        i0, i1 = b * BLOCK, min(n, (b + 1) * BLOCK)
        acc = np.zeros((n_features, i1 - i0))
        _block(x, i0, i1, t, raw[i0:i1], acc, True)
        for r in range(i1 - i0):
            i = i0 + r
            if adjust_col >= 0:
                acc[adjust_col, r] += adjust[i]
            # the k largest, ties to the lower column: numpy's stable argsort of -acc
            for j in range(n_features):
                v = acc[j, r]
                if order[i, k - 1] >= 0 and v <= top[i, k - 1]:
                    continue
                pos = k - 1
                while pos > 0 and (order[i, pos - 1] < 0 or v > top[i, pos - 1]):
                    order[i, pos] = order[i, pos - 1]
                    top[i, pos] = top[i, pos - 1]
                    pos -= 1
                order[i, pos] = j
                top[i, pos] = v
    return raw, order, top
