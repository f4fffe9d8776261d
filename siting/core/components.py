"""Independent pieces of a tier: split, solved alone, and turned into bounds for the whole.

A tier's cover rows and sites form a bipartite graph; its connected components share no
row and no site. For a capacitated tier (locker banks of several sizes) the whole model is
hard mostly because every area is a small knapsack the LP relaxation cannot see; each
component alone is tiny and solves to optimality at once. Its proven optimum is a valid
lower bound on what the tier must spend on that component's sites in any solution, so

    Σ (cost of the tier's banks at the component's sites) ≥ LB(component)

is added to the full model (a "component bound" cut), and the components' solutions
together give the solver its starting point for the tier. The cut keeps every optimal
solution of the full model (co-location savings are separate terms, not bank costs).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import scipy.sparse as sp
from scipy.sparse import csgraph

from siting.core.problem import Problem, Solution, TierData

log = logging.getLogger(__name__)

PIECES_NODES = 5_000    # branch-and-bound nodes for all the pieces of a tier together

Cuts = dict[str, list[tuple[np.ndarray, float]]]


def split(m: sp.csr_array, allowed: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """(rows, sites) of each connected component of rows linked through allowed sites."""
    m = sp.csr_array(m)
    n_rows, n_sites = m.shape
    keep = allowed[m.indices]
    r = np.repeat(np.arange(n_rows), np.diff(m.indptr))[keep]
    c = m.indices[keep]
    g = sp.coo_array((np.ones(len(r)), (r, n_rows + c)), shape=(n_rows + n_sites,) * 2)
    _, label = csgraph.connected_components(g, directed=False)
    used_sites = np.unique(c)
    out = []
    row_label = label[:n_rows]
    site_label = label[n_rows + used_sites]
    for lab in np.unique(row_label):
        rows = np.flatnonzero(row_label == lab)
        sites = used_sites[site_label == lab]
        if len(sites):
            out.append((rows, sites))
    return out


def capacity_bounds(problem: Problem, solve: Callable[[Problem], Solution], *,
                    nodes: int = PIECES_NODES, late: Callable[[], bool] | None = None,
                    ) -> tuple[Cuts, dict[str, np.ndarray]]:
    """Component bounds and starting choices of the capacitated tiers.

    Per tier: (sites, lower bound on their bank cost) for each component solved, and the
    components' optimal bank sizes (-1 closed) as a starting choice when all were solved.
    ``solve`` solves one piece (a one-tier problem); the pieces are solved smallest first
    until they have used ``nodes`` branch-and-bound nodes together (a budget that, unlike a
    clock, gives the same pieces on every run), or until ``late()`` says the user's time
    limit has passed.
    """
    cuts: Cuts = {}
    starts: dict[str, np.ndarray] = {}
    if problem.objective != "min_cost":
        return cuts, starts
    for t in problem.tiers:
        if not t.capacitated or t.cover is None:
            continue
        found, choice, complete = _tier_bounds(t, solve, nodes, late)
        cuts[t.name] = found
        if complete:
            starts[t.name] = choice    # a complete start only when every piece was solved
        log.info("components %s: %d pieces solved alone; bound %s", t.name, len(found),
                 f"{sum(b for _, b in found):,.0f}")
    return cuts, starts


def _tier_bounds(t: TierData, solve: Callable[[Problem], Solution], nodes: int,
                 late: Callable[[], bool] | None,
                 ) -> tuple[list[tuple[np.ndarray, float]], np.ndarray, bool]:
    """The bounds of one tier's pieces, their choice, and whether every piece gave one."""
    rows_all = t.demand_cover()
    choice = np.where(t.existing, 0, -1).astype(np.int64)
    found = []
    pieces = split(rows_all, t.allowed)
    pieces.sort(key=lambda p: len(p[1]))          # small pieces first: fast and many
    used = 0
    for rows, sites in pieces:
        if used >= nodes or (late is not None and late()):
            break
        sol = solve(Problem(len(t.cost), (piece(t, rows_all, rows, sites),)))
        used += sum(o.nodes or 0 for _, o in sol.stages)
        bound = sol.stages[0][1].bound
        new_sites = sites[~t.existing[sites]]
        if sol.short.get(t.name):          # cannot be served in full: no valid bound
            continue
        if bound is not None and bound > 0 and len(new_sites):
            found.append((new_sites, float(bound)))
        mine = np.isin(np.arange(len(t.cost)), new_sites) & sol.open[t.name]
        choice[mine] = sol.size[t.name][mine]
    return found, choice, len(found) == len(pieces)


def piece(t: TierData, rows_all: sp.csr_array, rows: np.ndarray,
          sites: np.ndarray) -> TierData:
    """The tier restricted to one component's rows and sites, without counts."""
    mask = np.zeros(len(t.cost), dtype=bool)
    mask[sites] = True
    assert t.demand is not None
    return replace(t, cost=np.where(mask, t.cost, np.inf), existing=t.existing & mask,
                   cover=rows_all[rows], demand=t.demand[rows], demand_rows=None, reach=None,
                   weight=None,
                   min_count=0, max_count=None, min_capacity=0.0,
                   fixed=None if t.fixed is None else t.fixed & mask)
