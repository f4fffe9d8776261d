"""The three-level rural chain (专栏5): 县级处理中心 → 乡镇网点 → 村级网点, by road.

Each village (a unit of the village tier) is served by its nearest open village outlet
(within the tier's radius when it reaches by road); that outlet by its nearest open township
outlet; that one by its nearest county processing centre. Distances are road metres on the
``[chain] network`` access graph, searched from the outlets (the graph is undirected, so
"from" and "to" measure alike).

The centres are the existing facilities whose type is one of ``[chain] centre_types``, and
``new_centres`` more, sited by a p-median (:func:`siting.core.p_median`) over the open
township outlets: the least summed road distance from every township outlet to its nearest
centre, the existing centres fixed open. Their candidates are the township outlets' own
sites and the road junctions thinned to one per ``spacing_m`` grid cell
(:func:`siting.network.candidates.road_nodes`).

The ``chain`` target (with ``max_chain_km``) names every village whose chain is longer, or
that a road reaches but that has no chain (no village outlet in reach). A village no road
reaches has no chain and is left to the village tier's target, which names it.
"""

from __future__ import annotations

import logging

import numpy as np
from scipy.sparse import csgraph

from siting import core
from siting.check import checker
from siting.config.scenario import ChainConfig, Scenario
from siting.network import candidates
from siting.network.roads import RoadNetwork
from siting.network.snapping import AccessGraph
from siting.run import inputs
from siting.run.assemble import site_nodes
from siting.run.phrases import Phrase
from siting.run.results import Centre, Chain, Sites, TierRun

log = logging.getLogger(__name__)

KEY = "chain"


def build(scenario: Scenario, net: RoadNetwork, graph: AccessGraph, sites: Sites,
          is_open: dict[str, np.ndarray], village: TierRun, *,
          settings: core.SolverSettings) -> Chain:
    """Every village's chain, with the new centres sited first (see the module docstring)."""
    cfg = scenario.chain
    assert cfg is not None
    node = site_nodes(sites, graph)
    outlets = np.flatnonzero(is_open["village"])
    towns = np.flatnonzero(is_open["township"])
    limit = float(village.config.radius_m or np.inf) if village.config.reach == "road" \
        else np.inf
    unit_node = graph.node[village.rows]
    outlet_m, k = checker.nearest_source(graph.graph, node[outlets], unit_node, limit=limit)
    village_site = np.where(k >= 0, outlets[np.maximum(k, 0)], -1)
    centres, centre_node = _centres(cfg, net, graph, sites, node, towns, settings)
    town_m, k = checker.nearest_source(graph.graph, node[towns], _at(node, village_site))
    township_site = np.where((k >= 0) & (village_site >= 0), towns[np.maximum(k, 0)], -1)
    centre_m, centre = checker.nearest_source(graph.graph, centre_node,
                                              _at(node, township_site))
    centre = np.where(township_site >= 0, centre, -1)
    chain = Chain(village.rows, village_site, township_site, centre,
                  _nan(outlet_m, village_site), _nan(town_m, township_site),
                  _nan(centre_m, centre), centres,
                  None if cfg.max_chain_km is None else cfg.max_chain_km * 1000.0,
                  attached=unit_node >= 0)
    total = chain.chain_m[np.isfinite(chain.chain_m)]
    log.info("chain: %d villages, %d centres (%d new); chain %s km mean, %s km longest%s",
             len(chain.villages), len(centres), sum(not c.existing for c in centres),
             f"{total.mean() / 1000:.1f}" if len(total) else "-",
             f"{total.max() / 1000:.1f}" if len(total) else "-",
             f"; {int(chain.beyond.sum())} beyond {cfg.max_chain_km:g} km"
             if cfg.max_chain_km is not None else "")
    return chain


def _at(node: np.ndarray, site: np.ndarray) -> np.ndarray:
    """The graph node of each site row (-1 where the row is -1)."""
    return np.where(site >= 0, node[np.maximum(site, 0)], -1)


def _nan(dist: np.ndarray, site: np.ndarray) -> np.ndarray:
    return np.where((site >= 0) & np.isfinite(dist), dist, np.nan)


