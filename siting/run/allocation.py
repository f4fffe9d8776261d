"""Who serves whom: each demand unit's serving site per tier, and what each site serves.

As ArcGIS Location-Allocation's Lines: a unit is allocated to the nearest open site of the
tier within the tier's radius, by the road distances the run computed (``TierRun.dist``);
for a tier reached "inside", and for a tier's one-in-each units, to an open site inside the
unit's polygon. A unit no open site reaches is allocated to none (site ``-1``).

A capacitated tier (locker banks) is allocated as its banks can hold: each unit's parcels go
to the banks that reach it, over the least road distance the banks' compartments allow
(:func:`siting.core.transport`). A unit's serving site is the bank that takes the largest
share of its parcels (ties: the nearer, then the lower site). A bank serves the units that
send it parcels, the residents in proportion to the share they send (in whole residents),
and the compartments those parcels need, which never exceed its own. The nearest bank alone
would be no answer: a dense block's nearest banks would take more than they hold, and the
banks opened for the overflow would seem to serve nobody.
"""

from __future__ import annotations

import logging

import numpy as np
import scipy.sparse as sp

from siting import core
from siting.run.results import Allocation, TierRun

log = logging.getLogger(__name__)


def allocate(tr: TierRun, is_open: np.ndarray, population: np.ndarray,
             capacity: np.ndarray | None = None) -> Allocation:
    """The allocation of one tier, given its open sites and every unit's population.

    ``capacity`` (n_sites,), the open banks' compartments of a capacitated tier, allocates
    the units' parcels within what the banks hold (see the module docstring); should that
    transport fail, each unit is named its nearest bank, with a warning.
    """
    if capacity is not None and tr.demand is not None:
        try:
            return _within_capacity(tr, is_open, population, capacity)
        except core.SolverError as e:       # the plan stands; only who-serves-whom is cruder
            log.warning("allocation %s: %s; each area is named its nearest bank instead, so a "
                        "bank may be listed with more compartments than it holds", tr.name, e)
    n_units, n_sites = len(population), len(is_open)
    site = np.full(n_units, -1, dtype=np.int64)
    dist = np.full(n_units, np.nan)
    if len(tr.each_rows):
        s, _ = nearest_open(tr.each_cover, is_open)
        site[tr.each_rows] = s
    s, d = nearest_open(tr.dist if tr.dist is not None else tr.cover, is_open)
    site[tr.rows] = s
    if tr.dist is not None:          # "inside": the 0/1 cover holds no distance
        dist[tr.rows] = d
    got = site >= 0
    need = None
    if tr.demand is not None:
        per_unit = np.zeros(n_units)
        per_unit[tr.rows] = tr.demand
        need = np.bincount(site[got], weights=per_unit[got], minlength=n_sites)
    return Allocation(site=site, dist_m=np.round(dist, 1),
                      units=np.bincount(site[got], minlength=n_sites),
                      population=np.bincount(site[got], weights=population[got],
                                             minlength=n_sites),
                      compartments=need)


def _within_capacity(tr: TierRun, is_open: np.ndarray, population: np.ndarray,
                     capacity: np.ndarray) -> Allocation:
    """A capacitated tier's allocation: its units' parcels shared among the banks' room."""
    assert tr.demand is not None
    n_units, n_sites = len(population), len(is_open)
    cols = np.flatnonzero(is_open)
    dist = sp.csr_array(tr.dist if tr.dist is not None else tr.cover, dtype=float)[:, cols]
    flows, _ = core.transport(dist, np.asarray(capacity, float)[cols], tr.demand)
    row = np.repeat(np.arange(dist.shape[0]), np.diff(dist.indptr))
    keep = flows.data > 0                # flows holds the pairs of dist, in its order
    r, c, d, x = row[keep], dist.indices[keep], dist.data[keep], flows.data[keep]
    main, main_d = _largest_share(r, c, d, x, dist.shape[0])
    site = np.full(n_units, -1, dtype=np.int64)
    site[tr.rows] = np.where(main >= 0, cols[np.maximum(main, 0)], -1)
    dist_m = np.full(n_units, np.nan)
    if tr.dist is not None:
        dist_m[tr.rows] = main_d
    at = cols[c]
    residents = population[tr.rows][r] * x / tr.demand[r]
    return Allocation(site=site, dist_m=np.round(dist_m, 1),
                      units=np.bincount(at, minlength=n_sites),
                      population=np.round(np.bincount(at, weights=residents,
                                                      minlength=n_sites)),
                      compartments=np.bincount(at, weights=x, minlength=n_sites))


def _largest_share(r: np.ndarray, c: np.ndarray, d: np.ndarray, x: np.ndarray, n: int
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Per row of the flows, the column taking the largest flow, and its distance.

    The flows are given as pairs: row ``r``, column ``c``, distance ``d``, flow ``x``. Ties
    go to the nearer, then the lower column; a row that sends nothing gets -1 and NaN.
    """
    return _first_of_each_row(r, c, d, n, by=(c, d, -x, r))


def nearest_open(matrix: sp.csr_array, is_open: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the open column with the smallest stored value (ties: the lower column).

    Returns (column, value), -1 and NaN for a row without an open stored entry. Stored
    zeros count: a distance of 0 m is a pair (see :class:`siting.network.distances.Reach`).
    """
    m = sp.csr_array(matrix)
    n = m.shape[0]
    row = np.repeat(np.arange(n), np.diff(m.indptr))
    keep = is_open[m.indices]
    r, c, d = row[keep], m.indices[keep], m.data[keep].astype(float)
    return _first_of_each_row(r, c, d, n, by=(c, d, r))


def _first_of_each_row(r: np.ndarray, c: np.ndarray, d: np.ndarray, n: int, *,
                       by: tuple[np.ndarray, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Per row of the pairs (r, c, d), the first pair by the lexsort keys ``by``.

    The last key of ``by`` is the row (:func:`numpy.lexsort`). Returns (column, value), -1
    and NaN for a row without a pair.
    """
    order = np.lexsort(by)
    r, c, d = r[order], c[order], d[order]
    first = np.unique(r, return_index=True)[1]
    col = np.full(n, -1, dtype=np.int64)
    val = np.full(n, np.nan)
    col[r[first]], val[r[first]] = c[first], d[first]
    return col, val
