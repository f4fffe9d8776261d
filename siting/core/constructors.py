"""The classic location models as one-tier problems, from arrays (as spopt's ``from_cost_matrix``).

- :func:`covering` — the location set covering problem (LSCP): the least cost of sites such
  that every row holds an open site;
- :func:`max_coverage` — the maximal covering location problem (MCLP): the most weight
  reached by ``p`` sites (or within a budget);
- :func:`p_median` — the least weighted distance from every row to its nearest open site,
  over the pairs given (within reach), with ``p`` sites.

Matrices are rows × sites, sparse or dense: a nonzero entry of a cover or reach matrix is
a pair; in a distance matrix every *stored* entry of a sparse matrix is a pair (an explicit
zero distance included), and every finite entry of a dense one. Each returns a
:class:`~siting.core.problem.Problem` for :func:`siting.core.optimise.optimise`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from siting.core.problem import Problem, TierData

__all__ = ["covering", "max_coverage", "p_median"]


def covering(cost: Any, cover: Any, *, existing: Any = None, min_count: int = 0,
             max_count: int | None = None, name: str = "site") -> Problem:
    """The least-cost set of sites covering every row of ``cover`` (LSCP).

    Parameters
    ----------
    cost
        (n,) the cost of opening each site (``inf``: not allowed).
    cover
        (r, n) 0/1: row i is covered by site j.
    existing
        (n,) bool: sites open already, at no cost.
    min_count, max_count
        Bounds on the number of open sites, existing ones included.
    name
        The tier's name (the key of :attr:`Solution.open`).
    """
    cost = np.asarray(cost, float)
    tier = TierData(name, cost=cost, existing=_existing(existing, len(cost)),
                    cover=_pattern(cover), min_count=min_count, max_count=max_count)
    return Problem(len(cost), (tier,))


def max_coverage(reach: Any, weight: Any = None, *, p: int | None = None,
                 max_count: int | None = None, cost: Any = None, budget: float | None = None,
                 existing: Any = None, name: str = "site") -> Problem:
    """The sites reaching the most weight (MCLP): exactly ``p`` of them, or within a budget.

    Parameters
    ----------
    reach
        (r, n) 0/1: row i is reached by site j.
    weight
        (r,) the weight of each row (1 each when None).
    p
        Exactly this many open sites (existing ones included), when given.
    max_count
        At most this many open sites (when ``p`` is not given).
    cost
        (n,) the cost of each site (1 each when None); ``inf``: not allowed.
    budget
        The most the new sites may cost together.
    existing
        (n,) bool: sites open already, at no cost.
    name
        The tier's name.
    """
    m = _pattern(reach)
    n = m.shape[1]
    cost = np.ones(n) if cost is None else np.asarray(cost, float)
    tier = TierData(name, cost=cost, existing=_existing(existing, n), reach=m,
                    weight=None if weight is None else np.asarray(weight, float),
                    min_count=0 if p is None else p, max_count=max_count if p is None else p)
    return Problem(n, (tier,), objective="max_coverage", budget=budget)


def p_median(dist: Any, p: int | tuple[int, int], *, weight: Any = None, cost: Any = None,
             existing: Any = None, name: str = "site") -> Problem:
    """The ``p`` sites with the least weighted distance to every row's nearest (p-median).

    Parameters
    ----------
    dist
        (r, n) distances of the pairs allowed (see the module docstring); every row with a
        pair must be served by one of them.
    p
        The number of open sites (existing ones included), or (at least, at most).
    weight
        (r,) each row's weight (1 each when None).
    cost
        (n,) site costs (0 each when None): they do not enter the objective, but ``inf``
        forbids a site and the start's swaps never open a dearer site.
    existing
        (n,) bool: sites open already.
    name
        The tier's name.
    """
    d = _distances(dist)
    reach = sp.csr_array(d, copy=True)
    reach.data[:] = 1.0
    n = d.shape[1]
    lo, hi = (p, p) if isinstance(p, int) else p
    tier = TierData(name, cost=np.zeros(n) if cost is None else np.asarray(cost, float),
                    existing=_existing(existing, n), reach=reach, dist=d,
                    weight=None if weight is None else np.asarray(weight, float),
                    min_count=lo, max_count=hi)
    return Problem(n, (tier,), objective="p_median")


def _existing(existing: Any, n: int) -> np.ndarray:
    return np.zeros(n, bool) if existing is None else np.asarray(existing, bool)


def _pattern(m: Any) -> sp.csr_array:
    """A 0/1 matrix from a sparse or dense one: its nonzero entries."""
    return sp.csr_array(m if sp.issparse(m) else np.asarray(m))


def _distances(dist: Any) -> sp.csr_array:
    """Every pair as a stored entry: a sparse matrix as given; a dense one's finite entries."""
    if sp.issparse(dist):
        return sp.csr_array(dist)
    d = np.asarray(dist, float)
    r, c = np.nonzero(np.isfinite(d))
    return sp.csr_array((d[r, c], (r, c)), shape=d.shape)
