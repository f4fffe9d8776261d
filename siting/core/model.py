r"""The siting model: one PuLP MIP over all tiers, built from sparse coverage data.

The model takes arrays and sparse matrices only — no geometry — so it can be checked on
hand-made instances and on OR-Library benchmarks.

Formulation
-----------
Sites :math:`j = 1..n` are shared by all tiers :math:`t`. For each tier:

- :math:`c_{tj}` the cost of a new site (``inf``: not allowed there); :math:`E_t` the
  existing sites (fixed open, no cost); for a capacitated tier, bank sizes
  :math:`s` with capacity :math:`C_s` and cost :math:`c_s` (a new bank costs
  :math:`c_{tj} + c_s`), and the capacity :math:`C^0_j` of each existing site;
- :math:`A_t` a 0/1 *cover* matrix: each of its rows (a demand unit, or a township's set of
  sites) must hold at least one open site; for a capacitated tier the rows ``demand_rows``
  carry a demand :math:`d_i` (compartments);
- :math:`B_t` a 0/1 *reach* matrix with weights :math:`p_{ti}` (and distances
  :math:`\delta_{ij}` for the p-median);
- :math:`N_t \le \sum_j o_{tj} \le M_t` count bounds, existing sites included.

Variables: :math:`x_{tj} \in \{0,1\}` where allowed or existing (:math:`x_{tj} = 1` for
:math:`j \in E_t`), or one :math:`x_{tjs}` per bank size at a new site of a capacitated
tier; :math:`o_{tj} = \sum_s x_{tjs}` "open"; :math:`z_{ij} \ge 0` the demand of row
:math:`i` assigned to site :math:`j`, only on the pairs of :math:`A_t` (within reach);
:math:`y_{ti} \in [0,1]` row :math:`i` of :math:`B_t` reached; :math:`w_j \in [0,1]` site
:math:`j` hosts both co-located tiers :math:`a, b`.

.. math::

    \sum_j A_{tij}\, o_{tj} &\ge 1 &\quad& \text{every coverable row } i \text{ of } A_t \\
    \sum_s x_{tjs} &\le 1 && \text{one bank size per site} \\
    \sum_j z_{ij} \ge d_i, \quad \sum_i z_{ij} &\le C^0_j + \sum_s C_s x_{tjs}
        && \text{capacity} \\
    z_{ij} &\le d_i\, o_{tj} && \text{(strong linking: tightens the LP bound)} \\
    y_{ti} &\le \sum_j B_{tij}\, o_{tj} \\
    N_t \le \sum_j o_{tj} &\le M_t \\
    w_j \le o_{aj},\; w_j &\le o_{bj}

Objectives:

- ``min_cost`` (default), lexicographic: (1) minimise
  :math:`C = \sum_t \sum_{j \notin E_t} c_{tj} o_{tj} - \delta \sum_j w_j` (with bank sizes,
  :math:`\sum_s c_s x_{tjs}`); (2) if some tier maximises reach, maximise
  :math:`\sum_t \sum_i p_{ti} y_{ti}` subject to :math:`C \le C^*` (a second solve,
  warm-started from the first);
- ``max_coverage``: the cover rows become reach rows too (weight 1, or the tier's weights);
  (1) maximise the reached weight subject to :math:`C \le` budget and the counts; (2) the
  least cost reaching that weight (skipped when the counts fix :math:`C`: one cost for
  all new sites of a tier and ``min_count = max_count``);
- ``p_median``: for the tier with distances, :math:`\sum_j o_j = p`, minimise
  :math:`\sum_i p_i \delta_{i,\text{nearest open}}` in Elloumi's (2010) form: for row
  :math:`i` with distinct distances :math:`D_i^0 < D_i^1 < \dots`, continuous
  :math:`u_i^k \ge 0` ("farther than :math:`D_i^k`"),
  :math:`u_i^k \ge u_i^{k-1} - \sum_{j:\delta_{ij} = D_i^k} o_j` (:math:`u_i^{-1} = 1`),
  objective :math:`\sum_i p_i (D_i^0 + \sum_k (D_i^{k+1} - D_i^k) u_i^k)`. Levels whose
  sites number at least :math:`n - p + 1` are cut (one of them is open); with a sparse
  distance matrix the last level must be reached. Its LP bound equals the classical
  formulation's with :math:`O(\text{pairs})` rather than :math:`O(n^2)` constraints.

:math:`y`, :math:`w`, :math:`z`, :math:`u` need not be integer. Rows of :math:`A_t` that no
allowed or existing site reaches can never be met: they are left out and returned as
``uncoverable``, and the rest is solved. Rows already reached by an existing site are left
out of the cover constraints. :mod:`siting.core.presolve` shrinks the problem before this
formulation sees it; :mod:`siting.core.greedy` gives the solver a starting solution, which
:mod:`siting.core.lagrange` improves for the p-median (and proves sites closed or open).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np
import pulp
import scipy.sparse as sp

from siting.config.scenario import SolverConfig
from siting.core import solve as solver
from siting.core._errors import InfeasibleError, SitingError, SolverError

if TYPE_CHECKING:
    from siting.core.lagrange import Certificate

log = logging.getLogger(__name__)

OBJECTIVES = ("min_cost", "max_coverage", "p_median")
__all__ = ["OBJECTIVES", "InfeasibleError", "Problem", "SitingError", "Solution", "SolverError",
           "TierData", "build", "check", "cost_of", "expr", "optimise"]


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
    sizes: tuple[tuple[float, float], ...] = ()   # (capacity, cost) per bank size
    demand: np.ndarray | None = None       # (d,) capacity demand of the rows ``demand_rows``
    existing_capacity: np.ndarray | None = None   # (n,) capacity of existing sites
    dist: sp.csr_array | None = None       # (w, n) distances of the reach pairs (p-median)
    fixed: np.ndarray | None = None        # (n,) bool: new sites forced open (reductions)
    demand_rows: np.ndarray | None = None  # (d,) the rows of ``cover`` that carry ``demand``
    #                                        (default: the first d rows)

    def __post_init__(self) -> None:
        if self.demand is None:
            return
        if self.demand_rows is None:
            object.__setattr__(self, "demand_rows", np.arange(len(self.demand)))
        elif len(self.demand_rows) != len(self.demand):
            raise ValueError(f"tier '{self.name}': {len(self.demand_rows)} demand_rows for "
                             f"{len(self.demand)} demand values; give one row per value")

    def demand_cover(self) -> sp.csr_array:
        """(d, n) the ``cover`` rows that carry ``demand``: the sites that may hold each."""
        assert self.demand is not None and self.cover is not None
        return sp.csr_array(self.cover)[self.demand_rows]

    @property
    def allowed(self) -> np.ndarray:
        """Sites where the tier may be open (new or existing)."""
        return np.isfinite(self.cost) | self.existing

    @property
    def capacitated(self) -> bool:
        """Whether demand must fit into bank capacities."""
        return bool(self.sizes) and self.demand is not None


@dataclass(frozen=True)
class Problem:
    """All tiers of one siting run."""

    n_sites: int
    tiers: tuple[TierData, ...]
    colocation: tuple[str, str, float] | None = None   # (tier a, tier b, saving per site)
    objective: str = "min_cost"
    budget: float | None = None                        # max_coverage: C <= budget

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
    size: dict[str, np.ndarray] = field(default_factory=dict)   # tier -> (n,) bank size, -1
    capacity: dict[str, np.ndarray] = field(default_factory=dict)  # tier -> (n,) capacity
    objective: float = 0.0                 # the first stage's objective (its own units)
    reductions: dict[str, int] = field(default_factory=dict)
    tier_cost: dict[str, float] = field(default_factory=dict)   # new sites' cost, per tier
    short: dict[str, dict[int, float]] = field(default_factory=dict)  # tier -> row: unserved
    # p-median: a lower bound from Lagrange multipliers (siting.core.lagrange), not the solver's
    certificate: Certificate | None = None

    @property
    def gap(self) -> float | None:
        """The proven relative gap of the first (main) stage, as the solver reported it."""
        return self.stages[0][1].gap if self.stages else None


def expr(pairs: list[tuple[pulp.LpVariable, float]]) -> pulp.LpAffineExpression:
    """A linear expression from (variable, coefficient) pairs, in linear time.

    The one place that builds PuLP expressions: ``sum()`` and ``+`` are quadratic in PuLP 3,
    and PuLP 4 changes this constructor.
    """
    return pulp.LpAffineExpression(pairs)


Pairs = list[tuple[pulp.LpVariable, float]]


@dataclass
class _TierVars:
    sites: np.ndarray                       # allowed sites
    open: list[Pairs]                       # per allowed site: its o_tj as (var, 1) pairs
    capacity: list[Pairs]                   # per allowed site: (var, capacity) pairs
    cost: list[Pairs]                       # per allowed site: (var, cost) pairs
    size_of: dict[str, tuple[int, int]]     # var name -> (site, size index)
    pos: np.ndarray                         # (n,) position of a site in ``sites``, -1


@dataclass
class _Built:
    lp: pulp.LpProblem
    vars: dict[str, _TierVars]
    cost: pulp.LpAffineExpression
    reach: pulp.LpAffineExpression | None
    uncoverable: dict[str, np.ndarray]
    already_reached: float
    median: pulp.LpAffineExpression | None = None
    median_constant: float = 0.0
    reach_rows: list[tuple[pulp.LpVariable, float, list[pulp.LpVariable]]] = field(
        default_factory=list)
    short: dict[str, dict[int, pulp.LpVariable]] = field(default_factory=dict)


def check(problem: Problem) -> None:
    """Raise :class:`InfeasibleError` for what can be seen before solving."""
    if problem.objective not in OBJECTIVES:
        raise ValueError(f"objective {problem.objective!r}: use one of {OBJECTIVES}")
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
        if t.sizes and t.demand is not None and t.cover is not None:
            _check_capacity(t)


def capacity_short(t: TierData) -> np.ndarray:
    """Rows needing more compartments than all the banks that can reach them could hold.

    They are not an error: the model leaves the shortfall unserved at a prohibitive price,
    solves the rest, and the report names them.
    """
    assert t.demand is not None and t.cover is not None
    biggest = max(c for c, _ in t.sizes)
    cap = np.where(t.existing, t.existing_capacity if t.existing_capacity is not None else 0.0,
                   np.where(np.isfinite(t.cost), biggest, 0.0))
    rows = t.demand_cover()
    reachable = rows @ cap
    return np.flatnonzero((reachable + 1e-9 < t.demand) & (np.diff(rows.indptr) > 0))


def _check_capacity(t: TierData) -> None:
    short = capacity_short(t)
    if len(short):
        log.warning("tier %s: %d demand unit(s) need more compartments than the banks within "
                    "reach can hold; their shortfall is left unserved and reported", t.name,
                    len(short))


def build(problem: Problem) -> _Built:
    """Formulate the first-stage model (see the module docstring)."""
    check(problem)
    sense = pulp.LpMaximize if problem.objective == "max_coverage" else pulp.LpMinimize
    lp = pulp.LpProblem("siting", sense)
    tv: dict[str, _TierVars] = {}
    cost_terms: Pairs = []
    reach_terms: Pairs = []
    reach_rows: list[tuple[pulp.LpVariable, float, list[pulp.LpVariable]]] = []
    short: dict[str, dict[int, pulp.LpVariable]] = {}
    uncoverable: dict[str, np.ndarray] = {}
    already = 0.0
    median = None
    constant = 0.0
    soft = problem.objective == "max_coverage"
    for t in problem.tiers:
        v = _site_vars(lp, t, problem.n_sites, cost_terms)
        tv[t.name] = v
        if t.cover is not None:
            cover = sp.csr_array(t.cover)
            uncoverable[t.name] = _uncoverable_rows(t)
            ys: dict[int, pulp.LpVariable] = {}
            if soft:
                w = np.ones(cover.shape[0])
                got, ys = _add_reach(lp, t.name, "c", cover, w, v, t.existing, reach_terms,
                                     reach_rows)
                already += got
            else:
                _add_cover(lp, t, cover, v)
            if t.capacitated:
                short[t.name] = _add_capacity(lp, t, cover, v, ys if soft else None,
                                              cost_terms)
        if t.reach is not None and problem.objective == "p_median" and t.dist is not None:
            median, constant = _add_median(lp, t, v)
        elif t.reach is not None:
            w = np.ones(t.reach.shape[0]) if t.weight is None else np.asarray(t.weight, float)
            got, _ = _add_reach(lp, t.name, "r", sp.csr_array(t.reach), w, v, t.existing,
                                reach_terms, reach_rows)
            already += got
        _add_counts(lp, t, v)
    if problem.colocation is not None:
        cost_terms += _add_colocation(lp, problem, tv)
    cost = expr(cost_terms)
    reach = expr(reach_terms) if reach_terms else None
    if problem.objective == "p_median":
        if median is None:
            raise ValueError("p_median needs a tier with reach rows and distances")
        lp.setObjective(median)
    elif soft:
        if problem.budget is not None:
            lp += cost <= problem.budget, "budget"
        lp.setObjective(reach if reach is not None else expr([]))
    else:
        lp.setObjective(cost)
    log.info("model: %s variables, %s constraints", f"{lp.numVariables():,}",
             f"{lp.numConstraints():,}")
    return _Built(lp, tv, cost, reach, uncoverable, already, median, constant, reach_rows,
                  short)


def _site_vars(lp: pulp.LpProblem, t: TierData, n: int, cost_terms: Pairs) -> _TierVars:
    """X variables of a tier: one per allowed site, or one per bank size at new sites."""
    sites = np.flatnonzero(t.allowed)
    pos = np.full(n, -1, np.int64)
    pos[sites] = np.arange(len(sites))
    fixed = t.fixed if t.fixed is not None else np.zeros(n, dtype=bool)
    open_: list[Pairs] = []
    cap: list[Pairs] = []
    costs: list[Pairs] = []
    size_of: dict[str, tuple[int, int]] = {}
    ex_cap = t.existing_capacity if t.existing_capacity is not None else np.zeros(n)
    for j in sites:
        if t.existing[j] or not t.sizes:
            var = lp.add_variable(f"x_{t.name}_{j}", 1 if (t.existing[j] or fixed[j]) else 0,
                                  1, pulp.LpInteger)
            if not t.existing[j]:
                cost_terms.append((var, float(t.cost[j])))
            costs.append([] if t.existing[j] else [(var, float(t.cost[j]))])
            open_.append([(var, 1.0)])
            c = float(ex_cap[j]) if t.existing[j] else (max(s for s, _ in t.sizes)
                                                        if t.sizes else 0.0)
            cap.append([(var, c)])
            continue
        vs = [lp.add_variable(f"x_{t.name}_{j}_s{k}", 0, 1, pulp.LpInteger)
              for k in range(len(t.sizes))]
        for k, var in enumerate(vs):
            cost_terms.append((var, float(t.cost[j]) + float(t.sizes[k][1])))
            size_of[var.name] = (int(j), k)
        costs.append([(var, float(t.cost[j]) + float(t.sizes[k][1]))
                      for k, var in enumerate(vs)])
        if len(vs) > 1:
            lp += expr([(var, 1.0) for var in vs]) <= 1, f"size_{t.name}_{j}"
        if fixed[j]:
            lp += expr([(var, 1.0) for var in vs]) >= 1, f"fixed_{t.name}_{j}"
        open_.append([(var, 1.0) for var in vs])
        cap.append([(var, float(t.sizes[k][0])) for k, var in enumerate(vs)])
    return _TierVars(sites, open_, cap, costs, size_of, pos)


def _row_sites(m: sp.csr_array, i: int, v: _TierVars) -> np.ndarray:
    """Positions (in ``v.sites``) of the allowed sites on row ``i``."""
    p = v.pos[m.indices[m.indptr[i]:m.indptr[i + 1]]]
    return p[p >= 0]


def _add_cover(lp: pulp.LpProblem, t: TierData, cover: sp.csr_array, v: _TierVars) -> None:
    is_existing = t.existing[v.sites]
    for i in range(cover.shape[0]):
        p = _row_sites(cover, i, v)
        if len(p) and not is_existing[p].any():
            lp += expr([pair for k in p for pair in v.open[k]]) >= 1, f"cover_{t.name}_{i}"


def _add_capacity(lp: pulp.LpProblem, t: TierData, cover: sp.csr_array, v: _TierVars,
                  ys: dict[int, pulp.LpVariable] | None, cost_terms: Pairs,
                  ) -> dict[int, pulp.LpVariable]:
    """Assignment z on the pairs within reach: demand met, capacity respected.

    With ``ys`` (max_coverage) a row's demand is due only as far as the row is reached. A
    row that cannot be served in full by every bank within reach gets a shortfall variable
    priced above any bank, so the rest is still solved and the shortfall reported.
    """
    assert t.demand is not None and t.demand_rows is not None
    load: dict[int, Pairs] = {}
    short_rows = set(capacity_short(t).tolist())
    penalty = 2.0 * (float(np.nanmax(np.where(np.isfinite(t.cost), t.cost, 0.0)))
                     + max(c for _, c in t.sizes) + 1.0)
    shorts: dict[int, pulp.LpVariable] = {}
    for i, (row, d) in enumerate(zip(t.demand_rows, t.demand, strict=True)):
        p = _row_sites(cover, int(row), v)
        if d <= 0 or len(p) == 0:
            continue
        zs = [lp.add_variable(f"z_{t.name}_{i}_{v.sites[k]}", 0) for k in p]
        for k, z in zip(p, zs, strict=True):
            load.setdefault(int(k), []).append((z, 1.0))
            if not t.existing[v.sites[k]]:   # strong linking: nothing goes to a closed site
                lp += expr([(z, 1.0)] + [(x, -float(d)) for x, _ in v.open[k]]) <= 0, \
                    f"link_{t.name}_{i}_{v.sites[k]}"
        y = ys.get(int(row)) if ys is not None else None
        if ys is not None and y is None:
            continue      # reached by an existing site, or weightless: nothing is due
        extra: Pairs = []
        if i in short_rows:
            s = lp.add_variable(f"short_{t.name}_{i}", 0)
            shorts[i] = s
            extra = [(s, 1.0)]
            cost_terms.append((s, penalty))
        if y is not None:
            lp += expr([(z, 1.0) for z in zs] + [(y, -float(d))] + extra) >= 0, \
                f"demand_{t.name}_{i}"
        else:
            lp += expr([(z, 1.0) for z in zs] + extra) >= float(d), f"demand_{t.name}_{i}"
    for k, zs in load.items():
        lp += expr(zs + [(var, -c) for var, c in v.capacity[k]]) <= 0, \
            f"capacity_{t.name}_{v.sites[k]}"
    return shorts


def _add_reach(lp: pulp.LpProblem, name: str, tag: str, m: sp.csr_array, weight: np.ndarray,
               v: _TierVars, existing: np.ndarray, terms: Pairs,
               rows_out: list[tuple[pulp.LpVariable, float, list[pulp.LpVariable]]],
               ) -> tuple[float, dict[int, pulp.LpVariable]]:
    """Y variables of weighted rows; returns the weight existing sites reach already."""
    is_existing = existing[v.sites]
    already = 0.0
    ys: dict[int, pulp.LpVariable] = {}
    for i in range(m.shape[0]):
        p = _row_sites(m, i, v)
        if len(p) == 0 or weight[i] <= 0:
            continue
        if is_existing[p].any():
            already += float(weight[i])
            continue
        y = lp.add_variable(f"y_{name}_{tag}{i}", 0, 1)
        xs = [var for k in p for var, _ in v.open[k]]
        lp += expr([(y, 1.0)] + [(var, -1.0) for var in xs]) <= 0, f"reach_{name}_{tag}{i}"
        terms.append((y, float(weight[i])))
        rows_out.append((y, float(weight[i]), xs))
        ys[i] = y
    return already, ys


def _add_median(lp: pulp.LpProblem, t: TierData, v: _TierVars,
                ) -> tuple[pulp.LpAffineExpression, float]:
    """Elloumi's p-median objective and chain constraints (see the module docstring)."""
    assert t.reach is not None and t.dist is not None
    dist = sp.csr_array(t.dist)
    weight = np.ones(dist.shape[0]) if t.weight is None else np.asarray(t.weight, float)
    n_allowed = len(v.sites)
    terms: Pairs = []
    constant = 0.0
    for i in range(dist.shape[0]):
        lo, hi = dist.indptr[i], dist.indptr[i + 1]
        p = v.pos[dist.indices[lo:hi]]
        d = dist.data[lo:hi][p >= 0]
        p = p[p >= 0]
        if len(p) == 0 or weight[i] <= 0:
            continue
        order = np.argsort(d, kind="stable")
        d, p = d[order], p[order]
        levels, start = np.unique(d, return_index=True)
        ends = np.r_[start[1:], len(d)]
        full = len(p) == n_allowed
        constant += weight[i] * float(levels[0])
        prev = None
        for k in range(len(levels)):
            members = [pair for q in p[start[k]:ends[k]] for pair in v.open[q]]
            last = k == len(levels) - 1 or (full and ends[k] >= n_allowed - t.min_count + 1)
            if last:   # beyond this level nothing is left: the row is served by now
                lhs = ([(prev, 1.0)] if prev is not None else []) + \
                    [(var, -1.0) for var, _ in members]
                lp += expr(lhs) <= (0 if prev is not None else -1), f"med_{t.name}_{i}_{k}"
                break
            u = lp.add_variable(f"u_{t.name}_{i}_{k}", 0)
            rhs = 0.0 if prev is not None else 1.0
            lp += expr([(u, 1.0)] + ([(prev, -1.0)] if prev is not None else []) +
                       [(var, 1.0) for var, _ in members]) >= rhs, f"med_{t.name}_{i}_{k}"
            terms.append((u, weight[i] * float(levels[k + 1] - levels[k])))
            prev = u
    return expr(terms), constant


