"""Random locker pieces and an independent check that a plan serves them, for the core tests."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

from siting.core import TierData

SIZES = ((60.0, 25.0), (120.0, 40.0), (240.0, 70.0))


def piece(seed: int, *, n_rows: int, n: int, reach: float, costs: tuple[float, ...],
          existing: int = 0) -> TierData:
    """Areas and sites at random in the unit square, each area reaching the sites within
    ``reach`` and its nearest; ``existing`` sites hold a bank of 90 already."""
    rng = np.random.default_rng(seed)
    rows, sites = rng.random((n_rows, 2)), rng.random((n, 2))
    dist = np.hypot(*(rows[:, None, :] - sites[None, :, :]).transpose(2, 0, 1))
    cover = dist < reach
    cover[np.arange(n_rows), dist.argmin(1)] = True
    old = np.zeros(n, bool)
    if existing:
        old[rng.choice(n, existing, replace=False)] = True
    cost = rng.choice(costs, n)
    return TierData("locker", cost=np.where(old, np.inf, cost), existing=old,
                    cover=sp.csr_array(cover.astype(int)), sizes=SIZES,
                    demand=rng.choice([20.0, 70.0, 130.0, 200.0], n_rows),
                    existing_capacity=np.where(old, 90.0, 0.0) if existing else None)


def serves(t: TierData, size: np.ndarray) -> bool:
    """Whether banks ``size`` (index per site, -1 closed) and the existing ones cover every
    area and give it its demand: a transportation LP solved apart (scipy's linprog)."""
    cover = sp.csr_array(t.demand_cover()).toarray().astype(bool)
    pool = t.existing_capacity if t.existing_capacity is not None else np.zeros(len(size))
    cap = np.array([pool[j] if t.existing[j] else t.sizes[s][0] if s >= 0 else 0.0
                    for j, s in enumerate(size)])
    if not (cover & (t.existing | (size >= 0))).any(axis=1).all():
        return False
    pairs = [(i, j) for i in range(cover.shape[0]) for j in range(len(size))
             if cover[i, j] and cap[j] > 0]
    eq = np.zeros((cover.shape[0], len(pairs)))
    ub = np.zeros((len(size), len(pairs)))
    for k, (i, j) in enumerate(pairs):
        eq[i, k] = ub[j, k] = 1.0
    got = linprog(np.zeros(len(pairs)), A_ub=ub, b_ub=cap, A_eq=eq, b_eq=t.demand,
                  bounds=(0, None), method="highs")
    return bool(got.status == 0)
