"""The city's outputs: report.json/.md/.html, sites.csv and map.html in ``maps/<city>/``.

:func:`outcome` keeps what the city report needs of one county's run;
:func:`write` words the typed :class:`~siting.run.city.CitySummary` (labels, templates)
and writes every file atomically.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import geopandas as gpd
import offlinefolium as folium
import pandas as pd
from offlinefolium import plugins

from siting._atomic import staging
from siting.outputs import charts, handout, kpi, labels, render, report, style
from siting.outputs import write as outputs
from siting.outputs.style import COVERED, UNCOVERED
from siting.outputs.webmap import _lean, _metric_scale, add_html, esc
from siting.run.city import CityConfig, CitySummary, CityTarget, CountyOutcome, aggregate
from siting.run.results import RunResult


def outcome(result: RunResult, *, seconds: float) -> CountyOutcome:
    """What the city report keeps of one county's run (its outputs already written)."""
    s = result.scenario
    return CountyOutcome(
        name=s.name, title=s.title or s.name, generated=result.generated,
        summary=report.summary(result),
        sites=handout.site_table(result).assign(county=s.name),
        townships=kpi.townships(result).assign(county=s.name), seconds=seconds)


def as_dict(summary: CitySummary) -> dict[str, Any]:
    """The city report's facts as JSON-ready data, each target's sentence worded."""
    d = asdict(summary)
    d["targets"] = _worded(summary.targets, summary.lang)
    if summary.phasing is not None:
        for y, year in zip(d["phasing"]["years"], summary.phasing.years, strict=True):
            y["targets"] = _worded(year.targets, summary.lang)
    return d


def _worded(targets: list[CityTarget], lang: str) -> list[dict[str, Any]]:
    """Citywide targets as JSON-ready rows, each with its sentence in ``lang``."""
    return [{"key": t.key, "target": labels.phrase(t.phrase, lang), "required": t.required,
             "achieved": t.achieved, "met": t.met} for t in targets]


