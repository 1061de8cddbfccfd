"""Readings imports: daily aggregation, formats, streaming spill, idempotence, bad rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func, select

from asset_model import ImportValidationError, import_readings, read_readings
from asset_model.imports import daily as daily_module
from asset_model.imports import readings as readings_module
from asset_model.models import ImportRecord
from asset_model.readings_store import iter_part_files
from tests.asset_model.helpers import add_stock, counts, fixture

EXPECTED = {
    ("BOILER-A", "energy_kwh", "2024-01-05"): (4.0, 2),  # summed
    ("BOILER-A", "energy_kwh", "2024-01-06"): (4.0, 1),
    ("BOILER-A", "supply_temp_c", "2024-01-05"): (65.0, 2),  # averaged
    ("LIFT-1", "trips", "2024-01-05"): (25.0, 2),
    ("BLDG-1", "outdoor_temp_c", "2024-01-05"): (3.5, 1),
    ("GHOST-1", "energy_kwh", "2024-01-05"): (7.0, 1),
}


@pytest.fixture
def ws(workspace):  # noqa: ANN001, ANN201
    with workspace.session() as s:
        add_stock(s)
    return workspace


def _as_dict(dataset: Path) -> dict[tuple[str, str, str], tuple[float, int]]:
    frame = read_readings(dataset).compute()
    return {
        (r.asset_ref, r.channel, r.day.strftime("%Y-%m-%d")): (r.value, int(r.n))
        for r in frame.itertuples()
    }


def test_hourly_csv_is_aggregated_to_daily(ws) -> None:  # noqa: ANN001
    with ws.session() as s:
        summary = import_readings(s, ws.readings_dir, fixture("readings_hourly.csv"))
    assert _as_dict(ws.readings_dir) == EXPECTED
    assert (summary.rows_read, summary.daily_rows) == (9, 6)
    # BLDG-1 is a building GlobalId (weather), LIFT-1 an asset tag: both known
    assert summary.unknown_refs == ("GHOST-1",)
    assert summary.rows_pending == 1
    with ws.session() as s:
        record = s.scalar(select(ImportRecord))
    assert (record.kind, record.rows_read, record.rows_pending) == ("readings", 9, 1)


def test_french_latin1_readings_with_column_map(ws) -> None:  # noqa: ANN001
    with ws.session() as s:
        import_readings(
            s,
            ws.readings_dir,
            fixture("readings_fr_latin1.csv"),
            column_map={"Équipement": "asset_ref", "Mesure": "channel", "Valeur": "value"},
        )
    assert _as_dict(ws.readings_dir) == EXPECTED  # "Date" is accepted as the ts header


@pytest.mark.parametrize("fmt", ["parquet", "xlsx"])
def test_parquet_and_xlsx_inputs(ws, tmp_path: Path, fmt: str) -> None:  # noqa: ANN001
    source = pd.read_csv(fixture("readings_hourly.csv"))
    source["ts"] = pd.to_datetime(source["ts"], format="ISO8601")
    path = tmp_path / f"readings.{fmt}"
    if fmt == "parquet":
        source.to_parquet(path, index=False)
    else:
        source.to_excel(path, index=False, engine="openpyxl")
    with ws.session() as s:
        import_readings(s, ws.readings_dir, path)
    assert _as_dict(ws.readings_dir) == EXPECTED


def test_reimport_changes_nothing(ws) -> None:  # noqa: ANN001
    with ws.session() as s:
        import_readings(s, ws.readings_dir, fixture("readings_hourly.csv"))
    files = {p: p.stat().st_mtime_ns for p in iter_part_files(ws.readings_dir)}
    with ws.session() as s:
        again = import_readings(s, ws.readings_dir, fixture("readings_hourly.csv"))
        n_records = s.scalar(select(func.count()).select_from(ImportRecord))
    assert {p: p.stat().st_mtime_ns for p in iter_part_files(ws.readings_dir)} == files
    assert (again.rows_written, again.rows_unchanged, n_records) == (0, 9, 1)
    assert _as_dict(ws.readings_dir) == EXPECTED


def test_a_later_file_overrides_the_same_days(ws, tmp_path: Path) -> None:  # noqa: ANN001
    with ws.session() as s:
        import_readings(s, ws.readings_dir, fixture("readings_hourly.csv"))
    fix = tmp_path / "fix.csv"
    fix.write_text("asset_ref,channel,ts,value\nBOILER-A,energy_kwh,2024-01-06,9\n")
    with ws.session() as s:
        import_readings(s, ws.readings_dir, fix)
    got = _as_dict(ws.readings_dir)
    assert got[("BOILER-A", "energy_kwh", "2024-01-06")] == (9.0, 1)
    assert got[("BOILER-A", "energy_kwh", "2024-01-05")] == (4.0, 2)


def test_bad_rows_are_all_listed_and_nothing_is_written(ws) -> None:  # noqa: ANN001
    with ws.session() as s:
        before = counts(s)
    with pytest.raises(ImportValidationError) as info, ws.session() as s:
        import_readings(s, ws.readings_dir, fixture("readings_bad_rows.csv"))
    message = str(info.value)
    assert "readings_bad_rows.csv: 5 problems, nothing imported" in message
    for expected in (
        "row 3, column 'ts': bad date",
        "row 4, column 'value': not a number 'lots'",
        "row 5, column 'asset_ref': missing value",
        "row 6, column 'channel': missing value",
        "row 7, column 'value': missing value",
    ):
        assert expected in message
    assert list(iter_part_files(ws.readings_dir)) == []
    assert not list(ws.readings_dir.glob(".import-*"))  # no temporary spill left behind
    with ws.session() as s:
        assert counts(s) == before


def test_missing_columns_and_empty_files(ws, tmp_path: Path) -> None:  # noqa: ANN001
    missing = "column 'value': required column missing"
    with pytest.raises(ImportValidationError, match=missing), ws.session() as s:
        import_readings(s, ws.readings_dir, fixture("workorders_good.csv"))
    empty = tmp_path / "empty.csv"
    empty.write_text("asset_ref,channel,ts,value\n")
    with pytest.raises(ImportValidationError, match="no data rows"), ws.session() as s:
        import_readings(s, ws.readings_dir, empty)
    with pytest.raises(ImportValidationError, match="binary content"), ws.session() as s:
        import_readings(s, ws.readings_dir, fixture("workorders_binary_garbage.csv"))


def test_spilling_to_disk_gives_the_same_dataset(sqlite_workspace, tmp_path, monkeypatch) -> None:  # noqa: ANN001
    rng = np.random.default_rng(7)
    n = 20_000
    frame = pd.DataFrame(
        {
            "asset_ref": rng.choice([f"A{i}" for i in range(50)], n),
            "channel": rng.choice(["energy_kwh", "supply_temp_c"], n),
            "ts": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 30 * 24, n), "h"),
            "value": rng.random(n).round(3),
        }
    )
    path = tmp_path / "many.csv"
    frame.to_csv(path, index=False)
    with sqlite_workspace.session() as s:
        import_readings(s, tmp_path / "in_memory", path)
    monkeypatch.setattr(daily_module, "SPILL_ROWS", 100)
    monkeypatch.setattr(readings_module, "CSV_BLOCK_BYTES", 64 * 1024)
    with sqlite_workspace.session() as s:
        s.execute(ImportRecord.__table__.delete())
        import_readings(s, tmp_path / "spilled", path)
    a = read_readings(tmp_path / "in_memory").compute().sort_values(["asset_ref", "channel", "day"])
    b = read_readings(tmp_path / "spilled").compute().sort_values(["asset_ref", "channel", "day"])
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True))
    frame["day"] = frame["ts"].dt.floor("D")
    expected_energy = frame[frame.channel == "energy_kwh"].groupby(["asset_ref", "day"]).value.sum()
    got = a[a.channel == "energy_kwh"].set_index(["asset_ref", "day"])["value"]
    np.testing.assert_allclose(got.sort_index().to_numpy(), expected_energy.sort_index().to_numpy())


def test_offsets_become_local_days_and_progress_is_reported(ws, tmp_path: Path) -> None:  # noqa: ANN001
    path = tmp_path / "tz.csv"
    path.write_text(
        "asset_ref,channel,ts,value\n"
        "BOILER-A,energy_kwh,2024-01-05T23:30:00Z,1\n"  # 00:30 on the 6th in Paris
        "BOILER-A,energy_kwh,2024-01-06T10:00:00+01:00,2\n"
        "BOILER-A,energy_kwh,2024-01-05T22:00:00,4\n"  # naive: local already
    )
    seen: list[int] = []
    with ws.session() as s:
        import_readings(s, ws.readings_dir, path, progress=seen.append)
    got = _as_dict(ws.readings_dir)
    assert got == {
        ("BOILER-A", "energy_kwh", "2024-01-05"): (4.0, 1),
        ("BOILER-A", "energy_kwh", "2024-01-06"): (3.0, 2),
    }
    assert seen[-1] == 3


def test_malformed_records_are_numbered_with_the_other_problems(ws, tmp_path: Path) -> None:  # noqa: ANN001
    path = tmp_path / "fields.csv"
    path.write_text(
        "asset_ref,channel,ts,value\n"
        "BOILER-A,energy_kwh,2024-01-01,1\n"
        "BOILER-A,energy_kwh,2024-01-01,1,2\n"
        "BOILER-A,energy_kwh,2024-01-02,x\n"
    )
    with pytest.raises(ImportValidationError) as info, ws.session() as s:
        import_readings(s, ws.readings_dir, path)
    assert [(p.row, p.column) for p in info.value.problems] == [(3, None), (4, "value")]
    assert "expected 4 fields, found 5" in str(info.value)
    assert list(iter_part_files(ws.readings_dir)) == []


def test_parquet_with_categories_and_empty_strings(ws, tmp_path: Path) -> None:  # noqa: ANN001
    frame = pd.DataFrame(
        {
            "Asset_Ref": pd.Categorical(["BOILER-A", "BOILER-A", ""]),
            "Channel": pd.Categorical(["cycles", "cycles", "cycles"]),
            "Horodatage": ["2024/01/05 10:00:00", "05/01/2024 11:00", "2024-01-05"],
            "Value": ["3", "4,5", "1"],
        }
    )
    path = tmp_path / "cat.parquet"
    frame.to_parquet(path, index=False)
    missing = r"row 4, column 'asset_ref': missing value"
    with pytest.raises(ImportValidationError, match=missing), ws.session() as s:
        import_readings(s, ws.readings_dir, path, column_map={"Horodatage": "date"})
    frame.loc[2, "Asset_Ref"] = "BOILER-A"
    frame.to_parquet(path, index=False)
    with ws.session() as s:
        import_readings(s, ws.readings_dir, path, column_map={"Horodatage": "date"})
    assert _as_dict(ws.readings_dir) == {("BOILER-A", "cycles", "2024-01-05"): (8.5, 3)}
