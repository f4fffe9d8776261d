"""Finding one's way in map.html, in headless Chromium with the network shut (issue 13).

Place names at two zooms, cluster bubbles in their tier's colour, the popups of a site and a
village read after real clicks, a search result that opens its popup, the title naming the
unmet target, the allocation lines off by default, and the print sheet (print media
emulated, then printed to PDF and measured). The county run (上街区, generated) has exactly
one unmet target: 马固村 lies beyond the snapping distance of every road.
"""

from __future__ import annotations

import base64
import json
import math
import re
import shutil
import subprocess
import time

import numpy as np
import pytest

from siting.outputs import labels, naming, report, shortfall, style, tables, webmap, workbook

from . import cdp
from .conftest import read_sites
from .test_browser import LEAFLET, icon_centre, type_into


@pytest.fixture(scope="module")
def browser():
    binary = cdp.find()
    if binary is None:
        pytest.skip("no Chromium on this machine: `make test` installs Debian's chromium")
    with cdp.Browser(binary) as b:
        yield b


@pytest.fixture
def county(browser, small_outputs):
    page = browser.page()
    page.open(small_outputs / "map.html")
    page.js(LEAFLET)
    yield page
    assert page.errors() == []
    page.close()


def visible_labels(page: cdp.Page, kind: str) -> list[str]:
    """The place names of ``kind`` the page shows now (in the DOM, not hidden, on screen)."""
    return page.js(f"""Array.from(document.querySelectorAll('.siting-label-{kind}'))
        .filter(e => e.style.visibility !== 'hidden' && getComputedStyle(e).display !== 'none')
        .filter(e => {{ const b = e.firstChild.getBoundingClientRect();
            return b.width > 0 && b.right > 0 && b.left < innerWidth && b.bottom > 0
                && b.top < innerHeight; }})
        .map(e => e.textContent)""")


def zoom_to(page: cdp.Page, lat: float, lon: float, zoom: int) -> None:
    """Set the view; again until it holds (the page may still be settling its first view)."""
    view = f"__t.map.setView([{lat}, {lon}], {zoom}, {{animate: false}})"
    page.wait_for(f"(__t.map.getZoom() === {zoom} && __t.map.getCenter().distanceTo("
                  f"[{lat}, {lon}]) < 5) || ({view}, false)")
    time.sleep(0.2)


def test_place_names_follow_the_zoom_and_never_overlap(county, small_run):
    dem = small_run.demand
    towns = dem[dem["layer"] == "townships"]
    town_names = {labels.short_name(n) for n in towns["name"]}
    village_names = {labels.short_name(n) for n in dem[dem["layer"] == "villages"]["name"]}
    lat, lon = float(towns["lat"].mean()), float(towns["lon"].mean())
    zoom_to(county, lat, lon, 12)
    shown = visible_labels(county, "town")
    assert set(shown) == town_names                  # every township named at county zoom
    assert visible_labels(county, "unit") == [] and visible_labels(county, "site") == []
    # zoomed in on the most populous village: villages named, townships not
    v = dem[dem["layer"] == "villages"].sort_values("population").iloc[-1]
    zoom_to(county, float(v["lat"]), float(v["lon"]), 15)
    units = visible_labels(county, "unit")
    assert labels.short_name(v["name"]) in units and set(units) <= village_names
    assert visible_labels(county, "town") == []
    assert visible_labels(county, "site") == []
    # closer still: site names, as sites.csv names them
    zoom_to(county, float(v["lat"]), float(v["lon"]), 18)
    names = set(naming.site_names(tables.open_sites(small_run), "zh"))
    sites = visible_labels(county, "site")
    assert sites and set(sites) <= names
    # no two labels shown overlap, at any of these zooms
    for z in (12, 14, 15, 17):
        zoom_to(county, float(v["lat"]), float(v["lon"]), z)
        boxes = county.js("""Array.from(document.querySelectorAll('.siting-label'))
            .filter(e => e.style.visibility !== 'hidden')
            .map(e => { const b = e.firstChild.getBoundingClientRect();
                        return [b.left, b.top, b.right, b.bottom]; })""")
        for i, a in enumerate(boxes):
            for b in boxes[i + 1:]:
                assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]), z


def rgb(hex_colour: str) -> str:
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgb({r}, {g}, {b})"


