"""What each new site costs, split as the model prices it: site, bank, co-location saving.

The same sum as :func:`siting.core.problem.cost_of`: a new site costs its tier's ``cost``
(site preparation), a new locker bank also its size's ``cost``, and a site that hosts both
co-location tiers, not both already open, saves ``[colocation] saving`` once. The saving is
put on the row of the new facility (the first tier's when both are new), so that the rows of
``sites.csv`` add up to the report's total cost.
"""

from __future__ import annotations

import numpy as np

from siting import core
from siting.config.scenario import Scenario
from siting.run.results import SiteCosts, Sites, TierRun


def of_sites(scenario: Scenario, sites: Sites, tiers: dict[str, TierRun],
             solution: core.Solution) -> dict[str, SiteCosts]:
    """Every tier's :class:`SiteCosts`, by site."""
    out = {}
    for name, tr in tiers.items():
        new = solution.open[name] & ~sites.existing[name]
        bank = np.zeros(len(sites))
        if tr.config.sizes and name in solution.size:
            price = np.array([b.cost for b in tr.config.sizes], dtype=float)
            size = solution.size[name]
            has = new & (size >= 0)
            bank[has] = price[size[has]]
        out[name] = SiteCosts(site=np.where(new, float(tr.config.cost), 0.0), bank=bank,
                              colocation_saving=np.zeros(len(sites)))
    return _with_saving(scenario, sites, tiers, solution, out)


def _with_saving(scenario: Scenario, sites: Sites, tiers: dict[str, TierRun],
                 solution: core.Solution, out: dict[str, SiteCosts]) -> dict[str, SiteCosts]:
    coloc = scenario.colocation
    if coloc is None or coloc.saving <= 0 or not all(t in tiers for t in coloc.tiers):
        return out
    a, b = coloc.tiers
    both = solution.open[a] & solution.open[b] & ~(sites.existing[a] & sites.existing[b])
    on_a = both & ~sites.existing[a]
    out[a].colocation_saving[on_a] = coloc.saving
    out[b].colocation_saving[both & ~on_a] = coloc.saving
    return out
