"""One siting run, stage by stage: read, candidates, distances, model, check.

Each stage logs one line with its counts; :func:`run` returns a
:class:`~siting.run.results.RunResult` that the output writers turn into files. The values
passed between the stages are defined in :mod:`siting.run.results`; building the core's
problem and the checker's targets from them is :mod:`siting.run.assemble`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from functools import partial

import numpy as np
import pandas as pd

from siting import core
from siting._errors import ValidationError
from siting.check import checker
from siting.config.scenario import Scenario, SolverConfig, TierConfig
from siting.network import candidates, distances, roads
from siting.network.snapping import AccessGraph, access_graph
from siting.run import (
    allocation,
    assemble,
    chain,
    costs,
    inputs,
    placement,
    sizing,
    target_cost,
    target_costs,
    validate,
)
from siting.run.assemble import compartments_needed, demand_rows, inside, required_count, site_nodes
from siting.run.phasing import plan as build_order
from siting.run.phasing import refuse_early
from siting.run.results import (
    Clock,
    Prepared,
    RunResult,
    SiteCosts,
    Sites,
    TierOutcome,
    TierRun,
)

log = logging.getLogger(__name__)

ProgressFactory = Callable[[str], distances.Progress]
sha256 = inputs.sha256
__all__ = ["Prepared", "ProgressFactory", "RunResult", "demand_rows", "prepare", "run", "sha256",
           "site_nodes"]


def prepare(scenario: Scenario, *, progress: ProgressFactory | None = None) -> Prepared:
    """Read every input, build the candidate sites and the coverage of every tier.

    Raises
    ------
    ValidationError
        Listing every problem found in the input files at once.
    """
    clock = Clock()
    deadline = sizing.Deadline(scenario.solver.time_limit_s, scenario=str(scenario.path))
    with clock.stage("read"):
        inp = inputs.load(scenario)
    deadline.check("read")
    net, units = inp.network, inp.units
    modes: list[str] = sorted({t.network for t in scenario.tiers.values() if t.reach == "road"}
                              | ({scenario.chain.network} if scenario.chain else set()))
    with clock.stage("candidates"):
        nodes = candidates.road_nodes(net, modes or list(roads.MODES),
                                      min_spacing_m=scenario.candidates.min_spacing_m,
                                      junctions_only=scenario.candidates.junctions_only)
        table = candidates.combine(inp.existing, nodes, candidates.doors(units),
                                   first_point=len(units), tiers=list(scenario.tiers))
        sites = Sites.from_frame(table, list(scenario.tiers))
    deadline.check("candidates")
    sizing.check(scenario, units, table, {n: demand_rows(units, c)
                                          for n, c in scenario.tiers.items()}, inp.warnings)
    with clock.stage("distances"):
        x, y = inputs.points(units, inp.existing)
        graphs = {m: access_graph(net, m, x, y, max_snap_m=scenario.network.max_snap_m)
                  for m in modes}
        timed = partial(_timed, deadline, progress)
        tiers = {name: _tier(scenario, name, cfg, units, sites, graphs, timed)
                 for name, cfg in scenario.tiers.items()}
    return Prepared(scenario, inp, sites, graphs, tiers, clock, deadline)


def _timed(deadline: sizing.Deadline, progress: ProgressFactory | None,
           label: str) -> distances.Progress:
    """The caller's progress callback for ``label``, stopping once the time limit is spent."""
    return deadline.progress(label, progress(label) if progress else None)


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
    prep = prepared or prepare(scenario, progress=progress)
    findings = validate.diagnose(prep)
    for w in findings.warnings:
        log.warning("warning: %s", w)
    if findings.errors:
        raise ValidationError(findings.errors)
    clock, sites, units, tiers = prep.clock, prep.sites, prep.inputs.units, prep.tiers
    unsnapped = _unsnapped(units, sites, prep.graphs, scenario)
    refuse_early(scenario, sites, tiers)   # [phasing] money that no needed site fits
    with clock.stage("model"):
        problem = assemble.problem(scenario, sites, tiers)
        left = prep.deadline.left() if prep.deadline else scenario.solver.time_limit_s
        solution = core.optimise(problem, replace(solver_settings(scenario.solver),
                                                  time_limit_s=left))
    comp = {name: _compartments(tr, solution) for name, tr in tiers.items()}
    with clock.stage("check"):
        targets = assemble.targets(scenario, units, sites, prep.graphs, tiers, comp)
        results, nearest = checker.verify(targets, solution.open)
    phrases = assemble.target_phrases(tiers)
    links = None
    if scenario.chain is not None:
        with clock.stage("chain"):
            links = chain.build(scenario, prep.inputs.network, prep.graphs[scenario.chain.network],
                                sites, solution.open, tiers["village"],
                                settings=replace(solver_settings(scenario.solver),
                                                 time_limit_s=max(10.0, _left(prep))))
        if links.max_m is not None:
            results.append(chain.result(links, units))
            phrases[chain.KEY] = chain.phrase(links)
    with clock.stage("compartment_cost"):
        paid = target_cost.of_targets(problem, solution, replace(
            solver_settings(scenario.solver), time_limit_s=max(10.0, _left(prep))))
    prices = costs.of_sites(scenario, sites, tiers, solution)
    population = units["population"].to_numpy(float)
    outcomes = {name: _outcome(sites, tr, solution, comp[name], population, nearest, results,
                               prices[name]) for name, tr in tiers.items()}
    where = placement.place(sites, units, prep.inputs.network, gcj02=scenario.gcj02)
    phased = None
    if scenario.phasing is not None:
        with clock.stage("phasing"):
            phased = build_order(scenario, sites, tiers, solution, prices, targets, comp,
                                 solver_settings(scenario.solver))
    with clock.stage("target_costs"):
        priced = _target_costs(scenario, problem, tiers, solution, prep)
    with clock.stage("tradeoff"):
        curves = _tradeoffs(scenario, problem, tiers, solution)
    log.info("check: %d of %d targets met (independent recomputation)",
             sum(r.met is True for r in results), sum(r.met is not None for r in results))
    return RunResult(scenario=scenario, network=prep.inputs.network, sites=sites,
                     placement=where, demand=units, tiers=tiers, outcomes=outcomes,
                     solution=solution, results=results, unsnapped=unsnapped,
                     timings=clock.times, inputs=prep.inputs.files, generated=scenario.generated,
                     notes=prep.inputs.notes + findings.warnings,
                     layer_info=prep.inputs.layer_info, tradeoffs=curves,
                     phrases=phrases, phasing=phased, target_costs=priced,
                     compartment_costs=paid, chain=links)


