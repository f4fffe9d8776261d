"""siting — last-mile postal facility siting for the Zhengzhou 14th Five-Year postal plan.

The pipeline: :mod:`siting.config.scenario` (what to run) → :mod:`siting.readers.osm` and
:mod:`siting.network.roads` (roads) → :mod:`siting.readers.buildings` and :mod:`siting.network.candidates` →
:mod:`siting.network.snapping` and :mod:`siting.network.distances` (sparse network coverage) →
:mod:`siting.core.model` and :mod:`siting.core.solve` (one MIP over all tiers) →
:mod:`siting.check.checker` (independent verification) → :mod:`siting.outputs.write`,
:mod:`siting.outputs.webmap` and :mod:`siting.outputs.report`.
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
