"""Between the run and the core: scenario and sites → ``core.Problem``, solution → targets.

The core sees only arrays indexed by site (:class:`siting.core.TierData`); the checker
sees only graphs, polygons and open sites (:mod:`siting.check.checker`). This module builds
both from the typed stage values (:mod:`siting.run.results`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely

from siting import core
from siting.check import checker
from siting.config.scenario import Scenario, TierConfig
from siting.network.snapping import AccessGraph
from siting.readers import frame as frame_mod
from siting.run import inputs
from siting.run.phrases import Phrase, of_tier
from siting.run.results import Sites, TierRun


def site_nodes(sites: Sites, graph: AccessGraph) -> np.ndarray:
    """Each site's node in an access graph: its road node, or its attached point's node."""
    return np.where(sites.road_node >= 0, sites.road_node,
                    graph.node[np.maximum(sites.point, 0)])


def demand_rows(units: pd.DataFrame, cfg: TierConfig) -> np.ndarray:
    """The units a tier serves: its demand source, restricted to its classes."""
    rows = units["layer"].to_numpy() == cfg.demand
    if cfg.classes:
        rows &= units["class"].isin(list(cfg.classes)).to_numpy()
    return np.flatnonzero(rows)


def inside(units: pd.DataFrame, rows: np.ndarray, sites: Sites) -> sp.csr_array:
    """(rows × sites) 0/1: the site's point lies inside the unit's polygon."""
    polys = units.geometry.to_numpy()[rows]
    tree = shapely.STRtree(shapely.points(sites.lon, sites.lat))
    r, c = tree.query(polys, predicate="intersects")
    return sp.csr_array((np.ones(len(r), dtype=np.int8), (r, c)), shape=(len(rows), len(sites)))


def required_count(scenario: Scenario, cfg: TierConfig) -> int:
    """The tier's count: given, or its county's share of a citywide plan total."""
    if cfg.count_from_plan is not None and scenario.county is not None:
        return frame_mod.plan_share(cfg.count_from_plan, scenario.county)
    return cfg.count or 0


def required_compartments(scenario: Scenario, cfg: TierConfig) -> int:
    """The tier's compartment target: given, or its county's share of a citywide total."""
    if cfg.compartments_from_plan is not None and scenario.county is not None:
        return frame_mod.plan_share(cfg.compartments_from_plan, scenario.county)
    return cfg.compartments or 0


def compartments_needed(units: pd.DataFrame, rows: np.ndarray, cfg: TierConfig) -> np.ndarray:
    """Compartments each unit needs: residents × parcels/day × locker share × dwell days.

    At least ``min_demand`` (a shop or office area has no residents but receives parcels),
    rounded up to whole compartments.
    """
    pop = units["population"].to_numpy(float)[rows]
    need = pop * cfg.parcels_per_person_day * cfg.locker_share * cfg.dwell_days
    return np.ceil(np.maximum(need, cfg.min_demand))


def problem(scenario: Scenario, sites: Sites, tiers: dict[str, TierRun]) -> core.Problem:
    """The core's problem: every tier's costs, coverage rows and bank sizes, by site."""
    data = [_tier_data(sites, tr) for tr in tiers.values()]
    coloc = scenario.colocation
    pair = None
    if coloc and coloc.tiers[0] in tiers and coloc.tiers[1] in tiers:
        pair = (coloc.tiers[0], coloc.tiers[1], coloc.saving)
    return core.Problem(n_sites=len(sites), tiers=tuple(data), colocation=pair,
                         objective=scenario.objective, budget=scenario.budget)


def _tier_data(sites: Sites, tr: TierRun) -> core.TierData:
    existing = sites.existing[tr.name]
    cost = np.where(existing, 0.0, tr.config.cost)
    if tr.config.coverage == "all":
        cover, reach, weight = sp.vstack([tr.cover, tr.each_cover]).tocsr(), None, None
    else:
        cover, reach, weight = tr.each_cover, tr.cover, tr.weight
    if not tr.config.sizes:
        return core.TierData(tr.name, cost=cost, existing=existing, cover=cover, reach=reach,
                              weight=weight, min_count=tr.count, max_count=tr.config.max_count)
    cap = sites.capacity
    ex_cap = np.where(existing & np.isfinite(cap), cap,
                      np.where(existing, tr.config.existing_compartments, 0.0))
    sizes = tuple((float(b.compartments), float(b.cost)) for b in tr.config.sizes)
    # the tier's own rows come first in ``cover``; the one-in-each rows carry no demand
    rows = None if tr.demand is None else np.arange(len(tr.demand))
    return core.TierData(tr.name, cost=cost, existing=existing, cover=cover, reach=reach,
                          weight=weight, min_count=tr.count, max_count=tr.config.max_count,
                          sizes=sizes, demand=tr.demand, existing_capacity=ex_cap,
                          demand_rows=rows, min_capacity=float(tr.compartments))


def targets(scenario: Scenario, units: pd.DataFrame, sites: Sites,
            graphs: dict[str, AccessGraph], tiers: dict[str, TierRun],
            compartments: dict[str, np.ndarray | None]) -> list[checker.Target]:
    """What the checker recomputes: every tier's coverage, one-in-each, count and capacity.

    ``compartments`` holds, per capacitated tier, the compartments of each site's open bank.
    """
    ids = np.array([inputs.unit_label(units, i) for i in range(len(units))], dtype=object)
    out: list[checker.Target] = []
    for name, tr in tiers.items():
        out += _tier_targets(scenario, units, sites, graphs, tr, ids, compartments.get(name))
    return out


def _tier_targets(scenario: Scenario, units: pd.DataFrame, sites: Sites,
                  graphs: dict[str, AccessGraph], tr: TierRun, ids: np.ndarray,
                  compartments: np.ndarray | None) -> list[checker.Target]:
    name, cfg = tr.name, tr.config
    polys = units.geometry.to_numpy()
    text = f"{name}_cover"   # a target's text is its key: the outputs word it
    radius = float(cfg.radius_m or 0.0)
    out: list[checker.Target] = []
    if cfg.reach == "road":
        g = graphs[cfg.network]
        out.append(checker.CoverTarget(
            key=f"{name}_cover", tier=name, text=text, graph=g.graph,
            site_node=site_nodes(sites, g), demand_node=g.node[tr.rows],
            demand_id=ids[tr.rows], radius=radius, weight=tr.weight,
            hard=cfg.coverage == "all"))
    else:
        out.append(checker.InsideTarget(
            key=f"{name}_cover", tier=name, text=text, polygons=polys[tr.rows],
            site_lon=sites.lon, site_lat=sites.lat, demand_id=ids[tr.rows], weight=tr.weight,
            hard=cfg.coverage == "all"))
    if len(tr.each_rows):
        out.append(checker.InsideTarget(
            key=f"{name}_each", tier=name, text=f"{name}_each",
            polygons=polys[tr.each_rows], site_lon=sites.lon, site_lat=sites.lat,
            demand_id=ids[tr.each_rows]))
    if tr.count:
        out.append(checker.CountTarget(f"{name}_count", name, f"{name}_count", tr.count))
    if tr.demand is not None and cfg.reach == "road":
        g = graphs[cfg.network]
        cap = compartments if compartments is not None else np.zeros(len(sites))
        out.append(checker.CapacityTarget(
            key=f"{name}_capacity", tier=name, text=f"{name}_capacity",
            graph=g.graph, xy=g.xy, site_node=site_nodes(sites, g),
            demand_node=g.node[tr.rows], demand=tr.demand, radius=radius, capacity=cap,
            demand_id=ids[tr.rows]))
        if tr.compartments:
            out.append(checker.CompartmentTarget(f"{name}_compartments", name,
                                                 f"{name}_compartments", tr.compartments, cap))
    return out


def target_phrases(tiers: dict[str, TierRun]) -> dict[str, Phrase]:
    """What each target of the run asks, by target key (the outputs word it)."""
    out: dict[str, Phrase] = {}
    for name, tr in tiers.items():
        cfg = tr.config
        out[f"{name}_cover"] = of_tier("cover", name, cfg)
        if len(tr.each_rows):
            out[f"{name}_each"] = of_tier("each", name, cfg)
        if tr.count:
            out[f"{name}_count"] = of_tier("count", name, cfg, n=tr.count)
        if tr.demand is not None and cfg.reach == "road":
            out[f"{name}_capacity"] = of_tier("capacity", name, cfg)
            if tr.compartments:
                out[f"{name}_compartments"] = of_tier("compartments", name, cfg,
                                                      n=tr.compartments)
    return out