def _target_costs(scenario: Scenario, problem: core.Problem, tiers: dict[str, TierRun],
                  solution: core.Solution, prep: Prepared) -> list[target_costs.TargetCost]:
    """Each count and capacity target priced, in what is left of the user's time limit."""
    if not scenario.report.target_costs:
        return []
    limit = scenario.solver.time_limit_s
    left = limit - prep.deadline.spent() if prep.deadline else limit
    return target_costs.of_targets(problem, tiers, solution, scenario.solver,
                                   seconds_left=left)



def _left(prep: Prepared) -> float:
    """Seconds left of the user's time limit."""
    return prep.deadline.left() if prep.deadline else prep.scenario.solver.time_limit_s


def _compartments(tr: TierRun, solution: core.Solution) -> np.ndarray | None:
    """(n_sites,) compartments of each open bank of a capacitated tier (0 if closed)."""
    cap = solution.capacity.get(tr.name)
    if cap is None or tr.demand is None:
        return None
    return np.where(solution.open[tr.name], cap, 0.0)


def _outcome(sites: Sites, tr: TierRun, solution: core.Solution,
             compartments: np.ndarray | None, population: np.ndarray,
             nearest: dict[str, np.ndarray], results: list[checker.Result],
             prices: SiteCosts) -> TierOutcome:
    """A tier's outcome: open sites as solved, units served as the checker found them."""
    n_units = len(population)
    by_key = {r.key: r for r in results}
    applies = np.zeros(n_units, dtype=bool)
    served = np.zeros(n_units, dtype=bool)
    dist = np.full(n_units, np.nan)
    key = f"{tr.name}_cover"
    if key in nearest:
        d = nearest[key]
        dist[tr.rows] = np.where(np.isinf(d), np.nan, d)
        served[tr.rows] = d <= float(tr.config.radius_m or 0.0) + 1e-6
    else:
        served[tr.rows] = _bools(by_key[key].served, len(tr.rows))
    applies[tr.rows] = True
    if f"{tr.name}_each" in by_key:
        served[tr.each_rows] = _bools(by_key[f"{tr.name}_each"].served, len(tr.each_rows))
        applies[tr.each_rows] = True
    size = solution.size.get(tr.name, np.full(len(sites), -1, np.int64))
    return TierOutcome(tr.name, open=solution.open[tr.name], existing=sites.existing[tr.name],
                       bank_size=size, compartments=compartments, applies=applies,
                       served=served, dist_m=np.round(dist, 1), costs=prices,
                       allocation=allocation.allocate(tr, solution.open[tr.name], population,
                                                      compartments))


