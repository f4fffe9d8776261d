"""A capacitated tier alone with its alike sites merged (siting.core.banks), by hand."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from siting.core import Problem, SolverSettings, TierData, banks, optimise

SIZES = ((60.0, 25.0), (120.0, 40.0), (240.0, 70.0))   # with the site's 5: 30, 45, 75
SETTINGS = SolverSettings(time_limit_s=30)


def _tier(**kw: object) -> TierData:
    """Area A (100) reached by sites 0-3, area B (150) by sites 2-4, every site costing 5."""
    cover = sp.csr_array(np.array([[1, 1, 1, 1, 0], [0, 0, 1, 1, 1]]))
    base = {"cost": np.full(5, 5.0), "existing": np.zeros(5, bool), "cover": cover,
            "sizes": SIZES, "demand": np.array([100.0, 150.0])}
    return TierData("locker", **{**base, **kw})   # type: ignore[arg-type]


def test_alike_sites_are_one_class_and_the_optimum_is_the_site_by_site_one():
    got = banks.solve_tier(_tier(), SETTINGS)
    assert got is not None and got.classes == 3          # {0, 1}, {2, 3}, {4}
    # 250 compartments: 240 at a site reaching both areas and 60 anywhere: 75 + 30
    assert got.outcome.status == "optimal"
    assert got.outcome.objective == pytest.approx(105.0)
    assert got.outcome.bound == pytest.approx(105.0)
    assert got.size[2] == 2 and got.size[3] == -1         # the class's first site, biggest
    assert sorted(got.size.tolist()) == [-1, -1, -1, 0, 2]
    whole = optimise(Problem(5, (_tier(),)), SETTINGS)
    assert whole.cost == pytest.approx(105.0)


def test_forced_sites_all_get_a_bank_and_existing_capacity_counts():
    cost = np.array([np.inf, np.inf, 5.0, 5.0, np.inf])
    fixed = np.array([False, False, True, True, False])
    got = banks.solve_tier(_tier(cost=cost, fixed=fixed), SETTINGS)
    assert got is not None
    # both open: 240 + 60 (105) beats 240 + 120 (120); 120 + 120 holds only 240
    assert got.outcome.objective == pytest.approx(105.0)
    assert got.size.tolist() == [-1, -1, 2, 0, -1]
    existing = np.array([False, False, False, False, True])
    got = banks.solve_tier(_tier(cost=np.where(existing, np.inf, 5.0), existing=existing,
                                 existing_capacity=np.array([0, 0, 0, 0, 150.0])), SETTINGS)
    assert got is not None
    assert got.outcome.objective == pytest.approx(45.0)   # B is served; A needs one 120
    assert got.size[4] == -1 and sorted(got.size[:4].tolist()) == [-1, -1, -1, 1]


def test_a_row_no_bank_can_serve_in_full_is_left_to_the_site_by_site_model():
    assert banks.solve_tier(_tier(demand=np.array([100.0, 1000.0])), SETTINGS) is None


def test_resize_keeps_the_sites_and_takes_the_cheapest_banks_for_them():
    from siting.core.optimise import resize

    t = _tier()
    problem = Problem(5, (t,))
    chosen = {"locker": np.array([False, False, True, True, False])}
    size = {"locker": np.array([-1, -1, 2, 2, -1])}          # 240 + 240: 140 in banks
    capacity = {"locker": np.array([0, 0, 240.0, 240.0, 0])}
    new_size, new_cap = resize(problem, chosen, size, capacity, SETTINGS)
    assert new_size["locker"].tolist() == [-1, -1, 2, 0, -1]   # 240 + 60: 95 in banks
    assert new_cap["locker"].tolist() == [0, 0, 240.0, 60.0, 0]
    assert (new_size["locker"] >= 0).tolist() == chosen["locker"].tolist()
    again, _ = resize(problem, chosen, new_size, new_cap, SETTINGS)
    assert again["locker"].tolist() == new_size["locker"].tolist()   # nothing cheaper


def _colocated() -> Problem:
    """Community points (10 each, at least 2) and lockers; co-locating saves 3 a site."""
    community = TierData("community", cost=np.full(5, 10.0), existing=np.zeros(5, bool),
                         cover=sp.csr_array(np.ones((1, 5))), min_count=2)
    return Problem(5, (community, _tier()), colocation=("community", "locker", 3.0))


def test_the_tiers_solved_apart_prove_the_optimum_with_the_saving_at_every_bank():
    from siting.core import decompose

    problem = _colocated()
    apart = decompose.decompose(problem, SETTINGS, lambda p, s: optimise(p, s, cut=False))
    assert apart is not None
    # lockers alone with 3 off each bank: 240 + 60 = 105 - 6; community: two points, 20
    assert apart.bound == pytest.approx(20.0 + 99.0)
    assert apart.cost == pytest.approx(119.0)       # the points follow the two banks
    assert [name for name, _ in apart.pieces] == ["community", "locker piece 1"]
    whole = optimise(problem, SETTINGS)
    assert whole.cost == pytest.approx(119.0) and whole.status == "optimal"
    assert "pieces apart" in whole.stages[0][1].solver
    assert whole.stages[0][1].bound == pytest.approx(119.0)
    both = whole.open["community"] & whole.open["locker"]
    assert int(both.sum()) == 2
    plain = optimise(problem, SETTINGS, cut=False)      # the whole model: the same optimum
    assert plain.cost == pytest.approx(119.0)


def _brute_force(cover: np.ndarray, cost: np.ndarray, demand: np.ndarray,
                 pool: np.ndarray | None = None) -> float:
    """The least cost by enumerating a bank size (or none) at every new site (an existing
    site keeps its ``pool`` capacity, free): each choice's assignment is a transportation
    problem checked by an LP."""
    import itertools

    from scipy.optimize import linprog
    best = np.inf
    n_rows, n = cover.shape
    pool = np.zeros(n) if pool is None else pool
    options = [[-2] if pool[j] > 0 else range(-1, len(SIZES)) for j in range(n)]
    for pick in itertools.product(*options):
        caps = np.array([pool[j] if s == -2 else SIZES[s][0] if s >= 0 else 0.0
                         for j, s in enumerate(pick)])
        price = sum(cost[j] + SIZES[s][1] for j, s in enumerate(pick) if s >= 0)
        if price >= best or caps @ np.ones(n) < demand.sum():
            continue
        if any(not (cover[i] * (caps > 0)).any() for i in range(n_rows)):
            continue
        # z_ij >= 0 on covered pairs, z_ij <= min(cap_j, d_i) so a bank serves rows in full
        pairs = [(i, j) for i in range(n_rows) for j in range(n) if cover[i, j] and caps[j]]
        a_ub = np.zeros((n, len(pairs)))
        a_eq = np.zeros((n_rows, len(pairs)))
        for q, (i, j) in enumerate(pairs):
            a_ub[j, q] = 1.0
            a_eq[i, q] = 1.0
        res = linprog(np.zeros(len(pairs)), A_ub=a_ub, b_ub=caps, A_eq=a_eq, b_eq=demand,
                      bounds=(0, None), method="highs")
        if res.status == 0:
            best = price
    return float(best)


@pytest.mark.parametrize("seed", range(12))
def test_the_rounding_cuts_keep_the_optimum_of_every_bank_choice(seed: int) -> None:
    # random small pieces, some rows above one bank's capacity: the merged model with its
    # Chvátal–Gomory roundings finds the least cost an enumeration of every bank finds
    rng = np.random.default_rng(seed)
    n_rows, n = 3, 5
    cover = rng.random((n_rows, n)) < 0.5
    cover[np.arange(n_rows), rng.integers(0, n, n_rows)] = True
    cost = rng.choice([5.0, 8.0], n)
    demand = rng.choice([20.0, 70.0, 130.0, 250.0], n_rows)
    t = TierData("locker", cost=cost, existing=np.zeros(n, bool),
                 cover=sp.csr_array(cover.astype(int)), sizes=SIZES, demand=demand)
    got = banks.solve_tier(t, SETTINGS)
    want = _brute_force(cover, cost, demand)
    if got is None:      # a row no bank within reach can serve in full
        assert any(demand[i] > SIZES[-1][0] * cover[i].sum() for i in range(n_rows)) \
            or np.isinf(want)
        return
    assert got.outcome.status == "optimal"
    assert got.outcome.objective == pytest.approx(want)


@pytest.mark.parametrize("seed", range(12))
def test_the_dominance_rows_keep_the_optimum(seed: int, monkeypatch) -> None:
    # sites reaching a superset of another's rows at no more cost: the model links their
    # counts (m_A N_B <= m_B N_A); the enumeration of every bank choice has the same optimum
    from siting.core import solve

    rng = np.random.default_rng(100 + seed)
    n_rows, n = 4, 5
    cover = rng.random((n_rows, n)) < 0.4
    cover[np.arange(n_rows), rng.integers(0, n, n_rows)] = True
    cover[:, 0] |= cover[:, 1]           # site 0 reaches all of site 1's rows …
    cost = rng.choice([5.0, 8.0, 30.0], n)
    demand = rng.choice([20.0, 70.0, 130.0], n_rows)
    t = TierData("locker", cost=cost, existing=np.zeros(n, bool),
                 cover=sp.csr_array(cover.astype(int)), sizes=SIZES, demand=demand)
    models = []
    real_run = solve.run

    def run(lp, settings, **kw):
        models.append(lp)
        return real_run(lp, settings, **kw)

    monkeypatch.setattr(solve, "run", run)
    got = banks.solve_tier(t, SETTINGS)
    assert got is not None and got.outcome.status == "optimal"
    assert got.outcome.objective == pytest.approx(_brute_force(cover, cost, demand))
    names = [c.name for lp in models for c in lp.constraints() if c.name.startswith("dominance")]
    if cost[0] <= cost[1] and not np.array_equal(cover[:, 0], cover[:, 1]):
        assert names      # … at no more cost: a dominance row is in the model


@pytest.mark.parametrize("seed", range(16))
def test_the_row_set_cuts_keep_the_optimum_of_every_bank_choice(seed: int) -> None:
    # rows sharing sites, demands of one to two banks and at times an existing site: the
    # rounded capacities and least costs of every row set keep the enumeration's optimum
    rng = np.random.default_rng(200 + seed)
    n_rows, n = 4, 5
    cover = rng.random((n_rows, n)) < 0.45
    cover[np.arange(n_rows), rng.integers(0, n, n_rows)] = True
    cost = rng.choice([-5.0, 0.0, 5.0], n)
    demand = rng.choice([50.0, 100.0, 130.0, 190.0, 300.0], n_rows)
    pool = np.zeros(n)
    if seed % 2:
        pool[rng.integers(0, n)] = float(rng.choice([40.0, 90.0]))
    existing = pool > 0
    t = TierData("locker", cost=np.where(existing, np.inf, cost), existing=existing,
                 cover=sp.csr_array(cover.astype(int)), sizes=SIZES, demand=demand,
                 existing_capacity=pool)
    got = banks.solve_tier(t, SETTINGS)
    want = _brute_force(cover, cost, demand, pool)
    if got is None:
        assert (cover @ np.where(existing, pool, SIZES[-1][0]) < demand).any()
    elif np.isinf(want):      # rows sharing too few banks: the cuts must not hide it
        assert got.outcome.status == "infeasible"
    else:
        assert got.outcome.status == "optimal"
        assert got.outcome.objective == pytest.approx(want)


def test_the_same_piece_asked_again_is_not_solved_again(monkeypatch):
    from siting.core import solve as solver

    calls: list[int] = []
    run = solver.run

    def counted(*args, **kw):  # type: ignore[no-untyped-def]
        calls.append(1)
        return run(*args, **kw)

    monkeypatch.setattr(solver, "run", counted)
    monkeypatch.setattr(banks, "_kept", type(banks._kept)())
    t = _tier(cost=np.array([5.0, 6.0, 5.0, 7.0, 5.0]))
    first = banks.solve_tier(t, SETTINGS)
    again = banks.solve_tier(_tier(cost=np.array([5.0, 6.0, 5.0, 7.0, 5.0])), SETTINGS)
    assert first is not None and again is not None and len(calls) == 1
    assert again.outcome.seconds == 0.0 and again.size.tolist() == first.size.tolist()
    assert again.outcome.objective == first.outcome.objective
    # another cost, node limit, or a start is another solve
    banks.solve_tier(_tier(cost=np.array([5.0, 6.0, 5.0, 8.0, 5.0])), SETTINGS)
    banks.solve_tier(t, SolverSettings(time_limit_s=30, max_nodes=1))
    banks.solve_tier(t, SETTINGS, start=first)
    assert len(calls) == 4
    # a solve the user's clock stopped is not kept
    done = SolverSettings(time_limit_s=30, deadline=0.0)
    banks.solve_tier(_tier(cost=np.full(5, 9.0)), done)
    banks.solve_tier(_tier(cost=np.full(5, 9.0)), done)
    assert len(calls) == 6
