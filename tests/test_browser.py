"""map.html and report.html in headless Chromium, the network shut (issue 6).

Two maps: the Haidian demo on the shipped real OSM extract and the small generated county
(clustered markers, township layer, search box). Every count comes from Leaflet in the page
(its layers, walked through ``getLayers()``), every expected value from the run or its
``sites.csv``; nothing the map writes into the page for the tests is read.
"""

from __future__ import annotations

import json
import math
import re
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from siting.config import scenario
from siting.outputs import kpi, labels, webmap
from siting.outputs import write as outputs
from siting.run import pipeline
from siting.run.results import RunResult

from . import cdp
from .conftest import read_sites

BAD = Path(__file__).resolve().parent / "data" / "bad"
RAW = "<img src=x onerror=alert(1)>"        # a village's name in the html_in_name case

# Installed in the page after load: the map, its overlays by name, and marker counting.
# Folium keeps the layer control's overlays in a global ``layer_control_<id>_layers``.
LEAFLET = r"""
window.__t = (() => {
  const map = Object.values(window).find(v => v instanceof L.Map);
  const key = Object.keys(window).find(k => /^layer_control_[0-9a-f]+_layers$/.test(k));
  const overlays = window[key].overlays;
  // a site's marker: not a cluster bubble, not a place name (those sit in their own pane)
  const isMarker = l => l instanceof L.Marker && !(L.MarkerCluster && l instanceof L.MarkerCluster)
    && l.options.pane !== 'sitingLabels';
  // every marker under a layer, once: a MarkerClusterGroup's getLayers() has them all,
  // also those shown only as a cluster (not in the DOM)
  function markers(layer, out, seen) {
    const id = L.stamp(layer);
    if (seen.has(id)) return out;
    seen.add(id);
    if (isMarker(layer)) out.push(layer);
    if (typeof layer.getLayers === 'function') {
      layer.getLayers().forEach(c => markers(c, out, seen));
    }
    return out;
  }
  const under = layer => markers(layer, [], new Set());
  function all() {
    const out = [], seen = new Set();
    map.eachLayer(l => markers(l, out, seen));
    return out;
  }
  function screen(latlng) {
    const p = map.latLngToContainerPoint(latlng), r = map.getContainer().getBoundingClientRect();
    return [p.x + r.left, p.y + r.top];
  }
  function inside(x, y, ring) {           // ray casting in screen pixels
    let yes = false;
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      const [xi, yi] = ring[i], [xj, yj] = ring[j];
      if ((yi > y) !== (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi) yes = !yes;
    }
    return yes;
  }
  return {map, overlays, under, all, screen, inside};
})(), 0
"""


@dataclass
class Shown:
    """A map opened in a tab, with the run and the output folder it came from."""

    page: cdp.Page
    out: Path
    run: RunResult
    sites: pd.DataFrame
    load_ms: float


@pytest.fixture(scope="module")
def browser():
    binary = cdp.find()
    if binary is None:
        pytest.skip("no Chromium on this machine: `make test` installs Debian's chromium "
                    "(see the Makefile's browser target)")
    with cdp.Browser(binary) as b:
        yield b


def open_map(browser: cdp.Browser, out: Path) -> tuple[cdp.Page, float]:
    page = browser.page()
    page.open(out / "map.html")
    load = page.js("performance.getEntriesByType('navigation')[0].loadEventEnd")
    page.js(LEAFLET)
    return page, float(load)


@pytest.fixture(scope="module", params=["demo", "county"])
def shown(request, browser):
    out = request.getfixturevalue("demo_outputs" if request.param == "demo" else "small_outputs")
    run = request.getfixturevalue("demo_run" if request.param == "demo" else "small_run")
    page, load = open_map(browser, out)
    sites = read_sites(out)
    yield Shown(page, out, run, sites, load)
    page.close()


def open_alone(page: cdp.Page, path: Path) -> None:
    """Open a page that must load nothing but itself, and check it is quiet."""
    page.open(path)
    no_trouble(page, path)
    assert page.requests() == [path.resolve().as_uri()]


def no_trouble(page: cdp.Page, path: Path) -> None:
    """No console error, no uncaught exception, no dialog; no request but the page and data:."""
    assert page.errors() == []
    assert page.js("window.__dialogs") == []
    assert page.dialogs() == []
    urls = page.requests()
    assert urls[0] == path.resolve().as_uri()
    assert [u for u in urls[1:] if not u.startswith("data:")] == []     # every asset inlined


