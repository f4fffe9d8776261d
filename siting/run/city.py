"""The citywide run's data: the city file, and each target summed over the counties.

``models/city.toml`` lists the county scenarios. Each runs as ``siting run`` would, one task
on a Dask cluster (the command line drives them, ``siting.cli.cluster``; ``[cluster]`` says
where), and
:func:`aggregate` adds them up target by target: townships with an outlet, administrative
villages reached, community service points against the plan's 20,000, communities holding
one, locker areas covered, and the cost per tier; with the counties' build orders
(``[phasing]``, a county's own or the city file's), the same targets by the end of each
year (:func:`_phasing`). The result is typed and has no words:
``siting.outputs.city`` writes the city report and map from it.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from siting._errors import ScenarioError
from siting.config import _schema, scenario
from siting.config._schema import positive, spec
from siting.config.scenario import PhasingConfig, Scenario
from siting.readers import frame, layers
from siting.run.assemble import compartments_needed
from siting.run.phrases import Kind, Phrase
from siting.synth.generate import apportion

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClusterConfig:
    """Where the tasks run (``[cluster]``): a LocalCluster by default, or a running one."""

    scheduler: str | None = spec(None, doc="address of a running Dask scheduler, e.g. "
                                 "tcp://10.0.0.5:8786; none: a LocalCluster of this machine")
    workers: int | None = spec(None, check=lambda n: n >= 0, need=">= 0",
                               doc="LocalCluster worker processes (default: one per core); "
                               "0 runs the tasks one after another in this process")


@dataclass(frozen=True)
class CityConfig:
    """The citywide run."""

    counties: tuple[str, ...] = spec(doc="county scenario files, relative to this file")
    name: str = "city"
    title: str = "郑州市 邮政快递末端网点布局（全市汇总）"
    lang: str = "zh"
    plan_community_points: int = spec(20_000, check=positive, need="> 0")
    plan_compartments: int = spec(2_500_000, check=positive, need="> 0",
                                  doc="the plan's 智能收投终端 target (发展目标): 2.5 million")
    compartments_from_plan: int | None = spec(
        None, check=positive, need="> 0", doc="plan to this citywide compartment total: each "
        "county's locker tier gets its share as a lower bound on open compartments")
    compartments_by: Literal["population", "parcels"] = spec(
        "population", doc="the shares: by 2020 urban population, or by each county's locker "
        "parcel demand (compartments needed, from its areas layer)")
    phasing: PhasingConfig | None = spec(
        None, doc="a build order over the plan's years for every county whose scenario has "
        "no [phasing] of its own (the same keys; a budget is each such county's money a year)")
    cluster: ClusterConfig = ClusterConfig()
    path: Path = field(default=Path(), compare=False, metadata={"internal": True})


@dataclass
class CountyOutcome:
    """What the city report keeps of one county's run (the full run is not kept in memory)."""

    name: str
    title: str
    generated: bool
    summary: dict[str, Any]
    sites: pd.DataFrame
    townships: gpd.GeoDataFrame
    seconds: float


def load(path: str | Path) -> CityConfig:
    """Read and validate ``models/city.toml``."""
    path = Path(path)
    table = scenario._read_toml(path)
    problems: list[str] = []
    built = _schema.build(CityConfig, table, "", problems, base=path.resolve().parent)
    if built is None:
        lines = "\n".join(f"  - {p}" for p in problems)
        raise ScenarioError(f"{path}: {len(problems)} problem(s):\n{lines}\nFix them and run "
                            "again.")
    return replace(built, path=path)


def county_paths(cfg: CityConfig) -> list[Path]:
    """The county scenario files, resolved."""
    return [(cfg.path.resolve().parent / p) for p in cfg.counties]


def phasing_override(cfg: CityConfig, county: dict[str, Any]) -> dict[str, Any]:
    """The city's ``[phasing]`` as an override of a county's parsed scenario ``county``.

    None (``{}``) when the city has no ``[phasing]`` or the county has its own: the county's
    wins. The override is validated with the county's file, as if written there.
    """
    if cfg.phasing is None or "phasing" in county:
        return {}
    table = {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(cfg.phasing).items()}
    return {"phasing": table}


