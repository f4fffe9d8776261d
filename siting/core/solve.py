"""Run a PuLP model on HiGHS (in-process, through highspy) or CBC, and read what it proved.

PuLP is the modelling layer; the solver seam is this module. HiGHS gets the model in bulk
(columns in ``lp.variables()`` order, rows in ``lp.constraints()`` order) and a start by
column index. PuLP maps a time-limited HiGHS or CBC run that holds an incumbent to
"Optimal"; here the status, objective, dual bound and relative gap are read from the
solver itself, in one place each: :func:`read_highs` (``Highs.getInfo()`` and
``getModelStatus()``) and :func:`parse_cbc_log` (CBC's ``Objective value``, ``Lower
bound``). ``optimal`` is reported only when the solver proved the incumbent within the
requested relative gap; a run stopped by a limit with a solution is ``feasible``, with the
gap it had reached.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import re
import signal
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import highspy
import numpy as np
import pulp
from highspy.highs import HighsCallbackEvent

from siting.core._errors import HaltedError, SolverError
from siting.core.problem import Outcome, SolverSettings, avoidable_gap

Start = list[tuple[pulp.LpVariable, float]]     # a starting value per variable

PROGRESS_EVERY_S = 5.0
LATE_SOLVE_S = 0.2      # what a solve started at or past the user's deadline still gets
"""Seconds between two progress lines of a long HiGHS solve (:class:`Progress`)."""

log = logging.getLogger(__name__)


def relative_gap(objective: float, bound: float) -> float:
    """|objective − bound| / max(|objective|, 1e-9), 0 when both are equal."""
    diff = abs(objective - bound)
    return 0.0 if diff <= 1e-9 * max(1.0, abs(objective)) else diff / max(abs(objective), 1e-9)


@contextlib.contextmanager
def _quiet_stdout() -> Iterator[None]:
    """Silence C-level stdout (HiGHS prints a banner when a Highs object is created)."""
    try:
        fd = os.dup(1)
    except OSError:  # no usable stdout: nothing to silence
        yield
        return
    try:
        with Path(os.devnull).open("w") as null:
            os.dup2(null.fileno(), 1)
            yield
    finally:
        os.dup2(fd, 1)
        os.close(fd)


class _Highs(pulp.LpSolver):
    """HiGHS in-process (highspy) as a PuLP solver: bulk transfer, a start by column.

    The columns are ``lp.variables()`` in PuLP's order and the rows ``lp.constraints()`` in
    the order they were added (HiGHS's path depends on both).
    """

    name = "HiGHS"

    def __init__(self, settings: SolverSettings, *, limit: float, warm: Start | None,
                 progress: Progress | None = None) -> None:
        super().__init__(mip=True, msg=False, timeLimit=limit)
        self.settings = settings
        self.warm = warm
        self.progress = progress
        self.highs: highspy.Highs | None = None

    def available(self) -> bool:
        return True

    def actualSolve(self, lp: pulp.LpProblem, **_: object) -> int:  # noqa: N802 (PuLP API)
        """Build, start, run; write the values back to the variables."""
        h = _configured(self.settings, float(self.timeLimit))
        columns = lp.variables()
        _transfer(h, lp, columns)
        if self.warm:
            _set_start(h, columns, self.warm)
        if self.progress is not None:
            h.cbMipInterrupt.subscribe(self.progress.on_event)
        _run_stoppable(h)
        self.highs = lp.solverModel = h
        values = np.asarray(h.getSolution().col_value, float)
        if len(values) == len(columns):
            for var, x in zip(columns, values.tolist(), strict=True):
                var.varValue = x
        lp.assignStatus(pulp.constants.LpStatusNotSolved)  # read_highs says what was proved
        return int(lp.status)


def _run_stoppable(h: highspy.Highs) -> None:
    """Run HiGHS on a thread of its own, so a stop signal ends the solve at HiGHS's next check.

    Python runs a signal handler (Ctrl-C; SIGTERM once the CLI makes it raise) in the main
    thread, between two of its steps: with ``h.run()`` there, the signal would wait for the
    solve to end, up to the time limit. Here the main thread waits in short steps; the
    exception a signal raises asks HiGHS to stop (its MIP callback, which HiGHS checks
    throughout the search), waits for it and goes on up. A solve no signal stops is the same
    ``run()``: the callback only reads a flag.
    """
    stop = threading.Event()
    halt = getattr(_halt, "event", None)

    def check(event: HighsCallbackEvent) -> None:
        if stop.is_set():
            event.interrupt()

    h.cbMipInterrupt.subscribe(check)
    h.startSolve()
    try:
        while not h.wait(0.1)[0]:
            if halt is not None and halt.is_set():
                raise HaltedError("the run that asked for this solve was given up")
    except BaseException:
        stop.set()
        h.wait()
        raise
    finally:
        h.cbMipInterrupt.unsubscribe(check)


_halt = threading.local()


@contextlib.contextmanager
def halted_by(event: threading.Event) -> Iterator[None]:
    """HiGHS solves on this thread stop, raising :class:`HaltedError`, once ``event`` is set.

    A task on a Dask worker runs on one of its threads, where no signal reaches it: when its
    run is given up (the driver stopped or lost), the worker's watch sets ``event``
    (:mod:`siting.cli.tasks`).
    """
    before = getattr(_halt, "event", None)
    _halt.event = event
    try:
        yield
    finally:
        _halt.event = before


class Progress:
    """A line every ``every_s`` seconds of a HiGHS MIP solve: incumbent, bound, avoidable gap.

    Subscribed to HiGHS's MIP interrupt callback, which only reads the solver's state (it never
    interrupts), so the solve takes the same path with or without it. The line goes to this
    module's logger (the CLI prints it on stderr); the values are in the model's own terms:
    ``offset`` added back, the forced cost stated for the avoidable gap.
    """

    def __init__(self, *, offset: float, forced: float, maximise: bool,
                 every_s: float = PROGRESS_EVERY_S) -> None:
        self.offset, self.forced, self.every_s = offset, forced, every_s
        self.sign = -1.0 if maximise else 1.0
        self.next_s = every_s

    def on_event(self, event: HighsCallbackEvent) -> None:
        """HiGHS's callback: log a line once ``every_s`` more seconds have gone by."""
        out = event.data_out
        if out.running_time < self.next_s:
            return
        self.next_s = out.running_time + self.every_s
        log.info("%s", self.line(out.running_time, out.mip_primal_bound, out.mip_dual_bound,
                                 int(out.mip_node_count)))

    def line(self, seconds: float, primal: float, dual: float, nodes: int) -> str:
        """'solving: 10 s, 1,234 nodes, incumbent 32,500,000, bound 32,480,000, …'."""
        objective = self.sign * primal + self.offset if math.isfinite(primal) else None
        bound = self.sign * dual + self.offset if math.isfinite(dual) else None
        gap = (avoidable_gap(objective, bound, self.forced)
               if objective is not None and bound is not None else None)
        return (f"solving: {seconds:,.0f} s, {nodes:,} nodes, incumbent {money(objective)}, "
                f"bound {money(bound)}, avoidable gap {_pct(gap)}")


def _configured(settings: SolverSettings, limit: float) -> highspy.Highs:
    with _quiet_stdout():
        h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("mip_rel_gap", settings.rel_gap)
    h.setOptionValue("mip_abs_gap", settings.abs_gap)
    h.setOptionValue("threads", settings.threads)
    h.setOptionValue("time_limit", limit)
    h.setOptionValue("random_seed", settings.seed)
    if settings.max_nodes is not None:
        h.setOptionValue("mip_max_nodes", settings.max_nodes)
    return h


def _transfer(h: highspy.Highs, lp: pulp.LpProblem, columns: list[pulp.LpVariable]) -> None:
    """Columns, integrality and rows in bulk, in the order given."""
    inf = highspy.kHighsInf
    index = {id(v): i for i, v in enumerate(columns)}
    sign = -1.0 if lp.sense == pulp.LpMaximize else 1.0
    objective = lp.objective if lp.objective is not None else {}
    cost = np.array([sign * objective.get(v, 0.0) for v in columns], dtype=float)
    lower = np.array([-inf if v.lowBound is None else v.lowBound for v in columns], float)
    upper = np.array([inf if v.upBound is None else v.upBound for v in columns], float)
    h.addCols(len(columns), cost, lower, upper, 0, np.zeros(0, np.int32),
              np.zeros(0, np.int32), np.zeros(0))
    integer = np.array([i for i, v in enumerate(columns) if v.cat == pulp.LpInteger],
                       dtype=np.int32)
    if len(integer):
        h.changeColsIntegrality(len(integer), integer,
                                np.full(len(integer), highspy.HighsVarType.kInteger))
    starts, entries, values, lo, up = [0], [], [], [], []
    for c in lp.constraints():
        for v, a in c.items():
            entries.append(index[id(v)])
            values.append(a)
        starts.append(len(entries))
        low, high = c.getLb(), c.getUb()
        lo.append(-inf if low is None else low)
        up.append(inf if high is None else high)
    h.addRows(len(lo), np.array(lo, float), np.array(up, float), len(entries),
              np.array(starts[:-1], np.int32), np.array(entries, np.int32),
              np.array(values, float))


def _set_start(h: highspy.Highs, columns: list[pulp.LpVariable], warm: Start) -> None:
    """A (partial) start by column; columns it does not name are left to HiGHS."""
    value = np.full(len(columns), np.nan)
    index = {id(v): i for i, v in enumerate(columns)}
    for v, x in warm:
        if id(v) in index:     # a variable in no row and not in the objective is no column
            value[index[id(v)]] = x
    given = np.flatnonzero(~np.isnan(value)).astype(np.int32)
    h.setSolution(len(given), given, value[given])


def read_highs(h: highspy.Highs, *, maximise: bool, is_mip: bool) -> Outcome:
    """Status, objective, bound and gap of a HiGHS run, from HiGHS itself.

    The one place that reads them: ``getModelStatus()`` and ``getInfo()``
    (``objective_function_value``, ``mip_dual_bound``), in the model's own sense (PuLP
    hands HiGHS a maximisation as the minimisation of the negated objective). ``optimal``
    only when HiGHS proved the incumbent within ``mip_rel_gap``; stopped by a limit with a
    solution, ``feasible``.
    """
    status = h.getModelStatus()
    info = h.getInfo()
    name = f"HiGHS {h.version()}"
    ms = highspy.HighsModelStatus
    if status == ms.kInfeasible:
        return Outcome(name, "infeasible", None, None, None, 0.0)
    if status in (ms.kUnbounded, ms.kUnboundedOrInfeasible):
        return Outcome(name, "unbounded", None, None, None, 0.0)
    if info.primal_solution_status != 2:  # kSolutionStatusFeasible
        return Outcome(name, "no_solution", None, None, None, 0.0)
    sign = -1.0 if maximise else 1.0
    objective = sign * float(info.objective_function_value)
    bound: float | None = sign * float(info.mip_dual_bound) if is_mip else objective
    if bound is not None and not math.isfinite(bound):
        bound = None
    gap = relative_gap(objective, bound) if bound is not None else None
    proved = status == ms.kOptimal
    return Outcome(name, "optimal" if proved else "feasible", objective, bound, gap, 0.0,
                   int(info.mip_node_count) if is_mip else None)


def run(lp: pulp.LpProblem, settings: SolverSettings, *, warm: Start | None = None,
        time_limit: float | None = None, offset: float = 0.0, forced: float = 0.0) -> Outcome:
    """Solve ``lp`` in place (variable values set) and return what the solver proved.

    Parameters
    ----------
    lp
        The model.
    settings
        Solver name, time limit, relative gap, threads and node limit.
    warm
        Optional starting solution, (variable, value) pairs; must be feasible to help.
    time_limit
        Overrides ``settings.time_limit_s`` (e.g. the time left for a later stage). Either
        is cut to the time left before ``settings.deadline`` (at least ``LATE_SOLVE_S``).
    offset
        A constant added to the objective and the bound (a part of the objective that is no
        variable's, e.g. the p-median's nearest distances).
    forced
        The forced cost within ``offset``: the progress lines' avoidable gap is stated on the
        objective less it.
    """
    limit = settings.time_limit_s if time_limit is None else max(1.0, time_limit)
    limit = min(limit, max(LATE_SOLVE_S, time_left(settings)))
    start = time.perf_counter()
    if settings.name == "highs":
        progress = (Progress(offset=offset, forced=forced, maximise=lp.sense == pulp.LpMaximize)
                    if log.isEnabledFor(logging.INFO) else None)
        out = _run_highs(lp, settings, warm, limit, progress)
    else:
        out = _run_cbc(lp, settings, warm, limit)
    objective = None if out.objective is None else out.objective + offset
    bound = None if out.bound is None else out.bound + offset
    gap = out.gap
    if offset and objective is not None and bound is not None:
        gap = relative_gap(objective, bound)
    out = replace(out, objective=objective, bound=bound, gap=gap,
                  seconds=time.perf_counter() - start)
    log.info("solve: %s %s, objective %s, bound %s, gap %s, %.2f s", out.solver, out.status,
             money(out.objective), money(out.bound), _pct(out.gap), out.seconds)
    return out


def time_left(settings: SolverSettings) -> float:
    """Seconds left before ``settings.deadline`` (the user's limit); its limit without one."""
    if settings.deadline is None:
        return settings.time_limit_s
    return settings.deadline - time.perf_counter()


def _run_highs(lp: pulp.LpProblem, settings: SolverSettings, warm: Start | None,
               limit: float, progress: Progress | None = None) -> Outcome:
    out = _highs_once(lp, settings, warm, limit, progress)
    if warm and out.has_solution and not consistent(lp, out):
        # HiGHS 1.16 can return a user-given start as "optimal" with another point's
        # objective when presolve solves the model (seen on small covers): do not trust it
        log.warning("solve: HiGHS returned a solution that does not match its own objective "
                    "with the warm start (%s vs %s, model satisfied: %s); solving again "
                    "without it", out.objective, pulp.value(lp.objective), lp.valid(1e-5))
        out = _highs_once(lp, settings, None, limit, progress)
    if out.has_solution and not consistent(lp, out):
        raise SolverError("HiGHS returned a solution that violates the model or does not have "
                          "the objective it reports. Try [solver] name = \"cbc\".")
    return out


def consistent(lp: pulp.LpProblem, out: Outcome, tol: float = 1e-6) -> bool:
    """Whether the variable values satisfy the model and give the objective reported."""
    value = pulp.value(lp.objective)
    if value is None or out.objective is None:
        return False
    scale = max(1.0, abs(out.objective))
    return bool(lp.valid(tol * 10) and abs(float(value) - out.objective) <= tol * scale * 10)


def _highs_once(lp: pulp.LpProblem, settings: SolverSettings, warm: Start | None,
                limit: float, progress: Progress | None = None) -> Outcome:
    solver = _Highs(settings, limit=limit, warm=warm, progress=progress)
    try:
        lp.solve(solver)
    except pulp.PulpSolverError as e:
        raise SolverError(f"HiGHS failed: {e}. Try [solver] name = \"cbc\".") from e
    assert solver.highs is not None
    return read_highs(solver.highs, maximise=lp.sense == pulp.LpMaximize,
                      is_mip=any(v.cat == pulp.LpInteger for v in lp.variables()))


_CBC_NUMBER = r"(-?[\d.]+(?:e[-+]?\d+)?)"


def _run_cbc(lp: pulp.LpProblem, settings: SolverSettings, warm: Start | None,
             limit: float) -> Outcome:
    for v, x in warm or []:
        v.setInitialValue(x)
    with tempfile.TemporaryDirectory(prefix="siting-cbc-") as tmp:
        logfile = Path(tmp) / "cbc.log"
        solver = pulp.COIN_CMD(path=cbc_path(), msg=False, timeLimit=limit,
                               gapRel=settings.rel_gap, gapAbs=settings.abs_gap,
                               threads=settings.threads,
                               warmStart=bool(warm),
                               logPath=str(logfile), options=["randomSeed 1"])
        if not solver.available():
            raise SolverError(f"CBC is not available ({cbc_path()} is missing). Use [solver] "
                              "name = \"highs\", or reinstall with `pip install pulp[cbc]`.")
        try:
            lp.solve(solver)
        except pulp.PulpSolverError as e:
            raise SolverError(f"CBC failed: {e}. Try [solver] name = \"highs\".") from e
        except BaseException:       # a signal or Ctrl-C: CBC must not outlive the run
            stop_children(cbc_path())
            raise
        text = logfile.read_text(errors="replace") if logfile.exists() else ""
    return parse_cbc_log(text)


def stop_children(program: str) -> list[int]:
    """SIGTERM to this process's children that run ``program``; their process ids.

    PuLP runs CBC as a child process and waits for it; a signal that ends the wait leaves it
    running, as it does on SIGTERM to siting alone (Ctrl-C reaches the whole process group).
    The children are read from ``/proc`` (Linux); elsewhere none are found.
    """
    stopped = []
    for pid in _children():
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if os.fsencode(program) in argv:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGTERM)
                stopped.append(pid)
    return stopped


