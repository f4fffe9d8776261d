"""The plan's build order over its years (``[phasing]``): the core's model, fed by the run.

The items are the plan's new sites. A site hosting several new tiers is one item: its tiers
are built together, at the site's total cost (:mod:`siting.run.costs`: the tiers' site
costs, a locker bank's size, less the co-location saving), so a saving is never counted in
a year before both tiers stand. Each tier's demand units (and its one-in-each polygons)
not already served by an existing site are the units to serve; a unit weighs its share of
its target: of the population reached where the tier maximises reach (the population the
allocation, :mod:`siting.run.allocation`, gives the sites), else one of the units to serve.
A unit is served once any built site of the tier reaches it (the model's coverage matrix).

The core orders the items (:func:`siting.core.phasing.phase`); then the in-run checker
recomputes every target by the end of each year, from the sites standing then, so the
table per year says what the checker says of the final plan in its last year.
"""

from __future__ import annotations

import logging
from dataclasses import replace

import numpy as np
import scipy.sparse as sp

from siting import core
from siting._errors import InputError
from siting.check import checker
from siting.config.scenario import Scenario
from siting.run.results import PhasePlan, SiteCosts, Sites, TierRun

log = logging.getLogger(__name__)

NODES = 5_000
"""Branch-and-bound nodes of the phasing solve at most: bounded by work, not by a clock."""


def plan(scenario: Scenario, sites: Sites, tiers: dict[str, TierRun], solution: core.Solution,
         prices: dict[str, SiteCosts], targets: list[checker.Target],
         compartments: dict[str, np.ndarray | None],
         settings: core.SolverSettings) -> PhasePlan | None:
    """The build order of the plan's new sites, and every target by the end of each year.

    Raises
    ------
    InputError
        When a new site costs more than any year can spend (naming the site and the fix).
    """
    cfg = scenario.phasing
    if cfg is None:
        return None
    new = {t: solution.open[t] & ~sites.existing[t] for t in tiers}
    items = np.flatnonzero(np.logical_or.reduce(list(new.values())))
    cost = np.zeros(len(items))
    for t in tiers:
        cost += prices[t].total[items]
    money = np.array(cfg.money(float(cost.sum())), float)
    _afford(scenario, sites, items, cost, money, new)
    serve, weight = _service(tiers, sites, new, items)
    complete = cfg.carry_over and float(money.sum()) >= float(cost.sum()) * (1 - 1e-9)
    value = _value(tiers, sites, new, items, compartments)
    ph = core.phase(cost, serve, weight, money, value=value, carry_over=cfg.carry_over,
                    complete=complete,
                    discount=cfg.discount_rate,
                    settings=replace(settings, max_nodes=NODES))
    year = np.zeros(len(sites), np.int64)
    built = ph.year >= 0
    year[items[built]] = np.asarray(cfg.years)[ph.year[built]]
    site_cost = np.full(len(sites), np.nan)
    site_cost[items] = cost
    standing = [_standing(solution, sites, new, year, y) for y in (0, *cfg.years)]
    levels = [_levels(targets, is_open, compartments) for is_open in standing]
    log.info("phasing: %d new sites over %d years, spent %s; solver %s, gap %s",
             len(items), len(cfg.years), ", ".join(f"{s:,.0f}" for s in ph.spend),
             ph.outcome.status, "n/a" if ph.outcome.gap is None else f"{ph.outcome.gap:.3%}")
    return PhasePlan(years=cfg.years, money=money, carry_over=cfg.carry_over, year=year,
                     site_cost=site_cost, spend=ph.spend, before=levels[0], levels=levels[1:],
                     covered=ph.covered, outcome=ph.outcome,
                     greedy_objective=ph.greedy_objective)


def refuse_early(scenario: Scenario, sites: Sites, tiers: dict[str, TierRun]) -> None:
    """Before the solve: refuse money that can pay for no new site of a tier that needs one.

    Only ``budget`` (money) is known before the solve; a tier needs a new site when its
    count exceeds its existing sites, or a unit its target must serve (every unit of an
    'all' tier, every one-in-each polygon) has no existing site in reach. The cheapest new
    site is the tier's cost, its cheapest bank, less a co-location saving beyond the other
    tier's cost.

    Raises
    ------
    InputError
        Naming the tiers, their cheapest new site and the money a year can spend.
    """
    cfg = scenario.phasing
    if cfg is None or not cfg.budget:
        return
    most = sum(cfg.budget) if cfg.carry_over else max(cfg.budget)
    dear = {name: low for name, tr in tiers.items()
            if _needs_new(tr, sites.existing[name])
            and (low := _cheapest(scenario, tr)) > most * (1 + 1e-9) + 1e-6}
    if dear:
        where = "the whole budget" if cfg.carry_over else "the largest year's budget"
        listed = ", ".join(f"[tiers.{n}] (a new site costs at least {c:,.0f})"
                           for n, c in dear.items())
        raise InputError(
            f"{scenario.path}: [phasing] can never build a needed site of {listed}: "
            f"{where} is {most:,.0f}. Raise the budget of a year to at least "
            f"{max(dear.values()):,.0f}" + ("" if cfg.carry_over else
                                            ", or set carry_over = true") + ".")


def _needs_new(tr: TierRun, existing: np.ndarray) -> bool:
    """Whether the tier's targets need a new site whatever the plan (seen before the solve)."""
    if tr.count > int(existing.sum()):
        return True
    pairs = [(tr.each_rows, tr.each_cover)]
    if tr.config.coverage == "all":
        pairs.append((tr.rows, tr.cover))
    for rows, cover in pairs:
        m = sp.csc_array(cover)
        if not len(rows):
            continue
        reach = np.diff(sp.csr_array(m).indptr) > 0
        today = np.asarray(m[:, np.flatnonzero(existing)].sum(axis=1)).ravel() > 0
        if (reach & ~today).any():
            return True
    return False


