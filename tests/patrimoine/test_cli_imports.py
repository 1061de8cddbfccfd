"""The ``import`` and ``export assets`` verbs, through click's runner and the installed script."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from asset_model import EXPORT_ASSET_COLUMNS, read_readings
from patrimoine import open_workspace
from patrimoine.cli import cli
from tests.asset_model.helpers import add_stock, counts, fixture


@pytest.fixture
def ws_dir(tmp_path: Path) -> Path:
    path = tmp_path / "ws"
    ws = open_workspace(path)
    with ws.session() as s:
        add_stock(s)
    ws.close()
    return path


def _run(ws_dir: Path, *args: str):  # noqa: ANN202
    return CliRunner().invoke(cli, ["--workspace", str(ws_dir), *args], catch_exceptions=False)


def _counts(ws_dir: Path) -> dict[str, int]:
    ws = open_workspace(ws_dir)
    try:
        with ws.session() as s:
            return counts(s)
    finally:
        ws.close()


def test_import_workorders_prints_a_summary(ws_dir: Path) -> None:
    result = _run(ws_dir, "import", "workorders", str(fixture("workorders_good.csv")))
    assert result.exit_code == 0, result.output
    assert "4 rows read, 4 written, 0 unchanged, 1 kept aside" in result.stdout
    assert "unknown asset refs (1): UNKNOWN-7" in result.stdout
    again = _run(ws_dir, "import", "workorders", str(fixture("workorders_good.csv")))
    assert "4 rows read, 0 written, 4 unchanged" in again.stdout


def test_column_map_option_takes_a_json_file_or_pairs(ws_dir: Path, tmp_path: Path) -> None:
    result = _run(
        ws_dir,
        "import",
        "workorders",
        str(fixture("workorders_fr_latin1.csv")),
        "--column-map",
        str(fixture("column_map_fr.json")),
    )
    assert result.exit_code == 0, result.output
    assert "3 rows read, 3 written" in result.stdout
    result = _run(
        ws_dir,
        "import",
        "readings",
        str(fixture("readings_fr_latin1.csv")),
        "--column-map",
        "Équipement=asset_ref,Mesure=channel,Valeur=value",
    )
    assert result.exit_code == 0, result.output
    assert "9 rows read" in result.stdout
    assert "6 daily values" in result.stdout
    daily = read_readings(ws_dir / "readings").compute()
    assert len(daily) == 6


def test_import_assets_then_export_assets(ws_dir: Path, tmp_path: Path) -> None:
    result = _run(ws_dir, "import", "assets", str(fixture("attributes_good.csv")))
    assert result.exit_code == 0, result.output
    assert "2 rows read, 2 written" in result.stdout
    out = tmp_path / "assets.csv"
    result = _run(ws_dir, "export", "assets", str(out))
    assert result.exit_code == 0, result.output
    assert f"{out}: 2 assets written" in result.stdout
    with out.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == EXPORT_ASSET_COLUMNS
    boiler = next(r for r in rows if r["asset_ref"] == "BOILER-A")
    assert (boiler["asset_tag"], boiler["installed_on"], boiler["category"]) == (
        "CH-001",
        "2009-09-15",
        "boiler",
    )
    assert boiler["building"] == "Bâtiment 1"


BAD_CASES = [
    ("workorders", "workorders_bad_dates.csv", "bad date '31/02/2024'"),
    ("workorders", "workorders_unknown_kind.csv", "unknown kind 'explosion'"),
    ("workorders", "workorders_negative_cost.csv", "negative value"),
    ("workorders", "workorders_not_numeric.csv", "not a number 'twelve'"),
    ("workorders", "workorders_duplicate_ids.csv", "duplicate work_order_id 'WO-1'"),
    ("workorders", "workorders_missing_columns.csv", "required column missing"),
    ("workorders", "workorders_missing_values.csv", "missing value"),
    ("workorders", "workorders_empty.csv", "the file is empty"),
    ("workorders", "workorders_header_only.csv", "no data rows"),
    ("workorders", "workorders_binary_garbage.csv", "binary content"),
    ("workorders", "workorders_wrong_field_count.csv", "row 3: expected 5 fields, found 6"),
    ("workorders", "no_such_file.csv", "no_such_file.csv: no such file"),
    ("readings", "readings_bad_rows.csv", "not a number 'lots'"),
    ("readings", "workorders_binary_garbage.csv", "binary content"),
    ("assets", "attributes_bad.csv", "bad date 'someday'"),
]


@pytest.mark.parametrize(("verb", "name", "reason"), BAD_CASES)
def test_bad_input_is_one_line_and_a_non_zero_exit(
    ws_dir: Path, verb: str, name: str, reason: str
) -> None:
    before = _counts(ws_dir)
    result = _run(ws_dir, "import", verb, str(fixture(name)))
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    assert reason in lines[0]
    assert "Traceback" not in result.output
    assert _counts(ws_dir) == before
    assert not list((ws_dir / "readings").glob("bucket=*/*.parquet"))


def test_bad_column_map_is_one_line(ws_dir: Path) -> None:
    result = _run(
        ws_dir, "import", "workorders", str(fixture("workorders_good.csv")), "--column-map", "oops"
    )
    assert result.exit_code == 1
    assert "column map entry 'oops' is not 'old=new'" in result.stderr


def test_installed_script_imports_and_fails_clearly(ws_dir: Path, tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "patrimoine"
    if not script.exists():
        pytest.skip(f"{script} is not installed (run make install)")
    good = subprocess.run(
        [
            str(script),
            "--workspace",
            str(ws_dir),
            "import",
            "readings",
            str(fixture("readings_hourly.csv")),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert good.returncode == 0, good.stderr
    assert "9 rows read" in good.stdout
    assert "unknown asset refs (1): GHOST-1" in good.stdout
    bad = subprocess.run(
        [
            str(script),
            "--workspace",
            str(ws_dir),
            "import",
            "workorders",
            str(fixture("workorders_unknown_kind.csv")),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert bad.returncode == 1
    assert bad.stderr.strip().count("\n") == 0
    assert "row 3, column 'kind': unknown kind 'explosion'" in bad.stderr
    mapping = tmp_path / "map.json"
    mapping.write_text(
        json.dumps({"Équipement": "asset_ref", "Mesure": "channel", "Valeur": "value"}),
        encoding="utf-8",
    )
    fr = subprocess.run(
        [
            str(script),
            "--workspace",
            str(ws_dir),
            "import",
            "readings",
            str(fixture("readings_fr_latin1.csv")),
            "--column-map",
            str(mapping),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert fr.returncode == 0, fr.stderr


def test_import_readings_takes_several_files_and_folders(ws_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "meters"
    folder.mkdir()
    (folder / "a.csv").write_text("asset_ref,channel,ts,value\nBOILER-A,cycles,2024-01-01,3\n")
    (folder / "b.csv").write_text("asset_ref,channel,ts,value\nBOILER-A,cycles,2024-01-02,4\n")
    (folder / "notes.md").write_text("not a reading file")
    result = _run(ws_dir, "import", "readings", str(folder), str(fixture("readings_hourly.csv")))
    assert result.exit_code == 0, result.output
    assert result.stdout.count("rows read") == 3
    daily = read_readings(ws_dir / "readings", channels=["cycles"]).compute()
    assert sorted(daily["value"]) == [3.0, 4.0]
    empty = tmp_path / "empty-folder"
    empty.mkdir()
    result = _run(ws_dir, "import", "readings", str(empty))
    assert result.exit_code == 1
    assert "no .csv, .xlsx or .parquet file in it" in result.stderr


def test_import_relayout_rewrites_earlier_readings_once(ws_dir: Path) -> None:
    from asset_model.readings_footers import is_relaid
    from tests.asset_model.test_readings_footers import _old_layout

    result = _run(ws_dir, "import", "readings", str(fixture("readings_hourly.csv")))
    assert result.exit_code == 0, result.output
    before = read_readings(ws_dir / "readings").compute()
    _old_layout(ws_dir / "readings")
    parts = list((ws_dir / "readings").glob("bucket=*/part-*.parquet"))
    files = sum(not is_relaid(p) for p in parts)  # a one-channel, one-year part already is
    assert files > 0
    result = _run(ws_dir, "import", "relayout")
    assert result.exit_code == 0, result.output
    assert f"{files} readings file(s) rewritten" in result.stdout
    assert _run(ws_dir, "import", "relayout").stdout.startswith("0 readings file(s)")
    assert all(is_relaid(p) for p in parts)
    after = read_readings(ws_dir / "readings").compute()
    pd.testing.assert_frame_equal(after, before, check_exact=True)
