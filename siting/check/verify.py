"""Recompute every target of a scenario from a written plan, on the checker's own code path.

For each tier (as the scenario defines it, on the inputs as the readers give them):

- ``<tier>_cover`` — road reach: each demand unit's road distance to its nearest open site,
  within ``radius_m`` (hard when ``coverage = "all"``; with ``"maximise"`` the reached weight
  is reported, with no requirement); inside reach: an open site inside each unit;
- ``<tier>_each`` — each polygon of the ``one_in_each`` class holds an open site;
- ``<tier>_count`` / ``<tier>_max_count`` — at least / at most that many open sites,
  existing ones included;
- ``<tier>_capacity`` — every unit's compartments fit into the open banks within reach
  (max flow); ``<tier>_sizes`` — every new bank is one of the tier's bank sizes;
- ``<tier>_compartments`` — at least the tier's compartment target open, existing banks
  included (``compartments``, or the county's share of ``compartments_from_plan``);
- ``chain`` — with ``[chain] max_chain_km``: each village's nearest open village outlet
  (within the radius), that outlet's nearest township outlet, that one's nearest county
  centre (the facilities of ``centre_types``, and the new centres ``report.json`` names),
  the two links' road length within the limit (villages no road reaches are left to
  ``village_cover``);
- ``budget`` — the new sites' cost (tier costs, bank sizes, less the colocation saving) is
  within ``budget``.

Where the plan's sites stand: a site whose ``osm_id`` names a road node, the demand unit it
is the door of, or an existing facility, and which lies within :data:`SAME_PLACE_M` of it, is
placed exactly there (the CSV rounds lon/lat to 1e-7°, about 1 cm, and on 上街区 76 locker
pairs lie within 1 cm of the radius). Any other site — moved or added by hand — stands at its
lon/lat and is snapped like a demand point.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from siting._errors import InputError
from siting.check import graph as cgraph
from siting.check import measure
from siting.check.inputs import CheckInputs
from siting.check.plan import Plan
from siting.config.scenario import ChainConfig, Scenario, TierConfig
from siting.readers import frame

log = logging.getLogger(__name__)

SAME_PLACE_M = 0.5
"""A plan site this close to the node, door or facility its id names is placed exactly on it."""

DOORS = {"building": "osm_buildings", "area": "areas", "village centre": "villages",
         "township centre": "townships"}


@dataclass(frozen=True)
class Finding:
    """One target as the checker found it."""

    key: str
    tier: str
    text: str
    unit: str
    required: float
    achieved: float
    met: bool | None                                  # None: reported, not required
    failing: list[str] = field(default_factory=list)  # units not met, by code and name


def verify(scenario: Scenario, inp: CheckInputs, plan: Plan) -> list[Finding]:
    """Every target of ``scenario`` recomputed for ``plan``."""
    unknown = sorted(set(plan.sites["tier"]) - set(scenario.tiers))
    if unknown:
        raise InputError(f"{plan.path}: tier {', '.join(map(repr, unknown))} is not a tier of "
                         f"{scenario.path.name} ({', '.join(scenario.tiers)}). Fix the 'tier' "
                         "cells, or check with the scenario the plan was made from.")
    out: list[Finding] = []
    places = {t: place(plan.of_tier(t), inp) for t in scenario.tiers}
    if scenario.chain is not None:
        places[CENTRE] = place(_centres(scenario.chain, inp, plan), inp)
    modes = sorted({c.network for c in scenario.tiers.values() if c.reach == "road"}
                   | ({scenario.chain.network} if scenario.chain else set()))
    nets = {m: _attach(scenario, inp, places, m) for m in modes}
    for name, cfg in scenario.tiers.items():
        out += _tier(scenario, name, cfg, inp, plan, places[name], nets.get(cfg.network))
    if scenario.chain is not None and scenario.chain.max_chain_km is not None:
        out.append(_chain(scenario, scenario.chain, inp, nets[scenario.chain.network]))
    spent = plan_cost(scenario, plan)
    out.append(Finding("cost", "", "cost of the new sites (the run's figure as required)",
                       "cost", np.nan if plan.claimed_cost is None else plan.claimed_cost,
                       spent, None))
    if scenario.budget is not None and scenario.objective == "max_coverage":
        out.append(Finding("budget", "", f"new sites cost at most {scenario.budget:,.0f}",
                           "cost", scenario.budget, spent, spent <= scenario.budget + 1e-6))
    return out


CENTRE = "centre"
"""The plan's county processing centres, beside its tiers (the ``[chain]``)."""


