"""The checker's measurements: distances, banks in reach, max flow, point-in-polygon.

Road distance to the nearest open site, the banks within reach of each unit, a max-flow
capacity check, and point-in-polygon for "inside" targets.

Distances are networkx Dijkstra searches from the open sites (few sources, bounded by the
radius), never the model's pair search. A unit is within reach when its distance is at most
the radius plus :data:`TOL_M`, the float noise of summing edge lengths in another order.
"""

from __future__ import annotations

import heapq

import networkx as nx
import numpy as np
import scipy.sparse as sp
import shapely
from scipy.sparse import csgraph

TOL_M = 1e-6
"""Metres of tolerance on a radius (a micrometre: summation noise, nothing more)."""


def nearest_distance(g: nx.Graph, sources: list[object], targets: list[object],
                     radius: float) -> np.ndarray:
    """Each target's road distance to its nearest source (inf beyond ``radius`` or unattached)."""
    start = [s for s in sources if s is not None and s in g]
    found = nx.multi_source_dijkstra_path_length(g, start, cutoff=radius + TOL_M,
                                                 weight="length") if start else {}
    return np.array([found.get(t, np.inf) if t is not None else np.inf for t in targets],
                    dtype=float)


def nearest_source(g: nx.Graph, sources: list[object], targets: list[object], *,
                   cutoff: float = np.inf) -> tuple[np.ndarray, np.ndarray]:
    """Each target's road distance to its nearest source, and which source (its position).

    One Dijkstra search grown from all the sources at once, each node labelled with the
    source that reached it first (on a tie, the first source listed). Returns (distance,
    position in ``sources``): ``inf`` and -1 beyond ``cutoff`` or unattached.
    """
    heap = [(0.0, k, k, s) for k, s in enumerate(sources) if s is not None and s in g]
    heapq.heapify(heap)              # (distance, source, push order, node): nodes never compared
    settled: dict[object, tuple[float, int]] = {}
    pushed = len(heap)
    while heap:
        d, k, _, node = heapq.heappop(heap)
        if node in settled:
            continue
        settled[node] = (d, k)
        for nbr, data in g[node].items():
            nd = d + data["length"]
            if nbr not in settled and nd <= cutoff + TOL_M:
                heapq.heappush(heap, (nd, k, pushed, nbr))
                pushed += 1
    found = [settled.get(t) if t is not None else None for t in targets]
    return (np.array([f[0] if f else np.inf for f in found], dtype=float),
            np.array([f[1] if f else -1 for f in found], dtype=np.int64))


def within(g: nx.Graph, sources: list[object], targets: list[object], radius: float,
           ) -> tuple[np.ndarray, np.ndarray]:
    """Every (target, source) pair within ``radius``: two index arrays, one search a source."""
    where: dict[object, list[int]] = {}
    for i, t in enumerate(targets):
        if t is not None:
            where.setdefault(t, []).append(i)
    rows, cols = [], []
    for j, s in enumerate(sources):
        if s is None or s not in g:
            continue
        for node in nx.single_source_dijkstra_path_length(g, s, cutoff=radius + TOL_M,
                                                          weight="length"):
            for i in where.get(node, ()):
                rows.append(i)
                cols.append(j)
    return np.array(rows, dtype=np.int64), np.array(cols, dtype=np.int64)


def max_flow(need: np.ndarray, capacity: np.ndarray, pairs: tuple[np.ndarray, np.ndarray],
             ) -> np.ndarray:
    """Compartments each unit gets: source → units (need) → banks in reach → sink (capacity).

    Returns the (d,) flow into each unit; the plan fits when it equals ``need`` everywhere.
    """
    d, s = len(need), len(capacity)
    if d == 0:
        return np.zeros(0)
    unit, bank = pairs
    sink = d + s + 1
    need_i = np.ceil(need).astype(np.int64)
    rows = np.concatenate([np.zeros(d, np.int64), 1 + unit, 1 + d + np.arange(s)])
    cols = np.concatenate([1 + np.arange(d), 1 + d + bank, np.full(s, sink)])
    caps = np.concatenate([need_i, need_i[unit], np.floor(capacity + 1e-9).astype(np.int64)])
    g = sp.csr_array((caps.astype(np.int32), (rows, cols)), shape=(sink + 1, sink + 1))
    flow = csgraph.maximum_flow(g, 0, sink).flow.tocsr()
    return np.asarray(flow[[0], 1:d + 1].todense(), dtype=float).ravel()


def holds_a_site(polygons: np.ndarray, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """(d,) bool: the polygon holds (boundary included) at least one of the points."""
    out = np.zeros(len(polygons), dtype=bool)
    for i, poly in enumerate(polygons):
        if poly is None or poly.is_empty or len(lon) == 0:
            continue
        out[i] = bool(shapely.intersects_xy(poly, lon, lat).any())
    return out
