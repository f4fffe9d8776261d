"""The build order's outputs: ``report.json``'s ``phasing``, the 分年 sheet, each site's year.

From :class:`~siting.run.results.PhasePlan`: per year the budget, the money available
(with what earlier years left, when it carries over), the spend, the cumulative spend,
the sites built per tier, and every target's level by the year's end as the checker found
it; the solver's status, objective, bound and gap; the sites the money never reached.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from siting.check import checker
from siting.outputs import labels
from siting.run.results import PhasePlan, RunResult


def section(result: RunResult) -> dict[str, Any] | None:
    """``report.json``'s ``phasing``: the years, the solver's proof, unbuilt sites."""
    p = result.phasing
    if p is None:
        return None
    lang = result.scenario.lang
    available = _available(p)
    cumulative = np.cumsum(p.spend)
    years = []
    for k, y in enumerate(p.years):
        built = p.year == y
        years.append({
            "year": y, "budget": round(float(p.money[k]), 2),
            "available": round(float(available[k]), 2), "spent": round(float(p.spend[k]), 2),
            "cumulative": round(float(cumulative[k]), 2),
            "sites": {t: int((built & o.new).sum()) for t, o in result.outcomes.items()},
            "sites_total": int(built.sum()), "coverage_share": round(float(p.covered[k]), 6),
            "compartments_open": _compartments_open(result, y),
            "targets": _levels(result, p.levels[k], lang)})
    o = p.outcome
    return {
        "years": list(p.years), "carry_over": p.carry_over,
        "total_cost": round(float(np.nansum(p.site_cost)), 2),
        "budget_total": round(float(p.money.sum()), 2),
        "complete": len(p.unbuilt) == 0,
        "before": {"compartments_open": _compartments_open(result, 0),
                   "targets": _levels(result, p.before, lang)},
        "by_year": years,
        "unbuilt": [str(result.sites.site_id[j]) for j in p.unbuilt],
        "solver": {"solver": o.solver, "status": o.status, "objective": o.objective,
                   "bound": o.bound, "gap": o.gap, "nodes": o.nodes,
                   "seconds": round(o.seconds, 3),
                   "greedy_objective": round(p.greedy_objective, 9)}}


def _available(p: PhasePlan) -> np.ndarray:
    """(T,) money a year may spend: its own, plus what earlier years left when it carries."""
    if not p.carry_over:
        return p.money.copy()
    return np.cumsum(p.money) - np.concatenate([[0.0], np.cumsum(p.spend)[:-1]])


def _compartments_open(result: RunResult, year: int) -> float | None:
    """Compartments of the banks standing by the end of ``year`` (0: the existing ones).

    None without a capacitated tier; the last year of a complete plan is the plan's open.
    """
    p = result.phasing
    assert p is not None
    built = (p.year > 0) & (p.year <= year)
    for name, o in result.outcomes.items():      # the tier report.json's compartments counts
        if result.tiers[name].demand is not None and o.compartments is not None:
            return float(o.compartments[o.existing | (o.new & built)].sum())
    return None


def _levels(result: RunResult, found: list[checker.Result], lang: str) -> list[dict[str, Any]]:
    """Each target as the checker found it by a year's end, worded, with its share."""
    out = []
    for r in found:
        p = result.phrases.get(r.key)
        share = float(r.achieved) / float(r.required) if r.required else 1.0
        out.append({"key": r.key, "target": labels.phrase(p, lang) if p else r.text,
                    "unit": r.unit, "required": r.required, "achieved": r.achieved,
                    "met": r.met, "share": round(min(share, 1.0) if r.unit != "sites"
                                                 else share, 6)})
    return out


def year_table(result: RunResult) -> pd.DataFrame:
    """分年: one row per year (the existing network first), money, sites, every target.

    A target's column holds its level by the year's end (units, sites, compartments or
    weight reached), headed with what it requires.
    """
    d = section(result)
    if d is None:
        return pd.DataFrame()
    w = labels.Words(result.scenario.lang)
    tiers = list(result.outcomes)
    rows: list[dict[str, Any]] = [{"year": w("before_plan")}]
    rows += [{"year": y["year"], "budget": y["budget"], "available": y["available"],
              "spent": y["spent"], "cumulative_spent": y["cumulative"],
              **{f"new_{t}": y["sites"][t] for t in tiers}} for y in d["by_year"]]
    levels = [d["before"]["targets"], *(y["targets"] for y in d["by_year"])]
    for k, t in enumerate(d["before"]["targets"]):
        head = w.fill("phasing_target_column", target=t["target"],
                      required=_number(t["required"]))
        for row, found in zip(rows, levels, strict=True):
            row[head] = found[k]["achieved"]
    cols = ["year", "budget", "available", "spent", "cumulative_spent",
            *(f"new_{t}" for t in tiers)]
    frame = pd.DataFrame(rows)
    for t in tiers:
        frame[f"new_{t}"] = frame[f"new_{t}"].astype("Int64")
    return frame[cols + [c for c in frame.columns if c not in cols]]


def _number(x: float) -> str:
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.1f}"


def site_years(result: RunResult) -> dict[str, int]:
    """Site id → the year it is built, for the plan's new sites built in some year."""
    p = result.phasing
    if p is None:
        return {}
    rows = np.flatnonzero(p.year > 0)
    return {str(result.sites.site_id[j]): int(p.year[j]) for j in rows}