def test_map_loads_without_console_errors(shown):
    assert shown.page.errors() == []
    assert shown.page.js("window.__dialogs") == [] and shown.page.dialogs() == []
    assert shown.load_ms < 15_000            # measured ~1 s for 2-3 MB on two cores


def test_map_makes_no_network_request(shown):
    no_trouble(shown.page, shown.out / "map.html")


def test_legend_and_every_layer_are_listed(shown):
    page, run = shown.page, shown.run
    lang = run.scenario.lang
    legend = page.js("""(() => { const e = document.querySelector('#siting-legend');
        return e && e.offsetWidth > 0 && e.offsetHeight > 0 ? e.textContent : null; })()""")
    assert legend is not None, "#siting-legend is missing or not shown"
    for tier in run.tiers:
        assert labels.t(tier, lang) in legend
    listed = page.js("""Array.from(document.querySelectorAll(
        '.leaflet-control-layers-overlays label'), e => e.textContent.trim())""")
    assert listed == list(page.js("Object.keys(__t.overlays)"))
    assert len(listed) == len(set(listed))
    per_tier = shown.sites["tier"].value_counts()
    expected = {labels.t("roads", lang)}
    expected |= {f"{labels.t(t, lang)} ({int(per_tier.get(t, 0)):,})" for t in run.tiers}
    if len(kpi.townships(run)):
        expected.add(labels.t("townships", lang))
    assert expected <= set(listed), expected - set(listed)
    for tier, tr in run.tiers.items():      # one demand layer per tier that has units
        if tr.config.demand != "townships":
            assert any(n.startswith(f"{labels.t(tier, lang)} · ") for n in listed), tier


def test_map_credits_the_data_it_draws(shown):
    """OpenStreetMap for a real extract; the generator and the frame for generated data."""
    credit = shown.page.js("document.querySelector('.siting-attr').textContent")
    if shown.run.generated:
        assert labels.says_generated(credit) and "OpenStreetMap" not in credit
    else:
        assert "© OpenStreetMap contributors" in credit     # the licence's own words
    if shown.run.scenario.lang == "zh":     # in the map's language, not English
        assert not re.search(r"\b(generated|data|roads|over|the)\b", credit), credit


def test_site_markers_in_leaflet_match_sites_csv(shown):
    page, sites, lang = shown.page, shown.sites, shown.run.scenario.lang
    assert page.js("__t.all().length") == len(sites)
    for tier in shown.run.tiers:
        n = int((sites["tier"] == tier).sum())
        name = f"{labels.t(tier, lang)} ({n:,})"
        assert page.js(f"__t.under(__t.overlays[{json.dumps(name)}]).length") == n, tier
    if shown.run.scenario.name == "shangjie":       # the county's big tier is clustered
        assert page.js("""Object.values(__t.overlays).some(l =>
            l instanceof L.MarkerClusterGroup && __t.under(l).length > 300)""")
        in_dom = page.js("document.querySelectorAll('.leaflet-marker-icon:not(.marker-cluster)')"
                         ".length")
        assert in_dom < len(sites)


def lonely_site(sites: pd.DataFrame, tier: str) -> pd.Series:
    """A site of ``tier`` with no other site within 60 m: its icon cannot be covered."""
    lat0 = math.radians(float(sites["lat"].mean()))
    x = sites["lon"].to_numpy() * 111_320 * math.cos(lat0)
    y = sites["lat"].to_numpy() * 110_540
    for i in sites.index[sites["tier"] == tier]:
        d = ((x - x[i]) ** 2 + (y - y[i]) ** 2) ** 0.5
        if (d < 60).sum() == 1:
            return sites.loc[i]
    raise AssertionError(f"every {tier} site has a neighbour within 60 m")


def icon_centre(page: cdp.Page) -> list[float]:
    """The centre of ``__t.target``'s icon once it stands still at its own point, with
    nothing over it.

    A cluster group animates markers out of a bubble with a CSS transition, and the icon
    still slides for a few frames after the group's ``leaflet-cluster-anim`` class is gone:
    so wait until no transition runs on the icon or on the map pane (the Web Animations API
    lists running CSS transitions) and the icon is drawn where its point is on screen.
    """
    return page.wait_for("""(() => { const t = __t.target, icon = t._icon;
        if (!icon || document.querySelector('.leaflet-cluster-anim')) return null;
        if (icon.getAnimations().length || __t.map.getPane('mapPane').getAnimations().length)
            return null;
        const at = L.DomUtil.getPosition(icon);
        if (!at || !at.equals(__t.map.latLngToLayerPoint(t.getLatLng()).round())) return null;
        const b = icon.getBoundingClientRect(), [px, py] = __t.screen(t.getLatLng());
        const anchor = L.point(t.options.icon.options.iconAnchor || [b.width / 2, b.height / 2]);
        if (Math.abs(b.left + anchor.x - px) > 1 || Math.abs(b.top + anchor.y - py) > 1)
            return null;
        const x = b.left + b.width / 2, y = b.top + b.height / 2;
        return icon.contains(document.elementFromPoint(x, y)) ? [x, y] : null; })()""")


