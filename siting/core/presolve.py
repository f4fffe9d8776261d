"""Model reductions: a smaller problem with the same optimum, before the solver sees it.

Applied to the ``min_cost`` objective, tier by tier, where they are valid:

1. **satisfied rows** — a cover row reached by an existing or forced site is dropped;
2. **forced sites** — a cover row reachable by one allowed site only forces that site open;
3. **dominated rows** — a row whose sites include all the sites of another row is implied
   by it and dropped (uncapacitated tiers);
4. **dominated sites** — a new site whose rows are a subset of another site's rows, and
   whose cost (less any co-location saving it could earn) is no lower, is never needed
   (tiers with no count, no capacity, and no reach rows to maximise); a site reaching no
   row at all is the extreme case. Identical sites keep the cheapest, then the first.
5. **idle sites** — in a tier without a count or a compartment target (capacitated ones
   included), a new site that
   reaches no row of any kind and costs at least the co-location saving it could earn is
   never opened;
6. **interchangeable sites** — in a tier with a count of N, new sites alike in everything
   (cost, the rows they cover and reach, and the partner tier's cost and rows at the same
   site) are interchangeable, and an optimal solution opens at most N of them: the first N
   are kept.

Steps 1–4 repeat until nothing changes. Rows and sites are compared with sparse products
(``A Aᵀ``, ``Aᵀ A``) after identical columns are merged, never with dense matrices.
Uncoverable rows are left to the model, which reports them.

Applied to the ``max_coverage`` objective, for tiers with reach rows only (no cover rows,
bank sizes, distances or co-location):

5. **dominated sites** as in 4, kept only if at least ``min_count`` sites remain (a
   dominated site in an optimum can be swapped for its dominator, or for any closed site);
6. **identical rows** — reach rows with the same allowed sites become one row carrying
   their summed weight (weightless rows are dropped).
"""

from __future__ import annotations

import logging
from dataclasses import replace

import numpy as np
import scipy.sparse as sp

from siting.core.problem import Problem, TierData

log = logging.getLogger(__name__)


def reduce(problem: Problem) -> tuple[Problem, dict[str, int]]:
    """The reduced problem and counts of what was removed or fixed."""
    stats = {"rows_dropped": 0, "sites_dropped": 0, "sites_forced": 0}
    if problem.objective == "max_coverage":
        return _reduce_reach(problem, stats)
    if problem.objective != "min_cost":
        return problem, stats
    partner = _colocation_partner(problem)
    tiers = []
    for t in problem.tiers:
        t = _drop_idle(t, partner.get(t.name, 0.0), stats)
        if t.cover is None or t.capacitated:
            tiers.append(t)
            continue
        t2, s = _reduce_tier(t, partner.get(t.name, 0.0))
        for k in stats:
            stats[k] += s[k]
        tiers.append(t2)
    tiers = _thin_interchangeable(problem, tiers, stats)
    out = replace(problem, tiers=tuple(tiers))
    log.info("reduce: %d rows implied or met, %d sites dominated, %d sites forced open",
             stats["rows_dropped"], stats["sites_dropped"], stats["sites_forced"])
    return out, stats


def _rows_touching(t: TierData) -> np.ndarray:
    """(n,) number of cover and reach rows each site reaches."""
    n = len(t.cost)
    total = np.zeros(n, dtype=np.int64)
    for m in (t.cover, t.reach):
        if m is not None:
            total += np.bincount(sp.csr_array(m).indices, minlength=n)
    return total


def _drop_idle(t: TierData, saving: float, stats: dict[str, int]) -> TierData:
    if t.min_count > 0 or t.capacity_target > 0:     # an idle bank still adds compartments
        return t
    cheapest = t.cost + (min(c for _, c in t.sizes) if t.sizes else 0.0)
    idle = np.isfinite(t.cost) & ~t.existing & (_rows_touching(t) == 0) & \
        (cheapest >= saving)
    if t.fixed is not None:
        idle &= ~t.fixed
    if not idle.any():
        return t
    stats["sites_dropped"] += int(idle.sum())
    return replace(t, cost=np.where(idle, np.inf, t.cost))


