"""The model's site variables in arrays by site: created in bulk, started and read by index.

A tier's :math:`x` variables (one per allowed site, or one per bank size at a new site of a
capacitated tier) are kept in flat arrays with their site, bank size, capacity and cost, so
a start is given and a solution read by position, never by a variable's name.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pulp

from siting.core.problem import Problem, TierData

Pairs = list[tuple[pulp.LpVariable, float]]


def expr(pairs: Pairs) -> pulp.LpAffineExpression:
    """A linear expression from (variable, coefficient) pairs, in linear time.

    The one place that builds PuLP expressions: ``sum()`` and ``+`` are quadratic in PuLP 3,
    and PuLP 4 changes this constructor.
    """
    return pulp.LpAffineExpression(pairs)


@dataclass(frozen=True)
class TierVars:
    """A tier's x variables in flat arrays, grouped by allowed site.

    The group of ``sites[k]`` is ``x[start[k]:start[k + 1]]``: one variable, or one per
    bank size at a new site of a capacitated tier (then ``size`` holds its size's index).
    """

    sites: np.ndarray          # (k,) allowed sites
    pos: np.ndarray            # (n,) position of a site in ``sites``, -1
    start: np.ndarray          # (k + 1,) group bounds in the flat arrays
    x: list[pulp.LpVariable]   # (v,)
    site: np.ndarray           # (v,) the site of each variable
    size: np.ndarray           # (v,) its bank size's index, -1 without one
    capacity: np.ndarray       # (v,) capacity when it is 1
    cost: np.ndarray           # (v,) cost when it is 1 (0 at existing sites)
    paid: np.ndarray           # (v,) bool: its cost is part of C (a new site)

    def group(self, k: int) -> range:
        """Flat indices of the variables of ``sites[k]``."""
        return range(int(self.start[k]), int(self.start[k + 1]))

    def open(self, k: int) -> Pairs:
        """:math:`o_{tj}` of ``sites[k]`` as (variable, 1) pairs."""
        return [(self.x[q], 1.0) for q in self.group(k)]

    def open_at(self, ks: np.ndarray) -> Pairs:
        """The (variable, 1) pairs of several sites, in order."""
        return [pair for k in ks for pair in self.open(int(k))]

    def paid_cost(self, k: int) -> Pairs:
        """The (variable, cost) pairs of ``sites[k]`` that count in C."""
        return [(self.x[q], float(self.cost[q])) for q in self.group(k) if self.paid[q]]


def site_vars(lp: pulp.LpProblem, t: TierData, n: int, cost_terms: Pairs) -> TierVars:
    """X variables of a tier: one per allowed site, or one per bank size at new sites."""
    sites = np.flatnonzero(t.allowed)
    pos = np.full(n, -1, np.int64)
    pos[sites] = np.arange(len(sites))
    fixed = t.fixed if t.fixed is not None else np.zeros(n, dtype=bool)
    ex_cap = t.existing_capacity if t.existing_capacity is not None else np.zeros(n)
    biggest = max(s for s, _ in t.sizes) if t.sizes else 0.0
    xs: list[pulp.LpVariable] = []
    rows: list[tuple[int, int, float, float, bool]] = []   # site, size, capacity, cost, paid
    start = [0]
    for j in sites.tolist():
        if t.existing[j] or not t.sizes:
            var = lp.add_variable(f"x_{t.name}_{j}", 1 if (t.existing[j] or fixed[j]) else 0,
                                  1, pulp.LpInteger)
            new = not t.existing[j]
            xs.append(var)
            rows.append((j, -1, biggest if new else float(ex_cap[j]),
                         float(t.cost[j]) if new else 0.0, new))
        else:
            group = _sized_vars(lp, t, j, bool(fixed[j]))
            xs += group
            rows += [(j, k, float(t.sizes[k][0]), float(t.cost[j]) + float(t.sizes[k][1]),
                      True) for k in range(len(group))]
        start.append(len(xs))
    cost_terms += [(var, r[3]) for var, r in zip(xs, rows, strict=True) if r[4]]
    cols = list(zip(*rows, strict=True)) if rows else [()] * 5
    return TierVars(sites, pos, np.array(start, np.int64), xs,
                    np.array(cols[0], np.int64), np.array(cols[1], np.int64),
                    np.array(cols[2], float), np.array(cols[3], float),
                    np.array(cols[4], bool))


def _sized_vars(lp: pulp.LpProblem, t: TierData, j: int, fixed: bool,
                ) -> list[pulp.LpVariable]:
    """One variable per bank size at a new site; at most one (exactly one if forced)."""
    vs = [lp.add_variable(f"x_{t.name}_{j}_s{k}", 0, 1, pulp.LpInteger)
          for k in range(len(t.sizes))]
    if len(vs) > 1:
        lp += expr([(var, 1.0) for var in vs]) <= 1, f"size_{t.name}_{j}"
    if fixed:
        lp += expr([(var, 1.0) for var in vs]) >= 1, f"fixed_{t.name}_{j}"
    return vs


def start_values(tiers: dict[str, TierVars], warm: dict[str, np.ndarray]) -> Pairs:
    """Variable values of a choice: tier -> (n,) bool open, or int bank size (-1 closed)."""
    out: Pairs = []
    for name, v in tiers.items():
        if name not in warm or not v.x:
            continue
        choice = np.asarray(warm[name])
        pick = (choice[v.site].astype(np.int64) if choice.dtype.kind in "iu"
                else np.where(choice[v.site], 0, -1))
        k = v.pos[v.site]
        single = (v.start[k + 1] - v.start[k]) == 1
        slot = np.arange(len(v.x)) - v.start[k]
        on = (pick >= 0) & (single | (slot == pick))
        out += list(zip(v.x, on.astype(float).tolist(), strict=True))
    return out


def read(problem: Problem, tiers: dict[str, TierVars],
         ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Per tier, from the solved variables: open sites, bank size (-1) and capacity."""
    chosen, size, capacity = {}, {}, {}
    for t in problem.tiers:
        v = tiers[t.name]
        on = np.array([float(x.varValue or 0.0) > 0.5 for x in v.x], dtype=bool)
        is_open = np.zeros(problem.n_sites, dtype=bool)
        is_open[v.site[on]] = True
        size[t.name] = np.full(problem.n_sites, -1, dtype=np.int64)
        size[t.name][v.site[on]] = v.size[on]
        capacity[t.name] = np.zeros(problem.n_sites)
        capacity[t.name][v.site[on]] = v.capacity[on]
        chosen[t.name] = is_open | t.existing
    return chosen, size, capacity