def _add_counts(lp: pulp.LpProblem, t: TierData, v: _TierVars) -> None:
    total = expr([pair for pairs in v.open for pair in pairs])
    if t.min_count > 0:
        lp += total >= t.min_count, f"count_min_{t.name}"
    if t.max_count is not None:
        lp += total <= t.max_count, f"count_max_{t.name}"


def _add_colocation(lp: pulp.LpProblem, problem: Problem, tv: dict[str, _TierVars],
                    ) -> Pairs:
    a, b, saving = problem.colocation  # type: ignore[misc]
    if saving <= 0 or a not in tv or b not in tv:
        return []
    va, vb = tv[a], tv[b]
    both, ia, ib = np.intersect1d(va.sites, vb.sites, assume_unique=True, return_indices=True)
    ea, eb = problem.tier(a).existing, problem.tier(b).existing
    terms = []
    for j, ka, kb in zip(both, ia, ib, strict=True):
        if ea[j] and eb[j]:
            continue  # nothing new is opened there, so nothing is saved
        w = lp.add_variable(f"w_{j}", 0, 1)
        lp += expr([(w, 1.0)] + [(x, -1.0) for x, _ in va.open[ka]]) <= 0, f"coloc_{a}_{j}"
        lp += expr([(w, 1.0)] + [(x, -1.0) for x, _ in vb.open[kb]]) <= 0, f"coloc_{b}_{j}"
        terms.append((w, -saving))
    return terms


