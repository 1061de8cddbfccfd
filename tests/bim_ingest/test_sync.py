"""Ingest into real registries (SQLite and PostgreSQL): upsert, revisions, merges, refusals."""

from __future__ import annotations

from pathlib import Path

import ifcopenshell.api.root
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from asset_model import import_asset_attributes, import_work_orders, open_registry, transaction
from asset_model.models import (
    Asset,
    AssetType,
    Base,
    Building,
    Dwelling,
    MaintenanceEvent,
    NetworkCount,
    SourceFile,
    Space,
    Storey,
    System,
)
from bim_ingest import IngestError, ingest_file
from tests.bim_ingest.builders import build_model, write_model


def _counts(engine) -> dict[str, int]:
    with Session(engine) as s:
        return {
            t.name: s.scalar(select(func.count()).select_from(t))
            for t in Base.metadata.sorted_tables
        }


@pytest.fixture
def engine(registry_url: str):
    eng = open_registry(registry_url)
    yield eng
    eng.dispose()


def _asset(engine, gid: str) -> Asset:
    with Session(engine) as s:
        return s.scalars(select(Asset).where(Asset.global_id == gid)).one()


def test_ingest_writes_the_registry(engine, tmp_path: Path) -> None:
    f = build_model("IFC4")
    path = write_model(f, tmp_path / "tilleuls.ifc")
    report = ingest_file(engine, path)
    assert report.added == len(f.equipment) == report.assets
    assert report.by_category["boiler"] == 1
    assert report.network_total == 5
    assert report.skipped == {"IfcWall": 1}
    with Session(engine) as s:
        boiler = s.scalars(select(Asset).where(Asset.global_id == f.equipment["boiler"])).one()
        assert boiler.category == "boiler"
        assert boiler.serves == "building"
        assert boiler.manufacturer == "De Dietrich"
        assert str(boiler.installed_on) == "2009-10-01"
        assert boiler.asset_tag == "CH-01"
        assert boiler.building.name == "Résidence Les Tilleuls"
        assert boiler.building.site.latitude == pytest.approx(48.8567, abs=1e-4)
        assert boiler.space.usage == "technical"
        assert boiler.storey.elevation_m == 0.0
        assert boiler.asset_type.manufacturer == "De Dietrich"
        assert [sy.name for sy in boiler.systems] == ["Chauffage collectif"]
        assert boiler.source_file.schema == "IFC4"
        assert len(boiler.source_file.sha256) == 64
        assert boiler.source_file.application == "Patrimoine test builder 1.0"
        assert boiler.properties["COBie_Component"]["TagNumber"] == "CH-01"
        radiator = s.scalars(select(Asset).where(Asset.global_id == f.equipment["radiator"])).one()
        assert radiator.dwelling.typology == "T2"
        assert radiator.serves == "dwelling"
        assert s.scalar(select(func.sum(NetworkCount.count))) == 5
        assert sorted(s.scalars(select(Storey.elevation_m))) == [0.0, 2.8]
        assert s.scalar(select(func.count()).select_from(Dwelling)) == 1
        assert s.scalar(select(func.count()).select_from(Space)) == 5


def test_reingest_same_file_changes_nothing(engine, tmp_path: Path) -> None:
    path = write_model(build_model("IFC2X3"), tmp_path / "m.ifc")
    ingest_file(engine, path)
    before = _counts(engine)
    again = ingest_file(engine, path)
    assert (again.added, again.changed, again.removed) == (0, 0, 0)
    assert _counts(engine) == before


def test_revision_updates_and_decommissions_never_deletes(engine, tmp_path: Path) -> None:
    f = build_model("IFC4")
    path = write_model(f, tmp_path / "tilleuls.ifc")
    ingest_file(engine, path)
    wo = tmp_path / "wo.csv"
    wo.write_text(
        f"work_order_id,asset_ref,opened_at,kind\nWO-1,{f.equipment['pump']},2024-01-05,failure\n",
        encoding="utf-8",
    )
    with transaction(engine) as s:
        import_work_orders(s, wo)
    # revision 2: the pump is removed, the light renamed, under the same path
    pump = f.by_guid(f.equipment["pump"])
    ifcopenshell.api.root.remove_product(f, product=pump)
    f.by_guid(f.equipment["light"]).Name = "Hublot LED 2"
    write_model(f, path)
    report = ingest_file(engine, path)
    assert (report.added, report.changed, report.removed, report.decommissioned) == (0, 1, 1, 1)
    gone = _asset(engine, f.equipment["pump"])
    assert gone.status == "decommissioned"
    assert gone.decommissioned_at is not None
    with Session(engine) as s:
        assert (
            s.scalar(
                select(func.count())
                .select_from(MaintenanceEvent)
                .where(MaintenanceEvent.asset_id == gone.id)
            )
            == 1
        )
    assert _asset(engine, f.equipment["light"]).name == "Hublot LED 2"
    # the same model saved under another name is a revision too (GlobalIds overlap)
    f.by_guid(f.equipment["valve"]).Name = "V-01 bis"
    ifcopenshell.api.root.remove_product(f, product=f.by_guid(f.equipment["sink"]))
    report = ingest_file(engine, write_model(f, tmp_path / "tilleuls_v3.ifc"))
    assert (report.changed, report.removed) == (1, 1)
    assert _asset(engine, f.equipment["sink"]).status == "decommissioned"


