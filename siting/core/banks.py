r"""A capacitated tier alone, with its interchangeable sites merged: exact and fast.

The locker tier is a capacitated cover with bank sizes. Within one tier, what a site can do
depends only on the demand rows it reaches, its cost and whether it is forced open; sites
alike in all three are interchangeable. The site-by-site model lets the solver branch on
every permutation of them (a 39-site piece of 中牟县 did not close in 200 nodes). Here each
*class* :math:`c` of alike new sites (:math:`m_c` of them, row set :math:`R_c`, cost
:math:`c_c`) gets one integer count per bank size, and existing sites with the same row set
pool their capacity :math:`C^0_c`:

.. math::

    \min \sum_c \sum_s (c_c + c_s)\, n_{cs} \quad\text{s.t.}\quad
    \sum_s n_{cs} &\le m_c \;(= m_c \text{ if forced}), \quad n_{cs} \in \mathbb{Z}_{\ge 0} \\
    \sum_{c \ni i} \sum_s n_{cs} &\ge 1 \quad \text{rows no existing site reaches} \\
    \sum_{c \ni i} z_{ic} \ge d_i, \quad \sum_{i \in R_c} z_{ic} &\le C^0_c + \sum_s C_s n_{cs} \\
    z_{ic} &\le \sum_s \min(C_s, d_i)\, n_{cs} \quad \text{(new classes)} \\
    \sum_c \sum_s C_s\, n_{cs} &\ge K - \textstyle\sum_c C^0_c
        \quad \text{(a compartment target } K\text{, when the tier has one)}

The last row is the strong linking of :mod:`siting.core.formulation` tightened per size (a
bank smaller than the row's demand gives it at most its capacity); it is valid because the
counts are integer. A solution is the same as one of the site-by-site model: a class's
counts go to its sites in site order, biggest bank first, so the choice is deterministic,
and the optimum, bound and gap are the solver's for this model.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pulp
import scipy.sparse as sp

from siting.core import solve as solver
from siting.core.problem import Outcome, SolverSettings, TierData, capacity_short
from siting.core.variables import Pairs, expr

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Banks:
    """A capacitated tier solved alone: what the solver proved, and the bank per site."""

    outcome: Outcome
    size: np.ndarray          # (n,) bank size index at each new site, -1 closed or existing
    classes: int              # how many classes of alike sites the model had
    counts: tuple[tuple[float, ...], ...] = ()   # each class's banks per size (a start)


@dataclass(frozen=True)
class _Class:
    sites: np.ndarray         # the class's sites, in site order
    rows: np.ndarray          # the demand rows (positions in ``t.demand``) it reaches
    cost: float               # a new site's cost (0 for a pool of existing sites)
    fixed: bool               # forced open
    capacity: float           # existing sites: their pooled capacity; new: 0
    existing: bool            # a pool of existing sites (no counts)


def solve_tier(t: TierData, settings: SolverSettings, *,
               start: Banks | None = None) -> Banks | None:
    """Solve the capacitated tier ``t`` alone (its cover rows are its demand rows).

    ``start``: an earlier solve of the same ``t`` whose plan the solver starts from (its
    classes are the same, being ``t``'s). Returns None when some row cannot be served in
    full by every bank within reach (the site-by-site model, with its shortfall variables,
    handles that case).
    """
    assert t.capacitated and t.demand is not None
    if len(capacity_short(t)):
        return None
    rows = t.demand_cover()
    classes = _classes(t, rows)
    lp = pulp.LpProblem(f"banks_{t.name}", pulp.LpMinimize)
    counts = [_counts(lp, t, k, c) for k, c in enumerate(classes)]
    lp.setObjective(expr([(n, c.cost + cs) for c, ns in zip(classes, counts, strict=True)
                          for n, (_, cs) in zip(ns, t.sizes, strict=False)]))
    _add_rows(lp, t, classes, counts)
    _add_dominance(lp, classes, counts)
    if t.capacity_target > 0:
        lp += expr([(n, cs) for ns in counts for n, (cs, _) in zip(ns, t.sizes, strict=False)]) \
            >= t.capacity_target, "capacity_target"
    warm = ([(n, x) for ns, xs in zip(counts, start.counts, strict=True)
             for n, x in zip(ns, xs, strict=True)] if start is not None and start.counts
            else None)
    out = solver.run(lp, settings, warm=warm)
    if not out.has_solution:
        return Banks(out, np.full(len(t.cost), -1, np.int64), len(classes))
    values = tuple(tuple(float(round(n.varValue or 0.0)) for n in ns) for ns in counts)
    return Banks(out, _sizes(t, classes, counts), len(classes), values)


def _classes(t: TierData, rows: sp.csr_array) -> list[_Class]:
    """Sites grouped by (row set, cost, forced), in order of their first site."""
    by_site = sp.csc_array(rows)
    fixed = t.fixed if t.fixed is not None else np.zeros(len(t.cost), dtype=bool)
    cap0 = t.existing_capacity if t.existing_capacity is not None else np.zeros(len(t.cost))
    groups: dict[tuple[tuple[int, ...], bool, float, bool], list[int]] = {}
    for j in np.flatnonzero(t.allowed).tolist():
        reached = by_site.indices[by_site.indptr[j]:by_site.indptr[j + 1]]
        if len(reached) == 0:
            continue
        key = (tuple(sorted(reached.tolist())), bool(t.existing[j]),
               0.0 if t.existing[j] else float(t.cost[j]), bool(fixed[j]))
        groups.setdefault(key, []).append(j)
    out = []
    for (reached, existing, cost, is_fixed), js in groups.items():
        sites = np.array(js, np.int64)
        out.append(_Class(sites, np.array(reached, np.int64), cost, is_fixed,
                          float(cap0[sites].sum()) if existing else 0.0, existing))
    return out


def _counts(lp: pulp.LpProblem, t: TierData, k: int, c: _Class) -> list[pulp.LpVariable]:
    """A class's bank counts per size (none for a pool of existing sites)."""
    if c.existing:
        return []
    m = len(c.sites)
    ns = [lp.add_variable(f"n_{k}_s{s}", 0, m, pulp.LpInteger) for s in range(len(t.sizes))]
    total = expr([(n, 1.0) for n in ns])
    lp += (total == m if c.fixed else total <= m), f"sites_{k}"
    return ns


def _add_rows(lp: pulp.LpProblem, t: TierData, classes: list[_Class],
              counts: list[list[pulp.LpVariable]]) -> None:
    """Cover, demand, capacity and linking rows (see the module docstring)."""
    assert t.demand is not None
    at_row: dict[int, list[int]] = {}
    for k, c in enumerate(classes):
        for i in c.rows.tolist():
            at_row.setdefault(i, []).append(k)
    load: dict[int, Pairs] = {}
    for i, ks in sorted(at_row.items()):
        d = float(t.demand[i])
        if not any(classes[k].existing for k in ks):
            lp += expr([(n, 1.0) for k in ks for n in counts[k]]) >= 1, f"cover_{i}"
        if d <= 0:
            continue
        zs = []
        for k in ks:
            z = lp.add_variable(f"z_{i}_{k}", 0, d)
            zs.append((z, 1.0))
            load.setdefault(k, []).append((z, 1.0))
            if counts[k]:
                lp += expr([(z, 1.0)] + [(n, -min(cs, d)) for n, (cs, _) in
                                         zip(counts[k], t.sizes, strict=False)]) <= 0, \
                    f"link_{i}_{k}"
        lp += expr(zs) >= d, f"demand_{i}"
        _add_rounding_cuts(lp, t, classes, counts, i, ks, d)
    for k, zs_k in sorted(load.items()):
        c = classes[k]
        lp += expr(zs_k + [(n, -cs) for n, (cs, _) in zip(counts[k], t.sizes, strict=False)]) \
            <= c.capacity, f"capacity_{k}"


def _add_rounding_cuts(lp: pulp.LpProblem, t: TierData, classes: list[_Class],
                       counts: list[list[pulp.LpVariable]], i: int, ks: list[int],
                       d: float) -> None:
    r"""Row ``i``'s demand in whole banks: one Chvátal–Gomory rounding per bank capacity.

    The banks reaching row ``i`` give it at most :math:`a_s = \min(C_s, d_i)` each, so
    :math:`\sum_{c \ni i} \sum_s a_s n_{cs} \ge b_i`, with :math:`b_i` the demand less what
    the existing pools within reach can give it. Divided by any :math:`\delta > 0` and
    rounded up on both sides, :math:`\sum \lceil a_s/\delta \rceil n_{cs} \ge
    \lceil b_i/\delta \rceil` holds for integer counts; for :math:`\delta` each :math:`a_s`
    below :math:`b_i` it cuts off the relaxation's fractional big bank (a row of 130 served
    by 130/240 of a 240-bank needs three 60-banks' worth of rounded capacity).
    """
    b = d - sum(min(classes[k].capacity, d) for k in ks if classes[k].existing)
    if b <= 1e-9:
        return
    reach = [min(cs, d) for cs, _ in t.sizes]
    for delta in sorted({a for a in reach if a < b - 1e-9}):
        terms = [(n, float(np.ceil(a / delta - 1e-9))) for k in ks
                 for n, a in zip(counts[k], reach, strict=False)]
        lp += expr(terms) >= float(np.ceil(b / delta - 1e-9)), f"round_{i}_{int(delta)}"


def _add_dominance(lp: pulp.LpProblem, classes: list[_Class],
                   counts: list[list[pulp.LpVariable]]) -> None:
    r"""A class used only once every class that does better is full.

    Class :math:`A` dominates class :math:`B` (not forced) when it reaches every row
    :math:`B` reaches at no more cost per site, and more rows or less cost. A bank at a
    :math:`B` site moves, with what it serves, to a free :math:`A` site: the plan stays
    feasible and costs no more, and it reaches more rows or costs less. So among the
    optimal plans, one reaching most rows (summed over banks) has every :math:`A` full
    wherever :math:`B` is used: :math:`m_A N_B \le m_B N_A` with :math:`N_c = \sum_s n_{cs}`
    holds for every such pair at once and keeps an optimum. Only the nearest dominators
    are linked; the rest follow by the chain :math:`N_C/m_C \le N_B/m_B \le N_A/m_A`.
    """
    new = [k for k, c in enumerate(classes) if counts[k]]
    rows = {k: frozenset(classes[k].rows.tolist()) for k in new}
    over: dict[int, list[int]] = {}
    for b in new:
        if classes[b].fixed:
            continue
        over[b] = [a for a in new if a != b and _dominates(classes[a], rows[a],
                                                           classes[b], rows[b])]
    for b, above in over.items():
        nearest = [a for a in above if not any(a in over.get(c, ()) for c in above)]
        for a in nearest:
            m_a, m_b = len(classes[a].sites), len(classes[b].sites)
            lp += expr([(n, float(m_a)) for n in counts[b]]
                       + [(n, -float(m_b)) for n in counts[a]]) <= 0, f"dominance_{a}_{b}"


def _dominates(a: _Class, rows_a: frozenset[int], b: _Class, rows_b: frozenset[int]) -> bool:
    """Whether class ``a`` reaches all of ``b``'s rows at no more cost, and is better."""
    return (a.cost <= b.cost and rows_b <= rows_a
            and (a.cost < b.cost or len(rows_a) > len(rows_b)))


def _sizes(t: TierData, classes: list[_Class], counts: list[list[pulp.LpVariable]],
           ) -> np.ndarray:
    """Each class's counts onto its sites in site order, biggest bank first."""
    size = np.full(len(t.cost), -1, np.int64)
    order = sorted(range(len(t.sizes)), key=lambda s: -t.sizes[s][0])
    for c, ns in zip(classes, counts, strict=True):
        if not ns:
            continue
        picks = [s for s in order for _ in range(round(float(ns[s].varValue or 0.0)))]
        size[c.sites[:len(picks)]] = picks
    return size