def test_cluster_bubbles_wear_their_tiers_colour_icon_and_count(county, small_run):
    clustered = [t for t in small_run.tiers
                 if len(tables.open_sites(small_run).query("tier == @t")) > webmap.CLUSTER_ABOVE]
    assert clustered                                 # the county clusters community and lockers
    for tier in clustered:
        bubbles = county.js(f"""(() => {{
            const out = [];
            Object.values(__t.overlays).filter(l => l instanceof L.MarkerClusterGroup)
              .forEach(g => g._featureGroup.eachLayer(c => {{
                if (!(c instanceof L.MarkerCluster) || !c._icon) return;
                if (!c._icon.classList.contains('siting-cluster-{tier}')) return;
                const d = c._icon.firstChild;
                out.push({{colour: getComputedStyle(d).backgroundColor, text: d.textContent,
                    count: c.getChildCount(), icon: d.querySelector('i').className,
                    plugin: /marker-cluster-(small|medium|large)/.test(c._icon.className)}});
              }}));
            return out; }})()""")
        assert bubbles, tier
        for b in bubbles:
            assert b["colour"] == rgb(style.tier_color(tier))   # the legend's colour
            assert b["text"] == str(b["count"])
            assert b["icon"] == f"fa fa-{style.TIER_MARKER[tier][1]}"
            assert not b["plugin"]                   # none of the plugin's green/yellow/orange
    legend = county.js("""Array.from(document.querySelectorAll('#siting-legend .siting-pin'),
        e => getComputedStyle(e).backgroundColor)""")
    assert [rgb(style.tier_color(t)) for t in small_run.tiers] == legend[:len(small_run.tiers)]


def test_every_site_popup_states_its_facts(county, small_outputs, small_run):
    """Every marker's popup: name, township and village, road, WGS84 and GCJ-02 coordinates,
    a bank's size, the cost and what the site serves, as sites.csv has them."""
    sites = read_sites(small_outputs)
    texts = county.js("""Object.fromEntries(__t.all().map(m => [m.options.ref,
        m.getPopup().getContent().textContent]))""")
    assert len(texts) == len(sites)
    w = labels.Words("zh")
    for r in sites.itertuples(index=False):
        text = texts[f"s{r.tier}:{r.site_id}"]
        assert r.name in text and r.site_id in text
        for v in (r.township, r.village, r.road):
            if isinstance(v, str):
                assert v in text
        for key, lon, lat in (("coords_wgs84", r.lon, r.lat),
                              ("coords_gcj02", r.gcj02_lon, r.gcj02_lat)):
            shown = re.search(re.escape(w(key)) + r"([\d.]+), ([\d.]+)", text)
            assert shown, (key, text)
            assert [float(shown[1]), float(shown[2])] == pytest.approx([lon, lat], abs=1e-6)
        assert f"{w('cost')}{r.cost:,.0f}" in text
        assert w.fill("serves_units", units=int(r.served_units),
                      pop=float(r.served_population)) in text
        if r.tier == "locker" and r.status == "new":
            assert w.fill("bank_of", n=float(r.bank_size)) in text
        if r.tier == "locker":
            assert f"{w('spare')}{r.spare_compartments:,.0f}" in text


