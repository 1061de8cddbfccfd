"""Drop meter spikes before the window statistics: a trailing Hampel filter, in numba.

One reading ten times its neighbours (a meter reset, a read of the cumulative index, a
transmission glitch) moves a 30-day mean by a third and a year's spread several-fold: it hides
the few per cent a drifting fault adds and fakes a drift where there is none. A reading is
dropped when it departs from the median of the readings of the ``window`` days before it by more
than ``k`` interquartile ranges of them. Only earlier days judge a day, so a cutoff's features
still read nothing at or after it; the window needs ``min_count`` readings, and a window with no
spread (counts that are mostly zero, a constant) judges nothing.
"""

from __future__ import annotations

import numba
import numpy as np

#: Days before a reading that judge it, readings they need, and the departure that drops it
#: (in interquartile ranges: 6 IQR ≈ 8 standard deviations of Gaussian noise).
SPIKE_WINDOW_DAYS, SPIKE_MIN_READINGS, SPIKE_IQRS = 14, 5, 6.0


@numba.njit(cache=True)
def drop_spikes(
    grid: np.ndarray,
    window: int = SPIKE_WINDOW_DAYS,
    min_count: int = SPIKE_MIN_READINGS,
    k: float = SPIKE_IQRS,
) -> np.ndarray:
    """A copy of ``grid`` (assets × days, NaN: no reading) with the spikes set to NaN.

    Examples
    --------
    >>> g = np.array([[10.0, 11.0, 9.0, 10.5, 9.5, 10.0, 100.0, 10.0]])
    >>> drop_spikes(g)[0, 6]
    nan
    """
    rows, days = grid.shape
    out = grid.copy()
    buf = np.empty(window)  # the readings of days [j - window, j), sorted
    for r in range(rows):
        n = 0
        for j in range(days):
            if j >= 1 and np.isfinite(grid[r, j - 1]):
                n = _insert(buf, n, grid[r, j - 1])
            if j > window and np.isfinite(grid[r, j - window - 1]):
                n = _remove(buf, n, grid[r, j - window - 1])
            x = grid[r, j]
            if n < min_count or not np.isfinite(x):
                continue
            median = 0.5 * (buf[(n - 1) // 2] + buf[n // 2])
            q = (n - 1) // 4
            spread = buf[n - 1 - q] - buf[q]
            if spread > 0.0 and abs(x - median) > k * spread:
                out[r, j] = np.nan
    return out


@numba.njit(cache=True)
def _insert(buf: np.ndarray, n: int, v: float) -> int:
    m = n
    while m > 0 and buf[m - 1] > v:
        buf[m] = buf[m - 1]
        m -= 1
    buf[m] = v
    return n + 1


@numba.njit(cache=True)
def _remove(buf: np.ndarray, n: int, v: float) -> int:
    m = 0
    while buf[m] != v:
        m += 1
    while m < n - 1:
        buf[m] = buf[m + 1]
        m += 1
    return n - 1
