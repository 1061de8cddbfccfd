"""Statutory periodic maintenance: the shipped table, and what falls due over a plan's horizon.

Examples
--------
>>> from planner.statutory import load_statutory
>>> table = load_statutory()
>>> sorted(table["regulation"].unique())[:2]
['Arrêté du 25 avril 1985', 'Arrêté du 31 janvier 1986 art. 101']

Statutory work is never traded off: every occurrence due within the horizon is in the plan, and
the scheduler must place it between ``earliest_on`` and ``due_on``.
"""

from __future__ import annotations

import datetime as dt
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from planner.errors import PlanInputError
from planner.parameters import PlanConstraints, PlanParameters

STATUTORY_COLUMNS = [
    "task",
    "regulation",
    "action",
    "category",
    "serves",
    "interval_days",
    "trade",
    "duration_h",
    "cost_eur",
    "scope",
    "match_kinds",
    "match_pattern",
    "notes",
]

DUE_COLUMNS = [
    "task",
    "regulation",
    "action",
    "asset_id",
    "building_id",
    "category",
    "trade",
    "duration_h",
    "cost_eur",
    "last_done",
    "due_on",
    "earliest_on",
    "overdue",
    "year",
    "reason",
]


def load_statutory(path: Path | str | None = None) -> pd.DataFrame:
    """The statutory maintenance table (default: ``planner/statutory.csv`` shipped with the
    package; a landlord may pass their own file with the same columns)."""
    if path is None:
        source = resources.files("planner").joinpath("statutory.csv")
        with source.open("r", encoding="utf-8") as handle:
            table = pd.read_csv(handle, dtype=str, keep_default_na=False)
        where = "planner/statutory.csv"
    else:
        try:
            table = pd.read_csv(path, dtype=str, keep_default_na=False)
        except (OSError, ValueError) as err:
            raise PlanInputError(f"{path}: cannot read statutory table: {err}") from err
        where = str(path)
    missing = set(STATUTORY_COLUMNS) - set(table.columns)
    if missing:
        raise PlanInputError(f"{where}: missing column(s) {', '.join(sorted(missing))}")
    for column in ("interval_days", "duration_h", "cost_eur"):
        values = pd.to_numeric(table[column], errors="coerce")
        bad = values.isna() | (values <= 0)
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0]) + 1
            raise PlanInputError(
                f"{where}: row {row}, column '{column}': must be a positive number"
            )
        table[column] = values.astype("float64")
    bad_action = ~table["action"].isin(["inspect", "service", "repair", "replace"])
    if bad_action.any():
        row = int(np.flatnonzero(bad_action.to_numpy())[0]) + 1
        raise PlanInputError(f"{where}: row {row}, column 'action': unknown action")
    bad_scope = ~table["scope"].isin(["asset", "building"])
    if bad_scope.any():
        row = int(np.flatnonzero(bad_scope.to_numpy())[0]) + 1
        raise PlanInputError(f"{where}: row {row}, column 'scope': must be asset or building")
    return table[STATUTORY_COLUMNS].reset_index(drop=True)


def _last_done(work_orders: pd.DataFrame, task: pd.Series) -> pd.DataFrame:
    """Latest matching preventive/inspection work order per asset: (asset_id, last_done)."""
    kinds = task["match_kinds"].split("|")
    wo = work_orders[work_orders["kind"].isin(kinds) & work_orders["asset_id"].notna()]
    if task["match_pattern"]:
        text = wo["description"].astype("str").fillna("")
        wo = wo[text.str.contains(task["match_pattern"], case=False, regex=True, na=False)]
    when = wo["closed_at"].fillna(wo["opened_at"])
    when = when.dt.tz_convert(None) if getattr(when.dt, "tz", None) is not None else when
    done = pd.DataFrame({"asset_id": wo["asset_id"].astype("int64"), "last_done": when})
    return done.groupby("asset_id", as_index=False)["last_done"].max()


