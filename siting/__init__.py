"""siting — last-mile postal facility siting for the Zhengzhou 14th Five-Year postal plan.

The pipeline: :mod:`siting.scenario` (what to run) → :mod:`siting.osm` and
:mod:`siting.network` (roads) → :mod:`siting.demand` and :mod:`siting.candidates` →
:mod:`siting.snapping` and :mod:`siting.distances` (sparse network coverage) →
:mod:`siting.model` and :mod:`siting.solve` (one MIP over all tiers) →
:mod:`siting.checker` (independent verification) → :mod:`siting.outputs`,
:mod:`siting.webmap` and :mod:`siting.report`.
"""

from __future__ import annotations

__version__ = "0.1.0"

from siting._errors import (
    InfeasibleError,
    InputError,
    ScenarioError,
    SitingError,
    SolverError,
)

__all__ = [
    "InfeasibleError",
    "InputError",
    "ScenarioError",
    "SitingError",
    "SolverError",
    "__version__",
]
