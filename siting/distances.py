"""Bounded shortest paths on a CSR graph, kept sparse.

``scipy.sparse.csgraph.dijkstra(indices=…, limit=…)`` stops each search at the radius but
returns a dense (sources × all nodes) array; sources are therefore taken in chunks sized
to a memory budget, and only the entries within the radius are kept. The result is a
sparse (targets × sources) matrix: never a dense demand × candidate matrix.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse import csgraph

log = logging.getLogger(__name__)

CHUNK_BYTES = 128 * 2**20
"""Memory for one chunk of dense Dijkstra rows (sources × graph nodes × 8 bytes)."""

Progress = Callable[[int, int], None]
"""Called as ``progress(done, total)`` while sources are processed."""


@dataclass(frozen=True)
class Reach:
    """Which targets each source reaches within a radius, and how far.

    ``dist`` is a (targets × sources) CSR matrix whose stored entries are exactly the pairs
    within the radius; a stored value is that pair's network distance in metres (an entry
    at distance 0 is stored explicitly, so use the structure, not ``!= 0``, for coverage).
    """

    dist: sp.csr_array
    radius: float

    @property
    def cover(self) -> sp.csr_array:
        """The 0/1 coverage matrix with the same structure."""
        m = self.dist.copy()
        m.data = np.ones_like(m.data, dtype=np.int8)
        return m


def within(graph: sp.csr_array, targets: np.ndarray, sources: np.ndarray, radius: float, *,
           progress: Progress | None = None) -> Reach:
    """Network distances between targets and sources, for the pairs within ``radius``.

    Parameters
    ----------
    graph
        Symmetric CSR adjacency of edge lengths.
    targets, sources
        Node indices in ``graph``; a negative index (an unsnapped point) reaches nothing.
    radius
        The largest distance kept, in the graph's units.
    progress
        Optional callback ``progress(done, total)``.

    Returns
    -------
    Reach
        A (len(targets) × len(sources)) sparse matrix of distances within the radius.
    """
    targets = np.asarray(targets, dtype=np.int64)
    sources = np.asarray(sources, dtype=np.int64)
    # search from the smaller side; the graph is undirected so both give the same pairs
    if len(targets) < len(sources):
        flipped = _bounded(graph, sources, targets, radius, progress)
        return Reach(dist=flipped.T.tocsr(), radius=radius)
    return Reach(dist=_bounded(graph, targets, sources, radius, progress), radius=radius)


def _bounded(graph: sp.csr_array, rows: np.ndarray, starts: np.ndarray, radius: float,
             progress: Progress | None) -> sp.csr_array:
    """(len(rows) × len(starts)) distances ≤ radius, searching from each of ``starts``."""
    n = graph.shape[0]
    valid = np.flatnonzero(starts >= 0)
    # map graph node -> list of row positions (several rows may share one node)
    row_ok = np.flatnonzero(rows >= 0)
    order = row_ok[np.argsort(rows[row_ok], kind="stable")]
    row_nodes = rows[order]
    chunk = max(1, min(len(valid), CHUNK_BYTES // (8 * max(n, 1))))
    out_r, out_c, out_d = [], [], []
    done = 0
    for lo in range(0, len(valid), chunk):
        cols = valid[lo:lo + chunk]
        uniq, inv = np.unique(starts[cols], return_inverse=True)
        d = csgraph.dijkstra(graph, directed=True, indices=uniq, limit=radius)
        d = d[:, row_nodes]                      # chunk × rows, only the nodes we need
        ci, ri = np.nonzero(d[inv] <= radius)
        out_r.append(order[ri])
        out_c.append(cols[ci])
        out_d.append(d[inv[ci], ri])
        done += len(cols)
        if progress is not None:
            progress(done, len(valid))
    r = np.concatenate(out_r) if out_r else np.zeros(0, np.int64)
    c = np.concatenate(out_c) if out_c else np.zeros(0, np.int64)
    dd = np.concatenate(out_d) if out_d else np.zeros(0)
    m = sp.csr_array((dd, (r, c)), shape=(len(rows), len(starts)))
    m.sort_indices()
    return m


def nearest(graph: sp.csr_array, targets: np.ndarray, sources: np.ndarray, *,
            limit: float = np.inf) -> np.ndarray:
    """Distance from each target to its nearest source (``inf`` beyond ``limit`` or unsnapped).

    One multi-source search (``min_only=True``) over all sources at once: what the checker
    uses, independently of the coverage matrices.
    """
    targets = np.asarray(targets, dtype=np.int64)
    sources = np.asarray(sources, dtype=np.int64)
    sources = np.unique(sources[sources >= 0])
    out = np.full(len(targets), np.inf)
    if len(sources) == 0:
        return out
    d = csgraph.dijkstra(graph, directed=True, indices=sources, limit=limit, min_only=True)
    ok = targets >= 0
    out[ok] = d[targets[ok]]
    return out
