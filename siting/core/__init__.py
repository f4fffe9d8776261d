"""The optimisation core: geometry-free siting models on arrays and sparse matrices.

Build a :class:`Problem` (by hand from :class:`TierData`, or with :func:`covering`,
:func:`max_coverage` or :func:`p_median`), then :func:`optimise` it with
:class:`SolverSettings`; it returns a :class:`Solution`. :func:`transport` shares a plan's
demand among its open banks. The core imports nothing else of siting.
"""

from __future__ import annotations

from siting.core._errors import CoreError, HaltedError, InfeasibleError, SolverError
from siting.core.constructors import covering, max_coverage, p_median
from siting.core.optimise import optimise
from siting.core.phasing import Phasing, phase
from siting.core.problem import (
    OBJECTIVES,
    Certificate,
    Outcome,
    Problem,
    Solution,
    SolverSettings,
    TierData,
    cost_of,
)
from siting.core.solve import halted_by
from siting.core.transport import transport

__all__ = [
    "OBJECTIVES",
    "Certificate",
    "CoreError",
    "HaltedError",
    "InfeasibleError",
    "Outcome",
    "Phasing",
    "Problem",
    "Solution",
    "SolverError",
    "SolverSettings",
    "TierData",
    "cost_of",
    "covering",
    "halted_by",
    "max_coverage",
    "optimise",
    "p_median",
    "phase",
    "transport",
]
