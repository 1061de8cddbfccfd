"""Plan exports: CSV (DESIGN §6 columns), XLSX for planners, iCalendar per crew.

Examples
--------
>>> from planner import export_csv, export_xlsx, export_ical   # doctest: +SKIP
>>> export_csv(result, "plan.csv"); export_xlsx(result, "plan.xlsx")   # doctest: +SKIP
>>> export_ical(result, "plan.ics")   # plan.ics (all crews) + plan.<crew>.ics   # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from pathlib import Path

import pandas as pd

from planner.build import PLAN_COLUMNS, PlanResult


def plan_table(result: PlanResult) -> pd.DataFrame:
    """The plan as the DESIGN §6 table (one row per intervention, ranked)."""
    t = result.plan[PLAN_COLUMNS].copy()
    t["scheduled_on"] = pd.to_datetime(t["scheduled_on"]).dt.date
    t["cost_eur"] = t["cost_eur"].round(2)
    for c in ("p_failure_before", "p_failure_after"):
        t[c] = t[c].astype(float).round(4)
    return t.sort_values("rank").reset_index(drop=True)


def export_csv(result: PlanResult, path: Path | str) -> Path:
    """Write the plan as CSV with exactly the DESIGN §6 columns."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    plan_table(result).to_csv(path, index=False)
    return path


def _sheet_name(name: str, used: set[str]) -> str:
    base = re.sub(r"[\[\]:*?/\\]", "-", name)[:31]
    out, i = base, 1
    while out.lower() in used:
        i += 1
        out = f"{base[: 31 - len(str(i)) - 1]}~{i}"
    used.add(out.lower())
    return out


def export_xlsx(result: PlanResult, path: Path | str) -> Path:
    """Write a workbook: ``Summary`` (solve figures, budget use by year and category), ``Plan``
    (every row), then one sheet per crew and ISO week (``<crew> <year>-W<week>``) listing that
    crew's work in time order. Headers frozen, autofilter, formatted numbers and dates."""
    import xlsxwriter

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(path), {"remove_timezone": True})
    bold = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    money = wb.add_format({"num_format": "#,##0 €"})
    pct = wb.add_format({"num_format": "0.0%"})
    date_f = wb.add_format({"num_format": "yyyy-mm-dd"})
    time_f = wb.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    title = wb.add_format({"bold": True, "font_size": 14})
    used: set[str] = set()

    ws = wb.add_worksheet(_sheet_name("Summary", used))
    ws.write(0, 0, "Maintenance plan", title)
    c = result.constraints
    facts = [
        ("start", str(c.start)),
        ("years", c.years),
        ("solver", result.solver),
        ("objective (EUR of expected benefit)", result.objective),
        ("bound", result.bound),
        ("gap", result.gap),
        ("candidates", result.n_candidates),
        *[(k.replace("_", " "), v) for k, v in result.metrics.items()],
    ]
    for i, (k, v) in enumerate(facts, start=2):
        ws.write(i, 0, k)
        ws.write(i, 1, v, pct if k == "gap" else None)
    top = len(facts) + 4
    ws.write(top - 1, 0, "Budget use by plan year and category (EUR)", bold)
    use = result.budget_use()
    for j, col in enumerate(use.columns):
        ws.write(top, j, str(col), bold)
        for i, v in enumerate(use[col].tolist(), start=1):
            ws.write(top + i, j, v, money if col != "year" else None)
    ws.set_column(0, 0, 38)
    ws.set_column(1, len(use.columns), 14)

    table = plan_table(result)
    _write_table(wb, wb.add_worksheet(_sheet_name("Plan", used)), table, bold, money, date_f, pct)

    rows = result.plan.set_index("job_id")
    seg = result.segments
    if len(seg):
        seg = seg.assign(start=pd.to_datetime(seg["start"]), end=pd.to_datetime(seg["end"]))
        iso = seg["start"].dt.isocalendar()
        seg = seg.assign(iso_year=iso["year"].astype(int), iso_week=iso["week"].astype(int))
        for (crew, yr, wk), part in seg.groupby(["crew", "iso_year", "iso_week"], sort=True):
            part = part.sort_values("start")
            r = rows.loc[part["job_id"]]
            sheet = pd.DataFrame(
                {
                    "start": part["start"].to_numpy(),
                    "end": part["end"].to_numpy(),
                    "hours": part["hours"].to_numpy(),
                    "building": r["building"].to_numpy(),
                    "dwelling": r["dwelling"].to_numpy(),
                    "asset_ref": r["asset_ref"].to_numpy(),
                    "asset_tag": r["asset_tag"].to_numpy(),
                    "category": r["category"].to_numpy(),
                    "action": r["action"].to_numpy(),
                    "statutory": r["statutory"].to_numpy(),
                    "reason": r["reason"].to_numpy(),
                }
            )
            w = wb.add_worksheet(_sheet_name(f"{crew} {yr}-W{wk:02d}", used))
            _write_table(wb, w, sheet, bold, money, time_f, pct)
    wb.close()
    return path


