"""What drives the cost, what stands idle, and what to do next: the report's explanations.

Three parts of the report a planner acts on, each derived from the run's results (no
sentence here is canned; every one is filled from the figures of this run):

- :func:`target_costs`: each count and capacity target's price, from the solves without it
  (:mod:`siting.run.target_costs`);
- :func:`idle_sites`: the open sites that reach no demand unit of their tier, and why they
  are open (existing, the count, …);
- :func:`next_steps`: one action per unmet target and per finding above.

:func:`reason_of` says why a unit is not served (shared with ``plan.xlsx``'s 未覆盖 sheet).
The words are in :mod:`siting.outputs.labels`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from siting.outputs import labels
from siting.run import inputs
from siting.run.results import RunResult
from siting.run.target_costs import TargetCost

MAX_LISTED = 100
"""Idle sites listed by id in the report (all of them are in ``sites.csv``)."""

BIG_SHARE = 0.2
"""A target adding more than this share of the plan's cost gets a next step of its own."""


def reason_of(result: RunResult, tier: str, unit: int) -> tuple[str, dict[str, float]]:
    """Why ``unit`` is not served by ``tier``: a label key and the values it is filled with.

    No road within ``max_snap_m``; no candidate or existing site within the radius; the
    nearest open site too far; or no open site within reach (the solve left it).
    """
    cfg = result.tiers[tier].config
    radius = float(cfg.radius_m or 0.0)
    if cfg.reach == "road" and inputs.unit_label(result.demand, unit) in \
            result.unsnapped.get(cfg.network, []):
        return "reason_no_road", {"m": result.scenario.network.max_snap_m}
    if unit in _uncoverable(result, tier):
        return "reason_no_site", {"r": radius}
    dist = result.outcomes[tier].dist_m[unit]
    if np.isfinite(dist):
        return "reason_far", {"d": float(dist), "r": radius}
    return "reason_not_chosen", {}


def _uncoverable(result: RunResult, tier: str) -> set[int]:
    """The units of ``tier`` that no candidate or existing site can reach at all."""
    tr = result.tiers[tier]
    rows = np.concatenate([tr.rows, tr.each_rows]) if tr.config.coverage == "all" \
        else tr.each_rows
    got = result.solution.uncoverable.get(tier, np.zeros(0, np.int64))
    return {int(rows[i]) for i in got}


def unmet_units(result: RunResult) -> dict[str, list[dict[str, Any]]]:
    """Per unmet cover or one-in-each target, each unit not served: its label and reason.

    ``[{"unit": "410106100219 马固村村民委员会", "reason": "reason_no_road", "values": {…}}]``
    """
    unmet = {r.key for r in result.results if r.met is False}
    out: dict[str, list[dict[str, Any]]] = {}
    for name, tr in result.tiers.items():
        served = result.outcomes[name].served
        for key, rows in ((f"{name}_cover", tr.rows), (f"{name}_each", tr.each_rows)):
            left = [int(i) for i in rows if not served[i]]
            if left and key in unmet:
                out[key] = [_unmet(result, name, i) for i in left]
    return out


def _unmet(result: RunResult, tier: str, unit: int) -> dict[str, Any]:
    key, values = reason_of(result, tier, unit)
    return {"unit": inputs.unit_label(result.demand, unit), "reason": key, "values": values}


def target_costs(result: RunResult) -> list[dict[str, Any]]:
    """Each priced target (JSON-ready), with its sentences in the run's language."""
    total = result.solution.cost
    w = labels.Words(result.scenario.lang)
    out = []
    for tc in result.target_costs:
        row = tc.as_dict()
        cfg = result.tiers[tc.tier].config
        row["count"] = result.tiers[tc.tier].count
        row["share"] = (tc.extra_cost / total) if tc.extra_cost is not None and total else None
        row["idle_new"] = _idle_new(result, tc)
        what = w.join(w.unit(c) for c in (cfg.classes or (cfg.demand,)))
        row["text"], row["solve_text"] = _priced(result, row, what, w)
        out.append(row)
    return out


def _priced(result: RunResult, row: dict[str, Any], what: str, w: labels.Words,
            ) -> tuple[str, str]:
    """A priced target's sentence and its solve's, or why it was not priced."""
    tier = w(row["tier"])
    if row["status"] == "skipped":
        p = result.phrases.get(row["key"])
        return w.fill("tc_skipped", tier=tier,
                      target=labels.phrase(p, w.lang) if p else row["key"]), ""
    rng = (row["extra_min"], row["extra_max"])
    kind = row["kind"]
    if kind == "count" and result.tiers[row["tier"]].config.coverage == "maximise":
        kind = "count_max"
    text = w.fill(f"tc_{kind}", tier=tier, what=what, n=row["count"],
                  without_new=row["without_new"], without_cost=_money(row["without_cost"]),
                  plan_new=row["plan_new"], extra_sites=row["extra_sites"],
                  extra=_money(row["extra_cost"]), share=_pct(row["share"]),
                  lo=_money(rng[0]), hi=_money(rng[1]))
    if row["idle_new"]:
        text = w.sentences([text, w.fill("tc_idle", idle=row["idle_new"])])
    solve = w.fill("tc_solve", status=w.of("status", row["status"]),
                   gap=_pct(row["avoidable_gap"]))      # no clock figure: report.json repeats
    return text, solve


def _money(x: float | None) -> str:
    return "—" if x is None else f"{x:,.0f}"