def statutory_due(
    assets: pd.DataFrame,
    work_orders: pd.DataFrame,
    constraints: PlanConstraints,
    parameters: PlanParameters | None = None,
    *,
    buildings: pd.DataFrame | None = None,
    table: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Every statutory occurrence due within the horizon, one row each (``DUE_COLUMNS``).

    The next due date is the last matching work order plus the interval; with no record it is
    the installation date plus the interval, or, failing that (or if already past), the start
    plus ``overdue_grace_days`` — such rows are flagged ``overdue``.
    """
    params = parameters or PlanParameters()
    table = load_statutory() if table is None else table
    start = pd.Timestamp(constraints.start)
    end = pd.Timestamp(constraints.end)
    grace = pd.Timedelta(days=params.overdue_grace_days)
    active = assets[assets["status"].fillna("active") == "active"]
    pieces: list[pd.DataFrame] = []
    for _, task in table.iterrows():
        interval = pd.Timedelta(days=float(task["interval_days"]))
        done = _last_done(work_orders, task)
        if task["scope"] == "asset":
            units = active[active["category"] == task["category"]]
            if task["serves"]:
                units = units[units["serves"] == task["serves"]]
            units = units[["asset_id", "building_id", "category", "installed_on"]].merge(
                done, on="asset_id", how="left"
            )
        else:
            if buildings is not None and len(buildings):
                blds = buildings[["building_id"]].copy()
            else:
                blds = active[["building_id"]].dropna().drop_duplicates()
            if task["category"] != "*":
                keep = active.loc[active["category"] == task["category"], "building_id"]
                blds = blds[blds["building_id"].isin(keep)]
            witness_cat = "fire_safety" if task["category"] == "*" else task["category"]
            witnesses = active[active["category"] == witness_cat][["asset_id", "building_id"]]
            last_b = (
                witnesses.merge(done, on="asset_id")
                .groupby("building_id", as_index=False)["last_done"]
                .max()
            )
            first = witnesses.groupby("building_id", as_index=False)["asset_id"].min()
            units = blds.merge(first, on="building_id", how="left").merge(
                last_b, on="building_id", how="left"
            )
            units["category"] = witness_cat if task["category"] == "*" else task["category"]
            units["installed_on"] = pd.NaT
        if units.empty:
            continue
        last = pd.to_datetime(units["last_done"]).dt.normalize()
        installed = pd.to_datetime(units["installed_on"])
        due = last + interval
        due = due.fillna(installed + interval)
        overdue = due.isna() | (due < start)
        due = due.where(~overdue, start + grace)
        days = float(task["interval_days"])
        early = pd.Timedelta(
            days=float(
                np.clip(
                    days * params.early_window_fraction,
                    params.early_window_min_days,
                    min(params.early_window_max_days, days / 2),
                )
            )
        )
        # occurrence 0: [lo0, due0]; occurrence k >= 1 falls due at lo0 + I + (k - 1)(I - e)
        lo0 = due.where(overdue, due - early).where(~overdue, start)
        step = interval - early
        first_next = lo0 + interval
        n_more = np.where(
            first_next.to_numpy() < end.to_datetime64(),
            np.floor(((end - first_next) / step).to_numpy(dtype="float64") - 1e-9) + 1,
            0,
        )
        n = np.where(due.to_numpy() < end.to_datetime64(), 1 + n_more, 0).astype(int)
        idx = np.repeat(np.arange(len(units)), n)
        k = np.concatenate([np.arange(m) for m in n]) if len(n) else np.array([], int)
        if len(idx) == 0:
            continue
        rep = units.iloc[idx].reset_index(drop=True)
        later = first_next.to_numpy()[idx] + np.maximum(k - 1, 0) * step.to_timedelta64()
        due_k = np.where(k == 0, due.to_numpy()[idx], later)
        first_overdue = overdue.to_numpy()[idx] & (k == 0)
        earliest = np.where(first_overdue, start.to_datetime64(), due_k - early.to_timedelta64())
        due_k = pd.DatetimeIndex(due_k).normalize()
        earliest = pd.DatetimeIndex(earliest).ceil("D")
        # a window across a plan-year boundary stays in the year holding most of it
        years = _plan_year(due_k, constraints)
        ys = pd.DatetimeIndex([pd.Timestamp(constraints.year_start(y)) for y in years])
        before = (ys - earliest).days.to_numpy()
        after = (due_k - ys).days.to_numpy() + 1
        move = (before > 0) & (before > after) & (years > 0)
        years = years - move.astype(int)
        due_k = due_k.where(~move, ys - pd.Timedelta(days=1))
        earliest = earliest.where(move | (earliest > ys), ys)
        piece = pd.DataFrame(
            {
                "task": task["task"],
                "regulation": task["regulation"],
                "action": task["action"],
                "asset_id": rep["asset_id"].astype("Int64"),
                "building_id": rep["building_id"].astype("Int64"),
                "category": rep["category"].astype("str"),
                "trade": task["trade"],
                "duration_h": float(task["duration_h"]),
                "cost_eur": float(task["cost_eur"]),
                "last_done": pd.to_datetime(rep["last_done"]),
                "due_on": due_k,
                "earliest_on": earliest,
                "overdue": first_overdue,
                "year": years,
            }
        )
        last_txt = "last done " + piece["last_done"].dt.strftime("%Y-%m-%d").fillna("no record")
        last_txt = last_txt.where(k == 0, "next visit of the series")
        piece["reason"] = (
            "statutory: "
            + task["task"].replace("_", " ")
            + " every "
            + f"{task['interval_days']:g}"
            + " days ("
            + task["regulation"]
            + "); "
            + last_txt
            + np.where(piece["overdue"], ", overdue", "")
            + ", due "
            + piece["due_on"].dt.strftime("%Y-%m-%d")
        )
        pieces.append(piece)
    if not pieces:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in DUE_COLUMNS})
    out = pd.concat(pieces, ignore_index=True)
    return out.sort_values(["due_on", "trade", "building_id"], kind="stable").reset_index(
        drop=True
    )[DUE_COLUMNS]


def _plan_year(days: pd.DatetimeIndex, constraints: PlanConstraints) -> np.ndarray:
    bounds = np.array(
        [pd.Timestamp(constraints.year_start(y)).to_datetime64() for y in range(constraints.years)]
    )
    return np.clip(np.searchsorted(bounds, days.to_numpy(), side="right") - 1, 0, None)


def plan_year_of(day: dt.date, constraints: PlanConstraints) -> int:
    """0-based plan year of a date."""
    return int(_plan_year(pd.DatetimeIndex([pd.Timestamp(day)]), constraints)[0])
