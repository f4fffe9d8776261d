"""The interactive map: one self-contained HTML file (Folium, every asset inlined).

Built with ``offlinefolium`` (the ``folium-offline`` package: folium 0.20 with Leaflet, its
plugins, Bootstrap and Font Awesome embedded), so the page makes no network request; the
background is drawn from the run's own roads unless ``[map] tiles`` names a tile source.
Every value that comes from an input file is HTML-escaped before it reaches the page.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import numpy as np
import offlinefolium as folium
import pandas as pd
import shapely
from branca.element import Element
from offlinefolium import plugins

from siting.outputs import labels, report, tables
from siting.run.results import RunResult

TIER_STYLE = {  # marker colour (new), icon (Font Awesome 4 names)
    "township": ("darkblue", "building"),
    "village": ("green", "home"),
    "community": ("purple", "users"),
    "locker": ("orange", "archive"),
}
EXISTING_COLOR = "gray"
COVERED, UNCOVERED, NEUTRAL = "#2b8a3e", "#e03131", "#868e96"


def esc(value: object) -> str:
    """HTML-escape a value for the page (input data is never trusted)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return html.escape(str(value), quote=True)


def title_of(result: RunResult) -> str:
    """The map's title, saying "generated data" when it applies."""
    s = result.scenario
    text = s.title or s.name
    if result.generated and "生成数据" not in text and "generated" not in text.lower():
        text += "（生成数据）" if s.lang == "zh" else " (generated data)"
    return text


CLUSTER_ABOVE = 100
"""A tier with more site markers than this is drawn with marker clustering."""
HIDE_ABOVE = 500
"""A tier with more site markers than this starts hidden (its layer switch shows it)."""


def build(result: RunResult) -> folium.Map:
    """The Folium map of a run."""
    lang = result.scenario.lang
    net = result.network
    m = folium.Map(location=[float(np.median(net.lat)), float(np.median(net.lon))],
                   zoom_start=15, tiles=None, control_scale=False, prefer_canvas=True)
    m.options["maxZoom"] = 19          # marker clustering needs it when there are no tiles
    _metric_scale(m)
    _base(m, result)
    _roads(m, result)
    _townships(m, result)
    tiers = [t for t, tr in result.tiers.items() if tr.config.demand != "townships"]
    for name in tiers:
        _demand_layer(m, result, name, show=(name == tiers[0]))
    for name in result.scenario.map.service_areas:
        if name in result.tiers and result.tiers[name].config.reach == "road":
            _service_areas(m, result, name)
    for name in result.tiers:
        _site_layer(m, result, name)
    _search(m, result)
    plugins.Fullscreen(position="topleft").add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    lon, lat = result.demand["lon"].to_numpy(), result.demand["lat"].to_numpy()
    if len(lon) == 0:
        lon, lat = net.lon, net.lat
    m.fit_bounds([[float(lat.min()), float(lon.min())], [float(lat.max()), float(lon.max())]])
    _title_and_legend(m, result, lang)
    return m


def write(result: RunResult, path: Path) -> None:
    """Write ``map.html``."""
    build(result).save(str(path))


def _base(m: folium.Map, result: RunResult) -> None:
    tiles = result.scenario.map.tiles
    osm = "© OpenStreetMap contributors (ODbL)"
    if tiles == "osm":
        folium.TileLayer("OpenStreetMap", attr=osm, name="OSM").add_to(m)
    elif tiles != "none":
        folium.TileLayer(tiles, attr=osm, name="tiles").add_to(m)
    # the drawn data's own source: OSM for a real extract, the generator and frame otherwise
    m.get_root().html.add_child(Element(
        f'<div class="siting-attr">{esc(report.attribution(result))}</div>'))


