"""p-median on a hand-checkable line: the greedy start reaches every row, the optimum."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from siting.core import Problem, SolverSettings, optimise, p_median
from siting.core.heuristics import greedy


def _line(p: int) -> Problem:
    # demand at x = 0, 1, 10, 11 (weights 1, 1, 1, 3); sites at x = 0, 1, 10, 11; radius 2
    rows, cols = [0, 0, 1, 1, 2, 2, 3, 3], [0, 1, 0, 1, 2, 3, 2, 3]
    d = [0.0, 1, 1, 0, 0, 1, 1, 0]   # zero distances stay explicit entries
    dist = sp.csr_array((d, (rows, cols)), shape=(4, 4))
    return p_median(dist, p, weight=[1.0, 1.0, 1.0, 3.0], cost=np.ones(4), name="t")


def test_greedy_reaches_every_row_then_saves_the_most_weighted_distance():
    start = greedy.start(_line(3))
    assert start is not None
    is_open = start["t"]
    assert is_open.sum() == 3 and is_open[:2].any() and is_open[2:].any()


@pytest.mark.parametrize(("p", "best"), [(2, 2.0), (3, 1.0)])
def test_p_median_optimum(p, best):
    sol = optimise(_line(p), SolverSettings(time_limit_s=30))
    assert sol.objective == pytest.approx(best)
    assert sol.open["t"][3]


def test_the_constructor_keeps_explicit_zero_distances_as_pairs():
    t = _line(2).tiers[0]
    assert t.dist.nnz == t.reach.nnz == 8
    assert (t.reach.data == 1.0).all() and t.min_count == t.max_count == 2