def test_clicking_a_site_marker_opens_its_popup(shown):
    page, sites = shown.page, shown.sites
    counts = sites["tier"].value_counts()            # the county's largest tier still shown
    tier = next(t for t in counts.index if counts[t] <= webmap.HIDE_ABOVE)
    site = lonely_site(sites, tier)
    page.js(f"""(() => {{
        const want = L.latLng({site.lat}, {site.lon});
        __t.target = __t.all().find(m => m.getLatLng().distanceTo(want) < 0.5);
        __t.map.setView(__t.target.getLatLng(), 18, {{animate: false}});
    }})()""")
    # the page may still be settling its first view: set ours again until it holds
    page.wait_for("(__t.map.getZoom() === 18 && __t.target._icon && "
                  "document.body.contains(__t.target._icon)) || "
                  "(__t.map.setView(__t.target.getLatLng(), 18, {animate: false}), false)")
    page.click(*icon_centre(page))
    text = page.wait_for("(document.querySelector('.leaflet-popup-content') || {}).textContent")
    assert site.site_id in text
    assert labels.t(tier, shown.run.scenario.lang) in text
    no_trouble(page, shown.out / "map.html")


def type_into(page: cdp.Page, selector: str, text: str) -> None:
    """Focus an input and type, key by key (the search plugin listens to keyup)."""
    page.js(f"document.querySelector({json.dumps(selector)}).focus()")
    for ch in text:
        page.send("Input.dispatchKeyEvent", type="keyDown", key=ch, text=ch)
        page.send("Input.dispatchKeyEvent", type="keyUp", key=ch)


