"""Where each site is, in words a planner can hand out: township, village, road, GCJ-02.

For every site (candidate or existing, by its row in :class:`~siting.run.results.Sites`):
the township and the village or community whose polygon holds it (point in polygon on the
demand units of the ``townships`` and ``villages`` layers), the nearest named road of the
run's OSM network as an address hint, and, when ``[report] gcj02`` is on, its GCJ-02
coordinates (what Gaode and Tencent maps expect; WGS84 lands ~550–590 m off there).
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import shapely

from siting.network import roads
from siting.readers import coords
from siting.run.results import Placement, Sites

log = logging.getLogger(__name__)

ROAD_HINT_M = 300.0
"""A named road farther than this from a site is no address hint: the hint stays blank."""


def place(sites: Sites, units: gpd.GeoDataFrame, network: roads.RoadNetwork, *,
          gcj02: bool) -> Placement:
    """Every site's township, village or community, nearest named road and GCJ-02 position."""
    town_code, town_name = _containing(sites, units, "townships")
    unit_code, unit_name = _containing(sites, units, "villages")
    road, road_m = nearest_road(sites, network)
    gcj = coords.from_wgs84(sites.lon, sites.lat, "gcj02") if gcj02 else None
    log.info("placement: %s of %s sites in a township, %s with a named road within %g m",
             f"{int((town_code != '').sum()):,}", f"{len(sites):,}",
             f"{int((road != '').sum()):,}", ROAD_HINT_M)
    return Placement(township_code=town_code, township_name=town_name, unit_code=unit_code,
                     unit_name=unit_name, road=road, road_m=road_m,
                     gcj_lon=None if gcj is None else gcj[0],
                     gcj_lat=None if gcj is None else gcj[1])


def _containing(sites: Sites, units: gpd.GeoDataFrame, layer: str,
                ) -> tuple[np.ndarray, np.ndarray]:
    """(code, name) of the ``layer`` polygon holding each site, "" where none does."""
    code = np.full(len(sites), "", dtype=object)
    name = np.full(len(sites), "", dtype=object)
    rows = np.flatnonzero(units["layer"].to_numpy() == layer)
    if len(rows) == 0 or len(sites) == 0:
        return code, name
    tree = shapely.STRtree(units.geometry.to_numpy()[rows])
    site, poly = tree.query(shapely.points(sites.lon, sites.lat), predicate="within")
    first = np.unique(site, return_index=True)[1]      # a point on a shared border: the first
    site, poly = site[first], rows[poly[first]]
    code[site] = units["code"].fillna("").astype(str).to_numpy()[poly]
    name[site] = units["name"].fillna("").astype(str).to_numpy()[poly]
    return code, name


def nearest_road(sites: Sites, network: roads.RoadNetwork) -> tuple[np.ndarray, np.ndarray]:
    """(name, metres) of the nearest named road segment within :data:`ROAD_HINT_M` of each site.

    "" and NaN where no named road is that close (an unnamed service road is no address).
    """
    name = np.full(len(sites), "", dtype=object)
    dist = np.full(len(sites), np.nan)
    named = np.flatnonzero(np.array([bool(str(n).strip()) for n in network.name], dtype=bool))
    if len(named) == 0 or len(sites) == 0:
        return name, dist
    u, v = network.u[named], network.v[named]
    lines = shapely.linestrings(np.stack([np.column_stack([network.x[u], network.y[u]]),
                                          np.column_stack([network.x[v], network.y[v]])], axis=1))
    tree = shapely.STRtree(lines)
    site, edge = tree.query_nearest(shapely.points(sites.x, sites.y), max_distance=ROAD_HINT_M,
                                    all_matches=False)
    pts = shapely.points(sites.x[site], sites.y[site])
    name[site] = [str(network.name[named[e]]).strip() for e in edge]
    dist[site] = np.round(shapely.distance(pts, lines[edge]), 1)
    return name, dist