LOCKER = "locker"
"""The tier that holds the compartments."""


def compartment_shares(cfg: CityConfig, counties: list[Scenario]) -> dict[str, int]:
    """Each county's share of ``compartments_from_plan`` (scenario name -> compartments).

    By 2020 urban population (as the community points, :func:`siting.readers.frame.plan_share`,
    over the city's counties), or by the compartments each county's locker areas need
    (residents × parcels a day × locker share × dwell days, as the run computes them),
    largest remainder. A county without a capacitated locker tier gets no share.
    """
    total = cfg.compartments_from_plan
    mine = [s for s in counties if LOCKER in s.tiers and s.tiers[LOCKER].sizes
            and s.county is not None]
    if total is None or not mine:
        return {}
    if cfg.compartments_by == "population":
        fr = frame.load()
        urban = fr.counties.set_index("code")["urban2020"]
        weight = [float(urban[frame.slug_to_code(str(s.county))]) for s in mine]
    else:
        weight = [_parcel_demand(s) for s in mine]
    shares = apportion(total, np.asarray(weight, dtype=float))
    log.info("compartments: %s citywide apportioned to %d counties by %s", f"{total:,}",
             len(mine), cfg.compartments_by)
    return {s.name: int(n) for s, n in zip(mine, shares, strict=True)}


def _parcel_demand(s: Scenario) -> float:
    """Compartments a county's locker areas need, from its demand layer."""
    cfg = s.tiers[LOCKER]
    got = layers.read(s.layer(cfg.demand), cfg.demand).units
    rows = np.flatnonzero(got["class"].isin(list(cfg.classes)).to_numpy()) if cfg.classes \
        else np.arange(len(got))
    return float(compartments_needed(got, rows, cfg).sum())


def with_compartments(s: Scenario, share: int) -> Scenario:
    """The county scenario planning to ``share`` compartments (its own target replaced)."""
    tier = replace(s.tiers[LOCKER], compartments=share, compartments_from_plan=None)
    return replace(s, tiers={**s.tiers, LOCKER: tier})


@dataclass(frozen=True)
class CityTarget:
    """One citywide target: what it asks (its phrase), required and achieved, met."""

    key: str
    phrase: Phrase
    required: float
    achieved: float
    met: bool


@dataclass(frozen=True)
class TierTotal:
    """One tier's sites and cost, summed over the counties."""

    new: int = 0
    existing: int = 0
    cost: float = 0.0


@dataclass(frozen=True)
class CountyRow:
    """One county's line of the city report."""

    name: str
    title: str
    generated: bool
    seconds: float
    targets_met: int
    targets: int
    solver_status: str
    gap: float | None
    network_nodes: int
    network_segments: int
    villages: int | None
    communities: int | None
    demand: dict[str, int]
    sites: dict[str, int]
    solve_s: float
    cost: float
    compartments: dict[str, float]
    unmet: dict[str, list[str]]


@dataclass(frozen=True)
class CityYear:
    """The city by the end of one year of the build order, summed over the phasing counties."""

    year: int
    sites: dict[str, int]          # new sites built in the year, per tier
    sites_total: int               # new sites built in the year (a site of two tiers once)
    budget: float                  # the year's money (a budget, or shares of the plan cost)
    spent: float
    cumulative: float              # spent by the end of the year
    targets: list[CityTarget]      # each citywide target by the year's end


@dataclass(frozen=True)
class CityPhasing:
    """The counties' build orders over the plan's years, rolled up year by year.

    A county without ``[phasing]`` (its own or the city's) is not phased: its sites count in
    no year. ``unbuilt``: the phasing counties whose money leaves plan sites unbuilt.
    """

    years: list[CityYear]
    phased: list[str]
    not_phased: list[str]
    unbuilt: dict[str, int]


@dataclass(frozen=True)
class CitySummary:
    """The city report's facts (``siting.outputs.city`` words and writes them)."""

    title: str
    lang: str
    generated_counties: list[str]
    targets: list[CityTarget]
    sites: dict[str, TierTotal]
    cost_total: float
    compartments: dict[str, float]
    counties: list[CountyRow]
    target_cost: dict[str, float] = field(default_factory=dict)   # the compartment target's
    chain: dict[str, float] = field(default_factory=dict)         # villages, beyond, longest
    phasing: CityPhasing | None = None                            # the build order by year


