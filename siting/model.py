r"""The siting model: one PuLP MIP over all tiers, built from sparse coverage data.

The model takes arrays and sparse matrices only — no geometry — so it can be checked on
hand-made instances and on OR-Library benchmarks.

Formulation
-----------
Sites :math:`j = 1..n` are shared by all tiers :math:`t`. For each tier:

- :math:`c_{tj}` the cost of opening a new site (``inf``: not allowed there);
  :math:`E_t` the existing sites (fixed open, no cost);
- :math:`A_t` a 0/1 *cover* matrix: each of its rows (a demand unit, or a township's set of
  sites) must hold at least one open site;
- :math:`B_t` a 0/1 *reach* matrix with weights :math:`p_{ti}`: the weight of its rows
  holding an open site is maximised;
- :math:`N_t \le \sum_j x_{tj} \le M_t` count bounds, existing sites included.

Variables: :math:`x_{tj} \in \{0,1\}` where allowed or existing (:math:`x_{tj} = 1` for
:math:`j \in E_t`); :math:`y_{ti} \in [0,1]` row :math:`i` of :math:`B_t` reached;
:math:`w_j \in [0,1]` site :math:`j` hosts both co-located tiers :math:`a, b`.

.. math::

    \sum_j A_{tij} x_{tj} &\ge 1 \quad \text{every coverable row } i \text{ of } A_t \\
    y_{ti} &\le \sum_j B_{tij} x_{tj} \\
    N_t \le \sum_j x_{tj} &\le M_t \\
    w_j \le x_{aj},\; w_j &\le x_{bj}

Objective, lexicographic:

1. minimise :math:`C = \sum_t \sum_{j \notin E_t} c_{tj} x_{tj} - \delta \sum_j w_j`;
2. if any tier maximises reach, then maximise :math:`\sum_t \sum_i p_{ti} y_{ti}` subject
   to :math:`C \le C^*`, the first stage's incumbent cost (a second solve, warm-started
   from the first).

:math:`y` and :math:`w` need not be integer: at an optimum :math:`y_{ti} = \min(1, \sum_j
B_{tij} x_{tj})` and :math:`w_j = \min(x_{aj}, x_{bj})`, both integral.

Rows of :math:`A_t` that no allowed or existing site reaches can never be met: they are
left out and returned as ``uncoverable`` for the report, and the rest is solved. Rows
already reached by an existing site are met whatever is chosen and are left out too.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np
import pulp
import scipy.sparse as sp

from siting import solve as solver
from siting._errors import InfeasibleError, SolverError
from siting.scenario import SolverConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TierData:
    """One tier's data, indexed by the shared site numbering."""

    name: str
    cost: np.ndarray                       # (n,) cost of a new site; inf where not allowed
    existing: np.ndarray                   # (n,) bool
    cover: sp.csr_array | None = None      # (r, n) rows that must each hold an open site
    reach: sp.csr_array | None = None      # (w, n) rows whose reached weight is maximised
    weight: np.ndarray | None = None       # (w,)
    min_count: int = 0
    max_count: int | None = None

    @property
    def allowed(self) -> np.ndarray:
        """Sites where the tier may be open (new or existing)."""
        return np.isfinite(self.cost) | self.existing


@dataclass(frozen=True)
class Problem:
    """All tiers of one siting run."""

    n_sites: int
    tiers: tuple[TierData, ...]
    colocation: tuple[str, str, float] | None = None   # (tier a, tier b, saving per site)

    def tier(self, name: str) -> TierData:
        """The tier called ``name``."""
        return next(t for t in self.tiers if t.name == name)


@dataclass(frozen=True)
class Solution:
    """The chosen sites and what the solver proved about them."""

    open: dict[str, np.ndarray]            # tier -> (n,) bool, existing included
    cost: float                            # C of the chosen sites
    reached_weight: float                  # Σ p y of the chosen sites (0 without reach rows)
    status: str                            # worst stage status: optimal | feasible
    stages: tuple[tuple[str, solver.Outcome], ...]
    uncoverable: dict[str, np.ndarray]     # tier -> rows of ``cover`` no site can reach
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def gap(self) -> float | None:
        """The largest proven relative gap over the stages."""
        gaps = [o.gap for _, o in self.stages]
        return None if any(g is None for g in gaps) else max(gaps, default=0.0)


def expr(pairs: list[tuple[pulp.LpVariable, float]]) -> pulp.LpAffineExpression:
    """A linear expression from (variable, coefficient) pairs, in linear time.

    The one place that builds PuLP expressions: ``sum()`` and ``+`` are quadratic in PuLP 3,
    and PuLP 4 changes this constructor.
    """
    return pulp.LpAffineExpression(pairs)


@dataclass
class _Built:
    lp: pulp.LpProblem
    x: dict[str, tuple[np.ndarray, list[pulp.LpVariable]]]   # tier -> (site ids, variables)
    cost: pulp.LpAffineExpression
    reach: pulp.LpAffineExpression | None
    uncoverable: dict[str, np.ndarray]
    already_reached: float