def _roads(m: folium.Map, result: RunResult) -> None:
    net = result.network
    keep = np.flatnonzero(net.walk | net.drive)
    major = np.isin(net.highway[keep], ["motorway", "trunk", "primary", "secondary",
                                        "tertiary", "motorway_link", "trunk_link",
                                        "primary_link", "secondary_link"])
    features = []
    for cls, sel in (("major", keep[major]), ("minor", keep[~major])):
        lines = [[[float(net.lon[a]), float(net.lat[a])], [float(net.lon[b]), float(net.lat[b])]]
                 for a, b in zip(net.u[sel], net.v[sel], strict=True)]
        if lines:
            features.append({"type": "Feature", "properties": {"cls": cls},
                             "geometry": {"type": "MultiLineString", "coordinates": lines}})
    layer = folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        name=labels.t("roads", result.scenario.lang), control=True,
        style_function=lambda f: {"color": "#495057" if f["properties"]["cls"] == "major"
                                  else "#adb5bd",
                                  "weight": 2.5 if f["properties"]["cls"] == "major" else 1,
                                  "opacity": 0.9},
        interactive=False)
    layer.add_to(m)


def _demand_layer(m: folium.Map, result: RunResult, tier: str, *, show: bool) -> None:
    lang = result.scenario.lang
    tr = result.tiers[tier]
    rows = np.concatenate([tr.rows, tr.each_rows])
    units = result.demand.iloc[rows]
    served = result.outcomes[tier].served[rows]
    dist = result.outcomes[tier].dist_m[rows]
    features = []
    for geom, code, name, cls, pop, floor, ok, d in zip(
            units.geometry, units["code"], units["name"], units["class"], units["population"],
            units["floor_m2"], served, dist, strict=True):
        size = f"{floor:,.0f} m²" if floor else (f"{pop:,.0f}" if pop else "—")
        props = {
            "name": esc(name) or esc(code), "code": esc(code),
            "class": esc(labels.unit(str(cls), lang)), "size": size,
            "dist": "—" if np.isnan(d) else f"{d:,.0f} m",
            "state": esc(labels.t("covered" if ok else "uncovered", lang)), "ok": bool(ok)}
        features.append({"type": "Feature", "properties": props, "geometry": _lean(geom)})
    kind = {"osm_buildings": "buildings", "villages": "villages"}.get(
        str(units["layer"].iloc[0]) if len(units) else "", "areas")
    layer = f"{labels.t(tier, lang)} · {labels.t(kind, lang)}"
    fields = ["name", "code", "class", "size", "dist", "state"]
    aliases = [labels.t(k, lang) for k in ("name", "site", "class", "floor area", "distance",
                                           "status")]
    folium.GeoJson(
        {"type": "FeatureCollection", "features": features}, name=layer, show=show,
        style_function=lambda f: {"fillColor": COVERED if f["properties"]["ok"] else UNCOVERED,
                                  "color": COVERED if f["properties"]["ok"] else UNCOVERED,
                                  "weight": 1, "fillOpacity": 0.55},
        tooltip=folium.GeoJsonTooltip(fields=fields, aliases=aliases, sticky=True),
    ).add_to(m)


def _lean(geom: shapely.Geometry, tolerance: float = 0.0) -> dict[str, Any]:
    """GeoJSON of a geometry, coordinates rounded to 1e-6° (~0.1 m), optionally simplified."""
    if tolerance > 0:
        geom = shapely.simplify(geom, tolerance, preserve_topology=True)
    geom = shapely.transform(geom, lambda xy: np.round(xy, 6))
    return json.loads(shapely.to_geojson(geom))


def _site_layer(m: folium.Map, result: RunResult, tier: str) -> None:
    lang = result.scenario.lang
    rows = tables.open_sites(result)
    rows = rows[rows["tier"] == tier]
    color, icon = TIER_STYLE[tier]
    name = f"{labels.t(tier, lang)} ({len(rows):,})"
    show = len(rows) <= HIDE_ABOVE
    if len(rows) > CLUSTER_ABOVE:
        group = plugins.MarkerCluster(name=name, show=show, disableClusteringAtZoom=17)
    else:
        group = folium.FeatureGroup(name=name, show=show)
    for r in rows.itertuples(index=False):
        existing = r.status == "existing"
        popup = _popup(r, tier, lang)
        folium.Marker(
            [float(r.lat), float(r.lon)],
            icon=folium.Icon(color=EXISTING_COLOR if existing else color, icon=icon,
                             prefix="fa"),
            tooltip=esc(f"{labels.t(tier, lang)} · {labels.t(r.status, lang)} · {r.site_id}"),
            popup=folium.Popup(popup, max_width=320),
        ).add_to(group)
    group.add_to(m)