def aggregate(cfg: CityConfig, counties: list[CountyOutcome]) -> CitySummary:
    """The city report: each target summed over the counties."""
    points = sum(int(c.sites[c.sites["tier"] == "community"].shape[0]) for c in counties)
    comp = _compartments(counties)
    targets = _targets(cfg, [c.summary["targets"] for c in counties], points,
                       comp["open"] if comp else None)
    return CitySummary(
        title=cfg.title, lang=cfg.lang,
        generated_counties=[c.name for c in counties if c.generated],
        targets=targets, sites=_tier_totals(counties),
        cost_total=round(sum(c.summary["cost"]["total"] for c in counties), 2),
        compartments=comp, counties=[_row(c) for c in counties],
        target_cost=_target_cost(counties), chain=_chain(counties),
        phasing=_phasing(cfg, counties))


def _targets(cfg: CityConfig, found: list[list[dict[str, Any]]], points: int,
             compartments: float | None) -> list[CityTarget]:
    """The citywide targets from each county's target levels (``found``, one list a county).

    ``points``: community service points open citywide; ``compartments``: compartments open
    (None: no county has a capacitated locker tier). The final plan's roll-up and each
    year's of the build order both come from here.
    """
    totals = _totals(found)
    targets = [_summed("township_cover", totals), _summed("village_cover", totals),
               _target("community_plan", cfg.plan_community_points, points,
                       n=cfg.plan_community_points),
               _summed("community_each", totals), _summed("locker_cover", totals)]
    if compartments is not None:
        plan = cfg.compartments_from_plan or cfg.plan_compartments
        targets.append(_target("compartments", plan, compartments, n=plan))
    if "chain" in totals:
        targets.append(_summed("chain", totals))
    return [t for t in targets if t is not None]


def _phasing(cfg: CityConfig, counties: list[CountyOutcome]) -> CityPhasing | None:
    """Each year of the counties' build orders summed; None when no county phases.

    Over the union of the counties' years: a county spends nothing in a year it does not
    list, and its levels stay those of its last year before (before its first: the existing
    sites'). The targets are summed as the final plan's (:func:`_targets`).
    """
    phased = [c for c in counties if c.summary.get("phasing")]
    if not phased:
        return None
    years = sorted({y for c in phased for y in c.summary["phasing"]["years"]})
    capacity = any(c.summary.get("compartments") for c in phased)
    out, cumulative = [], 0.0
    for y in years:
        now = [e for c in phased for e in c.summary["phasing"]["by_year"] if e["year"] == y]
        sites: dict[str, int] = {}
        for e in now:
            for tier, n in e["sites"].items():
                sites[tier] = sites.get(tier, 0) + int(n)
        spent = round(float(sum(e["spent"] for e in now)), 2)
        cumulative = round(cumulative + spent, 2)
        ends = [_by_end(c, y) for c in phased]
        targets = _targets(cfg, [e["targets"] for e, _ in ends], sum(p for _, p in ends),
                           float(sum(e.get("compartments_open") or 0.0 for e, _ in ends))
                           if capacity else None)
        out.append(CityYear(y, sites, sum(int(e["sites_total"]) for e in now),
                            round(float(sum(e["budget"] for e in now)), 2), spent, cumulative,
                            targets))
    return CityPhasing(
        years=out, phased=[c.title for c in phased],
        not_phased=[c.title for c in counties if not c.summary.get("phasing")],
        unbuilt={c.title: len(c.summary["phasing"]["unbuilt"]) for c in phased
                 if c.summary["phasing"]["unbuilt"]})


def _by_end(c: CountyOutcome, year: int) -> tuple[dict[str, Any], int]:
    """A county's build order by the end of ``year``: its levels, community points open."""
    p = c.summary["phasing"]
    past = [e for e in p["by_year"] if e["year"] <= year]
    existing = c.summary["sites"].get("community", {}).get("existing", 0)
    points = existing + sum(e["sites"].get("community", 0) for e in past)
    return (past[-1] if past else p["before"]), int(points)


