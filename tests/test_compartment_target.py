"""A compartment target (a lower bound on open compartments) at its least cost, by brute force."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp

from siting.core import InfeasibleError, Problem, SolverSettings, TierData, banks, optimise

SIZES = ((60.0, 25.0), (120.0, 40.0), (240.0, 70.0))   # with the site's 5: 30, 45, 75
SETTINGS = SolverSettings(time_limit_s=30)
COVER = np.array([[1, 1, 1, 1, 0], [0, 0, 1, 1, 1]])   # A by sites 0-3, B by sites 2-4
DEMAND = np.array([100.0, 150.0])
EXISTING = np.array([False, False, False, False, True])
EX_CAP = np.array([0, 0, 0, 0, 60.0])


def _tier(target: float) -> TierData:
    return TierData("locker", cost=np.where(EXISTING, np.inf, 5.0), existing=EXISTING,
                    cover=sp.csr_array(COVER), sizes=SIZES, demand=DEMAND,
                    existing_capacity=EX_CAP, min_capacity=target)


def _fits(caps: np.ndarray) -> bool:
    """Every area's compartments fit the banks within reach (a max flow)."""
    g = nx.DiGraph()
    for i, d in enumerate(DEMAND):
        g.add_edge("s", ("a", i), capacity=d)
        for j in np.flatnonzero(COVER[i]):
            g.add_edge(("a", i), ("b", j), capacity=d)
    for j, c in enumerate(caps):
        g.add_edge(("b", j), "t", capacity=c)
    return nx.maximum_flow_value(g, "s", "t") >= DEMAND.sum() - 1e-9


def _brute_force(target: float) -> float:
    """The least cost over every bank size (or none) at the four new sites."""
    best = np.inf
    for choice in itertools.product(range(-1, len(SIZES)), repeat=4):
        caps = np.array([SIZES[s][0] if s >= 0 else 0.0 for s in choice] + [60.0])
        cost = sum(5.0 + SIZES[s][1] for s in choice if s >= 0)
        if caps.sum() >= target and _fits(caps):
            best = min(best, cost)
    return best


@pytest.mark.parametrize("target", [0.0, 400.0, 700.0, 1020.0])
def test_the_target_is_met_at_its_brute_force_least_cost(target: float):
    want = _brute_force(target)
    sol = optimise(Problem(5, (_tier(target),)), SETTINGS)
    assert sol.status == "optimal"
    assert sol.cost == pytest.approx(want)
    opened = np.where(EXISTING, EX_CAP, sol.capacity["locker"])
    assert opened[sol.open["locker"]].sum() >= target
    alone = banks.solve_tier(_tier(target), SETTINGS)       # the merged-site model agrees
    assert alone is not None and alone.outcome.objective == pytest.approx(want)


def test_reaching_the_target_costs_more_than_sizing_to_demand():
    # demand alone: 190 compartments beyond the existing 60 (75 for a 240); a target of 700
    # asks for 640 new compartments (three 240s at least: 225)
    assert _brute_force(0.0) == pytest.approx(75.0)
    assert _brute_force(700.0) == pytest.approx(225.0)
    assert optimise(Problem(5, (_tier(700.0),)), SETTINGS).cost == pytest.approx(
        _brute_force(700.0))


def test_a_target_beyond_every_candidate_is_refused_before_solving():
    with pytest.raises(InfeasibleError, match="compartments are required"):
        optimise(Problem(5, (_tier(60.0 + 4 * 240.0 + 1),)), SETTINGS)
