"""The map's place names: what is labelled where, in the order labels win a place.

Townships first (labelled at city and county zoom), then villages and communities by
population (zoomed in), then open sites by name (closer still; existing before new). The
page shows a label only at its zoom levels (:data:`siting.outputs.webmap.LABEL_ZOOMS`) and
only where no label before it in this order already stands, so labels never overlap.

Every name comes from an input file, so it is HTML-escaped here, as everything else on the
page (:func:`siting.outputs.webmap.esc`); the page sets it as the label's HTML, which then
shows the name as text: a village named ``<img src=x onerror=…>`` is read, never run.
"""

from __future__ import annotations

import html

import numpy as np
import shapely

from siting.outputs import labels, naming, tables
from siting.run.results import RunResult

Item = tuple[float, float, str, str, list[str]]
"""(lat, lon, text, kind, tiers): ``kind`` "town", "unit" or "site"; a site's label shows
only while one of its ``tiers``' layers is on."""


def items(result: RunResult) -> list[Item]:
    """Every place name of the run's map, in priority order, HTML-escaped."""
    every = [*_units(result, "townships", "town"), *_units(result, "villages", "unit"),
             *_sites(result)]
    return [(lat, lon, html.escape(text, quote=True), kind, tiers)
            for lat, lon, text, kind, tiers in every]


def _units(result: RunResult, layer: str, kind: str) -> list[Item]:
    dem = result.demand
    sel = dem[dem["layer"] == layer]
    if len(sel) == 0:
        return []
    order = np.argsort(-sel["population"].fillna(0.0).to_numpy(float), kind="stable")
    out: list[Item] = []
    for i in order:
        name = labels.short_name(str(sel["name"].iat[i] or "")) or str(sel["code"].iat[i])
        pt = _inside(sel.geometry.iat[i])
        out.append((round(pt.y, 6), round(pt.x, 6), name, kind, []))
    return out


def _inside(geom: shapely.Geometry) -> shapely.Point:
    """The polygon's centroid, or a point on its surface when the centroid falls outside."""
    c = shapely.centroid(geom)
    return c if shapely.contains(geom, c) else shapely.point_on_surface(geom)


def _sites(result: RunResult) -> list[Item]:
    """One label per open site (a site of two tiers once), existing sites first."""
    rows = tables.open_sites(result)
    lang = result.scenario.lang
    rows = rows.assign(_new=rows["status"] == "new").sort_values(
        ["_new", "site_id"], kind="stable")
    tiers = rows.groupby("site_id", sort=False)["tier"].agg(list)
    first = rows.drop_duplicates("site_id")
    return [(round(float(r.lat), 6), round(float(r.lon), 6), naming.site_name(r, lang),
             "site", tiers[r.site_id]) for r in first.itertuples(index=False)]
