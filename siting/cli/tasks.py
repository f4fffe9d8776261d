"""One task of a city run or a sweep: one county scenario (× one variant), run on a worker.

:func:`run_task` is what a Dask worker (or this process, with ``workers = 0``) calls. It loads
the scenario with the variant's overrides, and either

- **reuses** the outputs already in its folder, when their task record (``task.json``)
  carries the same *key*: the SHA-256 of the siting code (its version and the bytes of every
  module and template of the installed package, so an upgrade or a local change runs again),
  the effective scenario (every setting, after the overrides and the language) and the bytes
  of every input file (a shapefile with its ``.dbf``/``.shx``/``.prj``/``.cpg``); or
- **runs** it as ``siting run`` does and writes its outputs atomically, the task record and
  the city report's part of it (``outcome.pkl``) in the same step (:mod:`siting._atomic`):
  a worker killed mid-task leaves the previous outputs, or none, never half of them.

It returns a :class:`TaskResult` — the summary the driver gathers, never the whole run. A
task that fails (bad input, targets that cannot hold, an internal error) returns its
message and exit code instead of raising, so the other tasks go on.

The workers reach the input files, the cache of generated inputs and the output folders by
the same path as the driver (one machine, or a disk shared by every worker).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import logging
import os
import pickle
import resource
import socket
import threading
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from siting import __version__
from siting._errors import EnvironmentFailure, SitingError
from siting.core import HaltedError, InfeasibleError, SolverError, halted_by

if TYPE_CHECKING:  # a worker imports the heavy stages only when it runs a task
    from siting.run.city import CountyOutcome

log = logging.getLogger(__name__)

RECORD, OUTCOME = "task.json", "outcome.pkl"
"""The task record and the city report's part of the run, beside the run's outputs."""
HOLD_DIR, HOLD_TASK = "SITING_TEST_HOLD_DIR", "SITING_TEST_HOLD_TASK"
"""Tests only: the task named by HOLD_TASK, on its first attempt, writes its process id into
HOLD_DIR and waits there (up to a minute), so a test can kill its worker mid-task."""
SIDECARS = (".dbf", ".shx", ".prj", ".cpg")

Status = Literal["done", "reused", "failed"]


@dataclass(frozen=True)
class Task:
    """One county scenario, with a variant's overrides, and the folder of its outputs."""

    name: str                                   # "shangjie" or "村3km/shangjie"
    scenario: Path
    out: Path
    variant: str = ""
    overrides: dict[str, Any] = field(default_factory=dict)
    lang: Literal["zh", "en"] | None = None
    cache: Path | None = None


@dataclass(frozen=True)
class TaskResult:
    """What the driver gathers of one task."""

    name: str
    variant: str
    status: Status
    seconds: float
    attempts: int = 1
    code: int = 0                               # the exit code a failure maps to
    message: str = ""
    warnings: tuple[str, ...] = ()
    worker: str = ""
    peak_rss_mb: float = 0.0
    key: str = ""
    outcome: CountyOutcome | None = None


def run_task(task: Task, attempts_dir: str | None = None, *, capture: bool = True) -> TaskResult:
    """Run (or reuse) one task; a failure is returned, not raised."""
    start = time.perf_counter()
    attempts = _attempt(task, attempts_dir)
    _hold(task, attempts)
    warnings: list[str] = []
    with _warnings_into(warnings, capture), _stopped_when_released():
        try:
            status, key, outcome = _run_or_reuse(task)
        except HaltedError as e:
            return _failed(task, start, attempts, 130, f"stopped: {e}", warnings)
        except (InfeasibleError, SolverError) as e:
            return _failed(task, start, attempts, 3, f"cannot meet the targets: {e}", warnings)
        except EnvironmentFailure as e:
            return _failed(task, start, attempts, 4, str(e), warnings)
        except SitingError as e:
            return _failed(task, start, attempts, 2, f"error: {e}{_set_here(task)}", warnings)
        except Exception as e:  # one task's internal error must not stop the others
            log.debug("task %s: %s", task.name, traceback.format_exc())
            return _failed(task, start, attempts, 1, f"internal error: {type(e).__name__}: {e}",
                           warnings)
    return TaskResult(task.name, task.variant, status, time.perf_counter() - start,
                      attempts=attempts, warnings=tuple(warnings), worker=_where(),
                      peak_rss_mb=_peak_rss_mb(), key=key, outcome=outcome)


@contextmanager
def _stopped_when_released(every_s: float = 1.0) -> Iterator[None]:
    """On a Dask worker: the task's solves stop once the scheduler lets the task go.

    A task already running goes on when its driver stops or is lost (a worker cannot
    interrupt a task's thread). The scheduler then releases it, and the worker's state for
    it leaves ``executing``; a watch here sees that and halts the task's solves
    (:func:`siting.core.halted_by`), which is where its time goes. Outside a worker, nothing.
    """
    try:
        from distributed import get_worker

        worker = get_worker()
        key = worker.get_current_task()
    except (ImportError, ValueError):
        yield
        return
    halt, done = threading.Event(), threading.Event()

    def watch() -> None:
        while not done.wait(every_s):
            ts = worker.state.tasks.get(key)
            if ts is None or ts.state not in ("executing", "long-running"):
                log.info("task %s: released by the scheduler; its solves stop", key)
                halt.set()
                return

    thread = threading.Thread(target=watch, name=f"siting-watch-{key}", daemon=True)
    thread.start()
    try:
        with halted_by(halt):
            yield
    finally:
        done.set()
        thread.join()