def _centres(cfg: ChainConfig, net: RoadNetwork, graph: AccessGraph, sites: Sites,
             node: np.ndarray, towns: np.ndarray, settings: core.SolverSettings,
             ) -> tuple[list[Centre], np.ndarray]:
    """The existing centres and the new ones, and each one's node in the graph."""
    have = np.flatnonzero(sites.is_existing & np.isin(sites.source.astype(str),
                                                      list(cfg.centre_types)))
    centres = [Centre(str(sites.site_id[j]), str(sites.name[j]), str(sites.source[j]),
                      str(sites.osm_id[j]), float(sites.lon[j]), float(sites.lat[j]), True)
               for j in have]
    nodes = node[have]
    if cfg.new_centres == 0 or len(towns) == 0:
        return centres, nodes
    cand = np.unique(np.concatenate([
        node[towns], candidates.road_nodes(net, [cfg.network], min_spacing_m=cfg.spacing_m)[
            "road_node"].to_numpy(np.int64)]))
    cand = cand[(cand >= 0) & ~np.isin(cand, nodes)]
    new = _p_median(graph, node[towns], nodes, cand, cfg.new_centres, settings)
    for i, n in enumerate(new):
        lon, lat = _lonlat(net, graph, sites, node, int(n))
        osm = str(net.node_id[n]) if n < graph.n_road else ""
        centres.append(Centre(f"C{i + 1:03d}", "", "road node", osm, lon, lat, False))
    return centres, np.concatenate([nodes, new])


def _p_median(graph: AccessGraph, towns: np.ndarray, fixed: np.ndarray, cand: np.ndarray,
              p_new: int, settings: core.SolverSettings) -> np.ndarray:
    """The ``p_new`` candidate nodes that, with ``fixed``, least sum the township distances."""
    towns = np.unique(towns[towns >= 0])
    cols = np.concatenate([fixed, cand])
    if len(towns) == 0 or len(cand) == 0:
        return np.zeros(0, np.int64)
    d = csgraph.dijkstra(graph.graph, directed=True, indices=towns)[:, np.maximum(cols, 0)]
    d[:, cols < 0] = np.inf
    p = len(fixed) + min(p_new, len(cand))
    problem = core.p_median(d, p, existing=np.arange(len(cols)) < len(fixed), name="centre")
    sol = core.optimise(problem, settings)
    chosen = sol.open["centre"] & ~(np.arange(len(cols)) < len(fixed))
    log.info("chain: %d new centres by p-median over %d township outlets, %d candidates "
             "(%s, gap %s)", int(chosen.sum()), len(towns), len(cand), sol.status,
             f"{sol.gap:.4f}" if sol.gap is not None else "-")
    return cols[chosen]


def _lonlat(net: RoadNetwork, graph: AccessGraph, sites: Sites, node: np.ndarray,
            n: int) -> tuple[float, float]:
    """A graph node's lon/lat: a road node's, else the site standing at it."""
    if n < graph.n_road:
        return float(net.lon[n]), float(net.lat[n])
    j = int(np.flatnonzero(node == n)[0])
    return float(sites.lon[j]), float(sites.lat[j])


def result(chain: Chain, units: object) -> checker.Result:
    """The ``chain`` target: every village's chain within the limit (named when not)."""
    beyond = chain.beyond
    km = chain.chain_m / 1000.0
    labels = [inputs.unit_label(units, int(i)) for i in chain.villages]  # type: ignore[arg-type]
    failing = [f"{labels[i]} ({km[i]:.1f} km)" if np.isfinite(km[i]) else f"{labels[i]} (-)"
               for i in np.flatnonzero(beyond)]
    counted = chain.counted
    return checker.Result(KEY, "village", KEY, "units", int(counted.sum()),
                          int((counted & ~beyond).sum()), bool(not beyond.any()), failing,
                          counted & ~beyond)


def phrase(chain: Chain) -> Phrase:
    """What the chain target asks: every chain within ``max_chain_km``."""
    return Phrase(kind="chain", tier="village", radius_m=float(chain.max_m or 0.0))
