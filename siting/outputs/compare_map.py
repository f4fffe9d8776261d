"""The map of a comparison: the sites added, removed and kept, coloured, in one HTML file.

Self-contained like every siting map (``offlinefolium``: no CDN, no tiles). One layer per
later run and kind of difference: added (in the other plan only), removed (in the base
only), kept (both; hidden at first). Every value from a file is HTML-escaped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import offlinefolium as folium
import pandas as pd

from siting.outputs import labels, render, style
from siting.outputs.webmap import _metric_scale, add_html, esc
from siting.run.compare import Comparison

KINDS = {"added": style.DIFF_ADDED, "removed": style.DIFF_REMOVED, "kept": style.DIFF_KEPT}
"""Each kind of difference and its colour."""


def write(c: Comparison, path: Path, *, lang: str, title: str) -> None:
    """Write ``map.html``."""
    build(c, lang=lang, title=title).save(str(path))


def build(c: Comparison, *, lang: str, title: str) -> folium.Map:
    """The Folium map of the differences."""
    w = labels.Words(lang)
    every = pd.concat([r.sites for r in c.runs], ignore_index=True)
    m = folium.Map(location=[34.72, 113.62], zoom_start=11, tiles=None, control_scale=False,
                   prefer_canvas=True)
    m.options["maxZoom"] = 19
    if len(every):
        m.fit_bounds([[float(every["lat"].min()), float(every["lon"].min())],
                      [float(every["lat"].max()), float(every["lon"].max())]])
    _metric_scale(m)
    for d in c.diffs:
        for kind, color in KINDS.items():
            rows = getattr(d, kind)
            name = w.fill("diff_layer", other=esc(d.other), base=esc(d.base),
                          what=f"{w(kind)} ({len(rows):,})")
            _layer(m, rows, name=name, color=color, show=kind != "kept", w=w)
    folium.LayerControl(collapsed=False).add_to(m)
    add_html(m, render.render("compare_map_boxes.html.j2", lang=lang, title=title,
                              diffs=c.diffs, kinds=KINDS))
    return m


def _layer(m: folium.Map, rows: pd.DataFrame, *, name: str, color: str, show: bool,
           w: labels.Words) -> None:
    """The sites of ``rows`` as coloured dots, their facts on hover."""
    features = [_feature(r, w) for r in rows.itertuples(index=False)]
    if not features:
        return
    fields = ["tier", "site", "name", "place"]
    folium.GeoJson(
        {"type": "FeatureCollection", "features": features}, name=name, show=show,
        marker=folium.CircleMarker(radius=6, weight=2, fill=True, fill_opacity=0.85),
        style_function=lambda f: {"color": color, "fillColor": color},
        tooltip=folium.GeoJsonTooltip(fields=fields, aliases=[w("tier"), w("site"), w("name"),
                                                              w("township_unit")]),
    ).add_to(m)


def _feature(r: Any, w: labels.Words) -> dict[str, Any]:
    place = " ".join(str(x) for x in (r.county, r.township, r.village) if x)
    props = {"tier": esc(f"{w(r.tier)} · {w(r.status)}"), "site": esc(r.site_id),
             "name": esc(r.name) or "—", "place": esc(place) or "—"}
    return {"type": "Feature", "properties": props,
            "geometry": {"type": "Point", "coordinates": [round(float(r.lon), 6),
                                                          round(float(r.lat), 6)]}}
