"""Every number the planner uses, as documented, overridable parameters.

Examples
--------
>>> from planner.parameters import PlanParameters
>>> p = PlanParameters()
>>> p.replace_cost_eur["boiler"]
5000.0
>>> PlanParameters.from_dict({"eur_per_dwelling_day": 50.0}).eur_per_dwelling_day
50.0

Figures come from ``maintenance-facts.md`` §1.2–1.3; values marked [A] in ``docs/planner.md`` are
assumptions a landlord should refit on their own history. Load overrides from a JSON or TOML file
with :meth:`PlanParameters.load` (only the keys given are changed; dict entries are merged).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from planner.errors import PlanInputError

MONTHS = 12


def _by_category(**values: float) -> dict[str, float]:
    return {k: float(v) for k, v in values.items()}


@dataclass
class PlanParameters:
    """Costs, effects and hardship weights of the planner (see docs/planner.md for sources).

    Dict-valued fields are keyed by asset category; ``"default"`` applies to any other category.
    """

    # -- costs (EUR incl. VAT), maintenance-facts §1.3 -------------------------------------------
    service_cost_eur: dict[str, float] = field(
        default_factory=lambda: _by_category(
            boiler=150,
            heat_pump=250,
            water_heater=120,
            ventilation_fan=350,
            pump=180,
            elevator=400,
            radiator=80,
            default=150,
        )
    )
    repair_cost_eur: dict[str, float] = field(
        default_factory=lambda: _by_category(
            boiler=300,
            heat_pump=600,
            water_heater=250,
            ventilation_fan=600,
            pump=400,
            elevator=1500,
            radiator=150,
            default=300,
        )
    )
    overhaul_cost_eur: dict[str, float] = field(
        default_factory=lambda: _by_category(
            boiler=900,
            heat_pump=1800,
            water_heater=300,
            ventilation_fan=1500,
            pump=800,
            elevator=25000,
            radiator=250,
            default=800,
        )
    )
    replace_cost_eur: dict[str, float] = field(
        default_factory=lambda: _by_category(
            boiler=5000,
            heat_pump=13000,
            water_heater=820,
            ventilation_fan=4000,
            pump=900,
            elevator=48000,
            radiator=400,
            default=2000,
        )
    )
    collective_replace_factor: float = 6.0
    """A collective (building) boiler or pump costs this many times an individual one [A]."""
    # -- durations (hours of one crew) [A] --------------------------------------------------------
    service_hours: dict[str, float] = field(
        default_factory=lambda: _by_category(elevator=3, ventilation_fan=3, default=1.5)
    )
    overhaul_hours: dict[str, float] = field(
        default_factory=lambda: _by_category(elevator=80, boiler=6, heat_pump=8, default=4)
    )
    replace_hours: dict[str, float] = field(
        default_factory=lambda: _by_category(
            elevator=240, boiler=8, heat_pump=16, water_heater=4, ventilation_fan=12, default=6
        )
    )
    # -- effects on failure rate ------------------------------------------------------------------
    service_factor: float = 0.75
    """Failure rate multiplier for one year after an extra service [A] (the trade's "5x fewer"
    claim is an upper bound, §1.2)."""
    overhaul_factor: float = 0.5
    """Failure rate multiplier for the rest of the horizon after a repair/overhaul [A]."""
    new_unit_annual_failures: dict[str, float] = field(
        default_factory=lambda: _by_category(
            boiler=0.08,
            heat_pump=0.06,
            water_heater=0.05,
            ventilation_fan=0.1,
            pump=0.08,
            elevator=1.0,
            default=0.05,
        )
    )
    """Failures per year of a new unit (elevator: 0.5–2 well maintained §1.2; others [A])."""
    ageing_per_year: float = 1.10
    """Yearly growth of an unchanged unit's failure rate over the plan horizon [A]."""
    end_of_life_factor: float = 1.5
    """Failure-rate multiplier once the scored remaining life has run out [A]."""
    trade_of_category: dict[str, str] = field(
        default_factory=lambda: {
            "boiler": "heating",
            "heat_pump": "heating",
            "radiator": "heating",
            "pump": "heating",
            "valve": "heating",
            "water_heater": "plumbing",
            "sanitary": "plumbing",
            "elevator": "lift",
            "ventilation_fan": "ventilation",
            "air_terminal": "ventilation",
            "fire_safety": "fire_safety",
            "electrical": "electrical",
            "light": "electrical",
            "meter": "electrical",
            "default": "general",
        }
    )
    """Which trade repairs or replaces each category (statutory work names its own trade)."""
    min_benefit_per_euro: float = 0.0
    """Options whose expected benefit is below this × their cost are not proposed. By default
    (0) the budget the landlord sets is spent, best value per euro first, on any option with a
    positive benefit; 1.0 proposes only interventions worth what they cost [A]."""
    appraisal_years: int = 5
    """Benefits of overhauls and replacements are counted over max(plan years, this) years, so
    a one-year plan does not ignore what a new boiler avoids in its second year [A]."""
    discount_rate: float = 0.03
    """Yearly discount of benefits over the appraisal period [A]."""
    # -- hardship ---------------------------------------------------------------------------------
    eur_per_dwelling_day: float = 30.0
    """Money value of one dwelling-day without an essential service [A]."""
    vulnerable_weight: float = 2.0
    """A vulnerable household's day counts this many times [A]."""
    outage_days: dict[str, float] = field(
        default_factory=lambda: _by_category(
            boiler=2,
            heat_pump=3,
            water_heater=2,
            elevator=4,
            pump=1,
            ventilation_fan=3,
            default=1,
        )
    )
    """Days without service per failure (elevator mean 4 days [S14]; others [A])."""
    service_of_category: dict[str, str] = field(
        default_factory=lambda: {
            "boiler": "heating",
            "heat_pump": "heating",
            "radiator": "heating",
            "pump": "heating",
            "water_heater": "hot_water",
            "elevator": "elevator",
            "ventilation_fan": "ventilation",
        }
    )
    service_weight: dict[str, float] = field(
        default_factory=lambda: {
            "heating": 1.0,
            "hot_water": 0.8,
            "elevator": 0.8,
            "ventilation": 0.2,
            "other": 0.1,
        }
    )
    season_weight: dict[str, list[float]] = field(
        default_factory=lambda: {
            "heating": [1.0, 1.0, 0.8, 0.5, 0.2, 0.05, 0.05, 0.05, 0.2, 0.5, 0.8, 1.0],
            "other": [1.0] * MONTHS,
        }
    )
    """Weight of a day without the service by month (Jan..Dec); heating in January >> June [A]."""
    failure_month_share: dict[str, list[float]] = field(
        default_factory=lambda: {
            "heating": [0.14, 0.12, 0.1, 0.07, 0.05, 0.04, 0.04, 0.04, 0.06, 0.08, 0.12, 0.14],
            "other": [1 / MONTHS] * MONTHS,
        }
    )
    """When failures happen through the year (boilers peak mid-January, §1.2) [A]."""
    elevator_floor_weight: float = 0.25
    """An elevator outage weighs 1 + this × (floor − 1) for a dwelling on floor >= 1 [A]."""
    storey_height_m: float = 2.8
    # -- statutory scheduling ---------------------------------------------------------------------
    overdue_grace_days: int = 28
    """Overdue (or never recorded) statutory work must be done within this many days of start."""
    early_window_fraction: float = 0.1
    """Statutory work may be done up to this fraction of its interval before it falls due,
    clipped to [``early_window_min_days``, ``early_window_max_days``]. The next occurrence falls
    due one interval after the start of this window, so two visits are never further apart
    than the legal interval whatever day of its window each is done."""
    early_window_min_days: float = 7.0
    early_window_max_days: float = 30.0
    # -- work time --------------------------------------------------------------------------------
    day_start_hour: int = 8
    day_end_hour: int = 17
    lunch_hour: int = 12
    working_weeks_per_year: int = 47
    default_crew_hours_per_week: float = 35.0
    default_crew_utilisation: float = 0.6
    """Default crews per trade: enough for the statutory hours at this utilisation (min 1)."""

    @property
    def productive_hours_per_day(self) -> float:
        return float(self.day_end_hour - self.day_start_hour - 1)

    def of(self, table: str, category: str) -> float:
        values: dict[str, float] = getattr(self, table)
        return float(values.get(category, values.get("default", 0.0)))

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any], *, source: str = "parameters") -> PlanParameters:
        base = cls()
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise PlanInputError(f"{source}: unknown parameter(s) {', '.join(unknown)}")
        merged: dict[str, Any] = {}
        for key, value in values.items():
            current = getattr(base, key)
            if isinstance(current, dict):
                if not isinstance(value, dict):
                    raise PlanInputError(f"{source}: parameter '{key}' must be a table/object")
                merged[key] = {**current, **value}
            else:
                merged[key] = value
        params = dataclasses.replace(base, **merged)
        params.validate(source)
        return params

    @classmethod
    def load(cls, path: Path | str) -> PlanParameters:
        """Read overrides from a ``.json`` or ``.toml`` file."""
        path = Path(path)
        try:
            if path.suffix.lower() == ".toml":
                values = tomllib.loads(path.read_text(encoding="utf-8"))
            else:
                values = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise PlanInputError(f"{path}: cannot read parameters: {err}") from err
        if not isinstance(values, dict):
            raise PlanInputError(f"{path}: parameters must be an object of name -> value")
        return cls.from_dict(values, source=str(path))

    def validate(self, source: str = "parameters") -> None:
        for key in ("service_factor", "overhaul_factor"):
            v = getattr(self, key)
            if not 0.0 <= v <= 1.0:
                raise PlanInputError(f"{source}: '{key}' must be within [0, 1], got {v}")
        for key in ("season_weight", "failure_month_share"):
            for name, months in getattr(self, key).items():
                if len(months) != MONTHS:
                    raise PlanInputError(f"{source}: '{key}.{name}' needs 12 monthly values")
        if self.day_end_hour - self.day_start_hour < 2:
            raise PlanInputError(f"{source}: working day too short")


