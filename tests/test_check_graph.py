"""Snapping and pair search on small graphs with known answers, against networkx.

The checker's own snapping (siting.check.graph) and the model's (siting.network.snapping,
distances) follow one length convention: great-circle metres, the gap from the point to its
foot included in every access edge. Both are held to hand-computed distances here.
"""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import osmnx as ox
import pytest

from siting.check import graph as cgraph
from siting.check import measure
from siting.network import distances, roads, snapping
from siting.readers import coords
from siting.readers.osm import RoadWays

LON0, LAT0 = 113.6, 34.75          # Zhengzhou, UTM zone 49: scale factor ≈ 1.0002
M_LAT = 111_195.08                 # metres per degree of latitude on the 6,371,009 m sphere


def _ways(lon: list[float], lat: list[float], a: list[int], b: list[int]) -> RoadWays:
    m = len(a)
    return RoadWays(node_id=np.arange(1, len(lon) + 1, dtype=np.int64),
                    lon=np.array(lon, float), lat=np.array(lat, float),
                    a=np.array(a, np.int64), b=np.array(b, np.int64),
                    walk=np.ones(m, bool), drive=np.ones(m, bool),
                    highway=np.array(["residential"] * m, dtype=object),
                    name=np.array([""] * m, dtype=object))


@pytest.fixture
def one_road() -> RoadWays:
    """A 400 m north–south road (a meridian: lon/lat interpolation is exact on it)."""
    return _ways([LON0, LON0], [LAT0, LAT0 + 400 / M_LAT], [0], [1])


def _east(m: float, lat: float = LAT0) -> float:
    return m / (M_LAT * np.cos(np.radians(lat)))


def test_haversine_is_osmnx_great_circle():
    lon = LON0 + np.array([0.0, 0.01, -0.3])
    lat = LAT0 + np.array([0.0, 0.02, 0.1])
    ours = cgraph.haversine(lon[:-1], lat[:-1], lon[1:], lat[1:])
    theirs = ox.distance.great_circle(lat[:-1], lon[:-1], lat[1:], lon[1:])
    assert ours == pytest.approx(theirs, rel=1e-12)


def test_checker_snap_adds_the_gap_both_ways(one_road):
    """A point 50 m east of the road at 100 m: 150 m to the south end, 350 m to the north."""
    crs = coords.metric_crs(one_road.lon, one_road.lat)
    lat = LAT0 + 100 / M_LAT
    acc = cgraph.attach(one_road, "walk", crs, np.array([LON0 + _east(50, lat)]),
                        np.array([lat]), max_snap_m=250)
    assert acc.gap[0] == pytest.approx(50.0, abs=1e-3)
    d = nx.single_source_dijkstra_path_length(acc.graph, acc.node[0], weight="length")
    assert d[1] == pytest.approx(150.0, abs=1e-3)
    assert d[2] == pytest.approx(350.0, abs=1e-3)


def test_checker_feet_on_one_segment_are_chained(one_road):
    crs = coords.metric_crs(one_road.lon, one_road.lat)
    lat = LAT0 + np.array([100.0, 300.0, 100.0]) / M_LAT
    lon = LON0 + np.array([_east(30, lat[0]), -_east(40, lat[1]), _east(30, lat[2])])
    acc = cgraph.attach(one_road, "walk", crs, lon, lat, max_snap_m=250)
    assert acc.node[0] == acc.node[2]              # the same spot: one node
    d = nx.dijkstra_path_length(acc.graph, acc.node[0], acc.node[1], weight="length")
    assert d == pytest.approx(30 + 200 + 40, abs=1e-3)


def test_checker_point_beyond_max_snap_is_not_attached(one_road):
    crs = coords.metric_crs(one_road.lon, one_road.lat)
    acc = cgraph.attach(one_road, "walk", crs, np.array([LON0 + _east(260)]),
                        np.array([LAT0 + 100 / M_LAT]), max_snap_m=250)
    assert acc.node == [None] and np.isinf(acc.gap[0])


def test_model_gap_is_great_circle_too(one_road):
    """Zone 49's scale factor makes a UTM gap 1.0002 × too long; the convention removes it."""
    net = roads.from_ways(one_road, Path("road.osm"))
    lat = LAT0 + 100 / M_LAT
    x, y = coords.project(np.array([LON0 + _east(100, lat)]), np.array([lat]), net.crs)
    s = snapping.snap(net, "walk", x, y, max_snap_m=250)
    assert s.gap[0] == pytest.approx(100.0, abs=1e-3)
    assert s.along[0] == pytest.approx(0.25, abs=1e-5)


def _grid(n: int = 5, step_m: float = 100.0) -> RoadWays:
    """An n × n street grid, with one diagonal lane."""
    lon = [LON0 + _east(step_m * i) for j in range(n) for i in range(n)]
    lat = [LAT0 + step_m * j / M_LAT for j in range(n) for i in range(n)]
    a, b = [], []
    for j in range(n):
        for i in range(n):
            k = j * n + i
            if i + 1 < n:
                a.append(k), b.append(k + 1)
            if j + 1 < n:
                a.append(k), b.append(k + n)
    a.append(0), b.append(n + 1)
    return _ways(lon, lat, a, b)


