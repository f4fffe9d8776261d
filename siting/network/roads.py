"""The road network as arrays: nodes with coordinates, segments with lengths, CSR per mode.

The network keeps every OSM vertex as a node, so every segment is a straight line and a
point can be attached to the segment nearest to it. Lengths are great-circle metres
(``osmnx.distance.great_circle``, as OSMnx measures edges). Distances are computed on the
undirected network: a walk, or a delivery trip out and back, uses a road both ways.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import osmnx as ox
import scipy.sparse as sp
import shapely

from siting._errors import InputError
from siting.readers import osm
from siting.readers.coords import metric_crs, project

log = logging.getLogger(__name__)

MODES = ("walk", "drive")


@dataclass(frozen=True)
class RoadNetwork:
    """Nodes and segments of a road network, in lon/lat and in a metric CRS."""

    node_id: np.ndarray    # (n,) int64 OSM node ids
    lon: np.ndarray        # (n,)
    lat: np.ndarray        # (n,)
    x: np.ndarray          # (n,) metres in ``crs``
    y: np.ndarray          # (n,)
    crs: str               # the metric working CRS, e.g. "EPSG:32650"
    u: np.ndarray          # (m,) int64 node index
    v: np.ndarray          # (m,) int64 node index
    length: np.ndarray     # (m,) metres
    walk: np.ndarray       # (m,) bool
    drive: np.ndarray      # (m,) bool
    highway: np.ndarray    # (m,) str
    name: np.ndarray       # (m,) str
    source: Path

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return len(self.node_id)

    def edges(self, mode: str) -> np.ndarray:
        """Indices of the segments usable in ``mode`` ('walk' or 'drive')."""
        return np.flatnonzero(self.walk if mode == "walk" else self.drive)

    def csr(self, mode: str) -> sp.csr_array:
        """Symmetric CSR matrix of ``mode`` segment lengths (parallel segments: the shortest)."""
        keep = self.edges(mode)
        return symmetric_csr(self.u[keep], self.v[keep], self.length[keep], self.n_nodes)

    def degree(self, mode: str) -> np.ndarray:
        """Number of distinct neighbours of each node in ``mode``."""
        g = self.csr(mode)
        return np.diff(g.indptr)


def symmetric_csr(u: np.ndarray, v: np.ndarray, w: np.ndarray, n: int) -> sp.csr_array:
    """Build an n × n symmetric CSR matrix, keeping the least weight of parallel edges."""
    rows = np.concatenate([u, v])
    cols = np.concatenate([v, u])
    data = np.concatenate([w, w]).astype(np.float64)
    loop = rows == cols
    rows, cols, data = rows[~loop], cols[~loop], data[~loop]
    order = np.lexsort((data, cols, rows))
    rows, cols, data = rows[order], cols[order], data[order]
    first = np.ones(len(rows), dtype=bool)
    first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
    rows, cols, data = rows[first], cols[first], data[first]
    # a zero-length segment (two OSM nodes on one spot) must stay an edge: csgraph treats a
    # stored 0 as "no edge", so give it a length far below any radius
    data = np.maximum(data, 1e-6)
    return sp.csr_array((data, (rows, cols)), shape=(n, n))


def from_ways(ways: osm.RoadWays, source: Path) -> RoadNetwork:
    """Build the network from road segments read by :func:`siting.readers.osm.read`."""
    crs = metric_crs(ways.lon, ways.lat)
    x, y = project(ways.lon, ways.lat, crs)
    length = ox.distance.great_circle(ways.lat[ways.a], ways.lon[ways.a],
                                      ways.lat[ways.b], ways.lon[ways.b])
    net = RoadNetwork(node_id=ways.node_id, lon=ways.lon, lat=ways.lat, x=x, y=y, crs=crs,
                      u=ways.a, v=ways.b, length=np.asarray(length, dtype=float),
                      walk=ways.walk, drive=ways.drive, highway=ways.highway, name=ways.name,
                      source=source)
    log.info("network: %s nodes, %s segments (%s walkable, %s drivable), %.0f km of road, %s",
             f"{net.n_nodes:,}", f"{len(net.u):,}", f"{int(net.walk.sum()):,}",
             f"{int(net.drive.sum()):,}", float(net.length.sum()) / 1000, crs)
    return net


def from_graphml(path: Path, *, clip: object | None = None) -> RoadNetwork:
    """Load a graph saved by ``osmnx.save_graphml`` (unprojected, with ``length`` on edges)."""
    try:
        g = ox.load_graphml(path)
    except Exception as e:  # osmnx/networkx raise many kinds on a bad file
        raise InputError(f"{path}: not a GraphML file saved by OSMnx ({type(e).__name__}: "
                         f"{e}). Save the graph with osmnx.save_graphml, unprojected.") from e
    if g.graph.get("crs", "epsg:4326").lower() not in ("epsg:4326", "wgs84"):
        raise InputError(f"{path}: the graph is projected ({g.graph['crs']}). Save it "
                         "unprojected (lon/lat), as osmnx does by default.")
    ids = np.array(sorted(g.nodes), dtype=np.int64)
    lon = np.array([g.nodes[i]["x"] for i in ids], dtype=float)
    lat = np.array([g.nodes[i]["y"] for i in ids], dtype=float)
    rows = [(a, b, d) for a, b, d in g.edges(data=True)]
    if not rows:
        raise InputError(f"{path}: the graph has no edges. Save a graph with streets in it.")
    a = np.searchsorted(ids, np.array([r[0] for r in rows], dtype=np.int64))
    b = np.searchsorted(ids, np.array([r[1] for r in rows], dtype=np.int64))
    tags = [{"highway": _first(r[2].get("highway", "road"))} for r in rows]
    ways = osm.RoadWays(
        node_id=ids, lon=lon, lat=lat, a=a, b=b,
        walk=np.array([osm.allowed(t, "walk") for t in tags]),
        drive=np.array([osm.allowed(t, "drive") for t in tags]),
        highway=np.array([t["highway"] for t in tags], dtype=object),
        name=np.array([str(_first(r[2].get("name", ""))) for r in rows], dtype=object))
    stored = np.array([float(r[2].get("length", np.nan)) for r in rows])
    if clip is not None:
        inside = shapely.contains_xy(clip, lon, lat)
        keep = inside[a] | inside[b]
        ways = osm.clip_roads(ways, clip)
        stored = stored[keep]
    # simplified OSMnx edges are curved: take their stored length, not the chord
    net = from_ways(ways, path)
    length = np.where(np.isfinite(stored), stored, net.length)
    return RoadNetwork(**{**net.__dict__, "length": length})


def _first(value: object) -> object:
    return value[0] if isinstance(value, list) and value else value
