"""A build order over the plan's years: which new site to build in which year, within budgets.

Geometry-free, as the rest of the core: items (the plan's new sites, each with its total
cost), demand units with a weight, a sparse units × items matrix saying which items serve
which unit, and a budget per year. One multi-period MIP, in plain maths:

    max   sum_t delta_t * ( sum_g W_g y_gt / W  +  s * sum_j v_j b_jt / V )
    s.t.  b_jt >= b_j,t-1                                  built stays built
          sum_j c_j b_jt <= sum_{tau <= t} B_tau           carry-over, or
          sum_j c_j (b_jt - b_j,t-1) <= B_t                each year on its own
          y_gt <= sum_{j in S_g} b_jt,  0 <= y_gt <= 1,  b_jt in {0, 1}
          b_jT = 1 for every j                             ("complete")

where b_jt = 1 when item j is built by the end of year t (cumulative), units with
the same set S_g of serving items are merged into one group g of weight W_g (of the
total W; a group served by one item only needs no y: its weight goes on that item's b),
delta_t = (1 + r)^-t discounts later years, and the second term, weighing s = 1/10 of
coverage, reaches the other targets early: v_j is what item j adds to them (a count
target's sites, a capacity target's compartments, as shares; V their sum). Summing
coverage over the years rewards reaching it early: a unit served from the first year
counts once per year.

A greedy order (most newly served weight per cost, lazily re-evaluated, year by year) is
the MIP's start and stays the answer when the solver finds nothing better; the solver's
bound is read from it (:func:`siting.core.solve.run`), never assumed.
"""

from __future__ import annotations

import heapq
import logging
from dataclasses import dataclass, replace

import numpy as np
import pulp
import scipy.sparse as sp

from siting.core._errors import InfeasibleError, SolverError
from siting.core.problem import Outcome, SolverSettings
from siting.core.solve import relative_gap, run
from siting.core.variables import Pairs, expr

log = logging.getLogger(__name__)

SECONDARY = 0.1
"""Weight of the other targets (counts, capacity) against coverage, both as shares."""
SLACK = 1e-9
"""Relative slack on a budget, so that budgets adding up to the total cost fit it exactly."""


@dataclass(frozen=True)
class Phasing:
    """A build order: the year each item is built, and what the solver proved about it."""

    year: np.ndarray           # (n,) int: index of the year built, -1 not built in any
    spend: np.ndarray          # (T,) spent in each year
    covered: np.ndarray        # (T,) share of the weight served by the end of each year
    outcome: Outcome           # the solver's status, objective, bound and gap
    greedy_objective: float    # the greedy start's objective (the heuristic's value)


def phase(cost: np.ndarray, serve: sp.sparray, weight: np.ndarray, budget: np.ndarray, *,
          value: np.ndarray | None = None, carry_over: bool = True, complete: bool = False,
          discount: float = 0.0, settings: SolverSettings | None = None) -> Phasing:
    """Order ``n`` items over ``T`` years within the yearly budgets, coverage first.

    Parameters
    ----------
    cost
        (n,) what building each item costs (>= 0).
    serve
        (units, n) 0/1: unit i is served once any item j with a nonzero entry is built.
    weight
        (units,) what serving each unit is worth (e.g. its population).
    budget
        (T,) the money of each year.
    value
        (n,) what each item adds to the other targets (counts, capacity), weighed
        :data:`SECONDARY` of coverage; None: one each (the most sites early).
    carry_over
        Whether a year's unspent money may be spent in later years.
    complete
        Every item must be built by the last year (needs carry-over and enough money).
    discount
        Yearly discount rate r of coverage (0: every year counts the same).
    settings
        The solver's settings (time limit, gap, node limit).

    Raises
    ------
    InfeasibleError
        When an item costs more than any year can spend, or ``complete`` cannot hold.
    """
    cost, weight = np.asarray(cost, float), np.asarray(weight, float)
    budget = np.asarray(budget, float)
    settings = settings or SolverSettings()
    _refuse(cost, budget, carry_over=carry_over, complete=complete)
    groups = _groups(sp.csr_array(serve), weight, _later(value, len(cost)))
    delta = (1.0 + discount) ** -np.arange(len(budget))
    start = greedy(cost, groups, budget, carry_over=carry_over, complete=complete)
    lp, b = _model(cost, groups, budget, delta, carry_over=carry_over, complete=complete)
    warm = [(b[j][t], float(0 <= start[j] <= t)) for j in range(len(cost))
            for t in range(len(budget))]
    greedy_value = objective_of(start, groups, delta)
    if not b:
        out = Outcome("none", "optimal", 0.0, 0.0, 0.0, 0.0)
        year = start
    else:
        out = run(lp, settings, warm=warm)
        if not out.has_solution:
            raise SolverError(f"phasing: the solver found no build order ({out.status})")
        year = _read(b, len(budget))
        if out.objective is not None and greedy_value > out.objective:   # keep the better
            year = start
            out = replace(out, objective=greedy_value, gap=None if out.bound is None
                          else relative_gap(greedy_value, out.bound))
    return Phasing(year=year, spend=spend_of(year, cost, len(budget)),
                   covered=covered_by(year, groups, len(budget)), outcome=out,
                   greedy_objective=greedy_value)


