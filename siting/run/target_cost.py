"""What a plan target costs: the same problem solved again without it.

For a compartment target (the plan's 2.5 million 智能收投终端, a lower bound on the
compartments open in a capacitated tier) the run's problem is solved a second time with the
bound removed — the banks sized to the parcel demand alone — and the two plans' costs are
compared. Both are the solver's plans with their proven bounds, so the cost is stated with
its range: at least ``plan bound − cost without``, at most ``plan cost − bound without``.

The second solve prices the target; it does not make the plan. Like the other targets'
prices (:mod:`siting.run.target_costs`) it stops after ``RELAXED_NODES`` branch-and-bound
nodes or at what is left of the user's time limit, whichever comes first, and its range says
how far that leaves it from exact. (In ``make city`` the plan with each county's share of the
2.5 million compartments closes in about a second; solved to the full limit, the plan
without it took 234 s of 中牟县's 254.)
"""

from __future__ import annotations

import logging
from dataclasses import replace

import numpy as np

from siting import core
from siting.run.results import CompartmentCost
from siting.run.target_costs import RELAXED_NODES

log = logging.getLogger(__name__)


def of_targets(problem: core.Problem, solution: core.Solution,
               settings: core.SolverSettings) -> list[CompartmentCost]:
    """Each compartment target's cost against the same problem solved without it."""
    out = []
    for t in problem.tiers:
        if t.capacity_target <= 0:
            continue
        alone = replace(problem, tiers=tuple(replace(u, min_capacity=0.0) if u.name == t.name
                                             else u for u in problem.tiers))
        without = core.optimise(alone, replace(settings, max_nodes=RELAXED_NODES))
        cap = np.where(t.existing, t.existing_capacity if t.existing_capacity is not None
                       else 0.0, without.capacity.get(t.name, 0.0))
        out.append(CompartmentCost(f"{t.name}_compartments", solution.cost, without.cost,
                                   without.avoidable_gap, float(cap[without.open[t.name]].sum()),
                                   with_bound=_bound(solution), without_bound=_bound(without)))
        log.info("target cost %s: %s with the target, %s sized to demand alone (%s more)",
                 t.name, f"{solution.cost:,.0f}", f"{without.cost:,.0f}",
                 f"{solution.cost - without.cost:,.0f}")
    return out


def _bound(sol: core.Solution) -> float:
    """The proven lower bound of a plan's cost (its cost when no bound was read)."""
    bound = sol.stages[0][1].bound
    return sol.cost if bound is None else min(sol.cost, bound)
