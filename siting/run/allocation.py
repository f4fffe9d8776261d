"""Who serves whom: each demand unit's serving site per tier, and what each site serves.

As ArcGIS Location-Allocation's Lines: a unit is allocated to the nearest open site of the
tier within the tier's radius, by the road distances the run computed (``TierRun.dist``);
for a tier reached "inside", and for a tier's one-in-each units, to an open site inside the
unit's polygon. A unit no open site reaches is allocated to none (site ``-1``). A capacitated
tier's banks may in fact share a unit's parcels; the allocation names the nearest bank.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from siting.run.results import Allocation, TierRun


def allocate(tr: TierRun, is_open: np.ndarray, population: np.ndarray) -> Allocation:
    """The allocation of one tier, given its open sites and every unit's population."""
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
    order = np.lexsort((c, d, r))
    r, c, d = r[order], c[order], d[order]
    first = np.unique(r, return_index=True)[1]
    col = np.full(n, -1, dtype=np.int64)
    val = np.full(n, np.nan)
    col[r[first]], val[r[first]] = c[first], d[first]
    return col, val
