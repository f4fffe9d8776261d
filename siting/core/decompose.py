r"""The tiers solved apart: each open bank earns the co-location saving, the bounds add up.

In ``min_cost`` the tiers share nothing but co-location, :math:`-\delta \sum_j w_j` with
:math:`w_j \le o_{aj}` and :math:`w_j \le o_{bj}`. Dropping the first of the two rows at
every site where tier :math:`b` would be new (the saving is charged to :math:`b`; where
:math:`b` exists and :math:`a` is new, to :math:`a`) relaxes the model, and the relaxation
falls apart into one problem per tier, each with costs :math:`c_{bj} - \delta` at the
charged sites. A capacitated tier falls apart further into its connected components
(:mod:`siting.core.components`), each solved with its alike sites merged
(:mod:`siting.core.banks`), unless it has a compartment target (which spans its
components): then it is solved whole, its alike sites merged. The pieces share no
variable and no row, so

.. math::

    \text{bound} = \sum_{\text{pieces } k} \text{bound}_k \le C^*

where each :math:`\text{bound}_k` is read from the solver for piece :math:`k`. A plan
follows: tier :math:`b`'s pieces as solved, the other tiers solved again with
:math:`c_{aj} - \delta` at the sites where :math:`b` is open, so that :math:`a` follows
:math:`b`'s banks where its targets allow. When that plan costs the bound, it is optimal.

The time is shared by the pieces, worst first. Each piece is first solved at its root
(``FIRST_NODES``): the rows of :mod:`siting.core.banks` often prove it there, and the
roots' plans often leave the whole within the gap asked. While the plan's avoidable gap,
:math:`(C - \text{bound}) / (C - \text{forced})`, is above the gap asked and the user's
clock has time left, a capacitated piece with :math:`\text{objective}_k > \text{bound}_k`
is worked on again:

1. first each such piece, the largest :math:`\text{objective}_k - \text{bound}_k` first,
   has its plan improved once by :mod:`siting.core.banks_search` (small parts of it solved
   again exactly): a root's plan is often some banks too dear, and this is cheap;
2. then the piece whose gap is largest for the work its next solve will take (its nodes,
   times its classes squared: a node of a bigger model costs more, and it needs more) is
   solved again, from its plan, with ``AGAIN_NODES`` nodes (then ``REFINE`` times its
   last nodes) and an absolute gap of what the whole can still afford. Small pieces close
   in a second; the largest take minutes and come last.

A piece keeps the higher of its bounds (both are valid) and the cheaper of its plans.
A solve bounded by nodes (a target's price) keeps the roots: solved as the run's own
pieces were, they are not solved again (:mod:`siting.core.banks` keeps them). The node
counts, not a clock, decide where it ends, unless the user's limit stops it.

When the user's limit stops a piece's solve before the solver has found a plan, the piece
takes the greedy plan (:mod:`siting.core.heuristics.greedy`), and a piece the limit cut
short takes, beside its solver's bound, a bound found without a solver: the least cost of
whole banks holding its demand (:func:`siting.core.banks.floor`), or for a tier without
capacities the cheapest sites its count needs (:func:`_count_floor`). Both are valid, so
the sum stays a proven bound; the piece says ``feasible``, its solver name ``greedy``, and
a warning names it. With time left, a piece without a plan makes the whole model the
solve instead (None).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from siting.core import banks, banks_search, components
from siting.core import solve as solver
from siting.core._errors import SolverError
from siting.core.heuristics import greedy
from siting.core.problem import (
    Outcome,
    Problem,
    Solution,
    SolverSettings,
    TierData,
    cost_of,
)

log = logging.getLogger(__name__)

TIER_NODES = 2_000      # branch-and-bound nodes per uncapacitated tier solved alone
FIRST_NODES = 1         # … per capacitated piece, at first: its root
AGAIN_NODES = 1_000     # … when it is first solved again
REFINE = 4              # … and then this many times its last nodes
MAX_NODES = 256_000     # … up to this many

Solve = Callable[[Problem, SolverSettings], Solution]


@dataclass(frozen=True)
class Decomposed:
    """The pieces' summed bound, the plan they give, and what the solver proved of each."""

    bound: float
    cost: float
    choice: dict[str, np.ndarray]     # tier -> (n,) bool open, or int bank size (-1 closed)
    pieces: tuple[tuple[str, Outcome], ...]
    refined: int = 0                  # how many times a piece was solved again

    @property
    def greedy(self) -> int:
        """How many pieces the clock stopped before the solver found a plan (greedy plans)."""
        return sum(o.solver.startswith(GREEDY) for _, o in self.pieces)


