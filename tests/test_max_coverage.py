"""max_coverage helpers on hand-checkable instances: the greedy start and the reductions."""

from __future__ import annotations

import numpy as np

from siting.core import SolverSettings, max_coverage, optimise, presolve
from siting.core.heuristics import greedy

# rows r0..r3 weigh 4, 5, 5, 4; S0 reaches r1 r2 (10), S1 r0 r1 (9), S2 r2 r3 (9)
REACH = np.array([[0, 1, 0], [1, 1, 0], [1, 0, 1], [0, 0, 1]])
WEIGHT = [4.0, 5.0, 5.0, 4.0]


def test_swap_leaves_the_greedy_trap_of_the_heaviest_site():
    # Greedy with p = 2 takes S0 then S1 (14); swapping S0 for S2 reaches all 18.
    start = greedy.start(max_coverage(REACH, WEIGHT, p=2, name="t"))
    assert start is not None
    assert start["t"].tolist() == [False, True, True]


def test_swap_never_opens_a_dearer_site():
    start = greedy.start(max_coverage(REACH, WEIGHT, p=2, cost=[1.0, 1.0, 5.0], name="t"))
    assert start is not None
    assert start["t"].tolist() == [True, True, False]


def test_max_coverage_reductions_merge_rows_and_drop_dominated_sites():
    # S0's and S2's rows are subsets of S1's; with S1 alone left, r0 r1 r2 are one row
    # and r3 weighs nothing
    reach = np.array([[1, 1, 0], [1, 1, 0], [0, 1, 1], [0, 1, 0]])
    problem = max_coverage(reach, [1.0, 2.0, 3.0, 0.0], p=1, name="t")
    small, stats = presolve.reduce(problem)
    assert stats == {"rows_dropped": 3, "sites_dropped": 2, "sites_forced": 0}
    assert small.tiers[0].weight.tolist() == [6.0]
    sol = optimise(problem, SolverSettings(time_limit_s=30))
    assert sol.open["t"].tolist() == [False, True, False]
    assert sol.reached_weight == 6.0


def test_second_stage_is_skipped_when_the_counts_fix_the_cost():
    settings = SolverSettings(time_limit_s=30)
    sol = optimise(max_coverage(REACH, WEIGHT, p=2, name="t"), settings)
    assert [name for name, _ in sol.stages] == ["most reached weight"]
    assert sol.reached_weight == 18.0 and sol.cost == 2.0
    sol = optimise(max_coverage(REACH, WEIGHT, max_count=3, name="t"), settings)
    assert len(sol.stages) == 2 and sol.cost == 2.0