def _refuse(cost: np.ndarray, budget: np.ndarray, *, carry_over: bool, complete: bool) -> None:
    """Refuse what no order can do: an item dearer than a year can ever spend."""
    most = budget.sum() if carry_over else (budget.max() if len(budget) else 0.0)
    too_dear = np.flatnonzero(cost > most * (1 + SLACK) + SLACK)
    if len(too_dear):
        raise InfeasibleError(f"phasing: items {too_dear.tolist()} cost more than any year can "
                              f"spend ({most:,.2f})")
    if complete and (not carry_over or cost.sum() > budget.sum() * (1 + SLACK) + SLACK):
        raise InfeasibleError("phasing: every item built by the last year needs carry-over and "
                              f"budgets adding up to the total cost {cost.sum():,.2f}")


@dataclass(frozen=True)
class Groups:
    """Units merged by the set of items serving them: group g is served by ``items[g]``."""

    weight: np.ndarray         # (G,) summed weight of each group's units, over the total
    items: list[np.ndarray]    # (G,) the items serving the group
    later: np.ndarray          # (n,) each item's weight in the other targets' term


def _later(value: np.ndarray | None, n: int) -> np.ndarray:
    """(n,) the second term's coefficient of each item: SECONDARY × its share of the value."""
    v = np.ones(n) if value is None else np.maximum(np.asarray(value, float), 0.0)
    return SECONDARY * v / v.sum() if v.sum() > 0 else np.zeros(n)


def _groups(serve: sp.csr_array, weight: np.ndarray, later: np.ndarray) -> Groups:
    """Units with the same serving items merged; units no item serves dropped."""
    total = float(weight.sum())
    by_set: dict[tuple[int, ...], float] = {}
    for i in range(serve.shape[0]):
        items = tuple(sorted(set(serve.indices[serve.indptr[i]:serve.indptr[i + 1]].tolist())))
        if items and weight[i] > 0:
            by_set[items] = by_set.get(items, 0.0) + float(weight[i])
    keys = sorted(by_set)
    scale = total if total > 0 else 1.0
    return Groups(np.array([by_set[k] / scale for k in keys]),
                  [np.array(k, np.int64) for k in keys], later)


def _model(cost: np.ndarray, groups: Groups, budget: np.ndarray, delta: np.ndarray, *,
           carry_over: bool, complete: bool,
           ) -> tuple[pulp.LpProblem, list[list[pulp.LpVariable]]]:
    """The multi-period MIP of the module's docstring; b[j][t] by item and year."""
    n, years = len(cost), len(budget)
    lp = pulp.LpProblem("phasing", pulp.LpMaximize)
    b = [[lp.add_variable(f"b_{j}_{t}", 1 if complete and t == years - 1 else 0, 1,
                          pulp.LpInteger) for t in range(years)] for j in range(n)]
    # one coefficient per variable: PuLP keeps the last of repeated (variable, coefficient)
    coef = np.outer(groups.later, delta)
    terms: Pairs = []
    for g, items in enumerate(groups.items):
        w = float(groups.weight[g])
        if len(items) == 1:
            coef[int(items[0])] += w * delta
            continue
        for t in range(years):
            y = lp.add_variable(f"y_{g}_{t}", 0, 1)
            terms.append((y, w * delta[t]))
            lp += expr([(y, 1.0)] + [(b[int(j)][t], -1.0) for j in items]) <= 0, f"serve_{g}_{t}"
    lp += expr(terms + [(b[j][t], float(coef[j, t])) for j in range(n) for t in range(years)])
    for j in range(n):
        for t in range(1, years):
            lp += expr([(b[j][t], 1.0), (b[j][t - 1], -1.0)]) >= 0, f"keep_{j}_{t}"
    _budgets(lp, b, cost, budget, carry_over=carry_over)
    return lp, b


