"""The core's exceptions: a core that imports nothing else of siting raises its own.

The CLI maps them to exit code 3; the rest of siting's errors (bad input, output folders, the
machine) live in :mod:`siting._errors`, which does not import the core.
"""

from __future__ import annotations


class CoreError(Exception):
    """Base of the optimisation core's errors."""


class InfeasibleError(CoreError, RuntimeError):
    """A target cannot be met by any choice of sites (detected before or after solving)."""


class SolverError(CoreError, RuntimeError):
    """The MIP solver failed, or found no feasible solution within its limits."""


class HaltedError(Exception):
    """A solve stopped: the run that asked for it was given up (:func:`~siting.core.halted_by`)."""