def _cheapest(scenario: Scenario, tr: TierRun) -> float:
    """The least a new site of the tier can cost: its cost, its cheapest bank, a saving."""
    cfg = tr.config
    low = cfg.cost + min((b.cost for b in cfg.sizes), default=0.0)
    coloc = scenario.colocation
    if coloc is not None and tr.name in coloc.tiers:
        other = scenario.tiers.get(next(t for t in coloc.tiers if t != tr.name))
        if other is not None:
            extra = other.cost + min((b.cost for b in other.sizes), default=0.0)
            low += min(0.0, extra - coloc.saving)
    return low


def _afford(scenario: Scenario, sites: Sites, items: np.ndarray, cost: np.ndarray,
            money: np.ndarray, new: dict[str, np.ndarray]) -> None:
    """Refuse a budget that can never build one of the plan's sites: name the sites."""
    cfg = scenario.phasing
    assert cfg is not None
    most = float(money.sum() if cfg.carry_over else money.max(initial=0.0))
    dear = np.flatnonzero(cost > most * (1 + 1e-9) + 1e-6)
    if not len(dear):
        return
    names = [f"{sites.site_id[items[k]]} ({'+'.join(t for t in new if new[t][items[k]])}, "
             f"{cost[k]:,.0f})" for k in dear[:10]]
    more = f" and {len(dear) - 10} more" if len(dear) > 10 else ""
    where = "the whole budget" if cfg.carry_over else "the largest year's budget"
    raise InputError(
        f"{scenario.path}: [phasing] can never build {len(dear)} of the plan's new sites: "
        f"{', '.join(names)}{more} each cost more than {where} ({most:,.0f}). Raise the "
        f"budget of a year to at least {cost[dear].max():,.0f}"
        + ("" if cfg.carry_over else ", or set carry_over = true") + ".")


def _service(tiers: dict[str, TierRun], sites: Sites, new: dict[str, np.ndarray],
             items: np.ndarray) -> tuple[sp.csr_array, np.ndarray]:
    """(units × items) which built item serves which unit not served today, and the weights.

    Per tier, its demand rows and its one-in-each polygons; an item serves a tier's unit
    only when the item is new for that tier. A unit weighs its share of its target
    (:func:`_shares`), so that every coverage target counts alike, as the table shows them.
    """
    blocks, weights = [], []
    for name, tr in tiers.items():
        keep = sp.diags_array(new[name][items].astype(float))
        for rows, cover, share in ((tr.rows, tr.cover, _shares(tr)),
                                   (tr.each_rows, tr.each_cover, _shares(tr, each=True))):
            if not len(rows):
                continue
            m = sp.csc_array(cover)
            today = np.asarray(m[:, np.flatnonzero(sites.existing[name])].sum(axis=1)).ravel()
            todo = np.flatnonzero(today == 0)
            blocks.append(sp.csr_array(m[todo][:, items] @ keep))
            weights.append(share[todo])
    if not blocks:
        return sp.csr_array((0, len(items))), np.zeros(0)
    return sp.csr_array(sp.vstack(blocks)), np.concatenate(weights)


def _value(tiers: dict[str, TierRun], sites: Sites, new: dict[str, np.ndarray],
           items: np.ndarray, compartments: dict[str, np.ndarray | None]) -> np.ndarray:
    """(items,) what each item adds to the other targets, each target's total one.

    A count target still short today: one of the tier's new sites; a capacity target: the
    item's share of the new compartments; and one of all items, so every site is drawn
    early once coverage is reached.
    """
    value = np.full(len(items), 1.0 / max(len(items), 1))
    for name, tr in tiers.items():
        mine = new[name][items].astype(float)
        if tr.count > int(sites.existing[name].sum()) and mine.sum():
            value += mine / mine.sum()
        cap = compartments.get(name)
        if cap is not None and tr.demand is not None and (cap[items] * mine).sum() > 0:
            value += cap[items] * mine / (cap[items] * mine).sum()
    return value


def _shares(tr: TierRun, *, each: bool = False) -> np.ndarray:
    """Each unit's share of its target: of the weight where the tier maximises reach, else 1/n.

    The weight is the tier's (population: what the allocation gives the sites).
    """
    if each:
        return np.full(len(tr.each_rows), 1.0 / max(len(tr.each_rows), 1))
    w = np.asarray(tr.weight, float)
    if tr.config.coverage == "maximise" and w.sum() > 0:
        return w / w.sum()
    return np.full(len(tr.rows), 1.0 / max(len(tr.rows), 1))


def _standing(solution: core.Solution, sites: Sites, new: dict[str, np.ndarray],
              year: np.ndarray, by: int) -> dict[str, np.ndarray]:
    """Per tier, the sites open by the end of year ``by`` (0: the existing ones only)."""
    built = (year > 0) & (year <= by)
    return {t: sites.existing[t] | (new[t] & built) for t in solution.open}


def _levels(targets: list[checker.Target], is_open: dict[str, np.ndarray],
            compartments: dict[str, np.ndarray | None]) -> list[checker.Result]:
    """Every target as the checker finds it with the sites ``is_open``."""
    at = []
    for t in targets:
        cap = compartments.get(t.tier)
        if isinstance(t, checker.CapacityTarget) and cap is not None:
            t = replace(t, capacity=np.where(is_open[t.tier], cap, 0.0))
        at.append(t)
    return checker.verify(at, is_open)[0]
