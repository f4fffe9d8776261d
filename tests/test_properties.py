"""Property tests on small random instances (hypothesis)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from scipy.sparse import csgraph

from siting.core import InfeasibleError, Problem, SolverSettings, TierData, covering, optimise

CFG = SolverSettings(time_limit_s=30)


@st.composite
def instances(draw, capacity=False):
    rows = draw(st.integers(2, 9))
    sites = draw(st.integers(2, 8))
    bits = draw(st.lists(st.booleans(), min_size=rows * sites, max_size=rows * sites))
    a = np.array(bits, dtype=np.int8).reshape(rows, sites)
    cost = np.array(draw(st.lists(st.integers(1, 20), min_size=sites, max_size=sites)), float)
    existing = np.array(draw(st.lists(st.booleans(), min_size=sites, max_size=sites)))
    existing &= np.array(draw(st.lists(st.booleans(), min_size=sites, max_size=sites)))
    kw = {}
    if capacity:
        demand = np.array(draw(st.lists(st.integers(1, 60), min_size=rows, max_size=rows)),
                          float)
        kw = {"sizes": ((60.0, 10.0), (120.0, 16.0)), "demand": demand,
              "existing_capacity": np.where(existing, 60.0, 0.0)}
    count = draw(st.integers(0, int(sites)))
    tier = covering(cost, a, existing=existing, min_count=count, name="t").tiers[0]
    return replace(tier, **kw)


def feasible(t: TierData, is_open: np.ndarray, cap: np.ndarray) -> bool:
    """Independent check: coverable rows covered, count met, demand fits (max flow)."""
    a = t.cover.toarray()
    coverable = (a[:, t.allowed]).any(axis=1)
    if not ((a[:, is_open].any(axis=1)) | ~coverable).all():
        return False
    if is_open.sum() < t.min_count:
        return False
    if t.demand is None:
        return True
    rows, sites = a.shape
    src, sink = 0, rows + sites + 1
    edges = []
    for i in range(rows):
        if not coverable[i]:
            continue
        edges.append((src, 1 + i, int(t.demand[i])))
        edges += [(1 + i, 1 + rows + j, int(t.demand[i]))
                  for j in np.flatnonzero(a[i] & is_open)]
    edges += [(1 + rows + j, sink, int(cap[j])) for j in np.flatnonzero(is_open)]
    if not edges:
        return True
    r, c, v = (np.array(x) for x in zip(*edges, strict=True))
    g = sp.csr_array((v.astype(np.int32), (r, c)), shape=(sink + 1, sink + 1))
    need = int(t.demand[coverable].sum())
    return csgraph.maximum_flow(g, src, sink).flow_value >= need


SETTINGS = settings(max_examples=25, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])


def _solve(t: TierData):
    try:
        return optimise(Problem(len(t.cost), (t,)), CFG)
    except InfeasibleError:      # an infeasible draw (count, capacity): draw another
        assume(False)


@SETTINGS
@given(instances())
def test_every_solution_passes_the_independent_check(t):
    sol = _solve(t)
    assert feasible(t, sol.open["t"], sol.capacity["t"])


@SETTINGS
@given(instances(capacity=True))
def test_capacitated_solutions_pass_the_max_flow_check(t):
    sol = _solve(t)
    assert feasible(t, sol.open["t"], np.where(t.existing, 60.0, sol.capacity["t"]))


@SETTINGS
@given(instances(), st.integers(1, 20), st.data())
def test_adding_a_candidate_never_worsens_the_optimum(t, cost, data):
    before = _solve(t)
    rows = t.cover.shape[0]
    col = np.array(data.draw(st.lists(st.booleans(), min_size=rows, max_size=rows)), np.int8)
    bigger = covering(np.append(t.cost, cost), np.column_stack([t.cover.toarray(), col]),
                      existing=np.append(t.existing, False), min_count=t.min_count, name="t")
    after = optimise(bigger, CFG)
    coverable_before = len(before.uncoverable["t"])
    if len(after.uncoverable["t"]) == coverable_before:
        assert after.cost <= before.cost + 1e-6


@SETTINGS
@given(instances(), st.integers(0, 7))
def test_fixing_an_existing_site_keeps_a_feasible_instance_feasible(t, k):
    _solve(t)
    j = k % len(t.cost)
    fixed = covering(t.cost, t.cover, existing=t.existing | (np.arange(len(t.cost)) == j),
                     min_count=t.min_count, name="t")
    sol = optimise(fixed, CFG)     # must not raise
    assert sol.open["t"][j]


@SETTINGS
@given(instances())
def test_two_runs_give_identical_sites(t):
    a = _solve(t)
    b = optimise(Problem(len(t.cost), (t,)), CFG)
    assert np.array_equal(a.open["t"], b.open["t"])


@SETTINGS
@given(instances())
def test_reductions_never_change_the_optimum(t):
    a = _solve(t)
    b = optimise(Problem(len(t.cost), (t,)), CFG, reduce=False)
    assert a.cost == pytest.approx(b.cost)
