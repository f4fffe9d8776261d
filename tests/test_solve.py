"""The solver seam: what siting reads from HiGHS is what HiGHS itself reports.

A small unicost set cover is solved twice: through PuLP and :mod:`siting.core.solve`, and
straight through highspy with the same columns, rows and options. The status, objective,
bound, gap and node count siting reports must be HiGHS's own ``getInfo()`` values.
"""

from __future__ import annotations

import highspy
import numpy as np
import pulp
import pytest

from siting.core import SolverSettings, solve

LIMITS = {"time_limit": 60.0, "mip_rel_gap": 0.0, "mip_abs_gap": 1e-6, "threads": 1,
          "random_seed": 0, "output_flag": False}


def _instance(seed: int = 3) -> np.ndarray:
    """100 rows × 60 sites, about 6 % dense, every row coverable (seed 3: a root gap)."""
    rng = np.random.default_rng(seed)
    a = (rng.uniform(size=(100, 60)) < 0.06).astype(int)
    a[np.arange(100), rng.integers(0, 60, 100)] = 1
    return a


def _pulp(a: np.ndarray, *, maximise: bool, integer: bool = True) -> pulp.LpProblem:
    """min 1·x (or max −1·x) s.t. A x ≥ 1; names sort in column order."""
    sense = pulp.LpMaximize if maximise else pulp.LpMinimize
    lp = pulp.LpProblem("pin", sense)
    cat = pulp.LpInteger if integer else pulp.LpContinuous
    x = [lp.add_variable(f"x{j:03d}", 0, 1, cat) for j in range(a.shape[1])]
    lp.setObjective(pulp.LpAffineExpression([(v, -1.0 if maximise else 1.0) for v in x]))
    for i, row in enumerate(a):
        lp += pulp.LpAffineExpression([(x[j], 1.0) for j in np.flatnonzero(row)]) >= 1, f"r{i}"
    return lp


def _highs(a: np.ndarray, *, max_nodes: int | None, integer: bool = True) -> highspy.Highs:
    """The same model handed to highspy directly (minimise 1·x)."""
    h = highspy.Highs()
    for key, value in LIMITS.items():
        h.setOptionValue(key, value)
    if max_nodes is not None:
        h.setOptionValue("mip_max_nodes", max_nodes)
    m, n = a.shape
    h.addCols(n, np.ones(n), np.zeros(n), np.ones(n), 0, np.zeros(0, np.int32),
              np.zeros(0, np.int32), np.zeros(0))
    if integer:
        h.changeColsIntegrality(n, np.arange(n, dtype=np.int32),
                                np.full(n, highspy.HighsVarType.kInteger))
    rows, cols = np.nonzero(a)
    starts = np.searchsorted(rows, np.arange(m)).astype(np.int32)
    h.addRows(m, np.ones(m), np.full(m, highspy.kHighsInf), len(cols), starts,
              cols.astype(np.int32), np.ones(len(cols)))
    h.run()
    return h


@pytest.mark.parametrize("maximise", [False, True])
def test_a_node_limit_reports_highs_own_bound_and_gap(maximise):
    a = _instance()
    out = solve.run(_pulp(a, maximise=maximise), SolverSettings(time_limit_s=60, max_nodes=1))
    h = _highs(a, max_nodes=1)
    info = h.getInfo()
    sign = -1.0 if maximise else 1.0
    assert h.getModelStatus() == highspy.HighsModelStatus.kSolutionLimit
    assert out.status == "feasible"
    assert out.objective == pytest.approx(sign * info.objective_function_value, abs=1e-9)
    assert out.bound == pytest.approx(sign * info.mip_dual_bound, abs=1e-9)
    assert out.gap == pytest.approx(info.mip_gap, abs=1e-9)
    assert out.gap > 0.01 and out.nodes == info.mip_node_count == 1


def test_a_proof_is_optimal_with_highs_own_numbers():
    a = _instance(seed=0)
    out = solve.run(_pulp(a, maximise=False), SolverSettings(time_limit_s=60))
    info = _highs(a, max_nodes=None).getInfo()
    assert out.status == "optimal"
    assert out.objective == pytest.approx(info.objective_function_value)
    assert out.bound == pytest.approx(info.mip_dual_bound)
    assert out.gap == pytest.approx(info.mip_gap, abs=1e-9) == pytest.approx(0.0, abs=1e-9)


def test_a_linear_programme_has_its_objective_as_bound():
    a = _instance()
    lp = _pulp(a, maximise=False, integer=False)
    out = solve.run(lp, SolverSettings(time_limit_s=60))
    info = _highs(a, max_nodes=None, integer=False).getInfo()
    assert out.status == "optimal" and out.nodes is None
    assert out.objective == out.bound == pytest.approx(info.objective_function_value)
    x = np.array([v.varValue for v in lp.variables()])
    assert (a @ x >= 1 - 1e-6).all()           # the values were written back by column


def test_a_start_is_given_by_variable_not_by_name():
    # a feasible start: every site open; HiGHS keeps it or finds better, never worse
    a = _instance()
    lp = _pulp(a, maximise=False)
    start = [(v, 1.0) for v in lp.variables()]
    out = solve.run(lp, SolverSettings(time_limit_s=60, max_nodes=1), warm=start)
    assert out.has_solution and out.objective <= a.shape[1]
    x = np.array([v.varValue for v in lp.variables()])
    assert (a @ x >= 1 - 1e-6).all()


def test_a_long_solve_logs_incumbent_bound_and_avoidable_gap(monkeypatch, caplog):
    # every callback a line (the CLI gets one every 5 s): what HiGHS holds, offset added back
    monkeypatch.setitem(solve.Progress.__init__.__kwdefaults__, "every_s", 0.0)
    a = _instance()
    caplog.set_level("INFO", logger="siting.core.solve")
    out = solve.run(_pulp(a, maximise=False), SolverSettings(time_limit_s=60),
                    offset=1_000_000.0, forced=1_000_000.0)
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("solving:")]
    assert lines, "no progress line"
    assert all("incumbent" in x and "bound" in x and "avoidable gap" in x for x in lines)
    assert any("incumbent 1,000,0" in x for x in lines)        # thousands separators
    assert not any("e+0" in r.getMessage() for r in caplog.records)
    # the lines only read HiGHS's state: the same answer with no one listening
    caplog.set_level("WARNING", logger="siting.core.solve")
    quiet = solve.run(_pulp(a, maximise=False), SolverSettings(time_limit_s=60),
                      offset=1_000_000.0, forced=1_000_000.0)
    assert (quiet.objective, quiet.bound, quiet.nodes) == (out.objective, out.bound, out.nodes)


def test_money_has_thousands_separators_never_an_exponent():
    assert solve.money(32_680_000) == "32,680,000"
    assert solve.money(-1.5e6) == "-1,500,000"
    assert solve.money(12.25) == "12.25" and solve.money(1e-7) == "0"
    assert solve.money(None) == "n/a" and solve.money(float("inf")) == "n/a"