def test_search_box_finds_a_unit_and_goes_there(shown):
    page, run = shown.page, shown.run
    units = run.demand[run.demand["name"].fillna("").str.len() > 1]
    unit = units.iloc[len(units) // 2]
    page.js("document.querySelector('.leaflet-control-search .search-cancel').click()")
    type_into(page, ".leaflet-control-search input", str(unit["name"]))
    tips = page.wait_for("""(() => { const t = Array.from(document.querySelectorAll(
        '.leaflet-control-search .search-tip'), e => e.textContent);
        return t.length ? t : null; })()""")
    label = f"{unit['name']} {unit['code']}"
    assert label in tips
    tip = page.js(f"""(() => {{ const e = Array.from(document.querySelectorAll(
        '.leaflet-control-search .search-tip')).find(e => e.textContent === {json.dumps(label)});
        const b = e.getBoundingClientRect(), x = b.left + b.width / 2, y = b.top + b.height / 2;
        return document.elementFromPoint(x, y) === e ? [x, y] : null; }})()""")
    assert tip, "the tip is covered"
    page.click(*tip)
    page.wait_for("__t.map.getZoom() === 16")
    time.sleep(0.3)                                  # the pan may still be running
    centre = page.js("(c => [c.lat, c.lng])(__t.map.getCenter())")
    assert centre == pytest.approx([unit["lat"], unit["lon"]], abs=2e-3)
    no_trouble(page, shown.out / "map.html")


@pytest.fixture(scope="module")
def html_in_name(tmp_path_factory):
    out = tmp_path_factory.mktemp("html") / "out"
    outputs.write_all(pipeline.run(scenario.load(BAD / "html_in_name" / "scenario.toml")), out)
    return out


def test_village_named_with_html_shows_as_text_and_runs_nothing(browser, html_in_name):
    page, _ = open_map(browser, html_in_name)
    try:
        # hover the village: points inside its polygon where nothing but the canvas is
        points = page.js("""(() => {
            let v = null;
            Object.values(__t.overlays).forEach(g => g.eachLayer && g.eachLayer(l => {
                if (l.feature && l.feature.properties && String(l.feature.properties.name)
                    .includes('onerror')) v = l; }));
            __t.map.fitBounds(v.getBounds(), {animate: false});
            const ring = v.getLatLngs().flat(3).map(__t.screen), out = [];
            for (let x = 20; x < innerWidth; x += 17) for (let y = 20; y < innerHeight; y += 17) {
                const e = document.elementFromPoint(x, y);
                if (__t.inside(x, y, ring) && e && e.tagName === 'CANVAS') out.push([x, y]);
            }
            return [v.feature.properties.code, out];
        })()""")
        code, inside = points
        assert inside, "no free point inside the village"
        tooltip = ""
        for x, y in inside[len(inside) // 2:] + inside[:len(inside) // 2]:
            page.hover(x, y)
            tooltip = page.js("Array.from(document.querySelectorAll('.leaflet-tooltip'), "
                              "e => e.textContent).join(' ')")
            if code in tooltip:
                break
        assert code in tooltip, tooltip
        assert RAW in tooltip                        # shown as text …
        # … and the search box lists it as text too
        type_into(page, ".leaflet-control-search input", "onerror")
        tips = page.wait_for("""(() => { const t = Array.from(document.querySelectorAll(
            '.leaflet-control-search .search-tip'), e => e.textContent);
            return t.length ? t : null; })()""")
        assert any(RAW in t for t in tips), tips
        time.sleep(0.2)
        # nothing ran: no <img src="x"> anywhere, no request for it, no alert
        assert page.js("Array.from(document.querySelectorAll('img'))"
                       ".filter(i => i.getAttribute('src') === 'x').length") == 0
        assert [u for u in page.requests() if u.endswith("/x")] == []
        no_trouble(page, html_in_name / "map.html")
    finally:
        page.close()


@pytest.mark.parametrize("which", ["demo", "county"])
def test_report_html_shows_targets_and_charts(request, browser, which):
    out = request.getfixturevalue("demo_outputs" if which == "demo" else "small_outputs")
    run = request.getfixturevalue("demo_run" if which == "demo" else "small_run")
    summary = json.loads((out / "report.json").read_text(encoding="utf-8"))
    page = browser.page()
    try:
        open_alone(page, out / "report.html")
        rows = page.js("""Array.from(document.querySelector('h2 + table').rows).slice(1)
            .filter(r => r.cells.length === 4).map(r => r.cells[0].textContent)""")
        assert rows == [t["target"] for t in summary["targets"]]
        charts = page.js("""Array.from(document.querySelectorAll('body > svg'), s => {
            const b = s.getBoundingClientRect();
            return {w: b.width, h: b.height, lines: s.querySelectorAll('polyline').length,
                    bars: s.querySelectorAll('rect').length}; })""")
        want = int(any(summary["tradeoffs"].values())) + int(len(kpi.townships(run)) > 0)
        assert len(charts) == want
        assert all(c["w"] > 100 and c["h"] > 20 and c["lines"] + c["bars"] > 0 for c in charts)
        if which == "county":
            assert want == 2
    finally:
        page.close()


def test_city_report_and_map(browser, city_outputs):
    """The city's report.html: every citywide target in the first table, one row per county,
    the sites-per-county chart; its map.html opens with no trouble and no request."""
    summary, out, _ = city_outputs
    page = browser.page()
    try:
        open_alone(page, out / "report.html")
        rows = page.js("""Array.from(document.querySelector('h2 + table').rows).slice(1)
            .map(r => r.cells[0].textContent)""")
        assert rows == [t["target"] for t in summary["targets"]]
        texts = page.js("Array.from(document.querySelector('h2 + table').rows, r => r.textContent)")
        assert any("2,500,000" in r for r in texts)
        counties = page.js("Array.from(document.querySelectorAll('table')).at(-1).rows.length")
        assert counties == 1 + len(summary["counties"])
        bars = page.js("document.querySelectorAll('body > svg rect').length")
        assert bars >= 1
    finally:
        page.close()
    page = browser.page()
    try:
        open_alone(page, out / "map.html")
        legend = page.js("document.querySelector('#siting-legend').textContent")
        assert "图例" in legend and "新建" in legend and "现有" in legend
        zoom = page.js("window[Object.keys(window).find(k => k.startsWith('map_'))].getZoom()")
        assert zoom > 10          # fitted to the one small county's townships, not the city view
    finally:
        page.close()


def test_the_checks_above_would_see_trouble(browser, tmp_path):
    """The oracles can fail: an error, an uncaught throw, a remote request, an injected alert."""
    page_file = tmp_path / "bad.html"
    page_file.write_text("""<!DOCTYPE html><html><body><div id=d></div>
<script>console.error('boom')</script>
<img src="http://siting.invalid/x.png">
<script>document.getElementById('d').innerHTML = '<img src=x onerror=alert(1)>'</script>
<script>throw new Error('thrown')</script></body></html>""", encoding="utf-8")
    page = browser.page()
    try:
        page.open(page_file)
        page.wait_for("window.__dialogs.length > 0")
        errors = page.errors()
        assert any("boom" in e for e in errors) and any("Uncaught" in e for e in errors)
        assert "http://siting.invalid/x.png" in page.requests()
        assert (tmp_path / "x").as_uri() in page.requests()
        assert page.js("window.__dialogs") == [["alert", "1"]]
        assert page.dialogs() == []                  # recorded, never shown
        failed = [e["params"] for e in page.events if e["method"] == "Network.loadingFailed"]
        assert any(f.get("blockedReason") or "BLOCKED" in f.get("errorText", "") for f in failed)
    finally:
        page.close()


CHART_BOXES = """(() => {
  const svg = document.querySelector('svg.tradeoff');
  const box = e => { const b = e.getBoundingClientRect();
                     return {l: b.left, t: b.top, r: b.right, b: b.bottom}; };
  return {svg: box(svg), plot: box(svg.querySelector('rect.plot-area')),
          legend: Array.from(svg.querySelectorAll('g.legend text'), box),
          texts: Array.from(svg.querySelectorAll('text'), box),
          xticks: svg.querySelectorAll('line.x-tick').length,
          yticks: svg.querySelectorAll('line.y-tick').length,
          xlabels: Array.from(svg.querySelectorAll('text.x-tick-label'), t => t.textContent),
          ylabels: Array.from(svg.querySelectorAll('text.y-tick-label'), t => t.textContent),
          axis: Array.from(svg.querySelectorAll('text.axis-label'), t => t.textContent)};
})()"""


def _overlap(a: dict, b: dict) -> bool:
    return a["l"] < b["r"] and b["l"] < a["r"] and a["t"] < b["b"] and b["t"] < a["b"]


def _inside(a: dict, box: dict) -> bool:
    return (a["l"] >= box["l"] - 0.5 and a["r"] <= box["r"] + 0.5
            and a["t"] >= box["t"] - 0.5 and a["b"] <= box["b"] + 0.5)


def test_the_tradeoff_chart_keeps_its_legend_off_the_curves(browser, small_outputs, tmp_path):
    """As Chromium lays it out: the legend beside the plot area, every word inside the
    drawing (no label cut off), ticks and their values on both axes."""
    page = browser.page()
    try:
        open_alone(page, small_outputs / "report.html")
        got = page.js(CHART_BOXES)
        page.screenshot(tmp_path / "report.png")
    finally:
        page.close()
    assert len(got["legend"]) == 4                      # one entry per tier
    assert not any(_overlap(t, got["plot"]) for t in got["legend"])
    assert all(_inside(t, got["svg"]) for t in got["texts"]), got
    assert got["xticks"] == got["yticks"] == 5
    assert got["xlabels"] == got["ylabels"] == ["0%", "25%", "50%", "75%", "100%"]
    assert got["axis"] == ["新建站点数占本方案新建数的比例", "覆盖的需求比例"]
    assert (tmp_path / "report.png").stat().st_size > 0


def test_the_old_chart_would_fail_the_layout_check():
    """The check above sees a legend over the plot and a label past the edge."""
    plot = {"l": 40, "t": 40, "r": 600, "b": 220}
    legend = {"l": 450, "t": 10, "r": 590, "b": 24}     # the old legend: x = w − 190, y = 20
    assert not _overlap(legend, plot)
    assert _overlap({"l": 450, "t": 48, "r": 590, "b": 62}, plot)   # its 4th entry
    assert not _inside({"l": 570, "t": 240, "r": 700, "b": 252}, {"l": 0, "t": 0, "r": 640,
                                                                    "b": 260})


def test_marker_arrays_carry_any_text_past_the_html_parser_and_the_templates():
    """A name with braces, a closing script tag and ampersands reaches the page unchanged."""
    from branca.element import Template

    text = "{{ x }} {% if %} {# c #} </script><b>&amp;</b> 甲"
    rows = [[1.5, 2, None, text], [3, "}}{{"]]
    out = webmap._script_json(rows)
    assert not set("{}<>&") & set(out)
    assert json.loads(out) == rows                      # what the page's parser reads
    assert Template(out).render() == out                # the snippet compiled again
