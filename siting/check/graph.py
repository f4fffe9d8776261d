"""The checker's own road graph (networkx) and its own snapping of points to it.

Written apart from :mod:`siting.network` on purpose, to the same documented rules:

- **graph** — one undirected edge per OSM road segment of the mode, between the OSM node
  ids, weighted by its great-circle length (parallel segments: the shortest);
- **length convention** — every length is a great-circle metre on the sphere of radius
  :data:`EARTH_RADIUS_M`; the nearest segment and the fraction ``t`` of the foot along it
  come from the orthogonal projection in the scenario's metric CRS (the UTM zone of the
  roads), the foot lies at ``u + t·(v − u)`` in lon/lat, and the snap gap is the
  great-circle distance from the point to its foot;
- **snapping** — a point whose gap exceeds ``max_snap_m`` is not attached; an attached
  point gets a node joined to its foot by an edge of the gap, and the feet on a segment are
  chained in order along it (``t·L`` from ``u``, ``(1 − t)·L`` to ``v``). Points at the
  same coordinates share one node (a door site and the unit it stands at are 0 m apart).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import networkx as nx
import numpy as np
import shapely
from numpy.typing import ArrayLike

from siting.readers import coords
from siting.readers.osm import RoadWays

log = logging.getLogger(__name__)

EARTH_RADIUS_M = 6_371_009.0
"""The sphere of every length (the radius OSMnx's ``great_circle`` uses)."""

SLACK = 1.01
"""The planar search looks this much beyond ``max_snap_m`` (UTM scale error < 0.1 %)."""


@dataclass(frozen=True)
class Access:
    """A mode's road graph with points attached."""

    graph: nx.Graph
    node: Sequence[object]     # (p,) each point's node in ``graph``; None: not attached
    gap: np.ndarray            # (p,) great-circle snap gap in metres (inf: not attached)


def haversine(lon1: ArrayLike, lat1: ArrayLike, lon2: ArrayLike, lat2: ArrayLike,
              ) -> np.ndarray:
    """Great-circle metres between points on the sphere of :data:`EARTH_RADIUS_M`."""
    f1, f2 = np.radians(np.asarray(lat1, float)), np.radians(np.asarray(lat2, float))
    a = np.sin((f2 - f1) / 2) ** 2 + np.cos(f1) * np.cos(f2) * np.sin(
        np.radians(np.asarray(lon2, float) - np.asarray(lon1, float)) / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(a, 1.0)))


def mode_edges(ways: RoadWays, mode: str) -> np.ndarray:
    """Indices of the segments usable in ``mode``."""
    return np.flatnonzero(ways.walk if mode == "walk" else ways.drive)


def road_graph(ways: RoadWays, mode: str) -> nx.Graph:
    """The undirected ``mode`` graph on OSM node ids, weight ``length`` in metres."""
    g = nx.Graph()
    k = mode_edges(ways, mode)
    length = haversine(ways.lon[ways.a[k]], ways.lat[ways.a[k]], ways.lon[ways.b[k]],
                       ways.lat[ways.b[k]])
    for a, b, w in zip(ways.node_id[ways.a[k]].tolist(), ways.node_id[ways.b[k]].tolist(),
                       length.tolist(), strict=True):
        if a != b and (not g.has_edge(a, b) or g[a][b]["length"] > w):
            g.add_edge(a, b, length=w)
    return g


