"""The core's exceptions (the rest of siting re-exports them from :mod:`siting._errors`)."""

from __future__ import annotations


class SitingError(Exception):
    """Base of every error the CLI turns into a one-paragraph message."""


class InfeasibleError(SitingError, RuntimeError):
    """A target cannot be met by any choice of sites (detected before or after solving)."""


class SolverError(SitingError, RuntimeError):
    """The MIP solver failed, or found no feasible solution within its limits."""