def optimise(problem: Problem, cfg: SolverConfig, *, warm: dict[str, np.ndarray] | None = None,
             reduce: bool = True, cut: bool = True) -> Solution:
    """Reduce, build and solve the model, lexicographically (see the module docstring).

    Parameters
    ----------
    problem
        The tiers' data.
    cfg
        Solver, time limit (shared by the stages), relative gap, threads.
    warm
        Optional starting solution: tier -> (n,) bool of open sites. Without one, a greedy
        solution (:mod:`siting.core.greedy`) is used when it is feasible.
    reduce
        Apply :mod:`siting.core.presolve` first (the result is the same; the model is smaller).
    cut
        Add :mod:`siting.core.components` bounds for capacitated tiers (and start from their
        components' solutions).

    Raises
    ------
    InfeasibleError
        When the targets cannot all be met (e.g. a count bound conflicts with coverage).
    SolverError
        When the solver finds no solution within its limits.
    """
    from siting.core import components, greedy, lagrange
    from siting.core import presolve as reducer

    t0 = time.perf_counter()
    check(problem)
    uncoverable = {t.name: _uncoverable_rows(t) for t in problem.tiers if t.cover is not None}
    small, stats = reducer.reduce(problem) if reduce else (problem, {})
    cuts, starts = components.capacity_bounds(small, cfg) if cut else ({}, {})
    t_start = time.perf_counter()
    if warm is None:
        warm = greedy.start(small, fixed=starts)
    certificate = None
    if warm and reduce:
        small, warm, certificate, proven = lagrange.strengthen(small, warm)
        stats = {**stats, **proven}
    t_start = time.perf_counter() - t_start
    built = build(small)
    _add_cuts(built, cuts)
    t_build = time.perf_counter() - t0 - t_start
    start = _warm_values(built, warm) if warm else None
    name1 = {"min_cost": "minimum cost", "max_coverage": "most reached weight",
             "p_median": "least weighted distance"}[problem.objective]
    first = solver.run(built.lp, cfg, warm=start, offset=built.median_constant)
    _raise_unless_solved(first, name1)
    stages = [(name1, first)]
    second = _second_stage(problem, built, cfg, first)
    if second is not None:
        stages.append(second)
    chosen, size, capacity = _read(small, built)
    status = "optimal" if all(o.status == "optimal" for _, o in stages) else "feasible"
    reached = (float(pulp.value(built.reach) or 0.0) if built.reach is not None else 0.0)
    return Solution(
        open=chosen, cost=cost_of(problem, chosen, size), objective=float(first.objective or 0),
        reached_weight=reached + built.already_reached, status=status, stages=tuple(stages),
        uncoverable=uncoverable, size=size, capacity=capacity, reductions=stats,
        tier_cost={t.name: cost_of(replace(problem, tiers=(t,), colocation=None), chosen, size)
                   for t in problem.tiers},
        short={name: {i: float(s.varValue or 0.0) for i, s in rows.items()
                      if float(s.varValue or 0.0) > 1e-6}
               for name, rows in built.short.items()},
        seconds={"build": t_build, "start": t_start,
                 "solve": sum(o.seconds for _, o in stages)},
        certificate=certificate)