def _budgets(lp: pulp.LpProblem, b: list[list[pulp.LpVariable]], cost: np.ndarray,
             budget: np.ndarray, *, carry_over: bool) -> None:
    """One budget row per year: cumulative spend within cumulative money, or each year alone."""
    for t in range(len(budget)):
        pairs = [(b[j][t], float(cost[j])) for j in range(len(cost)) if cost[j]]
        if carry_over:
            money = float(budget[:t + 1].sum())
        else:
            money = float(budget[t])
            if t:
                pairs += [(b[j][t - 1], -float(cost[j])) for j in range(len(cost)) if cost[j]]
        if pairs:
            lp += expr(pairs) <= money * (1 + SLACK) + SLACK, f"budget_{t}"


def _read(b: list[list[pulp.LpVariable]], years: int) -> np.ndarray:
    """The year index each item is first built (-1 never), from the solved variables."""
    built = np.array([[float(v.varValue or 0.0) > 0.5 for v in row] for row in b], bool)
    built = np.maximum.accumulate(built.reshape(len(b), years), axis=1)
    return np.where(built.any(axis=1), built.argmax(axis=1), -1).astype(np.int64)


def greedy(cost: np.ndarray, groups: Groups, budget: np.ndarray, *, carry_over: bool = True,
           complete: bool = False) -> np.ndarray:
    """Year by year, the affordable item serving the most new weight per cost (lazy greedy).

    Returns (n,) the year index of each item, -1 when not built. With ``complete`` the last
    year builds what is left (the money suffices: :func:`_refuse` checked it).
    """
    n, years = len(cost), len(budget)
    year = np.full(n, -1, np.int64)
    of_item: list[list[int]] = [[] for _ in range(n)]
    for g, items in enumerate(groups.items):
        for j in items.tolist():
            of_item[j].append(g)
    served = np.zeros(len(groups.items), bool)
    left = 0.0
    for t in range(years):
        left = (left if carry_over else 0.0) + float(budget[t])
        heap = [(-_ratio(j, of_item, groups, served, cost), j) for j in range(n) if year[j] < 0]
        heapq.heapify(heap)
        while heap:
            _, j = heapq.heappop(heap)
            if cost[j] > left * (1 + SLACK) + SLACK:
                continue
            now = -_ratio(j, of_item, groups, served, cost)
            if heap and now > heap[0][0] + 1e-15:   # stale: push back with its value now
                heapq.heappush(heap, (now, j))
                continue
            year[j], left = t, left - float(cost[j])
            served[of_item[j]] = True
    if complete:
        year[year < 0] = years - 1
    return year


def _ratio(j: int, of_item: list[list[int]], groups: Groups, served: np.ndarray,
           cost: np.ndarray) -> float:
    """Newly served weight per cost of item j (plus the sites-built term), cost 0 first."""
    gain = float(groups.weight[[g for g in of_item[j] if not served[g]]].sum())
    return (gain + float(groups.later[j]) + 1e-12) / max(float(cost[j]), 1e-9)


def objective_of(year: np.ndarray, groups: Groups, delta: np.ndarray) -> float:
    """The model's objective of a build order."""
    years = len(delta)
    covered = covered_by(year, groups, years)
    later = np.array([groups.later[(year >= 0) & (year <= t)].sum() for t in range(years)])
    return float((delta * (covered + later)).sum())


def covered_by(year: np.ndarray, groups: Groups, years: int) -> np.ndarray:
    """(T,) share of the weight served by the end of each year."""
    first = np.array([_first_year(year[items]) for items in groups.items], np.int64)
    return np.array([float(groups.weight[(first >= 0) & (first <= t)].sum())
                     for t in range(years)])


def _first_year(years_of: np.ndarray) -> int:
    built = years_of[years_of >= 0]
    return int(built.min()) if len(built) else -1


def spend_of(year: np.ndarray, cost: np.ndarray, years: int) -> np.ndarray:
    """(T,) what each year spends."""
    return np.array([float(cost[year == t].sum()) for t in range(years)])
