"""The (year, channel) row-group layout: footers answer channels and span, filters skip groups,
and earlier-layout datasets read the same and can be rewritten in the new layout."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
from pandas.testing import assert_frame_equal

from asset_model import read_readings, readings_channels, readings_span, write_daily
from asset_model.readings_footers import (
    footer_groups,
    is_relaid,
    relayout_readings,
    row_groups,
)
from asset_model.readings_store import SCHEMA, bucket_of, iter_part_files

KEYS = ["asset_ref", "channel", "day"]
CHANNELS = ["energy_kwh", "cycles", "outdoor_temp_c"]


def _daily(seed: int, rows: int = 3000, first: str = "2022-12-01", days: int = 500):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "asset_ref": rng.choice([f"A{i}" for i in range(40)], rows),
            "channel": rng.choice(CHANNELS, rows),
            "day": pd.Timestamp(first) + pd.to_timedelta(rng.integers(0, days, rows), "D"),
            "value": rng.normal(size=rows).round(3),
            "n": np.ones(rows, dtype="int32"),
        }
    ).drop_duplicates(KEYS)


def _old_layout(folder: Path) -> None:
    """Rewrite every part as the earlier writer did: one row group, sorted by asset."""
    for path in iter_part_files(folder):
        table = pq.read_table(path, schema=SCHEMA).sort_by([(k, "ascending") for k in KEYS])
        pq.write_table(table, path, compression="zstd")


def _all(folder: Path, **filters) -> pd.DataFrame:
    got = read_readings(folder, **filters).compute()
    return got.sort_values(KEYS).reset_index(drop=True)


def test_new_parts_hold_one_row_group_per_year_and_channel(tmp_path: Path) -> None:
    write_daily(tmp_path, _daily(0), file_key="sim")
    for path in iter_part_files(tmp_path):
        groups = row_groups(path)
        assert is_relaid(path)
        keys = [(g.channel, g.day_min.year) for g in groups]
        assert len(keys) == len(set(keys)) > 1
        assert all(g.day_min.year == g.day_max.year for g in groups)


def test_footers_give_the_channels_and_span_that_decoding_gives(tmp_path: Path) -> None:
    write_daily(tmp_path, _daily(1), file_key="a")
    write_daily(tmp_path, _daily(2, first="2021-06-01", days=30), file_key="b")
    rows = _all(tmp_path)
    sensors = ["energy_kwh", "cycles"]
    want = rows[rows["channel"].isin(sensors)]["day"]
    assert readings_channels(tmp_path) == sorted(CHANNELS)
    assert readings_span(tmp_path, sensors) == (want.min(), want.max())
    assert readings_span(tmp_path, ["no_such_channel"]) == (None, None)
    assert readings_channels(tmp_path / "missing") == []
    groups = footer_groups(tmp_path)  # read once, for both: the same answers
    assert readings_channels(tmp_path, groups=groups) == sorted(CHANNELS)
    assert readings_span(tmp_path, sensors, groups=groups) == (want.min(), want.max())


def test_earlier_layout_is_answered_exactly(tmp_path: Path) -> None:
    weather = _daily(3, rows=200, first="2020-01-01", days=10)
    weather["channel"] = "outdoor_temp_c"  # outside the sensors' span: must not widen it
    sensors = _daily(4)
    sensors = sensors[sensors["channel"] != "outdoor_temp_c"]
    write_daily(tmp_path, pd.concat([weather, sensors]), file_key="old")
    _old_layout(tmp_path)
    assert not any(is_relaid(p) for p in iter_part_files(tmp_path))
    assert readings_channels(tmp_path) == sorted(CHANNELS)
    span = readings_span(tmp_path, ["energy_kwh", "cycles"])
    assert span == (sensors["day"].min(), sensors["day"].max())
    assert readings_span(tmp_path, ["outdoor_temp_c"])[0] == weather["day"].min()
    groups = footer_groups(tmp_path)
    assert readings_channels(tmp_path, groups=groups) == sorted(CHANNELS)
    assert readings_span(tmp_path, ["energy_kwh", "cycles"], groups=groups) == span


def test_relayout_keeps_the_rows_and_later_writes_winning(tmp_path: Path) -> None:
    src, copy = tmp_path / "src", tmp_path / "copy"
    first, second = _daily(5), _daily(6)  # share assets and keys: the second must win
    write_daily(src, first, file_key="first")
    write_daily(src, second, file_key="second")
    _old_layout(src)
    before = _all(src)
    window = {"channels": ["energy_kwh"], "start": "2023-03-01", "end": "2023-08-31"}
    before_window = _all(src, **window)
    assert relayout_readings(src, copy) == len(list(iter_part_files(src)))
    assert sorted(p.relative_to(copy) for p in iter_part_files(copy)) == sorted(
        p.relative_to(src) for p in iter_part_files(src)
    )
    assert all(is_relaid(p) for p in iter_part_files(copy))
    assert_frame_equal(_all(copy), before, check_exact=True)
    assert_frame_equal(_all(copy, **window), before_window, check_exact=True)
    # in place: only the files still in the earlier layout are rewritten
    assert relayout_readings(src) == len(list(iter_part_files(src)))
    assert relayout_readings(src) == 0
    assert_frame_equal(_all(src), before, check_exact=True)


def test_a_day_filter_decodes_only_the_groups_of_its_years(tmp_path: Path) -> None:
    write_daily(tmp_path, _daily(7), file_key="sim")
    path = next(iter(iter_part_files(tmp_path)))
    fragment = next(ds.dataset(path, schema=SCHEMA, format="parquet").get_fragments())
    expr = (ds.field("day") >= pa.scalar(pd.Timestamp("2024-01-01"), pa.timestamp("ms"))) & (
        ds.field("channel").isin(["energy_kwh"])
    )
    kept = fragment.split_by_row_group(filter=expr)
    assert 0 < len(kept) < len(row_groups(path))
    rows = _daily(7)
    want = rows[(rows["day"] >= "2024-01-01") & (rows["channel"] == "energy_kwh")]
    assert sum(f.count_rows(filter=expr) for f in kept) == len(
        want[want["asset_ref"].map(lambda r: f"bucket={bucket_of(r):02d}" == path.parent.name)]
    )
