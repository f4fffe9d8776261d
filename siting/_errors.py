"""The project's exceptions: few, subclassing built-ins, each message naming file and fix."""

from __future__ import annotations

import signal
from collections.abc import Iterable

__all__ = ["EnvironmentFailure", "InputError", "Interrupted", "OutputFolderError",
           "ScenarioError", "SitingError", "ValidationError"]


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


STOP_SIGNALS = tuple(getattr(signal, n) for n in ("SIGINT", "SIGTERM", "SIGHUP")
                     if hasattr(signal, n))
"""The signals the CLI turns into :class:`Interrupted` (SIGHUP where the system has it)."""


class Interrupted(KeyboardInterrupt):
    """A signal stopped the command: Ctrl-C (SIGINT), SIGTERM or SIGHUP.

    The CLI raises it from its signal handler, so every ``finally`` and context manager runs
    (temporary output folders removed, the Dask cluster shut down). A
    :class:`KeyboardInterrupt`, not an :class:`Exception`: no ``except Exception`` of a task
    or a stage takes it for a failure and goes on. ``where`` says what became of the outputs;
    the innermost code that knows sets it first.
    """

    def __init__(self, signum: int) -> None:
        self.signum = signum
        self.name = signal.Signals(signum).name
        self.where = ""
        super().__init__(self.name)

    @property
    def exit_code(self) -> int:
        """128 + the signal's number, as a shell reports a command it stopped (SIGTERM: 143)."""
        return 128 + self.signum
