"""The simulated world: a sample French social-housing stock and its maintenance history.

Generate the stock as IFC files (:func:`generate_stock`), ingest them, then simulate years of
daily operation from the registry (:func:`registry_frames`, :func:`simulate_history`) and import
the landlord's files through the public import functions (:func:`import_landlord_files`). The
truth (true 90-day failure probabilities and the failures) lands in a separate folder that
predict and planner never read. Model and parameters: ``docs/simulation.md``,
``simulation/parameters.json``.

Examples
--------
>>> from simulation import plan_stock, stock_frames, simulate_history
>>> assets, buildings, dwellings = stock_frames(plan_stock(estates=1, seed=0))
>>> summary = simulate_history(assets, buildings, dwellings, out_dir="/tmp/sim",  # doctest: +SKIP
...                            years=1, seed=0)
"""

from simulation.ifc_writer import file_summary, generate_stock, write_stock
from simulation.parameters import (
    ParameterError,
    class_of,
    load_parameters,
    read_parameters_file,
    validate_parameters,
)
from simulation.run import (
    ImportReport,
    SimulationError,
    SimulationSummary,
    import_landlord_files,
    registry_frames,
    simulate_history,
)
from simulation.stock import DWELLINGS_PER_ESTATE, PlannedStock, plan_stock, stock_frames

__all__ = [
    "DWELLINGS_PER_ESTATE",
    "ImportReport",
    "ParameterError",
    "PlannedStock",
    "SimulationError",
    "SimulationSummary",
    "class_of",
    "file_summary",
    "generate_stock",
    "import_landlord_files",
    "load_parameters",
    "plan_stock",
    "read_parameters_file",
    "registry_frames",
    "simulate_history",
    "stock_frames",
    "validate_parameters",
    "write_stock",
]
