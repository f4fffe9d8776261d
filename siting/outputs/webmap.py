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
from branca.element import Element, Figure, MacroElement, Template
from offlinefolium import plugins

from siting.outputs import (
    labels,
    maplabels,
    naming,
    phasing,
    popups,
    render,
    report,
    shortfall,
    style,
    tables,
)
from siting.outputs.style import COVERED, UNCOVERED
from siting.run.results import RunResult


def esc(value: object) -> str:
    """HTML-escape a value for the page (input data is never trusted)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return html.escape(str(value), quote=True)


def title_of(result: RunResult) -> str:
    """The map's title, saying "generated data" when it applies."""
    s = result.scenario
    text = s.title or s.name
    if result.generated and not labels.says_generated(text):
        text += labels.t("generated_suffix", s.lang)
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
    targets = _townships(m, result)
    tiers = [t for t, tr in result.tiers.items() if tr.config.demand != "townships"]
    for name in tiers:
        targets.append(_demand_layer(m, result, name, show=(name == tiers[0])))
    for name in result.scenario.map.service_areas:
        if name in result.tiers and result.tiers[name].config.reach == "road":
            _service_areas(m, result, name)
    sites = {name: _site_layer(m, result, name) for name in result.tiers}
    _allocation_lines(m, result)
    if result.chain is not None:
        _chain_layer(m, result)
    names = folium.FeatureGroup(name=labels.t("place_names", lang), show=True).add_to(m)
    search = _search(m, result)
    plugins.Fullscreen(position="topleft").add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    lon, lat = result.demand["lon"].to_numpy(), result.demand["lat"].to_numpy()
    if len(lon) == 0:
        lon, lat = net.lon, net.lat
    m.fit_bounds([[float(lat.min()), float(lon.min())], [float(lat.max()), float(lon.max())]])
    _title_and_legend(m, result, lang)
    _fixed_ids(m)                       # before the script and filter below name elements
    _year_filter(m, result, list(sites.values()))
    _script(m, render.render(
        "map_script.js.j2", lang=lang, map=m.get_name(), labels=names.get_name(),
        zooms=LABEL_ZOOMS, items=maplabels.items(result),
        tier_groups={t: g.get_name() for t, g in sites.items()},
        targets=[g.get_name() for g in [*targets, *sites.values()]],
        search=f"{search.get_name()}searchControl"))
    return m


LABEL_ZOOMS = {"town": (0, 13), "unit": (14, 22), "site": (17, 22)}
"""Zoom levels at which each kind of place name shows (inclusive): townships at city and
county zoom, villages and communities from 14, site names from 17 (where clusters open)."""


def _script(m: folium.Map, js: str) -> None:
    """Run ``js`` after every layer of the map exists."""
    script = MacroElement()
    script._id = "script"
    script._template = Template("{% macro script(this, kwargs) %}{{ this.js }}{% endmacro %}")
    script.js = js  # type: ignore[attr-defined]
    m.add_child(script)


def _fixed_ids(m: folium.Map) -> None:
    """Number every element of the page in order, so the same run writes the same file.

    Folium names each element with a random id; the page's JavaScript refers to elements by
    those names only (and a parent files its children under their names), so renaming all
    of them before the page is rendered changes nothing but the randomness.
    """
    order: list[Any] = []
    seen: set[int] = set()
    todo: list[Any] = [m.get_root()]
    while todo:
        el = todo.pop(0)
        if id(el) in seen:
            continue
        seen.add(id(el))
        order.append(el)
        todo.extend(el._children.values())
        todo.extend(sub for part in ("header", "html", "script")
                    if hasattr(sub := getattr(el, part, None), "_children"))
    old = {id(el): el.get_name() for el in order}
    for n, el in enumerate(order, start=1):
        el._id = f"{n:08x}"
    for el in order:
        el._children = type(el._children)(
            (child.get_name() if key == old[id(child)] else key, child)
            for key, child in el._children.items())