def _metric_scale(m: folium.Map) -> None:
    """A metric scale bar at the bottom right (the legend sits bottom left)."""
    from branca.element import MacroElement, Template

    scale = MacroElement()
    scale._template = Template(
        "{% macro script(this, kwargs) %}"
        "L.control.scale({imperial: false, position: 'bottomright'})"
        ".addTo({{ this._parent.get_name() }});{% endmacro %}")
    m.add_child(scale)


def _townships(m: folium.Map, result: RunResult) -> None:
    """Township polygons filled by their share of served units, key figures on hover."""
    from siting.outputs import kpi

    towns = kpi.townships(result)
    if len(towns) == 0:
        return
    lang = result.scenario.lang
    tiers = list(result.tiers)
    features = []
    for row in towns.itertuples(index=False):
        units = sum(getattr(row, f"{t}_units") for t in tiers)
        served = sum(getattr(row, f"{t}_served") for t in tiers)
        share = served / units if units else 1.0
        props = {"name": esc(row.name), "code": esc(row.code), "share": round(share, 4),
                 "served": f"{served:,}/{units:,}"}
        for t in tiers:
            props[t] = (f"{getattr(row, f'{t}_sites'):,} "
                        f"({labels.t('new', lang)} {getattr(row, f'{t}_new'):,})")
        features.append({"type": "Feature", "properties": props,
                         "geometry": _lean(row.geometry, 1e-5)})
    fields = ["name", "code", "served", *tiers]
    aliases = [labels.t("township_unit", lang), labels.t("site", lang),
               "已服务/需求单元" if lang == "zh" else "units served", *(labels.t(t, lang)
                                                                   for t in tiers)]
    folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        name=labels.t("townships", lang), show=True,
        style_function=lambda f: {
            "fillColor": COVERED if f["properties"]["share"] >= 1 else UNCOVERED,
            "fillOpacity": 0.05 + 0.3 * (1 - f["properties"]["share"]),
            "color": "#343a40", "weight": 1.5},
        highlight_function=lambda f: {"weight": 3, "fillOpacity": 0.35},
        tooltip=folium.GeoJsonTooltip(fields=fields, aliases=aliases, sticky=True),
    ).add_to(m)
    outline = shapely.union_all(towns.geometry.to_numpy())
    folium.GeoJson(_lean(outline, 1e-5), name="区县边界" if lang == "zh" else "county boundary",
                   style_function=lambda f: {"color": "#212529", "weight": 3,
                                             "fill": False},
                   interactive=False).add_to(m)


def _service_areas(m: folium.Map, result: RunResult, tier: str) -> None:
    """The roads each open site of ``tier`` reaches within the radius (not a circle)."""
    from siting.run import service

    lang = result.scenario.lang
    lines = service.reached_roads(result, tier)
    if not lines:
        return
    features = [{"type": "Feature", "properties": {"site": esc(site)},
                 "geometry": _lean(geom)} for site, geom in lines]
    css = _css(TIER_STYLE[tier][0])
    folium.GeoJson({"type": "FeatureCollection", "features": features},
                   name=f"{labels.t(tier, lang)} · {labels.t('service_area', lang)}",
                   show=False,
                   style_function=lambda f: {"color": css, "weight": 3, "opacity": 0.7},
                   tooltip=folium.GeoJsonTooltip(fields=["site"],
                                                 aliases=[labels.t("site", lang)]),
                   ).add_to(m)


def _search(m: folium.Map, result: RunResult) -> None:
    """A search box over demand units and sites, by name or code (small circle markers)."""
    lang = result.scenario.lang
    u = result.demand
    rows = tables.open_sites(result)
    features = []
    for name, code, lon, lat in zip(u["name"], u["code"], u["lon"], u["lat"], strict=True):
        features.append(_point(f"{name} {code}".strip(), lon, lat))
    for name, sid, lon, lat in zip(rows["name"], rows["site_id"], rows["lon"], rows["lat"],
                                   strict=True):
        features.append(_point(f"{name or ''} {sid}".strip(), lon, lat))
    layer = folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        name="搜索" if lang == "zh" else "search", show=True, control=False,
        marker=folium.CircleMarker(radius=1, opacity=0, fill_opacity=0),
    ).add_to(m)
    plugins.Search(layer=layer, search_label="label", position="topright", collapsed=False,
                   placeholder="名称或代码…" if lang == "zh" else "name or code…",
                   search_zoom=16).add_to(m)
    # the plugin's CSS shows ../images/loader.gif while searching, a file not inlined: the
    # browser asks for it beside map.html and logs an error (tests/test_browser.py)
    m.get_root().html.add_child(Element(
        "<style>.leaflet-control-search.search-load .search-input"
        "{background-image:none}</style>"))


