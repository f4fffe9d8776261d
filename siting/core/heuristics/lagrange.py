r"""Lagrangian relaxation of the p-median: a quick bound, a better start, sites proven.

The p-median tier of :mod:`siting.core.formulation` in its classical form, over the pairs
within reach only: rows :math:`i` with weight :math:`w_i > 0` and at least one allowed site, pairs
:math:`(i, j)` with cost :math:`c_{ij} = w_i \delta_{ij}`,

.. math::

    \min \sum_{ij} c_{ij} x_{ij} \quad \text{s.t.} \quad \sum_j x_{ij} = 1,\;
    x_{ij} \le o_j,\; N \le \sum_j o_j \le M,\; o_j = 1 \ (j \in F),\; o \in \{0, 1\}

(:math:`F`: existing and forced sites). Its optimum is the model's (Elloumi's form has the
same integer solutions and objective). Relaxing the assignment rows with multipliers
:math:`\lambda_i` leaves, for every :math:`\lambda`, the lower bound

.. math::

    L(\lambda) = \sum_i \lambda_i + \min\Big\{\sum_j \rho_j o_j : N \le \sum_j o_j \le M,\;
    o_F = 1\Big\}, \qquad \rho_j = \sum_{i:(i,j)} \min(0,\; c_{ij} - \lambda_i),

computed in one pass over the pairs: the sites of :math:`F`, then the other sites by
increasing :math:`\rho_j`, the first :math:`N - |F|` and any further negative ones up to
:math:`M - |F|`. Anyone can recompute it from the multipliers (:func:`bound`). Its maximum
over :math:`\lambda` is the LP bound (the subproblem is integral); it is approached by
subgradient ascent, :math:`g_i = 1 - \sum_j [o_j,\, c_{ij} < \lambda_i]`, Polyak steps
:math:`\theta (U - L) / |g|^2` towards an incumbent's value :math:`U`, :math:`\theta`
halved after ``patience`` steps without a better bound.

Uses:

- **a start**: the sites the subproblem opens, made feasible and swapped
  (:func:`siting.core.heuristics.greedy.complete_median`), replace the greedy start when better;
- **sites proven closed or open** (reduced-cost fixing): a site outside the subproblem's
  choice when it is full (:math:`M` open) whose opening would lift the bound above
  :math:`U` is closed in every solution no worse than :math:`U`; a chosen site whose
  closing would (the next best site taking its place) is open in all of them. Removing
  them keeps the optimum and keeps the start (of value :math:`U`) feasible.

Only a tier with distances and no cover rows or bank sizes is handled; others are left as
they are. The core takes arrays, never geometry.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp

from siting.core.heuristics import greedy
from siting.core.problem import Certificate, Problem, TierData

log = logging.getLogger(__name__)

__all__ = ["Dual", "Relaxation", "ascend", "bound", "proven", "relaxation", "strengthen"]

ITERATIONS = 600       # subgradient steps per ascent, at most


@dataclass(frozen=True)
class Relaxation:
    """The relaxed p-median: its pairs, the sites' status and the count bounds."""

    rows: np.ndarray       # (pairs,) row of each pair (weighted rows, allowed sites)
    cols: np.ndarray       # (pairs,) site
    cost: np.ndarray       # (pairs,) weight × distance
    n_rows: int
    active: np.ndarray     # (n_rows,) bool: rows with a pair (the others have no λ)
    forced: np.ndarray     # (n,) bool: open in every solution (existing, forced)
    free: np.ndarray       # (n,) bool: may be opened or not
    lo: int                # free sites to open, at least
    hi: int                # and at most


@dataclass(frozen=True)
class Dual:
    """L(λ) and the subproblem's answer at λ."""

    bound: float
    multipliers: np.ndarray  # (n_rows,) λ
    reduced: np.ndarray      # (n,) ρ
    chosen: np.ndarray       # (n,) bool: the sites the subproblem opens