def _centres(cfg: ChainConfig, inp: CheckInputs, plan: Plan) -> pd.DataFrame:
    """The existing centres (facilities of ``centre_types``) and the run's new ones."""
    ex = inp.existing[inp.existing["source"].isin(list(cfg.centre_types))]
    have = pd.DataFrame({"site_id": ex["osm_id"], "source": ex["source"],
                         "osm_id": ex["osm_id"], "lon": ex["lon"], "lat": ex["lat"],
                         "status": "existing"})
    new = plan.centres.astype({"osm_id": str, "source": str, "status": str})
    return pd.concat([have, new], ignore_index=True).astype({"lon": float, "lat": float})


def _chain(scenario: Scenario, cfg: ChainConfig, inp: CheckInputs,
           net: tuple[cgraph.Access, dict[str, list[object]]]) -> Finding:
    """Every village's chain, centre → township outlet → village outlet, within the limit."""
    acc, nodes = net
    village = scenario.tiers["village"]
    rows = demand_rows(inp.units, village)
    limit = float(village.radius_m or np.inf) if village.reach == "road" else np.inf
    _, k = measure.nearest_source(acc.graph, nodes["village"], [acc.node[i] for i in rows],
                                  cutoff=limit)
    outlet = [nodes["village"][j] if j >= 0 else None for j in k]
    town_m, k = measure.nearest_source(acc.graph, nodes["township"], outlet)
    town = [nodes["township"][j] if j >= 0 else None for j in k]
    centre_m, _ = measure.nearest_source(acc.graph, nodes[CENTRE], town)
    km = (town_m + centre_m) / 1000.0
    counted = np.array([acc.node[i] is not None for i in rows], dtype=bool)
    beyond = counted & ~(km <= float(cfg.max_chain_km or np.inf) + 1e-9)
    failing = [f"{lab} ({km[i]:.1f} km)" if np.isfinite(km[i]) else f"{lab} (-)"
               for i, lab in zip(np.flatnonzero(beyond), inp.label(rows[beyond]), strict=True)]
    return Finding("chain", "village", f"village: every chain within {cfg.max_chain_km:g} km "
                   f"by road ({cfg.network})", "units", int(counted.sum()),
                   int((counted & ~beyond).sum()), bool(not beyond.any()), failing)


def place(rows: pd.DataFrame, inp: CheckInputs) -> pd.DataFrame:
    """Where each plan row stands: ``node`` (an OSM road node id or -1) and exact lon/lat."""
    lon, lat = rows["lon"].to_numpy(float).copy(), rows["lat"].to_numpy(float).copy()
    node = np.full(len(rows), -1, np.int64)
    spots = _spots(inp)
    for i, (src, status, oid) in enumerate(zip(rows["source"], rows["status"],
                                               rows["osm_id"].astype(str), strict=True)):
        kind = "road" if src == "road node" else (
            DOORS[src] if src in DOORS and status != "existing" else "existing")
        spot = spots.get((kind, oid))
        if spot is not None and cgraph.haversine(lon[i], lat[i], spot[0], spot[1]) \
                <= SAME_PLACE_M:
            lon[i], lat[i], node[i] = spot
    return rows.assign(lon=lon, lat=lat, node=node)


def _spots(inp: CheckInputs) -> dict[tuple[str, str], tuple[float, float, int]]:
    """(kind, id) -> (lon, lat, road node or -1) of every road node, door and facility."""
    r = inp.roads
    out = {("road", str(n)): (float(x), float(y), int(n))
           for n, x, y in zip(r.node_id, r.lon, r.lat, strict=True)}
    u = inp.units
    for layer, code, x, y in zip(u["layer"], u["code"], u["lon"], u["lat"], strict=True):
        out.setdefault((str(layer), str(code)), (float(x), float(y), -1))
    ex = inp.existing
    for oid, x, y in zip(ex["osm_id"], ex["lon"], ex["lat"], strict=True):
        out.setdefault(("existing", str(oid)), (float(x), float(y), -1))
    return out