@dataclass(frozen=True)
class _Piece:
    """A capacitated piece solved alone: its data, its sites, its best plan and bound."""

    name: str
    tier: str
    sites: np.ndarray                 # the tier's sites it holds
    data: TierData                    # what :func:`siting.core.banks.solve_tier` solves
    got: banks.Banks
    nodes: int
    searched: bool = False            # its plan improved by :mod:`.banks_search` once

    @property
    def gap(self) -> float:
        o = self.got.outcome
        return max(0.0, float(o.objective or 0.0) - float(o.bound or 0.0))

    def more(self, limit: int) -> int:
        """The nodes of its next solve: ``AGAIN_NODES``, then ``REFINE`` times its last."""
        return min(limit, max(AGAIN_NODES, self.nodes * REFINE))

    @property
    def work(self) -> float:
        """A guess at what its next solve costs: its nodes, each dearer in a bigger model."""
        return float(self.more(MAX_NODES)) * max(1, self.got.classes) ** 2


def decompose(problem: Problem, settings: SolverSettings, solve: Solve, *,
              forced: float = 0.0, before: Problem | None = None) -> Decomposed | None:
    """Solve the relaxation's pieces and the plan they give (see the module docstring).

    ``solve`` solves a one-tier problem (the driver's own ``optimise``). An uncapacitated
    tier gets ``TIER_NODES`` nodes (fewer when ``settings.max_nodes`` says so) and a 0 %
    gap; a capacitated piece ``FIRST_NODES``, then more while the plan's gap on the
    avoidable cost (``forced`` the forced cost) is above ``settings.rel_gap``, unless
    ``settings.max_nodes`` bounds the solve. None when the
    problem is not ``min_cost``, has a budget, is one uncapacitated tier (nothing to
    split), or a piece has no solution or a shortfall. ``before``: the problem before its
    reductions, whose sites where tier a may be open decide where b earns the saving (see
    :func:`_charged`).
    """
    splits = len(problem.tiers) > 1 or any(t.capacitated for t in problem.tiers)
    if problem.objective != "min_cost" or problem.budget is not None or not splits:
        return None
    charged = _charged(problem, before or problem)
    nodes = min(TIER_NODES, settings.max_nodes or TIER_NODES)
    exact = replace(settings, rel_gap=0.0, max_nodes=nodes)
    first = replace(exact, max_nodes=min(FIRST_NODES, nodes))
    bounded = settings.max_nodes is not None    # a price: the roots, as the run's plan had
    alone: list[tuple[str, Outcome]] = []
    parts: list[_Piece] = []
    choice: dict[str, np.ndarray] = {}
    for t in charged.tiers:
        if t.capacitated and t.cover is not None:
            got = _bank_pieces(t, first)
            if got is None:
                return None
            parts += got
            choice[t.name] = _sizes(t, [p for p in got if p.tier == t.name])
            continue
        got_tier = _tier_alone(Problem(problem.n_sites, (t,)), exact, solve)
        if got_tier is None:
            return None
        choice[t.name], outcome = got_tier
        alone.append((t.name, outcome))
    plan = _Plan(problem, alone, exact, solve)
    parts, refined, cost, choice = _refine(plan, parts, choice, settings, forced,
                                           tiers=charged, bounded=bounded,
                                           limit=(first.max_nodes or 1) if bounded else MAX_NODES)
    pieces = alone + [(p.name, p.got.outcome) for p in parts]
    bound = float(sum(o.bound or 0.0 for _, o in pieces))
    log.info("decompose: %d pieces, bound %s, plan %s%s", len(pieces), f"{bound:,.0f}",
             f"{cost:,.0f}", f" ({refined} pieces solved again)" if refined else "")
    return Decomposed(bound, cost, choice, tuple(pieces), refined)


class _Plan:
    """The plan the pieces give, priced on the whole problem (the other tiers follow b)."""

    def __init__(self, problem: Problem, alone: list[tuple[str, Outcome]],
                 exact: SolverSettings, solve: Solve) -> None:
        self.problem, self.exact, self.solve = problem, exact, solve
        self.alone_bound = float(sum(o.bound or 0.0 for _, o in alone))

    def price(self, choice: dict[str, np.ndarray]) -> tuple[float, dict[str, np.ndarray]]:
        choice = _follow(self.problem, choice, self.exact, self.solve)
        opened = {t.name: is_open(choice[t.name]) | t.existing for t in self.problem.tiers}
        size = {t.name: choice[t.name] for t in self.problem.tiers if t.sizes}
        return cost_of(self.problem, opened, size), choice