def _idle_new(result: RunResult, tc: TargetCost) -> int:
    """New sites of the target's tier that reach no unit (a count's sites for the count)."""
    return int((_reaches_nobody(result, tc.tier) & result.outcomes[tc.tier].new).sum())


def _reaches_nobody(result: RunResult, tier: str) -> np.ndarray:
    """(n_sites,) bool: open for ``tier``, no unit of its within reach, serving no 社区.

    Reach is the tier's own demand (``sites.csv``'s ``reach_units``); a site that is the
    one-in-each site of a community polygon serves that target and is not idle.
    """
    tr, o = result.tiers[tier], result.outcomes[tier]
    reach = np.diff(tr.cover.tocsc().indptr)
    each = o.allocation.site[tr.each_rows]
    serves_each = np.zeros(len(reach), dtype=bool)
    serves_each[each[each >= 0]] = True
    return o.open & (reach == 0) & ~serves_each


def idle_sites(result: RunResult) -> list[dict[str, Any]]:
    """Per tier with any, the open sites that reach no demand unit, and why they are open.

    ``why_new`` is "count" when the tier has a count target (the sites are there to make the
    number), else "other"; existing sites are open because they exist (at no cost).
    """
    out = []
    place = result.placement
    w = labels.Words(result.scenario.lang)
    for name, tr in result.tiers.items():
        idle = _reaches_nobody(result, name)
        if not idle.any():
            continue
        o = result.outcomes[name]
        rows = np.flatnonzero(idle)
        listed = [{"site_id": str(result.sites.site_id[j]),
                   "status": "existing" if o.existing[j] else "new",
                   "name": str(result.sites.name[j]), "township": str(place.township_name[j]),
                   "village": str(place.unit_name[j]), "road": str(place.road[j])}
                  for j in rows[:MAX_LISTED]]
        row = {"tier": name, "open": int(o.open.sum()), "idle": int(idle.sum()),
               "existing": int((idle & o.existing).sum()),
               "open_existing": int(o.existing.sum()), "new": int((idle & o.new).sum()),
               "why_new": "count" if tr.count else "other", "sites": listed,
               "more": max(0, len(rows) - MAX_LISTED)}
        out.append({**row, "text": _idle_text(row, w)})
    return out


def _idle_text(row: dict[str, Any], w: labels.Words) -> str:
    """'村级网点：48 处开放站点中有 37 处…' and why they are open."""
    parts = [w.fill("idle_line", tier=w(row["tier"]), open=row["open"], idle=row["idle"],
                    existing=row["existing"], new=row["new"])]
    if row["existing"]:
        parts.append(w.fill("idle_why_existing", n=row["existing"]))
    if row["new"]:
        parts.append(w.fill(f"idle_why_{row['why_new']}", n=row["new"]))
    return w.sentences(parts)


def next_steps(result: RunResult, d: dict[str, Any]) -> list[str]:
    """Concrete actions, in the run's language, from the results summarised in ``d``."""
    w = labels.Words(result.scenario.lang)
    steps: list[str] = []
    for key, units in d["unmet_units"].items():
        steps += _unmet_steps(result, key, units, w)
    for r in d["targets"]:
        if r["met"] is False and r["key"].endswith("_capacity"):
            steps.append(w.fill("step_capacity", tier=w(r["key"].removesuffix("_capacity")),
                                n=len(r.get("failing") or [])))
    for tc in d["target_costs"]:
        if tc["extra_cost"] is not None and tc["share"] is not None and tc["share"] > BIG_SHARE:
            idle = [w.fill("step_count_idle", idle=tc["idle_new"])] \
                if tc["kind"] == "count" and tc["idle_new"] else []
            steps.append(w.sentences([w.fill(f"step_{tc['kind']}", tier=w(tc["tier"]),
                                             extra=_money(tc["extra_cost"]),
                                             share=_pct(tc["share"]), sites=tc["extra_sites"],
                                             n=tc["count"]),
                                      *idle, w(f"step_{tc['kind']}_do")]))
        elif tc["status"] == "skipped":
            steps.append(w.fill("step_not_priced", tier=w(tc["tier"])))
    for idle in d["idle_sites"]:
        if idle["existing"]:
            steps.append(w.fill("step_idle_existing", tier=w(idle["tier"]), n=idle["existing"],
                                of=idle["open_existing"]))
    if d["solver"]["status"] != "optimal":
        steps.append(w.fill("step_time_limit", gap=_pct(d["solver"]["avoidable_gap"]),
                            limit=d["solver"]["time_limit_s"]))
    if d["generated_data"]:
        steps.append(w("step_generated"))
    return steps


def _unmet_steps(result: RunResult, key: str, units: list[dict[str, Any]],
                 w: labels.Words) -> list[str]:
    """One step per reason the target's units are not served."""
    tier = key.rsplit("_", 1)[0]
    cfg = result.tiers[tier].config
    by_reason: dict[str, list[str]] = {}
    for u in units:
        by_reason.setdefault(u["reason"], []).append(u["unit"])
    return [w.fill(f"step_{reason}", units=w.join(names[:10]) + ("…" if len(names) > 10 else ""),
                   n=len(names), tier=w(tier), tier_key=tier, r=float(cfg.radius_m or 0.0),
                   m=result.scenario.network.max_snap_m)
            for reason, names in by_reason.items()]


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.3g}%"
