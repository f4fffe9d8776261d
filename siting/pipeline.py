"""One siting run, stage by stage: read, network, demand, candidates, distances, model, check.

Each stage logs one line with its counts and its time; :func:`run` returns a
:class:`RunResult` that the output writers turn into files.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from siting import candidates, checker, demand, distances, facilities, labels, model, osm
from siting import network as roads
from siting._errors import InputError
from siting.scenario import Scenario, TierConfig
from siting.snapping import AccessGraph, access_graph

log = logging.getLogger(__name__)

ProgressFactory = Callable[[str], distances.Progress]


@dataclass(frozen=True)
class TierRun:
    """What one tier was given and what it got."""

    name: str
    config: TierConfig
    rows: np.ndarray              # demand rows (indices into RunResult.demand) it serves
    reach: distances.Reach        # rows × sites within the tier's radius
    weight: np.ndarray            # (rows,) what each row weighs when reach is maximised


@dataclass(frozen=True)
class RunResult:
    """Everything a run produced, ready to be written out."""

    scenario: Scenario
    network: roads.RoadNetwork
    sites: pd.DataFrame            # every candidate and existing site; open_<tier> flags
    demand: gpd.GeoDataFrame       # demand units; <tier>_dist_m and <tier>_served columns
    tiers: dict[str, TierRun]
    solution: model.Solution
    results: list[checker.Result]
    unsnapped: dict[str, list[str]]  # what could not be attached to the roads, by kind
    timings: dict[str, float]
    inputs: list[dict[str, object]]
    generated: bool = False
    notes: list[str] = field(default_factory=list)

    def open_rows(self) -> pd.DataFrame:
        """One row per open facility (a site hosting two tiers gives two rows)."""
        frames = []
        for name, tier in self.tiers.items():
            sel = self.sites[self.sites[f"open_{name}"]].copy()
            sel["tier"] = name
            sel["status"] = np.where(sel[f"existing_{name}"], "existing", "new")
            sel["cost"] = np.where(sel["status"] == "new", tier.config.cost, 0.0)
            served = np.diff(tier.reach.dist.tocsc().indptr)
            sel["reach_units"] = served[sel.index.to_numpy()]
            frames.append(sel)
        cols = ["site_id", "tier", "status", "name", "source", "osm_id", "lon", "lat", "cost",
                "reach_units"]
        if not frames:
            return pd.DataFrame(columns=cols)
        out = pd.concat(frames, ignore_index=True)[cols]
        order = {t: i for i, t in enumerate(self.tiers)}
        out["_t"] = out["tier"].map(order)
        return out.sort_values(["_t", "site_id"], kind="stable").drop(columns="_t") \
            .reset_index(drop=True)


class _Clock:
    def __init__(self) -> None:
        self.times: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        yield
        self.times[name] = round(time.perf_counter() - start, 3)


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def run(scenario: Scenario, *, progress: ProgressFactory | None = None) -> RunResult:
    """Run every stage of the scenario and verify the result.

    Parameters
    ----------
    scenario
        A validated scenario.
    progress
        Optional factory of progress callbacks for the long stages, given the stage's label.
    """
    clock = _Clock()
    with clock.stage("read"):
        data = _read_network_file(scenario)
        inputs = [{"role": role, "path": str(p), "bytes": p.stat().st_size, "sha256": sha256(p)}
                  for role, p in scenario.input_files().items()]
    with clock.stage("network"):
        net = roads.from_ways(data.roads, data.path)
    with clock.stage("demand"):
        units = demand.buildings(data, scenario.buildings, net.crs)
        existing = facilities.from_osm_post_offices(data, scenario.existing.osm_post_offices,
                                                    net.crs)
    modes = sorted({t.network for t in scenario.tiers.values()})
    with clock.stage("candidates"):
        nodes = candidates.road_nodes(net, modes,
                                      min_spacing_m=scenario.candidates.min_spacing_m)
        sites = candidates.combine(existing, nodes, candidates.doors(units),
                                   first_point=len(units), tiers=list(scenario.tiers))
    with clock.stage("distances"):
        graphs = _access_graphs(net, modes, units, sites, scenario)
        tiers = _reach(scenario, units, sites, graphs, progress)
    unsnapped = _unsnapped(units, sites, graphs, scenario)
    with clock.stage("model"):
        problem = _problem(scenario, sites, tiers)
        solution = model.optimise(problem, scenario.solver)
    for name, is_open in solution.open.items():
        sites[f"open_{name}"] = is_open
    with clock.stage("check"):
        targets = _targets(scenario, units, sites, graphs, tiers)
        results, nearest = checker.verify(targets, solution.open)
    units = _annotate(units, tiers, nearest, scenario)
    log.info("check: %d of %d targets met (independent recomputation)",
             sum(r.met is True for r in results), sum(r.met is not None for r in results))
    return RunResult(scenario=scenario, network=net, sites=sites, demand=units, tiers=tiers,
                     solution=solution, results=results, unsnapped=unsnapped,
                     timings=clock.times, inputs=inputs)


def _read_network_file(scenario: Scenario) -> osm.OsmData:
    path = scenario.network.osm
    if path.name.lower().endswith(".graphml"):
        raise InputError(f"{path}: a GraphML graph has no buildings, and the buildings are "
                         "this scenario's demand. Give the .osm/.osm.pbf extract instead.")
    return osm.read(path)


def _access_graphs(net: roads.RoadNetwork, modes: list[str], units: gpd.GeoDataFrame,
                   sites: pd.DataFrame, scenario: Scenario) -> dict[str, AccessGraph]:
    """One access graph per mode: roads + demand points + existing sites' points."""
    extra = sites[sites["point"] >= len(units)].sort_values("point")
    x = np.concatenate([units["x"].to_numpy(), extra["x"].to_numpy()])
    y = np.concatenate([units["y"].to_numpy(), extra["y"].to_numpy()])
    return {m: access_graph(net, m, x, y, max_snap_m=scenario.network.max_snap_m)
            for m in modes}


