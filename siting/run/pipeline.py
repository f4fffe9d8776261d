"""One siting run, stage by stage: read, candidates, distances, model, check.

Each stage logs one line with its counts; :func:`run` returns a :class:`RunResult` that the
output writers turn into files.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely

from siting import core
from siting._errors import ValidationError
from siting.check import checker
from siting.config.scenario import Scenario, SolverConfig, TierConfig
from siting.network import candidates, distances, roads
from siting.network.snapping import AccessGraph, access_graph
from siting.outputs import labels
from siting.readers import frame as frame_mod
from siting.run import inputs

log = logging.getLogger(__name__)

ProgressFactory = Callable[[str], distances.Progress]
sha256 = inputs.sha256


@dataclass(frozen=True)
class TierRun:
    """What one tier was given: its demand rows and which sites reach them."""

    name: str
    config: TierConfig
    rows: np.ndarray               # demand units (indices into RunResult.demand)
    cover: sp.csr_array            # rows × sites, 0/1: the site reaches the unit
    dist: sp.csr_array | None      # rows × sites road distance (same structure), road reach
    weight: np.ndarray             # (rows,) weight when reach is maximised
    each_rows: np.ndarray          # units of one_in_each (indices into RunResult.demand)
    each_cover: sp.csr_array       # each_rows × sites, 0/1: the site lies inside the unit
    count: int                     # required number of sites (0: none)
    demand: np.ndarray | None = None   # (rows,) compartments needed (capacitated tiers)


@dataclass(frozen=True)
class RunResult:
    """Everything a run produced, ready to be written out."""

    scenario: Scenario
    network: roads.RoadNetwork
    sites: pd.DataFrame            # every candidate and existing site; open_<tier> flags
    demand: gpd.GeoDataFrame       # demand units; <tier>_dist_m and <tier>_served columns
    tiers: dict[str, TierRun]
    solution: core.Solution
    results: list[checker.Result]
    unsnapped: dict[str, list[str]]  # what could not be attached to the roads, by mode
    timings: dict[str, float]
    inputs: list[dict[str, object]]
    generated: bool = False
    notes: list[str] = field(default_factory=list)
    layer_info: dict[str, dict[str, object]] = field(default_factory=dict)
    tradeoffs: dict[str, list[dict[str, float]]] = field(default_factory=dict)

    def open_rows(self) -> pd.DataFrame:
        """One row per open facility (a site hosting two tiers gives two rows)."""
        frames = []
        for name, tier in self.tiers.items():
            sel = self.sites[self.sites[f"open_{name}"]].copy()
            sel["tier"] = name
            sel["status"] = np.where(sel[f"existing_{name}"], "existing", "new")
            sel["cost"] = np.where(sel["status"] == "new", tier.config.cost, 0.0)
            served = np.diff(tier.cover.tocsc().indptr)
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


@dataclass
class Prepared:
    """Inputs read and distances computed: everything before the model."""

    scenario: Scenario
    inputs: inputs.Inputs
    sites: pd.DataFrame
    graphs: dict[str, AccessGraph]
    tiers: dict[str, TierRun]
    clock: _Clock


def prepare(scenario: Scenario, *, progress: ProgressFactory | None = None) -> Prepared:
    """Read every input, build the candidate sites and the coverage of every tier.

    Raises
    ------
    ValidationError
        Listing every problem found in the input files at once.
    """
    clock = _Clock()
    with clock.stage("read"):
        inp = inputs.load(scenario)
    net, units = inp.network, inp.units
    modes = sorted({t.network for t in scenario.tiers.values() if t.reach == "road"})
    with clock.stage("candidates"):
        nodes = candidates.road_nodes(net, modes or list(roads.MODES),
                                      min_spacing_m=scenario.candidates.min_spacing_m,
                                      junctions_only=scenario.candidates.junctions_only)
        sites = candidates.combine(inp.existing, nodes, candidates.doors(units),
                                   first_point=len(units), tiers=list(scenario.tiers))
    with clock.stage("distances"):
        x, y = inputs.points(units, inp.existing)
        graphs = {m: access_graph(net, m, x, y, max_snap_m=scenario.network.max_snap_m)
                  for m in modes}
        tiers = {name: _tier(scenario, name, cfg, units, sites, graphs, progress)
                 for name, cfg in scenario.tiers.items()}
    return Prepared(scenario, inp, sites, graphs, tiers, clock)


def run(scenario: Scenario, *, progress: ProgressFactory | None = None,
        prepared: Prepared | None = None) -> RunResult:
    """Run every stage of the scenario and verify the result.

    Parameters
    ----------
    scenario
        A validated scenario.
    progress
        Optional factory of progress callbacks for the long stages, given the stage's label.
    prepared
        The result of :func:`prepare` when the caller already has it (``siting run``
        validates first).

    Raises
    ------
    ValidationError
        When the inputs have errors (everything :mod:`siting.run.validate` finds).
    """
    from siting.run import validate

    prep = prepared or prepare(scenario, progress=progress)
    findings = validate.diagnose(prep)
    for w in findings.warnings:
        log.warning("warning: %s", w)
    if findings.errors:
        raise ValidationError(findings.errors)
    clock, sites, units, tiers = prep.clock, prep.sites, prep.inputs.units, prep.tiers
    unsnapped = _unsnapped(units, sites, prep.graphs, scenario)
    with clock.stage("model"):
        problem = _problem(scenario, sites, tiers)
        solution = core.optimise(problem, solver_settings(scenario.solver))
    for name, is_open in solution.open.items():
        sites[f"open_{name}"] = is_open
    for name, cap in solution.capacity.items():
        if tiers[name].demand is not None:
            sites[f"compartments_{name}"] = np.where(solution.open[name], cap, 0.0)
    with clock.stage("check"):
        targets = _targets(scenario, units, sites, prep.graphs, tiers)
        targets = [checker.with_capacity(t, sites) for t in targets]
        results, nearest = checker.verify(targets, solution.open)
    demand = _annotate(units, tiers, nearest, results)
    with clock.stage("tradeoff"):
        curves = _tradeoffs(scenario, problem, tiers, solution)
    log.info("check: %d of %d targets met (independent recomputation)",
             sum(r.met is True for r in results), sum(r.met is not None for r in results))
    return RunResult(scenario=scenario, network=prep.inputs.network, sites=sites, demand=demand,
                     tiers=tiers, solution=solution, results=results, unsnapped=unsnapped,
                     timings=clock.times, inputs=prep.inputs.files,
                     generated=scenario.generated,
                     notes=prep.inputs.notes + findings.warnings,
                     layer_info=prep.inputs.layer_info, tradeoffs=curves)


def solver_settings(cfg: SolverConfig) -> core.SolverSettings:
    """The core's solver settings from the scenario's ``[solver]`` table."""
    return core.SolverSettings(name=cfg.name, time_limit_s=cfg.time_limit_s,
                               rel_gap=cfg.rel_gap, threads=cfg.threads)


def _tradeoffs(scenario: Scenario, problem: core.Problem, tiers: dict[str, TierRun],
               solution: core.Solution) -> dict[str, list[dict[str, float]]]:
    from siting.core import tradeoff

    points = scenario.report.tradeoff_points
    if points <= 0 or scenario.objective != "min_cost":
        return {}
    out = {}
    for t in problem.tiers:
        tr = tiers[t.name]
        weight = tr.weight if tr.config.coverage == "maximise" else np.ones(len(tr.rows))
        chosen_new = int((solution.open[t.name] & ~t.existing).sum())
        out[t.name] = tradeoff.curve(t, len(tr.rows), weight, chosen_new, points=points,
                                     settings=solver_settings(scenario.solver))
    log.info("trade-off: %d curves of %d points", len(out), points)
    return out


def site_nodes(sites: pd.DataFrame, graph: AccessGraph) -> np.ndarray:
    """Each site's node in an access graph: its road node, or its attached point's node."""
    node = sites["road_node"].to_numpy()
    point = sites["point"].to_numpy()
    return np.where(node >= 0, node, graph.node[np.maximum(point, 0)])


def demand_rows(units: pd.DataFrame, cfg: TierConfig) -> np.ndarray:
    """The units a tier serves: its demand source, restricted to its classes."""
    rows = units["layer"].to_numpy() == cfg.demand
    if cfg.classes:
        rows &= units["class"].isin(list(cfg.classes)).to_numpy()
    return np.flatnonzero(rows)


def inside(units: pd.DataFrame, rows: np.ndarray, sites: pd.DataFrame) -> sp.csr_array:
    """(rows × sites) 0/1: the site's point lies inside the unit's polygon."""
    polys = units.geometry.to_numpy()[rows]
    pts = shapely.points(sites["lon"].to_numpy(), sites["lat"].to_numpy())
    tree = shapely.STRtree(pts)
    r, c = tree.query(polys, predicate="intersects")
    return sp.csr_array((np.ones(len(r), dtype=np.int8), (r, c)), shape=(len(rows), len(sites)))


def required_count(scenario: Scenario, cfg: TierConfig) -> int:
    """The tier's count: given, or its county's share of a citywide plan total."""
    if cfg.count_from_plan is not None and scenario.county is not None:
        return frame_mod.plan_share(cfg.count_from_plan, scenario.county)
    return cfg.count or 0


def _tier(scenario: Scenario, name: str, cfg: TierConfig, units: pd.DataFrame,
          sites: pd.DataFrame, graphs: dict[str, AccessGraph],
          progress: ProgressFactory | None) -> TierRun:
    rows = demand_rows(units, cfg)
    dist = None
    if cfg.reach == "road":
        g = graphs[cfg.network]
        cb = progress(f"distances {name}") if progress else None
        dist = distances.within(g.graph, g.node[rows], site_nodes(sites, g),
                                float(cfg.radius_m or 0.0), xy=g.xy, progress=cb).dist
        cover = _structure(dist)
    else:
        cover = inside(units, rows, sites)
    weight = {"population": units["population"].to_numpy(float)[rows],
              "floor_area": units["floor_m2"].to_numpy(float)[rows],
              "count": np.ones(len(rows))}[cfg.weight]
    each = np.zeros(0, np.int64)
    if cfg.one_in_each is not None:
        each = np.flatnonzero(units["class"].to_numpy() == cfg.one_in_each)
    each_cover = inside(units, each, sites)
    count = required_count(scenario, cfg)
    need = compartments_needed(units, rows, cfg) if cfg.sizes else None
    how = (f"within {cfg.radius_m:g} m ({cfg.network})" if cfg.reach == "road" else "inside")
    log.info("distances %s: %s demand units × %s sites, %s pairs %s%s%s", name,
             f"{len(rows):,}", f"{len(sites):,}", f"{cover.nnz:,}", how,
             f"; one in each {cfg.one_in_each} ({len(each):,})" if len(each) else "",
             f"; at least {count:,} sites" if count else "")
    if need is not None:
        log.info("capacity %s: %s compartments needed by %s units", name,
                 f"{need.sum():,.0f}", f"{len(rows):,}")
    return TierRun(name, cfg, rows, cover, dist, weight, each, each_cover, count, need)


def compartments_needed(units: pd.DataFrame, rows: np.ndarray, cfg: TierConfig) -> np.ndarray:
    """Compartments each unit needs: residents × parcels/day × locker share × dwell days.

    At least ``min_demand`` (a shop or office area has no residents but receives parcels),
    rounded up to whole compartments.
    """
    pop = units["population"].to_numpy(float)[rows]
    need = pop * cfg.parcels_per_person_day * cfg.locker_share * cfg.dwell_days
    return np.ceil(np.maximum(need, cfg.min_demand))


def _structure(m: sp.csr_array) -> sp.csr_array:
    out = m.copy()
    out.data = np.ones_like(out.data, dtype=np.int8)
    return out


def _unsnapped(units: pd.DataFrame, sites: pd.DataFrame, graphs: dict[str, AccessGraph],
               scenario: Scenario) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    n = len(units)
    used = {name: demand_rows(units, cfg) for name, cfg in scenario.tiers.items()}
    for mode, g in graphs.items():
        rows = np.unique(np.concatenate([used[t] for t, c in scenario.tiers.items()
                                         if c.reach == "road" and c.network == mode]))
        bad_units = [i for i in rows if g.node[i] < 0]
        ex = sites[sites["point"] >= n]
        bad_sites = ex[g.node[ex["point"].to_numpy()] < 0]
        items = [inputs.unit_label(units, i) for i in bad_units] + \
            [f"{r.name} ({r.site_id})" for r in bad_sites.itertuples()]
        if items:
            out[mode] = items
            log.warning("snap (%s): %d demand units and %d existing sites farther than %g m "
                        "from a road were not attached", mode, len(bad_units), len(bad_sites),
                        scenario.network.max_snap_m)
    return out


def _problem(scenario: Scenario, sites: pd.DataFrame, tiers: dict[str, TierRun],
             ) -> core.Problem:
    data = []
    for name, tr in tiers.items():
        existing = sites[f"existing_{name}"].to_numpy()
        cost = np.where(existing, 0.0, tr.config.cost)
        if tr.config.coverage == "all":
            cover, reach, weight = sp.vstack([tr.cover, tr.each_cover]).tocsr(), None, None
        else:
            cover, reach, weight = tr.each_cover, tr.cover, tr.weight
        sized = {}
        if tr.config.sizes:
            cap = sites["capacity"].to_numpy(float)
            sized = {"sizes": tuple((float(b.compartments), float(b.cost))
                                    for b in tr.config.sizes),
                     "demand": tr.demand,
                     "existing_capacity": np.where(existing & np.isfinite(cap), cap,
                                                   np.where(existing,
                                                            tr.config.existing_compartments,
                                                            0.0))}
        data.append(core.TierData(name, cost=cost, existing=existing, cover=cover,
                                  reach=reach, weight=weight, min_count=tr.count,
                                  max_count=tr.config.max_count, **sized))
    coloc = scenario.colocation
    pair = None
    if coloc and coloc.tiers[0] in tiers and coloc.tiers[1] in tiers:
        pair = (coloc.tiers[0], coloc.tiers[1], coloc.saving)
    return core.Problem(n_sites=len(sites), tiers=tuple(data), colocation=pair,
                         objective=scenario.objective, budget=scenario.budget)


def _targets(scenario: Scenario, units: pd.DataFrame, sites: pd.DataFrame,
             graphs: dict[str, AccessGraph], tiers: dict[str, TierRun],
             ) -> list[checker.Target]:
    lang = scenario.lang
    out: list[checker.Target] = []
    labels_all = np.array([inputs.unit_label(units, i) for i in range(len(units))],
                          dtype=object)
    polys = units.geometry.to_numpy()
    for name, tr in tiers.items():
        cfg = tr.config
        hard = cfg.coverage == "all"
        text = labels.target_text(name, cfg, lang)
        if cfg.reach == "road":
            g = graphs[cfg.network]
            out.append(checker.CoverTarget(
                key=f"{name}_cover", tier=name, text=text, graph=g.graph,
                site_node=site_nodes(sites, g), demand_node=g.node[tr.rows],
                demand_id=labels_all[tr.rows], radius=float(cfg.radius_m or 0.0),
                weight=tr.weight, hard=hard))
        else:
            out.append(checker.InsideTarget(
                key=f"{name}_cover", tier=name, text=text, polygons=polys[tr.rows],
                site_lon=sites["lon"].to_numpy(), site_lat=sites["lat"].to_numpy(),
                demand_id=labels_all[tr.rows], weight=tr.weight, hard=hard))
        if len(tr.each_rows):
            out.append(checker.InsideTarget(
                key=f"{name}_each", tier=name,
                text=labels.each_text(name, cfg.one_in_each or "", lang),
                polygons=polys[tr.each_rows], site_lon=sites["lon"].to_numpy(),
                site_lat=sites["lat"].to_numpy(), demand_id=labels_all[tr.each_rows]))
        if tr.count:
            out.append(checker.CountTarget(f"{name}_count", name,
                                           labels.count_text(name, tr.count, lang), tr.count))
        if tr.demand is not None and cfg.reach == "road":
            g = graphs[cfg.network]
            out.append(checker.CapacityTarget(
                key=f"{name}_capacity", tier=name, text=labels.capacity_text(name, lang),
                graph=g.graph, xy=g.xy, site_node=site_nodes(sites, g),
                demand_node=g.node[tr.rows], demand=tr.demand,
                radius=float(cfg.radius_m or 0.0), capacity=np.zeros(len(sites)),
                demand_id=labels_all[tr.rows]))
    return out


def _annotate(units: gpd.GeoDataFrame, tiers: dict[str, TierRun],
              nearest: dict[str, np.ndarray], results: list[checker.Result],
              ) -> gpd.GeoDataFrame:
    units = units.copy()
    served_by = {r.key: r for r in results}
    for name, tr in tiers.items():
        dist = np.full(len(units), np.nan)
        served = np.full(len(units), None, dtype=object)
        key = f"{name}_cover"
        if key in nearest:
            d = nearest[key]
            dist[tr.rows] = np.where(np.isinf(d), np.nan, d)
            served[tr.rows] = d <= float(tr.config.radius_m or 0.0) + 1e-6
        else:
            served[tr.rows] = served_by[key].served
        if f"{name}_each" in served_by:
            served[tr.each_rows] = served_by[f"{name}_each"].served
        units[f"{name}_dist_m"] = np.round(dist, 1)
        units[f"{name}_served"] = served
    return units