def _bools(served: np.ndarray | None, n: int) -> np.ndarray:
    return np.zeros(n, dtype=bool) if served is None else np.asarray(served, dtype=bool)


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
    # the curves come after the solve and are bounded by node counts (1,000 per point), not
    # by the clock: a run the limit stopped keeps them, and they are the same on every run
    out = {}
    for t in problem.tiers:
        tr = tiers[t.name]
        weight = tr.weight if tr.config.coverage == "maximise" else np.ones(len(tr.rows))
        chosen_new = int((solution.open[t.name] & ~t.existing).sum())
        out[t.name] = tradeoff.curve(t, len(tr.rows), weight, chosen_new, points=points,
                                     settings=solver_settings(scenario.solver))
    log.info("trade-off: %d curves of %d points", len(out), points)
    return out


def _tier(scenario: Scenario, name: str, cfg: TierConfig, units: pd.DataFrame,
          sites: Sites, graphs: dict[str, AccessGraph],
          progress: ProgressFactory | None) -> TierRun:
    rows = demand_rows(units, cfg)
    dist = None
    if cfg.reach == "road":
        g = graphs[cfg.network]
        cb = progress(f"distances {name}") if progress else None
        reach = distances.within(g.graph, g.node[rows], site_nodes(sites, g),
                                 float(cfg.radius_m or 0.0), xy=g.xy, progress=cb)
        dist, cover = reach.dist, reach.cover
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
    target = assemble.required_compartments(scenario, cfg) if cfg.sizes else 0
    how = (f"within {cfg.radius_m:g} m ({cfg.network})" if cfg.reach == "road" else "inside")
    log.info("distances %s: %s demand units × %s sites, %s pairs %s%s%s", name,
             f"{len(rows):,}", f"{len(sites):,}", f"{cover.nnz:,}", how,
             f"; one in each {cfg.one_in_each} ({len(each):,})" if len(each) else "",
             f"; at least {count:,} sites" if count else "")
    if need is not None:
        log.info("capacity %s: %s compartments needed by %s units%s", name,
                 f"{need.sum():,.0f}", f"{len(rows):,}",
                 f"; at least {target:,} open (the plan's target)" if target else "")
    return TierRun(name, cfg, rows, cover, dist, weight, each, each_cover, count, need,
                   target)


def _unsnapped(units: pd.DataFrame, sites: Sites, graphs: dict[str, AccessGraph],
               scenario: Scenario) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    used = {name: demand_rows(units, cfg) for name, cfg in scenario.tiers.items()}
    ex = sites.existing_sites()
    for mode, g in graphs.items():
        rows = np.unique(np.concatenate([used[t] for t, c in scenario.tiers.items()
                                         if c.reach == "road" and c.network == mode]))
        bad_units = [i for i in rows if g.node[i] < 0]
        bad_sites = ex[g.node[sites.point[ex]] < 0]
        items = [inputs.unit_label(units, i) for i in bad_units] + \
            [f"{sites.name[j]} ({sites.site_id[j]})" for j in bad_sites]
        if items:
            out[mode] = items
            log.debug("snap (%s): %d demand units and %d existing sites farther than %g m "
                        "from a road were not attached", mode, len(bad_units), len(bad_sites),
                        scenario.network.max_snap_m)
    return out
