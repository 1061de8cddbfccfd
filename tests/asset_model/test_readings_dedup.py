"""Reading a bucket of several part files: later writes win, and only shared assets pay for it.

Each case writes random daily readings under several writers (``file_key``), then compares
``read_readings`` with a plain pandas reference: every part of a bucket in write order,
concatenated, filtered, ``drop_duplicates(keep="last")`` on (asset_ref, channel, day).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from asset_model import read_readings, write_daily
from asset_model.readings_store import _row_groups, _scan, iter_part_files, latest_wins

KEYS = ["asset_ref", "channel", "day"]


def _random_daily(rng: np.random.Generator, refs: list[str], rows: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "asset_ref": rng.choice(refs, rows),
            "channel": rng.choice(["energy_kwh", "cycles", "supply_temp_c"], rows),
            "day": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 40, rows), "D"),
            "value": rng.normal(size=rows).round(3),
            "n": rng.integers(1, 25, rows).astype("int32"),
        }
    ).drop_duplicates(KEYS)  # one writer never holds a key twice (the importers aggregate)


def _reference(folder: Path, **filters) -> pd.DataFrame:
    """The store read the slow, obvious way: pandas over each bucket's parts in write order."""
    out = []
    for bucket in sorted(p for p in folder.glob("bucket=*") if p.is_dir()):
        parts = [pd.read_parquet(f) for f in sorted(bucket.glob("part-*.parquet"))]
        frame = pd.concat(parts, ignore_index=True)
        if filters.get("channels") is not None:
            frame = frame[frame["channel"].isin(filters["channels"])]
        if filters.get("asset_refs") is not None:
            frame = frame[frame["asset_ref"].isin(filters["asset_refs"])]
        if filters.get("start") is not None:
            frame = frame[frame["day"] >= pd.Timestamp(filters["start"])]
        if filters.get("end") is not None:
            frame = frame[frame["day"] <= pd.Timestamp(filters["end"])]
        out.append(frame.drop_duplicates(KEYS, keep="last"))
    return pd.concat(out, ignore_index=True)


def _same(got: pd.DataFrame, want: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(
        got.reset_index(drop=True), want.reset_index(drop=True), check_dtype=False
    )


def _check_reads(folder: Path, cases: list[dict]) -> None:
    """Each filter reads what the plain pandas reference gives, as strings and as categoricals."""
    for filters in cases:
        got = read_readings(folder, **filters).compute()
        _same(got, _reference(folder, **filters))
        cats = read_readings(folder, categories=True, **filters).compute()
        assert isinstance(cats["asset_ref"].dtype, pd.CategoricalDtype)
        assert isinstance(cats["channel"].dtype, pd.CategoricalDtype)
        _same(cats.astype({"asset_ref": "str", "channel": "str"}), got)


@pytest.mark.parametrize("writers", [1, 2, 5])
def test_overlapping_writers_later_part_wins(tmp_path: Path, writers: int) -> None:
    rng = np.random.default_rng(writers)
    refs = [f"A{i:03d}" for i in range(60)]
    for w in range(writers):
        write_daily(tmp_path, _random_daily(rng, refs, 800), file_key=f"w{w}")
    got = read_readings(tmp_path).compute()
    want = _reference(tmp_path)
    _same(got, want)
    assert not got.duplicated(KEYS).any()
    if writers > 1:  # some keys really were written twice, and the later value was kept
        assert len(got) < sum(len(pd.read_parquet(f)) for f in tmp_path.rglob("part-*"))


def test_disjoint_writers_are_concatenated_whole(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    for w in range(4):
        refs = [f"W{w}-{i}" for i in range(30)]
        write_daily(tmp_path, _random_daily(rng, refs, 500), file_key=f"w{w}")
    got = read_readings(tmp_path).compute()
    _same(got, _reference(tmp_path))
    assert len(got) == sum(len(pd.read_parquet(f)) for f in tmp_path.rglob("part-*"))


def test_filters_apply_before_the_later_write_wins(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    refs = [f"A{i:03d}" for i in range(40)]
    for w in range(3):
        write_daily(tmp_path, _random_daily(rng, refs, 600), file_key=f"w{w}")
    filters = {"channels": ["cycles", "energy_kwh"], "asset_refs": refs[::3], "start": "2024-01-20"}
    got = read_readings(tmp_path, **filters).compute()
    _same(got, _reference(tmp_path, **filters))
    cols = read_readings(tmp_path, columns=["value"], **filters).compute()
    assert cols.columns.tolist() == ["value"]
    assert cols["value"].tolist() == got["value"].tolist()


def test_footers_skip_groups_and_every_filter_still_reads_the_reference(tmp_path: Path) -> None:
    """Several years and writers, some wholly outside the filters: the groups the footers rule
    out are not read, and what is read equals the reference, rows in the same order."""
    rng = np.random.default_rng(11)
    refs = [f"Y{i:03d}" for i in range(24)]
    for w in range(6):
        daily = _random_daily(rng, refs, 500)
        daily["day"] += pd.to_timedelta(rng.integers(0, 3, len(daily)) * 365 + 300 * (w == 5), "D")
        write_daily(tmp_path, daily.drop_duplicates(KEYS), file_key=f"w{w}")
    cases = [
        {},
        {"start": "2025-01-10", "end": "2025-12-31"},
        {"channels": ["cycles"], "start": "2024-01-25", "end": "2025-01-05"},
        {"channels": ["supply_temp_c", "energy_kwh"], "asset_refs": refs[::4], "end": "2024-02-01"},
        {"start": "2030-01-01"},
    ]
    _check_reads(tmp_path, cases)
    metas = [pq.ParquetFile(path).metadata for path in iter_part_files(tmp_path)]
    scan = _scan(["cycles"], "2025-01-10", "2025-12-31", None)
    admitted = sum(len(_row_groups(meta, scan)[0]) for meta in metas)
    assert 0 < admitted < sum(meta.num_row_groups for meta in metas) / 4
    # every other part in the earlier layout (one group, every channel): the channel test runs
    for path in list(iter_part_files(tmp_path))[::2]:
        pq.write_table(pq.read_table(path), path)
        assert not _row_groups(pq.ParquetFile(path).metadata, scan)[1]
    _check_reads(tmp_path, cases)


def test_latest_wins_keeps_the_last_row_of_each_key_in_place() -> None:
    day = pa.array([1, 1, 2], pa.int64())
    first = pa.table(
        {"asset_ref": ["A", "B", "A"], "channel": ["c"] * 3, "day": day, "v": [1, 2, 3]}
    )
    second = pa.table({"asset_ref": ["C", "A"], "channel": ["c", "c"], "day": [1, 2], "v": [4, 5]})
    third = pa.table({"asset_ref": ["A"], "channel": ["c"], "day": [1], "v": [6]})
    got = latest_wins([first, second.cast(first.schema), third.cast(first.schema)])
    assert got["v"].to_pylist() == [2, 4, 5, 6]
    assert latest_wins([first, first.slice(0, 0)])["v"].to_pylist() == [1, 2, 3]