def _attach(scenario: Scenario, inp: CheckInputs, places: dict[str, pd.DataFrame],
            mode: str) -> tuple[cgraph.Access, dict[str, list[object]]]:
    """The mode's graph with every unit and every free plan site attached."""
    free = {t: p[p["node"] < 0] for t, p in places.items()}
    lon = np.concatenate([inp.units["lon"].to_numpy(float),
                          *(f["lon"].to_numpy(float) for f in free.values())])
    lat = np.concatenate([inp.units["lat"].to_numpy(float),
                          *(f["lat"].to_numpy(float) for f in free.values())])
    acc = cgraph.attach(inp.roads, mode, inp.crs, lon, lat,
                        max_snap_m=scenario.network.max_snap_m)
    start, site_nodes = len(inp.units), {}
    for t, p in places.items():
        nodes: list[object] = p["node"].tolist()
        k = np.flatnonzero(p["node"].to_numpy() < 0)
        for j, i in enumerate(k):
            nodes[i] = acc.node[start + j]
        start += len(k)
        site_nodes[t] = nodes
    return acc, site_nodes


def demand_rows(units: pd.DataFrame, cfg: TierConfig) -> np.ndarray:
    """The units a tier serves: its demand layer, restricted to its classes."""
    keep = units["layer"].to_numpy() == cfg.demand
    if cfg.classes:
        keep &= units["class"].isin(list(cfg.classes)).to_numpy()
    return np.flatnonzero(keep)


def _tier(scenario: Scenario, name: str, cfg: TierConfig, inp: CheckInputs, plan: Plan,
          sites: pd.DataFrame, net: tuple[cgraph.Access, dict[str, list[object]]] | None,
          ) -> list[Finding]:
    rows = demand_rows(inp.units, cfg)
    out = [_cover(name, cfg, inp, rows, sites, net)]
    if cfg.one_in_each is not None:
        each = np.flatnonzero(inp.units["class"].to_numpy() == cfg.one_in_each)
        served = _inside(inp, each, sites)
        out.append(_units(f"{name}_each", name, f"{name}: a site in every {cfg.one_in_each}",
                          inp, each, served))
    n_open = int(sites["site_id"].nunique())
    need = _required_count(scenario, cfg)
    if need:
        out.append(Finding(f"{name}_count", name, f"{name}: at least {need} sites", "sites",
                           need, n_open, n_open >= need))
    if cfg.max_count is not None:
        out.append(Finding(f"{name}_max_count", name, f"{name}: at most {cfg.max_count} sites",
                           "sites", cfg.max_count, n_open, n_open <= cfg.max_count))
    if cfg.sizes and net is not None:
        out += _capacity(scenario, name, cfg, inp, rows, sites, net, plan)
    return out


def _required_count(scenario: Scenario, cfg: TierConfig) -> int:
    if cfg.count_from_plan is not None and scenario.county is not None:
        return frame.plan_share(cfg.count_from_plan, scenario.county)
    return cfg.count or 0


def _required_compartments(scenario: Scenario, cfg: TierConfig) -> int:
    if cfg.compartments_from_plan is not None and scenario.county is not None:
        return frame.plan_share(cfg.compartments_from_plan, scenario.county)
    return cfg.compartments or 0


def _cover(name: str, cfg: TierConfig, inp: CheckInputs, rows: np.ndarray,
           sites: pd.DataFrame, net: tuple[cgraph.Access, dict[str, list[object]]] | None,
           ) -> Finding:
    key = f"{name}_cover"
    if cfg.reach == "road" and net is not None:
        acc, nodes = net
        radius = float(cfg.radius_m or 0.0)
        d = measure.nearest_distance(acc.graph, nodes[name], [acc.node[i] for i in rows],
                                     radius)
        served = d <= radius + measure.TOL_M
        text = f"{name}: every unit within {radius:g} m by road ({cfg.network})"
    else:
        served = _inside(inp, rows, sites)
        text = f"{name}: a site inside every {cfg.demand} unit"
    if cfg.coverage == "all":
        return _units(key, name, text, inp, rows, served)
    w = _weight(inp.units, rows, cfg)
    return Finding(key, name, text.replace("every unit", "weight reached"), "weight",
                   float(w.sum()), float(w[served].sum()), None)


def _weight(units: pd.DataFrame, rows: np.ndarray, cfg: TierConfig) -> np.ndarray:
    if cfg.weight == "count":
        return np.ones(len(rows))
    col = "population" if cfg.weight == "population" else "floor_m2"
    return units[col].to_numpy(float)[rows]


def _inside(inp: CheckInputs, rows: np.ndarray, sites: pd.DataFrame) -> np.ndarray:
    polys = inp.units["geometry"].to_numpy()[rows]
    return measure.holds_a_site(polys, sites["lon"].to_numpy(float),
                                sites["lat"].to_numpy(float))


