"""The numba kernel of :mod:`predict.features.readings`: a channel's prefix sums, at a few days.

Every window statistic is a difference of two prefix sums along the days of an ``assets × days``
grid. ``np.cumsum`` gave them for every day, for each of the 6 (12 with weather) products
summed: one cutoff reads 6 of its 366 columns. This kernel adds the same products in the same
order (day after day from the first, as ``cumsum`` does), so each prefix sum is ``cumsum``'s to
the last bit, and keeps only the positions asked for, with the last day read before each.
"""

from __future__ import annotations

import numba
import numpy as np

#: Positions of the sums on the last axis of :func:`prefix_sums`: of the values, of the reading
#: flags, of the squares, of the flags × day, × day², of the values × day, then with weather
#: (``w``: a reading on a day with degree days) the flags, values, degree days, their squares,
#: values × degree days and the squares of the values.
S, N, Q, NT, NTT, XT = range(6)
WN, WX, WD, WDD, WXD, WXX = range(6, 12)


@numba.njit(cache=True)
def prefix_sums(
    grid: np.ndarray, dju: np.ndarray, positions: np.ndarray, weather: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Sums over days ``[0, p)`` of each row of ``grid`` (NaN: no reading) at each ``p`` of
    ``positions`` (ascending, 0 to the number of days), and the last day with a reading before
    ``p`` (−1 if none). ``dju`` (same shape) is read only with ``weather``."""
    rows, days = grid.shape
    k = 12 if weather else 6
    sums = np.zeros((rows, len(positions), k))
    last = np.full((rows, len(positions)), -1, dtype=np.int64)
    acc = np.zeros(k)
    terms = np.zeros(k)
    for r in range(rows):
        p = 0
        seen = -1
        for j in range(days):
            while p < len(positions) and positions[p] == j:
                if j > 0:
                    sums[r, p, :] = acc
                last[r, p] = seen
                p += 1
            v = grid[r, j]
            has = 1.0 if np.isfinite(v) else 0.0
            x = v if has > 0.0 else 0.0
            t = float(j)
            if has > 0.0:
                seen = j
            terms[S], terms[N], terms[Q] = x, has, x * x
            terms[NT], terms[XT] = has * t, x * t
            terms[NTT] = terms[NT] * t
            if weather:
                d = dju[r, j]
                hw = 1.0 if has > 0.0 and np.isfinite(d) else 0.0
                dd = d if hw > 0.0 else 0.0
                xx = x * hw
                terms[WN], terms[WX], terms[WD] = hw, xx, dd
                terms[WDD], terms[WXD], terms[WXX] = dd * dd, xx * dd, xx * xx
            # cumsum starts from the first term itself, not from 0 + it (the sign of a zero)
            if j == 0:
                acc[:] = terms
            else:
                acc += terms
        while p < len(positions):
            if days > 0:
                sums[r, p, :] = acc
            last[r, p] = seen
            p += 1
    return sums, last
