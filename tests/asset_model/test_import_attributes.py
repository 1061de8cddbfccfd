"""Asset-attribute imports: applied to known assets, kept aside for the others, then attached."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from asset_model import ImportValidationError, attach_pending, import_asset_attributes
from asset_model.models import Asset, PendingAssetAttribute
from tests.asset_model.helpers import add_stock, counts, fixture


@pytest.fixture
def ws(workspace):  # noqa: ANN001, ANN201
    with workspace.session() as s:
        add_stock(s)
    return workspace


def test_known_assets_are_updated_and_unknown_kept_aside(ws) -> None:  # noqa: ANN001
    with ws.session() as s:
        summary = import_asset_attributes(s, fixture("attributes_good.csv"))
    assert (summary.rows_read, summary.rows_written, summary.rows_pending) == (2, 2, 1)
    assert summary.unknown_refs == ("LATER-1",)
    with ws.session() as s:
        boiler = s.scalar(select(Asset).where(Asset.global_id == "BOILER-A"))
        pending = s.scalars(select(PendingAssetAttribute)).all()
    assert boiler.asset_tag == "CH-001"
    assert boiler.installed_on == dt.date(2009, 9, 15)  # 15/09/2009
    assert (boiler.manufacturer, boiler.model, boiler.expected_life_years) == (
        "De Dietrich",
        "GT 220",
        20.0,
    )
    assert [p.asset_ref for p in pending] == ["LATER-1"]


def test_reimport_changes_nothing_and_pending_attach_on_arrival(ws) -> None:  # noqa: ANN001
    with ws.session() as s:
        import_asset_attributes(s, fixture("attributes_good.csv"))
    with ws.session() as s:
        before = counts(s)
        again = import_asset_attributes(s, fixture("attributes_good.csv"))
    with ws.session() as s:
        assert counts(s) == before
    assert (again.rows_written, again.rows_unchanged) == (0, 2)
    with ws.session() as s:
        s.add(Asset(global_id="LATER-1", name="Chaudière 2", category="boiler"))
    with ws.session() as s:
        result = attach_pending(s)
    assert (result.attributes_applied, result.attributes_pending) == (1, 0)
    with ws.session() as s:
        later = s.scalar(select(Asset).where(Asset.global_id == "LATER-1"))
    assert (later.asset_tag, later.manufacturer, later.installed_on) == (
        "CH-099",
        "Saunier Duval",
        dt.date(2015, 6, 1),
    )


def test_bad_attribute_rows_are_listed_and_nothing_changes(ws) -> None:  # noqa: ANN001
    with ws.session() as s:
        before = counts(s)
    with (
        pytest.raises(
            ImportValidationError,
            match=r"row 2, column 'expected_life_years': must be positive.*"
            r"row 2, column 'installed_on': bad date 'someday'.*"
            r"row 3, column 'asset_ref': duplicate asset_ref 'BOILER-A' in the file.*"
            r"row 3, column 'expected_life_years': not a number 'ten'",
        ),
        ws.session() as s,
    ):
        import_asset_attributes(s, fixture("attributes_bad.csv"))
    with ws.session() as s:
        assert counts(s) == before
        assert s.scalar(select(Asset.asset_tag).where(Asset.global_id == "BOILER-A")) is None


def test_a_tag_held_by_another_asset_is_refused(ws, tmp_path: Path) -> None:  # noqa: ANN001
    path = tmp_path / "steal.csv"
    path.write_text("asset_ref,asset_tag\nBOILER-A,LIFT-1\n")
    with (
        pytest.raises(
            ImportValidationError, match=r"row 2, column 'asset_tag': asset tag 'LIFT-1' already"
        ),
        ws.session() as s,
    ):
        import_asset_attributes(s, path)
