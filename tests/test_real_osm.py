"""Read → graph → snap → candidates → distances on a real Chinese city's OSM extract.

``data/osm/dalian_central_drive_2024.osm.pbf`` (© OpenStreetMap contributors, ODbL 1.0):
central Dalian's drivable network, as OSMnx downloads it, clipped here to about 2 × 2 km of
the city centre so that the test stays quick. The distances are checked against networkx's
Dijkstra on the same access graph (an independent path).
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import shapely

from siting.network import candidates, distances, roads, snapping
from siting.readers import osm

from .conftest import ROOT

DALIAN = ROOT / "data" / "osm" / "dalian_central_drive_2024.osm.pbf"
CENTRE = shapely.box(121.60, 38.90, 121.625, 38.92)     # 中山区 / 西岗区, about 2 × 2 km
RADIUS = 500.0


@pytest.fixture(scope="module")
def net():
    data = osm.read(DALIAN, clip=CENTRE)
    return roads.from_ways(data.roads, DALIAN)


def test_the_real_extract_reads_as_a_road_network_with_chinese_names(net):
    assert 1_000 < net.n_nodes < 23_901           # clipped from the whole extract
    assert net.walk.all() and net.drive.mean() > 0.9   # a drivable network, walkable too
    assert net.crs == "EPSG:32651"                 # UTM 51N: Dalian is at 121.6° E
    named = [n for n in net.name if n]
    assert any("\u4e00" <= ch <= "\u9fff" for n in named for ch in n)
    # a road segment is a straight line between OSM vertices: tens of metres, not kilometres
    assert 0 < np.median(net.length) < 100 and net.length.max() < 2_000


def test_points_snap_and_distances_match_networkx(net):
    rng = np.random.default_rng(3)
    pick = rng.integers(0, net.n_nodes, 60)
    x, y = net.x[pick] + rng.normal(0, 60, 60), net.y[pick] + rng.normal(0, 60, 60)
    ag = snapping.access_graph(net, "walk", x, y, max_snap_m=250.0)
    ok = ag.node >= 0
    assert ok.mean() > 0.9 and (ag.snapped.gap[ok] <= 250.0).all()
    sites = candidates.road_nodes(net, ["walk", "drive"], min_spacing_m=100.0,
                                  junctions_only=False)["road_node"].to_numpy()
    assert 100 < len(sites) < net.n_nodes
    reach = distances.within(ag.graph, ag.node, sites, RADIUS, xy=ag.xy)
    assert reach.dist.shape == (60, len(sites)) and reach.dist.nnz > 60
    g = nx.from_scipy_sparse_array(ag.graph, edge_attribute="weight")
    col = {int(s): j for j, s in enumerate(sites)}
    for i in np.flatnonzero(ok)[:15]:
        truth = nx.single_source_dijkstra_path_length(g, int(ag.node[i]), cutoff=RADIUS)
        want = {col[n]: d for n, d in truth.items() if n in col}
        row = reach.dist[[i]]
        got = dict(zip(row.indices.tolist(), row.data.tolist(), strict=True))
        assert got.keys() == want.keys()
        assert all(got[j] == pytest.approx(want[j], abs=1e-6) for j in got)
