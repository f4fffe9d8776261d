"""Service areas: the stretch of road each open site reaches within its tier's radius.

Drawn on request (``[map] service_areas``): one bounded search per open site on the tier's
network, and the road segments whose both ends lie within the radius. The shape follows the
roads, as a walker or a driver would, rather than a circle around the site.
"""

from __future__ import annotations

import numpy as np
import shapely
from scipy.sparse import csgraph

from siting.network.snapping import access_graph
from siting.run.assemble import site_nodes
from siting.run.results import RunResult

MAX_SITES = 400
"""At most this many sites get a service area drawn (the first, in site order)."""


def reached_roads(result: RunResult, tier: str) -> list[tuple[str, shapely.Geometry]]:
    """(site id, reached road segments as one MultiLineString) per open site of ``tier``."""
    cfg = result.tiers[tier].config
    net = result.network
    sites = result.sites
    ex = sites.existing_sites()
    x = np.concatenate([result.demand["x"].to_numpy(), sites.x[ex]])
    y = np.concatenate([result.demand["y"].to_numpy(), sites.y[ex]])
    g = access_graph(net, cfg.network, x, y, max_snap_m=result.scenario.network.max_snap_m)
    nodes = site_nodes(sites, g)
    opened = np.flatnonzero(result.outcomes[tier].open)[:MAX_SITES]
    opened = opened[nodes[opened] >= 0]
    if len(opened) == 0:
        return []
    radius = float(cfg.radius_m or 0.0)
    d = csgraph.dijkstra(g.graph, directed=True, indices=nodes[opened], limit=radius)
    edges = net.edges(cfg.network)
    u, v = net.u[edges], net.v[edges]
    out = []
    for k, j in enumerate(opened):
        near = np.isfinite(d[k, u]) & np.isfinite(d[k, v])
        if not near.any():
            continue
        segs = [((net.lon[a], net.lat[a]), (net.lon[b], net.lat[b]))
                for a, b in zip(u[near], v[near], strict=True)]
        out.append((str(sites.site_id[j]), shapely.MultiLineString(segs)))
    return out