def site_nodes(sites: pd.DataFrame, graph: AccessGraph) -> np.ndarray:
    """Each site's node in an access graph: its road node, or its attached point's node."""
    node = sites["road_node"].to_numpy()
    point = sites["point"].to_numpy()
    return np.where(node >= 0, node, graph.node[np.maximum(point, 0)])


def _rows_for(units: gpd.GeoDataFrame, cfg: TierConfig) -> np.ndarray:
    return np.flatnonzero(units["class"].isin(list(cfg.classes)).to_numpy())


def _reach(scenario: Scenario, units: gpd.GeoDataFrame, sites: pd.DataFrame,
           graphs: dict[str, AccessGraph], progress: ProgressFactory | None,
           ) -> dict[str, TierRun]:
    out = {}
    for name, cfg in scenario.tiers.items():
        g = graphs[cfg.network]
        rows = _rows_for(units, cfg)
        cb = progress(f"distances {name}") if progress else None
        reach = distances.within(g.graph, g.node[rows], site_nodes(sites, g),
                                 float(cfg.radius_m or 0.0), progress=cb)
        weight = (units["floor_m2"].to_numpy()[rows] if cfg.weight == "floor_area"
                  else np.ones(len(rows)))
        out[name] = TierRun(name, cfg, rows, reach, weight)
        log.info("distances %s: %s demand units × %s sites, %s pairs within %g m", name,
                 f"{len(rows):,}", f"{len(sites):,}", f"{reach.dist.nnz:,}", cfg.radius_m)
    return out


def _unsnapped(units: gpd.GeoDataFrame, sites: pd.DataFrame, graphs: dict[str, AccessGraph],
               scenario: Scenario) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    n = len(units)
    for mode, g in graphs.items():
        bad = np.flatnonzero(~g.snapped.ok)
        far_units = [f"building {units['osm_id'].iat[i]}" for i in bad if i < n]
        pts = sites.set_index("point")
        far_sites = [f"{pts.at[i, 'name']} ({pts.at[i, 'site_id']})" for i in bad if i >= n]
        if far_units or far_sites:
            out[mode] = far_units + far_sites
            log.warning("snap (%s): %d points farther than %g m from a road were not attached",
                        mode, len(bad), scenario.network.max_snap_m)
    return out


def _problem(scenario: Scenario, sites: pd.DataFrame, tiers: dict[str, TierRun],
             ) -> model.Problem:
    data = []
    for name, tr in tiers.items():
        cfg = tr.config
        existing = sites[f"existing_{name}"].to_numpy()
        cost = np.where(existing, 0.0, cfg.cost)
        cover = reach = weight = None
        if cfg.coverage == "all":
            cover = tr.reach.cover
        else:
            reach = tr.reach.cover
            weight = tr.weight
        data.append(model.TierData(name, cost=cost, existing=existing, cover=cover,
                                   reach=reach, weight=weight, min_count=cfg.count or 0,
                                   max_count=cfg.max_count))
    coloc = scenario.colocation
    pair = (coloc.tiers[0], coloc.tiers[1], coloc.saving) if coloc else None
    return model.Problem(n_sites=len(sites), tiers=tuple(data), colocation=pair)


def _targets(scenario: Scenario, units: gpd.GeoDataFrame, sites: pd.DataFrame,
             graphs: dict[str, AccessGraph], tiers: dict[str, TierRun],
             ) -> list[checker.Target]:
    lang = scenario.lang
    out: list[checker.Target] = []
    for name, tr in tiers.items():
        cfg = tr.config
        g = graphs[cfg.network]
        radius = float(cfg.radius_m or 0.0)
        hard = cfg.coverage == "all"
        text = (labels.cover_text(name, radius, cfg.classes, cfg.network, lang) if hard else
                labels.reach_text(name, radius, cfg.classes, cfg.weight, cfg.network, lang))
        out.append(checker.CoverTarget(
            key=f"{name}_cover", tier=name, text=text, graph=g.graph,
            site_node=site_nodes(sites, g), demand_node=g.node[tr.rows],
            demand_id=units["osm_id"].to_numpy()[tr.rows], radius=radius, weight=tr.weight,
            hard=hard))
        if cfg.count:
            out.append(checker.CountTarget(f"{name}_count", name,
                                           labels.count_text(name, cfg.count, lang), cfg.count))
    return out


def _annotate(units: gpd.GeoDataFrame, tiers: dict[str, TierRun],
              nearest: dict[str, np.ndarray], scenario: Scenario) -> gpd.GeoDataFrame:
    units = units.copy()
    for name, tr in tiers.items():
        d = np.full(len(units), np.nan)
        d[tr.rows] = nearest[f"{name}_cover"]
        units[f"{name}_dist_m"] = np.round(np.where(np.isinf(d), np.nan, d), 1)
        served = np.zeros(len(units), dtype=object)
        served[:] = None
        served[tr.rows] = d[tr.rows] <= float(tr.config.radius_m or 0.0) + 1e-6
        units[f"{name}_served"] = served
    return units
