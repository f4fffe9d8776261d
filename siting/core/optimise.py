r"""Reduce, start, build and solve a siting problem, lexicographically.

The driver of the core, as a short pipeline: :func:`siting.core.problem.check`, the
reductions of :mod:`siting.core.presolve`, the component bounds of
:mod:`siting.core.components` (capacitated tiers), a start from
:mod:`siting.core.heuristics.greedy` (improved by :mod:`siting.core.heuristics.lagrange` for
the p-median), the model of :mod:`siting.core.formulation`, and the solver seam
:mod:`siting.core.solve`.

Stages:

- ``min_cost``: (1) minimise :math:`C`; (2) if some tier maximises reach, maximise the
  reached weight subject to :math:`C \le C^*` (a second solve, warm-started from the first;
  skipped when the first already reaches every reachable row);
- ``max_coverage``: (1) maximise the reached weight subject to the budget and the counts;
  (2) the least cost reaching that weight (skipped when the counts fix :math:`C`: one cost
  for all new sites of a tier and ``min_count = max_count``);
- ``p_median``: one stage, the least weighted distance.

The tiers apart (``min_cost`` with several tiers or a capacitated one,
:mod:`siting.core.decompose`): first every tier, and every component of a capacitated tier,
is solved alone with the co-location saving :math:`\delta` charged to each open bank (a
relaxation of :math:`w_j \le o_{aj}`), each to a 0 % gap within a node budget. The pieces
share no variable and no row, so the sum of the bounds the solver proved for them,

.. math::

    \underline{C} = \sum_k \text{bound}_k \le C^*,

is a proven bound on the whole. The plan they give (tier :math:`a` solved again with the
saving at the banks' sites) is priced by :func:`~siting.core.problem.cost_of`. While
:math:`(C - \underline{C}) / (C - \text{forced}) >` ``rel_gap`` and the user's clock has time
left, the pieces with :math:`\text{objective}_k > \text{bound}_k` have their plans improved
by a neighbourhood search (:mod:`siting.core.banks_search`), then are solved again with more
nodes, the largest gap for the work first (:mod:`siting.core.decompose`); each piece keeps
its highest bound, so
:math:`\underline{C}` only rises. When the gap is proven, the clock has run out, or the solve
is bounded by nodes (``max_nodes``, as the targets' prices are), the first stage is that plan
and that bound, and the whole model is not solved. Otherwise the whole
model is solved from that plan, in the time left, and its bound is
:math:`\max(\text{the solver's bound}, \underline{C})`, both valid. After the solve the
chosen banks are re-sized exactly (:func:`resize`), and kept when cheaper. The main stage's
status is ``optimal`` when the final plan's avoidable gap, on those bounds, is within
``rel_gap`` (:func:`_proven`), whatever stopped the solver that found it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pulp

from siting.core import banks, components, decompose, formulation, presolve, variables
from siting.core import solve as solver
from siting.core._errors import InfeasibleError, SolverError
from siting.core.forced import forced_cost
from siting.core.heuristics import greedy, lagrange
from siting.core.problem import (
    Outcome,
    Problem,
    Solution,
    SolverSettings,
    TierData,
    avoidable_gap,
    check,
    cost_of,
    uncoverable_rows,
)

log = logging.getLogger(__name__)

PIECE_NODES = 50       # branch-and-bound nodes per component solved alone
RESIZE_NODES = 5_000   # branch-and-bound nodes for re-sizing a tier's chosen banks
STAGE_NAMES = {"min_cost": "minimum cost", "max_coverage": "most reached weight",
               "p_median": "least weighted distance"}


def optimise(problem: Problem, settings: SolverSettings | None = None, *,
             warm: dict[str, np.ndarray] | None = None, reduce: bool = True,
             cut: bool = True) -> Solution:
    """Reduce, build and solve the model, lexicographically (see the module docstring).

    Parameters
    ----------
    problem
        The tiers' data.
    settings
        Solver, time limit (shared by the stages), relative gap, threads; the defaults of
        :class:`SolverSettings` when None.
    warm
        Optional starting solution: tier -> (n,) bool of open sites. Without one, a greedy
        solution (:mod:`siting.core.heuristics.greedy`) is used when it is feasible.
    reduce
        Apply :mod:`siting.core.presolve` first (the result is the same; the model is smaller).
    cut
        Add :mod:`siting.core.components` bounds for capacitated tiers (and start from their
        components' solutions).

    Raises
    ------
    InfeasibleError
        When the targets cannot all be met (e.g. a count bound conflicts with coverage).
    SolverError
        When the solver finds no solution within its limits.
    """
    settings = settings or SolverSettings()
    t0 = time.perf_counter()
    if settings.deadline is None:      # the user's clock: every solve below ends by then
        settings = replace(settings, deadline=t0 + settings.time_limit_s)
    check(problem)
    small, stats = presolve.reduce(problem) if reduce else (problem, {})
    forced = forced_cost(small)
    apart = (decompose.decompose(small, settings, _alone, forced=forced.total,
                                   before=problem)
             if cut and warm is None
             else None)
    # the pieces' plan is the answer when proven, when the clock has run out (unless it
    # stopped a piece before its solver found a plan: then the whole model gets its last
    # second from the greedy start, beside the pieces' plan), or when the solve is bounded
    # by nodes (the pieces had theirs; the whole model would have as few)
    settled = apart is not None and (_within(apart, forced.total, settings.rel_gap)
                                     or (solver.time_left(settings) <= 0 and not apart.greedy)
                                     or settings.max_nodes is not None)
    cuts, starts = (components.capacity_bounds(small, _piece_solver(settings),
                                               late=lambda: solver.time_left(settings) <= 0)
                    if cut and not settled else ({}, {}))
    t_start = time.perf_counter()
    if warm is None:
        warm = greedy.start(small, fixed=starts)
    certificate = None
    if warm and reduce:
        small, warm, certificate, strong = lagrange.strengthen(small, warm)
        stats = {**stats, **strong}
    t_start = time.perf_counter() - t_start
    built = formulation.build(small)
    formulation.add_component_bounds(built, cuts)
    formulation.without_forced(built, forced.total)
    t_build = time.perf_counter() - t0 - t_start - (
        sum(o.seconds for _, o in apart.pieces) if apart is not None and settled else 0.0)
    if apart is not None and settled:
        stages = _decomposed_stages(problem, built, settings, apart, forced.total)
    else:
        left = solver.time_left(settings)
        stages = _solve_stages(problem, built, replace(settings, time_limit_s=max(1.0, left)),
                               warm, forced.total, apart)
    chosen, size, capacity = variables.read(small, built.vars)
    size, capacity = resize(small, chosen, size, capacity, settings)
    cost = cost_of(problem, chosen, size)
    stages[0] = (stages[0][0], _proven(_plan_objective(problem, stages[0][1], cost),
                                       settings))
    reach = built.reach
    return Solution(
        open=chosen, cost=cost, forced=forced,
        objective=float(stages[0][1].objective or 0),
        reached_weight=(float(pulp.value(reach) or 0.0) if reach is not None else 0.0)
        + built.already_reached,
        status="optimal" if all(o.status == "optimal" for _, o in stages) else "feasible",
        stages=tuple(stages), size=size, capacity=capacity, reductions=stats,
        uncoverable={t.name: uncoverable_rows(t) for t in problem.tiers if t.cover is not None},
        tier_cost={t.name: cost_of(replace(problem, tiers=(t,), colocation=None), chosen, size)
                   for t in problem.tiers},
        short=formulation.shortfall(built),
        seconds={"build": t_build, "start": t_start,
                 "solve": sum(o.seconds for _, o in stages)},
        certificate=certificate)


def _alone(piece: Problem, settings: SolverSettings) -> Solution:
    """One tier of :mod:`siting.core.decompose`, solved quietly, without its own pieces."""
    with solver.quiet():
        return optimise(piece, settings, cut=False)


def _within(apart: decompose.Decomposed, forced: float, rel_gap: float) -> bool:
    """Whether the pieces' plan is proven within ``rel_gap`` of the avoidable cost."""
    return avoidable_gap(apart.cost, apart.bound, forced) <= rel_gap + 1e-12


def _with_bound(out: Outcome, bound: float) -> Outcome:
    """The whole model's outcome with the pieces' summed bound when that is higher."""
    if out.objective is None or (out.bound is not None and bound <= out.bound):
        return out      # (a solve stopped before its first bound has none: the pieces' holds)
    gap = solver.relative_gap(out.objective, bound)
    return replace(out, bound=bound, gap=gap)


def _decomposed_stages(problem: Problem, built: formulation.Built, settings: SolverSettings,
                       apart: decompose.Decomposed, forced: float,
                       ) -> list[tuple[str, Outcome]]:
    """The pieces' plan as the first stage's incumbent (no whole-model solve), then stage 2.

    Also the answer when the whole model, solved in what was left of the time limit, found
    no solution of its own: the pieces' plan is one, with their bound.
    """
    _set_plan(problem, built, apart)
    names = sorted({o.solver for _, o in apart.pieces
                    if not o.solver.startswith(decompose.GREEDY)}) or [decompose.GREEDY]
    greedy_pieces = apart.greedy
    proven = _within(apart, forced, settings.rel_gap)
    first = Outcome(f"{names[-1]} ({len(apart.pieces)} pieces apart"
                    + (f", {greedy_pieces} of them greedy, stopped by the time limit"
                       if greedy_pieces else "") + ")",
                    "optimal" if proven else "feasible", apart.cost, apart.bound,
                    solver.relative_gap(apart.cost, apart.bound),
                    sum(o.seconds for _, o in apart.pieces),
                    sum(o.nodes or 0 for _, o in apart.pieces), forced)
    name = STAGE_NAMES[problem.objective]
    stages = [(name, first)]
    second = _second_stage(problem, built, settings, first)
    if second is not None:
        stages.append(second)
    return stages


def _set_plan(problem: Problem, built: formulation.Built, apart: decompose.Decomposed) -> None:
    """The model's variables at the pieces' plan (site variables and co-location)."""
    for var in built.lp.variables():
        var.varValue = 0.0
    for var, x in variables.start_values(built.vars, apart.choice):
        var.varValue = x
    for w, j in built.coloc:
        w.varValue = float(all(any(bool(var.varValue) for var, _ in _open_pairs(built, name, j))
                               for name in _coloc_tiers(problem)))


def _coloc_tiers(problem: Problem) -> tuple[str, str]:
    assert problem.colocation is not None
    return problem.colocation[0], problem.colocation[1]


def _open_pairs(built: formulation.Built, name: str, j: int) -> variables.Pairs:
    v = built.vars[name]
    return v.open(int(v.pos[j])) if v.pos[j] >= 0 else []


def _piece_solver(settings: SolverSettings) -> Callable[[Problem], Solution]:
    """How :mod:`siting.core.components` solves one piece: to a node limit, quietly.

    A capacitated piece is solved with its alike sites merged (:mod:`siting.core.banks`),
    which closes pieces the site-by-site model could not; a piece with a row that cannot be
    served in full goes to the site-by-site model and its shortfall variables. A node
    limit, unlike a clock, ends at the same place on a busy machine, so the bounds and the
    start found from the pieces are the same on every run.
    """
    quick = replace(settings, rel_gap=0.0, max_nodes=PIECE_NODES)

    def solve_piece(piece: Problem) -> Solution:
        with solver.quiet():
            alone = (banks.solve_tier(piece.tiers[0], quick)
                     if len(piece.tiers) == 1 and piece.tiers[0].capacitated else None)
            if alone is None or not alone.outcome.has_solution:
                return optimise(piece, quick, cut=False, warm={})
            return _banks_solution(piece, alone)

    return solve_piece


def _banks_solution(piece: Problem, alone: banks.Banks) -> Solution:
    """A one-tier piece's :class:`Solution` from its merged-site solve."""
    t = piece.tiers[0]
    size = {t.name: alone.size}
    chosen = {t.name: (alone.size >= 0) | t.existing}
    caps = np.array([c for c, _ in t.sizes] + [0.0])
    capacity = np.where(t.existing, t.existing_capacity if t.existing_capacity is not None
                        else 0.0, caps[alone.size])
    return Solution(open=chosen, cost=cost_of(piece, chosen, size), reached_weight=0.0,
                    status=alone.outcome.status, stages=(("minimum cost", alone.outcome),),
                    uncoverable={}, size=size, capacity={t.name: capacity},
                    objective=float(alone.outcome.objective or 0.0))


def resize(problem: Problem, chosen: dict[str, np.ndarray], size: dict[str, np.ndarray],
           capacity: dict[str, np.ndarray], settings: SolverSettings,
           ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """The cheapest bank sizes for the chosen sites of each capacitated tier, when cheaper.

    A time-limited solve leaves banks larger than the chosen sites need. The same sites,
    every one kept open, are re-sized exactly (:mod:`siting.core.banks`, to a 0 % gap within
    ``RESIZE_NODES`` nodes); the new sizes replace the old only when their cost is lower,
    so the plan never gets dearer and its sites and co-location do not change.
    """
    size, capacity = dict(size), dict(capacity)
    exact = replace(settings, rel_gap=0.0, max_nodes=RESIZE_NODES)
    for t in problem.tiers:
        if not t.capacitated or t.cover is None or t.name not in size:
            continue
        new = chosen[t.name] & ~t.existing
        mine = replace(t, cost=np.where(new, t.cost, np.inf), fixed=new, min_count=0,
                       max_count=None, cover=t.demand_cover(), demand_rows=None, reach=None,
                       weight=None)
        with solver.quiet():
            alone = banks.solve_tier(mine, exact)
        if alone is None or alone.outcome.objective is None:
            continue
        old = _bank_cost(t, size[t.name], new)
        better = _bank_cost(t, alone.size, new)
        if alone.outcome.has_solution and better < old - 1e-6 and (alone.size[new] >= 0).all():
            log.info("re-size %s: the same %d sites' banks cost %s instead of %s", t.name,
                     int(new.sum()), f"{better:,.0f}", f"{old:,.0f}")
            caps = np.array([c for c, _ in t.sizes])
            size[t.name] = alone.size
            capacity[t.name] = np.where(new, caps[np.maximum(alone.size, 0)], capacity[t.name])
    return size, capacity


def _bank_cost(t: TierData, size: np.ndarray, new: np.ndarray) -> float:
    costs = np.array([c for _, c in t.sizes])
    return float(costs[size[new]].sum())


def _plan_objective(problem: Problem, first: Outcome, cost: float) -> Outcome:
    """The main stage's objective as the plan's cost.

    The solver's incumbent can leave a co-location saving unclaimed (its w below 1 where
    both tiers are open); the plan itself earns it, so its cost is the objective, and the
    proven bound stays a bound below it.
    """
    if problem.objective != "min_cost" or first.objective is None or cost >= first.objective:
        return first
    gap = None if first.bound is None else solver.relative_gap(cost, first.bound)
    return replace(first, objective=cost, gap=gap)


def _proven(first: Outcome, settings: SolverSettings) -> Outcome:
    """The main stage as optimal when the plan is proven within the gap asked.

    HiGHS stops at its clock unaware of what lifts its bound or lowers its incumbent after
    it: the pieces' summed bound and the re-sized banks. The avoidable gap they prove, from
    bounds read from the solver, is what the status states.
    """
    gap = first.avoidable_gap
    if first.status == "feasible" and gap is not None and gap <= settings.rel_gap + 1e-12:
        return replace(first, status="optimal")
    return first


def _solve_stages(problem: Problem, built: formulation.Built, settings: SolverSettings,
                  warm: dict[str, np.ndarray] | None, forced: float,
                  apart: decompose.Decomposed | None = None) -> list[tuple[str, Outcome]]:
    """The whole model's stages; with ``apart``, its bound and (when cheaper) its plan."""
    start = variables.start_values(built.vars, warm) if warm else None
    name = STAGE_NAMES[problem.objective]
    first = solver.run(built.lp, settings, warm=start, offset=built.median_constant + forced,
                       forced=forced)
    first = replace(first, forced=forced)
    if apart is not None and not first.has_solution and first.status != "infeasible":
        return _decomposed_stages(problem, built, settings, apart, forced)
    _raise_unless_solved(first, name)
    if apart is not None:
        first = _with_bound(first, apart.bound)
        if first.objective is not None and apart.cost < first.objective - 1e-6:
            _set_plan(problem, built, apart)       # the pieces' plan is the incumbent
            first = replace(first, objective=apart.cost,
                            gap=solver.relative_gap(apart.cost, first.bound or apart.bound))
    stages = [(name, first)]
    second = _second_stage(problem, built, settings, first)
    if second is not None:
        stages.append(second)
    return stages


def _second_stage(problem: Problem, built: formulation.Built, settings: SolverSettings,
                  first: Outcome) -> tuple[str, Outcome] | None:
    lp, reach = built.lp, built.reach
    if reach is None:
        return None
    if problem.objective == "min_cost":
        done = _all_reached(built)
        if done is not None:
            return done
    incumbent = [(v, float(v.varValue or 0.0)) for v in lp.variables()]
    if problem.objective == "min_cost":
        c_star = float(pulp.value(built.cost) or 0.0)
        lp += built.cost <= c_star + 1e-7 * max(1.0, abs(c_star)), "cost_cap"
        lp.setObjective(-1.0 * reach)
        name = "most reached weight at that cost"
    elif problem.objective == "max_coverage" and not _cost_is_fixed(problem):
        r_star = float(pulp.value(reach) or 0.0)
        lp += reach >= r_star - 1e-7 * max(1.0, abs(r_star)), "reach_floor"
        lp.sense = pulp.LpMinimize
        lp.setObjective(built.cost)
        name = "least cost at that reach"
    else:
        return None
    out = solver.run(lp, settings, warm=incumbent,
                     time_limit=settings.time_limit_s - first.seconds)
    _raise_unless_solved(out, name)
    if problem.objective == "min_cost":     # solved as min −weight: report the weight itself
        out = replace(out, objective=_negated(out.objective), bound=_negated(out.bound))
    return name, out


def _negated(x: float | None) -> float | None:
    return None if x is None else -x


def _all_reached(built: formulation.Built) -> tuple[str, Outcome] | None:
    """After a min-cost stage: each row's y as the chosen sites reach it; a stage if all are."""
    for y, _, xs in built.reach_rows:    # stage 1 left y free
        y.varValue = min(1.0, sum(float(x.varValue or 0.0) for x in xs))
    if not all((y.varValue or 0.0) >= 1.0 for y, _, _ in built.reach_rows):
        return None
    total = sum(w for _, w, _ in built.reach_rows)
    return "most reached weight at that cost", Outcome(
        "(no solve: every reachable row is reached)", "optimal", total, total, 0.0, 0.0)


def _cost_is_fixed(problem: Problem) -> bool:
    """Whether the counts fix C: one cost for all new sites, min_count = max_count, per tier."""
    if problem.colocation is not None:
        return False
    for t in problem.tiers:
        new = np.isfinite(t.cost) & ~t.existing
        if t.sizes or t.min_count != t.max_count or (
                new.any() and t.cost[new].min() != t.cost[new].max()):
            return False
    return True


def _raise_unless_solved(out: Outcome, stage: str) -> None:
    if out.status == "infeasible":
        raise InfeasibleError(
            f"the model is infeasible at stage '{stage}': the count bounds, budget or "
            "capacities cannot be met together with full coverage. Raise max_count or the "
            "budget, lower count, add bank sizes, or widen radius_m.")
    if not out.has_solution:
        raise SolverError(
            f"{out.solver} found no solution at stage '{stage}' within {out.seconds:.0f} s "
            f"(status {out.status}). Raise [solver] time_limit_s or try [solver] name = "
            "\"cbc\".")