def nearest(px: np.ndarray, py: np.ndarray, seg: np.ndarray, reach: float,
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each point's nearest segment in the plane: (segment or -1, t, planar distance).

    ``seg`` is (m, 4): x0, y0, x1, y1 of each segment. Only segments within ``reach`` count.
    """
    p = len(px)
    best = np.full(p, -1, np.int64)
    t_best, d_best = np.zeros(p), np.full(p, np.inf)
    if p == 0 or len(seg) == 0:
        return best, t_best, d_best
    boxes = shapely.box(np.minimum(seg[:, 0], seg[:, 2]), np.minimum(seg[:, 1], seg[:, 3]),
                        np.maximum(seg[:, 0], seg[:, 2]), np.maximum(seg[:, 1], seg[:, 3]))
    around = shapely.box(px - reach, py - reach, px + reach, py + reach)
    pi, si = shapely.STRtree(boxes).query(around, predicate="intersects")
    t, d = project(px[pi], py[pi], seg[si])
    ok = d <= reach
    pi, si, t, d = pi[ok], si[ok], t[ok], d[ok]
    order = np.lexsort((si, d, pi))          # per point: least distance, then lowest segment
    first = np.ones(len(order), dtype=bool)
    first[1:] = pi[order][1:] != pi[order][:-1]
    k = order[first]
    best[pi[k]], t_best[pi[k]], d_best[pi[k]] = si[k], t[k], d[k]
    return best, t_best, d_best


def project(px: np.ndarray, py: np.ndarray, seg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Orthogonal projection of points on segments: (t in [0, 1], planar distance)."""
    dx, dy = seg[:, 2] - seg[:, 0], seg[:, 3] - seg[:, 1]
    ll = dx * dx + dy * dy
    raw = ((px - seg[:, 0]) * dx + (py - seg[:, 1]) * dy) / np.where(ll > 0, ll, 1.0)
    t = np.where(ll > 0, np.clip(raw, 0.0, 1.0), 0.0)
    return t, np.hypot(seg[:, 0] + t * dx - px, seg[:, 1] + t * dy - py)


def attach(ways: RoadWays, mode: str, crs: str, lon: np.ndarray, lat: np.ndarray, *,
           max_snap_m: float) -> Access:
    """The ``mode`` road graph with every point attached to its nearest segment."""
    g = road_graph(ways, mode)
    k = mode_edges(ways, mode)
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    first = np.unique(np.column_stack([lon, lat]), axis=0, return_inverse=True)[1].ravel() \
        if len(lon) else np.zeros(0, np.int64)
    uniq, rep = np.unique(first, return_index=True)
    x, y = coords.project(ways.lon, ways.lat, crs)
    px, py = coords.project(lon, lat, crs)
    seg = np.column_stack([x[ways.a[k]], y[ways.a[k]], x[ways.b[k]], y[ways.b[k]]])
    s, t, _ = nearest(px[rep], py[rep], seg, max_snap_m * SLACK)
    a, b = ways.a[k[np.maximum(s, 0)]], ways.b[k[np.maximum(s, 0)]]
    gap = haversine(lon[rep], lat[rep], ways.lon[a] + t * (ways.lon[b] - ways.lon[a]),
                    ways.lat[a] + t * (ways.lat[b] - ways.lat[a]))
    ok = (s >= 0) & (gap <= max_snap_m)
    _add_feet(g, ways, k, rep[ok], s[ok], t[ok], gap[ok])
    node_of = {int(q): ("pt", int(r)) for q, r, o in zip(uniq, rep, ok, strict=True) if o}
    gap_of = dict(zip(uniq.tolist(), np.where(ok, gap, np.inf).tolist(), strict=True))
    node = [node_of.get(int(q)) for q in first]
    log.debug("check graph (%s): %d nodes, %d of %d points attached", mode,
              g.number_of_nodes(), sum(n is not None for n in node), len(node))
    return Access(g, node, np.array([gap_of[int(q)] for q in first]))


def _add_feet(g: nx.Graph, ways: RoadWays, k: np.ndarray, point: np.ndarray,
              s: np.ndarray, t: np.ndarray, gap: np.ndarray) -> None:
    """Join each point to its foot, and chain the feet of each segment in order along it."""
    order = np.lexsort((t, s))
    for i in range(len(order)):
        j = order[i]
        e = k[s[j]]
        length = float(haversine(ways.lon[ways.a[e]], ways.lat[ways.a[e]],
                                 ways.lon[ways.b[e]], ways.lat[ways.b[e]]))
        foot = ("foot", int(point[j]))
        g.add_edge(("pt", int(point[j])), foot, length=float(gap[j]))
        new_segment = i == 0 or s[order[i - 1]] != s[j]
        if new_segment:
            g.add_edge(int(ways.node_id[ways.a[e]]), foot, length=float(t[j]) * length)
        else:
            prev = order[i - 1]
            g.add_edge(("foot", int(point[prev])), foot, length=float(t[j] - t[prev]) * length)
        last = i == len(order) - 1 or s[order[i + 1]] != s[j]
        if last:
            g.add_edge(foot, int(ways.node_id[ways.b[e]]), length=float(1 - t[j]) * length)