def relaxation(t: TierData) -> Relaxation:
    """The relaxation of a p-median tier (see the module docstring)."""
    assert t.dist is not None
    dist = sp.csr_array(t.dist).tocoo()
    weight = t.weights()
    keep = t.allowed[dist.col] & (weight[dist.row] > 0)
    rows, cols = dist.row[keep].astype(np.int64), dist.col[keep].astype(np.int64)
    forced = t.forced
    free = t.allowed & ~forced
    n_free, n_forced = int(free.sum()), int(forced.sum())
    lo = min(n_free, max(0, t.min_count - n_forced))
    hi = n_free if t.max_count is None else min(n_free, max(lo, t.max_count - n_forced))
    active = np.bincount(rows, minlength=dist.shape[0]) > 0
    return Relaxation(rows, cols, weight[rows] * dist.data[keep], dist.shape[0], active,
                      forced, free, lo, hi)


def bound(r: Relaxation, multipliers: np.ndarray) -> Dual:
    """L(λ) and the subproblem's choice: valid for any λ (weak duality)."""
    return _subproblem(r, np.asarray(multipliers, float))[0]


def _subproblem(r: Relaxation, lam: np.ndarray) -> tuple[Dual, np.ndarray]:
    """L(λ), and which pairs the subproblem assigns (open site, c_ij < λ_i)."""
    diff = r.cost - lam[r.rows]
    rho = np.bincount(r.cols, weights=np.minimum(diff, 0.0), minlength=len(r.free))
    free = np.flatnonzero(r.free)
    order = free[np.argsort(rho[free], kind="stable")]
    k = r.lo + int((rho[order[r.lo:r.hi]] < 0).sum())
    chosen = r.forced.copy()
    chosen[order[:k]] = True
    value = float(lam[r.active].sum() + rho[chosen].sum())
    return Dual(value, lam, rho, chosen), chosen[r.cols] & (diff < 0)


def ascend(r: Relaxation, upper: float, *, start: np.ndarray | None = None,
           iterations: int = ITERATIONS, patience: int = 20, keep: int = 10,
           keep_every: int = 5) -> tuple[Dual, list[np.ndarray]]:
    """Subgradient ascent from ``start`` (default: each row's cheapest pair).

    Stops after ``iterations`` steps at most (a budget in steps, not seconds: the same
    bound on every machine). Returns the best dual found and the subproblem's last ``keep``
    choices, one every ``keep_every`` steps (candidate starts).
    """
    if start is not None:
        lam = np.array(start, float)
    else:
        cheapest = np.full(r.n_rows, np.inf)
        np.minimum.at(cheapest, r.rows, r.cost)
        lam = np.where(r.active, cheapest, 0.0)
    dual, served = _subproblem(r, lam)
    best = dual
    theta, stale = 2.0, 0
    choices: deque[np.ndarray] = deque(maxlen=keep)
    for it in range(iterations):
        g = np.where(r.active, 1.0 - np.bincount(r.rows[served], minlength=r.n_rows), 0.0)
        norm = float(g @ g)
        if norm == 0 or upper - best.bound <= 1e-9 * abs(upper):
            break    # the subproblem's choice is feasible and optimal, or U is proven
        lam = lam + theta * (upper - dual.bound) / norm * g
        dual, served = _subproblem(r, lam)
        if dual.bound > best.bound:
            best, stale = dual, 0
        else:
            stale += 1
            if stale >= patience:
                theta, stale = theta / 2, 0
        if it % keep_every == 0:
            choices.append(dual.chosen)
        if theta < 1e-4:
            break
    return best, list(choices)


def proven(r: Relaxation, dual: Dual, upper: float, *, tol: float = 1e-7,
           ) -> tuple[np.ndarray, np.ndarray]:
    """Free sites closed, and open, in every solution no worse than ``upper``.

    Opening an unchosen site j when the choice is full costs at least ρ_j − max chosen ρ;
    closing a chosen one at least (next unchosen ρ) − ρ_j (ρ ≤ 0 throughout).
    """
    n = len(r.free)
    closed, opened = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    rho, mine = dual.reduced, dual.chosen & r.free
    rest = r.free & ~dual.chosen
    limit = upper + tol * max(1.0, abs(upper))
    if mine.sum() >= r.hi and mine.any():
        closed = rest & (dual.bound + rho - rho[mine].max() > limit)
    if rest.any():
        opened = mine & (dual.bound - rho + rho[rest].min() > limit)
    return closed, opened