def _add_cuts(built: _Built, cuts: dict[str, list[tuple[np.ndarray, float]]]) -> None:
    """Component bounds: Σ bank cost at a component's sites ≥ its proven optimum alone."""
    for name, found in cuts.items():
        v = built.vars[name]
        for k, (sites, bound) in enumerate(found):
            pairs = [pair for j in sites if v.pos[j] >= 0 for pair in v.cost[v.pos[j]]]
            if pairs:
                built.lp += expr(pairs) >= bound * (1 - 1e-9), f"piece_{name}_{k}"


def _uncoverable_rows(t: TierData) -> np.ndarray:
    cover = sp.csr_array(t.cover)
    allowed = t.allowed.astype(np.int8)
    return np.flatnonzero(cover @ allowed == 0).astype(np.int64)


def _second_stage(problem: Problem, built: _Built, cfg: SolverConfig, first: solver.Outcome,
                  ) -> tuple[str, solver.Outcome] | None:
    lp = built.lp
    if problem.objective == "min_cost" and built.reach is not None:
        # each row is reached as far as the chosen sites reach it (stage 1 left y free)
        for y, _, xs in built.reach_rows:
            y.varValue = min(1.0, sum(float(x.varValue or 0.0) for x in xs))
        if all((y.varValue or 0.0) >= 1.0 for y, _, _ in built.reach_rows):
            total = sum(w for _, w, _ in built.reach_rows)
            return "most reached weight at that cost", solver.Outcome(
                "(no solve: every reachable row is reached)", "optimal", -total, -total, 0.0,
                0.0)
    incumbent = {v.name: float(v.varValue or 0.0) for v in lp.variables()}
    left = cfg.time_limit_s - first.seconds
    if problem.objective == "min_cost" and built.reach is not None:
        c_star = float(pulp.value(built.cost) or 0.0)
        lp += built.cost <= c_star + 1e-7 * max(1.0, abs(c_star)), "cost_cap"
        lp.setObjective(-1.0 * built.reach)
        name = "most reached weight at that cost"
    elif problem.objective == "max_coverage" and built.reach is not None \
            and not _cost_is_fixed(problem):
        r_star = float(pulp.value(built.reach) or 0.0)
        lp += built.reach >= r_star - 1e-7 * max(1.0, abs(r_star)), "reach_floor"
        lp.sense = pulp.LpMinimize
        lp.setObjective(built.cost)
        name = "least cost at that reach"
    else:
        return None
    out = solver.run(lp, cfg, warm=incumbent, time_limit=left)
    _raise_unless_solved(out, name)
    return name, out