def write(result: RunResult, path: Path) -> None:
    """Write ``map.html``."""
    build(result).save(str(path))


def add_html(m: folium.Map, html: str) -> None:
    """Add ``html`` (already escaped where it holds data) to the page's body."""
    root = m.get_root()
    assert isinstance(root, Figure)
    root.html.add_child(Element(html))


def _base(m: folium.Map, result: RunResult) -> None:
    tiles = result.scenario.map.tiles
    osm = labels.t("tiles_osm", result.scenario.lang)
    if tiles == "osm":
        folium.TileLayer("OpenStreetMap", attr=osm, name="OSM").add_to(m)
    elif tiles != "none":
        folium.TileLayer(tiles, attr=osm, name="tiles").add_to(m)


def _roads(m: folium.Map, result: RunResult) -> None:
    net = result.network
    keep = np.flatnonzero(net.walk | net.drive)
    major = np.isin(net.highway[keep], style.MAJOR_ROADS)
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
        style_function=lambda f: {"color": style.ROAD_MAJOR if f["properties"]["cls"] == "major"
                                  else style.ROAD_MINOR,
                                  "weight": 2.5 if f["properties"]["cls"] == "major" else 1,
                                  "opacity": 0.9},
        interactive=False)
    layer.add_to(m)


def _demand_layer(m: folium.Map, result: RunResult, tier: str, *,
                  show: bool) -> folium.GeoJson:
    """A tier's demand units coloured covered / not covered; facts on hover, a popup on click."""
    lang = result.scenario.lang
    tr = result.tiers[tier]
    rows = np.unique(np.concatenate([tr.rows, tr.each_rows]))
    units = result.demand.iloc[rows]
    served = result.outcomes[tier].served[rows]
    names = _site_names(result, tier)
    features = []
    for row, geom, code, name, cls, ok in zip(
            rows, units.geometry, units["code"], units["name"], units["class"], served,
            strict=True):
        props = {
            "name": esc(name) or esc(code), "code": esc(code),
            "class": esc(labels.unit(str(cls), lang)),
            "state": esc(labels.t("covered" if ok else "uncovered", lang)), "ok": bool(ok),
            "ref": f"u{row}",
            "popup": popups.html(popups.unit_rows(result, tier, int(row), names), lang)}
        features.append({"type": "Feature", "properties": props, "geometry": _lean(geom)})
    kind = str(units["layer"].iloc[0]) if len(units) else "areas"
    what = {"osm_buildings": "buildings", "villages": "villages"}.get(kind, "areas")
    layer = f"{labels.t(tier, lang)} · {labels.t(what, lang)}"
    fields = ["name", "code", "class", "state"]
    aliases = [labels.t(k, lang) for k in ("name", f"code_{kind}", "class", "status")]
    out = folium.GeoJson(
        {"type": "FeatureCollection", "features": features}, name=layer, show=show,
        style_function=lambda f: {"fillColor": COVERED if f["properties"]["ok"] else UNCOVERED,
                                  "color": COVERED if f["properties"]["ok"] else UNCOVERED,
                                  "weight": 1, "fillOpacity": 0.55},
        tooltip=folium.GeoJsonTooltip(fields=fields, aliases=aliases, sticky=True),
        popup=folium.GeoJsonPopup(fields=["popup"], labels=False, class_name="siting-unit"))
    out.add_to(m)
    return out


def _site_names(result: RunResult, tier: str) -> dict[int, str]:
    """The name of each open site of ``tier``, by its row in ``Sites``."""
    rows = tables.open_sites(result)
    rows = rows[rows["tier"] == tier]
    where = {sid: i for i, sid in enumerate(result.sites.site_id)}
    return {where[r.site_id]: naming.site_name(r, result.scenario.lang)
            for r in rows.itertuples(index=False)}


