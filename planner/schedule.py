"""Place planned work in weeks and days, grouped into visits, on the nearest qualified crew.

Examples
--------
>>> from planner.schedule import haversine_km
>>> round(haversine_km(48.8566, 2.3522, 45.7640, 4.8357))   # Paris - Lyon
392

Rules: Monday to Friday, ``day_start_hour``–``day_end_hour`` with a one-hour lunch break; a crew
never works more than its ``hours_per_week``. Jobs of one building and trade due the same week
(statutory) or planned the same year (improvements) form one visit, split into chunks that fit
a crew's week. Each visit goes to the nearest crew of its trade that has the hours (haversine
distance from the crew's base to the building). Statutory work must end between its earliest
date and its due date; heating improvements prefer weeks where heating matters least.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import pandas as pd

from planner.errors import PlanInfeasibleError, PlanInputError
from planner.parameters import Crew, PlanConstraints, PlanParameters

SEGMENT_COLUMNS = ["job_id", "crew", "day", "start", "end", "hours"]


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km."""
    r = 6371.0088
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


def default_crews(
    trades_hours: dict[str, float],
    buildings: pd.DataFrame,
    parameters: PlanParameters,
    peak_weekly_hours: dict[str, float] | None = None,
) -> tuple[Crew, ...]:
    """Crews when no crews file is given: per trade, enough crews to do its statutory hours
    (``trades_hours``: hours per year) at ``default_crew_utilisation``, and its busiest weeks
    (``peak_weekly_hours``, mean over the busiest 4 weeks) at 80 % (at least one crew), based
    at buildings spread over the stock (sorted by latitude, longitude)."""
    p = parameters
    coords = buildings[["latitude", "longitude"]].dropna().sort_values(["latitude", "longitude"])
    crews = []
    yearly = p.default_crew_hours_per_week * p.working_weeks_per_year * p.default_crew_utilisation
    for trade in sorted(trades_hours):
        peak = (peak_weekly_hours or {}).get(trade, 0.0) / (0.8 * p.default_crew_hours_per_week)
        n = max(1, math.ceil(trades_hours[trade] / yearly), math.ceil(peak))
        for i in range(n):
            lat = lon = None
            if len(coords):
                row = coords.iloc[min(len(coords) - 1, int((i + 0.5) / n * len(coords)))]
                lat, lon = float(row["latitude"]), float(row["longitude"])
            crews.append(Crew(f"{trade}-{i + 1}", trade, p.default_crew_hours_per_week, lat, lon))
    return tuple(crews)


@dataclass
class _Calendar:
    start: dt.date
    end: dt.date
    day_hours: float
    week_cap: np.ndarray  # per crew
    week_used: dict
    day_used: dict

    def week_of(self, day: dt.date) -> int:
        monday0 = self.start - dt.timedelta(days=self.start.weekday())
        return (day - monday0).days // 7

    def days_of_week(self, week: int, lo: dt.date, hi: dt.date) -> list[dt.date]:
        monday0 = self.start - dt.timedelta(days=self.start.weekday())
        monday = monday0 + dt.timedelta(days=7 * week)
        days = [monday + dt.timedelta(days=i) for i in range(5)]
        return [d for d in days if max(lo, self.start) <= d <= hi and d < self.end]

    def free(self, crew: int, week: int, days: list[dt.date]) -> float:
        left = self.week_cap[crew] - self.week_used.get((crew, week), 0.0)
        in_days = sum(self.day_hours - self.day_used.get((crew, d), 0.0) for d in days)
        return max(0.0, min(left, in_days))

    def book(self, crew: int, week: int, days: list[dt.date], hours: float) -> list[tuple]:
        """Book ``hours`` in ``days`` (caller checked they fit); returns (day, offset, hours)."""
        out = []
        need = hours
        for d in days:
            if need <= 1e-9:
                break
            week_left = self.week_cap[crew] - self.week_used.get((crew, week), 0.0)
            used = self.day_used.get((crew, d), 0.0)
            take = min(self.day_hours - used, week_left, need)
            if take <= 1e-9:
                continue
            out.append((d, used, take))
            self.day_used[(crew, d)] = used + take
            self.week_used[(crew, week)] = self.week_used.get((crew, week), 0.0) + take
            need -= take
        return out


