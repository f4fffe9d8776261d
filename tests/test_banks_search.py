"""A locker piece's plan improved by solving neighbourhoods again (core.banks_search)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from siting.core import SolverSettings, TierData, banks, banks_search
from siting.core.problem import Outcome

from . import lockers
from .lockers import SIZES

EXACT = SolverSettings(time_limit_s=60, rel_gap=0.0)


def _piece(seed: int) -> TierData:
    """16 areas, 40 sites, reach 0.35, two existing banks of 90."""
    return lockers.piece(seed, n_rows=16, n=40, reach=0.35, costs=(-5.0, 5.0), existing=2)


def _dear(t: TierData, bound: float) -> banks.Banks:
    """A feasible plan of ``t`` with a 240-bank at every site (the merged model with the
    smaller sizes priced out and the biggest paid for), at ``t``'s own costs: dear."""
    only_big = replace(t, sizes=((60.0, 1e6), (120.0, 1e6), (240.0, -1e3)))
    got = banks.solve_tier(only_big, EXACT)
    assert got is not None and got.outcome.has_solution
    classes = banks.classes_of(t)
    cost = sum((c.cost + price) * n for c, ns in zip(classes, got.counts, strict=True)
               for n, (_, price) in zip(ns, t.sizes, strict=False))
    outcome = Outcome("HiGHS", "feasible", float(cost), bound, None, 0.0, 1)
    return replace(got, outcome=outcome)


def _price(t: TierData, size: np.ndarray) -> float:
    new = size >= 0
    return float((t.cost[new] + np.array([t.sizes[s][1] for s in size[new]])).sum())


@pytest.mark.parametrize("seed", range(6))
def test_a_neighbourhood_holding_the_whole_piece_finds_the_optimum(seed, monkeypatch):
    t = _piece(seed)
    exact = banks.solve_tier(t, EXACT)
    assert exact is not None and exact.outcome.status == "optimal"
    dear = _dear(t, float(exact.outcome.objective))
    assert float(dear.outcome.objective) > float(exact.outcome.objective) + 1.0
    monkeypatch.setattr(banks_search, "ROWS", 100)
    monkeypatch.setattr(banks_search, "CLASSES", 1000)
    monkeypatch.setattr(banks_search, "NODES", 10_000)
    got = banks_search.improve(t, dear, EXACT)
    assert got.outcome.objective == pytest.approx(exact.outcome.objective)
    assert got.outcome.status == "optimal"          # the plan meets its bound
    assert lockers.serves(t, got.size)
    assert _price(t, got.size) == pytest.approx(got.outcome.objective)


@pytest.mark.parametrize("seed", range(4))
def test_small_neighbourhoods_give_a_cheaper_plan_that_serves_every_area(seed):
    t = _piece(seed)
    exact = banks.solve_tier(t, EXACT)
    assert exact is not None
    dear = _dear(t, float(exact.outcome.bound or 0.0))
    got = banks_search.improve(t, dear, SolverSettings(time_limit_s=60))
    before, after = float(dear.outcome.objective or 0), float(got.outcome.objective or 0)
    assert float(exact.outcome.objective or 0) - 1e-6 <= after < before - 1.0
    assert got.outcome.bound == dear.outcome.bound       # the search proves nothing
    assert lockers.serves(t, got.size)
    assert _price(t, got.size) == pytest.approx(after)
    again = banks_search.improve(t, dear, SolverSettings(time_limit_s=60))
    assert again.size.tolist() == got.size.tolist()      # the same on every run
    assert again.flows == got.flows


def test_a_plan_at_its_bound_or_without_flows_is_left_as_it_is():
    t = _piece(0)
    exact = banks.solve_tier(t, EXACT)
    assert exact is not None and exact.outcome.status == "optimal"
    assert banks_search.improve(t, exact, EXACT) is exact
    bare = replace(_dear(t, 0.0), flows=())
    assert banks_search.improve(t, bare, EXACT) is bare


def test_the_user_clock_stops_the_search():
    t = _piece(1)
    dear = _dear(t, 0.0)
    late = SolverSettings(time_limit_s=60, deadline=0.0)    # the clock has run out
    assert banks_search.improve(t, dear, late) is dear


def test_a_compartment_target_holds_in_every_neighbourhood():
    t = _piece(2)
    assert t.demand is not None
    with_target = replace(t, min_capacity=float(t.demand.sum()) + 1_000.0)
    exact = banks.solve_tier(with_target, EXACT)
    assert exact is not None and exact.outcome.status == "optimal"
    dear = _dear(with_target, float(exact.outcome.objective))    # meets the target too
    got = banks_search.improve(with_target, dear, SolverSettings(time_limit_s=60))
    assert float(got.outcome.objective or 0) < float(dear.outcome.objective or 0) - 1.0
    size = got.size
    assert sum(SIZES[s][0] for s in size[size >= 0]) >= with_target.capacity_target - 1e-6
    assert lockers.serves(t, size)
    assert _price(t, size) == pytest.approx(got.outcome.objective)


def test_a_neighbourhood_whose_solve_fails_leaves_the_plan_held(monkeypatch):
    from siting.core import solve
    from siting.core._errors import SolverError

    t = _piece(3)
    dear = _dear(t, 0.0)

    def fails(*a, **kw):  # type: ignore[no-untyped-def]
        raise SolverError("HiGHS returned a solution that violates the model")

    monkeypatch.setattr(solve, "run", fails)
    assert banks_search.improve(t, dear, SolverSettings(time_limit_s=60)) is dear
