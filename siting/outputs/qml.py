"""QGIS layer styles (QML) for the GeoPackage, in the map's palette (:mod:`siting.outputs.style`).

A style is what QGIS writes into a GeoPackage's ``layer_styles`` table: the renderer (here
always *categorized*, one :class:`Category` per kind of feature, by an expression over the
layer's fields), field aliases in the run's language, and labels (names at the scales where
they help). :func:`qml` turns a :class:`Style` into the QML document QGIS 3 reads.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field

from siting import __version__

GEOMETRY = {"Polygon": "fill", "MultiPolygon": "fill", "LineString": "line",
            "MultiLineString": "line", "Point": "marker", "MultiPoint": "marker"}
"""A layer's geometry type → the QGIS symbol type that draws it."""


@dataclass(frozen=True)
class Category:
    """Features whose expression gives ``value`` draw in ``color`` and show ``label``.

    ``value`` "" is QGIS's "all other values". ``shape`` names a marker (circle, square,
    triangle, diamond, pentagon, star); ``size`` is the marker's diameter or the line's
    width (mm); ``fill`` the fill's opacity (0–1) for polygons.
    """

    value: str
    label: str
    color: str
    shape: str = "circle"
    size: float = 0.0
    fill: float = 0.5
    outline: str = ""


@dataclass(frozen=True)
class Labels:
    """Label each feature with ``field`` where the map's scale is 1:``max_scale`` or closer."""

    field: str
    max_scale: float = 0.0             # 0: at every scale
    size_pt: float = 9.0
    bold: bool = False
    always: bool = False               # shown even where it overlaps another label or symbol
    priority: int = 5                  # 0–10: who wins where labels collide


@dataclass(frozen=True)
class Style:
    """A layer's look: categories by ``expression``, aliases, labels."""

    name: str                          # the style's name in QGIS's style manager
    geometry: str                      # "fill", "line" or "marker"
    expression: str
    categories: tuple[Category, ...]
    aliases: Mapping[str, str] = field(default_factory=dict)
    labels: Labels | None = None
    opacity: float = 1.0               # the whole layer's


def rgba(css: str, alpha: float = 1.0) -> str:
    """``#rrggbb`` → QGIS's ``r,g,b,a`` (alpha 0–255)."""
    h = css.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return f"{r},{g},{b},{round(255 * alpha)}"


def qml(style: Style) -> str:
    """The QML document of ``style`` (QGIS 3)."""
    root = ET.Element("qgis", {"version": __version__, "styleCategories": "AllStyleCategories",
                               "labelsEnabled": "1" if style.labels else "0"})
    root.append(_renderer(style))
    if style.labels:
        root.append(_labeling(style.labels))
    aliases = ET.SubElement(root, "aliases")
    for name, alias in style.aliases.items():
        ET.SubElement(aliases, "alias", {"field": name, "name": alias})
    ET.SubElement(root, "layerOpacity").text = f"{style.opacity:g}"
    ET.SubElement(root, "layerGeometryType").text = \
        {"marker": "0", "line": "1", "fill": "2"}[style.geometry]
    ET.indent(root, space=" ")
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + \
        ET.tostring(root, encoding="unicode") + "\n"


def _renderer(style: Style) -> ET.Element:
    r = ET.Element("renderer-v2", {"type": "categorizedSymbol", "attr": style.expression,
                                   "symbollevels": "0", "forceraster": "0",
                                   "enableorderby": "0", "referencescale": "-1"})
    cats = ET.SubElement(r, "categories")
    syms = ET.SubElement(r, "symbols")
    for k, c in enumerate(style.categories):
        ET.SubElement(cats, "category", {"value": c.value, "symbol": str(k), "label": c.label,
                                         "render": "true"})
        syms.append(_symbol(str(k), style.geometry, c))
    return r


def _symbol(name: str, kind: str, c: Category) -> ET.Element:
    sym = ET.Element("symbol", {"name": name, "type": kind, "alpha": "1",
                                "clip_to_extent": "1", "force_rhr": "0"})
    layer_class = {"fill": "SimpleFill", "line": "SimpleLine", "marker": "SimpleMarker"}[kind]
    layer = ET.SubElement(sym, "layer", {"class": layer_class, "enabled": "1", "locked": "0",
                                         "pass": "0"})
    _options(layer, _props(kind, c))
    return sym


def _props(kind: str, c: Category) -> dict[str, str]:
    outline = rgba(c.outline or c.color)
    if kind == "fill":
        return {"color": rgba(c.color, c.fill), "style": "solid", "outline_color": outline,
                "outline_style": "solid", "outline_width": f"{c.size or 0.3:g}",
                "outline_width_unit": "MM", "joinstyle": "bevel"}
    if kind == "line":
        return {"line_color": rgba(c.color, c.fill), "line_style": "solid",
                "line_width": f"{c.size or 0.4:g}", "line_width_unit": "MM",
                "capstyle": "round", "joinstyle": "round"}
    return {"name": c.shape, "color": rgba(c.color), "outline_color": rgba(c.outline or
                                                                            "#ffffff"),
            "outline_style": "solid", "outline_width": "0.3", "outline_width_unit": "MM",
            "size": f"{c.size or 3:g}", "size_unit": "MM", "scale_method": "diameter",
            "angle": "0", "joinstyle": "bevel"}


def _options(parent: ET.Element, props: dict[str, str]) -> None:
    opts = ET.SubElement(parent, "Option", {"type": "Map"})
    for k, v in props.items():
        ET.SubElement(opts, "Option", {"name": k, "value": v, "type": "QString"})


def _labeling(lab: Labels) -> ET.Element:
    el = ET.Element("labeling", {"type": "simple"})
    settings = ET.SubElement(el, "settings", {"calloutType": "simple"})
    text = ET.SubElement(settings, "text-style", {
        "fieldName": lab.field, "isExpression": "0", "fontSize": f"{lab.size_pt:g}",
        "fontSizeUnit": "Point", "fontWeight": "75" if lab.bold else "50",
        "textColor": rgba("#212529"), "textOpacity": "1"})
    ET.SubElement(text, "text-buffer", {"bufferDraw": "1", "bufferSize": "0.8",
                                        "bufferSizeUnits": "MM",
                                        "bufferColor": rgba("#ffffff"),
                                        "bufferOpacity": "0.9", "bufferNoFill": "1"})
    ET.SubElement(settings, "placement", {"placement": "1", "centroidInside": "1",
                                          "centroidWhole": "0", "priority": str(lab.priority)})
    scaled = lab.max_scale > 0
    # QGIS reads a label's farthest-out scale (its "minimum scale") from scaleMax
    ET.SubElement(settings, "rendering", {"scaleVisibility": "1" if scaled else "0",
                                          "scaleMax": f"{lab.max_scale:g}" if scaled else "0",
                                          "scaleMin": "0", "obstacle": "1",
                                          "displayAll": "1" if lab.always else "0",
                                          "upsidedownLabels": "0"})
    return el