def _lean(geom: shapely.Geometry, tolerance: float = 0.0) -> dict[str, Any]:
    """GeoJSON of a geometry, coordinates rounded to 1e-6° (~0.1 m), optionally simplified."""
    if tolerance > 0:
        geom = shapely.simplify(geom, tolerance, preserve_topology=True)
    geom = shapely.transform(geom, lambda xy: np.round(xy, 6))
    return json.loads(shapely.to_geojson(geom))


def _site_layer(m: folium.Map, result: RunResult,
                tier: str) -> folium.FeatureGroup | plugins.MarkerCluster:
    """A tier's open sites: round markers in the tier's colour (existing grey).

    Above :data:`CLUSTER_ABOVE` markers they cluster into bubbles of the tier's colour,
    icon and count.
    """
    lang = result.scenario.lang
    years = phasing.site_years(result) if result.phasing is not None else None
    rows = tables.open_sites(result)
    rows = rows[rows["tier"] == tier]
    name = f"{labels.t(tier, lang)} ({len(rows):,})"
    show = len(rows) <= HIDE_ABOVE
    group: folium.FeatureGroup | plugins.MarkerCluster
    if len(rows) > CLUSTER_ABOVE:
        group = plugins.MarkerCluster(name=name, show=show, disableClusteringAtZoom=17,
                                      icon_create_function=_cluster_icon(tier))
    else:
        group = folium.FeatureGroup(name=name, show=show)
    markers = []
    for r in rows.itertuples(index=False):
        existing = r.status == "existing"
        rows_of = popups.site_rows(r, lang, gcj02=result.scenario.gcj02,
                                   compartment_target=result.tiers[tier].compartments > 0)
        markers.append([
            float(r.lat), float(r.lon), int(existing),
            esc(f"{naming.site_name(r, lang)} · {labels.t(tier, lang)} · "
                f"{labels.t(r.status, lang)} · {r.site_id}"),
            popups.html(rows_of, lang), f"s{tier}:{r.site_id}",
            _built(years, r.site_id, existing).get("year")])
    group.add_child(_Markers([_pin(tier, existing=False), _pin(tier, existing=True)],
                             markers))
    group.add_to(m)
    return group


class _Markers(MacroElement):
    r"""A layer's site markers, made by the page from one array.

    One element for all of them: a Folium ``Marker`` with its icon, tooltip and popup is
    four elements, each rendered, then compiled as a template of its own (3,363 for 上街区,
    most of the map's build time). The page makes the same Leaflet objects: the
    ``divIcon`` of :func:`_pin`, the tooltip, the popup (at most 340 px wide), and the
    marker options ``ref`` (the search and the tests find a site by it) and ``year``
    ([phasing]). The arrays hold no object, so every brace, ``<``, ``>`` and ``&`` in them
    is inside a string and is written as its ``\u`` escape: the page reads the same text,
    and neither the HTML parser nor the template engine (which compiles the rendered
    snippet again) sees one.
    """

    _template = Template("""{% macro script(this, kwargs) %}
(function (group, icons, markers) {
  icons = icons.map(function (i) {
    return L.divIcon({html: i[0], className: i[1], iconSize: [22, 22],
                      iconAnchor: [i[2], i[3]], popupAnchor: [0, -11]});
  });
  markers.forEach(function (d) {
    var options = {icon: icons[d[2]], ref: d[5]}, content = document.createElement('div');
    if (d[6] !== null) { options.year = d[6]; }
    content.style.width = content.style.height = '100%';
    content.innerHTML = d[4];
    L.marker([d[0], d[1]], options)
      .bindTooltip('<div>' + d[3] + '</div>', {sticky: true})
      .bindPopup(L.popup({maxWidth: 340}).setContent(content))
      .addTo(group);
  });
})({{ this._parent.get_name() }}, {{ this.icons }}, {{ this.markers }});
{% endmacro %}""")

    def __init__(self, icons: list[list[Any]], markers: list[list[Any]]) -> None:
        super().__init__()
        self._name = "Markers"
        self.icons, self.markers = _script_json(icons), _script_json(markers)


