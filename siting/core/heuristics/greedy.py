"""A greedy starting solution for the solver (a warm start), feasible or nothing.

Per tier, starting from the existing and forced sites:

1. cover — repeatedly open the site with the most uncovered rows per unit cost (a free
   site first) until every coverable row is covered;
2. count — while fewer sites are open than required, open the site reaching the most
   weight not yet reached, then the cheapest, then the first; for a tier with no cover
   rows, then swap (close one new site, open another no dearer) while a swap reaches
   more weight (Teitz–Bart interchange, first improvement, best entering site first) and,
   when all new sites cost the same, 30 seeded rounds of "close a tenth of the new sites,
   refill greedily, swap again", keeping the best (iterated local search);
3. capacity — assign each row's demand, largest first, to open banks within reach with
   room left; where there is none, open the largest bank at the reachable site with the
   most room; finally give each new site the smallest bank that holds its load.

For a p-median tier (reach rows with distances): cover every reachable row as in 1, then
open the site that lowers Σ weight × distance to the nearest open site most, until
``min_count`` sites are open; then swap (vertex substitution: close one new site, open a
no dearer one) while Σ weight × distance falls and every weighted row stays reached.

The result is checked (cover, counts, capacity); if it is not feasible it is not used.
"""

from __future__ import annotations

import logging

import numpy as np
import scipy.sparse as sp

from siting.core.problem import Problem, TierData

log = logging.getLogger(__name__)


def start(problem: Problem, fixed: dict[str, np.ndarray] | None = None,
          ) -> dict[str, np.ndarray] | None:
    """Open sites per tier (bool, or bank size index for capacitated tiers), or None.

    ``fixed`` gives ready choices for some tiers (e.g. from :mod:`siting.core.components`).
    """
    out: dict[str, np.ndarray] = {}
    for t in problem.tiers:
        choice = fixed[t.name] if fixed and t.name in fixed else _tier(t)
        if choice is not None and not _holds_target(t, choice):
            choice = None
        if choice is None:
            log.debug("greedy: no feasible start for tier %s", t.name)
            return None
        out[t.name] = choice
    return out


def _tier(t: TierData) -> np.ndarray | None:
    n = len(t.cost)
    allowed = np.isfinite(t.cost) & ~t.existing
    is_open = t.existing.copy()
    if t.fixed is not None:
        is_open |= t.fixed
    if t.cover is not None:
        _cover(sp.csr_array(t.cover, dtype=np.float64), t.cost, allowed, is_open)
    if t.dist is not None and t.reach is not None:
        _median(t, allowed, is_open)
    elif t.min_count > int(is_open.sum()):
        _count(t, allowed, is_open)
        if t.cover is None and t.reach is not None:
            _interchange(t, allowed, is_open)
    if t.max_count is not None and is_open.sum() > t.max_count:
        return None
    if not t.capacitated:
        return is_open
    return _capacity(t, allowed, is_open, n)


def _cover(m: sp.csr_array, cost: np.ndarray, allowed: np.ndarray, is_open: np.ndarray) -> None:
    covered = (m @ is_open.astype(float)) > 0
    coverable = (m @ (allowed | is_open).astype(float)) > 0
    todo = coverable & ~covered
    mt = m.T.tocsr()
    while todo.any():
        gain = mt @ todo.astype(float)
        gain[~allowed | is_open] = 0
        free = (gain > 0) & (cost <= 0)
        score = np.where(free, np.inf, gain / np.maximum(cost, 1e-9))
        j = int(np.argmax(score))
        if gain[j] <= 0:
            break
        is_open[j] = True
        todo[mt.indices[mt.indptr[j]:mt.indptr[j + 1]]] = False


def _median(t: TierData, allowed: np.ndarray, is_open: np.ndarray) -> None:
    """Reach every reachable row, then add the sites saving the most weighted distance."""
    complete_median(t, median_pairs(t), is_open)


def median_pairs(t: TierData) -> MedianPairs:
    """The pairs of a p-median tier at its allowed sites, for :func:`complete_median`."""
    assert t.dist is not None
    dist = sp.csr_array(t.dist).tocoo()
    weight = t.weights()
    usable = t.allowed[dist.col]
    return MedianPairs(dist.row[usable], dist.col[usable], dist.data[usable],
                       np.where(weight > 0, weight, 0.0), dist.shape[0], len(t.cost))


