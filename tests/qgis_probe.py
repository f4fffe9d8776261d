"""Open a GeoPackage in QGIS as a planner would, and say what QGIS sees (JSON on stdout).

Run by Debian's system Python, which has PyQGIS (``python3-qgis``), from
tests/test_gpkg_qgis.py: ``QT_QPA_PLATFORM=offscreen /usr/bin/python3 tests/qgis_probe.py
FILE.gpkg OUT.png``. It imports nothing of siting. For every layer of the file it reports
whether QGIS loads it, its feature count, the renderer QGIS chose (from the file's
``layer_styles``), its categories, field aliases and labels, and the features whose geometry
QGIS's GEOS validator rejects; then it renders every layer into OUT.png and counts, for each
colour asked for with ``--colour #rrggbb``, the pixels drawn in it.
"""

from __future__ import annotations

import argparse
import json
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from qgis.core import (
    Qgis,
    QgsApplication,
    QgsGeometry,
    QgsMapRendererSequentialJob,
    QgsMapSettings,
    QgsProviderRegistry,
    QgsRectangle,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor


def layer_names(path: str) -> list[str]:
    """The layers of the file as QGIS lists them (the Add Layer dialog)."""
    meta = QgsProviderRegistry.instance().providerMetadata("ogr")
    subs = meta.querySublayers(path)
    return [s.name() for s in subs if s.name() != "layer_styles"]


def describe(layer: QgsVectorLayer) -> dict[str, object]:
    renderer = layer.renderer()
    cats = []
    if renderer is not None and renderer.type() == "categorizedSymbol":
        for c in renderer.categories():
            cats.append({"value": c.value(), "label": c.label(),
                         "colour": c.symbol().color().name()})
    invalid = []
    for f in layer.getFeatures():
        g = f.geometry()
        if not g.isNull() and g.validateGeometry(QgsGeometry.ValidatorGeos):
            invalid.append(f.id())
    fields = layer.fields()
    return {
        "valid": layer.isValid(), "count": layer.featureCount(),
        "renderer": renderer.type() if renderer is not None else None,
        "expression": getattr(renderer, "classAttribute", lambda: "")(),
        "categories": cats, "invalid": invalid,
        "aliases": {fields.at(i).name(): layer.attributeAlias(i) for i in range(len(fields))},
        "labels": bool(layer.labelsEnabled()),
        "styles": layer.styleManager().styles(),
    }


def render(layers: list[QgsVectorLayer], png: str, colours: list[str]) -> dict[str, int]:
    extent = QgsRectangle()
    for layer in layers:
        extent.combineExtentWith(layer.extent())
    settings = QgsMapSettings()
    settings.setLayers(list(reversed(layers)))        # the first layer is drawn last (top)
    settings.setDestinationCrs(layers[0].crs())
    settings.setExtent(extent)
    settings.setOutputSize(QSize(1200, 900))
    settings.setBackgroundColor(QColor("white"))
    job = QgsMapRendererSequentialJob(settings)
    job.start()
    job.waitForFinished()
    image = job.renderedImage()
    image.save(png)
    wanted = {c: QColor(c) for c in colours}
    counts = dict.fromkeys(colours, 0)
    for y in range(0, image.height(), 2):
        for x in range(0, image.width(), 2):
            px = QColor(image.pixel(x, y))
            for name, c in wanted.items():
                if abs(px.red() - c.red()) + abs(px.green() - c.green()) + \
                        abs(px.blue() - c.blue()) <= 24:
                    counts[name] += 1
    return counts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("gpkg")
    parser.add_argument("png")
    parser.add_argument("--colour", action="append", default=[])
    args = parser.parse_args()
    app = QgsApplication([], False)
    app.initQgis()
    out: dict[str, object] = {"qgis": Qgis.QGIS_VERSION}
    names = layer_names(args.gpkg)
    layers, described = [], {}
    for name in names:
        layer = QgsVectorLayer(f"{args.gpkg}|layername={name}", name, "ogr")
        described[name] = describe(layer)
        layers.append(layer)
    out["layers"] = described
    out["order"] = names
    out["pixels"] = render(layers, args.png, args.colour)
    print(json.dumps(out, ensure_ascii=False), flush=True)
    # PyQGIS 3.22 may crash in its own teardown (exitQgis, interpreter exit) once the
    # answer is out: leave without it
    os._exit(0)


if __name__ == "__main__":
    main()
