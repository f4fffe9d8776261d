"""The forced cost: hand-checked instances, and a lower bound on every optimum."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from siting.config.scenario import SolverConfig
from siting.core.forced import avoidable_gap, forced_cost
from siting.core.model import Problem, TierData, optimise


def _tier(name: str, cost: list[float], **kw: object) -> TierData:
    c = np.array(cost, float)
    existing = kw.pop("existing", np.zeros(len(c), bool))
    return TierData(name, cost=c, existing=np.asarray(existing), **kw)  # type: ignore[arg-type]


def _rows(rows: list[list[int]], n: int) -> sp.csr_array:
    r = [i for i, row in enumerate(rows) for _ in row]
    c = [j for row in rows for j in row]
    return sp.csr_array((np.ones(len(r), np.int8), (r, c)), shape=(len(rows), n))


def test_count_forces_the_cheapest_sites() -> None:
    p = Problem(3, (_tier("community", [5, 3, 4], min_count=2),))
    f = forced_cost(p)
    assert f.total == pytest.approx(7.0)
    assert f.parts[0].count_sites == 2


def test_existing_sites_count_toward_the_count() -> None:
    p = Problem(3, (_tier("community", [5, 3, 0], min_count=2,
                          existing=np.array([False, False, True])),))
    assert forced_cost(p).total == pytest.approx(3.0)


def test_disjoint_rows_each_force_a_site() -> None:
    disjoint = _tier("township", [5, 3, 4], cover=_rows([[0, 1], [2]], 3))
    assert forced_cost(Problem(3, (disjoint,))).total == pytest.approx(7.0)
    overlapping = _tier("township", [5, 3, 4], cover=_rows([[0, 1], [1, 2]], 3))
    assert forced_cost(Problem(3, (overlapping,))).total == pytest.approx(3.0)


def test_rows_met_by_existing_or_fixed_sites_force_nothing() -> None:
    t = _tier("township", [5, 3, 4], cover=_rows([[0, 1], [2]], 3),
              existing=np.array([False, False, True]))
    assert forced_cost(Problem(3, (t,))).total == pytest.approx(3.0)
    fixed = _tier("township", [5, 3, 4], cover=_rows([[0, 1], [2]], 3),
                  fixed=np.array([True, False, False]))
    assert forced_cost(Problem(3, (fixed,))).total == pytest.approx(9.0)


def test_banks_add_their_cheapest_size() -> None:
    t = _tier("locker", [5, 5], min_count=1, sizes=((10.0, 20.0), (20.0, 30.0)))
    assert forced_cost(Problem(2, (t,))).total == pytest.approx(25.0)


def test_colocation_saving_is_charged_once() -> None:
    a = _tier("community", [80, 80, 80], min_count=2)
    b = _tier("locker", [50, 50, 50])
    p = Problem(3, (a, b), colocation=("community", "locker", 10.0))
    assert forced_cost(p).total == pytest.approx(160.0)
    cheap_b = _tier("locker", [5, 5, 5])
    p2 = Problem(3, (a, cheap_b), colocation=("community", "locker", 10.0))
    # optimum 150 (two points, two banks at -5 each); the bound 145 stays below it
    assert forced_cost(p2).total == pytest.approx(145.0)


def test_avoidable_gap_of_the_issue() -> None:
    # make demo (中牟县): 84.845 M objective, 0.996 % raw gap, 71.2 M forced by the count
    objective = 84_845_000.0
    bound = objective * (1 - 0.00996)
    assert avoidable_gap(objective, bound, 71_200_000.0) == pytest.approx(0.0619, abs=5e-4)
    assert avoidable_gap(100.0, 100.0, 100.0) == 0.0


@pytest.mark.parametrize("seed", range(12))
def test_forced_cost_never_exceeds_the_optimum(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 7
    rows = [sorted(rng.choice(n, size=rng.integers(1, 4), replace=False).tolist())
            for _ in range(4)]
    a = _tier("community", rng.integers(1, 20, n).astype(float).tolist(),
              min_count=int(rng.integers(0, 4)), cover=_rows(rows, n))
    b = _tier("locker", rng.integers(1, 20, n).astype(float).tolist(),
              cover=_rows([[j] for j in rng.choice(n, 2, replace=False)], n))
    p = Problem(n, (a, b), colocation=("community", "locker", float(rng.integers(0, 15))))
    best = optimise(p, SolverConfig(time_limit_s=30, rel_gap=0.0), reduce=False, cut=False)
    assert forced_cost(p).total <= best.cost + 1e-9