def _children() -> list[int]:
    pids: list[int] = []
    for f in Path("/proc/self/task").glob("*/children"):
        with contextlib.suppress(OSError):
            pids += [int(x) for x in f.read_text().split()]
    return sorted(set(pids))


def cbc_path() -> str:
    """The CBC binary: from ``cbcbox`` (``pulp[cbc]``, PuLP 4's way), else PuLP's bundled one."""
    try:
        import cbcbox

        return str(cbcbox.cbc_bin_path())
    except (ImportError, OSError):
        from pulp.apis.coin_api import pulp_cbc_path

        return str(pulp_cbc_path)


def parse_cbc_log(text: str) -> Outcome:
    """Status, objective, bound and gap from CBC's log text."""
    result = re.search(r"Result - (.*)", text)
    verdict = result.group(1).lower() if result else ""
    obj = _grab(rf"Objective value:\s+{_CBC_NUMBER}", text)
    bound = _grab(rf"Lower bound:\s+{_CBC_NUMBER}", text)
    if "infeasible" in verdict:
        return Outcome("CBC", "infeasible", None, None, None, 0.0)
    if "unbounded" in verdict:
        return Outcome("CBC", "unbounded", None, None, None, 0.0)
    if obj is None or "no feasible" in verdict or "no integer" in verdict:
        return Outcome("CBC", "no_solution", None, None, None, 0.0)
    if bound is None and verdict.startswith("optimal solution found"):
        bound = obj  # CBC prints "Lower bound" only when it stopped short of a proof
    gap = relative_gap(obj, bound) if bound is not None else None
    proved = verdict.startswith("optimal") and gap is not None
    nodes = _grab(r"Enumerated nodes:\s+(\d+)", text)
    return Outcome("CBC", "optimal" if proved else "feasible", obj, bound, gap, 0.0,
                   int(nodes) if nodes is not None else None)


def _grab(pattern: str, text: str) -> float | None:
    m = re.findall(pattern, text)
    return float(m[-1]) if m else None


def money(x: float | None) -> str:
    """A cost (or any objective) for the terminal: ``32,680,000``, never ``3.268e+07``.

    Whole units with thousands separators; below 100, up to four decimals (``0.5``,
    ``12.25``); ``n/a`` when missing.
    """
    if x is None or not math.isfinite(x):
        return "n/a"
    return f"{x:,.0f}" if abs(x) >= 100 else (f"{x:.4f}".rstrip("0").rstrip(".") or "0")


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.4g}%"


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Log the solves of helper sub-problems (components, trade-offs) at debug level only."""
    names = ("solve", "problem", "formulation", "presolve", "components")
    loggers = [logging.getLogger(f"siting.core.{n}") for n in names]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        if lg.getEffectiveLevel() < logging.WARNING:
            lg.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)
