"""Bounded shortest paths on a CSR graph, kept sparse.

``scipy.sparse.csgraph.dijkstra(indices=…, limit=…)`` stops each search at the radius but
fills a dense row over *all* graph nodes per source — on a county network most of the cost
of a short search. So the searches are localised: sources are grouped by a coarse spatial
grid, and each group searches only the subgraph of nodes within the radius of the group's
bounding box (a road distance is never shorter than the straight line, so nothing within
the radius is cut off; a 1 % margin covers the map projection's scale error). Only the
entries within the radius are kept, as a sparse (targets × sources) matrix: never a dense
demand × candidate matrix. Without node coordinates, sources are taken in chunks sized to
a memory budget over the whole graph.
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
           xy: np.ndarray | None = None, progress: Progress | None = None) -> Reach:
    """Network distances between targets and sources, for the pairs within ``radius``.

    Parameters
    ----------
    graph
        Symmetric CSR adjacency of edge lengths.
    targets, sources
        Node indices in ``graph``; a negative index (an unsnapped point) reaches nothing.
    radius
        The largest distance kept, in the graph's units.
    xy
        Optional (nodes × 2) metric coordinates of the graph's nodes: the searches are then
        localised (much faster on large graphs); the result is the same.
    progress
        Optional callback ``progress(done, total)``.

    Returns
    -------
    Reach
        A (len(targets) × len(sources)) sparse matrix of distances within the radius.
    """
    targets = np.asarray(targets, dtype=np.int64)
    sources = np.asarray(sources, dtype=np.int64)
    search = _bounded if xy is None else (
        lambda g, r, st, rad, prog: _local(g, np.asarray(xy, float), r, st, rad, prog))
    # search from the smaller side; the graph is undirected so both give the same pairs
    if len(targets) < len(sources):
        flipped = search(graph, sources, targets, radius, progress)
        return Reach(dist=flipped.T.tocsr(), radius=radius)
    return Reach(dist=search(graph, targets, sources, radius, progress), radius=radius)


def _groups_of(keys: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """CSR-style map from a key in [0, n) to the positions holding it (negative: none)."""
    ok = np.flatnonzero(keys >= 0)
    order = ok[np.argsort(keys[ok], kind="stable")]
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.add.at(ptr, keys[order] + 1, 1)
    return np.cumsum(ptr), order


def _expand(key: np.ndarray, ptr: np.ndarray, order: np.ndarray,
            ) -> tuple[np.ndarray, np.ndarray]:
    """For each entry's key, every position holding that key: (entry index, position)."""
    count = ptr[key + 1] - ptr[key]
    entry = np.repeat(np.arange(len(key)), count)
    offset = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
    return entry, order[np.repeat(ptr[key], count) + offset]


def _local(graph: sp.csr_array, xy: np.ndarray, rows: np.ndarray, starts: np.ndarray,
           radius: float, progress: Progress | None) -> sp.csr_array:
    """As :func:`_bounded`, each group of nearby starts searching its own small subgraph."""
    n = graph.shape[0]
    reach = radius * 1.01 + 1.0
    row_ptr, row_order = _groups_of(rows, n)
    valid = np.flatnonzero(starts >= 0)
    grid = _Grid(xy, cell=max(4.0 * reach, 2000.0))
    out_r, out_c, out_d = [], [], []
    done = 0
    for group in grid.groups(starts, valid):
        sub = grid.near(xy[starts[group]], reach)
        local = graph[sub][:, sub]
        step = max(1, CHUNK_BYTES // (8 * max(len(sub), 1)))
        for lo in range(0, len(group), step):
            cols = group[lo:lo + step]
            uniq, inv = np.unique(starts[cols], return_inverse=True)
            d = csgraph.dijkstra(local, directed=True, limit=radius,
                                 indices=np.searchsorted(sub, uniq))
            si, li = np.nonzero(d <= radius)
            hit, r = _expand(sub[li], row_ptr, row_order)        # found node -> rows there
            col_ptr, col_order = _groups_of(inv, len(uniq))
            hit2, c = _expand(si[hit], col_ptr, col_order)      # start node -> its columns
            out_r.append(r[hit2])
            out_c.append(cols[c])
            out_d.append(d[si[hit][hit2], li[hit][hit2]])
        done += len(group)
        if progress is not None:
            progress(done, len(valid))
    return _assemble(out_r, out_c, out_d, (len(rows), len(starts)))


class _Grid:
    """Graph nodes bucketed on a square grid, for 'nodes near these points' queries."""

    def __init__(self, xy: np.ndarray, cell: float) -> None:
        self.xy = xy
        self.cell = cell
        self.ij = np.floor(xy / cell).astype(np.int64)
        self.span = int(self.ij[:, 1].max() - self.ij[:, 1].min() + 3) if len(xy) else 1
        self.base = int(self.ij[:, 1].min() - 1) if len(xy) else 0
        key = self._key(self.ij[:, 0], self.ij[:, 1])
        self.order = np.argsort(key, kind="stable")
        self.sorted_keys = key[self.order]

    def _key(self, i: np.ndarray | int, j: np.ndarray | int) -> np.ndarray:
        return np.asarray(i, np.int64) * self.span + (np.asarray(j, np.int64) - self.base)

    def groups(self, starts: np.ndarray, valid: np.ndarray) -> list[np.ndarray]:
        """Positions of ``starts`` grouped by grid cell."""
        key = self._key(self.ij[starts[valid], 0], self.ij[starts[valid], 1])
        order = np.argsort(key, kind="stable")
        if len(valid) == 0:
            return []
        cuts = np.flatnonzero(np.diff(key[order])) + 1
        return np.split(valid[order], cuts)

    def near(self, pts: np.ndarray, reach: float) -> np.ndarray:
        """Sorted indices of the nodes within ``reach`` of the bounding box of ``pts``."""
        lo = pts.min(axis=0) - reach
        hi = pts.max(axis=0) + reach
        c_lo = np.floor(lo / self.cell).astype(np.int64)
        c_hi = np.floor(hi / self.cell).astype(np.int64)
        j_lo = max(int(c_lo[1]), self.base)
        j_hi = min(int(c_hi[1]), self.base + self.span - 1)
        picks = []
        for i in range(int(c_lo[0]), int(c_hi[0]) + 1):
            a = np.searchsorted(self.sorted_keys, self._key(i, j_lo), side="left")
            b = np.searchsorted(self.sorted_keys, self._key(i, j_hi), side="right")
            picks.append(self.order[a:b])
        cand = np.concatenate(picks) if picks else np.zeros(0, np.int64)
        inside_ = np.all((self.xy[cand] >= lo) & (self.xy[cand] <= hi), axis=1)
        return np.sort(cand[inside_])


def _assemble(out_r: list[np.ndarray], out_c: list[np.ndarray], out_d: list[np.ndarray],
              shape: tuple[int, int]) -> sp.csr_array:
    r = np.concatenate(out_r) if out_r else np.zeros(0, np.int64)
    c = np.concatenate(out_c) if out_c else np.zeros(0, np.int64)
    dd = np.concatenate(out_d) if out_d else np.zeros(0)
    m = sp.csr_array((dd, (r, c)), shape=shape)
    m.sort_indices()
    return m


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
    return _assemble(out_r, out_c, out_d, (len(rows), len(starts)))

