"""The readings store: partitioned Parquet dataset, idempotent writes, lazy filtered reads."""

from __future__ import annotations

import zlib
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from asset_model import aggregation_of, bucket_of, read_readings, readings_channels, write_daily
from asset_model.readings_store import (
    N_BUCKETS,
    ReadingsStoreError,
    buckets_of,
    crc32_many,
    iter_part_files,
)


def _daily(refs: list[str], days: int = 3, channel: str = "energy_kwh", base: float = 0.0):
    rows = [
        {
            "asset_ref": ref,
            "channel": channel,
            "day": pd.Timestamp("2024-01-01") + pd.Timedelta(days=d),
            "value": base + i * 10 + d,
            "n": 24,
        }
        for i, ref in enumerate(refs)
        for d in range(days)
    ]
    return pd.DataFrame(rows)


def test_round_trip_keeps_schema_and_values(tmp_path: Path) -> None:
    daily = _daily(["A", "B", "C"])
    assert write_daily(tmp_path, daily, file_key="k1") == 9
    got = read_readings(tmp_path).compute().sort_values(["asset_ref", "day"])
    assert got.columns.tolist() == ["asset_ref", "channel", "day", "value", "n"]
    assert str(got["day"].dtype) == "datetime64[ms]"
    assert str(got["n"].dtype) == "int32"
    assert got["value"].tolist() == daily.sort_values(["asset_ref", "day"])["value"].tolist()


def test_vectorised_hashes_are_zlib_crc32_of_every_ref() -> None:
    # GlobalIds, free-text refs of any length, accents, the empty string; a sliced array
    refs = ["2O2Fr$t4X7Zf8NOew3FLOH", "ASSET-7", "", "chaudière-é€", "x" * 300, "ASSET-7"]
    refs += [f"ref-{i}" * (i % 7) for i in range(500)]
    arr = pa.array(["pad", *refs])[1:]
    assert crc32_many(arr).tolist() == [zlib.crc32(r.encode("utf-8")) for r in refs]
    assert buckets_of(arr).tolist() == [bucket_of(r) for r in refs]
    assert buckets_of(pa.chunked_array([arr[:3], arr[3:]])).tolist() == [bucket_of(r) for r in refs]
    assert crc32_many(pa.array([], pa.string())).tolist() == []
    with pytest.raises(ReadingsStoreError, match="null"):
        crc32_many(pa.array(["A", None]))


def test_buckets_are_stable_hashes_and_hold_whole_assets(tmp_path: Path) -> None:
    refs = [f"ASSET-{i}" for i in range(200)]
    write_daily(tmp_path, _daily(refs, days=2), file_key="k")
    assert bucket_of("ASSET-7") == zlib.crc32(b"ASSET-7") % N_BUCKETS
    folders = {p.parent.name for p in iter_part_files(tmp_path)}
    assert folders == {f"bucket={bucket_of(r):02d}" for r in refs}
    ddf = read_readings(tmp_path)
    assert ddf.npartitions == len(folders)
    seen: set[str] = set()
    for i in range(ddf.npartitions):
        part_refs = set(ddf.get_partition(i).compute()["asset_ref"])
        assert not part_refs & seen  # no asset split across partitions
        seen |= part_refs
    assert seen == set(refs)


def test_filters_and_columns_are_applied(tmp_path: Path) -> None:
    write_daily(tmp_path, _daily(["A", "B"], days=5), file_key="e")
    write_daily(tmp_path, _daily(["A"], days=5, channel="supply_temp_c"), file_key="t")
    got = read_readings(
        tmp_path,
        channels=["energy_kwh"],
        start="2024-01-02",
        end="2024-01-03",
        asset_refs=["A"],
        columns=["day", "value"],
    ).compute()
    assert got.columns.tolist() == ["day", "value"]
    assert got["day"].dt.strftime("%Y-%m-%d").tolist() == ["2024-01-02", "2024-01-03"]
    assert readings_channels(tmp_path) == ["energy_kwh", "supply_temp_c"]


def test_same_key_rewrites_and_later_key_wins(tmp_path: Path) -> None:
    daily = _daily(["A", "B"])
    write_daily(tmp_path, daily, file_key="first")
    files = sorted(p.name for p in iter_part_files(tmp_path))
    write_daily(tmp_path, daily, file_key="first")
    assert sorted(p.name for p in iter_part_files(tmp_path)) == files
    assert len(read_readings(tmp_path).compute()) == 6
    write_daily(tmp_path, _daily(["A"], base=1000.0), file_key="second")
    got = read_readings(tmp_path, asset_refs=["A"]).compute()
    assert len(got) == 3
    assert (got["value"] >= 1000).all()


def test_empty_or_missing_dataset_reads_as_empty_frame(tmp_path: Path) -> None:
    got = read_readings(tmp_path / "nothing-here").compute()
    assert got.empty
    assert got.columns.tolist() == ["asset_ref", "channel", "day", "value", "n"]
    assert readings_channels(tmp_path / "nothing-here") == []


def test_bad_frames_and_keys_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ReadingsStoreError, match=r"lack column\(s\) \['value'\]"):
        write_daily(tmp_path, _daily(["A"]).drop(columns="value"), file_key="k")
    with pytest.raises(ReadingsStoreError, match="file_key"):
        write_daily(tmp_path, _daily(["A"]), file_key="../escape")
    with pytest.raises(ReadingsStoreError, match="unknown readings column"):
        read_readings(tmp_path, columns=["kwh"])


@pytest.mark.parametrize(
    ("channel", "how"),
    [
        ("energy_kwh", "sum"),
        ("runtime_h", "sum"),
        ("cycles", "sum"),
        ("fault_count", "sum"),
        ("trips", "sum"),
        ("door_reopens", "sum"),
        ("gas_kwh", "sum"),
        ("supply_temp_c", "mean"),
        ("outdoor_temp_c", "mean"),
        ("cop", "mean"),
    ],
)
def test_aggregation_table(channel: str, how: str) -> None:
    assert aggregation_of(channel) == how


def test_buckets_keep_whole_buckets_and_channels_come_from_every_part(tmp_path: Path) -> None:
    refs = [f"A{i}" for i in range(40)]
    write_daily(tmp_path, _daily(refs), file_key="e")
    write_daily(tmp_path, _daily(refs[:3], channel="trips"), file_key="t")
    chosen = sorted({bucket_of(r) for r in refs[:5]})
    got = read_readings(tmp_path, buckets=chosen).compute()
    assert sorted(got["asset_ref"].unique()) == sorted(r for r in refs if bucket_of(r) in chosen)
    assert read_readings(tmp_path, buckets=[]).compute().empty
    assert readings_channels(tmp_path) == ["energy_kwh", "trips"]
