"""The tiers apart (siting.core.decompose): the time shared by the pieces, worst first."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from siting.core import Problem, SolverSettings, TierData, decompose, optimise

SIZES = ((60.0, 25.0), (120.0, 40.0), (240.0, 70.0))


def _lockers(seed: int, n_rows: int = 14, n: int = 36) -> Problem:
    """Areas and sites at random in the unit square, reach 0.3: a piece or two of lockers."""
    rng = np.random.default_rng(seed)
    rows, sites = rng.random((n_rows, 2)), rng.random((n, 2))
    dist = np.hypot(*(rows[:, None, :] - sites[None, :, :]).transpose(2, 0, 1))
    cover = dist < 0.3
    cover[np.arange(n_rows), dist.argmin(1)] = True
    t = TierData("locker", cost=rng.choice([5.0, 8.0, 12.0], n), existing=np.zeros(n, bool),
                 cover=sp.csr_array(cover.astype(int)), sizes=SIZES,
                 demand=rng.choice([20.0, 70.0, 130.0, 200.0], n_rows))
    return Problem(n, (t,))


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