@dataclass(frozen=True)
class Crew:
    """One crew (or technician): its trade, weekly hours and home base."""

    name: str
    trade: str
    hours_per_week: float
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True)
class PlanConstraints:
    """What the plan must respect: annual budgets over ``years``, start date, crews, solver limits.

    ``budget_eur`` is the budget of every year, or a sequence with one budget per year.
    ``crews`` None means default crews per trade (docs/planner.md).
    """

    budget_eur: float | tuple[float, ...]
    years: int = 1
    start: dt.date = field(default_factory=dt.date.today)
    crews: tuple[Crew, ...] | None = None
    mip_gap: float = 0.005
    time_limit_s: float = 60.0
    method: str = "auto"
    exact_max_candidates: int = 300_000

    def annual_budgets(self) -> list[float]:
        if not 1 <= int(self.years) <= 10:
            raise PlanInputError(f"years must be between 1 and 10, got {self.years}")
        if isinstance(self.budget_eur, int | float):
            budgets = [float(self.budget_eur)] * int(self.years)
        else:
            budgets = [float(b) for b in self.budget_eur]
            if len(budgets) != self.years:
                raise PlanInputError(
                    f"{len(budgets)} annual budgets given for a {self.years}-year plan"
                )
        for i, b in enumerate(budgets):
            if not b > 0 or b != b:
                raise PlanInputError(
                    f"budget must be a positive amount of euros, got {b} (year {i})"
                )
        if self.method not in {"auto", "exact", "heuristic"}:
            raise PlanInputError(f"method must be auto, exact or heuristic, got {self.method!r}")
        return budgets

    def year_start(self, year: int) -> dt.date:
        return _add_years(self.start, year)

    @property
    def end(self) -> dt.date:
        return _add_years(self.start, int(self.years))


