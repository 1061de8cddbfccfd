"""Errors of the planner: bad inputs and plans that cannot be met."""

from __future__ import annotations

from asset_model.errors import PatrimoineError


class PlannerError(PatrimoineError):
    """Base of every planner error."""


class PlanInputError(PlannerError):
    """An input of the plan is unusable (budget, scores, crews, parameter file)."""


class PlanInfeasibleError(PlannerError):
    """The ask cannot be met: statutory work alone exceeds a budget or crew capacity.

    ``shortfall_eur`` is how much money is missing (0 when the problem is crew hours);
    ``year`` the 0-based plan year concerned (None when not tied to one year).
    """

    def __init__(self, message: str, *, shortfall_eur: float = 0.0, year: int | None = None):
        super().__init__(message)
        self.shortfall_eur = float(shortfall_eur)
        self.year = year