def check(problem: Problem) -> None:
    """Raise :class:`InfeasibleError` for what can be seen before solving."""
    for t in problem.tiers:
        available = int(t.allowed.sum())
        existing = int(t.existing.sum())
        if t.min_count > available:
            raise InfeasibleError(
                f"tier '{t.name}': at least {t.min_count:,} sites are required but only "
                f"{available:,} candidate or existing sites exist. Lower [tiers.{t.name}] "
                "count, or allow more candidates ([candidates] min_spacing_m smaller).")
        if t.max_count is not None and t.max_count < existing:
            raise InfeasibleError(
                f"tier '{t.name}': max_count = {t.max_count:,} is below the {existing:,} "
                f"existing sites, which stay open. Raise [tiers.{t.name}] max_count.")


def build(problem: Problem) -> _Built:
    """Formulate the stage-1 model (see the module docstring)."""
    check(problem)
    lp = pulp.LpProblem("siting", pulp.LpMinimize)
    xs: dict[str, tuple[np.ndarray, list[pulp.LpVariable]]] = {}
    cost_terms: list[tuple[pulp.LpVariable, float]] = []
    reach_terms: list[tuple[pulp.LpVariable, float]] = []
    uncoverable: dict[str, np.ndarray] = {}
    already = 0.0
    for t in problem.tiers:
        sites = np.flatnonzero(t.allowed)
        xvars = [lp.add_variable(f"x_{t.name}_{j}", 0, 1, pulp.LpInteger) for j in sites]
        for j, var in zip(sites, xvars, strict=True):
            if t.existing[j]:
                var.lowBound = 1
            else:
                cost_terms.append((var, float(t.cost[j])))
        xs[t.name] = (sites, xvars)
        pos = np.full(problem.n_sites, -1, np.int64)
        pos[sites] = np.arange(len(sites))
        if t.cover is not None:
            uncoverable[t.name] = _add_cover(lp, t, pos, xvars)
        if t.reach is not None:
            already += _add_reach(lp, t, pos, xvars, reach_terms)
        _add_counts(lp, t, xvars)
    if problem.colocation is not None:
        cost_terms += _add_colocation(lp, problem, xs)
    cost = expr(cost_terms)
    lp.setObjective(cost)
    reach = expr(reach_terms) if reach_terms else None
    log.info("model: %s variables, %s constraints", f"{lp.numVariables():,}",
             f"{lp.numConstraints():,}")
    return _Built(lp, xs, cost, reach, uncoverable, already)


def _rows(m: sp.csr_array, pos: np.ndarray) -> list[np.ndarray]:
    """For each row of ``m``, the positions of its allowed sites."""
    out = []
    for i in range(m.shape[0]):
        cols = m.indices[m.indptr[i]:m.indptr[i + 1]]
        p = pos[cols]
        out.append(p[p >= 0])
    return out


def _add_cover(lp: pulp.LpProblem, t: TierData, pos: np.ndarray,
               xvars: list[pulp.LpVariable]) -> np.ndarray:
    cover = sp.csr_array(t.cover)
    existing_pos = pos[np.flatnonzero(t.existing)]
    is_existing = np.zeros(len(xvars), dtype=bool)
    is_existing[existing_pos[existing_pos >= 0]] = True
    bad = []
    for i, p in enumerate(_rows(cover, pos)):
        if len(p) == 0:
            bad.append(i)
        elif not is_existing[p].any():
            lp += expr([(xvars[k], 1.0) for k in p]) >= 1, f"cover_{t.name}_{i}"
    return np.asarray(bad, dtype=np.int64)


def _add_reach(lp: pulp.LpProblem, t: TierData, pos: np.ndarray,
               xvars: list[pulp.LpVariable],
               reach_terms: list[tuple[pulp.LpVariable, float]]) -> float:
    reach = sp.csr_array(t.reach)
    weight = np.ones(reach.shape[0]) if t.weight is None else np.asarray(t.weight, float)
    is_existing = np.zeros(len(xvars), dtype=bool)
    ep = pos[np.flatnonzero(t.existing)]
    is_existing[ep[ep >= 0]] = True
    already = 0.0
    for i, p in enumerate(_rows(reach, pos)):
        if len(p) == 0 or weight[i] <= 0:
            continue
        if is_existing[p].any():
            already += float(weight[i])
            continue
        y = lp.add_variable(f"y_{t.name}_{i}", 0, 1)
        lp += expr([(y, 1.0)] + [(xvars[k], -1.0) for k in p]) <= 0, f"reach_{t.name}_{i}"
        reach_terms.append((y, float(weight[i])))
    return already


def _add_counts(lp: pulp.LpProblem, t: TierData, xvars: list[pulp.LpVariable]) -> None:
    total = expr([(v, 1.0) for v in xvars])
    if t.min_count > 0:
        lp += total >= t.min_count, f"count_min_{t.name}"
    if t.max_count is not None:
        lp += total <= t.max_count, f"count_max_{t.name}"