def _write_table(wb, ws, frame: pd.DataFrame, head, money, date_f, pct) -> None:  # noqa: ANN001
    for j, col in enumerate(frame.columns):
        ws.write(0, j, col, head)
        values = frame[col].tolist()
        fmt = None
        if col in {"cost_eur"}:
            fmt = money
        elif col in {"scheduled_on", "start", "end"}:
            fmt = date_f
        elif col.startswith("p_failure"):
            fmt = pct
        for i, v in enumerate(values, start=1):
            if v is None or (isinstance(v, float) and v != v) or v is pd.NA or v is pd.NaT:
                continue
            if isinstance(v, pd.Timestamp):
                v = v.to_pydatetime()
            if isinstance(v, dt.datetime | dt.date):
                ws.write_datetime(i, j, v, fmt)
            elif isinstance(v, bool):
                ws.write_boolean(i, j, v)
            elif hasattr(v, "item"):
                ws.write(i, j, v.item(), fmt)
            else:
                ws.write(i, j, v, fmt)
        width = 60 if col == "reason" else 12 if col not in {"start", "end"} else 17
        ws.set_column(j, j, width)
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(len(frame), 1), len(frame.columns) - 1)


def _calendar(name: str):  # noqa: ANN202
    import icalendar

    cal = icalendar.Calendar()
    cal.add("prodid", "-//Patrimoine//planner//FR")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", name)
    return cal


def export_ical(result: PlanResult, path: Path | str, *, tz: str = "Europe/Paris") -> list[Path]:
    """Write iCalendar files: ``path`` with every crew's work (one event per crew-day piece,
    crew in SUMMARY and CATEGORIES), and ``<stem>.<crew>.ics`` beside it, one calendar per crew,
    which is the one to import in that crew's calendar app. Times are local (``tz``)."""
    import zoneinfo

    import icalendar

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    zone = zoneinfo.ZoneInfo(tz)
    rows = result.plan.set_index("job_id")
    stamp = dt.datetime.now(dt.UTC).replace(microsecond=0)
    # same plan -> same UIDs (re-import updates events); another plan -> other UIDs
    c = result.constraints
    token = hashlib.sha256(
        f"{c.start}|{result.budgets}|{result.objective:.6f}|{len(result.plan)}".encode()
    ).hexdigest()[:12]
    everyone = _calendar("Patrimoine plan")
    per_crew: dict[str, icalendar.Calendar] = {}
    seg = (
        result.segments.sort_values(["crew", "start"]) if len(result.segments) else result.segments
    )
    for k, s in enumerate(seg.itertuples()):
        r = rows.loc[s.job_id]
        where = ", ".join(str(x) for x in (r["building"], r["dwelling"]) if pd.notna(x))
        what = f"{r['action']} {r['category']}" + (" (statutory)" if r["statutory"] else "")
        tag = r["asset_tag"] if pd.notna(r["asset_tag"]) else r["asset_ref"]
        ev = icalendar.Event()
        ev.add("uid", f"plan-{token}-{s.job_id}-{k}@patrimoine")
        ev.add("dtstamp", stamp)
        ev.add("dtstart", pd.Timestamp(s.start).to_pydatetime().replace(tzinfo=zone))
        ev.add("dtend", pd.Timestamp(s.end).to_pydatetime().replace(tzinfo=zone))
        ev.add("summary", f"[{s.crew}] {what}" + (f" {tag}" if pd.notna(tag) else ""))
        ev.add("location", where or "unknown building")
        ev.add("description", str(r["reason"]))
        ev.add("categories", [str(s.crew), str(r["trade"])])
        everyone.add_component(ev)
        cal = per_crew.setdefault(s.crew, _calendar(f"Patrimoine plan: {s.crew}"))
        cal.add_component(ev)
    everyone.add_missing_timezones()
    path.write_bytes(everyone.to_ical())
    out = [path]
    for crew, cal in sorted(per_crew.items()):
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", crew)
        p = path.with_name(f"{path.stem}.{safe}.ics")
        cal.add_missing_timezones()
        p.write_bytes(cal.to_ical())
        out.append(p)
    return out


def export_plan(result: PlanResult, path: Path | str) -> list[Path]:
    """Export by extension: ``.csv``, ``.xlsx`` or ``.ics``."""
    path = Path(path)
    ext = path.suffix.lower()
    if ext == ".csv":
        return [export_csv(result, path)]
    if ext == ".xlsx":
        return [export_xlsx(result, path)]
    if ext == ".ics":
        return export_ical(result, path)
    from planner.errors import PlanInputError

    raise PlanInputError(f"{path}: unknown export format '{ext}' (use .csv, .xlsx or .ics)")
