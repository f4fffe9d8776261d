"""Attach points to the road network: nearest segment, gap and position along it.

A point is joined to both ends of its nearest segment by two access edges of length
``gap + t·L`` and ``gap + (1 − t)·L``, where ``gap`` is the straight walk from the point to
the road and ``t`` its position along the segment of length ``L``. The access graph is the
road graph plus one node per snapped point; distances between points are then plain
shortest paths. A point farther than ``max_snap_m`` from every road is not attached and is
reported by the caller.

**One length convention** (shared with ``siting check``, which implements it on its own):
every length is a great-circle metre (``osmnx.distance.great_circle``, radius 6,371,009 m),
as OSMnx measures edges. A segment's length ``L`` is the great-circle distance between its two
OSM nodes; the nearest segment and the fraction ``t`` are found by orthogonal projection in
the network's metric CRS (the UTM zone of the road nodes); the foot is placed at
``u + t·(v − u)`` in lon/lat; and ``gap`` is the great-circle distance from the point to its
foot. ``max_snap_m`` is compared with that great-circle gap. (Before, the gap was a UTM
distance while road lengths were great-circle ones: two kinds of metre in one path.)
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import osmnx as ox
import scipy.sparse as sp
import shapely
from pyproj import Transformer

from siting.network.roads import RoadNetwork, symmetric_csr

log = logging.getLogger(__name__)

UTM_SCALE_SLACK = 1.01
"""The nearest-segment search looks this much beyond ``max_snap_m`` (UTM scale error < 0.1 %)."""


@dataclass(frozen=True)
class Snapped:
    """Where each point meets the road network."""

    edge: np.ndarray    # (p,) segment index, -1 where the point is too far from any road
    gap: np.ndarray     # (p,) great-circle metres from the point to its foot on the road
    along: np.ndarray   # (p,) position on the segment, 0 at ``u`` and 1 at ``v``

    @property
    def ok(self) -> np.ndarray:
        """Mask of the points attached to the network."""
        return self.edge >= 0


@dataclass(frozen=True)
class AccessGraph:
    """The road graph of one mode plus one node per snapped point."""

    graph: sp.csr_array   # symmetric, square: road nodes, then points, then their feet
    n_road: int
    node: np.ndarray      # (p,) the point's node in ``graph``, -1 if not snapped
    snapped: Snapped
    xy: np.ndarray        # (graph nodes, 2) metric coordinates of every node


def snap(net: RoadNetwork, mode: str, x: np.ndarray, y: np.ndarray, *,
         max_snap_m: float) -> Snapped:
    """Find each point's nearest ``mode`` segment whose foot is within ``max_snap_m`` metres.

    ``x``/``y`` are in the network's metric CRS; the gap is in great-circle metres (see the
    module's length convention).
    """
    edges = net.edges(mode)
    p = len(x)
    if p == 0 or len(edges) == 0:
        return Snapped(np.full(p, -1, np.int64), np.full(p, np.inf), np.zeros(p))
    lines = shapely.linestrings(
        np.stack([np.stack([net.x[net.u[edges]], net.y[net.u[edges]]], axis=1),
                  np.stack([net.x[net.v[edges]], net.y[net.v[edges]]], axis=1)], axis=1))
    points = shapely.points(np.asarray(x, float), np.asarray(y, float))
    tree = shapely.STRtree(lines)
    pi, li = tree.query_nearest(points, max_distance=max_snap_m * UTM_SCALE_SLACK,
                                all_matches=False)
    seg_len = shapely.length(lines[li])
    pos = shapely.line_locate_point(lines[li], points[pi])
    t = np.clip(np.divide(pos, seg_len, out=np.zeros_like(pos), where=seg_len > 0), 0.0, 1.0)
    e = edges[li]
    gap_m = _foot_gap(net, e, t, np.asarray(x, float)[pi], np.asarray(y, float)[pi])
    near = gap_m <= max_snap_m
    edge = np.full(p, -1, np.int64)
    gap = np.full(p, np.inf)
    along = np.zeros(p)
    edge[pi[near]], gap[pi[near]], along[pi[near]] = e[near], gap_m[near], t[near]
    return Snapped(edge, gap, along)


def _foot_gap(net: RoadNetwork, e: np.ndarray, t: np.ndarray, x: np.ndarray,
              y: np.ndarray) -> np.ndarray:
    """Great-circle metres from each point to its foot at ``t`` along segment ``e``."""
    inv = Transformer.from_crs(net.crs, "EPSG:4326", always_xy=True)
    lon, lat = (np.asarray(c) for c in inv.transform(x, y))
    u, v = net.u[e], net.v[e]
    foot_lon = net.lon[u] + t * (net.lon[v] - net.lon[u])
    foot_lat = net.lat[u] + t * (net.lat[v] - net.lat[u])
    return np.asarray(ox.distance.great_circle(lat, lon, foot_lat, foot_lon), dtype=float)



def access_graph(net: RoadNetwork, mode: str, x: np.ndarray, y: np.ndarray, *,
                 max_snap_m: float) -> AccessGraph:
    """Build the ``mode`` road graph with the given points attached as extra nodes.

    Each snapped point gets a foot node on its segment; the feet on one segment are chained
    in order along it, so two points on one long segment are as far apart as they really are.
    """
    s = snap(net, mode, x, y, max_snap_m=max_snap_m)
    n, p = net.n_nodes, len(x)
    k = np.flatnonzero(s.ok)
    k = k[np.lexsort((s.along[k], s.edge[k]))]
    e, t = s.edge[k], s.along[k]
    seg = net.length[e]
    foot = n + p + np.arange(len(k))
    first = np.ones(len(k), dtype=bool)
    first[1:] = e[1:] != e[:-1]
    last = np.ones(len(k), dtype=bool)
    last[:-1] = e[1:] != e[:-1]
    chain = ~last
    keep = net.edges(mode)
    u = np.concatenate([net.u[keep], n + k, net.u[e[first]], foot[last], foot[chain]])
    v = np.concatenate([net.v[keep], foot, foot[first], net.v[e[last]], foot[1:][chain[:-1]]])
    w = np.concatenate([net.length[keep], s.gap[k], t[first] * seg[first],
                        (1 - t[last]) * seg[last],
                        (t[1:][chain[:-1]] - t[:-1][chain[:-1]]) * seg[:-1][chain[:-1]]])
    graph = symmetric_csr(u, v, w, n + p + len(k))
    node = np.full(p, -1, np.int64)
    node[k] = n + k
    eu, ev = net.u[e], net.v[e]
    feet = np.column_stack([net.x[eu] + t * (net.x[ev] - net.x[eu]),
                            net.y[eu] + t * (net.y[ev] - net.y[eu])])
    xy = np.vstack([np.column_stack([net.x, net.y]),
                    np.column_stack([np.asarray(x, float), np.asarray(y, float)]), feet])
    log.debug("access graph (%s): %s points attached, %s too far from a road", mode,
              f"{len(k):,}", f"{p - len(k):,}")
    return AccessGraph(graph=graph, n_road=n, node=node, snapped=s, xy=xy)