@pytest.fixture
def grid_points():
    rng = np.random.default_rng(7)
    ways = _grid()
    lon = LON0 + _east(rng.uniform(-30, 430, 24))
    lat = LAT0 + rng.uniform(-30, 430, 24) / M_LAT
    return ways, lon, lat


def test_model_and_checker_snapping_give_the_same_distances(grid_points):
    ways, lon, lat = grid_points
    net = roads.from_ways(ways, Path("grid.osm"))
    x, y = coords.project(lon, lat, net.crs)
    model = snapping.access_graph(net, "walk", x, y, max_snap_m=250)
    ours = cgraph.attach(ways, "walk", net.crs, lon, lat, max_snap_m=250)
    np.testing.assert_allclose(model.snapped.gap, ours.gap, atol=1e-6)
    got = distances.within(model.graph, model.node[:12], model.node[12:], 350.0).dist.toarray()
    for i in range(12):
        d = nx.single_source_dijkstra_path_length(ours.graph, ours.node[i], weight="length")
        for j in range(12):
            want = d.get(ours.node[12 + j], np.inf)
            assert (got[i, j] if got[i, j] or want == 0 else np.inf) == pytest.approx(
                want if want <= 350 else np.inf, abs=1e-6), (i, j)


@pytest.mark.parametrize("targets,sources", [(slice(0, 20), slice(20, 24)),
                                             (slice(0, 4), slice(4, 24))])
@pytest.mark.parametrize("localised", [False, True])
def test_pair_search_matches_networkx_both_ways_and_chunked(grid_points, monkeypatch,
                                                            targets, sources, localised):
    ways, lon, lat = grid_points
    net = roads.from_ways(ways, Path("grid.osm"))
    x, y = coords.project(lon, lat, net.crs)
    g = snapping.access_graph(net, "walk", x, y, max_snap_m=250)
    monkeypatch.setattr(distances, "CHUNK_BYTES", 8 * g.graph.shape[0] * 2)   # 2 a chunk
    t, s = g.node[targets], g.node[sources]
    got = distances.within(g.graph, t, s, 260.0, xy=g.xy if localised else None)
    ref = nx.from_scipy_sparse_array(g.graph)
    want = np.full((len(t), len(s)), np.inf)
    for j, src in enumerate(s):
        d = nx.single_source_dijkstra_path_length(ref, int(src), weight="weight")
        for i, tgt in enumerate(t):
            if d.get(int(tgt), np.inf) <= 260.0:
                want[i, j] = d[int(tgt)]
    m = got.dist.tocoo()
    dense = np.full(want.shape, np.inf)
    dense[m.row, m.col] = m.data
    np.testing.assert_allclose(dense, want, atol=1e-6)
    assert np.isfinite(want).sum() > 10          # the test has pairs to find


def test_checker_pairs_and_nearest_agree(grid_points):
    ways, lon, lat = grid_points
    crs = coords.metric_crs(ways.lon, ways.lat)
    acc = cgraph.attach(ways, "walk", crs, lon, lat, max_snap_m=250)
    units, sites = acc.node[:20], acc.node[20:]
    near = measure.nearest_distance(acc.graph, sites, units, 200.0)
    u, _ = measure.within(acc.graph, sites, units, 200.0)
    assert set(u.tolist()) == set(np.flatnonzero(np.isfinite(near)).tolist())


def test_max_flow_known_answer():
    """Two units (need 5 and 4) and two banks (6 and 2); unit 1 reaches only bank 1."""
    pairs = (np.array([0, 0, 1]), np.array([0, 1, 1]))
    got = measure.max_flow(np.array([5.0, 4.0]), np.array([6.0, 2.0]), pairs)
    assert got.tolist() == [5.0, 2.0]
    assert measure.max_flow(np.array([5.0, 2.0]), np.array([6.0, 2.0]), pairs).tolist() == \
        [5.0, 2.0]


def test_inside_counts_the_boundary_and_nothing_outside():
    import shapely

    square = shapely.box(0, 0, 1, 1)
    got = measure.holds_a_site(np.array([square, square, None], dtype=object),
                               np.array([1.0, 2.0]), np.array([0.5, 2.0]))
    assert got.tolist() == [True, True, False]
    assert measure.holds_a_site(np.array([square], dtype=object), np.array([2.0]),
                                np.array([2.0])).tolist() == [False]


def test_in_run_checker_pairs_match_the_model_in_chunks(grid_points, monkeypatch):
    from siting.check import checker

    ways, lon, lat = grid_points
    net = roads.from_ways(ways, Path("grid.osm"))
    x, y = coords.project(lon, lat, net.crs)
    g = snapping.access_graph(net, "walk", x, y, max_snap_m=250)
    monkeypatch.setattr(checker, "CHUNK", 3)
    ours = checker._within(g.graph, g.node[:16], g.node[16:], 260.0).toarray() > 0
    theirs = distances.within(g.graph, g.node[:16], g.node[16:], 260.0).dist.tocoo()
    want = np.zeros_like(ours)
    want[theirs.row, theirs.col] = True
    assert (ours == want).all() and want.sum() > 5
