"""The tiers apart (siting.core.decompose): the time shared by the pieces, worst first."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import scipy.sparse as sp

from siting.core import Problem, SolverSettings, TierData, decompose, optimise

from . import lockers


def _lockers(seed: int, n_rows: int = 14, n: int = 36) -> Problem:
    """Areas and sites at random in the unit square, reach 0.3: a piece or two of lockers."""
    return Problem(n, (lockers.piece(seed, n_rows=n_rows, n=n, reach=0.3,
                                     costs=(5.0, 8.0, 12.0)),))


def _alone(piece: Problem, settings: SolverSettings):  # type: ignore[no-untyped-def]
    return optimise(piece, settings, cut=False)


@pytest.mark.parametrize("seed", [9, 17])   # roots leaving a gap
def test_the_pieces_solved_again_close_the_gap_the_first_nodes_leave(seed, monkeypatch):
    monkeypatch.setattr(decompose, "FIRST_NODES", 1)      # the root only, at first
    problem = _lockers(seed)
    first = decompose.decompose(problem, SolverSettings(time_limit_s=60, max_nodes=1), _alone)
    assert first is not None and first.refined == 0
    assert first.cost - first.bound > 1.0                  # the root leaves a gap …
    exact = SolverSettings(time_limit_s=60, rel_gap=0.0)
    again = decompose.decompose(problem, exact, _alone)
    assert again is not None and again.refined >= 1       # … the pieces solved again close it
    assert again.bound >= first.bound - 1e-6 and again.cost <= first.cost + 1e-6
    assert again.cost == pytest.approx(again.bound, abs=1e-4)
    whole = optimise(problem, exact, cut=False)            # the site-by-site model agrees
    assert whole.status == "optimal" and whole.cost == pytest.approx(again.cost)
    twice = decompose.decompose(problem, exact, _alone)     # and the same on every run
    assert twice is not None and _seen(twice) == _seen(again)


def _seen(apart: decompose.Decomposed) -> tuple:  # type: ignore[type-arg]
    """What a run shows of the pieces, timings aside."""
    return (apart.cost, apart.bound, apart.refined,
            {k: v.tolist() for k, v in apart.choice.items()},
            [(name, o.status, o.objective, o.bound, o.nodes) for name, o in apart.pieces])


def test_the_pieces_stop_once_the_plan_is_within_the_gap_asked(monkeypatch):
    monkeypatch.setattr(decompose, "FIRST_NODES", 1)
    problem = _lockers(9)
    exact = decompose.decompose(problem, SolverSettings(time_limit_s=60), _alone)
    loose = decompose.decompose(problem, SolverSettings(time_limit_s=60, rel_gap=0.02), _alone,
                                forced=100.0)
    assert exact is not None and loose is not None
    assert loose.cost - loose.bound <= 0.02 * (loose.cost - 100.0) + 1e-6
    assert loose.refined < exact.refined


def test_the_pieces_are_not_solved_again_past_the_users_limit(monkeypatch):
    monkeypatch.setattr(decompose, "FIRST_NODES", 1)
    done = SolverSettings(time_limit_s=60, deadline=0.0)    # the clock has run out
    apart = decompose.decompose(_lockers(7), done, _alone)
    assert apart is not None and apart.refined == 0
    assert apart.bound <= apart.cost


def test_a_price_without_the_community_count_solves_no_locker_piece_again(monkeypatch):
    from dataclasses import replace

    from siting.core import banks

    monkeypatch.setattr(banks, "_kept", type(banks._kept)())
    lockers = _lockers(5).tiers[0]
    n = len(lockers.cost)
    rng = np.random.default_rng(5)
    cover = sp.csr_array((rng.random((6, n)) < 0.2).astype(int))
    community = TierData("community", cost=np.full(n, 80.0), existing=np.zeros(n, bool),
                         cover=cover, min_count=12)
    problem = Problem(n, (community, lockers), colocation=("community", "locker", 3.0))
    settings = SolverSettings(time_limit_s=60, rel_gap=0.0)
    main = optimise(problem, settings)
    solved: list[int] = []
    solve = banks._solve
    monkeypatch.setattr(banks, "_solve", lambda *a: solved.append(1) or solve(*a))
    without = replace(problem, tiers=(replace(community, min_count=0), lockers))
    price = optimise(without, replace(settings, max_nodes=100))
    assert not solved                                   # the run's own pieces, kept
    assert price.cost <= main.cost and price.stages[0][1].bound <= price.cost + 1e-6
    exact = optimise(without, settings, cut=False)      # and the price's bound holds
    assert exact.cost >= price.stages[0][1].bound - 1e-6


@pytest.mark.parametrize("seed", [5, 7, 9, 17])
def test_the_banks_floor_is_a_bound_on_every_piece(seed):
    from siting.core import banks

    t = _lockers(seed).tiers[0]
    low = banks.floor(t)
    exact = banks.solve_tier(t, SolverSettings(time_limit_s=60, rel_gap=0.0))
    assert low is not None and exact is not None and exact.outcome.status == "optimal"
    assert 0 < low <= float(exact.outcome.objective) + 1e-6
    target = replace(t, min_capacity=1_500.0, existing_capacity=np.zeros(len(t.cost)))
    with_target = banks.solve_tier(target, SolverSettings(time_limit_s=60, rel_gap=0.0))
    assert with_target is not None and with_target.outcome.status == "optimal"
    assert low <= banks.floor(target) <= float(with_target.outcome.objective) + 1e-6


def test_a_piece_the_clock_stops_before_a_plan_gets_the_greedy_plan_and_a_floor(monkeypatch):
    """The user's limit ran out inside a piece's solve: the county still gets a plan."""
    from siting.core import banks
    from siting.core.problem import Outcome

    problem = _lockers(0)
    exact = decompose.decompose(problem, SolverSettings(time_limit_s=60, rel_gap=0.0), _alone)
    assert exact is not None and len(exact.pieces) >= 2
    solve = banks.solve_tier
    calls: list[int] = []

    def stopped(t, settings, **kw):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) > 1:        # the first piece is solved; the clock stops the next
            return solve(t, settings, **kw)
        return banks.Banks(Outcome("HiGHS", "no_solution", None, None, None, 3.0),
                           np.full(len(t.cost), -1), 0)

    monkeypatch.setattr(banks, "solve_tier", stopped)
    late = SolverSettings(time_limit_s=60, deadline=0.0)
    apart = decompose.decompose(problem, late, _alone)
    assert apart is not None
    names = [o.solver for _, o in apart.pieces]
    assert names[0].startswith("greedy (HiGHS stopped") and not names[1].startswith("greedy")
    assert apart.pieces[0][1].status == "feasible"
    assert apart.bound <= exact.bound + 1e-6 <= apart.cost + 1e-6   # a bound, and a plan …
    (t,) = problem.tiers
    assert lockers.serves(t, np.where(apart.choice["locker"] >= 0, apart.choice["locker"], -1))
    monkeypatch.setattr(banks, "solve_tier", lambda t, s, **kw: banks.Banks(
        Outcome("HiGHS", "no_solution", None, None, None, 3.0), np.full(len(t.cost), -1), 0))
    assert decompose.decompose(problem, SolverSettings(time_limit_s=60), _alone) is None
    # … but with time left, a piece without a plan hands the whole model to the solver


def test_a_run_the_clock_stops_inside_the_pieces_says_feasible_with_its_gap(monkeypatch):
    from siting.core import banks
    from siting.core import solve as solver
    from siting.core.problem import Outcome

    problem = _lockers(0)
    monkeypatch.setattr(banks, "_kept", type(banks._kept)())
    monkeypatch.setattr(banks, "solve_tier", lambda t, s, **kw: banks.Banks(
        Outcome("HiGHS", "no_solution", None, None, None, 3.0), np.full(len(t.cost), -1), 0))
    late = SolverSettings(time_limit_s=60, deadline=0.0)
    apart = decompose.decompose(problem, late, _alone)
    assert apart is not None and apart.greedy == len(apart.pieces) == 2
    # the whole model gets its last second from the greedy start, beside the pieces' plan
    sol = optimise(problem, late)
    first = sol.stages[0][1]
    assert first.bound is not None and apart.bound - 1e-6 <= first.bound <= sol.cost
    assert sol.cost <= apart.cost + 1e-6
    (t,) = problem.tiers
    assert lockers.serves(t, np.where(t.existing, -1, sol.size["locker"]))
    # and when it finds nothing either, the pieces' plan is the answer, and says so
    no_plan = Outcome("HiGHS", "no_solution", None, None, None, 1.0)
    monkeypatch.setattr(solver, "run", lambda *a, **kw: no_plan)
    sol = optimise(problem, late)
    first = sol.stages[0][1]
    assert sol.status == "feasible" and first.status == "feasible"
    assert first.solver == "greedy (2 pieces apart, 2 of them greedy, stopped by the time limit)"
    assert first.bound == pytest.approx(apart.bound) and sol.cost <= apart.cost + 1e-6
    assert first.avoidable_gap is not None and 0 < first.avoidable_gap < 1
    assert lockers.serves(t, np.where(t.existing, -1, sol.size["locker"]))


def test_a_tier_the_clock_stops_gets_the_greedy_plan_and_its_count_floor():
    from siting.core import SolverError

    lockers = _lockers(0).tiers[0]
    n = len(lockers.cost)
    rng = np.random.default_rng(4)
    cover = sp.csr_array((rng.random((8, n)) < 0.25).astype(int))
    community = TierData("community", cost=rng.choice([60.0, 80.0], n),
                         existing=np.zeros(n, bool), cover=cover, min_count=10)
    problem = Problem(n, (community, lockers), colocation=("community", "locker", 3.0))
    exact = optimise(problem, SolverSettings(time_limit_s=60, rel_gap=0.0))

    def stopped(piece, settings):  # type: ignore[no-untyped-def]
        if piece.tiers[0].name == "community":
            raise SolverError("HiGHS found no solution within 0 s")
        return _alone(piece, settings)

    apart = decompose.decompose(problem, SolverSettings(time_limit_s=60, deadline=0.0), stopped)
    assert apart is not None
    (name, o), *_ = apart.pieces
    assert name == "community" and o.solver == "greedy" and o.status == "feasible"
    assert 10 * 57.0 <= o.bound <= o.objective         # the ten cheapest sites, less the saving
    assert apart.bound <= exact.stages[0][1].objective + 1e-6 <= apart.cost + 1e-6
    opened = apart.choice["community"]
    assert opened.sum() >= 10 and (cover @ opened.astype(int) > 0).all()
    # with time left, no piece is made up: the whole model is solved instead
    assert decompose.decompose(problem, SolverSettings(time_limit_s=60), stopped) is None
