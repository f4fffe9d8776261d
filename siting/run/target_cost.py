"""What a plan target costs: the same problem solved again without it.

For a compartment target (the plan's 2.5 million 智能收投终端, a lower bound on the
compartments open in a capacitated tier) the run's problem is solved a second time with the
bound removed — the banks sized to the parcel demand alone — and the two plans' costs are
compared. Both are the solver's plans with their proven gaps; the second one's gap is
reported with it, so a difference smaller than the gaps reads as "about nothing".
"""

from __future__ import annotations

import logging
from dataclasses import replace

import numpy as np

from siting import core
from siting.run.results import CompartmentCost

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
        without = core.optimise(alone, settings)
        cap = np.where(t.existing, t.existing_capacity if t.existing_capacity is not None
                       else 0.0, without.capacity.get(t.name, 0.0))
        out.append(CompartmentCost(f"{t.name}_compartments", solution.cost, without.cost,
                              without.avoidable_gap, float(cap[without.open[t.name]].sum())))
        log.info("target cost %s: %s with the target, %s sized to demand alone (%s more)",
                 t.name, f"{solution.cost:,.0f}", f"{without.cost:,.0f}",
                 f"{solution.cost - without.cost:,.0f}")
    return out