def strengthen(problem: Problem, warm: dict[str, np.ndarray], *, rounds: int = 3,
               ) -> tuple[Problem, dict[str, np.ndarray], Certificate | None, dict[str, int]]:
    """A better start, the sites proven closed or open, and the Lagrangian bound.

    For the p-median tier (see the module docstring); the problem and the start are
    returned unchanged for any other objective or tier.
    """
    tier = _median_tier(problem)
    if tier is None or tier.name not in warm:
        return problem, warm, None, {}
    r = relaxation(tier)
    pairs = greedy.median_pairs(tier)
    best = np.asarray(warm[tier.name], bool)
    upper = pairs.value(best)
    if not (np.isfinite(upper) and _fits(tier, best)):
        return problem, warm, None, {}
    first = upper
    dual, choices = ascend(r, upper)
    for _ in range(rounds):
        found = _best_start(tier, pairs, choices, best, upper)
        if found is None:
            break
        best, upper = found
        dual, choices = ascend(r, upper, start=dual.multipliers)
    closed, opened = proven(r, dual, upper)
    if (best & closed).any() or (opened & ~best).any():
        closed, opened = np.zeros_like(closed), np.zeros_like(opened)   # rounding: keep all
    log.info("lagrange: bound %s, start %s (given %s), gap %.3f %%; %d sites proven "
             "closed, %d open", f"{dual.bound:,.2f}", f"{upper:,.2f}", f"{first:,.2f}",
             100 * (upper - dual.bound) / max(abs(upper), 1e-9), int(closed.sum()),
             int(opened.sum()))
    fixed = opened | (tier.fixed if tier.fixed is not None else False)
    smaller = replace(tier, cost=np.where(closed, np.inf, tier.cost), fixed=fixed)
    out = replace(problem, tiers=tuple(smaller if t is tier else t for t in problem.tiers))
    return (out, {**warm, tier.name: best}, Certificate(tier.name, dual.bound,
                                                       dual.multipliers),
            {"sites_closed_by_bound": int(closed.sum()),
             "sites_opened_by_bound": int(opened.sum())})


def _median_tier(problem: Problem) -> TierData | None:
    """The tier whose Σ w d is the objective, if this module can relax it."""
    if problem.objective != "p_median":
        return None
    tiers = [t for t in problem.tiers if t.dist is not None and t.reach is not None]
    if not tiers or tiers[-1].cover is not None or tiers[-1].sizes:
        return None
    return tiers[-1]


def _best_start(t: TierData, pairs: greedy.MedianPairs, choices: list[np.ndarray],
                best: np.ndarray, upper: float) -> tuple[np.ndarray, float] | None:
    """The best completed choice, swapped, if it beats ``upper``; else None."""
    seen: set[bytes] = set()
    tried: list[tuple[float, np.ndarray]] = []
    for c in choices:
        key = np.packbits(c).tobytes()
        if key in seen:
            continue
        seen.add(key)
        trial = c.copy()
        greedy.complete_median(t, pairs, trial, swap=False)
        tried.append((pairs.value(trial), trial))
    tried.sort(key=lambda vt: vt[0])
    improved = None
    for _, trial in tried[:2]:
        greedy.complete_median(t, pairs, trial)
        value = pairs.value(trial)
        if _fits(t, trial) and value < upper * (1 - 1e-12):
            improved, upper = (trial, value), value
    return improved


def _fits(t: TierData, is_open: np.ndarray) -> bool:
    """Whether a choice keeps the counts, the forced sites and the allowed sites."""
    count = int(is_open.sum())
    forced = t.forced
    return bool(count >= t.min_count and (t.max_count is None or count <= t.max_count)
                and is_open[forced].all() and t.allowed[is_open].all())
