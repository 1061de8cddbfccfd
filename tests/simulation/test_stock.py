"""The sample stock generator: deterministic, real IFC, ingested with the expected categories."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import ifcopenshell
import pytest

from bim_ingest import ingest_file
from simulation import file_summary, generate_stock, plan_stock, stock_frames
from simulation.stock import DWELLINGS_PER_ESTATE

SAMPLE = Path(__file__).resolve().parents[2] / "sample_ifc"


def _guids(path: Path) -> list[str]:
    return sorted(e.GlobalId for e in ifcopenshell.open(str(path)).by_type("IfcRoot"))


def test_generator_is_deterministic_and_seeded(tmp_path: Path) -> None:
    first = generate_stock(tmp_path / "a", estates=1, seed=3)
    again = generate_stock(tmp_path / "b", estates=1, seed=3)
    other = generate_stock(tmp_path / "c", estates=1, seed=4)
    assert [p.name for p in first] == [p.name for p in again]
    for p, q in zip(first, again, strict=True):
        assert p.read_bytes() == q.read_bytes()
        assert _guids(p) == _guids(q)
    assert set(_guids(first[0])).isdisjoint(_guids(other[0]))
    counts = file_summary(first).groupby("ifc_class")["count"].sum()
    assert counts.equals(file_summary(again).groupby("ifc_class")["count"].sum())


def test_committed_sample_is_what_the_generator_makes(tmp_path: Path) -> None:
    made = generate_stock(tmp_path, estates=1, seed=0)
    committed = sorted(SAMPLE.glob("*.ifc"))
    assert [p.name for p in committed] == [p.name for p in made]
    for p, q in zip(committed, made, strict=True):
        assert p.read_bytes() == q.read_bytes(), f"{p.name} differs: regenerate sample_ifc/"
    assert sum(p.stat().st_size for p in committed) < 3e6


def test_sample_files_look_like_real_deliveries() -> None:
    files = {p.name: ifcopenshell.open(str(p)) for p in sorted(SAMPLE.glob("*.ifc"))}
    schemas = Counter(f.schema for f in files.values())
    assert schemas["IFC2X3"] >= 1
    assert schemas["IFC4"] >= 1
    tower = next(f for n, f in files.items() if "_A_" in n)
    site = tower.by_type("IfcSite")[0]
    assert site.RefLatitude[0] == 50
    assert site.RefLongitude[0] == 3
    assert site.SiteAddress.Town == "Lille"
    assert len(tower.by_type("IfcBuildingStorey")) >= 13
    lifts = [e for e in tower.by_type("IfcTransportElement") if e.PredefinedType == "ELEVATOR"]
    assert len(lifts) == 2
    assert tower.by_type("IfcBoiler")
    assert len(tower.by_type("IfcPump")) >= 2
    assert tower.by_type("IfcFan")
    zones = tower.by_type("IfcZone")
    assert len(zones) == 72
    assert all(z.Name.startswith("Logement ") for z in zones)
    psets = {p.Name for p in tower.by_type("IfcPropertySet")}
    assert {"Pset_ManufacturerTypeInformation", "Pset_ServiceLife", "Pset_BuildingCommon"} <= psets
    walkup = next(f for n, f in files.items() if "_B_" in n)
    assert walkup.schema == "IFC2X3"
    # equipment known by its type object only
    boilers = walkup.by_type("IfcEnergyConversionDevice")
    assert boilers
    assert all("haudi" not in (b.Name or "") for b in boilers)
    assert all(
        b.IsDefinedBy and any(r.is_a("IfcRelDefinesByType") for r in b.IsDefinedBy) for b in boilers
    )
    proxies = walkup.by_type("IfcBuildingElementProxy")
    assert proxies
    assert all(p.Name.startswith("Chauffe-eau électrique 200L") for p in proxies)


def test_sample_ingests_with_expected_categories(sqlite_workspace) -> None:
    from asset_model import assets_frame, dwellings_frame

    for path in sorted(SAMPLE.glob("*.ifc")):
        ingest_file(sqlite_workspace.engine, path)
    planned, _, _ = stock_frames(plan_stock(estates=1, seed=0))
    with sqlite_workspace.session() as session:
        assets = assets_frame(session)
        dwellings = dwellings_frame(session)
    assert len(dwellings) == DWELLINGS_PER_ESTATE
    got = assets.set_index("asset_ref")[["category", "serves"]]
    want = planned.set_index("asset_ref")[["category", "serves"]]
    assert set(got.index) == set(want.index)
    joined = want.merge(got, left_index=True, right_index=True, suffixes=("", "_registry"))
    wrong = joined[joined["category"] != joined["category_registry"]]
    assert wrong.empty, wrong.head().to_string()
    for cat in (
        "boiler",
        "pump",
        "ventilation_fan",
        "elevator",
        "radiator",
        "water_heater",
        "heat_pump",
    ):
        assert (assets["category"] == cat).any(), cat
    coll = joined[joined["category"] == "boiler"]
    assert (coll["serves"] == coll["serves_registry"]).all()


def test_plan_stock_rejects_bad_sizes() -> None:
    with pytest.raises(ValueError, match="dwellings must be >= 1"):
        plan_stock(dwellings=0)
    assert len(plan_stock(dwellings=DWELLINGS_PER_ESTATE + 1).dwellings) == 2 * 164


def test_generate_stock_cli(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from patrimoine.cli import cli

    out = tmp_path / "stock"
    result = CliRunner().invoke(cli, ["generate-stock", "--dwellings", "200", "--out", str(out)])
    assert result.exit_code == 0, result.output
    files = sorted(out.glob("*.ifc"))
    assert len(files) == 10  # two estates, one file per building
    assert "Wrote 10 IFC files" in result.output
    bad = CliRunner().invoke(cli, ["generate-stock", "--dwellings", "0", "--out", str(out)])
    assert bad.exit_code != 0
    assert "0 is not in the range" in bad.output
