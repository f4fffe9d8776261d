"""The project's exceptions: few, subclassing built-ins, each message naming file and fix."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["EnvironmentFailure", "InputError", "OutputFolderError", "ScenarioError",
           "SitingError", "ValidationError"]


class SitingError(Exception):
    """Base of every input, output and environment error the CLI turns into one paragraph.

    The optimisation core raises its own (:mod:`siting.core._errors`), since it imports
    nothing else of siting.
    """


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


class OutputFolderError(InputError):
    """An output folder siting may not replace: a file, or a folder of the user's."""


class EnvironmentFailure(SitingError, OSError):  # noqa: N818 (a failure, not a bug)
    """The machine refuses a write: disk full, read-only file system, no permission.

    ``errno`` and ``filename`` are those of the failed call; the message names the folder
    and the fix. The CLI exits with its own code (4) for it.
    """

    def __init__(self, message: str, *, errno: int | None = None,
                 filename: str | None = None) -> None:
        super().__init__(message)
        self.errno = errno
        self.filename = filename

    def __str__(self) -> str:
        return str(self.args[0])