def _cost_is_fixed(problem: Problem) -> bool:
    """Whether the counts fix C: one cost for all new sites, min_count = max_count, per tier."""
    if problem.colocation is not None:
        return False
    for t in problem.tiers:
        new = np.isfinite(t.cost) & ~t.existing
        if t.sizes or t.min_count != t.max_count or (
                new.any() and t.cost[new].min() != t.cost[new].max()):
            return False
    return True


def _raise_unless_solved(out: solver.Outcome, stage: str) -> None:
    if out.status == "infeasible":
        raise InfeasibleError(
            f"the model is infeasible at stage '{stage}': the count bounds, budget or "
            "capacities cannot be met together with full coverage. Raise max_count or the "
            "budget, lower count, add bank sizes, or widen radius_m.")
    if not out.has_solution:
        raise SolverError(
            f"{out.solver} found no solution at stage '{stage}' within {out.seconds:.0f} s "
            f"(status {out.status}). Raise [solver] time_limit_s or try [solver] name = "
            "\"cbc\".")


def cost_of(problem: Problem, is_open: dict[str, np.ndarray],
            size: dict[str, np.ndarray] | None = None) -> float:
    """C of a choice of sites, from the 0/1 choice itself (not from the solver's values)."""
    total = 0.0
    for t in problem.tiers:
        new = is_open[t.name] & ~t.existing
        if t.sizes and size is not None and t.name in size:
            costs = np.array([c for _, c in t.sizes])
            total += float(costs[size[t.name][new]].sum() + t.cost[new].sum())
        else:
            total += float(t.cost[new].sum())
    if problem.colocation is not None:
        a, b, saving = problem.colocation
        if a in is_open and b in is_open:
            ta, tb = problem.tier(a), problem.tier(b)
            both = is_open[a] & is_open[b] & ~(ta.existing & tb.existing)
            total -= saving * int(both.sum())
    return total


