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

The linking row is the strong linking of :mod:`siting.core.formulation` tightened per size
(a bank smaller than the row's demand gives it at most its capacity); it is valid because the
counts are integer. The relaxation still spreads fractions of the cheapest banks over the
rows, so each of some row sets :math:`S` (every row, every class's rows, every two rows a
class reaches, every row with the rows sharing a class with it, and all the rows) gets its
demand in whole banks. A bank of class :math:`c`, size :math:`s` gives :math:`S` at most
:math:`a_{cs} = \min(C_s, d(S \cap R_c))` and a pool at most :math:`\min(C^0_c, d(S \cap
R_c))`; with :math:`b_S` the demand of :math:`S` less the pools' share and :math:`c \sim S`
the new classes reaching :math:`S`:

.. math::

    \sum_{c \sim S} \sum_s \lceil a_{cs}/\delta \rceil\, n_{cs} &\ge \lceil b_S/\delta \rceil
        \quad (\delta = C_s < b_S) \\
    \sum_{c \sim S} \sum_s (c_c + c_s)\, n_{cs} &\ge L_S = \min \Big\{ \sum (c_c + c_s)\,
        n_{cs} : \sum \lceil a_{cs} \rceil n_{cs} \ge b_S,\; n_{cs} \in \{0, \dots, m_c\}
        \Big\}

The first is :math:`\sum a_{cs} n_{cs} \ge b_S` divided by :math:`\delta` and rounded up
(Chvátal–Gomory), the second the least cost of banks that can give :math:`S` its demand (a
small knapsack solved exactly): the banks reaching :math:`S` in any plan are such a choice.
Both hold for every integer plan. A solution is the same as one of the site-by-site model: a class's
counts go to its sites in site order, biggest bank first, so the choice is deterministic,
and the optimum, bound and gap are the solver's for this model.

A run solves the same piece more than once: a target's price without another tier's target
leaves the locker pieces as they were. A solve that the user's clock did not stop is kept,
by the digest of its data and settings (:data:`KEPT` of them, the oldest dropped first),
and returned again with its time as 0 s: the same model and settings give the same answer.
"""

from __future__ import annotations

import hashlib
import logging
from collections import OrderedDict
from dataclasses import dataclass, replace

import numpy as np
import pulp
import scipy.sparse as sp

from siting.core import solve as solver
from siting.core.problem import Outcome, SolverSettings, TierData, capacity_short
from siting.core.variables import Pairs, expr

log = logging.getLogger(__name__)

KEPT = 256                # solves kept for the same piece asked again
_kept: OrderedDict[bytes, Banks] = OrderedDict()


@dataclass(frozen=True)
class Banks:
    """A capacitated tier solved alone: what the solver proved, and the bank per site."""

    outcome: Outcome
    size: np.ndarray          # (n,) bank size index at each new site, -1 closed or existing
    classes: int              # how many classes of alike sites the model had
    counts: tuple[tuple[float, ...], ...] = ()   # each class's banks per size (a start)
    flows: tuple[tuple[int, int, float], ...] = ()   # (row, class, z > 0) of the plan


@dataclass(frozen=True)
class BankClass:
    """Alike sites of a capacitated tier: one count per bank size (or a pool of existing)."""

    sites: np.ndarray         # the class's sites, in site order
    rows: np.ndarray          # the demand rows (positions in ``t.demand``) it reaches
    cost: float               # a new site's cost (0 for a pool of existing sites)
    fixed: bool               # forced open
    capacity: float           # existing sites: their pooled capacity; new: 0
    existing: bool            # a pool of existing sites (no counts)


@dataclass(frozen=True)
class Model:
    """The merged model of some classes: its counts per class and size, its flows."""

    lp: pulp.LpProblem
    counts: list[list[pulp.LpVariable]]          # per class, one count per bank size
    flows: dict[tuple[int, int], pulp.LpVariable]   # (row, class) -> z

    def values(self) -> tuple[tuple[float, ...], ...]:
        """Each class's solved counts, rounded."""
        return tuple(tuple(float(round(n.varValue or 0.0)) for n in ns) for ns in self.counts)

    def flow_values(self) -> tuple[tuple[int, int, float], ...]:
        """The solved flows above zero, by row and class."""
        return tuple((i, k, float(z.varValue)) for (i, k), z in sorted(self.flows.items())
                     if (z.varValue or 0.0) > 1e-9)


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
    key = None if start is not None else _digest(t, settings)
    if key is not None and key in _kept:
        _kept.move_to_end(key)
        got = _kept[key]
        log.debug("banks %s: the same piece solved before, %s", t.name, got.outcome.status)
        return replace(got, outcome=replace(got.outcome, seconds=0.0))
    got = _solve(t, settings, start)
    if key is not None and solver.time_left(settings) > 0:
        _kept[key] = got
        if len(_kept) > KEPT:
            _kept.popitem(last=False)
    return got


def _solve(t: TierData, settings: SolverSettings, start: Banks | None) -> Banks:
    classes = classes_of(t)
    model = build(t, classes, target=t.capacity_target)
    warm = ([(n, x) for ns, xs in zip(model.counts, start.counts, strict=True)
             for n, x in zip(ns, xs, strict=True)] if start is not None and start.counts
            else None)
    out = solver.run(model.lp, settings, warm=warm)
    if not out.has_solution:
        return Banks(out, np.full(len(t.cost), -1, np.int64), len(classes))
    values = model.values()
    return Banks(out, sizes(t, classes, values), len(classes), values, model.flow_values())


def build(t: TierData, classes: list[BankClass], *, target: float = 0.0) -> Model:
    """The merged model of ``classes`` (see the module docstring), rows of ``t.demand``.

    ``target``: capacity the new banks must add (a compartment target), 0 for none.
    """
    lp = pulp.LpProblem(f"banks_{t.name}", pulp.LpMinimize)
    counts = [_counts(lp, t, k, c) for k, c in enumerate(classes)]
    lp.setObjective(expr([(n, c.cost + cs) for c, ns in zip(classes, counts, strict=True)
                          for n, (_, cs) in zip(ns, t.sizes, strict=False)]))
    flows = _add_rows(lp, t, classes, counts)
    _add_rounding_cuts(lp, t, classes, counts)
    _add_dominance(lp, classes, counts)
    if target > 0:
        lp += expr([(n, cs) for ns in counts for n, (cs, _) in zip(ns, t.sizes, strict=False)]) \
            >= target, "capacity_target"
    return Model(lp, counts, flows)


def _digest(t: TierData, settings: SolverSettings) -> bytes:
    """What decides a solve of ``t``: its arrays and the settings but the clock."""
    h = hashlib.blake2b(digest_size=20)
    h.update(repr((t.name, t.min_count, t.max_count, t.sizes, t.min_capacity, settings.name,
                   settings.rel_gap, settings.abs_gap, settings.threads, settings.max_nodes,
                   settings.seed)).encode())
    for a in (t.cost, t.existing, t.demand, t.existing_capacity, t.fixed, t.demand_rows):
        h.update(b"-" if a is None else np.ascontiguousarray(a).tobytes())
    for m in (t.cover, t.reach):
        if m is not None:
            m = sp.csr_array(m)
            h.update(repr(m.shape).encode())
            for a in (m.indptr, m.indices, m.data):
                h.update(np.ascontiguousarray(a).tobytes())
    return h.digest()


def classes_of(t: TierData) -> list[BankClass]:
    """Sites grouped by (row set, cost, forced), in order of their first site."""
    by_site = sp.csc_array(t.demand_cover())
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
        out.append(BankClass(sites, np.array(reached, np.int64), cost, is_fixed,
                          float(cap0[sites].sum()) if existing else 0.0, existing))
    return out


def _counts(lp: pulp.LpProblem, t: TierData, k: int, c: BankClass) -> list[pulp.LpVariable]:
    """A class's bank counts per size (none for a pool of existing sites)."""
    if c.existing:
        return []
    m = len(c.sites)
    ns = [lp.add_variable(f"n_{k}_s{s}", 0, m, pulp.LpInteger) for s in range(len(t.sizes))]
    total = expr([(n, 1.0) for n in ns])
    lp += (total == m if c.fixed else total <= m), f"sites_{k}"
    return ns


def _add_rows(lp: pulp.LpProblem, t: TierData, classes: list[BankClass],
              counts: list[list[pulp.LpVariable]]) -> dict[tuple[int, int], pulp.LpVariable]:
    """Cover, demand, capacity and linking rows (see the module docstring); the flows."""
    assert t.demand is not None
    load: dict[int, Pairs] = {}
    flows: dict[tuple[int, int], pulp.LpVariable] = {}
    for i, ks in sorted(at_rows(classes).items()):
        d = float(t.demand[i])
        if not any(classes[k].existing for k in ks):
            lp += expr([(n, 1.0) for k in ks for n in counts[k]]) >= 1, f"cover_{i}"
        if d <= 0:
            continue
        zs = []
        for k in ks:
            z = flows[i, k] = lp.add_variable(f"z_{i}_{k}", 0, d)
            zs.append((z, 1.0))
            load.setdefault(k, []).append((z, 1.0))
            if counts[k]:
                lp += expr([(z, 1.0)] + [(n, -min(cs, d)) for n, (cs, _) in
                                         zip(counts[k], t.sizes, strict=False)]) <= 0, \
                    f"link_{i}_{k}"
        lp += expr(zs) >= d, f"demand_{i}"
    for k, zs_k in sorted(load.items()):
        c = classes[k]
        lp += expr(zs_k + [(n, -cs) for n, (cs, _) in zip(counts[k], t.sizes, strict=False)]) \
            <= c.capacity, f"capacity_{k}"
    return flows


def _row_sets(classes: list[BankClass]) -> list[tuple[int, ...]]:
    """The row sets given their demand in whole banks (see the module docstring)."""
    near: dict[int, set[int]] = {}
    for c in classes:
        for i in c.rows.tolist():
            near.setdefault(i, set()).update(c.rows.tolist())
    sets: set[tuple[int, ...]] = {(i,) for i in near}
    sets.update(tuple(c.rows.tolist()) for c in classes)
    sets.update((i, j) for i, js in near.items() for j in js if i < j)
    sets.update(tuple(sorted(js)) for js in near.values())
    sets.add(tuple(sorted(near)))
    return sorted(sets, key=lambda rows: (len(rows), rows))


def _add_rounding_cuts(lp: pulp.LpProblem, t: TierData, classes: list[BankClass],
                       counts: list[list[pulp.LpVariable]]) -> None:
    r"""Each row set's demand in whole banks: rounded capacities and a least cost.

    A row of 130 served by 130/240 of a 240-bank needs three 60-banks' worth of rounded
    capacity (:math:`\delta = 60`), and 300 needs a 240 and a 60 (95) where the relaxation
    pays 1.25 of a 240 (88): see the module docstring for the rows and why they are valid.
    """
    at_row = at_rows(classes)
    for q, rows in enumerate(_row_sets(classes)):
        b, near = _need(t, classes, at_row, rows)
        kinds = [(counts[k][s], a, cost, m) for k, s, a, cost, m in near]
        if b <= 1e-9 or not kinds:     # no new bank within reach: the model says infeasible
            continue
        for delta in sorted({cs for cs, _ in t.sizes if cs < b - 1e-9}):
            lp += expr([(n, float(np.ceil(a / delta - 1e-9))) for n, a, _, _ in kinds]) \
                >= float(np.ceil(b / delta - 1e-9)), f"round_{q}_{int(delta)}"
        low = _least_cost([(a, cost, m) for _, a, cost, m in kinds], b)
        if np.isfinite(low):
            lp += expr([(n, cost) for n, _, cost, _ in kinds]) >= low, f"least_{q}"


def at_rows(classes: list[BankClass]) -> dict[int, list[int]]:
    """Demand row -> the classes reaching it."""
    at_row: dict[int, list[int]] = {}
    for k, c in enumerate(classes):
        for i in c.rows.tolist():
            at_row.setdefault(i, []).append(k)
    return at_row


def _need(t: TierData, classes: list[BankClass], at_row: dict[int, list[int]],
          rows: tuple[int, ...] | list[int],
          ) -> tuple[float, list[tuple[int, int, float, float, int]]]:
    """:math:`b_S`, and the new banks that can serve :math:`S`: (class, size, a, cost, at most)."""
    assert t.demand is not None
    inside = {i: float(t.demand[i]) for i in rows}
    reach: dict[int, float] = {}
    for i in rows:
        for k in at_row[i]:
            reach[k] = reach.get(k, 0.0) + inside[i]
    b = sum(inside.values()) - sum(min(classes[k].capacity, d) for k, d in reach.items()
                                   if classes[k].existing)
    return b, [(k, s, min(cs, d), classes[k].cost + price, len(classes[k].sites))
               for k, d in sorted(reach.items()) if not classes[k].existing
               for s, (cs, price) in enumerate(t.sizes)]


def floor(t: TierData) -> float | None:
    r"""A bound on ``t`` alone found without a solver: weak, but valid (None: infeasible).

    The least cost of whole banks holding the demand of all the rows (:math:`L_S` for the
    set of every row, the module docstring's row), with each class that serves no demand
    row opened in full where it costs less than nothing; with a compartment target, at
    least the least cost of banks adding it. For a piece whose solve the user's clock (or
    a node limit) stopped before the solver found a plan (:mod:`siting.core.decompose`).
    """
    assert t.capacitated
    classes = classes_of(t)
    at_row = at_rows(classes)
    b, near = _need(t, classes, at_row, sorted(at_row))
    low = _least_cost([(a, cost, m) for _, _, a, cost, m in near], b) if b > 1e-9 else 0.0
    if not np.isfinite(low):
        return None
    serving = {k for k, *_ in near}
    low += sum(len(c.sites) * min(0.0, c.cost + min(p for _, p in t.sizes))
               for k, c in enumerate(classes) if not c.existing and k not in serving)
    if t.capacity_target > 0:
        new = [(cs, c.cost + price, len(c.sites)) for c in classes if not c.existing
               for cs, price in t.sizes]
        low = max(low, _least_cost(new, t.capacity_target))
    return float(low) if np.isfinite(low) else None


LEAST_COST_WORK = 2e7      # knapsack cells per row set; coarser capacity units beyond it


def _least_cost(banks: list[tuple[float, float, int]], need: float) -> float:
    """The least cost of whole banks (capacity, cost, at most so many) holding ``need``.

    A 0/1 knapsack by dynamic programming over the capacity held (capped at ``need``), each
    bank kind split into 1, 2, 4, … copies; inf when all of them hold less. Capacities are
    rounded up to whole units (of one compartment, or more when the table would be big): a
    relaxation, so the least cost found is never above the true one.
    """
    unit = max(1.0, float(np.ceil(need * len(banks) * 6 / LEAST_COST_WORK)))
    cells = int(np.ceil(need / unit - 1e-9))
    least = np.full(cells + 1, np.inf)     # least[x]: the least cost holding at least x
    least[0] = 0.0
    held = np.arange(cells + 1)
    for capacity, cost, m in banks:
        a = int(np.ceil(capacity / unit - 1e-9))
        left, copies = (m if cost < 0 or a == 0 else min(m, -(-cells // a))), 1
        while left > 0:
            q = min(copies, left)
            left, copies = left - q, copies * 2
            least = np.minimum(least, least[np.maximum(held - a * q, 0)] + q * cost)
    return float(least[cells])


def _add_dominance(lp: pulp.LpProblem, classes: list[BankClass],
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


def _dominates(a: BankClass, rows_a: frozenset[int], b: BankClass, rows_b: frozenset[int]) -> bool:
    """Whether class ``a`` reaches all of ``b``'s rows at no more cost, and is better."""
    return (a.cost <= b.cost and rows_b <= rows_a
            and (a.cost < b.cost or len(rows_a) > len(rows_b)))


def sizes(t: TierData, classes: list[BankClass], counts: tuple[tuple[float, ...], ...],
          ) -> np.ndarray:
    """Each class's counts onto its sites in site order, biggest bank first."""
    size = np.full(len(t.cost), -1, np.int64)
    order = sorted(range(len(t.sizes)), key=lambda s: -t.sizes[s][0])
    for c, ns in zip(classes, counts, strict=True):
        if not ns:
            continue
        picks = [s for s in order for _ in range(round(ns[s]))]
        size[c.sites[:len(picks)]] = picks
    return size
