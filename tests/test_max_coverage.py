"""max_coverage helpers on hand-checkable instances: the greedy start and the reductions."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from siting.core import greedy
from siting.core.model import Problem, TierData


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


def test_max_coverage_reductions_merge_rows_and_drop_dominated_sites():
    from siting.config.scenario import SolverConfig
    from siting.core import presolve as reduce
    from siting.core.model import optimise

    # S0's and S2's rows are subsets of S1's; with S1 alone left, r0 r1 r2 are one row
    # and r3 weighs nothing
    reach = sp.csr_array(np.array([[1, 1, 0], [1, 1, 0], [0, 1, 1], [0, 1, 0]]))
    tier = TierData("t", cost=np.ones(3), existing=np.zeros(3, bool), reach=reach,
                    weight=np.array([1.0, 2.0, 3.0, 0.0]), min_count=1, max_count=1)
    problem = Problem(3, (tier,), objective="max_coverage")
    small, stats = reduce.reduce(problem)
    assert stats == {"rows_dropped": 3, "sites_dropped": 2, "sites_forced": 0}
    assert small.tiers[0].weight.tolist() == [6.0]
    sol = optimise(problem, SolverConfig(time_limit_s=30))
    assert sol.open["t"].tolist() == [False, True, False]
    assert sol.reached_weight == 6.0


def test_second_stage_is_skipped_when_the_counts_fix_the_cost():
    from siting.config.scenario import SolverConfig
    from siting.core.model import optimise

    reach = sp.csr_array(np.array([[0, 1, 0], [1, 1, 0], [1, 0, 1], [0, 0, 1]]))
    weight = np.array([4.0, 5.0, 5.0, 4.0])
    fixed = TierData("t", cost=np.ones(3), existing=np.zeros(3, bool), reach=reach,
                     weight=weight, min_count=2, max_count=2)
    sol = optimise(Problem(3, (fixed,), objective="max_coverage"), SolverConfig(time_limit_s=30))
    assert [name for name, _ in sol.stages] == ["most reached weight"]
    assert sol.reached_weight == 18.0 and sol.cost == 2.0
    free = TierData("t", cost=np.ones(3), existing=np.zeros(3, bool), reach=reach,
                    weight=weight, max_count=3)
    sol = optimise(Problem(3, (free,), objective="max_coverage"), SolverConfig(time_limit_s=30))
    assert len(sol.stages) == 2 and sol.cost == 2.0
