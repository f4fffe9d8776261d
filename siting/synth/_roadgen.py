"""Synthetic road networks for the generator, written as OSM XML.

Three layers of road, as a county has them:

- **urban street grids** around each township seat with communities: streets every
  ``spacing`` metres aligned on the seat, clipped to the urban patch, main roads every fifth
  line (``highway=secondary``), the rest ``residential``;
- **county roads** between township seats: the Euclidean minimum spanning tree of the
  seats plus each seat's second-nearest link (``secondary`` from the county seat,
  ``tertiary`` otherwise);
- **village roads** (``unclassified``): in each township, the minimum spanning tree of the
  township seat and its village centres.

Polylines get a node every ~``step`` metres (40–60 m, as OSM ways carry shape nodes) with a
smooth seeded sideways wiggle, so they look and measure like roads rather than chords. All
coordinates are metric (the generator's CRS) until :meth:`OsmWriter.write` projects them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import quoteattr

import numpy as np
import scipy.sparse as sp
import shapely
from pyproj import Transformer
from scipy.sparse import csgraph
from scipy.spatial import Delaunay

ROAD_WORDS = ("建设", "人民", "文化", "解放", "中原", "黄河", "长江", "嵩山", "商城", "民主",
              "和平", "幸福", "振兴", "育才", "光明", "康宁", "兴华", "富民", "永安", "华山",
              "伏牛", "桐柏", "淮河", "汝河", "颍河", "洛河", "朝阳", "东风", "工业", "农业",
              "科学", "学院")


@dataclass
class OsmWriter:
    """Accumulates tagged polylines (metric x/y); writes deterministic OSM XML.

    Where two roads cross they get a shared node (as roads crossing at grade have in
    OSM), added when the file is written: see :func:`node_crossings`.
    """

    crs: str
    lines: list[tuple[np.ndarray, dict[str, str]]] = field(default_factory=list)
    xy: list[tuple[float, float]] = field(default_factory=list)
    ways: list[tuple[list[int], dict[str, str]]] = field(default_factory=list)
    _index: dict[tuple[int, int], int] = field(default_factory=dict)

    def add(self, points: np.ndarray, tags: dict[str, str]) -> None:
        """Add a road through ``points`` (k × 2)."""
        self.lines.append((np.asarray(points, dtype=float), tags))

    def finish(self) -> None:
        """Node the crossings and give every point a node id (idempotent)."""
        if self.ways or not self.lines:
            return
        noded = node_crossings([p for p, _ in self.lines])
        for pts, (_, tags) in zip(noded, self.lines, strict=True):
            self.way(pts, tags)

    def node(self, x: float, y: float) -> int:
        """The node at (x, y) rounded to 0.1 m, created if new (shared at junctions)."""
        key = (round(x * 10), round(y * 10))
        found = self._index.get(key)
        if found is None:
            found = len(self.xy) + 1
            self._index[key] = found
            self.xy.append((x, y))
        return found

    def way(self, points: np.ndarray, tags: dict[str, str]) -> list[int]:
        """Add a way through ``points`` (k × 2); returns its node ids."""
        ids = [self.node(float(x), float(y)) for x, y in points]
        ids = [n for i, n in enumerate(ids) if i == 0 or n != ids[i - 1]]
        if len(ids) >= 2:
            self.ways.append((ids, {**tags, "generated": "yes"}))
        return ids

    def segments(self) -> shapely.MultiLineString:
        """Every road as one geometry (for distance checks)."""
        return shapely.MultiLineString([p for p, _ in self.lines])

    def write(self, path: Path) -> None:
        """Write OSM XML 0.6: nodes in WGS84 (7 decimals), then ways."""
        self.finish()
        to_wgs = Transformer.from_crs(self.crs, "EPSG:4326", always_xy=True)
        xy = np.asarray(self.xy)
        lon, lat = to_wgs.transform(xy[:, 0], xy[:, 1])
        lines = ['<?xml version="1.0" encoding="UTF-8"?>',
                 '<osm version="0.6" generator="siting generate" '
                 'note="GENERATED road network, not real OpenStreetMap data">',
                 f'  <bounds minlat="{lat.min():.7f}" minlon="{lon.min():.7f}" '
                 f'maxlat="{lat.max():.7f}" maxlon="{lon.max():.7f}"/>']
        lines += [f'  <node id="{i + 1}" version="1" lat="{la:.7f}" lon="{lo:.7f}"/>'
                  for i, (lo, la) in enumerate(zip(lon, lat, strict=True))]
        for k, (ids, tags) in enumerate(self.ways):
            lines.append(f'  <way id="{k + 1}" version="1">')
            lines += [f'    <nd ref="{n}"/>' for n in ids]
            lines += [f"    <tag k={quoteattr(a)} v={quoteattr(b)}/>" for a, b in
                      sorted(tags.items())]
            lines.append("  </way>")
        lines.append("</osm>")
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def node_crossings(lines: list[np.ndarray]) -> list[np.ndarray]:
    """The polylines with a vertex added wherever another one crosses or touches them."""
    geoms = np.array([shapely.LineString(p) for p in lines], dtype=object)
    tree = shapely.STRtree(geoms)
    a, b = tree.query(geoms, predicate="intersects")
    keep = a < b
    a, b = a[keep], b[keep]
    extra: dict[int, list[np.ndarray]] = {}
    points = shapely.intersection(geoms[a], geoms[b])
    for i, j, p in zip(a, b, points, strict=True):
        xy = shapely.get_coordinates(p) if p.geom_type in ("Point", "MultiPoint") else None
        if xy is None or len(xy) == 0:
            continue
        extra.setdefault(int(i), []).append(xy)
        extra.setdefault(int(j), []).append(xy)
    out = []
    for k, pts in enumerate(lines):
        if k not in extra:
            out.append(pts)
            continue
        add = np.vstack(extra[k])
        along = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(pts, axis=0).T))])
        where = shapely.line_locate_point(geoms[k], shapely.points(add))
        merged = np.vstack([pts, add])
        order = np.argsort(np.concatenate([along, where]), kind="stable")
        out.append(merged[order])
    return out


def wiggle(a: np.ndarray, b: np.ndarray, rng: np.random.Generator, *, step: float,
           amplitude: float) -> np.ndarray:
    """Points from a to b every ~step metres, bent sideways by a smooth seeded curve."""
    d = b - a
    length = float(np.hypot(*d))
    n = max(1, int(np.ceil(length / step)))
    t = np.linspace(0.0, 1.0, n + 1)
    normal = np.array([-d[1], d[0]]) / max(length, 1e-9)
    k = rng.integers(1, 3)
    phase = rng.uniform(0, np.pi)
    amp = rng.uniform(-amplitude, amplitude) * min(1.0, length / 1500.0)
    offset = amp * np.sin(np.pi * k * t + phase) * np.sin(np.pi * t)
    return a + np.outer(t, d) + np.outer(offset, normal)


def spanning_edges(points: np.ndarray, *, extra_second_nearest: bool = False,
                   ) -> list[tuple[int, int]]:
    """Edges of the Euclidean MST of ``points`` (plus each point's 2nd-nearest link)."""
    n = len(points)
    if n < 2:
        return []
    if n == 2:
        return [(0, 1)]
    if n == 3 or _collinear(points):
        pairs = {(i, j) for i in range(n) for j in range(i + 1, n)}
    else:
        tri = Delaunay(points)
        pairs = set()
        for s in tri.simplices:
            for i, j in ((s[0], s[1]), (s[1], s[2]), (s[0], s[2])):
                pairs.add((min(i, j), max(i, j)))
    pairs_arr = np.array(sorted(pairs))
    w = np.hypot(*(points[pairs_arr[:, 0]] - points[pairs_arr[:, 1]]).T)
    g = sp.coo_array((w, (pairs_arr[:, 0], pairs_arr[:, 1])), shape=(n, n)).tocsr()
    tree = csgraph.minimum_spanning_tree(g).tocoo()
    edges = {(min(int(i), int(j)), max(int(i), int(j))) for i, j in
             zip(tree.row, tree.col, strict=True)}
    if extra_second_nearest:
        for i in range(n):
            d = np.hypot(*(points - points[i]).T)
            order = np.argsort(d)
            if len(order) > 2:
                j = int(order[2])
                pair = (min(i, j), max(i, j))
                if pair in pairs:
                    edges.add(pair)
    return sorted(edges)


def _collinear(points: np.ndarray) -> bool:
    centred = points - points.mean(axis=0)
    return bool(np.linalg.matrix_rank(centred, tol=1e-6) < 2)


def street_grid(seat: np.ndarray, patch: shapely.Geometry, spacing: float,
                ) -> tuple[dict[tuple[int, int], np.ndarray], list[tuple[tuple[int, int],
                                                                        tuple[int, int]]]]:
    """Grid junctions inside ``patch`` connected to the seat, and the streets between them.

    Returns the junctions by grid index (0, 0 is the seat) and the pairs of 4-neighbour
    junctions joined by a street, keeping only the part connected to the seat.
    """
    minx, miny, maxx, maxy = patch.bounds
    i0, i1 = int(np.floor((minx - seat[0]) / spacing)), int(np.ceil((maxx - seat[0]) / spacing))
    j0, j1 = int(np.floor((miny - seat[1]) / spacing)), int(np.ceil((maxy - seat[1]) / spacing))
    ii, jj = np.meshgrid(np.arange(i0, i1 + 1), np.arange(j0, j1 + 1), indexing="ij")
    xs = seat[0] + ii.ravel() * spacing
    ys = seat[1] + jj.ravel() * spacing
    inside = shapely.contains_xy(patch, xs, ys)
    inside[(ii.ravel() == 0) & (jj.ravel() == 0)] = True
    keys = [(int(i), int(j)) for i, j, ok in zip(ii.ravel(), jj.ravel(), inside, strict=True)
            if ok]
    pts = {k: np.array([seat[0] + k[0] * spacing, seat[1] + k[1] * spacing]) for k in keys}
    edges = [(k, (k[0] + di, k[1] + dj)) for k in keys for di, dj in ((1, 0), (0, 1))
             if (k[0] + di, k[1] + dj) in pts]
    # keep the part connected to the seat
    index = {k: n for n, k in enumerate(keys)}
    if edges:
        r = [index[a] for a, _ in edges]
        c = [index[b] for _, b in edges]
        g = sp.coo_array((np.ones(len(r)), (r, c)), shape=(len(keys), len(keys)))
        _, label = csgraph.connected_components(g, directed=False)
        home = label[index[(0, 0)]]
        keep = {k for k in keys if label[index[k]] == home}
    else:
        keep = {(0, 0)}
    return ({k: v for k, v in pts.items() if k in keep},
            [e for e in edges if e[0] in keep and e[1] in keep])


def road_name(rng: np.random.Generator, suffix: str = "路") -> str:
    """A plausible Chinese road name."""
    return f"{ROAD_WORDS[int(rng.integers(len(ROAD_WORDS)))]}{suffix}"
