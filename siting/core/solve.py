"""Run a PuLP model on HiGHS (in-process, through highspy) or CBC, and read what it proved.

PuLP maps a time-limited HiGHS or CBC run that holds an incumbent to "Optimal". Here the
status, objective, dual bound and relative gap are read from the solver itself: from
``Highs.getInfo()`` (``mip_dual_bound``, ``mip_gap``) and ``getModelStatus()``, or from
CBC's own log (``Objective value``, ``Lower bound``, ``Gap``). ``optimal`` is reported only
when the solver proved the incumbent within the requested relative gap; a run stopped by its
time limit with a solution is ``feasible``, with the gap it had reached.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import re
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import highspy
import numpy as np
import pulp

from siting.config.scenario import SolverConfig
from siting.core._errors import SolverError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    """What the solver proved about one model."""

    solver: str                 # e.g. "HiGHS 1.16.0"
    status: str                 # optimal | feasible | infeasible | unbounded | no_solution
    objective: float | None     # the incumbent's objective
    bound: float | None         # the best proven bound on the optimum
    gap: float | None           # relative gap |objective − bound| / max(|objective|, 1e-9)
    seconds: float
    nodes: int | None = None

    @property
    def has_solution(self) -> bool:
        """Whether variable values are available."""
        return self.status in ("optimal", "feasible")


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


class _HiGHS(pulp.HiGHS):
    """PuLP's in-process HiGHS, with a bulk model transfer, a warm start and a quiet start."""

    def __init__(self, *, warm: dict[str, float] | None = None, seed: int = 0,
                 max_nodes: int | None = None, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.warm = warm
        self.seed = seed
        self.max_nodes = max_nodes

    def createAndConfigureSolver(self, lp: pulp.LpProblem) -> None:  # noqa: N802 (PuLP API)
        with _quiet_stdout():
            super().createAndConfigureSolver(lp)
        lp.solverModel.setOptionValue("random_seed", self.seed)
        if self.max_nodes is not None:
            lp.solverModel.setOptionValue("mip_max_nodes", self.max_nodes)

    def buildSolverModel(self, lp: pulp.LpProblem) -> None:  # noqa: N802 (PuLP API)
        h, inf = lp.solverModel, highspy.kHighsInf
        variables = lp.variables()
        sign = -1.0 if lp.sense == pulp.LpMaximize else 1.0
        cost = np.array([sign * lp.objective.get(v, 0.0) for v in variables], dtype=float)
        lower = np.array([-inf if v.lowBound is None else v.lowBound for v in variables], float)
        upper = np.array([inf if v.upBound is None else v.upBound for v in variables], float)
        for i, v in enumerate(variables):
            v.index = i
        h.addCols(len(variables), cost, lower, upper, 0, np.zeros(0, np.int32),
                  np.zeros(0, np.int32), np.zeros(0))
        integer = np.array([i for i, v in enumerate(variables) if v.cat == pulp.LpInteger],
                           dtype=np.int32)
        if self.mip and len(integer):
            h.changeColsIntegrality(len(integer), integer,
                                    np.full(len(integer), highspy.HighsVarType.kInteger))
        starts, index, value, lo, up = [0], [], [], [], []
        for i, c in enumerate(lp._constraints.values()):  # as PuLP's own HiGHS class does
            c.index = i
            index.extend(v.index for v in c)
            value.extend(c.values())
            starts.append(len(index))
            low, high = c.getLb(), c.getUb()
            lo.append(-inf if low is None else low)
            up.append(inf if high is None else high)
        h.addRows(len(lo), np.array(lo, float), np.array(up, float), len(index),
                  np.array(starts[:-1], np.int32), np.array(index, np.int32),
                  np.array(value, float))

    def findSolutionValues(self, lp: pulp.LpProblem) -> tuple[int, int]:  # noqa: N802
        """PuLP's, plus the node limit it does not know (our caller reads the status itself)."""
        try:
            return super().findSolutionValues(lp)
        except KeyError:
            if lp.solverModel.getModelStatus() != highspy.HighsModelStatus.kSolutionLimit:
                raise
            return pulp.constants.LpStatusNotSolved, pulp.constants.LpSolutionIntegerFeasible

    def callSolver(self, lp: pulp.LpProblem) -> None:  # noqa: N802 (PuLP API)
        if self.warm:
            idx = [v.index for v in lp.variables() if v.name in self.warm]
            val = [self.warm[v.name] for v in lp.variables() if v.name in self.warm]
            lp.solverModel.setSolution(len(idx), np.array(idx, np.int32), np.array(val, float))
        lp.solverModel.run()


def run(lp: pulp.LpProblem, cfg: SolverConfig, *, warm: dict[str, float] | None = None,
        time_limit: float | None = None, offset: float = 0.0) -> Outcome:
    """Solve ``lp`` in place (variable values set) and return what the solver proved.

    Parameters
    ----------
    lp
        A minimisation model.
    cfg
        Solver name, time limit, relative gap and threads.
    warm
        Optional starting solution, variable name → value; must be feasible to help.
    time_limit
        Overrides ``cfg.time_limit_s`` (e.g. the time left for a later stage).
    offset
        A constant added to the objective and the bound (a part of the objective that is no
        variable's, e.g. the p-median's nearest distances).
    """
    limit = cfg.time_limit_s if time_limit is None else max(1.0, time_limit)
    start = time.perf_counter()
    if cfg.name == "highs":
        out = _run_highs(lp, cfg, warm, limit)
    else:
        out = _run_cbc(lp, cfg, warm, limit)
    shift = {"objective": None if out.objective is None else out.objective + offset,
             "bound": None if out.bound is None else out.bound + offset}
    if offset and out.objective is not None and out.bound is not None:
        shift["gap"] = relative_gap(shift["objective"], shift["bound"])  # type: ignore[arg-type]
    out = Outcome(**{**out.__dict__, **shift, "seconds": time.perf_counter() - start})
    log.info("solve: %s %s, objective %s, bound %s, gap %s, %.2f s", out.solver, out.status,
             _fmt(out.objective), _fmt(out.bound), _pct(out.gap), out.seconds)
    return out


def _run_highs(lp: pulp.LpProblem, cfg: SolverConfig, warm: dict[str, float] | None,
               limit: float) -> Outcome:
    out = _highs_once(lp, cfg, warm, limit)
    if warm and out.has_solution and not consistent(lp, out):
        # HiGHS 1.16 can return a user-given start as "optimal" with another point's
        # objective when presolve solves the model (seen on small covers): do not trust it
        log.warning("solve: HiGHS returned a solution that does not match its own objective "
                    "with the warm start (%s vs %s, model satisfied: %s); solving again "
                    "without it", out.objective, pulp.value(lp.objective), lp.valid(1e-5))
        out = _highs_once(lp, cfg, None, limit)
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


def _highs_once(lp: pulp.LpProblem, cfg: SolverConfig, warm: dict[str, float] | None,
                limit: float) -> Outcome:
    solver = _HiGHS(msg=False, timeLimit=limit, gapRel=cfg.rel_gap, gapAbs=1e-6,
                    threads=cfg.threads, warm=warm, max_nodes=cfg.max_nodes)
    try:
        lp.solve(solver)
    except pulp.PulpSolverError as e:
        raise SolverError(f"HiGHS failed: {e}. Try [solver] name = \"cbc\".") from e
    h = lp.solverModel
    status = h.getModelStatus()
    info = h.getInfo()
    name = f"HiGHS {h.version()}"
    ms = highspy.HighsModelStatus
    if status == ms.kInfeasible:
        return Outcome(name, "infeasible", None, None, None, 0.0)
    if status in (ms.kUnbounded, ms.kUnboundedOrInfeasible):
        return Outcome(name, "unbounded", None, None, None, 0.0)
    has_primal = info.primal_solution_status == 2  # kSolutionStatusFeasible
    if not has_primal:
        return Outcome(name, "no_solution", None, None, None, 0.0)
    # PuLP hands HiGHS a maximisation as the minimisation of the negated objective
    sign = -1.0 if lp.sense == pulp.LpMaximize else 1.0
    objective = sign * float(info.objective_function_value)
    is_mip = any(v.cat == pulp.LpInteger for v in lp.variables())
    bound = sign * float(info.mip_dual_bound) if is_mip else objective
    if not math.isfinite(bound):
        bound = None
    gap = relative_gap(objective, bound) if bound is not None else None
    proved = status == ms.kOptimal  # HiGHS proved the incumbent within mip_rel_gap
    return Outcome(name, "optimal" if proved else "feasible", objective, bound, gap, 0.0,
                   int(info.mip_node_count) if is_mip else None)


_CBC_NUMBER = r"(-?[\d.]+(?:e[-+]?\d+)?)"


def _run_cbc(lp: pulp.LpProblem, cfg: SolverConfig, warm: dict[str, float] | None,
             limit: float) -> Outcome:
    if warm:
        for v in lp.variables():
            if v.name in warm:
                v.setInitialValue(warm[v.name])
    with tempfile.TemporaryDirectory(prefix="siting-cbc-") as tmp:
        logfile = Path(tmp) / "cbc.log"
        solver = pulp.COIN_CMD(path=cbc_path(), msg=False, timeLimit=limit,
                               gapRel=cfg.rel_gap, threads=cfg.threads, warmStart=bool(warm),
                               logPath=str(logfile), options=["randomSeed 1"])
        if not solver.available():
            raise SolverError(f"CBC is not available ({cbc_path()} is missing). Use [solver] "
                              "name = \"highs\", or reinstall with `pip install pulp[cbc]`.")
        try:
            lp.solve(solver)
        except pulp.PulpSolverError as e:
            raise SolverError(f"CBC failed: {e}. Try [solver] name = \"highs\".") from e
        text = logfile.read_text(errors="replace") if logfile.exists() else ""
    return parse_cbc_log(text)


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


def _fmt(x: float | None) -> str:
    return "n/a" if x is None else f"{x:,.4g}"


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.4g}%"


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Log the solves of helper sub-problems (components, trade-offs) at debug level only."""
    names = ("siting.core.solve", "siting.core.model", "siting.core.presolve",
             "siting.core.components")
    loggers = [logging.getLogger(n) for n in names]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        if lg.getEffectiveLevel() < logging.WARNING:
            lg.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)
