"""Lagrangian relaxation of the p-median: a valid bound, a feasible start, sound fixing."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from siting.core import Problem, SolverSettings, TierData, optimise, p_median
from siting.core.heuristics import greedy, lagrange

CFG = SolverSettings(time_limit_s=30)


def _random(seed: int, *, n: int = 40, m: int = 15, p: int = 5, radius: float = 50.0,
            existing: int = 0, free_count: bool = False) -> TierData:
    """Points in a 100 × 100 square, sites among them; pairs within ``radius`` only."""
    rng = np.random.default_rng(seed)
    pts, sites = rng.uniform(0, 100, (n, 2)), rng.uniform(0, 100, (m, 2))
    d = np.hypot(*(pts[:, None] - sites[None]).transpose(2, 0, 1)).round(1)
    d[np.arange(n), np.argmin(d, axis=1)] = np.minimum(d.min(axis=1), radius)  # one in reach
    is_existing = np.zeros(m, bool)
    is_existing[rng.choice(m, existing, replace=False)] = True
    weight = rng.integers(0, 6, n).astype(float)   # some weightless rows
    return p_median(np.where(d <= radius, d, np.inf), (p - 1, p + 1) if free_count else p,
                    weight=weight, cost=np.ones(m), existing=is_existing, name="t").tiers[0]


def _optimum(t: TierData) -> float:
    sol = optimise(Problem(len(t.cost), (t,), objective="p_median"), CFG, reduce=False)
    assert sol.gap == pytest.approx(0.0, abs=1e-9)
    return sol.objective


CASES = [dict(seed=s) for s in range(6)] + [
    dict(seed=10, existing=2), dict(seed=11, existing=1, free_count=True),
    dict(seed=12, radius=35.0, p=7), dict(seed=13, free_count=True, p=4)]


@pytest.mark.parametrize("case", CASES)
def test_bound_never_exceeds_the_optimum(case):
    t = _random(**case)
    r = lagrange.relaxation(t)
    best = _optimum(t)
    rng = np.random.default_rng(case["seed"])
    for lam in (np.zeros(r.n_rows), rng.uniform(0, 500, r.n_rows)):   # any λ is valid
        assert lagrange.bound(r, lam).bound <= best * (1 + 1e-9) + 1e-9
    dual, _ = lagrange.ascend(r, best * 1.05, iterations=300)
    assert dual.bound <= best * (1 + 1e-9) + 1e-9
    assert dual.bound >= 0.9 * best          # and it is a useful bound


@pytest.mark.parametrize("case", CASES)
def test_start_is_feasible_and_fixing_keeps_the_optimum(case):
    t = _random(**case)
    problem = Problem(len(t.cost), (t,), objective="p_median")
    warm = greedy.start(problem)
    assert warm is not None
    smaller, better, cert, stats = lagrange.strengthen(problem, warm)
    chosen = better["t"]
    assert t.min_count <= chosen.sum() <= t.max_count and chosen[t.existing].all()
    due = (t.weight > 0) & (np.diff(t.reach.indptr) > 0)
    assert ((t.reach @ chosen.astype(float))[due] > 0).all()   # every weighted row reached
    pairs = greedy.median_pairs(t)
    assert pairs.value(chosen) <= pairs.value(warm["t"]) + 1e-9
    best = _optimum(t)
    assert cert is not None and cert.bound <= best * (1 + 1e-9) + 1e-9
    assert lagrange.bound(lagrange.relaxation(t), cert.multipliers).bound == \
        pytest.approx(cert.bound)
    closed = ~np.isfinite(smaller.tiers[0].cost)
    assert stats["sites_closed_by_bound"] == closed.sum()
    assert not (closed & chosen).any()
    sol = optimise(problem, CFG)                       # with the Lagrangian steps
    assert sol.objective == pytest.approx(best)
    assert sol.certificate is not None and sol.certificate.bound <= sol.objective * (1 + 1e-9)


def test_bound_is_tight_on_a_line():
    # demand at x = 0, 1, 10, 11 (weights 1, 1, 1, 3); sites there; radius 2; p = 2: optimum 2
    rows, cols = [0, 0, 1, 1, 2, 2, 3, 3], [0, 1, 0, 1, 2, 3, 2, 3]
    dist = sp.csr_array(([0.0, 1, 1, 0, 0, 1, 1, 0], (rows, cols)), shape=(4, 4))
    t = p_median(dist, 2, weight=[1.0, 1.0, 1.0, 3.0], cost=np.ones(4), name="t").tiers[0]
    dual, _ = lagrange.ascend(lagrange.relaxation(t), 3.0)
    assert dual.bound == pytest.approx(2.0, abs=1e-6)
    problem = Problem(4, (t,), objective="p_median")
    smaller, warm, _, stats = lagrange.strengthen(problem, {"t": np.array([1, 0, 1, 0], bool)})
    assert greedy.median_pairs(t).value(warm["t"]) == pytest.approx(2.0)
    assert warm["t"][3]
    # site 2 instead of 3 costs 2 more: proven closed; sites 0 and 1 tie, so stay free
    assert np.isinf(smaller.tiers[0].cost).tolist() == [False, False, True, False]
    assert stats["sites_closed_by_bound"] == 1


def test_other_objectives_are_left_alone():
    t = _random(0)
    problem = Problem(len(t.cost), (t,), objective="min_cost")
    warm = {"t": np.ones(len(t.cost), bool)}
    assert lagrange.strengthen(problem, warm) == (problem, warm, None, {})