def _add_colocation(lp: pulp.LpProblem, problem: Problem,
                    xs: dict[str, tuple[np.ndarray, list[pulp.LpVariable]]],
                    ) -> list[tuple[pulp.LpVariable, float]]:
    a, b, saving = problem.colocation  # type: ignore[misc]
    if saving <= 0 or a not in xs or b not in xs:
        return []
    sa, va = xs[a]
    sb, vb = xs[b]
    both, ia, ib = np.intersect1d(sa, sb, assume_unique=True, return_indices=True)
    ea, eb = problem.tier(a).existing, problem.tier(b).existing
    terms = []
    for j, ka, kb in zip(both, ia, ib, strict=True):
        if ea[j] and eb[j]:
            continue  # nothing new is opened there, so nothing is saved
        w = lp.add_variable(f"w_{j}", 0, 1)
        lp += expr([(w, 1.0), (va[ka], -1.0)]) <= 0, f"coloc_{a}_{j}"
        lp += expr([(w, 1.0), (vb[kb], -1.0)]) <= 0, f"coloc_{b}_{j}"
        terms.append((w, -saving))
    return terms


def optimise(problem: Problem, cfg: SolverConfig, *,
             warm: dict[str, np.ndarray] | None = None) -> Solution:
    """Build and solve the model, lexicographically (cost, then reached weight).

    Parameters
    ----------
    problem
        The tiers' data.
    cfg
        Solver, time limit (shared by the stages), relative gap, threads.
    warm
        Optional starting solution: tier -> (n,) bool of open sites, feasible for stage 1.

    Raises
    ------
    InfeasibleError
        When the targets cannot all be met (e.g. a count bound conflicts with coverage).
    SolverError
        When the solver finds no solution within its limits.
    """
    t0 = time.perf_counter()
    built = build(problem)
    t_build = time.perf_counter() - t0
    start = _warm_values(built, warm) if warm else None
    first = solver.run(built.lp, cfg, warm=start)
    _raise_unless_solved(first, "minimum cost")
    stages = [("minimum cost", first)]
    if built.reach is not None:
        c_star = float(pulp.value(built.cost) or 0.0)
        built.lp += built.cost <= c_star + 1e-7 * max(1.0, abs(c_star)), "cost_cap"
        built.lp.setObjective(-1.0 * built.reach)
        incumbent = {v.name: float(v.varValue or 0.0) for v in built.lp.variables()}
        left = cfg.time_limit_s - first.seconds
        second = solver.run(built.lp, cfg, warm=incumbent, time_limit=left)
        _raise_unless_solved(second, "most reached weight at that cost")
        stages.append(("most reached weight at that cost", second))
    chosen = _read(problem, built)
    status = "optimal" if all(o.status == "optimal" for _, o in stages) else "feasible"
    reached = (float(pulp.value(built.reach) or 0.0) if built.reach is not None else 0.0)
    return Solution(
        open=chosen, cost=cost_of(problem, chosen),
        reached_weight=reached + built.already_reached, status=status, stages=tuple(stages),
        uncoverable=built.uncoverable,
        seconds={"build": t_build, "solve": sum(o.seconds for _, o in stages)})


def _raise_unless_solved(out: solver.Outcome, stage: str) -> None:
    if out.status == "infeasible":
        raise InfeasibleError(
            f"the model is infeasible at stage '{stage}': the count bounds cannot be met "
            "together with full coverage. Raise max_count or lower count for the tiers "
            "concerned, or widen radius_m.")
    if not out.has_solution:
        raise SolverError(
            f"{out.solver} found no solution at stage '{stage}' within {out.seconds:.0f} s "
            f"(status {out.status}). Raise [solver] time_limit_s or try [solver] name = "
            "\"cbc\".")


def cost_of(problem: Problem, is_open: dict[str, np.ndarray]) -> float:
    """C of a choice of sites, from the 0/1 choice itself (not from the solver's values)."""
    total = 0.0
    for t in problem.tiers:
        new = is_open[t.name] & ~t.existing
        total += float(t.cost[new].sum())
    if problem.colocation is not None:
        a, b, saving = problem.colocation
        if a in is_open and b in is_open:
            ta, tb = problem.tier(a), problem.tier(b)
            both = is_open[a] & is_open[b] & ~(ta.existing & tb.existing)
            total -= saving * int(both.sum())
    return total


def _read(problem: Problem, built: _Built) -> dict[str, np.ndarray]:
    chosen = {}
    for t in problem.tiers:
        sites, xvars = built.x[t.name]
        is_open = np.zeros(problem.n_sites, dtype=bool)
        is_open[sites] = [float(v.varValue or 0.0) > 0.5 for v in xvars]
        chosen[t.name] = is_open | t.existing
    return chosen


def _warm_values(built: _Built, warm: dict[str, np.ndarray]) -> dict[str, float]:
    values: dict[str, float] = {}
    for name, (sites, xvars) in built.x.items():
        if name in warm:
            for j, v in zip(sites, xvars, strict=True):
                values[v.name] = 1.0 if warm[name][j] else 0.0
    return values