def _script_json(rows: list[list[Any]]) -> str:
    """Arrays of numbers, strings and nulls as JSON whose strings escape ``{}<>&``."""
    text = json.dumps(rows, ensure_ascii=False, separators=(",", ":"))
    for ch in "{}<>&":
        text = text.replace(ch, f"\\u{ord(ch):04x}")
    return text


def _pin(tier: str, *, existing: bool) -> list[Any]:
    """A round marker: the tier's colour and icon (the legend's), grey for an existing site.

    As :class:`_Markers` reads it: html, class name, anchor x and y.
    """
    colour = style.EXISTING_SWATCH if existing else style.tier_color(tier)
    icon = style.TIER_MARKER.get(tier, ("", "circle"))[1]
    x, y = PIN_ANCHOR.get(tier, (11, 11))
    return [f'<div class="siting-pin" style="background:{colour}">'
            f'<i class="fa fa-{icon}"></i></div>',
            f"siting-marker siting-marker-{tier}", x, y]


PIN_ANCHOR = {"township": (11, 19), "village": (11, 3), "community": (19, 11),
              "locker": (3, 11)}
"""Where each tier's 22-pixel marker is pinned: a site hosting two tiers (a community point
sharing its site with a locker bank) shows both markers side by side, each one clickable."""


def _cluster_icon(tier: str) -> str:
    """Leaflet.markercluster's ``iconCreateFunction``: the tier's colour, icon and count.

    Not the plugin's green, yellow and orange, which read as covered and lockers.
    """
    colour = json.dumps(style.tier_color(tier))
    icon = json.dumps(f"fa fa-{style.TIER_MARKER.get(tier, ('', 'circle'))[1]}")
    cls = json.dumps(f"marker-cluster siting-cluster siting-cluster-{tier}")
    return f"""function (cluster) {{
        var n = cluster.getChildCount(), size = n < 10 ? 32 : n < 100 ? 38 : 46;
        return L.divIcon({{className: {cls}, iconSize: L.point(size, size),
            html: '<div style="background:' + {colour} + '"><i class="' + {icon} +
                  '"></i><span>' + n + '</span></div>'}});
    }}"""


def _built(years: dict[str, int] | None, site_id: str, existing: bool) -> dict[str, Any]:
    """A new site marker's ``year`` option ([phasing]): its build year, 0 never built."""
    return {} if years is None or existing else {"year": years.get(site_id, 0)}


def _year_filter(m: folium.Map, result: RunResult,
                 groups: list[folium.FeatureGroup | plugins.MarkerCluster]) -> None:
    """With [phasing]: a control showing the sites standing by the end of a chosen year.

    Each new site's marker carries its build year (the marker option ``year``, 0 when the
    money never reaches it); existing sites have none and always show.
    """
    p = result.phasing
    if p is None:
        return
    add_html(m, render.render("year_filter.html.j2", lang=result.scenario.lang,
                              map=m.get_name(), groups=[g.get_name() for g in groups],
                              years=list(p.years)))


def _chain_layer(m: folium.Map, result: RunResult) -> None:
    """Centre → township outlet → village outlet lines coloured by the chain's length."""
    from siting.outputs import chain

    lang = result.scenario.lang
    lines = chain.lines(result)
    c = result.chain
    assert c is not None
    top = c.max_m / 1000.0 if c.max_m else float(lines["chain_km"].max() or 1.0)
    features = [{"type": "Feature", "geometry": _lean(g), "properties": {
        "name": esc(f"{r.name} {r.code}"), "km": f"{r.chain_km:,.1f} km",
        "color": style.chain_color(float(r.chain_km) / top if top else 0.0)}}
        for g, r in zip(lines.geometry, lines.itertuples(index=False), strict=True)]
    group = folium.FeatureGroup(name=labels.t("chain_layer", lang), show=False)
    folium.GeoJson({"type": "FeatureCollection", "features": features},
                   style_function=lambda f: {"color": f["properties"]["color"], "weight": 2,
                                             "opacity": 0.8},
                   tooltip=folium.GeoJsonTooltip(fields=["name", "km"], aliases=[
                       labels.t("village_unit", lang), labels.t("chain", lang)]),
                   ).add_to(group)
    for x in c.centres:
        word = labels.t("centre" if x.existing else "new_centre", lang)
        folium.CircleMarker([x.lat, x.lon], radius=8, color=style.chain_color(1.0),
                            fill=True, fill_opacity=0.9,
                            tooltip=esc(f"{word} · {x.name or x.site_id}")).add_to(group)
    group.add_to(m)


