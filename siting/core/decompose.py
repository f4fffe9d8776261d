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
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from siting.core import banks, components
from siting.core.problem import (
    Outcome,
    Problem,
    Solution,
    SolverSettings,
    TierData,
    cost_of,
)

log = logging.getLogger(__name__)

TIER_NODES = 2_000      # branch-and-bound nodes per tier or piece solved alone

Solve = Callable[[Problem, SolverSettings], Solution]


@dataclass(frozen=True)
class Decomposed:
    """The pieces' summed bound, the plan they give, and what the solver proved of each."""

    bound: float
    cost: float
    choice: dict[str, np.ndarray]     # tier -> (n,) bool open, or int bank size (-1 closed)
    pieces: tuple[tuple[str, Outcome], ...]


def decompose(problem: Problem, settings: SolverSettings, solve: Solve) -> Decomposed | None:
    """Solve the relaxation's pieces and the plan they give (see the module docstring).

    ``solve`` solves a one-tier problem (the driver's own ``optimise``). Each tier and
    piece gets ``TIER_NODES`` nodes (fewer when ``settings.max_nodes`` says so) and a 0 %
    gap. None when the problem is not ``min_cost``, has a budget, is one uncapacitated
    tier (nothing to split), or a piece has no solution or a shortfall.
    """
    splits = len(problem.tiers) > 1 or any(t.capacitated for t in problem.tiers)
    if problem.objective != "min_cost" or problem.budget is not None or not splits:
        return None
    charged = _charged(problem)
    nodes = min(TIER_NODES, settings.max_nodes or TIER_NODES)
    exact = replace(settings, rel_gap=0.0, max_nodes=nodes)
    pieces: list[tuple[str, Outcome]] = []
    choice: dict[str, np.ndarray] = {}
    for t in charged.tiers:
        got = _solve_tier(t, problem.n_sites, exact, solve)
        if got is None:
            return None
        choice[t.name] = got[0]
        pieces += got[1]
    bound = float(sum(o.bound for _, o in pieces if o.bound is not None))
    if any(o.bound is None for _, o in pieces):
        return None
    choice = _follow(problem, choice, exact, solve)
    opened = {t.name: is_open(choice[t.name]) | t.existing for t in problem.tiers}
    size = {t.name: choice[t.name] for t in problem.tiers if t.sizes}
    cost = cost_of(problem, opened, size)
    log.info("decompose: %d pieces, bound %s, plan %s", len(pieces), f"{bound:,.0f}",
             f"{cost:,.0f}")
    return Decomposed(bound, cost, choice, tuple(pieces))


def is_open(choice: np.ndarray) -> np.ndarray:
    """(n,) bool open of a choice: bool open, or int bank size (-1 closed)."""
    return choice >= 0 if choice.dtype.kind in "iu" else choice.astype(bool)


def _charged(problem: Problem) -> Problem:
    """The relaxation: the saving charged to tier b where b is new, else to a."""
    if problem.colocation is None or problem.colocation[2] <= 0:
        return replace(problem, colocation=None)
    a, b, saving = problem.colocation
    names = {t.name for t in problem.tiers}
    if a not in names or b not in names:
        return replace(problem, colocation=None)
    ta, tb = problem.tier(a), problem.tier(b)
    both = ta.allowed & tb.allowed & ~(ta.existing & tb.existing)
    on_b = both & ~tb.existing
    on_a = both & tb.existing
    tiers = tuple(replace(t, cost=t.cost - saving * (on_b if t.name == b else on_a))
                  if t.name in (a, b) else t for t in problem.tiers)
    return replace(problem, tiers=tiers, colocation=None)


def _solve_tier(t: TierData, n: int, exact: SolverSettings, solve: Solve,
                ) -> tuple[np.ndarray, list[tuple[str, Outcome]]] | None:
    """One tier alone: its choice and the outcome of each of its pieces."""
    if not (t.capacitated and t.cover is not None):
        sol = solve(Problem(n, (t,)), exact)
        return sol.open[t.name], [(t.name, sol.stages[0][1])]
    if not _splits(t):
        return None
    if t.capacity_target > 0:       # the target couples the pieces: the tier is one piece
        whole = banks.solve_tier(t, exact)
        if whole is None or not whole.outcome.has_solution:
            return None
        return np.where(t.existing, 0, whole.size), [(t.name, whole.outcome)]
    rows_all = t.demand_cover()
    size = np.where(t.existing, 0, -1).astype(np.int64)    # existing: open (as a start)
    out: list[tuple[str, Outcome]] = []
    for k, (rows, sites) in enumerate(components.split(rows_all, t.allowed)):
        got = banks.solve_tier(components.piece(t, rows_all, rows, sites), exact)
        if got is None or not got.outcome.has_solution:
            return None
        size[sites] = np.where(t.existing[sites], 0, got.size[sites])
        out.append((f"{t.name} piece {k + 1}", got.outcome))
    return size, out


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
    sol = solve(Problem(problem.n_sites, (replace(ta, cost=ta.cost - saving * earn),)), exact)
    return {**choice, a: sol.open[a]}
