"""The run's report: targets met or not (from the checker), counts, costs, solver proof, timings.

``report.json`` is for machines; ``report.md`` for people. Both state each target's
required and achieved values as the independent checker found them, never the solver's
claim, and say "generated data" wherever the inputs were generated.
"""

from __future__ import annotations

import json
import math
import platform
from pathlib import Path
from typing import Any

import numpy as np

from siting.outputs import advice, chain, labels, phasing, render, tables
from siting.run import inputs
from siting.run.results import RunResult


def summary(result: RunResult) -> dict[str, Any]:
    """Everything the report says, as plain JSON-ready data."""
    s = result.scenario
    sol = result.solution
    rows = tables.open_sites(result)
    by_tier: dict[str, dict[str, Any]] = {}
    for name, tier in result.tiers.items():
        sel = rows[rows["tier"] == name]
        rows_of = np.concatenate([tier.rows, tier.each_rows]) if tier.config.coverage == "all" \
            else tier.each_rows
        new = int((sel["status"] == "new").sum())
        cost = round(sol.tier_cost.get(name, new * tier.config.cost), 2)
        by_tier[name] = {
            "label": labels.t(name, s.lang), "new": new,
            "existing": int((sel["status"] == "existing").sum()),
            # a locker bank adds its size's cost to the site's: the mean, so new × it = cost
            "cost_each": round(cost / new, 2) if new else tier.config.cost,
            "site_cost": tier.config.cost, "cost": cost,
            "demand_units": len(tier.rows), "radius_m": tier.config.radius_m,
            "required_count": tier.count,
            "network": tier.config.network,
            "uncoverable": [inputs.unit_label(result.demand, int(rows_of[i]))
                            for i in sol.uncoverable.get(name, np.zeros(0, int))]}
    saving = round(sum(t["cost"] for t in by_tier.values()) - sol.cost, 2)
    d = {
        "title": s.title or s.name, "scenario": s.name, "scenario_file": str(s.path),
        "generated_data": result.generated, "lang": s.lang,
        "data_attribution": attribution(result),
        "layers": result.layer_info,
        "targets": [worded(r.as_dict(), result, s.lang) for r in result.results],
        "all_targets_met": all(r.met is not False for r in result.results),
        "sites": by_tier,
        "cost": {"total": round(sol.cost, 2), "colocation_saving": saving},
        "solver": {
            "status": sol.status, "gap": sol.avoidable_gap, "avoidable_gap": sol.avoidable_gap,
            "raw_gap": sol.gap, "forced_cost": round(sol.forced.total, 2),
            "forced_by": [{"tier": f.tier, "cost": round(f.cost, 2),
                           "count_sites": f.count_sites, "row_sites": f.row_sites,
                           "fixed_sites": f.fixed_sites}
                          for f in sol.forced.parts if f.cost],
            "time_limit_s": s.solver.time_limit_s, "rel_gap_requested": s.solver.rel_gap,
            "stages": [{"stage": name, "solver": o.solver, "status": o.status,
                        "objective": o.objective, "bound": o.bound, "gap": o.gap,
                        "avoidable_gap": o.avoidable_gap, "forced_cost": o.forced,
                        "seconds": round(o.seconds, 3), "nodes": o.nodes}
                       for name, o in sol.stages],
            "claims": {"cost": sol.cost, "reached_weight": sol.reached_weight}},
        "counts": {
            "network_nodes": result.network.n_nodes, "network_segments": len(result.network.u),
            "demand_units": len(result.demand), "candidate_sites": len(result.sites),
            "unsnapped": result.unsnapped},
        "timings_s": {**result.timings, "build_model": round(sol.seconds.get("build", 0), 3),
                      "solve": round(sol.seconds.get("solve", 0), 3)},
        "inputs": result.inputs,
        "environment": {"python": platform.python_version()},
        "notes": result.notes,
        "tradeoffs": result.tradeoffs,
        "compartments": _compartments(result),
        **_phasing(result),
        "target_costs": advice.target_costs(result),
        "idle_sites": advice.idle_sites(result),
        "unmet_units": advice.unmet_units(result),
        "chain": chain.summary(result),
        "compartment_costs": [_compartment_cost(c, result) for c in result.compartment_costs],
    }
    d["next_steps"] = advice.next_steps(result, d)
    return d


def _phasing(result: RunResult) -> dict[str, Any]:
    """The build order's section, only when the scenario has [phasing]."""
    section = phasing.section(result)
    return {} if section is None else {"phasing": section}


def _compartment_cost(c: Any, result: RunResult) -> dict[str, Any]:
    """What reaching a target costs against the same plan solved without it."""
    lang = result.scenario.lang
    p = result.phrases.get(c.key)
    what = labels.phrase(p, lang) if p is not None else c.key
    return {"key": c.key, "cost": round(c.cost, 2), "with_target": round(c.with_target, 2),
            "without": round(c.without, 2), "avoidable_gap_without": c.gap_without,
            "open_without": c.open_without,
            "text": labels.Words(lang).fill("target_cost", what=what, cost=c.cost,
                                            with_target=c.with_target, without=c.without)}


def worded(target: dict[str, Any], result: RunResult, lang: str) -> dict[str, Any]:
    """A checker result with its sentence worded in ``lang`` from the run's phrase."""
    p = result.phrases.get(target["key"])
    return target if p is None else {**target, "target": labels.phrase(p, lang)}


def _compartments(result: RunResult) -> dict[str, Any]:
    """Locker compartments open (existing and new) against the plan's 2.5 million citywide."""
    out: dict[str, Any] = {}
    for name, tier in result.tiers.items():
        o = result.outcomes[name]
        if tier.demand is not None and o.compartments is not None:
            cap = o.compartments
            out = {"tier": name, "open": float(cap[o.open].sum()),
                   "existing": float(cap[o.open & o.existing].sum()),
                   "new": float(cap[o.new].sum()),
                   "needed": float(tier.demand.sum()), "plan_citywide": 2_500_000,
                   "target": tier.compartments or None}
    return out


def attribution(result: RunResult) -> str:
    """Where the data drawn and reported comes from (generated or OpenStreetMap)."""
    key = "attribution_generated" if result.generated else "attribution_osm"
    return labels.t(key, result.scenario.lang)


def write_json(result: RunResult, path: Path) -> None:
    """``report.json``: strict JSON, an infinite or missing number written as null."""
    path.write_text(json.dumps(_finite(summary(result)), ensure_ascii=False, indent=2,
                               default=_plain, allow_nan=False), encoding="utf-8")


def _finite(value: Any) -> Any:
    """``value`` with every inf and nan (Python or NumPy) replaced by None."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    if isinstance(value, np.ndarray):
        return _finite(value.tolist())
    if isinstance(value, (float, np.floating)) and not math.isfinite(value):
        return None
    return value


def _plain(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON-serialisable: {type(value).__name__}")


def write_markdown(result: RunResult, path: Path) -> None:
    """``report.md``."""
    d = summary(result)
    path.write_text(render.render("report.md.j2", lang=d["lang"], d=d), encoding="utf-8")
