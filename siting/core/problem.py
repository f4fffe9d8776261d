"""The core's types: a problem's tiers, the solver's settings, and what a solve returns.

Everything here is arrays and sparse matrices indexed by one shared site numbering; no
geometry and no configuration. :func:`check` refuses what can be seen to be infeasible
before any model is built, and :func:`cost_of` prices a choice of sites from the choice
itself.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from siting.core._errors import InfeasibleError

log = logging.getLogger(__name__)

OBJECTIVES = ("min_cost", "max_coverage", "p_median")


@dataclass(frozen=True)
class SolverSettings:
    """Which MIP solver runs, and its limits.

    ``time_limit_s`` is the user's clock and the only one: every budget inside the core is
    counted in iterations or branch-and-bound nodes, so a busy machine reaches the same
    result as an idle one unless that clock stops it. ``deadline`` is that clock's end
    (in :mod:`siting.core.solve`'s clock), set by :func:`siting.core.optimise` from ``time_limit_s``
    when it starts: every solve within it, however deep, stops there
    (:func:`siting.core.solve.run`).
    """

    name: str = "highs"                 # highs | cbc
    time_limit_s: float = 300.0
    rel_gap: float = 0.0                # stop once the incumbent is proven within this gap
    abs_gap: float = 1e-6               # … or within this much of the objective's units
    threads: int = 1
    max_nodes: int | None = None        # branch-and-bound nodes at most (HiGHS mip_max_nodes)
    seed: int = 0                       # HiGHS random_seed
    deadline: float | None = None       # when every solve ends (the user's limit)


@dataclass(frozen=True)
class Outcome:
    """What the solver proved about one model."""

    solver: str                 # e.g. "HiGHS 1.15.1"
    status: str                 # optimal | feasible | infeasible | unbounded | no_solution
    objective: float | None     # the incumbent's objective
    bound: float | None         # the best proven bound on the optimum
    gap: float | None           # relative gap |objective − bound| / max(|objective|, 1e-9)
    seconds: float
    nodes: int | None = None
    forced: float = 0.0         # the part of the objective no feasible plan avoids

    @property
    def has_solution(self) -> bool:
        """Whether variable values are available."""
        return self.status in ("optimal", "feasible")

    @property
    def avoidable_gap(self) -> float | None:
        """(objective − bound) / (objective − forced): the gap on the cost decisions change."""
        if self.objective is None or self.bound is None:
            return None
        return avoidable_gap(self.objective, self.bound, self.forced)


def avoidable_gap(objective: float, bound: float, forced: float) -> float:
    """(objective − bound) / (objective − forced); 0 when nothing is avoidable."""
    avoidable = objective - forced
    diff = max(0.0, objective - bound)
    if diff <= 1e-9 * max(1.0, abs(objective)) or avoidable <= 0:
        return 0.0
    return diff / avoidable


@dataclass(frozen=True)
class ForcedPart:
    """One tier's share of the forced cost, and what forces it."""

    tier: str
    cost: float
    count_sites: int       # new sites the count forces (beyond existing and fixed ones)
    row_sites: int         # disjoint unmet cover rows, each forcing a new site
    fixed_sites: int       # sites the reductions forced open


@dataclass(frozen=True)
class Forced:
    """The forced cost of a problem (see :mod:`siting.core.forced`), by tier."""

    total: float = 0.0
    parts: tuple[ForcedPart, ...] = ()


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
    min_capacity: float = 0.0              # capacitated: Σ open capacity (existing included)
    #                                        at least this (a plan's compartment target)

    def __post_init__(self) -> None:
        if self.demand is None:
            return
        if self.demand_rows is None:
            object.__setattr__(self, "demand_rows", np.arange(len(self.demand)))
        elif len(self.demand_rows) != len(self.demand):
            raise ValueError(f"tier '{self.name}': {len(self.demand_rows)} demand_rows for "
                             f"{len(self.demand)} demand values; give one row per value")

    @property
    def allowed(self) -> np.ndarray:
        """Sites where the tier may be open (new or existing)."""
        return np.isfinite(self.cost) | self.existing

    @property
    def capacitated(self) -> bool:
        """Whether demand must fit into bank capacities."""
        return bool(self.sizes) and self.demand is not None

    @property
    def capacity_target(self) -> float:
        """Capacity the new banks must add to the existing ones (0: no target, or met)."""
        if not self.sizes or self.min_capacity <= 0:
            return 0.0
        return max(0.0, self.min_capacity - self.existing_capacity_total)

    @property
    def existing_capacity_total(self) -> float:
        """Σ capacity of the existing sites."""
        if self.existing_capacity is None:
            return 0.0
        return float(np.asarray(self.existing_capacity)[self.existing].sum())

    def demand_cover(self) -> sp.csr_array:
        """(d, n) the ``cover`` rows that carry ``demand``: the sites that may hold each."""
        assert self.demand is not None and self.cover is not None
        return sp.csr_array(self.cover)[self.demand_rows]

    @property
    def forced(self) -> np.ndarray:
        """(n,) bool: open in every solution (existing, or forced by a reduction)."""
        return self.existing | (self.fixed if self.fixed is not None else False)

    def weights(self) -> np.ndarray:
        """(w,) the reach rows' weights (1 each when none are given)."""
        assert self.reach is not None
        if self.weight is None:
            return np.ones(self.reach.shape[0])
        return np.asarray(self.weight, float)


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
class Certificate:
    """A lower bound on a tier's Σ weight × distance from multipliers, not from a solver.

    ``lagrange.bound(lagrange.relaxation(tier), multipliers)`` recomputes it from the
    tier's data (:mod:`siting.core.heuristics.lagrange`).
    """

    tier: str
    bound: float
    multipliers: np.ndarray


@dataclass(frozen=True)
class Solution:
    """The chosen sites and what the solver proved about them."""

    open: dict[str, np.ndarray]            # tier -> (n,) bool, existing included
    cost: float                            # C of the chosen sites
    reached_weight: float                  # Σ p y of the chosen sites (0 without reach rows)
    status: str                            # worst stage status: optimal | feasible
    stages: tuple[tuple[str, Outcome], ...]
    uncoverable: dict[str, np.ndarray]     # tier -> rows of ``cover`` no site can reach
    seconds: dict[str, float] = field(default_factory=dict)
    size: dict[str, np.ndarray] = field(default_factory=dict)   # tier -> (n,) bank size, -1
    capacity: dict[str, np.ndarray] = field(default_factory=dict)  # tier -> (n,) capacity
    objective: float = 0.0                 # the first stage's objective (its own units)
    reductions: dict[str, int] = field(default_factory=dict)
    tier_cost: dict[str, float] = field(default_factory=dict)   # new sites' cost, per tier
    short: dict[str, dict[int, float]] = field(default_factory=dict)  # tier -> row: unserved
    # p-median: a lower bound from Lagrange multipliers, not the solver's
    certificate: Certificate | None = None
    forced: Forced = field(default_factory=Forced)   # what every feasible plan pays

    @property
    def avoidable_gap(self) -> float | None:
        """The main stage's proven gap on the avoidable cost (see :func:`avoidable_gap`)."""
        return self.stages[0][1].avoidable_gap if self.stages else None

    @property
    def gap(self) -> float | None:
        """The proven relative gap of the first (main) stage, as the solver reported it."""
        return self.stages[0][1].gap if self.stages else None


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
        if t.capacitated and t.cover is not None:
            _warn_short(t)
        if t.capacity_target > 0:
            _check_capacity_target(t)


def _check_capacity_target(t: TierData) -> None:
    """A capacity target more than every allowed site's biggest bank could add: infeasible."""
    biggest = max(c for c, _ in t.sizes)
    most = biggest * int((np.isfinite(t.cost) & ~t.existing).sum())
    if most + 1e-9 < t.capacity_target:
        raise InfeasibleError(
            f"tier '{t.name}': {t.min_capacity:,.0f} compartments are required, the existing "
            f"banks hold {t.existing_capacity_total:,.0f} and the {most / biggest:,.0f} "
            f"candidate sites at most {most:,.0f} more. Lower [tiers.{t.name}] compartments "
            "(or compartments_from_plan), add a larger bank size, or allow more candidates.")


def _warn_short(t: TierData) -> None:
    short = capacity_short(t)
    if len(short):
        log.warning("tier %s: %d demand unit(s) need more compartments than the banks within "
                    "reach can hold; their shortfall is left unserved and reported", t.name,
                    len(short))


def capacity_short(t: TierData) -> np.ndarray:
    """Rows needing more compartments than all the banks that can reach them could hold.

    They are not an error: the model leaves the shortfall unserved at a prohibitive price,
    solves the rest, and the report names them.
    """
    assert t.demand is not None
    biggest = max(c for c, _ in t.sizes)
    cap = np.where(t.existing, t.existing_capacity if t.existing_capacity is not None else 0.0,
                   np.where(np.isfinite(t.cost), biggest, 0.0))
    rows = t.demand_cover()
    reachable = rows @ cap
    return np.flatnonzero((reachable + 1e-9 < t.demand) & (np.diff(rows.indptr) > 0))


def uncoverable_rows(t: TierData) -> np.ndarray:
    """Rows of ``cover`` that no allowed or existing site reaches."""
    cover = sp.csr_array(t.cover)
    return np.flatnonzero(cover @ t.allowed.astype(np.int8) == 0).astype(np.int64)


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
