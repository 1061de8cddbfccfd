"""The trailing Hampel filter that drops meter spikes before the window statistics."""

from __future__ import annotations

import numpy as np
import pytest

from predict.features.spikes import SPIKE_IQRS, SPIKE_MIN_READINGS, SPIKE_WINDOW_DAYS, drop_spikes


def _reference(grid: np.ndarray) -> np.ndarray:
    """The rule written plainly: each reading against the sorted readings of the days before."""
    out = grid.copy()
    for r, j in zip(*np.nonzero(np.isfinite(grid)), strict=True):
        before = grid[r, max(0, j - SPIKE_WINDOW_DAYS) : j]
        before = np.sort(before[np.isfinite(before)])
        n = len(before)
        if n < SPIKE_MIN_READINGS:
            continue
        median = 0.5 * (before[(n - 1) // 2] + before[n // 2])
        q = (n - 1) // 4
        spread = before[n - 1 - q] - before[q]
        if spread > 0 and abs(grid[r, j] - median) > SPIKE_IQRS * spread:
            out[r, j] = np.nan
    return out


def _meters(seed: int) -> np.ndarray:
    """Noisy daily values with gaps, a dead month, spikes, ties, counts and a constant."""
    rng = np.random.default_rng(seed)
    grid = np.round(rng.lognormal(1.5, 0.1, (30, 200)), 1)
    grid[rng.random(grid.shape) < 0.08] = np.nan
    grid[rng.random(grid.shape) < 0.01] *= 10
    grid[2, 60:95] = np.nan
    grid[3] = rng.poisson(0.3, 200)  # fault counts: mostly zero
    grid[4] = 7.0  # a constant: no spread, nothing judged
    grid[5, 100:] *= -1  # a sign change: negative values too
    return grid


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_kernel_equals_the_plain_rule(seed):
    grid = _meters(seed)
    got = drop_spikes(grid)
    np.testing.assert_array_equal(got, _reference(grid))
    dropped = np.isnan(got) & ~np.isnan(grid)
    assert dropped.any()
    assert not dropped[3:5].any()  # counts and constants untouched
    assert np.array_equal(got[~dropped], grid[~dropped], equal_nan=True)


def test_a_tenfold_reading_is_dropped_and_its_neighbours_kept():
    days = np.array([[10.0, 11.0, 9.0, 10.5, 9.5, 10.0, 100.0, 10.0, 10.4]])
    got = drop_spikes(days)
    assert np.isnan(got[0, 6])
    assert np.isfinite(np.delete(got[0], 6)).all()


def test_a_reading_is_judged_only_by_the_days_before_it():
    grid = _meters(3)
    later = grid.copy()
    later[:, 120:] = np.where(np.isfinite(later[:, 120:]), later[:, 120:] * 50, 1.0)
    np.testing.assert_array_equal(drop_spikes(grid)[:, :120], drop_spikes(later)[:, :120])


def test_a_lasting_step_is_kept_once_the_window_has_seen_it():
    rng = np.random.default_rng(4)
    grid = rng.lognormal(0.0, 0.05, (1, 60))
    grid[0, 30:] *= 3.0  # the equipment's consumption triples and stays there
    got = drop_spikes(grid)
    assert np.isfinite(got[0, 30 + SPIKE_WINDOW_DAYS // 2 + 1 :]).all()
    assert np.isfinite(got[0, :30]).all()


def test_too_few_readings_judge_nothing():
    grid = np.full((1, 40), np.nan)
    grid[0, [0, 5, 10, 15, 20]] = [1.0, 1.1, 0.9, 1.0, 50.0]
    np.testing.assert_array_equal(drop_spikes(grid), grid)
