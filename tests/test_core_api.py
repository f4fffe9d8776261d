"""The core's door and rooms: constructors, variables by site, clock-free budgets, one way in."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from siting.core import (
    Problem,
    SolverSettings,
    TierData,
    components,
    covering,
    formulation,
    max_coverage,
    optimise,
    p_median,
    variables,
)

from .test_layers import LINT, _break, _copy, _lint

CORE = Path(__file__).resolve().parents[1] / "siting" / "core"
SETTINGS = SolverSettings(time_limit_s=30)


def test_constructors_take_dense_or_sparse_matrices_alike():
    a = np.array([[1, 0, 1], [0, 1, 1]])
    dense, sparse = covering([1, 2, 3], a), covering([1, 2, 3], sp.csr_array(a))
    assert (dense.tiers[0].cover != sparse.tiers[0].cover).nnz == 0
    assert optimise(dense, SETTINGS).cost == optimise(sparse, SETTINGS).cost == 3.0
    mclp = max_coverage(a, [2.0, 5.0], p=1).tiers[0]
    assert (mclp.min_count, mclp.max_count, mclp.cost.tolist()) == (1, 1, [1.0, 1.0, 1.0])
    d = np.array([[0.0, np.inf, 4.0], [np.inf, 1.0, 2.0]])   # inf: no pair
    pm = p_median(d, (1, 2), weight=[1.0, 3.0]).tiers[0]
    assert pm.dist.nnz == pm.reach.nnz == 4 and (pm.min_count, pm.max_count) == (1, 2)
    assert optimise(p_median(d, 1, weight=[1.0, 3.0]), SETTINGS).objective == \
        pytest.approx(4.0 + 3 * 2.0)


def _lockers() -> Problem:
    """Site 0 existing (40 compartments), 1 and 2 new with two bank sizes, 3 not allowed."""
    t = TierData("locker", cost=np.array([0.0, 5.0, 7.0, np.inf]),
                 existing=np.array([True, False, False, False]),
                 cover=sp.csr_array(np.array([[1, 1, 0, 0], [0, 1, 1, 1]])),
                 sizes=((60.0, 10.0), (120.0, 15.0)), demand=np.array([50.0, 70.0]),
                 existing_capacity=np.array([40.0, 0.0, 0.0, 0.0]))
    return Problem(4, (t,))


def test_variables_are_kept_by_site_and_a_start_reads_back_the_same():
    problem = _lockers()
    built = formulation.build(problem)
    v = built.vars["locker"]
    assert v.sites.tolist() == [0, 1, 2] and v.start.tolist() == [0, 1, 3, 5]
    assert v.site.tolist() == [0, 1, 1, 2, 2] and v.size.tolist() == [-1, 0, 1, 0, 1]
    assert v.capacity.tolist() == [40.0, 60.0, 120.0, 60.0, 120.0]
    assert v.paid.tolist() == [False, True, True, True, True]
    for var, x in variables.start_values(built.vars, {"locker": np.array([0, 1, -1, -1])}):
        var.varValue = x
    chosen, size, capacity = variables.read(problem, built.vars)
    assert chosen["locker"].tolist() == [True, True, False, False]
    assert size["locker"].tolist() == [-1, 1, -1, -1]
    assert capacity["locker"].tolist() == [40.0, 120.0, 0.0, 0.0]


def test_a_boolean_start_opens_the_one_variable_of_each_site():
    problem = covering([3.0, 2.0, 4.0], [[1, 0, 1], [0, 1, 1]])
    built = formulation.build(problem)
    start = variables.start_values(built.vars, {"site": np.array([False, True, True])})
    assert [x for _, x in start] == [0.0, 1.0, 1.0]


def _pieces(k: int) -> Problem:
    """``k`` separate areas of 90 compartments, each reached by two new sites of its own."""
    cover = sp.block_diag([sp.csr_array(np.ones((1, 2)))] * k, format="csr")
    t = TierData("locker", cost=np.tile([4.0, 5.0], k), existing=np.zeros(2 * k, bool),
                 cover=sp.csr_array(cover), sizes=((60.0, 10.0), (120.0, 15.0)),
                 demand=np.full(k, 90.0))
    return Problem(2 * k, (t,))


def test_the_pieces_stop_on_a_node_budget_not_a_clock():
    calls: list[int] = []

    def solve(piece: Problem) -> object:
        calls.append(piece.n_sites)
        return optimise(piece, SolverSettings(time_limit_s=30, max_nodes=10), cut=False)

    cuts, starts = components.capacity_bounds(_pieces(3), solve, nodes=0)
    assert calls == [] and cuts == {"locker": []} and starts == {}
    cuts, starts = components.capacity_bounds(_pieces(3), solve)
    assert len(calls) == 3 and [b for _, b in cuts["locker"]] == [19.0, 19.0, 19.0]
    assert starts["locker"].tolist() == [1, -1, 1, -1, 1, -1]


def test_two_runs_prove_the_same_things():
    runs = [optimise(_pieces(4), SETTINGS) for _ in range(2)]
    a, b = ([(name, o.status, o.objective, o.bound, o.nodes) for name, o in r.stages]
            for r in runs)
    assert a == b and runs[0].cost == 4 * 19.0
    assert np.array_equal(runs[0].size["locker"], runs[1].size["locker"])


def test_no_budget_inside_the_core_reads_the_clock():
    # timings are reported (optimise, solve); nothing else in the core may look at a clock
    for path in CORE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        if path.name not in ("optimise.py", "solve.py"):
            assert "perf_counter" not in text and "import time" not in text, path


@pytest.mark.skipif(not LINT.exists(), reason="import-linter is not installed")
def test_components_calling_the_driver_back_breaks_the_core_layers(tmp_path):
    root = _copy(tmp_path)     # (test_layers shows an import inside a function counts too)
    _break(root, "core/components.py", "from siting.core.optimise import optimise  # noqa")
    out = _lint(root)
    assert out.returncode != 0
    assert "siting.core.components is not allowed to import siting.core.optimise" in out.stdout