def _refine(plan: _Plan, parts: list[_Piece], choice: dict[str, np.ndarray],
            settings: SolverSettings, forced: float, *, tiers: Problem, limit: int,
            bounded: bool) -> tuple[list[_Piece], int, float, dict[str, np.ndarray]]:
    """The pieces searched and solved again until the plan is within the gap asked.

    Returns the pieces, how many solves again, and the last plan's cost and choice (each
    pricing solves the following tier again, so the last one is not repeated).
    """
    refined = 0
    cost, plan_choice = plan.price({**choice, **_all_sizes(tiers, parts)})
    while parts and solver.time_left(settings) > 0:
        bound = plan.alone_bound + sum(float(p.got.outcome.bound or 0.0) for p in parts)
        over = cost - bound - settings.rel_gap * max(0.0, cost - forced)
        k = _next(parts, limit=limit, search=not bounded)
        if over <= 1e-6 or k is None:
            break
        p = parts[k]
        parts[k] = (_search(p, settings) if not (p.searched or bounded) else
                    _again(p, settings, afford=max(1e-6, p.gap - over), nodes=p.more(limit)))
        refined += 1
        cost, plan_choice = plan.price({**choice, **_all_sizes(tiers, parts)})
    return parts, refined, cost, plan_choice


def _next(parts: list[_Piece], *, limit: int, search: bool) -> int | None:
    """The piece to work on next, None when none is left (see the module docstring).

    A piece above its bound not yet searched (``search``), the largest gap first; else the
    piece with nodes left whose gap is largest for the work of its next solve.
    """
    if search:
        fresh = [k for k, p in enumerate(parts) if p.gap > 1e-6 and not p.searched]
        if fresh:
            return max(fresh, key=lambda k: (parts[k].gap, -k))
    todo = [k for k, p in enumerate(parts) if p.gap > 1e-6 and p.nodes < limit]
    return max(todo, key=lambda k: (parts[k].gap / parts[k].work, -k)) if todo else None


def _search(p: _Piece, settings: SolverSettings) -> _Piece:
    """Piece ``p`` with its plan improved by :mod:`siting.core.banks_search`."""
    got = banks_search.improve(p.data, p.got, settings)
    old, new = p.got.outcome, got.outcome
    log.info("decompose: %s searched: plan %s -> %s, bound %s", p.name,
             f"{float(old.objective or 0):,.0f}", f"{float(new.objective or 0):,.0f}",
             f"{float(new.bound or 0):,.0f}")
    return replace(p, got=got, searched=True)


def _again(p: _Piece, settings: SolverSettings, *, afford: float, nodes: int) -> _Piece:
    """Piece ``p`` solved again from its plan: the higher bound, the cheaper plan."""
    more = replace(settings, rel_gap=0.0, abs_gap=afford, max_nodes=nodes)
    with solver.quiet():
        got = banks.solve_tier(p.data, more, start=p.got)
    if got is None or not got.outcome.has_solution:
        return replace(p, nodes=nodes)
    old, new = p.got.outcome, got.outcome
    best = got if float(new.objective or 0.0) < float(old.objective or 0.0) - 1e-6 else p.got
    bound = max(float(old.bound or 0.0), float(new.bound or 0.0))
    obj = float(best.outcome.objective or 0.0)
    outcome = replace(best.outcome, bound=bound, gap=solver.relative_gap(obj, bound),
                      seconds=old.seconds + new.seconds,
                      nodes=(old.nodes or 0) + (new.nodes or 0),
                      status="optimal" if obj - bound <= 1e-6 else "feasible")
    log.info("decompose: %s solved again (%d nodes): plan %s, bound %s", p.name, nodes,
             f"{obj:,.0f}", f"{bound:,.0f}")
    return replace(p, got=replace(best, outcome=outcome), nodes=nodes)


