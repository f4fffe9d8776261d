r"""The forced cost: what every feasible plan pays, whatever the solver decides.

The count targets fix most of a county's cost before any decision: 中牟县 needs at least
1,102 community points, so at least 890 new ones at 80,000 each. A gap stated over the
total reads far better than the gap over the cost that decisions can change, so the run
states both (:func:`avoidable_gap`).

The bound
---------
For tier :math:`t` let :math:`N_t` be its new allowed sites, :math:`F_t \subseteq N_t` the
sites the reductions forced open, and :math:`c_{tj}` a new site's cheapest cost (site plus
the smallest bank of a capacitated tier). Co-location saves :math:`\delta` at a site open in
both tiers :math:`a, b`, so one site's cost is at least :math:`c_{aj} x_{aj} + (c_{bj} -
\delta) x_{bj}`: the saving is charged to one tier (the one new at the site), giving
modified costs :math:`c'`. With :math:`c' = c'^- + c'^+` (negative and positive parts), any
feasible plan :math:`S_t` of the tier pays

.. math::

    \sum_{j \in S_t} c'_{tj} \ge \sum_{j \in N_t} c'^-_{tj} + \sum_{j \in F_t} c'^+_{tj} +
    \max\Big(\underbrace{\textstyle\sum_{k \text{ cheapest of } N_t \setminus F_t} c'^+}_{
    \text{count: } k = N^{\min}_t - |E_t| - |F_t|},\;
    \underbrace{\textstyle\sum_{i \in P} \min_{j \in A_i} c'^+_{tj}}_{\text{disjoint rows}}\Big)

where :math:`P` is a set of cover rows not yet met by an existing or forced site whose sites
are pairwise disjoint (each needs its own new site: townships are disjoint polygons). The
forced cost is the larger of the two charges' sums over the tiers. It is a valid lower bound
on every feasible plan's cost, so :math:`\text{objective} - \text{bound} \le \text{objective}
- \text{forced}` and the avoidable gap is well defined.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from siting.core.model import Problem, TierData


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
    """The forced cost of a problem, by tier."""

    total: float
    parts: tuple[ForcedPart, ...]


def forced_cost(problem: Problem) -> Forced:
    """The forced cost of ``problem`` (see the module docstring); 0 unless ``min_cost``."""
    if problem.objective != "min_cost":
        return Forced(0.0, ())
    best: Forced | None = None
    for charge in _charges(problem):
        parts = tuple(_tier_part(t, charge.get(t.name)) for t in problem.tiers)
        got = Forced(float(sum(p.cost for p in parts)), parts)
        if best is None or got.total > best.total:
            best = got
    assert best is not None
    return best


def avoidable_gap(objective: float, bound: float, forced: float) -> float:
    """(objective − bound) / (objective − forced); 0 when nothing is avoidable."""
    avoidable = objective - forced
    diff = max(0.0, objective - bound)
    if avoidable <= 1e-9 * max(1.0, abs(objective)):
        return 0.0
    return diff / avoidable


def _charges(problem: Problem) -> list[dict[str, np.ndarray]]:
    """Per attribution of the co-location saving: tier -> (n,) saving charged to its sites."""
    if problem.colocation is None or problem.colocation[2] <= 0:
        return [{}]
    a, b, saving = problem.colocation
    names = {t.name for t in problem.tiers}
    if a not in names or b not in names:
        return [{}]
    ta, tb = problem.tier(a), problem.tier(b)
    both = ta.allowed & tb.allowed & ~(ta.existing & tb.existing)
    out = []
    for first, second in ((ta, tb), (tb, ta)):
        on_first = both & ~first.existing          # the first tier is new there: it pays
        on_second = both & first.existing          # else the second one, new there, does
        out.append({first.name: np.where(on_first, saving, 0.0),
                    second.name: np.where(on_second, saving, 0.0)})
    return out


def _tier_part(t: TierData, charge: np.ndarray | None) -> ForcedPart:
    new = np.isfinite(t.cost) & ~t.existing
    unit = np.where(new, t.cost, 0.0) + (min(c for _, c in t.sizes) if t.sizes else 0.0)
    if charge is not None:
        unit = unit - charge
    unit = np.where(new, unit, 0.0)
    neg, pos = np.minimum(unit, 0.0), np.maximum(unit, 0.0)
    fixed = new & (t.fixed if t.fixed is not None else False)
    rest = new & ~fixed
    k = max(0, t.min_count - int(t.existing.sum()) - int(fixed.sum()))
    cheapest = np.sort(pos[rest])
    by_count = float(cheapest[:k].sum()) if k <= len(cheapest) else float(cheapest.sum())
    by_rows, rows = _disjoint_rows(t, pos, fixed)
    cost = float(neg.sum() + pos[fixed].sum() + max(by_count, by_rows))
    return ForcedPart(t.name, cost, k if by_count >= by_rows else 0,
                      rows if by_rows > by_count else 0, int(fixed.sum()))


def _disjoint_rows(t: TierData, pos: np.ndarray, fixed: np.ndarray) -> tuple[float, int]:
    """Σ cheapest site of pairwise site-disjoint cover rows no existing or fixed site meets."""
    if t.cover is None:
        return 0.0, 0
    m = sp.csr_array(t.cover)
    allowed = t.allowed
    met = m @ (t.existing | fixed).astype(np.int8) > 0
    used = np.zeros(len(t.cost), dtype=bool)
    rows: list[tuple[float, np.ndarray]] = []
    for i in np.flatnonzero(~met):
        sites = m.indices[m.indptr[i]:m.indptr[i + 1]]
        sites = sites[allowed[sites]]
        if len(sites):
            rows.append((float(pos[sites].min()), sites))
    rows.sort(key=lambda r: (-r[0], len(r[1])))
    total, count = 0.0, 0
    for cost, sites in rows:
        if cost <= 0 or used[sites].any():
            continue
        used[sites] = True
        total += cost
        count += 1
    return total, count