def _point(label: str, lon: float, lat: float) -> dict[str, Any]:
    return {"type": "Feature", "properties": {"label": esc(label)},
            "geometry": {"type": "Point", "coordinates": [round(float(lon), 6),
                                                          round(float(lat), 6)]}}


def _popup(r: Any, tier: str, lang: str) -> str:
    rows = [(labels.t("site", lang), r.site_id), (labels.t("tier", lang), labels.t(tier, lang)),
            (labels.t("status", lang), labels.t(r.status, lang)),
            (labels.t("name", lang), r.name or "—"),
            (labels.t("cost", lang), f"{r.cost:,.0f}"),
            (labels.t("reach", lang), f"{r.reach_units:,}"),
            ("lon, lat", f"{r.lon:.6f}, {r.lat:.6f}")]
    cells = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in rows)
    return f'<table class="siting-popup">{cells}</table>'


def _title_and_legend(m: folium.Map, result: RunResult, lang: str) -> None:
    items = [f'<div><span class="sw" style="background:{COVERED}"></span>'
             f'{esc(labels.t("covered", lang))}</div>',
             f'<div><span class="sw" style="background:{UNCOVERED}"></span>'
             f'{esc(labels.t("uncovered", lang))}</div>']
    for tier in result.tiers:
        color, icon = TIER_STYLE[tier]
        items.append(f'<div><i class="fa fa-{icon}" style="color:{_css(color)}"></i> '
                     f'{esc(labels.t(tier, lang))} ({esc(labels.t("new", lang))})</div>')
    items.append(f'<div><span class="sw" style="background:#575757"></span>'
                 f'{esc(labels.t("existing", lang))}'
                 f'{esc("（灰色标记）" if lang == "zh" else " (grey markers)")}</div>')
    counts = pd.Series([r.met for r in result.results])
    met = int((counts == True).sum())  # noqa: E712 (None means informational)
    total = int(counts.notna().sum())
    summary = (f"规划目标达标 {met}/{total}" if lang == "zh" else f"targets met {met}/{total}")
    m.get_root().html.add_child(Element(f"""
<div id="siting-title" class="siting-box">{esc(title_of(result))}
  <div class="sub">{esc(summary)}</div></div>
<div id="siting-legend" class="siting-box"><b>{esc(labels.t("legend", lang))}</b>
  {''.join(items)}</div>
<style>
.siting-box {{position:fixed; z-index:9999; background:rgba(255,255,255,.93); padding:6px 10px;
  border-radius:6px; box-shadow:0 1px 4px rgba(0,0,0,.3); font:13px/1.5 sans-serif;}}
#siting-title {{top:10px; left:60px; font-size:16px; font-weight:600; max-width:60%;}}
#siting-title .sub {{font-size:12px; font-weight:400; color:#495057;}}
#siting-legend {{bottom:44px; left:10px;}}
.leaflet-control-search .search-input {{width:200px;}}
#siting-legend .sw {{display:inline-block; width:12px; height:12px; margin-right:6px;
  border-radius:2px; vertical-align:-1px;}}
#siting-legend i {{width:16px; text-align:center;}}
.siting-attr {{position:fixed; bottom:2px; right:6px; z-index:9999; font:11px sans-serif;
  color:#495057; background:rgba(255,255,255,.7); padding:0 4px;}}
table.siting-popup th {{text-align:left; padding-right:8px; color:#495057;}}
</style>"""))


def _css(color: str) -> str:
    return {"darkblue": "#0b3d91", "green": "#2b8a3e", "purple": "#7048e8",
            "orange": "#f08c00"}.get(color, color)