def _bank_pieces(t: TierData, first: SolverSettings) -> list[_Piece] | None:
    """A capacitated tier's pieces, each solved alone with its alike sites merged."""
    if not _splits(t):
        return None
    if t.capacity_target > 0:       # the target couples the pieces: the tier is one piece
        whole = _or_greedy(t, banks.solve_tier(t, first), first, t.name)
        if whole is None:
            return None
        return [_Piece(t.name, t.name, np.arange(len(t.cost)), t, whole,
                       first.max_nodes or FIRST_NODES)]
    rows_all = t.demand_cover()
    out = []
    for k, (rows, sites) in enumerate(components.split(rows_all, t.allowed)):
        data = components.piece(t, rows_all, rows, sites)
        name = f"{t.name} piece {k + 1}"
        got = _or_greedy(data, banks.solve_tier(data, first), first, name)
        if got is None:
            return None
        out.append(_Piece(name, t.name, sites, data, got, first.max_nodes or FIRST_NODES))
    return out


def _sizes(t: TierData, parts: list[_Piece]) -> np.ndarray:
    """The tier's bank size per site from its pieces (existing sites: open, as a start)."""
    size = np.where(t.existing, 0, -1).astype(np.int64)
    for p in parts:
        size[p.sites] = np.where(t.existing[p.sites], 0, p.got.size[p.sites])
    return size


def _all_sizes(problem: Problem, parts: list[_Piece]) -> dict[str, np.ndarray]:
    return {t.name: _sizes(t, [p for p in parts if p.tier == t.name])
            for t in problem.tiers if any(p.tier == t.name for p in parts)}


def is_open(choice: np.ndarray) -> np.ndarray:
    """(n,) bool open of a choice: bool open, or int bank size (-1 closed)."""
    return choice >= 0 if choice.dtype.kind in "iu" else choice.astype(bool)


def _charged(problem: Problem, before: Problem) -> Problem:
    """The relaxation: the saving charged to tier b where b is new, else to a.

    Tier a's sites are those of ``before``, the problem before its reductions. Charging b
    at a site where the reductions closed a only weakens the relaxation, and it makes b's
    pieces the same for every problem with the same tier b: a target's price without the
    count of a solves the run's own locker pieces (kept by :mod:`siting.core.banks`).
    """
    if problem.colocation is None or problem.colocation[2] <= 0:
        return replace(problem, colocation=None)
    a, b, saving = problem.colocation
    names = {t.name for t in problem.tiers}
    if a not in names or b not in names:
        return replace(problem, colocation=None)
    ta, tb = problem.tier(a), problem.tier(b)
    both = (ta.allowed | before.tier(a).allowed) & tb.allowed & ~(ta.existing & tb.existing)
    on_b = both & ~tb.existing
    on_a = both & tb.existing
    tiers = tuple(replace(t, cost=t.cost - saving * (on_b if t.name == b else on_a))
                  if t.name in (a, b) else t for t in problem.tiers)
    return replace(problem, tiers=tiers, colocation=None)


def _splits(t: TierData) -> bool:
    """Whether a capacitated tier is its components: no counts, every cover row a demand row."""
    assert t.cover is not None and t.demand_rows is not None
    rows = np.sort(np.asarray(t.demand_rows))
    return (t.min_count <= int(t.forced.sum()) and t.max_count is None
            and np.array_equal(rows, np.arange(t.cover.shape[0])))


def _follow(problem: Problem, choice: dict[str, np.ndarray], exact: SolverSettings,
            solve: Solve) -> dict[str, np.ndarray]:
    """Tier a solved again with the saving at the sites where b is open."""
    if problem.colocation is None or problem.colocation[2] <= 0:
        return choice
    a, b, saving = problem.colocation
    if a not in choice or b not in choice or problem.tier(a).capacitated:
        return choice
    ta, tb = problem.tier(a), problem.tier(b)
    b_open = is_open(choice[b]) | tb.existing
    earn = b_open & ta.allowed & ~(ta.existing & tb.existing)
    try:
        sol = solve(Problem(problem.n_sites, (replace(ta, cost=ta.cost - saving * earn),)),
                    exact)
    except SolverError:
        if solver.time_left(exact) > 0:
            raise
        log.warning("decompose: the time limit stopped tier %s following %s's banks; "
                    "its plan is the one solved alone", a, b)
        return choice
    return {**choice, a: sol.open[a]}