def _read(problem: Problem, built: _Built,
          ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, np.ndarray]]:
    chosen, size, capacity = {}, {}, {}
    for t in problem.tiers:
        v = built.vars[t.name]
        is_open = np.zeros(problem.n_sites, dtype=bool)
        sz = np.full(problem.n_sites, -1, dtype=np.int64)
        cap = np.zeros(problem.n_sites)
        for k, j in enumerate(v.sites):
            for var, c in v.capacity[k]:
                if float(var.varValue or 0.0) > 0.5:
                    is_open[j] = True
                    cap[j] = c
                    if var.name in v.size_of:
                        sz[j] = v.size_of[var.name][1]
        chosen[t.name] = is_open | t.existing
        size[t.name] = sz
        capacity[t.name] = cap
    return chosen, size, capacity


def _warm_values(built: _Built, warm: dict[str, np.ndarray]) -> dict[str, float]:
    """Variable values of a choice: tier -> (n,) bool open, or int bank size (-1 closed)."""
    values: dict[str, float] = {}
    for name, v in built.vars.items():
        if name not in warm:
            continue
        choice = np.asarray(warm[name])
        sized = choice.dtype.kind in "iu"
        for k, j in enumerate(v.sites):
            xs = [var for var, _ in v.open[k]]
            pick = int(choice[j]) if sized else (0 if choice[j] else -1)
            for n_var, var in enumerate(xs):
                on = pick >= 0 and (len(xs) == 1 or n_var == pick)
                values[var.name] = 1.0 if on else 0.0
    return values


def with_reach_as_cover(t: TierData) -> TierData:
    """A tier whose reach rows must all be covered (for benchmarks: LSCP from MCLP data)."""
    return replace(t, cover=t.reach, reach=None, weight=None)
