"""Exports read back with their own readers; plans stored in the registry; the CLI verb."""

from __future__ import annotations

import datetime as dt

import icalendar
import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from asset_model import open_registry, transaction
from asset_model.models import Plan, PlannedIntervention
from patrimoine.cli import cli
from planner import (
    PLAN_COLUMNS,
    PlanConstraints,
    PlanInputError,
    build_plan,
    export_csv,
    export_ical,
    export_plan,
    export_xlsx,
    plan_workspace,
)

START = dt.date(2027, 1, 4)


@pytest.fixture
def result(frames):  # noqa: ANN001, ANN201
    return build_plan(**frames, constraints=PlanConstraints(30_000, years=1, start=START))


def test_csv_has_the_design_columns(result, tmp_path) -> None:  # noqa: ANN001
    path = export_csv(result, tmp_path / "plan.csv")
    back = pd.read_csv(path)
    assert list(back.columns) == PLAN_COLUMNS
    assert len(back) == len(result.plan)
    assert back["cost_eur"].sum() == pytest.approx(result.plan["cost_eur"].sum())
    assert back["statutory"].sum() == result.plan["statutory"].sum()
    assert back["reason"].notna().all()


def test_xlsx_opens_in_openpyxl(result, tmp_path) -> None:  # noqa: ANN001
    path = export_xlsx(result, tmp_path / "plan.xlsx")
    wb = openpyxl.load_workbook(path, read_only=False)
    assert wb.sheetnames[:2] == ["Summary", "Plan"]
    plan = wb["Plan"]
    header = [c.value for c in plan[1]]
    assert header == PLAN_COLUMNS
    assert plan.max_row - 1 == len(result.plan)
    assert plan.freeze_panes == "A2"
    assert plan.auto_filter.ref is not None
    crew_sheets = wb.sheetnames[2:]
    seg = result.segments
    iso = pd.to_datetime(seg["start"]).dt.isocalendar()
    assert len(crew_sheets) == seg.groupby([seg["crew"], iso["year"], iso["week"]]).ngroups
    assert sum(wb[s].max_row - 1 for s in crew_sheets) == len(seg)
    first = wb[crew_sheets[0]]
    assert first.freeze_panes == "A2"
    assert first.auto_filter.ref
    summary_text = [c.value for row in wb["Summary"].iter_rows() for c in row if c.value]
    assert "Budget use by plan year and category (EUR)" in summary_text


def test_ics_per_crew_imports_in_icalendar(result, tmp_path) -> None:  # noqa: ANN001
    paths = export_ical(result, tmp_path / "plan.ics")
    combined = icalendar.Calendar.from_ical(paths[0].read_bytes())
    events = combined.walk("VEVENT")
    assert len(events) == len(result.segments)
    uids = {str(e["UID"]) for e in events}
    assert len(uids) == len(events)
    crews = sorted(result.segments["crew"].unique())
    assert len(paths) == 1 + len(crews)
    total = 0
    for path in paths[1:]:
        cal = icalendar.Calendar.from_ical(path.read_bytes())
        evs = cal.walk("VEVENT")
        total += len(evs)
        assert [str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")] == ["Europe/Paris"]
        names = {str(e["CATEGORIES"].cats[0]) for e in evs}
        assert len(names) == 1
        assert str(cal["X-WR-CALNAME"]).endswith(names.pop())
        for e in evs:
            assert e.decoded("DTEND") > e.decoded("DTSTART")
            assert str(e["LOCATION"])
            assert str(e["SUMMARY"])
    assert total == len(events)
    with pytest.raises(PlanInputError, match="unknown export format"):
        export_plan(result, tmp_path / "plan.pdf")


def test_save_plan_round_trip(registry_url, stock_factory) -> None:  # noqa: ANN001
    engine = open_registry(registry_url)
    try:
        with transaction(engine) as session:
            stock_factory(session)
        with transaction(engine) as session:
            result, plan_id = plan_workspace(session, 35_000, years=2, start=START)
        with Session(engine) as session:
            plan = session.get(Plan, plan_id)
            assert plan.objective == pytest.approx(result.objective)
            assert plan.gap == pytest.approx(result.gap)
            assert plan.model_run_id == result.model_run_id
            rows = session.scalars(
                select(PlannedIntervention).where(PlannedIntervention.plan_id == plan_id)
            ).all()
            assert len(rows) == len(result.plan)
            assert float(sum(r.cost_eur for r in rows)) == pytest.approx(
                result.plan["cost_eur"].sum(), abs=0.05
            )
            assert sum(r.statutory for r in rows) == int(result.plan["statutory"].sum())
            assert {r.crew for r in rows} <= {c.name for c in result.crews}
        # a bad ask leaves the registry unchanged
        with pytest.raises(PlanInputError), transaction(engine) as session:
            plan_workspace(session, -1, years=2, start=START)
        with Session(engine) as session:
            assert session.scalar(select(func.count(Plan.id))) == 1
    finally:
        engine.dispose()


def test_cli_plan_and_compare(sqlite_workspace, stock_factory, tmp_path) -> None:  # noqa: ANN001
    with sqlite_workspace.session() as session:
        stock_factory(session)
    root = str(sqlite_workspace.root)
    runner = CliRunner()
    out = tmp_path / "plan.xlsx"
    res = runner.invoke(
        cli,
        [
            "--workspace",
            root,
            "plan",
            "--budget",
            "30000",
            "--years",
            "1",
            "--start",
            str(START),
            "--out",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    assert "gap" in res.output
    assert out.exists()
    res = runner.invoke(
        cli,
        [
            "--workspace",
            root,
            "plan",
            "--years",
            "1",
            "--start",
            str(START),
            "--out",
            str(tmp_path / "cmp.csv"),
            "--compare",
            "10000",
            "2e4",
            "4e4",
        ],
    )
    assert res.exit_code == 0, res.output
    cmp = pd.read_csv(tmp_path / "cmp.csv")
    assert cmp["annual_budget_eur"].tolist() == [10000, 20000, 40000]
    assert {
        "expected_failures",
        "tenant_days_without_heating",
        "tenant_days_without_hot_water",
        "tenant_days_without_elevator",
        "cost_eur",
    } <= set(cmp.columns)
    res = runner.invoke(cli, ["--workspace", root, "plan", "--budget", "0"])
    assert res.exit_code == 1
    assert "budget must be a positive amount" in res.output


def test_plan_starts_from_the_scores_as_of_date(stock_engine) -> None:  # noqa: ANN001
    with transaction(stock_engine) as session:
        result, plan_id = plan_workspace(session, 35_000, years=1, save=False)
    assert plan_id is None
    assert result.constraints.start == START - dt.timedelta(days=4)
    assert pd.to_datetime(result.plan["scheduled_on"]).min() >= pd.Timestamp(
        result.constraints.start
    )