def _tier_alone(piece: Problem, exact: SolverSettings, solve: Solve,
                ) -> tuple[np.ndarray, Outcome] | None:
    """An uncapacitated tier solved alone: its plan and outcome.

    When the user's clock stopped the solve before it found a plan or a bound, the plan is
    the greedy one and the bound :func:`_count_floor` (valid, weak), and the outcome says
    ``feasible``; with time left, None (the whole model is solved instead).
    """
    (t,) = piece.tiers
    plan: np.ndarray | None = None
    outcome: Outcome | None = None
    try:
        sol = solve(piece, exact)
        plan, outcome = sol.open[t.name], sol.stages[0][1]
        if outcome.bound is not None:
            return plan, outcome
    except SolverError:
        pass
    if solver.time_left(exact) > 0:
        return None
    if plan is None:
        plan = (greedy.start(piece) or {}).get(t.name)
        if plan is None:
            return None
    objective = cost_of(piece, {t.name: plan})
    bound = _count_floor(t)
    log.warning("decompose: the time limit stopped tier %s before the solver %s; its plan "
                "is %s, its bound the cheapest sites its count needs (%s)", t.name,
                "proved a bound" if outcome is not None else "found a plan",
                "the solver's" if outcome is not None else "the greedy one", f"{bound:,.0f}")
    return plan, _clock_cut(outcome, objective, bound, greedy_plan=outcome is None)


def _count_floor(t: TierData) -> float:
    """A bound on an uncapacitated tier alone, its cover rows dropped (valid, weak).

    Its forced sites' cost, every new site that costs less than nothing, and the cheapest
    others its count needs.
    """
    fixed = (t.fixed if t.fixed is not None else np.zeros(len(t.cost), bool)) & ~t.existing
    free = np.sort(t.cost[np.isfinite(t.cost) & ~t.existing & ~fixed])
    need = max(0, t.min_count - int(t.forced.sum()))
    take = max(need, int((free < 0).sum()))
    return float(t.cost[fixed].sum() + free[:take].sum())


def _or_greedy(t: TierData, got: banks.Banks | None, settings: SolverSettings,
               name: str) -> banks.Banks | None:
    """``got``, or the greedy plan when the user's clock stopped its solve before a plan.

    Without a bound from the solver, the bound is :func:`siting.core.banks.floor`. None
    when some row cannot be served (``got`` None), when the solver proved the piece
    infeasible, or, with time left, when it found no plan (the whole model is solved
    instead).
    """
    if got is None or got.outcome.status == "optimal":
        return got
    late = solver.time_left(settings) <= 0
    if got.outcome.has_solution and (got.outcome.bound is not None or not late):
        if late:    # a root cut short: its bound may be weaker than the floor
            low = banks.floor(t)
            o = got.outcome
            if low is not None and o.bound is not None and low > float(o.bound) + 1e-6:
                obj = float(o.objective or 0.0)
                got = replace(got, outcome=replace(o, bound=low,
                                                   gap=solver.relative_gap(obj, low)))
        return got
    if not late or got.outcome.status in ("infeasible", "unbounded"):
        return None
    one = Problem(len(t.cost), (t,))
    if got.outcome.has_solution:
        size = got.size
    else:
        start = (greedy.start(one) or {}).get(t.name)
        if start is None:
            return None
        size = np.where(t.existing, -1, start).astype(np.int64)
    bound = banks.floor(t)
    if bound is None:
        return None
    objective = cost_of(one, {t.name: size >= 0}, {t.name: size})
    log.warning("decompose: the time limit stopped %s before the solver %s; its plan is %s, "
                "its bound the least cost of banks holding its demand (%s)", name,
                "proved a bound" if got.outcome.has_solution else "found a plan",
                "the solver's" if got.outcome.has_solution else "the greedy one",
                f"{bound:,.0f}")
    return replace(got, size=size, outcome=_clock_cut(got.outcome, objective, bound,
                                                      greedy_plan=not got.outcome.has_solution))


GREEDY = "greedy"     # the solver name of a piece whose plan is the greedy one


def _clock_cut(outcome: Outcome | None, objective: float, bound: float, *,
               greedy_plan: bool) -> Outcome:
    """The outcome of a piece the clock stopped: ``feasible``, the plan's cost, a floor."""
    if outcome is not None and outcome.bound is not None:
        bound = max(bound, float(outcome.bound))
    name = outcome.solver if outcome is not None else ""
    if greedy_plan:
        name = f"{GREEDY} ({name} stopped by the time limit)" if name else GREEDY
    return Outcome(name, "feasible", objective, bound, solver.relative_gap(objective, bound),
                   outcome.seconds if outcome is not None else 0.0,
                   outcome.nodes if outcome is not None else None)