def _signatures(t: TierData) -> list[bytes]:
    """Per site: the cost and the rows it covers and reaches, as bytes."""
    n = len(t.cost)
    parts: list[list[bytes]] = [[np.float64(c).tobytes()] for c in t.cost]
    for m in (t.cover, t.reach):
        if m is None:
            continue
        csc = sp.csc_array(m)
        for j in range(n):
            parts[j].append(b"|" + csc.indices[csc.indptr[j]:csc.indptr[j + 1]].tobytes())
    return [b"".join(p) for p in parts]


def _thin_interchangeable(problem: Problem, tiers: list[TierData],
                          stats: dict[str, int]) -> list[TierData]:
    by_name = {t.name: t for t in tiers}
    out = []
    for t in tiers:
        if t.min_count <= 0 or t.sizes:
            out.append(t)
            continue
        sig = _signatures(t)
        other = None
        if problem.colocation is not None and t.name in problem.colocation[:2]:
            a, b, _ = problem.colocation
            other = by_name.get(b if t.name == a else a)
        osig = _signatures(other) if other is not None else None
        free = np.flatnonzero(np.isfinite(t.cost) & ~t.existing &
                              ~(t.fixed if t.fixed is not None else False))
        seen: dict[bytes, int] = {}
        drop = []
        for j in free:
            key = sig[j] + (b"#" + osig[j] if osig is not None else b"")
            seen[key] = seen.get(key, 0) + 1
            if seen[key] > t.min_count:
                drop.append(j)
        if drop:
            stats["sites_dropped"] += len(drop)
            cost = t.cost.copy()
            cost[np.array(drop)] = np.inf
            t = replace(t, cost=cost)
        out.append(t)
    return out


def _reduce_reach(problem: Problem, stats: dict[str, int]) -> tuple[Problem, dict[str, int]]:
    partner = _colocation_partner(problem)
    tiers = []
    for t in problem.tiers:
        if t.reach is None or t.cover is not None or t.sizes or t.dist is not None \
                or t.name in partner:
            tiers.append(t)
            continue
        cost = t.cost.astype(float).copy()
        reach = sp.csr_array(t.reach, dtype=np.int8)
        fixed = np.zeros(len(cost), dtype=bool) if t.fixed is None else t.fixed
        dropped = _dominated_sites(reach, cost, 0.0, np.isfinite(cost) & ~t.existing & ~fixed)
        if int(t.allowed.sum()) - len(dropped) >= t.min_count:
            cost[dropped] = np.inf
            stats["sites_dropped"] += len(dropped)
        weight = t.weights()
        rows, merged = _merge_rows(_restrict(reach, weight > 0, np.isfinite(cost) | t.existing),
                                   weight)
        stats["rows_dropped"] += reach.shape[0] - rows.shape[0]
        tiers.append(replace(t, cost=cost, reach=rows, weight=merged))
    log.info("reduce: %d reach rows merged or weightless, %d sites dominated",
             stats["rows_dropped"], stats["sites_dropped"])
    return replace(problem, tiers=tuple(tiers)), stats


def _merge_rows(m: sp.csr_array, weight: np.ndarray) -> tuple[sp.csr_array, np.ndarray]:
    """Identical non-empty rows as one row with their summed weight."""
    m.sort_indices()
    first: dict[bytes, int] = {}
    group = np.full(m.shape[0], -1, dtype=np.int64)
    for i in np.flatnonzero(np.diff(m.indptr) > 0):
        group[i] = first.setdefault(m.indices[m.indptr[i]:m.indptr[i + 1]].tobytes(),
                                    len(first))
    keep = group >= 0
    rows = np.unique(group[keep], return_index=True)[1]
    return (sp.csr_array(m[np.flatnonzero(keep)[rows]]),
            np.bincount(group[keep], weights=weight[keep], minlength=len(first)))


def _colocation_partner(problem: Problem) -> dict[str, float]:
    if problem.colocation is None:
        return {}
    a, b, saving = problem.colocation
    return {a: saving, b: saving}


