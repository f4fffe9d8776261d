r"""The siting model as one PuLP MIP over all tiers, built from sparse coverage data.

The model takes arrays and sparse matrices only — no geometry — so it can be checked on
hand-made instances and on OR-Library benchmarks. Its site variables are kept in arrays by
site (:mod:`siting.core.variables`): a start is given and a solution read by index.

Formulation
-----------
Sites :math:`j = 1..n` are shared by all tiers :math:`t`. For each tier:

- :math:`c_{tj}` the cost of a new site (``inf``: not allowed there); :math:`E_t` the
  existing sites (fixed open, no cost); for a capacitated tier, bank sizes
  :math:`s` with capacity :math:`C_s` and cost :math:`c_s` (a new bank costs
  :math:`c_{tj} + c_s`), and the capacity :math:`C^0_j` of each existing site;
- :math:`A_t` a 0/1 *cover* matrix: each of its rows (a demand unit, or a township's set of
  sites) must hold at least one open site; for a capacitated tier the first rows carry a
  demand :math:`d_i` (compartments);
- :math:`B_t` a 0/1 *reach* matrix with weights :math:`p_{ti}` (and distances
  :math:`\delta_{ij}` for the p-median);
- :math:`N_t \le \sum_j o_{tj} \le M_t` count bounds, existing sites included.

Variables: :math:`x_{tj} \in \{0,1\}` where allowed or existing (:math:`x_{tj} = 1` for
:math:`j \in E_t`), or one :math:`x_{tjs}` per bank size at a new site of a capacitated
tier; :math:`o_{tj} = \sum_s x_{tjs}` "open"; :math:`z_{ij} \ge 0` the demand of row
:math:`i` assigned to site :math:`j`, only on the pairs of :math:`A_t` (within reach);
:math:`y_{ti} \in [0,1]` row :math:`i` of :math:`B_t` reached; :math:`w_j \in [0,1]` site
:math:`j` hosts both co-located tiers :math:`a, b`.

.. math::

    \sum_j A_{tij}\, o_{tj} &\ge 1 &\quad& \text{every coverable row } i \text{ of } A_t \\
    \sum_s x_{tjs} &\le 1 && \text{one bank size per site} \\
    \sum_j z_{ij} \ge d_i, \quad \sum_i z_{ij} &\le C^0_j + \sum_s C_s x_{tjs}
        && \text{capacity} \\
    z_{ij} &\le d_i\, o_{tj} && \text{(strong linking: tightens the LP bound)} \\
    \sum_{j,s} \lceil \min(C_s, d_i)/\delta \rceil x_{tjs} &\ge \lceil d_i/\delta \rceil
        && \text{(rounding, each bank capacity } \delta < d_i \text{)} \\
    y_{ti} &\le \sum_j B_{tij}\, o_{tj} \\
    N_t \le \sum_j o_{tj} &\le M_t \\
    \sum_{j \in E_t} C^0_j + \sum_{j \notin E_t} \sum_s C_s x_{tjs} &\ge K_t
        && \text{compartment target (capacitated tiers with one)} \\
    w_j \le o_{aj},\; w_j &\le o_{bj}

Objectives (the stages that follow are :mod:`siting.core.optimise`'s):

- ``min_cost``: minimise
  :math:`C = \sum_t \sum_{j \notin E_t} c_{tj} o_{tj} - \delta \sum_j w_j` (with bank sizes,
  :math:`\sum_s c_s x_{tjs}`);
- ``max_coverage``: the cover rows become reach rows too (weight 1, or the tier's weights);
  maximise the reached weight :math:`\sum_t \sum_i p_{ti} y_{ti}` subject to
  :math:`C \le` budget and the counts;
- ``p_median``: for the tier with distances, :math:`\sum_j o_j = p`, minimise
  :math:`\sum_i p_i \delta_{i,\text{nearest open}}` in Elloumi's (2010) form: for row
  :math:`i` with distinct distances :math:`D_i^0 < D_i^1 < \dots`, continuous
  :math:`u_i^k \ge 0` ("farther than :math:`D_i^k`"),
  :math:`u_i^k \ge u_i^{k-1} - \sum_{j:\delta_{ij} = D_i^k} o_j` (:math:`u_i^{-1} = 1`),
  objective :math:`\sum_i p_i (D_i^0 + \sum_k (D_i^{k+1} - D_i^k) u_i^k)`. Levels whose
  sites number at least :math:`n - p + 1` are cut (one of them is open); with a sparse
  distance matrix the last level must be reached. Its LP bound equals the classical
  formulation's with :math:`O(\text{pairs})` rather than :math:`O(n^2)` constraints.

:math:`y`, :math:`w`, :math:`z`, :math:`u` need not be integer. Rows of :math:`A_t` that no
allowed or existing site reaches can never be met: they are left out (and returned as
``uncoverable`` by the driver). Rows already reached by an existing site are left out of
the cover constraints.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pulp
import scipy.sparse as sp

from siting.core.problem import Problem, TierData, capacity_short, check
from siting.core.variables import Pairs, TierVars, expr, site_vars

log = logging.getLogger(__name__)

ReachRow = tuple[pulp.LpVariable, float, list[pulp.LpVariable]]   # (y, weight, its xs)


@dataclass
class Built:
    """The model and the handles the driver needs to solve it in stages and read it."""

    lp: pulp.LpProblem
    vars: dict[str, TierVars] = field(default_factory=dict)
    cost_terms: Pairs = field(default_factory=list)
    reach_terms: Pairs = field(default_factory=list)
    reach_rows: list[ReachRow] = field(default_factory=list)
    short: dict[str, dict[int, pulp.LpVariable]] = field(default_factory=dict)
    already_reached: float = 0.0
    median: pulp.LpAffineExpression | None = None
    median_constant: float = 0.0
    coloc: list[tuple[pulp.LpVariable, int]] = field(default_factory=list)   # (w, site)

    @property
    def cost(self) -> pulp.LpAffineExpression:
        """C as an expression."""
        return expr(self.cost_terms)

    @property
    def reach(self) -> pulp.LpAffineExpression | None:
        """The reached weight as an expression (None without reach rows)."""
        return expr(self.reach_terms) if self.reach_terms else None


def build(problem: Problem) -> Built:
    """Formulate the first-stage model (see the module docstring)."""
    check(problem)
    sense = pulp.LpMaximize if problem.objective == "max_coverage" else pulp.LpMinimize
    built = Built(pulp.LpProblem("siting", sense))
    for t in problem.tiers:
        _add_tier(built, problem, t)
    if problem.colocation is not None:
        built.cost_terms += _add_colocation(built.lp, problem, built.vars, built.coloc)
    _set_objective(built, problem)
    log.info("model: %s variables, %s constraints", f"{built.lp.numVariables():,}",
             f"{built.lp.numConstraints():,}")
    return built


def _add_tier(built: Built, problem: Problem, t: TierData) -> None:
    lp, soft = built.lp, problem.objective == "max_coverage"
    v = site_vars(lp, t, problem.n_sites, built.cost_terms)
    built.vars[t.name] = v
    if t.cover is not None:
        cover = sp.csr_array(t.cover)
        ys: dict[int, pulp.LpVariable] = {}
        if soft:
            ys = _add_reach(built, t.name, "c", cover, np.ones(cover.shape[0]), v, t.existing)
        else:
            _add_cover(lp, t, cover, v)
        if t.capacitated:
            built.short[t.name] = _add_capacity(lp, t, cover, v, ys if soft else None,
                                                built.cost_terms)
    if t.reach is not None and problem.objective == "p_median" and t.dist is not None:
        built.median, built.median_constant = _add_median(lp, t, v)
    elif t.reach is not None:
        _add_reach(built, t.name, "r", sp.csr_array(t.reach), t.weights(), v, t.existing)
    _add_counts(lp, t, v)
    if t.capacity_target > 0:
        lp += expr([(x, float(c)) for x, c, paid in zip(v.x, v.capacity, v.paid, strict=True)
                    if paid]) >= t.capacity_target, f"capacity_target_{t.name}"


def _set_objective(built: Built, problem: Problem) -> None:
    lp = built.lp
    if problem.objective == "p_median":
        if built.median is None:
            raise ValueError("p_median needs a tier with reach rows and distances")
        lp.setObjective(built.median)
    elif problem.objective == "max_coverage":
        if problem.budget is not None:
            lp += built.cost <= problem.budget, "budget"
        reach = built.reach
        lp.setObjective(reach if reach is not None else expr([]))
    else:
        lp.setObjective(built.cost)


def without_forced(built: Built, forced: float) -> None:
    """Minimise C − forced: the solver's relative gap becomes the gap on the avoidable cost.

    The constant enters as a column fixed at 1 (CBC's MPS file and HiGHS both read it), so
    HiGHS's ``mip_rel_gap`` is measured against the cost that decisions can change.
    """
    if forced == 0.0:
        return
    k = built.lp.add_variable("forced_cost", 1, 1)
    built.lp.setObjective(expr([*built.cost_terms, (k, -float(forced))]))


def _row_sites(m: sp.csr_array, i: int, v: TierVars) -> np.ndarray:
    """Positions (in ``v.sites``) of the allowed sites on row ``i``."""
    p = v.pos[m.indices[m.indptr[i]:m.indptr[i + 1]]]
    return p[p >= 0]


def _add_cover(lp: pulp.LpProblem, t: TierData, cover: sp.csr_array, v: TierVars) -> None:
    is_existing = t.existing[v.sites]
    for i in range(cover.shape[0]):
        p = _row_sites(cover, i, v)
        if len(p) and not is_existing[p].any():
            lp += expr(v.open_at(p)) >= 1, f"cover_{t.name}_{i}"


def _add_capacity(lp: pulp.LpProblem, t: TierData, cover: sp.csr_array, v: TierVars,
                  ys: dict[int, pulp.LpVariable] | None, cost_terms: Pairs,
                  ) -> dict[int, pulp.LpVariable]:
    """Assignment z on the pairs within reach: demand met, capacity respected.

    With ``ys`` (max_coverage) a row's demand is due only as far as the row is reached. A
    row that cannot be served in full by every bank within reach gets a shortfall variable
    priced above any bank, so the rest is still solved and the shortfall reported.
    """
    assert t.demand is not None and t.demand_rows is not None
    load: dict[int, Pairs] = {}
    short_rows = set(capacity_short(t).tolist())
    penalty = 2.0 * (float(np.nanmax(np.where(np.isfinite(t.cost), t.cost, 0.0)))
                     + max(c for _, c in t.sizes) + 1.0)
    shorts: dict[int, pulp.LpVariable] = {}
    for i, (row, d) in enumerate(zip(t.demand_rows, t.demand, strict=True)):
        p = _row_sites(cover, int(row), v)
        if d <= 0 or len(p) == 0:
            continue
        zs = _assignment(lp, t, v, i, float(d), p, load)
        y = ys.get(int(row)) if ys is not None else None
        if ys is not None and y is None:
            continue      # reached by an existing site, or weightless: nothing is due
        extra: Pairs = []
        if i in short_rows:
            s = lp.add_variable(f"short_{t.name}_{i}", 0)
            shorts[i] = s
            extra = [(s, 1.0)]
            cost_terms.append((s, penalty))
        if y is not None:
            lp += expr([(z, 1.0) for z in zs] + [(y, -float(d))] + extra) >= 0, \
                f"demand_{t.name}_{i}"
        else:
            lp += expr([(z, 1.0) for z in zs] + extra) >= float(d), f"demand_{t.name}_{i}"
            if not extra:
                _add_rounding(lp, t, v, i, float(d), p)
    for k, zs_k in load.items():
        lp += expr(zs_k + [(v.x[q], -float(v.capacity[q])) for q in v.group(k)]) <= 0, \
            f"capacity_{t.name}_{v.sites[k]}"
    return shorts


def _add_rounding(lp: pulp.LpProblem, t: TierData, v: TierVars, i: int, d: float,
                  p: np.ndarray) -> None:
    r"""Row ``i``'s demand in whole banks, rounded (as in :mod:`siting.core.banks`).

    Each open bank :math:`q` within reach gives row :math:`i` at most
    :math:`a_q = \min(C_q, d_i)`, so :math:`\sum_q a_q x_q \ge d_i`; for each bank
    capacity :math:`\delta < d_i`, :math:`\sum_q \lceil a_q/\delta \rceil x_q \ge
    \lceil d_i/\delta \rceil` holds for binary :math:`x` (a Chvátal–Gomory rounding).
    """
    qs = [q for k in p.tolist() for q in v.group(int(k))]
    reach = np.minimum(v.capacity[qs], d)
    for delta in sorted({min(c, d) for c, _ in t.sizes if min(c, d) < d - 1e-9}):
        coef = np.ceil(reach / delta - 1e-9)
        lp += expr([(v.x[q], float(a)) for q, a in zip(qs, coef, strict=True) if a > 0]) \
            >= float(np.ceil(d / delta - 1e-9)), f"round_{t.name}_{i}_{int(delta)}"


def _assignment(lp: pulp.LpProblem, t: TierData, v: TierVars, i: int, d: float,
                p: np.ndarray, load: dict[int, Pairs]) -> list[pulp.LpVariable]:
    """Row ``i``'s z at its sites, each linked to its site being open (strong linking)."""
    zs = [lp.add_variable(f"z_{t.name}_{i}_{v.sites[k]}", 0) for k in p]
    for k, z in zip(p, zs, strict=True):
        load.setdefault(int(k), []).append((z, 1.0))
        if not t.existing[v.sites[k]]:   # nothing goes to a closed site
            lp += expr([(z, 1.0)] + [(x, -d) for x, _ in v.open(int(k))]) <= 0, \
                f"link_{t.name}_{i}_{v.sites[k]}"
    return zs


def _add_reach(built: Built, name: str, tag: str, m: sp.csr_array, weight: np.ndarray,
               v: TierVars, existing: np.ndarray) -> dict[int, pulp.LpVariable]:
    """Y variables of weighted rows (the weight existing sites reach already is counted)."""
    is_existing = existing[v.sites]
    ys: dict[int, pulp.LpVariable] = {}
    for i in range(m.shape[0]):
        p = _row_sites(m, i, v)
        if len(p) == 0 or weight[i] <= 0:
            continue
        if is_existing[p].any():
            built.already_reached += float(weight[i])
            continue
        y = built.lp.add_variable(f"y_{name}_{tag}{i}", 0, 1)
        xs = [var for var, _ in v.open_at(p)]
        built.lp += expr([(y, 1.0)] + [(var, -1.0) for var in xs]) <= 0, \
            f"reach_{name}_{tag}{i}"
        built.reach_terms.append((y, float(weight[i])))
        built.reach_rows.append((y, float(weight[i]), xs))
        ys[i] = y
    return ys


def _add_median(lp: pulp.LpProblem, t: TierData, v: TierVars,
                ) -> tuple[pulp.LpAffineExpression, float]:
    """Elloumi's p-median objective and chain constraints (see the module docstring)."""
    assert t.reach is not None and t.dist is not None
    dist = sp.csr_array(t.dist)
    weight = t.weights()
    terms: Pairs = []
    constant = 0.0
    for i in range(dist.shape[0]):
        lo, hi = dist.indptr[i], dist.indptr[i + 1]
        p = v.pos[dist.indices[lo:hi]]
        d = dist.data[lo:hi][p >= 0]
        p = p[p >= 0]
        if len(p) == 0 or weight[i] <= 0:
            continue
        order = np.argsort(d, kind="stable")
        constant += weight[i] * float(d[order[0]])
        terms += _median_chain(lp, t, v, i, d[order], p[order], float(weight[i]))
    return expr(terms), constant


def _median_chain(lp: pulp.LpProblem, t: TierData, v: TierVars, i: int, d: np.ndarray,
                  p: np.ndarray, weight: float) -> Pairs:
    """Row ``i``'s levels (sites sorted by distance): its u variables and objective terms."""
    levels, start = np.unique(d, return_index=True)
    ends = np.r_[start[1:], len(d)]
    full = len(p) == len(v.sites)
    terms: Pairs = []
    prev = None
    for k in range(len(levels)):
        members = v.open_at(p[start[k]:ends[k]])
        last = k == len(levels) - 1 or (full and ends[k] >= len(v.sites) - t.min_count + 1)
        if last:   # beyond this level nothing is left: the row is served by now
            lhs = ([(prev, 1.0)] if prev is not None else []) + \
                [(var, -1.0) for var, _ in members]
            lp += expr(lhs) <= (0 if prev is not None else -1), f"med_{t.name}_{i}_{k}"
            break
        u = lp.add_variable(f"u_{t.name}_{i}_{k}", 0)
        rhs = 0.0 if prev is not None else 1.0
        lp += expr([(u, 1.0)] + ([(prev, -1.0)] if prev is not None else []) +
                   [(var, 1.0) for var, _ in members]) >= rhs, f"med_{t.name}_{i}_{k}"
        terms.append((u, weight * float(levels[k + 1] - levels[k])))
        prev = u
    return terms


def _add_counts(lp: pulp.LpProblem, t: TierData, v: TierVars) -> None:
    total = expr([(x, 1.0) for x in v.x])
    if t.min_count > 0:
        lp += total >= t.min_count, f"count_min_{t.name}"
    if t.max_count is not None:
        lp += total <= t.max_count, f"count_max_{t.name}"


def _add_colocation(lp: pulp.LpProblem, problem: Problem, tv: dict[str, TierVars],
                    coloc: list[tuple[pulp.LpVariable, int]]) -> Pairs:
    assert problem.colocation is not None
    a, b, saving = problem.colocation
    if saving <= 0 or a not in tv or b not in tv:
        return []
    va, vb = tv[a], tv[b]
    both, ia, ib = np.intersect1d(va.sites, vb.sites, assume_unique=True, return_indices=True)
    ea, eb = problem.tier(a).existing, problem.tier(b).existing
    terms = []
    for j, ka, kb in zip(both, ia, ib, strict=True):
        if ea[j] and eb[j]:
            continue  # nothing new is opened there, so nothing is saved
        w = lp.add_variable(f"w_{j}", 0, 1)
        lp += expr([(w, 1.0)] + [(x, -1.0) for x, _ in va.open(ka)]) <= 0, f"coloc_{a}_{j}"
        lp += expr([(w, 1.0)] + [(x, -1.0) for x, _ in vb.open(kb)]) <= 0, f"coloc_{b}_{j}"
        terms.append((w, -saving))
        coloc.append((w, int(j)))
    return terms


def add_component_bounds(built: Built, cuts: dict[str, list[tuple[np.ndarray, float]]],
                         ) -> None:
    """Σ bank cost at a component's sites ≥ its proven optimum alone (:mod:`.components`)."""
    for name, found in cuts.items():
        v = built.vars[name]
        for k, (sites, bound) in enumerate(found):
            pairs = [pair for j in sites if v.pos[j] >= 0 for pair in v.paid_cost(v.pos[j])]
            if pairs:
                built.lp += expr(pairs) >= bound * (1 - 1e-9), f"piece_{name}_{k}"


def shortfall(built: Built) -> dict[str, dict[int, float]]:
    """Per capacitated tier: the rows left partly unserved, and by how much."""
    out = {}
    for name, rows in built.short.items():
        values = {i: float(s.varValue or 0.0) for i, s in rows.items()}
        out[name] = {i: x for i, x in values.items() if x > 1e-6}
    return out
