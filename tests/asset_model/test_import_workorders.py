"""Work-order imports: formats, French exports, idempotence, kept-aside rows, every bad input."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select

from asset_model import (
    ImportValidationError,
    PatrimoineError,
    attach_pending,
    import_work_orders,
    parse_column_map,
    work_orders_frame,
)
from asset_model.models import Asset, ImportRecord, MaintenanceEvent
from tests.asset_model.helpers import add_stock, counts, fixture


@pytest.fixture
def ws(workspace):  # noqa: ANN001, ANN201
    with workspace.session() as s:
        add_stock(s)
    return workspace


def test_good_file_is_imported_and_unknown_refs_kept_aside(ws) -> None:  # noqa: ANN001
    with ws.session() as s:
        summary = import_work_orders(s, fixture("workorders_good.csv"))
    assert (summary.rows_read, summary.rows_written, summary.rows_unchanged) == (4, 4, 0)
    assert summary.rows_pending == 1
    assert summary.unknown_refs == ("UNKNOWN-7",)
    with ws.session() as s:
        frame = work_orders_frame(s)
        kept = s.scalars(select(MaintenanceEvent).where(MaintenanceEvent.asset_id.is_(None))).all()
        lift = s.scalar(select(Asset).where(Asset.asset_tag == "LIFT-1"))
        record = s.scalar(select(ImportRecord))
    assert frame["work_order_id"].tolist() == ["WO-001", "WO-003", "WO-002"]
    wo1 = frame.set_index("work_order_id").loc["WO-001"]
    assert wo1["kind"] == "failure"
    assert wo1["cost_eur"] == pytest.approx(120.5)
    assert wo1["opened_at"] == pd.Timestamp("2024-01-05", tz="UTC")
    assert frame.set_index("work_order_id").loc["WO-003", "asset_id"] == lift.id  # by asset tag
    assert [e.work_order_id for e in kept] == ["WO-004"]
    assert (record.kind, record.rows_read, record.rows_written, record.rows_pending) == (
        "workorders",
        4,
        4,
        1,
    )
    assert len(record.sha256) == 64


def test_reimport_changes_nothing(ws) -> None:  # noqa: ANN001
    with ws.session() as s:
        import_work_orders(s, fixture("workorders_good.csv"))
    with ws.session() as s:
        before = counts(s)
        again = import_work_orders(s, fixture("workorders_good.csv"))
    with ws.session() as s:
        assert counts(s) == before
    assert (again.rows_written, again.rows_unchanged, again.import_id) == (0, 4, None)


def test_kept_aside_rows_attach_when_the_asset_arrives(ws) -> None:  # noqa: ANN001
    with ws.session() as s:
        import_work_orders(s, fixture("workorders_good.csv"))
    with ws.session() as s:
        assert attach_pending(s).work_orders_attached == 0
        s.add(Asset(global_id="UNKNOWN-7", name="Robinet", category="sanitary"))
    with ws.session() as s:
        result = attach_pending(s)
        event = s.scalar(select(MaintenanceEvent).where(MaintenanceEvent.work_order_id == "WO-004"))
        asset = s.scalar(select(Asset).where(Asset.global_id == "UNKNOWN-7"))
    assert (result.work_orders_attached, result.work_orders_pending) == (1, 0)
    assert event.asset_id == asset.id
    with ws.session() as s:  # attaching again is a no-op
        assert attach_pending(s).work_orders_attached == 0


def test_french_latin1_export_with_a_column_map_file(ws) -> None:  # noqa: ANN001
    column_map = parse_column_map(str(fixture("column_map_fr.json")))
    with ws.session() as s:
        summary = import_work_orders(s, fixture("workorders_fr_latin1.csv"), column_map=column_map)
        frame = work_orders_frame(s, attached_only=False).set_index("work_order_id")
    assert summary.rows_written == 3
    assert summary.unknown_refs == ("INCONNU-9",)
    assert frame.loc["OT-1", "kind"] == "failure"  # "Panne"
    assert frame.loc["OT-2", "kind"] == "preventive"  # "Préventif"
    assert frame.loc["OT-1", "cost_eur"] == pytest.approx(1234.5)  # "1 234,50"
    assert frame.loc["OT-1", "labour_hours"] == pytest.approx(2.5)
    assert frame.loc["OT-1", "description"] == "Brûleur en défaut"
    assert frame.loc["OT-1", "trade"] == "Chauffage"
    assert frame.loc["OT-2", "opened_at"] == pd.Timestamp("2024-03-10 08:30", tz="UTC")


def test_utf8_bom_semicolons_and_mixed_case_headers(ws) -> None:  # noqa: ANN001
    with ws.session() as s:
        summary = import_work_orders(s, fixture("workorders_utf8_bom.csv"))
        frame = work_orders_frame(s).set_index("work_order_id")
    assert summary.rows_written == 2
    assert frame.loc["WO-B1", "cost_eur"] == pytest.approx(12.5)
    assert frame.loc["WO-B1", "opened_at"] == pd.Timestamp("2024-01-05", tz="UTC")


@pytest.mark.parametrize("fmt", ["xlsx", "parquet"])
def test_xlsx_and_parquet_give_the_same_rows_as_csv(ws, tmp_path: Path, fmt: str) -> None:  # noqa: ANN001
    source = pd.read_csv(fixture("workorders_good.csv"), dtype=str)
    source["opened_at"] = pd.to_datetime(source["opened_at"], format="ISO8601")
    source["cost_eur"] = source["cost_eur"].astype(float)
    path = tmp_path / f"wo.{fmt}"
    if fmt == "xlsx":
        source.to_excel(path, index=False, engine="openpyxl")
    else:
        source.to_parquet(path, index=False)
    with ws.session() as s:
        summary = import_work_orders(s, path)
        frame = work_orders_frame(s, attached_only=False).set_index("work_order_id")
    assert summary.rows_written == 4
    assert frame.loc["WO-002", "opened_at"] == pd.Timestamp("2024-03-10 08:30", tz="UTC")
    assert frame.loc["WO-001", "cost_eur"] == pytest.approx(120.5)
    assert frame.loc["WO-003", "kind"] == "inspection"


BAD_FILES = [
    (
        "workorders_bad_dates.csv",
        r"row 3, column 'opened_at': bad date '31/02/2024'.*"
        r"row 4, column 'opened_at': bad date 'yesterday'.*"
        r"row 5, column 'closed_at': closed before it was opened",
        3,
    ),
    ("workorders_unknown_kind.csv", r"row 3, column 'kind': unknown kind 'explosion'", 1),
    (
        "workorders_negative_cost.csv",
        r"row 2, column 'cost_eur': negative value.*"
        r"row 3, column 'labour_hours': negative value",
        2,
    ),
    (
        "workorders_not_numeric.csv",
        r"row 2, column 'cost_eur': not a number 'twelve'.*"
        r"row 3, column 'labour_hours': not a number '1h30'",
        2,
    ),
    (
        "workorders_duplicate_ids.csv",
        r"row 4, column 'work_order_id': duplicate work_order_id 'WO-1' \(first at row 2\)",
        1,
    ),
    (
        "workorders_missing_columns.csv",
        r"column 'work_order_id': required column missing.*"
        r"column 'asset_ref': required column missing.*column 'opened_at'",
        3,
    ),
    (
        "workorders_missing_values.csv",
        r"row 2, column 'asset_ref': missing value.*"
        r"row 3, column 'work_order_id': missing value.*row 4, column 'kind': missing value",
        4,
    ),
    (
        "workorders_empty.csv",
        r"workorders_empty.csv: 1 problem, nothing imported: file: the file "
        r"is empty",
        1,
    ),
    ("workorders_header_only.csv", r"no data rows under the header", 1),
    ("workorders_binary_garbage.csv", r"binary content: not a CSV, XLSX or Parquet file", 1),
    (
        "workorders_wrong_field_count.csv",
        r"row 3: expected 5 fields, found 6 \(check the separator and quotes\).*"
        r"row 4, column 'kind': unknown kind 'explosion'",
        2,
    ),
]


@pytest.mark.parametrize(("name", "message", "n_problems"), BAD_FILES)
def test_bad_files_list_every_problem_and_write_nothing(
    ws,
    name: str,
    message: str,
    n_problems: int,  # noqa: ANN001
) -> None:
    with ws.session() as s:
        import_work_orders(s, fixture("workorders_good.csv"))
    with ws.session() as s:
        before = counts(s)
    with pytest.raises(ImportValidationError, match=message) as info, ws.session() as s:
        import_work_orders(s, fixture(name))
    assert len(info.value.problems) == n_problems
    assert name in str(info.value)
    with ws.session() as s:
        assert counts(s) == before


def test_same_id_with_different_content_is_a_conflict(ws) -> None:  # noqa: ANN001
    with ws.session() as s:
        import_work_orders(s, fixture("workorders_good.csv"))
    with ws.session() as s:
        before = counts(s)
    with (
        pytest.raises(
            ImportValidationError,
            match=r"row 2, column 'work_order_id': work order 'WO-001' was already imported with a "
            r"different cost_eur \(registry: 120.50\)",
        ),
        ws.session() as s,
    ):
        import_work_orders(s, fixture("workorders_conflict.csv"))
    with ws.session() as s:
        assert counts(s) == before  # WO-005, a good row of the same file, was not written either


def test_missing_file_is_a_clear_error(ws, tmp_path: Path) -> None:  # noqa: ANN001
    with pytest.raises(PatrimoineError, match=r"nowhere.csv: no such file"), ws.session() as s:
        import_work_orders(s, tmp_path / "nowhere.csv")


def test_old_xls_and_broken_xlsx_are_refused(ws, tmp_path: Path) -> None:  # noqa: ANN001
    xls = tmp_path / "old.xls"
    xls.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512)
    with pytest.raises(ImportValidationError, match=r"old binary .xls"), ws.session() as s:
        import_work_orders(s, xls)
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04" + b"garbage" * 10)
    with pytest.raises(ImportValidationError, match=r"not a readable XLSX"), ws.session() as s:
        import_work_orders(s, broken)


def test_column_map_text_forms() -> None:
    assert parse_column_map("N° OT=work_order_id, Nature=kind") == {
        "N° OT": "work_order_id",
        "Nature": "kind",
    }
    assert parse_column_map('{"a": "b"}') == {"a": "b"}
    with pytest.raises(PatrimoineError, match="not 'old=new'"):
        parse_column_map("just-a-word")


def test_row_numbers_are_file_lines_even_after_blank_lines(ws, tmp_path: Path) -> None:  # noqa: ANN001
    path = tmp_path / "blank.csv"
    path.write_text(
        "work_order_id,asset_ref,opened_at,kind\n\nWO-1,BOILER-A,2024-01-05,failure\n"
        "\nWO-2,BOILER-A,2024-01-06,boom\n"
    )
    expected = r"row 5, column 'kind': unknown kind 'boom'"
    with pytest.raises(ImportValidationError, match=expected), ws.session() as s:
        import_work_orders(s, path)


def test_quoted_descriptions_may_span_lines(ws, tmp_path: Path) -> None:  # noqa: ANN001
    path = tmp_path / "multiline.csv"
    path.write_text(
        "work_order_id;asset_ref;opened_at;kind;description\r\n"
        'WO-1;BOILER-A;05/01/2024;panne;"Brûleur en défaut;\r\nréarmé deux fois"\r\n',
        encoding="utf-8",
    )
    with ws.session() as s:
        import_work_orders(s, path)
        frame = work_orders_frame(s)
    assert frame.loc[0, "description"] == "Brûleur en défaut;\r\nréarmé deux fois"


def test_a_column_map_naming_an_unknown_column_is_reported(ws) -> None:  # noqa: ANN001
    with (
        pytest.raises(
            ImportValidationError,
            match=r"column 'Nature': the column map renames it to 'genre', which is not a column",
        ),
        ws.session() as s,
    ):
        import_work_orders(
            s, fixture("workorders_fr_latin1.csv"), column_map={"Nature": "genre", "x": "y"}
        )