def test_decommissioned_asset_that_comes_back_is_reactivated(engine, tmp_path: Path) -> None:
    full = build_model("IFC4")
    path = write_model(full, tmp_path / "a.ifc")
    first = path.read_bytes()
    ingest_file(engine, path)
    ifcopenshell.api.root.remove_product(full, product=full.by_guid(full.equipment["pump"]))
    write_model(full, path)
    ingest_file(engine, path)
    assert _asset(engine, full.equipment["pump"]).status == "decommissioned"
    path.write_bytes(first)
    report = ingest_file(engine, path)
    assert (report.reactivated, report.changed, report.removed) == (1, 1, 0)
    back = _asset(engine, full.equipment["pump"])
    assert back.status == "active"
    assert back.decommissioned_at is None


def test_discipline_models_merge_into_one_building(engine, tmp_path: Path) -> None:
    arch = build_model("IFC4")
    mep = build_model("IFC2X3")  # other GlobalIds everywhere, same site and building names
    ingest_file(engine, write_model(arch, tmp_path / "arch.ifc"))
    report = ingest_file(engine, write_model(mep, tmp_path / "mep.ifc"))
    assert report.removed == 0
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(Building)) == 1
        assert s.scalar(select(func.count()).select_from(Storey)) == 2
        assert s.scalar(
            select(func.count()).select_from(Asset).where(Asset.status == "active")
        ) == len(arch.equipment) + len(mep.equipment)


def test_conflicting_global_ids_are_refused_and_nothing_written(engine, tmp_path: Path) -> None:
    f = build_model("IFC4")
    ingest_file(engine, write_model(f, tmp_path / "a.ifc"))
    before = _counts(engine)
    # another building (other GlobalId, other names) claiming the same equipment GlobalIds
    f.by_type("IfcBuilding")[0].GlobalId = ifcopenshell.guid.new()
    f.by_type("IfcBuilding")[0].Name = "Autre résidence"
    f.by_type("IfcSite")[0].Name = "Autre site"
    with pytest.raises(IngestError, match=r"b\.ifc: refused: .*GlobalId conflict"):
        ingest_file(engine, write_model(f, tmp_path / "b.ifc"))
    assert _counts(engine) == before