def _target_cost(counties: list[CountyOutcome]) -> dict[str, float]:
    """The compartment target's cost summed: the plans with it, and sized to demand alone."""
    parts = [t for c in counties for t in c.summary.get("compartment_costs", [])]
    if not parts:
        return {}
    return {k: round(float(sum(t[k] for t in parts)), 2)
            for k in ("cost", "with_target", "without", "open_without", "at_least", "at_most")}


def _chain(counties: list[CountyOutcome]) -> dict[str, float]:
    """The chain summed over the counties: villages, with a chain, beyond the limit."""
    parts = [c.summary["chain"] for c in counties if c.summary.get("chain")]
    if not parts:
        return {}
    longest = [p["longest_km"] for p in parts if p["longest_km"] is not None]
    return {"villages": sum(p["villages"] for p in parts),
            "with_chain": sum(p["with_chain"] for p in parts),
            "beyond": sum(p["beyond"] for p in parts),
            "centres": sum(len(p["centres"]) for p in parts),
            "longest_km": max(longest) if longest else float("nan")}


def _totals(found: list[list[dict[str, Any]]]) -> dict[str, dict[str, float]]:
    """Required and achieved of each county target (not weights), summed by key."""
    totals: dict[str, dict[str, float]] = {}
    for targets in found:
        for t in targets:
            if t["unit"] == "weight":
                continue
            agg = totals.setdefault(t["key"], {"required": 0.0, "achieved": 0.0, "counties": 0})
            agg["required"] += t["required"]
            agg["achieved"] += t["achieved"]
            agg["counties"] += 1
    return totals


def _tier_totals(counties: list[CountyOutcome]) -> dict[str, TierTotal]:
    """New and existing sites and cost per tier, summed over the counties."""
    out: dict[str, TierTotal] = {}
    for c in counties:
        for tier, s in c.summary["sites"].items():
            d = out.get(tier, TierTotal())
            out[tier] = TierTotal(d.new + s["new"], d.existing + s["existing"],
                                  d.cost + s["cost"])
    return out


def _row(c: CountyOutcome) -> CountyRow:
    """One county's line: size, sites per tier, targets met, solver status and gap."""
    s = c.summary
    return CountyRow(
        name=c.name, title=c.title, generated=c.generated, seconds=round(c.seconds, 2),
        targets_met=sum(t["met"] is True for t in s["targets"]),
        targets=sum(t["met"] is not None for t in s["targets"]),
        solver_status=s["solver"]["status"], gap=s["solver"]["avoidable_gap"],
        network_nodes=s["counts"]["network_nodes"],
        network_segments=s["counts"]["network_segments"],
        villages=_required(c, "village_cover"), communities=_required(c, "community_each"),
        demand={t: x["demand_units"] for t, x in s["sites"].items()},
        sites={t: x["new"] + x["existing"] for t, x in s["sites"].items()},
        solve_s=s["timings_s"]["solve"], cost=s["cost"]["total"],
        compartments=s.get("compartments") or {},
        unmet={t["key"]: t["failing"] for t in s["targets"] if t["met"] is False})


def _required(c: CountyOutcome, key: str) -> int | None:
    """A county target's required count (villages, communities), None without the target."""
    t = next((t for t in c.summary["targets"] if t["key"] == key), None)
    return None if t is None else int(t["required"])


def _compartments(counties: list[CountyOutcome]) -> dict[str, float]:
    """Locker compartments summed over the counties (open, existing, new, needed)."""
    parts = [c.summary.get("compartments") or {} for c in counties]
    parts = [p for p in parts if p]
    if not parts:
        return {}
    return {k: float(sum(p[k] for p in parts)) for k in ("open", "existing", "new", "needed")}


def _target(key: str, required: float, achieved: float, *, n: int = 0) -> CityTarget:
    kind: Kind = f"city_{key}"  # type: ignore[assignment]
    return CityTarget(key, Phrase(kind=kind, n=n), required, achieved, achieved >= required)


def _summed(key: str, totals: dict[str, dict[str, float]]) -> CityTarget | None:
    t = totals.get(key)
    return None if t is None else _target(key, t["required"], t["achieved"])
