"""The citywide run: every county's scenario, then one report against the plan's totals.

``models/city.toml`` lists the county scenarios. Each runs in turn exactly as
``siting run`` would (its own outputs in ``maps/<county>/``), and the city report adds them
up target by target: townships with an outlet, administrative villages reached, community
service points against the plan's 20,000, communities holding one, locker areas covered, and
the cost per tier. Counties run on generated data are named as such.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, cast

import geopandas as gpd
import pandas as pd

from siting._atomic import probe, staging
from siting._errors import ScenarioError
from siting.config import _schema, scenario
from siting.config._schema import positive, spec
from siting.outputs import kpi, labels, report, report_html
from siting.outputs import write as outputs
from siting.run import pipeline

log = logging.getLogger(__name__)


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


def run_county(path: Path, out_root: Path, *, lang: str | None = None,
               progress: pipeline.ProgressFactory | None = None,
               cache: Path | None = None) -> CountyOutcome:
    """Run one county scenario, write its outputs, keep what the city report needs."""
    start = time.perf_counter()
    s = scenario.load(path, cache=cache)
    if lang:
        s = replace(s, lang=cast(Literal["zh", "en"], lang))
    probe(out_root / s.name, kind="run", label=s.name)
    result = pipeline.run(s, progress=progress)
    outputs.write_all(result, out_root / s.name)
    return CountyOutcome(
        name=s.name, title=s.title or s.name, generated=result.generated,
        summary=report.summary(result),
        sites=outputs.site_table(result).assign(county=s.name),
        townships=kpi.townships(result).assign(county=s.name),
        seconds=time.perf_counter() - start)


def aggregate(cfg: CityConfig, counties: list[CountyOutcome]) -> dict[str, Any]:
    """The city report: each target summed over the counties."""
    totals: dict[str, dict[str, float]] = {}
    for c in counties:
        for t in c.summary["targets"]:
            kind = t["key"]
            if t["unit"] == "weight":
                continue
            agg = totals.setdefault(kind, {"required": 0.0, "achieved": 0.0, "counties": 0})
            agg["required"] += t["required"]
            agg["achieved"] += t["achieved"]
            agg["counties"] += 1
    points = sum(int(c.sites[c.sites["tier"] == "community"].shape[0]) for c in counties)
    cost: dict[str, dict[str, float]] = {}
    for c in counties:
        for tier, s in c.summary["sites"].items():
            d = cost.setdefault(tier, {"new": 0, "existing": 0, "cost": 0.0})
            d["new"] += s["new"]
            d["existing"] += s["existing"]
            d["cost"] += s["cost"]
    lang = cfg.lang
    comp = _compartments(counties)
    targets = [
        _target("township_cover", labels.city_text("township", lang), totals),
        _target("village_cover", labels.city_text("village", lang), totals),
        {"key": "community_plan", "target": labels.city_text("community_plan", lang,
                                                             n=cfg.plan_community_points),
         "required": cfg.plan_community_points, "achieved": points,
         "met": points >= cfg.plan_community_points},
        _target("community_each", labels.city_text("community_each", lang), totals),
        _target("locker_cover", labels.city_text("locker", lang), totals),
    ]
    if comp:
        targets.append({"key": "compartments", "target": labels.city_text(
            "compartments", lang, n=cfg.plan_compartments), "required": cfg.plan_compartments,
            "achieved": comp["open"], "met": comp["open"] >= cfg.plan_compartments})
    return {
        "title": cfg.title, "lang": lang,
        "generated_counties": [c.name for c in counties if c.generated],
        "targets": [t for t in targets if t is not None],
        "sites": cost,
        "cost_total": round(sum(c.summary["cost"]["total"] for c in counties), 2),
        "compartments": comp,
        "counties": [{"name": c.name, "title": c.title, "generated": c.generated,
                      "seconds": round(c.seconds, 2),
                      "targets_met": sum(t["met"] is True for t in c.summary["targets"]),
                      "targets": sum(t["met"] is not None for t in c.summary["targets"]),
                      "solver_status": c.summary["solver"]["status"],
                      "gap": c.summary["solver"]["gap"],
                      "network_nodes": c.summary["counts"]["network_nodes"],
                      "network_segments": c.summary["counts"]["network_segments"],
                      "villages": _required(c, "village_cover"),
                      "communities": _required(c, "community_each"),
                      "demand": {t: s["demand_units"] for t, s in c.summary["sites"].items()},
                      "sites": {t: s["new"] + s["existing"]
                                for t, s in c.summary["sites"].items()},
                      "solve_s": c.summary["timings_s"]["solve"],
                      "cost": c.summary["cost"]["total"],
                      "compartments": c.summary.get("compartments") or {},
                      "unmet": {t["key"]: t["failing"] for t in c.summary["targets"]
                                if t["met"] is False}} for c in counties],
    }


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


def _target(key: str, text: str, totals: dict[str, dict[str, float]]) -> dict[str, Any] | None:
    t = totals.get(key)
    if t is None:
        return None
    return {"key": key, "target": text, "required": t["required"], "achieved": t["achieved"],
            "met": t["achieved"] >= t["required"]}


def write(cfg: CityConfig, counties: list[CountyOutcome], out: Path) -> dict[str, Any]:
    """Write the city outputs (report.json/.md/.html, sites.csv, map.html) atomically."""
    summary = aggregate(cfg, counties)
    sites = pd.concat([c.sites for c in counties], ignore_index=True)
    towns = pd.concat([c.townships for c in counties], ignore_index=True)
    with staging(out, kind="city", label=cfg.name) as tmp:
        (tmp / "report.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2,
                                                    default=report._plain), encoding="utf-8")
        (tmp / "report.md").write_text(_markdown(summary), encoding="utf-8")
        report_html.write_city(summary, tmp / "report.html")
        sites.to_csv(tmp / "sites.csv", index=False, encoding="utf-8-sig", lineterminator="\n")
        from siting.outputs import webmap

        webmap.write_city(cfg, summary, sites, gpd.GeoDataFrame(towns, crs="EPSG:4326"),
                          tmp / "map.html")
    return summary


def _count(n: int | None) -> str:
    return "—" if n is None else f"{n:,}"


def _markdown(d: dict[str, Any]) -> str:
    zh = d["lang"] == "zh"
    lines = [f"# {d['title']}", ""]
    if d["generated_counties"]:
        lines += ["**" + ("以下县区基于生成数据（非真实数据）：" if zh else
                          "Counties run on GENERATED data (not real): ")
                  + ", ".join(d["generated_counties"]) + "**", ""]
    head = "| 目标 | 要求 | 实际 | 结果 |" if zh else "| target | required | achieved | result |"
    lines += [head, "|---|---:|---:|---|"]
    for t in d["targets"]:
        met = labels.t("met" if t["met"] else "not met", d["lang"])
        lines.append(f"| {t['target']} | {t['required']:,.0f} | {t['achieved']:,.0f} | {met} |")
    lines += ["", "| 类型 | 新建 | 现有 | 费用 |" if zh else "| tier | new | existing | cost |",
              "|---|---:|---:|---:|"]
    for tier, s in d["sites"].items():
        lines.append(f"| {labels.t(tier, d['lang'])} | {s['new']:,} | {s['existing']:,} | "
                     f"{s['cost']:,.0f} |")
    comp = d.get("compartments") or {}
    lines += ["", f"{'总费用' if zh else 'Total cost'}: **{d['cost_total']:,.0f}**", ""]
    if comp:
        lines += [("智能快件箱格口" if zh else "Locker compartments") + f": {comp['open']:,.0f} "
                  f"({labels.t('existing', d['lang'])} {comp['existing']:,.0f}, "
                  f"{labels.t('new', d['lang'])} {comp['new']:,.0f}; "
                  + ("需求" if zh else "needed") + f" {comp['needed']:,.0f})", ""]
    tiers = list(d["sites"])
    lines += ["| county | generated | villages | communities | nodes | segments | "
              + " | ".join(f"sites: {t}" for t in tiers)
              + " | targets met | solver | gap | solve s | cost | s |",
              "|---|---|" + "---:|" * (4 + len(tiers)) + "---:|---|---:|---:|---:|---:|"]
    for c in d["counties"]:
        gap = "—" if c["gap"] is None else f"{100 * c['gap']:.3g}%"
        per_tier = " | ".join(f"{c['sites'].get(t, 0):,}" for t in tiers)
        lines.append(f"| {c['name']} | {'yes' if c['generated'] else 'no'} | "
                     f"{_count(c.get('villages'))} | {_count(c.get('communities'))} | "
                     f"{c['network_nodes']:,} | {c['network_segments']:,} | {per_tier} | "
                     f"{c['targets_met']}/{c['targets']} | {c['solver_status']} | {gap} | "
                     f"{c['solve_s']:.1f} | {c['cost']:,.0f} | {c['seconds']:.1f} |")
    unmet = [(c["name"], key, units) for c in d["counties"]
             for key, units in c.get("unmet", {}).items() if units]
    if unmet:
        lines += ["", "## " + ("未达标的单元" if zh else "Units not served"), ""]
        lines += [f"- {name} · {key}: " + ", ".join(units) for name, key, units in unmet]
    return "\n".join(lines) + "\n"