def _add_years(day: dt.date, n: int) -> dt.date:
    try:
        return day.replace(year=day.year + n)
    except ValueError:  # 29 February
        return day.replace(year=day.year + n, day=28)


def load_crews(path: Path | str) -> tuple[Crew, ...]:
    """Read crews from CSV/XLSX/JSON: ``crew, trade, hours_per_week, latitude, longitude``."""
    import pandas as pd

    path = Path(path)
    try:
        if path.suffix.lower() == ".json":
            frame = pd.DataFrame(json.loads(path.read_text(encoding="utf-8")))
        elif path.suffix.lower() in {".xlsx", ".xls"}:
            frame = pd.read_excel(path)
        else:
            frame = pd.read_csv(path)
    except (OSError, ValueError) as err:
        raise PlanInputError(f"{path}: cannot read crews: {err}") from err
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    if "name" in frame.columns and "crew" not in frame.columns:
        frame = frame.rename(columns={"name": "crew"})
    missing = {"crew", "trade"} - set(frame.columns)
    if missing:
        raise PlanInputError(f"{path}: crews file lacks column(s) {', '.join(sorted(missing))}")
    crews = []
    for i, row in enumerate(frame.to_dict("records"), start=1):
        hours = row.get("hours_per_week")
        hours = 35.0 if hours is None or hours != hours else hours
        try:
            hours = float(hours)
        except (TypeError, ValueError):
            msg = f"{path}: row {i}: hours_per_week {hours!r} is not a number"
            raise PlanInputError(msg) from None
        if not hours > 0:
            raise PlanInputError(f"{path}: row {i}: hours_per_week must be positive, got {hours}")
        if not isinstance(row["crew"], str) or not isinstance(row["trade"], str):
            raise PlanInputError(f"{path}: row {i}: crew and trade must be given")

        def _num(v: Any) -> float | None:
            return None if v is None or v != v else float(v)

        crews.append(
            Crew(
                name=row["crew"].strip(),
                trade=row["trade"].strip(),
                hours_per_week=hours,
                latitude=_num(row.get("latitude")),
                longitude=_num(row.get("longitude")),
            )
        )
    if not crews:
        raise PlanInputError(f"{path}: no crews")
    return tuple(crews)