def click_free_point_inside(page: cdp.Page, code: str) -> None:
    """Click a point of the unit ``code``'s polygon where nothing but the canvas lies."""
    inside = page.js(f"""(() => {{
        let v = null;
        Object.values(__t.overlays).forEach(g => __t.map.hasLayer(g) && g.eachLayer &&
            g.eachLayer(l => {{ const p = (l.feature || {{}}).properties || {{}};
                                if (p.code === {json.dumps(code)} && p.popup) v = l; }}));
        __t.map.fitBounds(v.getBounds(), {{animate: false, maxZoom: 17}});
        const ring = v.getLatLngs().flat(3).map(__t.screen), out = [];
        for (let x = 20; x < innerWidth; x += 13) for (let y = 120; y < innerHeight; y += 13) {{
            const e = document.elementFromPoint(x, y);
            if (__t.inside(x, y, ring) && e && e.tagName === 'CANVAS') out.push([x, y]);
        }}
        return out; }})()""")
    assert inside, f"no free point inside {code}"
    page.click(*inside[len(inside) // 2])


def close_popup(page) -> None:
    """Close the open popup and wait until it has left the page: Leaflet fades a popup out and
    removes it 200 ms later, and until then its old text would be read as the next popup's."""
    page.js("__t.map.closePopup(), 0")
    page.wait_for("!document.querySelector('.leaflet-popup')")


def alone(sites, which, metres: float = 20) -> object:
    """A site among ``which`` with no other site within ``metres``: at zoom 18 (about 0.6 m a
    pixel) no other marker covers its icon (the same site's other tiers sit beside it)."""
    lat0 = math.radians(float(sites["lat"].mean()))
    x = sites["lon"].to_numpy() * 111_320 * math.cos(lat0)
    y = sites["lat"].to_numpy() * 110_540
    ids = sites["site_id"].to_numpy()
    for i in np.flatnonzero(which.to_numpy()):
        if ((np.hypot(x - x[i], y - y[i]) < metres) & (ids != ids[i])).sum() == 0:
            return sites.iloc[i]
    raise AssertionError(f"every such site has a neighbour within {metres} m")


def test_clicking_a_locker_and_a_village_reads_their_popups(county, small_outputs, small_run):
    sites = read_sites(small_outputs)
    site = alone(sites, (sites["tier"] == "locker") & (sites["status"] == "new"))
    county.js(f"""(() => {{
        __t.target = __t.all().find(m => m.options.ref === 'slocker:{site.site_id}');
        __t.map.setView(__t.target.getLatLng(), 18, {{animate: false}}); return 0; }})()""")
    county.wait_for("(__t.map.getZoom() === 18 && __t.map.getCenter().distanceTo("
                    "__t.target.getLatLng()) < 1 && __t.target._icon && "
                    "document.body.contains(__t.target._icon)) || "
                    "(__t.map.setView(__t.target.getLatLng(), 18, {animate: false}), false)")
    county.click(*icon_centre(county))
    text = county.wait_for("(document.querySelector('.leaflet-popup-content') || {}).innerText")
    w = labels.Words("zh")
    assert site.site_id in text, text
    for key, value in (("site_name", site["name"]), ("site", site.site_id),
                       ("bank", w.fill("bank_of", n=float(site.bank_size))),
                       ("compartments_open", f"{site.compartments:,.0f}")):
        assert f"{w(key)}\t{value}" in text, (key, text)
    # the village that no road reaches: its population as population, its code as its code,
    # and why it is not served
    unit = int(np.flatnonzero(small_run.demand["name"].str.startswith("马固村"))[0])
    code = str(small_run.demand["code"].iat[unit])
    close_popup(county)
    click_free_point_inside(county, code)
    text = county.wait_for("(document.querySelector('.leaflet-popup-content') || {}).innerText")
    pop = float(small_run.demand["population"].iat[unit])
    assert f"{w('population')}\t{pop:,.0f}" in text
    assert f"{w('code_villages')}\t{code}" in text
    assert w("floor area") not in text and f"{w('site')}\t" not in text   # not 建筑面积, 站点编号
    assert workbook.reason(small_run, "village", unit, "zh") in text


def test_picking_a_search_result_opens_its_popup(county, small_outputs, small_run):
    sites = read_sites(small_outputs)
    for query, ref_text in (
            ("马固村", str(small_run.demand.loc[small_run.demand["name"]
                                                .str.startswith("马固村"), "code"].iat[0])),
            (sites[sites["status"] == "new"].iloc[0]["site_id"],
             sites[sites["status"] == "new"].iloc[0]["site_id"])):
        close_popup(county)
        county.js("document.querySelector('.leaflet-control-search .search-cancel').click(), 0")
        type_into(county, ".leaflet-control-search input", query)
        tip = county.wait_for(f"""(() => {{ const e = Array.from(document.querySelectorAll(
            '.leaflet-control-search .search-tip')).find(e => e.textContent.includes(
            {json.dumps(query)}));
            if (!e) return null;
            const b = e.getBoundingClientRect();
            return [b.left + b.width / 2, b.top + b.height / 2]; }})()""")
        county.click(*tip)
        text = county.wait_for(
            "(document.querySelector('.leaflet-popup-content') || {}).textContent")
        assert ref_text in text
        assert county.js("__t.map.getZoom()") >= 16


def test_title_names_the_unmet_target_and_why(county, small_run):
    unmet = [r for r in small_run.results if r.met is False]
    assert len(unmet) == 1                           # the fixture's one unmet target
    title = county.js("document.querySelector('#siting-title').innerText")
    w = labels.Words("zh")
    counts = [r.met for r in small_run.results]
    assert w.fill("targets_met", met=counts.count(True),
                  total=sum(m is not None for m in counts)) in title
    sentence = report.worded(unmet[0].as_dict(), small_run, "zh")["target"]
    unit = int(np.flatnonzero(small_run.demand["name"].str.startswith("马固村"))[0])
    reason = workbook.reason(small_run, "village", unit, "zh")
    assert sentence in title and "马固村" in title and reason in title
    assert [u.why for u in shortfall.unmet(small_run)] == [f"马固村：{reason}"]


def test_allocation_lines_are_a_layer_off_by_default(county, small_run):
    name = labels.t("allocation_lines", "zh")
    assert county.js(f"!!__t.overlays[{json.dumps(name)}]")
    assert county.js(f"__t.map.hasLayer(__t.overlays[{json.dumps(name)}])") is False
    n = county.js(f"__t.overlays[{json.dumps(name)}].getLayers().length")
    assert n == len(tables.allocation_lines(small_run)) > 0


CONTROLS = (".leaflet-control-zoom", ".leaflet-control-layers", ".leaflet-control-search",
            ".leaflet-control-zoom-fullscreen")
KEPT = ("#siting-title", "#siting-legend", "#siting-north", ".leaflet-control-scale",
        ".siting-attr", "#siting-print-date")


def shown_now(page: cdp.Page, selector: str) -> bool:
    return page.js(f"""(() => {{ const e = document.querySelector({json.dumps(selector)});
        return !!e && e.getClientRects().length > 0 &&
               getComputedStyle(e).visibility !== 'hidden'; }})()""")


@pytest.mark.skipif(shutil.which("pdfinfo") is None, reason="poppler-utils not installed")
def test_print_sheet_hides_the_controls_and_fills_an_a3_page(county, small_run, tmp_path):
    assert all(shown_now(county, s) for s in CONTROLS)
    assert not shown_now(county, "#siting-print-date")
    county.send("Emulation.setEmulatedMedia", media="print")
    try:
        assert [s for s in CONTROLS if shown_now(county, s)] == []
        assert [s for s in KEPT if not shown_now(county, s)] == []
        box = county.js("""(() => { const b = __t.map.getContainer().getBoundingClientRect();
            return [b.left, b.top, b.width, b.height, innerWidth, innerHeight]; })()""")
        assert box[:4] == [0, 0, box[4], box[5]]     # the map fills the page
        assert county.js("document.querySelector('#siting-print-date').textContent") \
            == time.strftime("%Y-%m-%d", time.gmtime())
        pdf = tmp_path / "printed.pdf"
        data = county.send("Page.printToPDF", preferCSSPageSize=True, printBackground=True,
                           timeout=60)["data"]
        pdf.write_bytes(base64.b64decode(data))
    finally:
        county.send("Emulation.setEmulatedMedia", media="")
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True,
                          check=True).stdout
    assert "Pages:           1\n" in info
    size = re.search(r"Page size: +([\d.]+) x ([\d.]+) pts \(A3\)", info)
    assert size and float(size[1]) > float(size[2]), info       # A3, landscape
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert webmap.title_of(small_run) in text and labels.t("legend", "zh") in text
    assert labels.t("search_hint", "zh") not in text          # the search box is not printed
    # the map (grey background, roads, polygons) reaches across the page: the middle row
    # and column of the printed page are nearly all non-white between the margins
    png = tmp_path / "page"
    subprocess.run(["pdftoppm", "-r", "20", "-png", "-singlefile", str(pdf), str(png)],
                   check=True)
    from matplotlib.image import imread

    img = imread(str(png) + ".png")[..., :3]
    h, w = img.shape[:2]
    row = img[h // 2, int(0.05 * w):int(0.95 * w)]
    col = img[int(0.08 * h):int(0.92 * h), w // 2]
    for line in (row, col):
        assert (line.min(axis=1) < 0.99).mean() > 0.97
