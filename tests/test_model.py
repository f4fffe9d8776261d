"""The model core on hand-checkable instances with known optima."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from siting.core import (
    InfeasibleError,
    Problem,
    SolverSettings,
    TierData,
    cost_of,
    covering,
    optimise,
)

SOLVER = SolverSettings(time_limit_s=30)


def _cover(cover, cost=(3.0, 2.0), **kw):
    return covering(cost, cover, name="locker", **kw)


def test_three_by_two_cover_needs_both_sites():
    # rows 0 and 2 are reached by one site each, so both must open: cost 3 + 2 = 5
    sol = optimise(_cover([[1, 0], [1, 1], [0, 1]]), SOLVER)
    assert sol.open["locker"].tolist() == [True, True]
    assert sol.cost == pytest.approx(5.0)
    assert sol.status == "optimal"
    assert sol.gap == pytest.approx(0.0)
    assert sol.stages[0][1].bound == pytest.approx(5.0)


def test_three_by_two_cover_picks_the_cheaper_dominating_site():
    # site 1 reaches every row; site 0 is cheaper but misses row 2
    sol = optimise(_cover([[1, 1], [1, 1], [0, 1]], cost=(1.0, 4.0)), SOLVER)
    assert sol.open["locker"].tolist() == [False, True]
    assert sol.cost == pytest.approx(4.0)


def test_existing_site_is_free_and_counts():
    sol = optimise(_cover([[1, 0], [1, 1], [0, 1]], existing=(False, True)), SOLVER)
    assert sol.open["locker"].tolist() == [True, True]
    assert sol.cost == pytest.approx(3.0)   # only the new site is paid for


def test_uncoverable_row_is_reported_and_the_rest_solved():
    sol = optimise(_cover([[1, 0], [0, 0], [0, 1]]), SOLVER)
    assert sol.uncoverable["locker"].tolist() == [1]
    assert sol.open["locker"].tolist() == [True, True]


def test_maximise_reach_with_a_count_picks_the_heaviest_rows():
    # 3 rows weighing 1, 5, 2; one site: site 0 reaches rows 0-1 (6), site 1 rows 1-2 (7)
    # a min_cost problem (no constructor): the least cost, then the most weight reached
    reach = sp.csr_array(np.array([[1, 0], [1, 1], [0, 1]]))
    t = TierData("community", cost=np.array([1.0, 1.0]), existing=np.zeros(2, bool),
                 reach=reach, weight=np.array([1.0, 5.0, 2.0]), min_count=1)
    sol = optimise(Problem(2, (t,)), SOLVER)
    assert sol.open["community"].tolist() == [False, True]
    assert sol.reached_weight == pytest.approx(7.0)
    assert len(sol.stages) == 2


def test_colocation_saving_moves_a_point_onto_a_locker():
    # the locker must open at site 1 (only site covering its row); the community point could
    # go to either site at equal cost, and the saving pulls it onto site 1
    locker = _cover([[0, 1]], cost=(10.0, 10.0)).tiers[0]
    comm = TierData("community", cost=np.array([5.0, 5.0]), existing=np.zeros(2, bool),
                    min_count=1)
    sol = optimise(Problem(2, (locker, comm), colocation=("community", "locker", 3.0)), SOLVER)
    assert sol.open["community"].tolist() == [False, True]
    assert sol.cost == pytest.approx(10 + 5 - 3)
    assert cost_of(Problem(2, (locker, comm), ("community", "locker", 3.0)), sol.open) == \
        pytest.approx(sol.cost)


def test_count_above_the_candidates_is_refused_before_solving():
    problem = covering([1.0, np.inf], np.zeros((0, 2)), min_count=2, name="community")
    with pytest.raises(InfeasibleError, match="only 1 candidate"):
        optimise(problem, SOLVER)


def test_conflicting_count_and_cover_is_infeasible_with_advice():
    with pytest.raises(InfeasibleError, match="max_count"):
        optimise(_cover([[1, 0], [0, 1]], max_count=1), SOLVER)


@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_both_solvers_agree(solver):
    problem = _cover([[1, 0, 1], [1, 1, 0], [0, 1, 1]], cost=(2.0, 3.0, 4.0))
    sol = optimise(problem, SolverSettings(name=solver, time_limit_s=30))
    assert sol.cost == pytest.approx(5.0)
    assert sol.status == "optimal"
    assert sol.stages[0][1].solver.startswith("HiGHS" if solver == "highs" else "CBC")
