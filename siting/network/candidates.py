"""Candidate sites: road junctions and dead ends, the demand units' doors, existing sites.

New sites may open

- at any node of the road network where it branches or ends (degree ≠ 2 on the walk or
  drive network): street corners and the ends of lanes, where a kiosk or a locker bank can
  stand by the road; with ``junctions_only = false``, at any road node. With
  ``min_spacing_m`` > 0 one node is kept per grid cell of that size (the best-connected,
  then the lowest OSM id), which bounds the model size at city scale;
- at each demand unit ("door" candidates: a building, an area, a village or township
  centre): its demand point, attached to the road like the unit itself, so a locker bank
  can stand in the compound it serves, an outlet in the village it serves, and every unit
  that reaches a road can be served by some candidate.

Existing facilities are candidates too: fixed open for the tiers they already serve, and
eligible for the others at the usual cost.

Every site has ``road_node`` (its road node, or -1) and ``point`` (its row in the list of
points attached to the access graphs, or -1): exactly one of the two is set; ``is_existing``
marks the existing facilities. :class:`siting.run.results.Sites` is the typed form the run
passes on.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from siting.network.roads import RoadNetwork

log = logging.getLogger(__name__)

COLUMNS = ["site_id", "source", "osm_id", "name", "lon", "lat", "x", "y", "road_node", "point",
           "is_existing"]


def road_nodes(net: RoadNetwork, modes: list[str], *, min_spacing_m: float,
               junctions_only: bool = True) -> pd.DataFrame:
    """Nodes of the networks of ``modes`` (only junctions and ends by default), thinned."""
    degree = np.zeros(net.n_nodes, dtype=np.int64)
    for mode in modes:
        d = net.degree(mode)
        on = d > 0
        degree[on] = np.maximum(degree[on], d[on])
    keep = np.flatnonzero((degree > 0) & ((degree != 2) | (not junctions_only)))
    if min_spacing_m > 0 and len(keep):
        cell_x = np.floor(net.x[keep] / min_spacing_m).astype(np.int64)
        cell_y = np.floor(net.y[keep] / min_spacing_m).astype(np.int64)
        order = np.lexsort((net.node_id[keep], -degree[keep], cell_y, cell_x))
        k = keep[order]
        cx, cy = cell_x[order], cell_y[order]
        first = np.ones(len(k), dtype=bool)
        first[1:] = (cx[1:] != cx[:-1]) | (cy[1:] != cy[:-1])
        keep = np.sort(k[first])
    out = pd.DataFrame({
        "source": "road node", "osm_id": net.node_id[keep], "name": "",
        "lon": net.lon[keep], "lat": net.lat[keep], "x": net.x[keep], "y": net.y[keep],
        "road_node": keep})
    log.info("candidates: %s road nodes (of %s), spacing %s m", f"{len(out):,}",
             f"{net.n_nodes:,}", f"{min_spacing_m:g}")
    return out


DOOR_SOURCE = {"osm_buildings": "building", "areas": "area", "villages": "village centre",
               "townships": "township centre"}


def doors(units: pd.DataFrame) -> pd.DataFrame:
    """One candidate per demand unit, at its demand point (``point`` = the unit's row)."""
    return pd.DataFrame({
        "source": [DOOR_SOURCE.get(x, x) for x in units["layer"]],
        "osm_id": units["code"].to_numpy(), "name": units["name"].to_numpy(),
        "lon": units["lon"].to_numpy(), "lat": units["lat"].to_numpy(),
        "x": units["x"].to_numpy(), "y": units["y"].to_numpy(),
        "road_node": -1, "point": np.arange(len(units))})


def combine(existing: pd.DataFrame, nodes: pd.DataFrame, door: pd.DataFrame, *,
            first_point: int, tiers: list[str]) -> pd.DataFrame:
    """Stack existing facilities, road-node candidates and door candidates into one table.

    ``existing`` has ``source``, ``osm_id``, ``name``, ``lon``, ``lat``, ``x``, ``y`` and a
    bool ``existing_<tier>`` column per tier it serves; its points are attached after the
    demand points, from ``first_point`` on. The result gets ``site_id`` (S00001…),
    ``is_existing`` and an ``existing_<tier>`` column for every tier.
    """
    ex = existing.copy()
    ex["road_node"] = -1
    ex["point"] = first_point + np.arange(len(ex))
    ex["is_existing"] = True
    nodes = nodes.assign(point=-1, is_existing=False)
    sites = pd.concat([ex, nodes, door.assign(is_existing=False)], ignore_index=True)
    for t in tiers:
        col = f"existing_{t}"
        sites[col] = sites[col].fillna(False).astype(bool) if col in sites else False
    sites["site_id"] = [f"S{i + 1:05d}" for i in range(len(sites))]
    sites["osm_id"] = sites["osm_id"].astype(str)
    if "capacity" not in sites:
        sites["capacity"] = np.nan
    sites["road_node"] = sites["road_node"].astype(np.int64)
    sites["point"] = sites["point"].astype(np.int64)
    return sites[[*COLUMNS, "capacity", *(f"existing_{t}" for t in tiers)]]