def _clock(day: dt.date, offset: float, hours: float, p: PlanParameters) -> list[tuple]:
    """Turn an offset into the working day into clock segments, skipping the lunch hour."""
    morning = p.lunch_hour - p.day_start_hour
    base = dt.datetime.combine(day, dt.time(p.day_start_hour))
    segs = []
    a, b = offset, offset + hours
    if a < morning:
        segs.append((a, min(b, morning)))
    if b > morning:
        segs.append((max(a, morning) + 1, b + 1))
    return [(base + dt.timedelta(hours=x), base + dt.timedelta(hours=y)) for x, y in segs]


def schedule(
    jobs: pd.DataFrame,
    buildings: pd.DataFrame,
    crews: tuple[Crew, ...],
    constraints: PlanConstraints,
    parameters: PlanParameters | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Schedule ``jobs`` (columns ``job_id, building_id, trade, duration_h, statutory,
    window_start, window_end``). Returns (jobs with ``crew, scheduled_on, start, end, visit``
    — unplaceable improvement jobs get NaT — and the work segments, one per crew-day piece).

    Raises PlanInfeasibleError when statutory work cannot be placed before it is due, and
    PlanInputError when a trade has no crew.
    """
    p = parameters or PlanParameters()
    jobs = jobs.copy()
    by_trade: dict[str, list[int]] = defaultdict(list)
    for i, c in enumerate(crews):
        by_trade[c.trade].append(i)
    missing = sorted(set(jobs["trade"]) - set(by_trade))
    if missing:
        raise PlanInputError(f"no crew for trade(s) {', '.join(missing)}: add crews to the file")
    day_hours = p.productive_hours_per_day
    cal = _Calendar(
        start=constraints.start,
        end=constraints.end,
        day_hours=day_hours,
        week_cap=np.array([min(c.hours_per_week, 5 * day_hours) for c in crews]),
        week_used={},
        day_used={},
    )
    bcoord = (
        buildings.set_index("building_id")[["latitude", "longitude"]] if len(buildings) else None
    )

    def crew_order(building_id, trade: str) -> list[int]:
        idx = by_trade[trade]
        if bcoord is None or pd.isna(building_id) or building_id not in bcoord.index:
            return idx
        lat, lon = bcoord.loc[building_id]
        if pd.isna(lat) or pd.isna(lon):
            return idx

        def dist(i: int) -> float:
            c = crews[i]
            if c.latitude is None or c.longitude is None:
                return 0.0
            return haversine_km(float(lat), float(lon), c.latitude, c.longitude)

        return sorted(idx, key=lambda i: (dist(i), i))

    heat_season = np.asarray(p.season_weight.get("heating", [1.0] * 12))
    jobs["win_lo"] = pd.to_datetime(jobs["window_start"]).dt.date
    jobs["win_hi"] = pd.to_datetime(jobs["window_end"]).dt.date
    jobs["_wk"] = [cal.week_of(d) for d in jobs["win_hi"]]
    jobs["grp_key"] = np.where(jobs["statutory"], jobs["_wk"], -1 - jobs["year"].astype(int))
    if "overdue" not in jobs:
        jobs["overdue"] = False
    results: dict[int, tuple] = {}
    segments: list[tuple] = []
    visit_no = 0
    group_cols = ["statutory", "trade", "grp_key", "building_id"]
    ordered_jobs = jobs.sort_values(["win_hi", "job_id"])[
        [*group_cols, "job_id", "duration_h", "win_lo", "win_hi"]
    ]
    groups: dict[tuple, list] = defaultdict(list)
    for rec in ordered_jobs.itertuples(index=False, name="Job"):
        b = None if pd.isna(rec.building_id) else rec.building_id
        groups[(bool(rec.statutory), rec.trade, int(rec.grp_key), b)].append(rec)
    visits = []
    for (statutory, trade, _key, building_id), grp in groups.items():
        # jobs whose windows share days make one visit (sorted by deadline)
        rows, lo, hi = [], None, None
        for row in grp:
            if rows and (max(lo, row.win_lo) > min(hi, row.win_hi)):
                visits.append((statutory, trade, building_id, lo, hi, rows))
                rows, lo, hi = [], None, None
            rows.append(row)
            lo = row.win_lo if lo is None else max(lo, row.win_lo)
            hi = row.win_hi if hi is None else min(hi, row.win_hi)
        visits.append((statutory, trade, building_id, lo, hi, rows))
    visits.sort(key=lambda v: (not v[0], v[4]))
    for statutory, trade, building_id, lo, hi, grp in visits:
        crew_idx = crew_order(building_id, trade)
        cap = min(cal.week_cap[i] for i in crew_idx)
        chunks, cur, h = [], [], 0.0
        for row in grp:
            if cur and h + row.duration_h > cap:
                chunks.append(cur)
                cur, h = [], 0.0
            cur.append(row)
            h += row.duration_h
        chunks.append(cur)
        weeks = list(range(cal.week_of(max(lo, cal.start)), cal.week_of(hi) + 1))
        if statutory:
            pass  # earliest deadline first, as early as its window allows
        elif trade == p.trade_of_category.get("boiler", "heating"):
            monday0 = cal.start - dt.timedelta(days=cal.start.weekday())
            weeks.sort(key=lambda w: (heat_season[(monday0 + dt.timedelta(7 * w)).month - 1], w))
        for chunk in chunks:
            visit_no += 1
            hours = sum(r.duration_h for r in chunk)
            placed = _place(cal, chunk, hours, weeks, crew_idx, lo, hi, p, crews)
            if placed is None and len(chunk) > 1:
                placed = []
                for r in chunk:
                    one = _place(cal, [r], r.duration_h, weeks, crew_idx, lo, hi, p, crews)
                    if one is None:
                        placed = None
                        break
                    placed.extend(one)
            if placed is None:
                if statutory:
                    raise PlanInfeasibleError(
                        f"crews of trade '{trade}' lack {hours:g} h between {lo} and {hi} for "
                        f"statutory work on building {building_id}: add crews or hours"
                    )
                continue
            for job_id, crew, segs in placed:
                first, last = segs[0], segs[-1]
                results[job_id] = (crews[crew].name, first[0].date(), first[0], last[1], visit_no)
                segments.extend(
                    (job_id, crews[crew].name, a.date(), a, b, (b - a).total_seconds() / 3600)
                    for a, b in segs
                )
    info = pd.DataFrame.from_dict(
        results, orient="index", columns=["crew", "scheduled_on", "start", "end", "visit"]
    )
    out = jobs.drop(columns=["_wk", "grp_key", "win_lo", "win_hi"]).join(info, on="job_id")
    out["scheduled_on"] = pd.to_datetime(out["scheduled_on"])
    seg = pd.DataFrame(segments, columns=SEGMENT_COLUMNS)
    return out, seg


def _place(cal, chunk, hours, weeks, crew_idx, lo, hi, p, crews):
    """Book a chunk on the nearest crew with the hours in the first suitable week."""
    big = hours > min(cal.week_cap[i] for i in crew_idx) + 1e-9
    for w in weeks:
        days = cal.days_of_week(w, lo, hi)
        if not days:
            continue
        for c in crew_idx:
            if not big:
                if cal.free(c, w, days) + 1e-9 < hours:
                    continue
                return _book_jobs(cal, c, w, days, chunk, p)
            # one job longer than a week: start on an empty crew-week, continue in the next ones
            if cal.week_used.get((c, w), 0.0) > 0:
                continue
            plan, need, ww = [], hours, w
            while need > 1e-9:
                d = cal.days_of_week(ww, lo, hi)
                if not d and ww > cal.week_of(hi):
                    break
                f = cal.free(c, ww, d) if d else 0.0
                if f > 0:
                    plan.append((ww, d, min(f, need)))
                    need -= min(f, need)
                ww += 1
            if need > 1e-9:
                continue
            segs = []
            for ww, d, h in plan:
                for day, off, take in cal.book(c, ww, d, h):
                    segs.extend(_clock(day, off, take, p))
            return [(chunk[0].job_id, c, segs)]
    return None


def _book_jobs(cal, c, w, days, chunk, p):
    out = []
    for r in chunk:
        segs = []
        for day, off, take in cal.book(c, w, days, r.duration_h):
            segs.extend(_clock(day, off, take, p))
        out.append((r.job_id, c, segs))
    return out
