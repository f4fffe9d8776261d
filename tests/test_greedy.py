"""The greedy warm start on hand-checkable instances."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from siting import greedy
from siting.model import Problem, TierData


def test_swap_leaves_the_greedy_trap_of_the_heaviest_site():
    # rows r0..r3 weigh 4, 5, 5, 4; S0 reaches r1 r2 (10), S1 r0 r1 (9), S2 r2 r3 (9).
    # Greedy with p = 2 takes S0 then S1 (14); swapping S0 for S2 reaches all 18.
    reach = sp.csr_array(np.array([[0, 1, 0], [1, 1, 0], [1, 0, 1], [0, 0, 1]]))
    tier = TierData("t", cost=np.ones(3), existing=np.zeros(3, bool), reach=reach,
                    weight=np.array([4.0, 5.0, 5.0, 4.0]), min_count=2, max_count=2)
    start = greedy.start(Problem(3, (tier,), objective="max_coverage"))
    assert start is not None
    assert start["t"].tolist() == [False, True, True]


def test_swap_never_opens_a_dearer_site():
    reach = sp.csr_array(np.array([[0, 1, 0], [1, 1, 0], [1, 0, 1], [0, 0, 1]]))
    tier = TierData("t", cost=np.array([1.0, 1.0, 5.0]), existing=np.zeros(3, bool),
                    reach=reach, weight=np.array([4.0, 5.0, 5.0, 4.0]), min_count=2,
                    max_count=2)
    start = greedy.start(Problem(3, (tier,), objective="max_coverage"))
    assert start is not None
    assert start["t"].tolist() == [True, True, False]
