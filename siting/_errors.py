"""The project's exceptions: few, subclassing built-ins, each message naming file and fix."""

from __future__ import annotations

from collections.abc import Iterable

from siting.core._errors import InfeasibleError, SitingError, SolverError

__all__ = ["InfeasibleError", "InputError", "ScenarioError", "SitingError", "SolverError",
           "ValidationError"]


class InputError(SitingError, ValueError):
    """An input file, layer, field or scenario value is wrong; the message says how to fix it."""


class ScenarioError(InputError):
    """The scenario TOML is malformed, has an unknown key, or a value out of range."""


class ValidationError(InputError):
    """Several input problems found at once; ``problems`` holds one message per problem."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        head = f"{count} input problem{'s' if count != 1 else ''} found:"
        super().__init__("\n".join([head, *(f"  - {p}" for p in self.problems)]))
