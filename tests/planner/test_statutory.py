"""Statutory maintenance: the shipped table and what falls due."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from planner import PlanConstraints, PlanInputError, load_statutory, statutory_due

START = dt.date(2027, 1, 4)


def test_table_covers_the_regulations() -> None:
    t = load_statutory()
    regs = " | ".join(t["regulation"])
    for ref in ("2009-649", "2020-912", "2004-964", "25 avril 1985", "31 janvier 1986", "31.6"):
        assert ref in regs
    interval = t.set_index("task")["interval_days"]
    assert interval["boiler_service"] == 365
    assert interval["heat_pump_service"] == 730
    assert interval["elevator_visit"] == 42
    assert interval["elevator_technical_inspection"] == pytest.approx(5 * 365.25, abs=1)
    assert set(t["scope"]) == {"asset", "building"}


def _assets() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "asset_id": [1, 2, 3, 4],
            "building_id": [10, 10, 10, 11],
            "category": ["boiler", "elevator", "heat_pump", "fire_safety"],
            "serves": ["dwelling", "building", "dwelling", "building"],
            "status": ["active"] * 4,
            "installed_on": pd.to_datetime(["2010-01-01", None, "2026-06-01", None]),
        }
    )


def _work_orders() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "asset_id": pd.array([1, 2, 4], dtype="Int64"),
            "kind": ["preventive", "preventive", "inspection"],
            "opened_at": pd.to_datetime(["2026-03-01", "2026-12-20", "2026-05-01"], utc=True),
            "closed_at": pd.to_datetime([None, None, None], utc=True),
            "description": ["entretien chaudière", "visite", "contrôle SSI"],
        }
    )


def test_due_dates_follow_last_record_install_date_or_overdue() -> None:
    c = PlanConstraints(1e5, years=1, start=START)
    due = statutory_due(_assets(), _work_orders(), c)
    first = due.sort_values("due_on").groupby(["task", "asset_id"], dropna=False).head(1)
    first = first.set_index("task")
    # boiler serviced 2026-03-01 -> due a year later
    assert first.loc["boiler_service", "due_on"] == pd.Timestamp("2027-03-01")
    assert not first.loc["boiler_service", "overdue"]
    # no sweeping record for the boiler -> overdue, due within the grace period
    assert first.loc["chimney_sweep", "overdue"]
    assert first.loc["chimney_sweep", "due_on"] == pd.Timestamp(START) + pd.Timedelta(days=28)
    # heat pump installed 2026-06-01, no record -> 2 years after installation: outside horizon
    assert "heat_pump_service" not in first.index
    # elevator visited 2026-12-20 -> due 2027-01-31; each visit may be done up to 7 days early
    # and the next falls due 42 days after the start of that window: never more than 6 weeks
    # between two visits, whatever day of its window each is done
    visits = due[due["task"] == "elevator_visit"].sort_values("due_on")
    assert visits["due_on"].min() == pd.Timestamp("2027-01-31")
    assert len(visits) == 10
    assert (visits["due_on"] - visits["earliest_on"] == pd.Timedelta(days=7)).all()
    gaps = visits["due_on"].to_numpy()[1:] - visits["earliest_on"].to_numpy()[:-1]
    assert (gaps == np.timedelta64(42, "D")).all()
    # fire safety: one per building; building 10 has no fire-safety asset -> no record, overdue
    fire = due[due["task"] == "fire_safety_check"].set_index("building_id")
    assert fire.loc[11, "due_on"] == pd.Timestamp("2027-05-01")
    assert fire.loc[10, "overdue"]
    assert (due["earliest_on"] <= due["due_on"]).all()
    assert (due["earliest_on"] >= pd.Timestamp(START)).all()


def test_bad_statutory_file_names_row_and_column(tmp_path) -> None:  # noqa: ANN001
    t = load_statutory()
    t.loc[2, "interval_days"] = -3
    path = tmp_path / "statutory.csv"
    t.to_csv(path, index=False)
    with pytest.raises(PlanInputError, match=r"row 3, column 'interval_days'"):
        load_statutory(path)