def _metric_scale(m: folium.Map) -> None:
    """A metric scale bar at the bottom right (the legend sits bottom left)."""
    scale = MacroElement()
    scale._template = Template(
        "{% macro script(this, kwargs) %}"
        "L.control.scale({imperial: false, position: 'bottomright'})"
        ".addTo({{ this._parent.get_name() }});{% endmacro %}")
    m.add_child(scale)


def _townships(m: folium.Map, result: RunResult) -> list[folium.GeoJson]:
    """Township polygons filled by their share of served units, key figures on hover."""
    from siting.outputs import kpi

    towns = kpi.townships(result)
    if len(towns) == 0:
        return []
    lang = result.scenario.lang
    tiers = list(result.tiers)
    rows = {c: i for i, c in zip(np.flatnonzero(result.demand["layer"] == "townships"),
                                 result.demand["code"][result.demand["layer"] == "townships"],
                                 strict=True)}
    features = []
    for row in towns.itertuples(index=False):
        units = sum(getattr(row, f"{t}_units") for t in tiers)
        served = sum(getattr(row, f"{t}_served") for t in tiers)
        share = served / units if units else 1.0
        props = {"name": esc(row.name), "code": esc(row.code), "share": round(share, 4),
                 "served": f"{served:,}/{units:,}", "ref": f"u{rows.get(row.code, -1)}"}
        for t in tiers:
            props[t] = (f"{getattr(row, f'{t}_sites'):,} "
                        f"({labels.t('new', lang)} {getattr(row, f'{t}_new'):,})")
        features.append({"type": "Feature", "properties": props,
                         "geometry": _lean(row.geometry, 1e-5)})
    fields = ["name", "code", "served", *tiers]
    aliases = [labels.t("township_unit", lang), labels.t("code_townships", lang),
               labels.t("units_served", lang), *(labels.t(t, lang) for t in tiers)]
    layer = folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        name=labels.t("townships", lang), show=True,
        style_function=lambda f: {
            "fillColor": COVERED if f["properties"]["share"] >= 1 else UNCOVERED,
            "fillOpacity": 0.05 + 0.3 * (1 - f["properties"]["share"]),
            "color": style.OUTLINE, "weight": 1.5},
        highlight_function=lambda f: {"weight": 3, "fillOpacity": 0.35},
        tooltip=folium.GeoJsonTooltip(fields=fields, aliases=aliases, sticky=True),
        popup=folium.GeoJsonPopup(fields=fields, aliases=aliases, class_name="siting-unit"))
    layer.add_to(m)
    outline = shapely.union_all(towns.geometry.to_numpy())
    folium.GeoJson(_lean(outline, 1e-5), name=labels.t("county_boundary", lang),
                   style_function=lambda f: {"color": style.BOUNDARY, "weight": 3,
                                             "fill": False},
                   interactive=False).add_to(m)
    return [layer]


def _service_areas(m: folium.Map, result: RunResult, tier: str) -> None:
    """The roads each open site of ``tier`` reaches within the radius (not a circle)."""
    from siting.run import service

    lang = result.scenario.lang
    lines = service.reached_roads(result, tier)
    if not lines:
        return
    features = [{"type": "Feature", "properties": {"site": esc(site)},
                 "geometry": _lean(geom)} for site, geom in lines]
    css = style.tier_color(tier)
    folium.GeoJson({"type": "FeatureCollection", "features": features},
                   name=f"{labels.t(tier, lang)} · {labels.t('service_area', lang)}",
                   show=False,
                   style_function=lambda f: {"color": css, "weight": 3, "opacity": 0.7},
                   tooltip=folium.GeoJsonTooltip(fields=["site"],
                                                 aliases=[labels.t("site", lang)]),
                   ).add_to(m)