def _units(key: str, tier: str, text: str, inp: CheckInputs, rows: np.ndarray,
           served: np.ndarray) -> Finding:
    return Finding(key, tier, text, "units", len(rows), int(served.sum()), bool(served.all()),
                   inp.label(rows[~served]))


def compartments_needed(units: pd.DataFrame, rows: np.ndarray, cfg: TierConfig) -> np.ndarray:
    """Residents × parcels/day × locker share × dwell days, at least ``min_demand``, rounded up."""
    pop = units["population"].to_numpy(float)[rows]
    return np.ceil(np.maximum(pop * cfg.parcels_per_person_day * cfg.locker_share
                              * cfg.dwell_days, cfg.min_demand))


def _capacity(scenario: Scenario, name: str, cfg: TierConfig, inp: CheckInputs,
              rows: np.ndarray, sites: pd.DataFrame,
              net: tuple[cgraph.Access, dict[str, list[object]]], plan: Plan,
              ) -> list[Finding]:
    acc, nodes = net
    cap = _bank_compartments(sites, inp, cfg, plan)
    need = compartments_needed(inp.units, rows, cfg)
    pairs = measure.within(acc.graph, [n if c > 0 else None for n, c in
                                       zip(nodes[name], cap, strict=True)],
                           [acc.node[i] for i in rows], float(cfg.radius_m or 0.0))
    got = measure.max_flow(need, cap, pairs)
    short = got < need
    failing = [f"{lab} ({got[i]:.0f}/{need[i]:.0f})" for i, lab in
               zip(np.flatnonzero(short), inp.label(rows[short]), strict=True)]
    sizes = {b.compartments for b in cfg.sizes}
    new = (sites["status"] == "new").to_numpy()
    odd = new & ~np.isin(cap, list(sizes))
    target = _required_compartments(scenario, cfg)
    counted = [Finding(f"{name}_compartments", name, f"{name}: at least {target:,} "
                       "compartments open (existing and new)", "compartments", target,
                       float(cap.sum()), bool(cap.sum() >= target))] if target else []
    return [*counted,
            Finding(f"{name}_capacity", name, f"{name}: every unit's compartments fit the "
                    "banks within reach", "compartments", float(need.sum()), float(got.sum()),
                    bool(not short.any()), failing),
            Finding(f"{name}_sizes", name, f"{name}: every new bank is one of the sizes "
                    f"{sorted(sizes)}", "banks", int(new.sum()), int((new & ~odd).sum()),
                    bool(not odd.any()), [str(s) for s in sites["site_id"][odd]])]


def _bank_compartments(sites: pd.DataFrame, inp: CheckInputs, cfg: TierConfig,
                       plan: Plan) -> np.ndarray:
    """Each bank's compartments: the plan's column, else an existing bank's own size."""
    if "compartments" in sites:
        cap = pd.to_numeric(sites["compartments"], errors="coerce").to_numpy(float)
    else:
        log.warning("%s: no compartments column; new banks count as the largest size",
                    plan.path)
        cap = np.full(len(sites), float(max(b.compartments for b in cfg.sizes)))
    ex = inp.existing.set_index("osm_id")["capacity"]
    own = np.array([float(ex.get(o, np.nan)) if not isinstance(ex.get(o), pd.Series)
                    else float(ex.get(o).iloc[0]) for o in sites["osm_id"]])
    fallback = np.where(np.isfinite(own), own, cfg.existing_compartments)
    existing = (sites["status"] == "existing").to_numpy()
    return np.where(np.isfinite(cap), cap, np.where(existing, fallback, 0.0))


def plan_cost(scenario: Scenario, plan: Plan) -> float:
    """The new sites' cost: tier costs, bank sizes, less the colocation saving."""
    total = 0.0
    for name, cfg in scenario.tiers.items():
        new = plan.of_tier(name)
        new = new[new["status"] == "new"]
        total += cfg.cost * len(new)
        if cfg.sizes and "compartments" in new:
            price = {b.compartments: b.cost for b in cfg.sizes}
            comp = pd.to_numeric(new["compartments"], errors="coerce")
            total += float(sum(price.get(int(c), 0.0) for c in comp if np.isfinite(c)))
    c = scenario.colocation
    if c is not None and c.tiers[0] in scenario.tiers and c.tiers[1] in scenario.tiers:
        a, b = plan.of_tier(c.tiers[0]), plan.of_tier(c.tiers[1])
        both = a.merge(b, on="site_id")
        total -= c.saving * int(((both["status_x"] == "new") | (both["status_y"] == "new")).sum())
    return total
