"""The transport of a plan's demand to its open banks (:func:`siting.core.transport`).

Hand-checkable cases: the nearest bank cannot take everything, so the row that loses least
by moving goes to the farther bank; a shortfall only where capacity within reach runs out.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp

from siting import core


def pairs(rows: list[list[float | None]]) -> sp.csr_array:
    """A (rows, columns) distance matrix; None: the column does not reach the row."""
    r, c, d = zip(*[(i, j, v) for i, row in enumerate(rows) for j, v in enumerate(row)
                    if v is not None], strict=True)
    return sp.csr_array((d, (r, c)), shape=(len(rows), len(rows[0])))


def test_the_row_that_gains_most_keeps_the_near_bank():
    # bank 0 holds 60: row 0 gains 20 a compartment by it, row 1 only 5
    dist = pairs([[10.0, 30.0], [20.0, 25.0]])
    flows, short = core.transport(dist, np.array([60.0, 60.0]), np.array([50.0, 50.0]))
    assert flows.toarray() == pytest.approx(np.array([[50.0, 0.0], [10.0, 40.0]]))
    assert short == pytest.approx([0.0, 0.0])


def test_the_cost_is_the_least_over_every_integer_split():
    rng = np.random.default_rng(7)
    for _ in range(20):
        d = rng.integers(0, 300, size=(3, 3)).astype(float)
        reach = rng.random((3, 3)) < 0.8
        reach[:, 0] = True
        dist = sp.csr_array(np.where(reach, d + 1, 0.0))
        cap = rng.integers(2, 8, size=3).astype(float)
        need = rng.integers(1, 5, size=3).astype(float)
        cap[0] = max(cap[0], need.sum())              # always room for everything
        flows, short = core.transport(dist, cap, need)
        x = flows.toarray()
        assert short == pytest.approx(0.0, abs=1e-7)
        assert x.sum(axis=1) == pytest.approx(need) and (x.sum(axis=0) <= cap + 1e-7).all()
        assert (x[~reach] == 0).all()
        best = min(
            sum(dist[i, j] for i in range(3) for j in split[i])
            for split in itertools.product(*[
                list(itertools.combinations_with_replacement(np.flatnonzero(reach[i]),
                                                              int(need[i])))
                for i in range(3)])
            if all(sum(s.count(j) for s in split) <= cap[j] for j in range(3)))
        assert float((x * dist.toarray()).sum()) == pytest.approx(best)


def test_a_stored_zero_distance_is_a_pair_and_short_is_only_what_cannot_fit():
    dist = sp.csr_array((np.array([0.0, 5.0]), (np.array([0, 1]), np.array([0, 0]))),
                        shape=(3, 2))
    flows, short = core.transport(dist, np.array([30.0, 100.0]), np.array([20.0, 20.0, 7.0]))
    x = flows.toarray()
    assert x[:, 0].sum() == pytest.approx(30.0) and x[:, 1] == pytest.approx(0.0)
    assert short.sum() == pytest.approx(10.0 + 7.0)       # 40 for room of 30; row 2 unreached
    assert short[2] == pytest.approx(7.0)


def test_flows_keep_the_pairs_of_the_distances_in_their_order():
    dist = pairs([[3.0, None, 1.0], [None, 2.0, None]])
    flows, _ = core.transport(dist, np.array([1.0, 1.0, 1.0]), np.array([1.0, 1.0]))
    assert np.array_equal(flows.indptr, dist.indptr)
    assert np.array_equal(flows.indices, dist.indices)
    assert flows.data == pytest.approx([0.0, 1.0, 1.0])