def _search(m: folium.Map, result: RunResult) -> folium.GeoJson:
    """A search box over demand units and sites, by name or code (small circle markers).

    Picking a result zooms there and opens the popup of what it found (the page's script).
    """
    lang = result.scenario.lang
    u = result.demand
    rows = tables.open_sites(result)
    features = []
    for i, (name, code, lon, lat) in enumerate(zip(u["name"], u["code"], u["lon"], u["lat"],
                                                   strict=True)):
        features.append(_point(f"{name} {code}".strip(), lon, lat, f"u{i}"))
    for r in rows.itertuples(index=False):
        label = f"{naming.site_name(r, lang)} · {labels.t(r.tier, lang)} · {r.site_id}"
        features.append(_point(label, r.lon, r.lat, f"s{r.tier}:{r.site_id}"))
    layer = folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        name=labels.t("search", lang), show=True, control=False,
        marker=folium.CircleMarker(radius=1, opacity=0, fill_opacity=0))
    layer.add_to(m)
    plugins.Search(layer=layer, search_label="label", position="topright", collapsed=False,
                   placeholder=labels.t("search_hint", lang),
                   search_zoom=16).add_to(m)
    # the plugin's CSS shows ../images/loader.gif while searching, a file not inlined: the
    # browser asks for it beside map.html and logs an error (tests/test_browser.py)
    add_html(m, (
        "<style>.leaflet-control-search.search-load .search-input"
        "{background-image:none}</style>"))
    return layer


def _point(label: str, lon: float, lat: float, ref: str) -> dict[str, Any]:
    return {"type": "Feature", "properties": {"label": esc(label), "ref": ref},
            "geometry": {"type": "Point", "coordinates": [round(float(lon), 6),
                                                          round(float(lat), 6)]}}


def _allocation_lines(m: folium.Map, result: RunResult) -> None:
    """Who serves whom: a line from each unit to its serving site, in the tier's colour.

    As ArcGIS Location-Allocation's Lines; off until switched on.
    """
    lang = result.scenario.lang
    lines = tables.allocation_lines(result)
    if len(lines) == 0:
        return
    features = [{"type": "Feature",
                 "properties": {"tier": t, "what": esc(
                     f"{labels.t(t, lang)}: {name or code} → {sid} ({d:,.0f} m)")},
                 "geometry": _lean(g)}
                for t, name, code, sid, d, g in zip(
                    lines["tier"], lines["name"], lines["code"], lines["site_id"],
                    lines["dist_m"].fillna(0.0), lines.geometry, strict=True)]
    folium.GeoJson({"type": "FeatureCollection", "features": features},
                   name=labels.t("allocation_lines", lang), show=False,
                   style_function=lambda f: {"color": style.tier_color(f["properties"]["tier"]),
                                             "weight": 1.5, "opacity": 0.8},
                   tooltip=folium.GeoJsonTooltip(fields=["what"], labels=False),
                   ).add_to(m)


def _title_and_legend(m: folium.Map, result: RunResult, lang: str) -> None:
    """The title box (targets met; which are not, and why), legend, north arrow and credit."""
    counts = pd.Series([r.met for r in result.results])
    # the credit: OSM for a real extract, the generator and frame otherwise
    add_html(m, render.render(
        "map_boxes.html.j2", lang=lang, title=title_of(result), tiers=list(result.tiers),
        met=int((counts == True).sum()),  # noqa: E712 (None means informational)
        total=int(counts.notna().sum()), unmet=shortfall.unmet(result),
        credit=report.attribution(result)))
