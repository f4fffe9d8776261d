"""Capacity, max_coverage, p-median and reductions on hand-checkable instances."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp

from siting.core import (
    Problem,
    SolverSettings,
    TierData,
    covering,
    max_coverage,
    optimise,
    p_median,
)

CFG = SolverSettings(time_limit_s=30)


def test_capacity_picks_one_large_bank_over_two_small():
    # areas of 50 compartments each; site 0 reaches both, site 1 only the first
    cover = sp.csr_array(np.array([[1, 1], [1, 0]]))
    t = TierData("locker", cost=np.zeros(2), existing=np.zeros(2, bool), cover=cover,
                 sizes=((60.0, 10.0), (120.0, 15.0)), demand=np.array([50.0, 50.0]))
    sol = optimise(Problem(2, (t,)), CFG)
    assert sol.open["locker"].tolist() == [True, False]
    assert sol.size["locker"][0] == 1 and sol.capacity["locker"][0] == 120
    assert sol.cost == pytest.approx(15.0)


def test_capacity_too_small_leaves_a_named_shortfall_and_solves_the_rest():
    # row 0 needs 200 but two 60-banks reach it: 80 short; row 1 is served in full
    cover = sp.csr_array(np.array([[1, 1, 0], [0, 0, 1]]))
    t = TierData("locker", cost=np.zeros(3), existing=np.zeros(3, bool), cover=cover,
                 sizes=((60.0, 10.0),), demand=np.array([200.0, 30.0]))
    sol = optimise(Problem(3, (t,)), CFG)
    assert sol.short["locker"] == {0: pytest.approx(80.0)}
    assert sol.open["locker"].tolist() == [True, True, True]
    assert sol.cost == pytest.approx(30.0)


def test_existing_bank_capacity_counts():
    cover = sp.csr_array(np.array([[1, 1]]))
    t = TierData("locker", cost=np.zeros(2), existing=np.array([True, False]), cover=cover,
                 sizes=((60.0, 10.0),), demand=np.array([100.0]),
                 existing_capacity=np.array([50.0, 0.0]))
    sol = optimise(Problem(2, (t,)), CFG)
    assert sol.open["locker"].tolist() == [True, True]
    assert sol.cost == pytest.approx(10.0)


def test_max_coverage_under_a_budget():
    # weights 1, 5, 2; site costs 3, 4; budget 4 affords one site: site 1 reaches 7
    problem = max_coverage([[1, 0], [1, 1], [0, 1]], [1.0, 5.0, 2.0], cost=[3.0, 4.0],
                           budget=4.0, name="c")
    sol = optimise(problem, CFG)
    assert sol.open["c"].tolist() == [False, True]
    assert sol.reached_weight == pytest.approx(7.0)


def test_p_median_matches_brute_force():
    rng = np.random.default_rng(3)
    pts = rng.uniform(0, 100, (12, 2))
    d = np.hypot(*(pts[:, None] - pts[None]).transpose(2, 0, 1)).round(1)
    w = rng.integers(1, 5, 12).astype(float)
    best = min(sum(w[i] * d[i, list(c)].min() for i in range(12))
               for c in itertools.combinations(range(12), 3))
    sol = optimise(p_median(d, 3, weight=w, name="m"), CFG)   # every pair, zeros included
    assert sol.stages[0][1].objective == pytest.approx(best)


def test_reductions_keep_the_optimum_on_a_random_cover():
    rng = np.random.default_rng(7)
    a = sp.csr_array((rng.uniform(size=(60, 40)) < 0.08).astype(np.int8))
    cost = rng.integers(1, 10, 40).astype(float)
    with_r = optimise(covering(cost, a), CFG, reduce=True)
    without = optimise(covering(cost, a), CFG, reduce=False)
    assert with_r.cost == pytest.approx(without.cost)
    assert with_r.reductions["sites_dropped"] + with_r.reductions["sites_forced"] > 0
