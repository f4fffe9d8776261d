"""What each target costs: the plan solved again without it, the difference its price.

A count or a capacity target can drive most of a plan's cost (上街区: 394 community points
are asked for, 88 new ones reach every resident the plan reaches). For each such target the
whole problem is solved once more with that target relaxed, everything else kept:

- ``<tier>_count``: no count; the tier must still reach every demand unit the plan reaches
  (hard cover rows in place of the count), so the answer is "the same coverage without the
  count";
- ``<tier>_capacity``: no compartments to hold; every new bank is the smallest size.

The plan meets each relaxed problem, so the relaxed optimum is at most the plan's cost, and
the target's cost is ``plan − relaxed``. Both are solved to a gap, so it is stated with its
range: at least ``plan bound − relaxed cost``, at most ``plan cost − relaxed bound``. The
solves share what is left of the user's time limit after the plan's own solve (equally),
and each stops after ``RELAXED_NODES`` branch-and-bound nodes, so that a machine with time to
spare gives the same figures twice; with no time left they are not made, and the report
says so. (The core's pieces, solved before the whole model, stop on node counts only.)
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from siting import core
from siting.config.scenario import SolverConfig
from siting.core.solve import quiet

if TYPE_CHECKING:
    from siting.run.results import TierRun

log = logging.getLogger(__name__)

RELAXED_NODES = 100
"""Branch-and-bound nodes of each solve without a target (上街区's count: 35 s, 2.2 % gap)."""


@dataclass(frozen=True)
class TargetCost:
    """One target's price: the plan against the plan solved without the target."""

    key: str                   # the target's key, e.g. "community_count"
    tier: str
    kind: str                  # "count" | "capacity"
    plan_cost: float
    plan_bound: float | None   # the plan's proven lower bound
    plan_new: int              # the tier's new sites in the plan
    status: str                # of the solve without the target: optimal | feasible | skipped
    without_cost: float | None = None     # the cost of the best plan found without it
    without_bound: float | None = None    # a proven lower bound on that
    without_new: int = 0                  # the tier's new sites in that plan
    gap: float | None = None              # its proven gap on the avoidable cost
    seconds: float = 0.0
    time_limit_s: float = 0.0             # the share of the user's limit it was given

    @property
    def extra_cost(self) -> float | None:
        """What the target adds to the plan: plan − without (never below 0)."""
        if self.without_cost is None:
            return None
        return max(0.0, self.plan_cost - self.without_cost)

    @property
    def extra_range(self) -> tuple[float, float] | None:
        """The proven range of :attr:`extra_cost` from both solves' bounds."""
        if self.without_cost is None or self.without_bound is None or self.plan_bound is None:
            return None
        return (max(0.0, self.plan_bound - self.without_cost),
                max(0.0, self.plan_cost - self.without_bound))

    @property
    def extra_sites(self) -> int:
        """New sites of the tier the target adds."""
        return self.plan_new - self.without_new

    def as_dict(self) -> dict[str, object]:
        """JSON-ready, with the derived figures."""
        rng = self.extra_range
        return {"key": self.key, "tier": self.tier, "kind": self.kind,
                "plan_cost": self.plan_cost, "plan_bound": self.plan_bound,
                "plan_new": self.plan_new, "status": self.status,
                "without_cost": self.without_cost, "without_bound": self.without_bound,
                "without_new": self.without_new, "avoidable_gap": self.gap,
                "extra_cost": self.extra_cost, "extra_sites": self.extra_sites,
                "extra_min": None if rng is None else rng[0],
                "extra_max": None if rng is None else rng[1],
                "seconds": {"used": round(self.seconds, 3),
                            "given": round(self.time_limit_s, 3)}}


def of_targets(problem: core.Problem, tiers: dict[str, TierRun], solution: core.Solution,
               solver: SolverConfig, *, seconds_left: float) -> list[TargetCost]:
    """Each count and capacity target's cost (see the module docstring).

    Parameters
    ----------
    problem
        The plan's problem, as solved.
    solution
        The plan.
    solver
        The scenario's solver settings (solver, gap, threads).
    seconds_left
        What is left of the user's time limit; shared equally by the solves.
    """
    if problem.objective != "min_cost":
        return []
    relaxed = _relaxations(problem, tiers, solution)
    share = seconds_left / len(relaxed) if relaxed else 0.0
    return [_price(key, tier, kind, smaller, solution, solver, share)
            for key, tier, kind, smaller in relaxed]


def _relaxations(problem: core.Problem, tiers: dict[str, TierRun], solution: core.Solution,
                 ) -> list[tuple[str, str, str, core.Problem]]:
    out = []
    for t in problem.tiers:
        if t.min_count > int(t.existing.sum()):
            out.append((f"{t.name}_count", t.name, "count",
                        _with(problem, _without_count(t, solution.open[t.name]))))
        if t.capacitated and tiers[t.name].demand is not None:
            out.append((f"{t.name}_capacity", t.name, "capacity",
                        _with(problem, _without_capacity(t))))
    return out


def _with(problem: core.Problem, tier: core.TierData) -> core.Problem:
    return replace(problem, tiers=tuple(tier if t.name == tier.name else t
                                        for t in problem.tiers))


def _without_count(t: core.TierData, is_open: np.ndarray) -> core.TierData:
    """No count; every unit the plan reaches must still be reached (a hard cover row)."""
    if t.reach is None:
        return replace(t, min_count=0)
    reach = sp.csr_array(t.reach)
    reached = np.flatnonzero(reach @ is_open.astype(np.int8) > 0)
    rows = [sp.csr_array(reach[reached])] + ([sp.csr_array(t.cover)] if t.cover is not None
                                              else [])
    return replace(t, min_count=0, cover=sp.csr_array(sp.vstack(rows)), reach=None,
                   weight=None)


def _without_capacity(t: core.TierData) -> core.TierData:
    """No compartments: a new bank costs its site and the smallest bank size."""
    smallest = min(c for _, c in t.sizes)
    return replace(t, cost=np.where(t.existing, 0.0, t.cost + smallest), sizes=(),
                   demand=None, demand_rows=None, existing_capacity=None)


def _price(key: str, tier: str, kind: str, smaller: core.Problem, plan: core.Solution,
           solver: SolverConfig, share: float) -> TargetCost:
    main = plan.stages[0][1]
    base = TargetCost(key, tier, kind, plan.cost, main.bound,
                      int((plan.open[tier] & ~smaller.tier(tier).existing).sum()), "skipped",
                      time_limit_s=share)
    if share < 1.0:
        log.info("target cost %s: not computed, the time limit is spent", key)
        return base
    settings = core.SolverSettings(name=solver.name, time_limit_s=share,
                                   rel_gap=solver.rel_gap, threads=solver.threads,
                                   max_nodes=RELAXED_NODES)
    try:
        with quiet():
            sol = core.optimise(smaller, settings)
    except core.CoreError as e:
        log.warning("target cost %s: the solve without it failed: %s", key, e)
        return base
    first = sol.stages[0][1]
    got = replace(base, status=sol.status, without_cost=sol.cost, without_bound=first.bound,
                  without_new=int((sol.open[tier] & ~smaller.tier(tier).existing).sum()),
                  gap=sol.avoidable_gap, seconds=sum(o.seconds for _, o in sol.stages))
    log.info("target cost %s: %s without it (%s, avoidable gap %s); it adds %s and %d new "
             "%s sites", key, f"{sol.cost:,.0f}", sol.status,
             "n/a" if got.gap is None else f"{100 * got.gap:.3g}%",
             f"{got.extra_cost or 0:,.0f}", got.extra_sites, tier)
    return got
