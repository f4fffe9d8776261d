"""siting — last-mile postal facility siting for the Zhengzhou 14th Five-Year postal plan.

The package is a few folders, each a stage, and data flows through them one way:
:mod:`siting.config` (the scenario) → :mod:`siting.readers` (roads, layers, facilities) →
:mod:`siting.network` (graph, snapping, candidates, distances) → :mod:`siting.run`
(assemble the problem) → :mod:`siting.core` (geometry-free optimisation) →
:mod:`siting.check` (independent verification) → :mod:`siting.outputs` (map, GeoPackage,
tables, reports). :mod:`siting.synth` writes the same files users supply.
"""

from __future__ import annotations

__version__ = "0.1.0"

from siting._errors import InputError, ScenarioError, SitingError
from siting.core._errors import CoreError, InfeasibleError, SolverError

__all__ = [
    "CoreError",
    "InfeasibleError",
    "InputError",
    "ScenarioError",
    "SitingError",
    "SolverError",
    "__version__",
]
