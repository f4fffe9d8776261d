"""The citywide run's data: the city file, and each target summed over the counties.

``models/city.toml`` lists the county scenarios. Each runs as ``siting run`` would, one task
on a Dask cluster (the command line drives them, ``siting.cli.cluster``; ``[cluster]`` says
where), and
:func:`aggregate` adds them up target by target: townships with an outlet, administrative
villages reached, community service points against the plan's 20,000, communities holding
one, locker areas covered, and the cost per tier. The result is typed and has no words:
``siting.outputs.city`` writes the city report and map from it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from siting._errors import ScenarioError
from siting.config import _schema, scenario
from siting.config._schema import positive, spec
from siting.run.phrases import Kind, Phrase

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


def aggregate(cfg: CityConfig, counties: list[CountyOutcome]) -> CitySummary:
    """The city report: each target summed over the counties."""
    totals = _totals(counties)
    points = sum(int(c.sites[c.sites["tier"] == "community"].shape[0]) for c in counties)
    comp = _compartments(counties)
    targets = [_summed("township_cover", totals), _summed("village_cover", totals),
               _target("community_plan", cfg.plan_community_points, points,
                       n=cfg.plan_community_points),
               _summed("community_each", totals), _summed("locker_cover", totals)]
    if comp:
        targets.append(_target("compartments", cfg.plan_compartments, comp["open"],
                               n=cfg.plan_compartments))
    return CitySummary(
        title=cfg.title, lang=cfg.lang,
        generated_counties=[c.name for c in counties if c.generated],
        targets=[t for t in targets if t is not None], sites=_tier_totals(counties),
        cost_total=round(sum(c.summary["cost"]["total"] for c in counties), 2),
        compartments=comp, counties=[_row(c) for c in counties])


def _totals(counties: list[CountyOutcome]) -> dict[str, dict[str, float]]:
    """Required and achieved of each county target (not weights), summed by key."""
    totals: dict[str, dict[str, float]] = {}
    for c in counties:
        for t in c.summary["targets"]:
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
        solver_status=s["solver"]["status"], gap=s["solver"]["gap"],
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
