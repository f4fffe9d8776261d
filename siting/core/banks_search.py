r"""A capacitated piece's plan made cheaper by solving small parts of it again, exactly.

The root of a locker piece's merged model (:mod:`siting.core.banks`) often comes close to
its bound but leaves the plan some banks too dear: on 金水区's largest pieces HiGHS's root
plan is 60,000–70,000 above what a thousand nodes find. A branch-and-bound search spends
most of its nodes proving; this search only improves the plan (a large-neighbourhood
search), and every step is an exact solve of a small model:

- a *neighbourhood* is a seed demand row and the rows nearest it through the classes they
  share, breadth first, up to ``ROWS`` rows;
- its *free* classes are the new classes reaching one of those rows: their counts per bank
  size and their flows are the variables of the sub-model, over every row they reach;
- every other class keeps its counts. What it gives the rows outside the sub-model stays as
  it was; the rest of its capacity is a pool for the sub-model's rows (an open bank there
  covers them as an existing one would). So every plan of the sub-model, with the rest
  held, is a plan of the piece, and the held plan is one of the sub-model's;
- the sub-model is built by :func:`siting.core.banks.build` (its own rounding, least-cost
  and dominance rows, valid for it) and solved from the held plan to a 0 % gap within
  ``NODES`` nodes; its plan replaces the held one when its free classes cost less.

Every row seeds one neighbourhood, in row order; a neighbourhood freeing the same classes as
one solved since the last gain is skipped. The sweep is repeated while it gains, at most
``SWEEPS`` times. Node counts and row order, not a clock, decide each step, so the plan is
the same on every run; the user's deadline stops the search between two steps. The search
proves nothing: the piece's bound is its root's, read from the solver.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

import numpy as np

from siting.core import banks
from siting.core import solve as solver
from siting.core._errors import SolverError
from siting.core.problem import SolverSettings, TierData

log = logging.getLogger(__name__)

ROWS = 6         # demand rows a neighbourhood holds at most …
NODES = 100      # branch-and-bound nodes per sub-model
SWEEPS = 1       # passes over the seed rows, while a pass gains
CLASSES = 30     # … while the classes reaching them number at most this

Counts = list[tuple[float, ...]]
Flows = dict[tuple[int, int], float]


@dataclass(frozen=True)
class _Plan:
    """The held plan: banks per class and size, flows by (row, class)."""

    counts: Counts
    flows: Flows
    cost: float


def improve(t: TierData, got: banks.Banks, settings: SolverSettings) -> banks.Banks:
    """``got`` (a solve of piece ``t``) with a plan no dearer, found as the docstring says.

    ``t`` is what :func:`siting.core.banks.solve_tier` solved, ``got`` its answer. A plan
    already at its bound, or an answer without a plan or flows, is returned as it is.
    """
    o = got.outcome
    if (not o.has_solution or not got.counts or not got.flows or o.objective is None
            or o.bound is None or float(o.objective) - float(o.bound) <= 1e-6):
        return got
    classes = banks.classes_of(t)
    at_row = banks.at_rows(classes)
    near = _neighbours(classes)
    plan = _Plan(list(got.counts), {(i, k): z for i, k, z in got.flows},
                 _cost(t, classes, list(got.counts)))
    quick = replace(settings, rel_gap=0.0, abs_gap=1e-6, max_nodes=NODES)
    start, solves = plan.cost, 0
    for _ in range(SWEEPS):
        before, tried, done = plan.cost, set(), set()
        for seed in sorted(at_row):
            if solver.time_left(settings) <= 0 or plan.cost - float(o.bound) <= 1e-6:
                break
            if seed in done:
                continue
            hood, free = _hood(seed, near, at_row, classes)
            done.update(hood)
            if not free or free in tried:
                continue
            tried.add(free)
            solves += 1
            better = _again(t, classes, at_row, plan, free, quick)
            if better is not None:
                plan, tried = better, set()
        if plan.cost >= before - 1e-6:
            break
    if plan.cost >= start - 1e-6:
        log.debug("banks search %s: no cheaper plan in %d solves", t.name, solves)
        return got
    objective = float(o.objective) - (start - plan.cost)
    log.debug("banks search %s: %s -> %s in %d solves", t.name, f"{o.objective:,.0f}",
              f"{objective:,.0f}", solves)
    outcome = replace(o, objective=objective,
                      gap=solver.relative_gap(objective, float(o.bound)),
                      status="optimal" if objective - float(o.bound) <= 1e-6 else o.status)
    counts = tuple(plan.counts)
    flows = tuple((i, k, z) for (i, k), z in sorted(plan.flows.items()) if z > 1e-9)
    return replace(got, outcome=outcome, size=banks.sizes(t, classes, counts), counts=counts,
                   flows=flows)


def _cost(t: TierData, classes: list[banks.BankClass], counts: Counts,
          which: frozenset[int] | None = None) -> float:
    """What the new banks of ``classes`` (of ``which`` of them) cost."""
    return float(sum((classes[k].cost + price) * n
                     for k, ns in enumerate(counts) if which is None or k in which
                     for n, (_, price) in zip(ns, t.sizes, strict=False)))


def _neighbours(classes: list[banks.BankClass]) -> dict[int, list[int]]:
    """Row -> the rows sharing a new class with it, in order."""
    near: dict[int, set[int]] = {}
    for c in classes:
        rows = c.rows.tolist()
        for i in rows:
            near.setdefault(i, set())
            if not c.existing:
                near[i].update(rows)
    return {i: sorted(js - {i}) for i, js in near.items()}


def _hood(seed: int, near: dict[int, list[int]], at_row: dict[int, list[int]],
          classes: list[banks.BankClass]) -> tuple[list[int], frozenset[int]]:
    """The rows nearest ``seed`` (breadth first) and the new classes reaching them.

    Rows are added while there are fewer than ``ROWS`` and their classes number at most
    ``CLASSES`` (the seed's are always taken).
    """
    def new(i: int) -> set[int]:
        return {k for k in at_row[i] if not classes[k].existing}

    hood, seen, free, q = [seed], {seed}, new(seed), 0
    while q < len(hood) and len(hood) < ROWS:
        for j in near[hood[q]]:
            if j in seen or len(hood) >= ROWS:
                continue
            seen.add(j)
            more = free | new(j)
            if len(more) <= CLASSES:
                hood.append(j)
                free = more
        q += 1
    return hood, frozenset(free)


def _again(t: TierData, classes: list[banks.BankClass], at_row: dict[int, list[int]],
           plan: _Plan, free: frozenset[int], settings: SolverSettings) -> _Plan | None:
    """The free classes solved again with the rest held; the new plan when it is cheaper."""
    assert t.demand is not None
    rows = sorted({i for k in free for i in classes[k].rows.tolist()})
    local = {i: q for q, i in enumerate(rows)}
    order = sorted(free) + sorted({g for i in rows for g in at_row[i]} - free)
    sub, kept = [], []
    for k in order:
        c = classes[k]
        if k in free:
            sub.append(replace(c, rows=np.array([local[i] for i in c.rows.tolist()], np.int64)))
        elif c.existing or sum(plan.counts[k]) > 0:
            sub.append(_held(t, c, k, plan, local))
        else:
            continue
        kept.append(k)
    piece = TierData(t.name, cost=np.zeros(0), existing=np.zeros(0, bool), sizes=t.sizes,
                     demand=np.asarray(t.demand, float)[rows])
    held_new = sum(cs * n for k, ns in enumerate(plan.counts) if k not in free
                   for n, (cs, _) in zip(ns, t.sizes, strict=False))
    model = banks.build(piece, sub, target=max(0.0, t.capacity_target - held_new))
    warm = [(n, plan.counts[k][s]) for q, k in enumerate(kept)
            for s, n in enumerate(model.counts[q])]
    warm += [(z, plan.flows.get((rows[i], kept[q]), 0.0)) for (i, q), z in model.flows.items()]
    try:
        with solver.quiet():
            out = solver.run(model.lp, settings, warm=warm)
    except SolverError as e:     # a step that fails is skipped: the held plan stands
        log.debug("banks search %s: a neighbourhood's solve failed: %s", t.name, e)
        return None
    if not out.has_solution:
        return None
    values = model.values()
    counts = list(plan.counts)
    for q, k in enumerate(kept):
        if k in free:
            counts[k] = values[q]
    cost = plan.cost - _cost(t, classes, plan.counts, free) + _cost(t, classes, counts, free)
    if cost >= plan.cost - 1e-6:
        return None
    flows = {(i, k): z for (i, k), z in plan.flows.items() if i not in local}
    flows.update({(rows[i], kept[q]): z for i, q, z in model.flow_values()})
    return _Plan(counts, flows, cost)


def _held(t: TierData, c: banks.BankClass, k: int, plan: _Plan,
          local: dict[int, int]) -> banks.BankClass:
    """A held class as a pool for the sub-model: its capacity less what it gives outside."""
    capacity = c.capacity + sum(cs * n for n, (cs, _) in zip(plan.counts[k], t.sizes,
                                                             strict=False))
    outside = sum(plan.flows.get((i, k), 0.0) for i in c.rows.tolist() if i not in local)
    rows = np.array([local[i] for i in c.rows.tolist() if i in local], np.int64)
    return replace(c, rows=rows, cost=0.0, fixed=False, capacity=max(0.0, capacity - outside),
                   existing=True)