def write_city(cfg: Any, summary: dict[str, Any], sites: pd.DataFrame,
               towns: Any, path: Path) -> None:
    """The citywide map: townships shaded by village reach, sites clustered per tier."""
    lang = cfg.lang
    m = folium.Map(location=[34.72, 113.62], zoom_start=9, tiles=None, control_scale=False,
                   prefer_canvas=True)
    m.options["maxZoom"] = 19
    if len(towns):                                     # open on the counties run, not a fixed view
        west, south, east, north = (float(v) for v in towns.total_bounds)
        m.fit_bounds([[south, west], [north, east]])
    _metric_scale(m)
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
    aliases = {"name": labels.t("name", lang), "code": labels.t("site", lang),
               "county": "区县" if lang == "zh" else "county",
               "villages": "行政村通达" if lang == "zh" else "villages reached",
               "outlets": labels.t("township", lang), "community": labels.t("community", lang),
               "lockers": labels.t("locker", lang)}
    folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        name=labels.t("townships", lang),
        style_function=lambda f: {"fillColor": COVERED if f["properties"]["share"] >= 1
                                  else UNCOVERED, "color": "#343a40", "weight": 1,
                                  "fillOpacity": 0.15 + 0.35 * (1 - f["properties"]["share"])},
        tooltip=folium.GeoJsonTooltip(fields=list(aliases), aliases=list(aliases.values())),
    ).add_to(m)
    for tier in ("township", "village", "community", "locker"):
        sel = sites[sites["tier"] == tier]
        if len(sel) == 0:
            continue
        data = [[round(float(a), 6), round(float(b), 6), esc(n), st] for a, b, n, st in
                zip(sel["lat"], sel["lon"], sel["name"].fillna(""), sel["status"], strict=True)]
        plugins.FastMarkerCluster(
            data, name=f"{labels.t(tier, lang)} ({len(sel):,})",
            callback=_CLUSTER_CALLBACK).add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    met = sum(1 for t in summary["targets"] if t["met"])
    note = ("（含生成数据）" if lang == "zh" else " (includes generated data)") \
        if summary["generated_counties"] else ""
    m.get_root().html.add_child(Element(
        f'<div id="siting-title" class="siting-box">{esc(cfg.title)}{esc(note)}'
        f'<div class="sub">{esc("规划目标达标" if lang == "zh" else "targets met")} '
        f'{met}/{len(summary["targets"])}</div></div>' + _city_legend(lang) + _STYLE))
    m.save(str(path))


def _city_legend(lang: str) -> str:
    """Township fill by village reach; site dots existing or new; clusters count sites."""
    zh = lang == "zh"
    rows = [(f"background:{COVERED}", "行政村全部通达" if zh else "every village reached"),
            (f"background:{UNCOVERED}", "有行政村未通达" if zh else "villages not reached"),
            ("background:#e8590c; border-radius:50%", labels.t("new", lang)),
            ("background:#495057; border-radius:50%", labels.t("existing", lang))]
    items = "".join(f'<div><span class="sw" style="{style}"></span>{esc(text)}</div>'
                    for style, text in rows)
    note = "圆圈数字：该处站点数" if zh else "numbered circles: sites clustered there"
    return (f'<div id="siting-legend" class="siting-box"><b>{esc(labels.t("legend", lang))}</b>'
            f'{items}<div class="sub">{esc(note)}</div></div>')


_CLUSTER_CALLBACK = """function (row) {
    var marker = L.circleMarker(new L.LatLng(row[0], row[1]),
        {radius: 5, weight: 1, color: row[3] === 'existing' ? '#495057' : '#e8590c',
         fillOpacity: 0.8});
    var label = document.createElement('span');
    label.innerHTML = row[2];  // HTML-escaped by siting.outputs.webmap.esc: shows as text
    marker.bindTooltip(label);
    return marker;
}"""

_STYLE = """<style>
.siting-box {position:fixed; z-index:9999; background:rgba(255,255,255,.93); padding:6px 10px;
  border-radius:6px; box-shadow:0 1px 4px rgba(0,0,0,.3); font:13px/1.5 sans-serif;}
#siting-title {top:10px; left:60px; font-size:16px; font-weight:600; max-width:60%;}
#siting-title .sub {font-size:12px; font-weight:400; color:#495057;}
#siting-legend {bottom:44px; left:10px;}
#siting-legend .sw {display:inline-block; width:12px; height:12px; margin-right:6px;
  border-radius:2px; vertical-align:-1px;}
#siting-legend .sub {font-size:11px; color:#495057;}
</style>"""