def complete_median(t: TierData, p: MedianPairs, is_open: np.ndarray, *,
                    swap: bool = True) -> None:
    """Make a choice of sites a feasible p-median start, in place.

    Open sites until every reachable row is reached (as in the cover step), close the open
    new sites losing the least while more than ``max_count`` are open (never one a weighted
    row depends on alone), add the sites saving the most until ``min_count`` are open, then
    swap (vertex substitution) while Σ weight × distance falls.
    """
    assert t.reach is not None
    allowed = np.isfinite(t.cost) & ~t.existing
    fixed = t.fixed if t.fixed is not None else np.zeros(len(is_open), dtype=bool)
    _cover(sp.csr_array(t.reach, dtype=np.float64), t.cost, allowed, is_open)
    if t.max_count is not None:
        _median_trim(p, allowed & ~fixed, is_open, t.max_count)
    _median_fill(p, allowed, is_open, t.min_count)
    if swap:
        _median_swap(p, t.cost, allowed & ~fixed, is_open)


class MedianPairs:
    """The usable (row, site, distance) pairs sorted by row, then distance; per-site lists."""

    def __init__(self, rows: np.ndarray, cols: np.ndarray, d: np.ndarray, weight: np.ndarray,
                 n_rows: int, n_sites: int) -> None:
        order = np.lexsort((d, rows))
        self.rows, self.cols, self.d = rows[order], cols[order], d[order]
        self.weight, self.n_rows = weight, n_rows
        self.first = np.r_[True, self.rows[1:] != self.rows[:-1]] if len(order) else order
        self.by_col = np.argsort(self.cols, kind="stable")
        self.col_ptr = np.searchsorted(self.cols[self.by_col], np.arange(n_sites + 1))

    def nearest(self, is_open: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per row: the nearest and second nearest open distance (inf: none), the owner."""
        op = is_open[self.cols].astype(np.int64)
        cs = np.cumsum(op)
        base = np.maximum.accumulate(np.where(self.first, cs - op, 0))
        rank = np.where(op > 0, cs - base, 0)
        near1, near2 = np.full(self.n_rows, np.inf), np.full(self.n_rows, np.inf)
        owner = np.full(self.n_rows, -1, dtype=np.int64)
        one, two = rank == 1, rank == 2
        near1[self.rows[one]], owner[self.rows[one]] = self.d[one], self.cols[one]
        near2[self.rows[two]] = self.d[two]
        return near1, near2, owner

    def value(self, is_open: np.ndarray) -> float:
        """Σ weight × distance to the nearest open site; inf if a weighted row has none."""
        near1 = self.nearest(is_open)[0]
        due = (self.weight > 0) & (np.bincount(self.rows, minlength=self.n_rows) > 0)
        return float(self.weight[due] @ near1[due])


def _median_fill(p: MedianPairs, allowed: np.ndarray, is_open: np.ndarray, count: int) -> None:
    """Open the site saving the most weighted distance until ``count`` sites are open."""
    near = p.nearest(is_open)[0]
    while is_open.sum() < count:
        better = np.isfinite(near[p.rows]) & (p.d < near[p.rows])
        saving = np.bincount(p.cols[better], weights=p.weight[p.rows[better]] *
                             (near[p.rows[better]] - p.d[better]), minlength=len(is_open))
        saving[~allowed | is_open] = -1.0
        j = int(np.argmax(saving))
        if saving[j] < 0:
            return
        is_open[j] = True
        mine = p.by_col[p.col_ptr[j]:p.col_ptr[j + 1]]
        np.minimum.at(near, p.rows[mine], p.d[mine])


def _median_trim(p: MedianPairs, movable: np.ndarray, is_open: np.ndarray, count: int) -> None:
    """Close the open site losing the least until ``count`` are open; rows stay reached."""
    n = len(is_open)
    while is_open.sum() > count:
        near1, near2, owner = p.nearest(is_open)
        loss, alone = _closing_loss(p.weight, near1, near2, owner, n)
        loss[~(is_open & movable) | (alone > 0)] = np.inf
        j = int(np.argmin(loss))
        if not np.isfinite(loss[j]):
            return
        is_open[j] = False


def _median_swap(p: MedianPairs, cost: np.ndarray, movable: np.ndarray, is_open: np.ndarray,
                 max_swaps: int = 10_000) -> None:
    """Vertex substitution: swap an open site for a no dearer closed one while Σ w d falls.

    Every weighted row keeps an open site within reach (the model requires it).
    """
    n = len(is_open)
    for _ in range(max_swaps):
        near1, near2, owner = p.nearest(is_open)
        w = np.where(np.isfinite(near1), p.weight, 0.0)
        loss, alone = _closing_loss(w, near1, near2, owner, n)
        better = (p.d < near1[p.rows]) & (w[p.rows] > 0)
        gain = np.bincount(p.cols[better], minlength=n,
                           weights=w[p.rows[better]] * (near1[p.rows[better]] - p.d[better]))
        gain[~movable | is_open] = 0.0
        out = np.flatnonzero(is_open & movable)
        if len(out) == 0 or not _substitute(p, cost, gain, loss, alone, near1, near2, owner, w,
                                            out, is_open):
            return


def _closing_loss(w: np.ndarray, near1: np.ndarray, near2: np.ndarray, owner: np.ndarray,
                  n: int) -> tuple[np.ndarray, np.ndarray]:
    """Per site: what closing it loses, and how many weighted rows it alone reaches.

    The loss is Σ w (second nearest − nearest) over the rows it serves; a row it reaches
    alone would be left unreached.
    """
    mine = owner >= 0
    spare = mine & np.isfinite(near2)
    loss = np.bincount(owner[spare], weights=w[spare] * (near2[spare] - near1[spare]),
                       minlength=n).astype(float)   # (an empty bincount is integer)
    return loss, np.bincount(owner[mine & ~spare & (w > 0)], minlength=n)


def _substitute(p: MedianPairs, cost: np.ndarray, gain: np.ndarray, loss: np.ndarray,
                alone: np.ndarray, near1: np.ndarray, near2: np.ndarray, owner: np.ndarray,
                w: np.ndarray, out: np.ndarray, is_open: np.ndarray) -> bool:
    """The first improving swap, entering sites by decreasing gain; False if none."""
    at = np.full(len(is_open), -1, dtype=np.int64)
    at[out] = np.arange(len(out))
    where = np.where(owner >= 0, at[np.maximum(owner, 0)], -1)   # row -> position in out
    spare = np.isfinite(near2)
    base = loss[out]
    for k in np.argsort(-gain, kind="stable"):
        if gain[k] <= 0:
            return False
        e = p.by_col[p.col_ptr[k]:p.col_ptr[k + 1]]
        r, dk = p.rows[e], p.d[e]
        q, wr, n1, n2 = where[r], w[r], near1[r], near2[r]
        new1 = np.minimum(n1, dk)
        f = (q >= 0) & spare[r]
        corr = np.bincount(q[f], minlength=len(out), weights=wr[f] * (
            np.minimum(n2[f], dk[f]) - new1[f] - (n2[f] - n1[f]))).astype(float)
        f = (q >= 0) & ~spare[r] & (wr > 0)
        corr += np.bincount(q[f], weights=wr[f] * (dk[f] - new1[f]), minlength=len(out))
        ok = (np.bincount(q[f], minlength=len(out)) == alone[out]) & (cost[out] >= cost[k])
        delta = np.where(ok, base + corr, np.inf) - gain[k]
        best = int(np.argmin(delta))
        if delta[best] < -1e-9 * max(1.0, gain[k]):
            is_open[out[best]], is_open[k] = False, True
            return True
    return False


def _count(t: TierData, allowed: np.ndarray, is_open: np.ndarray) -> None:
    reach = sp.csr_array(t.reach, dtype=np.float64) if t.reach is not None else None
    weight = np.ones(reach.shape[0]) if reach is not None and t.weight is None else t.weight
    reached = (reach @ is_open.astype(float)) > 0 if reach is not None else None
    rt = reach.T.tocsr() if reach is not None else None
    while is_open.sum() < t.min_count:
        cand = allowed & ~is_open
        if not cand.any():
            return
        if rt is not None and reached is not None:
            gain = rt @ (np.asarray(weight) * ~reached)
        else:
            gain = np.zeros(len(cand))
        order = np.lexsort((np.arange(len(cand)), t.cost, -gain))
        j = int(order[np.flatnonzero(cand[order])[0]])
        is_open[j] = True
        if rt is not None and reached is not None:
            reached[rt.indices[rt.indptr[j]:rt.indptr[j + 1]]] = True


def _interchange(t: TierData, allowed: np.ndarray, is_open: np.ndarray, rounds: int = 30,
                 ) -> None:
    """Swap to a local optimum; with uniform costs, iterate from perturbed copies."""
    assert t.reach is not None
    reach = sp.csr_array(t.reach, dtype=np.float64)
    weight = t.weights()
    _swap(t, allowed, is_open)
    movable = allowed & ~(t.fixed if t.fixed is not None else np.zeros(len(allowed), bool))
    costs = t.cost[movable]
    if len(costs) == 0 or costs.min() != costs.max():
        return
    rng = np.random.default_rng(0)
    best = float(weight[reach @ is_open.astype(float) > 0].sum())
    for _ in range(rounds):
        trial = is_open.copy()
        out = np.flatnonzero(trial & movable)
        if len(out) == 0:
            return
        trial[rng.choice(out, max(1, len(out) // 10), replace=False)] = False
        _count(t, allowed, trial)
        _swap(t, allowed, trial)
        value = float(weight[reach @ trial.astype(float) > 0].sum())
        if value > best:
            best, is_open[:] = value, trial


def _swap(t: TierData, allowed: np.ndarray, is_open: np.ndarray, max_swaps: int = 10_000,
          ) -> None:
    """Interchange: close an open new site, open a no dearer closed one, while reach grows."""
    assert t.reach is not None
    reach = sp.csr_array(t.reach, dtype=np.float64)
    weight = t.weights()
    rt = reach.T.tocsr()
    fixed = t.fixed if t.fixed is not None else np.zeros(len(is_open), dtype=bool)
    movable = is_open & allowed & ~fixed
    for _ in range(max_swaps):
        count = reach @ is_open.astype(float)
        sole = np.where(count == 1, weight, 0.0)
        index = reach @ np.where(is_open, np.arange(len(is_open)), 0).astype(float)
        owner = np.where(count == 1, index, 0).astype(np.int64)   # the one open site
        loss = rt @ sole
        gain = rt @ np.where(count == 0, weight, 0.0)
        gain[~allowed | is_open] = 0.0
        if not _swap_once(rt, t.cost, gain, loss, sole, owner, is_open, movable):
            return


def _swap_once(rt: sp.csr_array, cost: np.ndarray, gain: np.ndarray, loss: np.ndarray,
               sole: np.ndarray, owner: np.ndarray, is_open: np.ndarray,
               movable: np.ndarray) -> bool:
    """The first improving swap, entering sites by decreasing gain; False if none."""
    out = np.flatnonzero(movable & is_open)
    if len(out) == 0:
        return False
    for k in np.argsort(-gain, kind="stable"):
        if gain[k] <= 0:
            return False    # a swap gains at most what k adds
        rows = rt.indices[rt.indptr[k]:rt.indptr[k + 1]]
        kept = np.zeros(len(cost))
        np.add.at(kept, owner[rows], sole[rows])   # weight j alone reached that k reaches
        net = np.where(cost[out] >= cost[k], loss[out] - kept[out], np.inf)
        j = int(out[np.argmin(net)])
        if gain[k] - net.min() > 1e-9 * max(1.0, gain[k]):
            is_open[j], is_open[k] = False, True
            movable[j], movable[k] = False, True
            return True
    return False


def _capacity(t: TierData, allowed: np.ndarray, is_open: np.ndarray, n: int,
              ) -> np.ndarray | None:
    assert t.demand is not None and t.cover is not None
    rows = t.demand_cover()
    biggest = max(c for c, _ in t.sizes)
    ex_cap = t.existing_capacity if t.existing_capacity is not None else np.zeros(n)
    cap = np.where(t.existing, ex_cap, np.where(is_open, biggest, 0.0)).astype(float)
    load = np.zeros(n)
    for i in np.argsort(-t.demand, kind="stable"):
        need = float(t.demand[i])
        sites = rows.indices[rows.indptr[i]:rows.indptr[i + 1]]
        sites = sites[is_open[sites] | allowed[sites]]
        for j in sites[np.argsort(-(cap[sites] - load[sites]), kind="stable")]:
            if need <= 1e-9:
                break
            if not is_open[j]:
                continue
            take = min(need, cap[j] - load[j])
            if take > 0:
                load[j] += take
                need -= take
        while need > 1e-9:
            closed = sites[~is_open[sites]]
            if len(closed) == 0:
                return None
            j = int(closed[0])
            is_open[j] = True
            cap[j] = biggest
            take = min(need, biggest)
            load[j] += take
            need -= take
    size = np.full(n, -1, dtype=np.int64)
    caps = np.array([c for c, _ in t.sizes])
    for j in np.flatnonzero(is_open & ~t.existing):
        fits = np.flatnonzero(caps >= load[j] - 1e-9)
        size[j] = int(fits[np.argmin(caps[fits])]) if len(fits) else -1
        if size[j] < 0:
            return None
    size[t.existing] = 0
    return size


def _holds_target(t: TierData, choice: np.ndarray) -> bool:
    """Whether a capacitated choice (bank size per site) adds the compartment target."""
    if t.capacity_target <= 0:
        return True
    caps = np.array([c for c, _ in t.sizes])
    new = (choice >= 0) & ~t.existing
    return float(caps[choice[new]].sum()) + 1e-9 >= t.capacity_target