def _run_or_reuse(task: Task) -> tuple[Status, str, CountyOutcome]:
    from siting._atomic import probe
    from siting.config import scenario
    from siting.outputs import city as city_outputs
    from siting.outputs import write as outputs
    from siting.run import pipeline

    start = time.perf_counter()
    s = scenario.load(task.scenario, cache=task.cache, overrides=task.overrides)
    if task.lang:
        s = replace(s, lang=task.lang)
    key = task_key(s)
    kept = reusable(task.out, key)
    if kept is not None:
        return "reused", key, kept
    probe(task.out, kind="run", label=s.name)
    result = pipeline.run(s)
    outcome = city_outputs.outcome(result, seconds=time.perf_counter() - start)
    blob = pickle.dumps(outcome, protocol=5)
    record = {"tool": "siting", "version": __version__, "task": task.name, "key": key,
              "variant": task.variant, "overrides": task.overrides,
              "outcome_sha256": hashlib.sha256(blob).hexdigest()}
    outputs.write_all(result, task.out, extra={
        RECORD: lambda p: p.write_text(json.dumps(record, ensure_ascii=False, indent=2,
                                                  default=str), encoding="utf-8"),
        OUTCOME: lambda p: p.write_bytes(blob)})
    return "done", key, outcome


def task_key(s: Any) -> str:
    """SHA-256 of the siting code, the effective scenario and every input file's bytes."""
    from siting.run.inputs import sha256

    h = hashlib.sha256()
    setting = json.dumps(dataclasses.asdict(s), sort_keys=True, default=str, ensure_ascii=False)
    h.update(f"siting {__version__} {code_digest()}\n{setting}\n".encode())
    for role, path in sorted(s.input_files().items()):
        for p in [path, *(path.with_suffix(x) for x in SIDECARS)]:
            if p.is_file():
                h.update(f"{role} {p.name} {sha256(p)}\n".encode())
    return h.hexdigest()


@functools.cache
def code_digest() -> str:
    """SHA-256 of the siting package's own files (modules and templates), in path order.

    A task's outputs are reused only when the code that made them is the code that would run
    now: the version alone stays the same through a change made in a checkout.
    """
    root = Path(__file__).resolve().parents[1]
    h = hashlib.sha256()
    for p in sorted(x for x in root.rglob("*") if x.suffix in (".py", ".j2", ".css", ".js")
                    and "__pycache__" not in x.parts):
        h.update(f"{p.relative_to(root).as_posix()}\n".encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def reusable(out: Path, key: str) -> CountyOutcome | None:
    """The outcome kept in ``out`` when siting wrote it for the same key, else None."""
    from siting._atomic import read_marker

    marker = read_marker(out)
    if marker is None or RECORD not in marker.get("files", []):
        return None
    try:
        record = json.loads((out / RECORD).read_text(encoding="utf-8"))
        blob = (out / OUTCOME).read_bytes()
    except (OSError, ValueError):
        return None
    if record.get("key") != key or \
            record.get("outcome_sha256") != hashlib.sha256(blob).hexdigest():
        return None
    return pickle.loads(blob)      # siting's own file, its hash checked above


def _failed(task: Task, start: float, attempts: int, code: int, message: str,
            warnings: list[str]) -> TaskResult:
    return TaskResult(task.name, task.variant, "failed", time.perf_counter() - start,
                      attempts=attempts, code=code, message=message, warnings=tuple(warnings),
                      worker=_where(), peak_rss_mb=_peak_rss_mb())


def _set_here(task: Task) -> str:
    """Which of the task's scenario keys the city or sweep file set, not the county's file."""
    if not task.overrides:
        return ""
    keys = ", ".join(f"[{k}]" if isinstance(v, dict) else k
                     for k, v in sorted(task.overrides.items()))
    return (f"\n(set for this task by the city or sweep file, not in {task.scenario.name}: "
            f"{keys})")


def _attempt(task: Task, attempts_dir: str | None) -> int:
    """Count this attempt of the task (a file per task in the run's attempts folder)."""
    if attempts_dir is None:
        return 1
    path = Path(attempts_dir) / hashlib.sha256(task.name.encode()).hexdigest()[:16]
    with path.open("a", encoding="utf-8") as f:
        f.write(f"{os.getpid()}\n")
    return len(path.read_text(encoding="utf-8").splitlines())


def _hold(task: Task, attempts: int) -> None:
    """Tests only: wait on the first attempt of the task named by $SITING_TEST_HOLD_TASK."""
    folder = os.environ.get(HOLD_DIR)
    if not folder or os.environ.get(HOLD_TASK) != task.name or attempts > 1:
        return
    (Path(folder) / "pid").write_text(str(os.getpid()), encoding="utf-8")
    time.sleep(60)


@contextmanager
def _warnings_into(into: list[str], capture: bool) -> Iterator[None]:
    """On a worker, the run's warnings go to the driver with the result, not to stderr."""
    if not capture:
        yield
        return
    logger = logging.getLogger("siting")
    handler = _Collect(into)
    before = logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.propagate = before


class _Collect(logging.Handler):
    def __init__(self, into: list[str]) -> None:
        super().__init__(logging.WARNING)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        self.into.append(record.getMessage())


def _where() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _peak_rss_mb() -> float:
    """The peak resident memory of this process so far (Linux reports KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