def write(cfg: CityConfig, counties: list[CountyOutcome], out: Path, *,
          tasks: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Write the city outputs (report.json/.md/.html, sites.csv, map.html) atomically.

    ``tasks`` (one row per county task: status, time, attempts) goes into the report, with
    the number of tasks run again after a worker was lost.
    """
    d = as_dict(aggregate(cfg, counties))
    if tasks is not None:
        d["tasks"] = tasks
        d["retries"] = sum(t["attempts"] - 1 for t in tasks)
    sites = pd.concat([c.sites for c in counties], ignore_index=True)
    towns = gpd.GeoDataFrame(pd.concat([c.townships for c in counties], ignore_index=True),
                             crs="EPSG:4326")
    with staging(out, kind="city", label=cfg.name) as tmp:
        (tmp / "report.json").write_text(json.dumps(d, ensure_ascii=False, indent=2,
                                                    default=report._plain), encoding="utf-8")
        (tmp / "report.md").write_text(_page("city.md.j2", d), encoding="utf-8")
        (tmp / "report.html").write_text(_page("city.html.j2", d), encoding="utf-8")
        outputs.write_table(sites, tmp / "sites.csv", lang=d["lang"])
        write_map(cfg, d, sites, towns, tmp / "map.html")
    return d


def _page(template: str, d: dict[str, Any]) -> str:
    """The city report from ``template`` (markdown or HTML)."""
    tiers = list(d["sites"])
    said = {t["key"]: t["target"] for t in d["targets"]}
    unmet = [(c["title"], said.get(key, key), units) for c in d["counties"]
             for key, units in c.get("unmet", {}).items() if units]
    bars = charts.bars([(c["name"], c["sites"]) for c in d["counties"]], tiers)
    names = [labels.t(t, d["lang"]) for t in tiers]
    phasing = d.get("phasing")
    return render.render(template, lang=d["lang"], d=d, tiers=tiers, tier_names=names,
                         unmet=unmet, bars=bars, levels=_levels(phasing),
                         phasing_note=_phasing_note(phasing, labels.Words(d["lang"])))


def _phasing_note(phasing: dict[str, Any] | None, w: labels.Words) -> str:
    """What the build order's table sums, which counties it leaves out or leaves unbuilt."""
    if not phasing:
        return ""
    said = [w("city_phasing_rule")]
    if phasing["not_phased"]:
        said.append(w.fill("city_phasing_not_phased", counties=w.join(phasing["not_phased"])))
    if phasing["unbuilt"]:
        said.append(w.fill("city_phasing_unbuilt", counties=w.join(
            w.fill("city_phasing_unbuilt_county", county=k, n=n)
            for k, n in phasing["unbuilt"].items())))
    elif not phasing["not_phased"]:
        said.append(w("city_phasing_complete"))
    return w.sentences(said)


def _levels(phasing: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The build order's targets table: a row per citywide target, its level each year-end."""
    if not phasing:
        return []
    years = phasing["years"]
    found = [{t["key"]: t for t in y["targets"]} for y in years]
    return [{"target": t["target"], "required": t["required"],
             "years": [f.get(t["key"]) for f in found]} for t in years[-1]["targets"]]


def write_map(cfg: CityConfig, summary: dict[str, Any], sites: pd.DataFrame,
              towns: gpd.GeoDataFrame, path: Path) -> None:
    """The citywide map: townships shaded by village reach, sites clustered per tier."""
    w = labels.Words(cfg.lang)
    m = folium.Map(location=[34.72, 113.62], zoom_start=9, tiles=None, control_scale=False,
                   prefer_canvas=True)
    m.options["maxZoom"] = 19
    if len(towns):                                     # open on the counties run, not a fixed view
        west, south, east, north = (float(v) for v in towns.total_bounds)
        m.fit_bounds([[south, west], [north, east]])
    _metric_scale(m)
    _township_layer(m, towns, w)
    for tier in ("township", "village", "community", "locker"):
        sel = sites[sites["tier"] == tier]
        if len(sel) == 0:
            continue
        data = [[round(float(a), 6), round(float(b), 6), esc(n), st] for a, b, n, st in
                zip(sel["lat"], sel["lon"], sel["name"].fillna(""), sel["status"], strict=True)]
        plugins.FastMarkerCluster(data, name=f"{w(tier)} ({len(sel):,})",
                                  callback=_CLUSTER_CALLBACK).add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    add_html(m, render.render(
        "city_map_boxes.html.j2", lang=cfg.lang, title=cfg.title,
        generated=bool(summary["generated_counties"]), total=len(summary["targets"]),
        met=sum(1 for t in summary["targets"] if t["met"])))
    m.save(str(path))


def _township_layer(m: folium.Map, towns: gpd.GeoDataFrame, w: labels.Words) -> None:
    """Townships filled by their share of villages reached, key figures on hover."""
    features = []
    for row in towns.itertuples(index=False):
        units = getattr(row, "village_units", 0) or 0
        served = getattr(row, "village_served", 0) or 0
        share = served / units if units else 1.0
        props = {"name": esc(row.name), "code": esc(row.code), "county": esc(row.county),
                 "villages": f"{served}/{units}" if units else "—",
                 "outlets": int(getattr(row, "township_sites", 0) or 0),
                 "community": int(getattr(row, "community_sites", 0) or 0),
                 "lockers": int(getattr(row, "locker_sites", 0) or 0), "share": share}
        features.append({"type": "Feature", "properties": props,
                         "geometry": _lean(row.geometry, 2e-4)})
    aliases = {"name": w("name"), "code": w("site"), "county": w("county"),
               "villages": w("villages_reached"), "outlets": w("township"),
               "community": w("community"), "lockers": w("locker")}
    folium.GeoJson(
        {"type": "FeatureCollection", "features": features}, name=w("townships"),
        style_function=lambda f: {"fillColor": COVERED if f["properties"]["share"] >= 1
                                  else UNCOVERED, "color": style.OUTLINE, "weight": 1,
                                  "fillOpacity": 0.15 + 0.35 * (1 - f["properties"]["share"])},
        tooltip=folium.GeoJsonTooltip(fields=list(aliases), aliases=list(aliases.values())),
    ).add_to(m)


_CLUSTER_CALLBACK = f"""function (row) {{
    var marker = L.circleMarker(new L.LatLng(row[0], row[1]),
        {{radius: 5, weight: 1, color: row[3] === 'existing' ? '{style.CITY_EXISTING}' :
         '{style.CITY_NEW}', fillOpacity: 0.8}});
    var label = document.createElement('span');
    label.innerHTML = row[2];  // HTML-escaped by siting.outputs.webmap.esc: shows as text
    marker.bindTooltip(label);
    return marker;
}}"""
