"""Trade-off curves (siting.core.tradeoff): the best reach of k new sites, against enumeration."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp

from siting.core import SolverSettings, TierData
from siting.core.tradeoff import curve


def _best_reach(reach: np.ndarray, weight: np.ndarray, existing: np.ndarray, k: int) -> float:
    """The most weight reached by the existing sites and k new ones, every choice tried."""
    new = np.flatnonzero(~existing)
    best = 0.0
    for pick in itertools.combinations(new.tolist(), k):
        opened = existing.copy()
        opened[list(pick)] = True
        best = max(best, float(weight[(reach[:, opened]).any(axis=1)].sum()))
    return best


@pytest.mark.parametrize("seed", range(5))
def test_each_point_is_the_best_reach_of_its_new_sites(seed):
    rng = np.random.default_rng(seed)
    rows, n = 14, 9
    reach = rng.random((rows, n)) < 0.25
    existing = np.zeros(n, bool)
    existing[rng.integers(0, n)] = True
    reach[:, 1] |= reach[:, 2]           # a dominated site, for the reductions to remove
    weight = rng.integers(1, 50, rows).astype(float)
    t = TierData("community", cost=np.where(existing, np.inf, rng.choice([60.0, 80.0], n)),
                 existing=existing, cover=sp.csr_array(reach.astype(int)))
    got = curve(t, rows, weight, 4, points=5, settings=SolverSettings(time_limit_s=30))
    assert [p["new_sites"] for p in got] == [0, 1, 2, 3, 4]
    shares = [p["reached_share"] for p in got]
    assert shares == sorted(shares)
    for p in got:
        want = _best_reach(reach, weight, existing, int(p["new_sites"])) / weight.sum()
        assert p["reached_share"] == pytest.approx(want)
