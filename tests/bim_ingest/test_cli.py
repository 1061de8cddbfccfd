"""``patrimoine ingest`` and ``patrimoine export cobie`` through the real CLI."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from asset_model import open_registry
from asset_model.models import Asset
from patrimoine.cli import cli
from tests.bim_ingest.builders import build_model, write_model


def test_ingest_several_files_in_parallel_one_refused(tmp_path: Path, shared_ifc: Path) -> None:
    ws = tmp_path / "ws"
    good = write_model(build_model("IFC4"), tmp_path / "tilleuls.ifc")
    bad = tmp_path / "cut.ifc"
    bad.write_bytes(good.read_bytes()[:2000])
    heating = shared_ifc / "bim2sim__b03_heating_with_building_blenderBIM.ifc"
    result = CliRunner().invoke(
        cli,
        ["--workspace", str(ws), "ingest", str(good), str(bad), str(heating), "--processes", "2"],
    )
    assert result.exit_code == 1, result.output
    assert "cut.ifc: refused: truncated STEP file" in result.output
    assert "tilleuls.ifc: 9 assets (added 9" in result.output
    assert "network elements counted 197" in result.output
    assert "other" not in result.output.split("tilleuls.ifc")[1].split("\n")[0]
    assert "2 file(s) ingested, 1 refused." in result.output
    engine = open_registry(f"sqlite:///{ws / 'registry.sqlite'}")
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(Asset)) == 9 + 35
    engine.dispose()
    out = tmp_path / "cobie.xlsx"
    result = CliRunner().invoke(cli, ["--workspace", str(ws), "export", "cobie", str(out)])
    assert result.exit_code == 0, result.output
    assert out.stat().st_size > 0


def test_ingest_with_a_user_taxonomy(tmp_path: Path) -> None:
    tax = tmp_path / "tax.csv"
    tax.write_text("priority,ifc_class,category\n1,IfcElement,other\n", encoding="utf-8")
    model = write_model(build_model("IFC2X3"), tmp_path / "m.ifc")
    result = CliRunner().invoke(
        cli, ["--workspace", str(tmp_path / "ws"), "ingest", str(model), "--taxonomy", str(tax)]
    )
    assert result.exit_code == 0, result.output
    assert "by category: other 9;" in result.output