@pytest.mark.parametrize(
    ("content", "match"),
    [("truncate", "truncated STEP file"), (b"", "empty file"), (b"hello", "not an IFC file")],
)
def test_bad_files_leave_the_registry_unchanged(
    engine, tmp_path: Path, content, match: str
) -> None:
    good = write_model(build_model("IFC4"), tmp_path / "good.ifc")
    ingest_file(engine, good)
    before = _counts(engine)
    bad = tmp_path / "bad.ifc"
    data = good.read_bytes()
    bad.write_bytes(data[: len(data) * 2 // 3] if content == "truncate" else content)
    with pytest.raises(IngestError, match=f"bad.ifc: refused: {match}"):
        ingest_file(engine, bad)
    assert _counts(engine) == before


def test_kept_aside_work_orders_attach_when_the_asset_arrives(engine, tmp_path: Path) -> None:
    f = build_model("IFC4")
    wo = tmp_path / "wo.csv"
    wo.write_text(
        "work_order_id,asset_ref,opened_at,kind\n"
        f"WO-9,{f.equipment['boiler']},2023-02-01,failure\n"
        "WO-10,CH-01,2023-03-01,corrective\n",
        encoding="utf-8",
    )
    with transaction(engine) as s:
        import_work_orders(s, wo)
    report = ingest_file(engine, write_model(f, tmp_path / "m.ifc"))
    assert report.work_orders_attached == 2
    with Session(engine) as s:
        assert (
            s.scalar(
                select(func.count())
                .select_from(MaintenanceEvent)
                .where(MaintenanceEvent.asset_id.is_(None))
            )
            == 0
        )


def test_types_and_systems_are_upserted_not_duplicated(engine, tmp_path: Path) -> None:
    path = write_model(build_model("IFC4"), tmp_path / "m.ifc")
    ingest_file(engine, path)
    n_types = _counts(engine)["asset_type"]
    path.write_bytes(path.read_bytes())
    ingest_file(engine, path)
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(AssetType)) == n_types
        assert s.scalar(select(func.count()).select_from(System)) == 1
        assert s.scalar(select(func.count()).select_from(SourceFile)) == 1


def test_ingest_files_keeps_going_after_a_refused_file(registry_url: str, tmp_path: Path) -> None:
    from bim_ingest import IngestReport, ingest_files

    good = write_model(build_model("IFC2X3"), tmp_path / "good.ifc")
    empty = tmp_path / "empty.ifc"
    empty.write_bytes(b"")
    seen: list[str] = []
    results = ingest_files(
        registry_url, [empty, good], processes=1, progress=lambda p, r: seen.append(p)
    )
    assert isinstance(results[0], IngestError)
    assert "empty.ifc: refused: empty file" in str(results[0])
    assert isinstance(results[1], IngestReport)
    assert results[1].added == 9
    assert seen == [str(empty), str(good)]


def test_ingest_files_with_two_processes_refuses_the_conflicting_file_only(
    registry_url: str, tmp_path: Path
) -> None:
    from bim_ingest import IngestReport, ingest_files

    f = build_model("IFC4")
    first = write_model(f, tmp_path / "a.ifc")
    # another building claiming the same equipment GlobalIds: whichever file is written second
    # is refused whole, the other goes in, each in its own worker and transaction
    f.by_type("IfcBuilding")[0].GlobalId = ifcopenshell.guid.new()
    f.by_type("IfcBuilding")[0].Name = "Autre résidence"
    f.by_type("IfcSite")[0].Name = "Autre site"
    second = write_model(f, tmp_path / "b.ifc")
    other = write_model(build_model("IFC2X3"), tmp_path / "c.ifc")
    seen: list[str] = []
    results = ingest_files(
        registry_url,
        [first, second, other],
        processes=2,
        progress=lambda p, r: seen.append(p),
    )
    refused = [r for r in results[:2] if isinstance(r, IngestError)]
    assert len(refused) == 1
    assert "GlobalId conflict" in str(refused[0])
    assert isinstance(results[2], IngestReport)
    assert sorted(seen) == sorted(map(str, [first, second, other]))
    engine = open_registry(registry_url)
    with Session(engine) as s:
        buildings = s.scalars(select(Building.name)).all()
        n_assets = s.scalar(select(func.count()).select_from(Asset))
    engine.dispose()
    accepted_other = isinstance(results[1], IngestReport)
    assert ("Autre résidence" in buildings) == accepted_other
    assert n_assets == len(f.equipment) + results[2].added


def test_over_long_texts_fit_their_columns_on_every_backend(engine, tmp_path: Path) -> None:
    f = build_model("IFC4")
    f.by_type("IfcSpace")[0].LongName = "Chaufferie " + "x" * 400
    f.by_guid(f.equipment["pump"]).Name = "P" * 400
    f.by_type("IfcPumpType")[0].Name = "T" * 400
    report = ingest_file(engine, write_model(f, tmp_path / "long.ifc"))
    assert report.added == len(f.equipment)
    assert len(_asset(engine, f.equipment["pump"]).name) == 255


def test_an_architecture_only_export_does_not_decommission_the_equipment(
    engine, shared_ifc: Path
) -> None:
    # the FZK house: IFC2X3 with its sanitary terminals, then an IFC4 architecture-only export
    # of the same model (same GlobalIds for walls, doors and windows)
    ingest_file(engine, shared_ifc / "bimserver-testfiles__AC11-FZK-Haus-IFC.ifc")
    report = ingest_file(engine, shared_ifc / "web-ifc__AC20-FZK-Haus.ifc")
    assert report.decommissioned == 0
    with Session(engine) as s:
        sanitary = s.scalars(select(Asset.status).where(Asset.category == "sanitary")).all()
        active_openings = s.scalar(
            select(func.count()).where(
                Asset.category.in_(["door", "window"]), Asset.status == "active"
            )
        )
    assert len(sanitary) == 6
    assert set(sanitary) == {"active"}
    assert active_openings == 16


def test_the_landlords_attributes_survive_a_new_ingest_of_the_model(engine, tmp_path: Path) -> None:
    f = build_model("IFC4")
    path = write_model(f, tmp_path / "tilleuls.ifc")
    ingest_file(engine, path)
    pump = f.equipment["pump"]
    attributes = tmp_path / "register.csv"
    attributes.write_text(
        f"asset_ref;installed_on;manufacturer;expected_life_years\n{pump};15/03/2011;Grundfos;14\n",
        encoding="utf-8",
    )
    with transaction(engine) as s:
        import_asset_attributes(s, attributes)
    # the same model again, then a revision that renames the pump
    assert ingest_file(engine, path).changed == 0
    f.by_guid(pump).Name = "Circulateur P1 bis"
    report = ingest_file(engine, write_model(f, path))
    assert report.changed == 1
    asset = _asset(engine, pump)
    assert asset.name == "Circulateur P1 bis"
    assert asset.manufacturer == "Grundfos"
    assert str(asset.installed_on) == "2011-03-15"
    assert asset.expected_life_years == 14.0