def _reduce_tier(t: TierData, saving: float) -> tuple[TierData, dict[str, int]]:
    stats = {"rows_dropped": 0, "sites_dropped": 0, "sites_forced": 0}
    cover = sp.csr_array(t.cover, dtype=np.int8)
    n_rows = cover.shape[0]
    cost = t.cost.astype(float).copy()
    fixed = np.zeros(len(cost), dtype=bool) if t.fixed is None else t.fixed.copy()
    can_drop_sites = t.min_count == 0 and t.reach is None
    alive_rows = np.ones(n_rows, dtype=bool)
    for _ in range(50):
        allowed_new = np.isfinite(cost) & ~t.existing
        open_now = (t.existing | fixed).astype(np.int8)
        met = (cover @ open_now) > 0
        newly_met = alive_rows & met
        alive_rows &= ~met
        m = _restrict(cover, alive_rows, allowed_new)
        deg = np.diff(m.indptr)
        single = np.flatnonzero(alive_rows & (deg == 1))
        forced = np.unique(m.indices[m.indptr[single]]) if len(single) else np.zeros(0, int)
        fixed[forced] = True
        implied = _dominated_rows(m, alive_rows) if len(forced) == 0 else np.zeros(0, int)
        alive_rows[implied] = False
        dropped = (_dominated_sites(m, cost, saving, allowed_new & ~fixed)
                   if can_drop_sites and len(forced) == 0 else np.zeros(0, int))
        cost[dropped] = np.inf
        stats["sites_forced"] += len(forced)
        stats["rows_dropped"] += int(newly_met.sum()) + len(implied)
        stats["sites_dropped"] += len(dropped)
        if len(forced) == 0 and len(implied) == 0 and len(dropped) == 0 and not newly_met.any():
            break
    # rows with no allowed site stay (the model reports them); all others alive or dropped
    keep_rows = alive_rows | (np.diff(_restrict(cover, np.ones(n_rows, bool),
                                                np.isfinite(t.cost) | t.existing).indptr) == 0)
    reduced = replace(t, cover=cover[np.flatnonzero(keep_rows)], cost=cost, fixed=fixed)
    return reduced, stats


def _restrict(m: sp.csr_array, rows: np.ndarray, cols: np.ndarray) -> sp.csr_array:
    """The matrix with rows and columns outside the masks emptied (same shape)."""
    keep = sp.csr_array(m, dtype=np.int8, copy=True)
    keep.data = keep.data * rows[np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))] \
        * cols[keep.indices]
    keep.eliminate_zeros()
    return keep


def _dominated_rows(m: sp.csr_array, alive: np.ndarray) -> np.ndarray:
    """Rows implied by another alive row (its sites are a subset of theirs)."""
    rows = np.flatnonzero(alive & (np.diff(m.indptr) > 0))
    if len(rows) < 2:
        return np.zeros(0, np.int64)
    sub = m[rows]
    size = np.diff(sub.indptr)
    overlap = sp.csr_array(sub @ sub.T).tocoo()
    i, k, v = overlap.row, overlap.col, overlap.data
    # row i implied by row k: S(k) ⊆ S(i) and k ≠ i; identical rows: keep the first
    sub_of = (i != k) & (v == size[k]) & ((size[k] < size[i]) | (k < i))
    return np.unique(rows[i[sub_of]])


def _dominated_sites(m: sp.csr_array, cost: np.ndarray, saving: float,
                     allowed_new: np.ndarray) -> np.ndarray:
    """New sites never needed: their rows are covered as well, no cheaper, by another."""
    csc = m.tocsc()
    sites = np.flatnonzero(allowed_new)
    deg = np.diff(csc.indptr)
    useless = sites[deg[sites] == 0]
    active = sites[deg[sites] > 0]
    if len(active) < 2:
        return useless
    # merge identical columns first: keep the cheapest, then the lowest index
    keys = [csc.indices[csc.indptr[j]:csc.indptr[j + 1]].tobytes() for j in active]
    order = np.lexsort((active, cost[active], np.array([hash(k) for k in keys])))
    dup: list[int] = []
    seen: dict[bytes, int] = {}
    for idx in order:
        key = keys[idx]
        j = int(active[idx])
        if key in seen and cost[j] - saving >= cost[seen[key]]:
            dup.append(j)
        elif key not in seen:
            seen[key] = j
    reps = np.array(sorted(seen.values()), dtype=np.int64)
    sub = csc[:, reps]
    size = np.diff(sub.indptr)
    overlap = sp.csr_array(sub.T @ sub).tocoo()
    i, k, v = overlap.row, overlap.col, overlap.data
    dominated = (i != k) & (v == size[i]) & (size[i] < size[k]) & \
        (cost[reps[i]] - saving >= cost[reps[k]])
    return np.unique(np.concatenate([useless, np.array(dup, dtype=np.int64),
                                     reps[i[dominated]]]))
