"""``sites.gpkg``: one layer per kind of feature, styled for QGIS, named in the run's language.

Layers (table names from :mod:`siting.outputs.labels`, e.g. 乡镇（街道） / ``townships``):

- townships with their key figures (:func:`siting.outputs.kpi.townships`);
- the demand units by kind — villages, communities, areas (or OSM buildings) — each with
  its tiers' columns (:func:`siting.outputs.tables.tier_columns`);
- the sites (one row per open site and tier, the ``sites.csv`` table, at its point);
- the allocation lines, demand unit → serving site (:func:`tables.allocation_lines`);
- the service areas of the tiers ``[map] service_areas`` names (:mod:`siting.run.service`).

Each layer has QGIS styles (:mod:`siting.outputs.qml`) in the ``layer_styles`` table that
QGIS reads when it opens a GeoPackage layer, the map's colours, with field aliases in the
run's language; the aliases are also in ``gpkg_data_columns`` (the GeoPackage schema
extension). Polygon layers are MultiPolygon throughout. The file is GeoPackage 1.2, which
GDAL 3.6 (Debian 12, QGIS 3.22) reads without a warning. Every timestamp in it is
:data:`STAMP`, GDAL builds the spatial index in the writing thread (not in its background
thread, whose timing changes the file's transactions), and the file is compacted
(``VACUUM INTO``) from what it holds, so the same run writes the same bytes. Sliver polygon
parts (a ring whose points nearly collapse on a line) are left out, with a warning naming the
feature.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from siting.outputs import handout, kpi, labels, qml, style, tables
from siting.outputs.qml import Category, Labels, Style
from siting.run.results import RunResult

log = logging.getLogger(__name__)

STAMP = "1970-01-01T00:00:00.000Z"
"""Every time written into the file (``last_change``, ``update_time``): a fixed one, not the
clock, so that two runs on the same inputs write byte-identical files."""

VERSION = "1.2"
"""The GeoPackage version written (GDAL ≥ 3.9 writes 1.4 by default, which GDAL 3.6 warns of)."""

KINDS = {("villages", "village"): "villages", ("villages", "community"): "communities",
         ("osm_buildings", None): "buildings", ("townships", None): "townships"}
"""(demand layer, class) → the GeoPackage layer of such units; anything else is an area.

Townships are not among the demand layers: their layer has the township figures."""

SHAPES = {"township": "square", "village": "triangle", "community": "diamond",
          "locker": "circle"}
"""Each tier's marker shape (its colour is :data:`siting.outputs.style.TIER_COLOR`)."""

MIN_WIDTH_M = 0.1
"""A polygon part whose mean width (2 × area / perimeter) is under this is a sliver, not
written: a ring whose points (nearly) collapse on a line, which GIS readers reject as "too
few points" once its coordinates are rounded."""


@dataclass(frozen=True)
class Layer:
    """One layer of the file: its table, its rows, and its styles (the first the default)."""

    key: str                       # townships, villages, …: the labels key ``layer_<key>``
    table: str                     # the table name, in the run's language
    frame: gpd.GeoDataFrame
    styles: tuple[Style, ...]


def write(result: RunResult, path: Path) -> None:
    """Write ``sites.gpkg`` at ``path`` (a new file, in the run's staging folder)."""
    layers = build(result)
    about = labels.t("generated", result.scenario.lang) if result.generated else ""
    draft = path.with_name(f"{path.stem}.draft.gpkg")
    pyogrio.set_gdal_config_options({"OGR_GPKG_ALLOW_THREADED_RTREE": "NO"})
    try:
        for k, layer in enumerate(layers):
            polygons = bool(np.isin(shapely.get_type_id(layer.frame.geometry.to_numpy()),
                                    (3, 6)).any())
            pyogrio.write_dataframe(
                layer.frame, draft, layer=layer.table, driver="GPKG",
                promote_to_multi=polygons,
                dataset_options={"VERSION": VERSION} if k == 0 else None,
                layer_options={"IDENTIFIER": layer.table, "DESCRIPTION": about})
        with closing(sqlite3.connect(draft)) as con:
            with con:
                _layer_styles(con, layers)
                _data_columns(con, layers)
                con.execute("UPDATE gpkg_contents SET last_change = ?", (STAMP,))
            con.execute("VACUUM INTO ?", (str(path),))
    finally:
        draft.unlink(missing_ok=True)
    log.info("sites.gpkg: %s", ", ".join(f"{x.table} {len(x.frame):,}" for x in layers))


def build(result: RunResult) -> list[Layer]:
    """The layers of ``sites.gpkg``, in the order QGIS should draw them (bottom first)."""
    out = [_townships(result), *_demand_layers(result), *_service_areas(result),
           _allocation(result), _chain(result), _sites(result)]
    return [x for x in out if x is not None and len(x.frame)]


# -- the layers ------------------------------------------------------------------------------


def _townships(result: RunResult) -> Layer | None:
    lang, tiers = result.scenario.lang, list(result.tiers)
    towns = kpi.townships(result)
    if len(towns) == 0:
        return None
    towns = towns.rename(columns={f"{t}_served": f"{t}_units_served" for t in tiers})
    units = sum(towns[f"{t}_units"] for t in tiers)
    served = sum(towns[f"{t}_units_served"] for t in tiers)
    towns["share_served"] = np.where(units > 0, served / np.maximum(units, 1), 1.0).round(4)
    towns["all_served"] = (served >= units).astype(np.int8)
    towns["generated"] = np.int8(result.generated)
    w = labels.Words(lang)
    look = Style(w("style_townships"), "fill", '"all_served"', (
        Category("1", w("all_served"), style.COVERED, fill=0.08, size=0.6,
                 outline=style.OUTLINE),
        Category("0", w("some_unserved"), style.UNCOVERED, fill=0.3, size=0.6,
                 outline=style.OUTLINE)),
        aliases=_aliases(towns, lang, tiers),
        labels=Labels("name", size_pt=10, bold=True, always=True, priority=10))
    return _layer("townships", result, towns, (look,))


def _demand_layers(result: RunResult) -> Iterator[Layer]:
    lang, tiers = result.scenario.lang, list(result.tiers)
    dem = tables.demand_table(result).drop(columns=["x", "y"])
    dem["generated"] = np.int8(result.generated)
    kind = np.array([_kind(layer, cls) for layer, cls in zip(dem["layer"], dem["class"],
                                                              strict=True)])
    for key in ("villages", "communities", "areas", "buildings"):
        rows = kind == key
        if not rows.any():
            continue
        mine = [t for t in tiers if result.outcomes[t].applies[rows].any()]
        frame = dem[rows].drop(columns=[c for t in tiers if t not in mine
                                        for c in tables.tier_columns_of(t)])
        frame = frame.reset_index(drop=True)
        mine.sort(key=lambda t: -int(result.outcomes[t].applies[rows].sum()))
        scale = 10_000 if key in ("areas", "buildings") else 50_000
        looks = tuple(_coverage_style(t, lang, _aliases(frame, lang, tiers),
                                      Labels("name", max_scale=scale)) for t in mine)
        yield _layer(key, result, frame, looks)


def _kind(layer: str, cls: str) -> str:
    return KINDS.get((layer, cls)) or KINDS.get((layer, None)) or "areas"


def _coverage_style(tier: str, lang: str, aliases: dict[str, str], lab: Labels) -> Style:
    """Units coloured by whether ``tier`` serves them (grey: not the tier's demand)."""
    w = labels.Words(lang)
    col = f'"{tier}_served"'
    return Style(w.fill("style_coverage", tier=w(tier)), "fill",
                 f"CASE WHEN {col} IS NULL THEN 'na' WHEN {col} THEN 'yes' ELSE 'no' END", (
                     Category("yes", w("covered"), style.COVERED, fill=0.45, size=0.2),
                     Category("no", w("uncovered"), style.UNCOVERED, fill=0.6, size=0.3),
                     Category("na", w("not_demand"), style.GREY, fill=0.15, size=0.2)),
                 aliases=aliases, labels=lab)


def _sites(result: RunResult) -> Layer:
    lang = result.scenario.lang
    rows = handout.site_table(result)
    sites = gpd.GeoDataFrame(rows, geometry=gpd.points_from_xy(rows["lon"], rows["lat"]),
                             crs="EPSG:4326")
    w = labels.Words(lang)
    cats = []
    for t in result.tiers:
        shape = SHAPES.get(t, "circle")
        cats.append(Category(f"{t}/new", f"{w(t)} · {w('new')}", style.tier_color(t),
                             shape=shape, size=3.4))
        cats.append(Category(f"{t}/existing", f"{w(t)} · {w('existing')}",
                             style.EXISTING_SWATCH, shape=shape, size=2.4))
    look = Style(w("style_sites"), "marker", '"tier" || \'/\' || "status"', tuple(cats),
                 aliases=_aliases(sites, lang, list(result.tiers)))
    return _layer("sites", result, sites, (look,))


def _allocation(result: RunResult) -> Layer:
    lang = result.scenario.lang
    lines = tables.allocation_lines(result)
    lines["generated"] = np.int8(result.generated)
    w = labels.Words(lang)
    cats = tuple(Category(t, w(t), style.tier_color(t), size=0.3, fill=0.7)
                 for t in result.tiers)
    look = Style(w("style_lines"), "line", '"tier"', cats, aliases=_aliases(lines, lang, []))
    return _layer("allocation", result, lines, (look,))


def _chain(result: RunResult) -> Layer | None:
    """Centre → township outlet → village outlet, one line per village ([chain])."""
    from siting.outputs import chain

    if result.chain is None:
        return None
    lang = result.scenario.lang
    links = chain.lines(result)
    w = labels.Words(lang)
    look = Style(w("layer_chain"), "line", '"generated"',
                 (Category("", w("layer_chain"), style.tier_color("township"), size=0.5),),
                 aliases=_aliases(links, lang, []))
    return _layer("chain", result, links, (look,))


def _service_areas(result: RunResult) -> Iterator[Layer]:
    from siting.run import service

    lang = result.scenario.lang
    w = labels.Words(lang)
    rows: list[dict[str, object]] = []
    for t in result.scenario.map.service_areas:
        if t in result.tiers and result.tiers[t].config.reach == "road":
            rows += [{"tier": t, "site_id": s, "generated": int(result.generated),
                      "geometry": g} for s, g in service.reached_roads(result, t)]
    if not rows:
        return
    frame = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")
    cats = tuple(Category(t, w(t), style.tier_color(t), size=0.8, fill=0.7)
                 for t in result.tiers)
    look = Style(w("layer_service_areas"), "line", '"tier"', cats,
                 aliases=_aliases(frame, lang, []))
    yield _layer("service_areas", result, frame, (look,))


def _layer(key: str, result: RunResult, frame: gpd.GeoDataFrame,
           styles: tuple[Style, ...]) -> Layer:
    table = labels.t(f"layer_{key}", result.scenario.lang)
    return Layer(key, table, valid(frame, table), styles)


def _aliases(frame: pd.DataFrame, lang: str, tiers: list[str]) -> dict[str, str]:
    return {c: labels.field_alias(c, lang, tiers=tiers) for c in frame.columns
            if c != frame.geometry.name}


# -- valid geometries ------------------------------------------------------------------------


def valid(frame: gpd.GeoDataFrame, table: str) -> gpd.GeoDataFrame:
    """``frame`` with valid polygons: repaired (make_valid), sliver parts left out.

    A part is a sliver when its mean width is under :data:`MIN_WIDTH_M`; each feature that
    is repaired or loses a part is named in a warning.
    """
    geom = frame.geometry.to_numpy()
    poly = np.flatnonzero(np.isin(shapely.get_type_id(geom), (3, 6)))
    if not len(poly):
        return frame
    geom = geom.copy()
    for i, repaired in zip(poly, shapely.make_valid(geom[poly]), strict=True):
        kept, lost = _without_slivers(repaired)
        what = [f"{lost} sliver part(s) left out (narrower than {MIN_WIDTH_M:g} m)"] * \
            bool(lost) + ["repaired (it was not a valid polygon)"] * \
            (not shapely.is_valid(geom[i]))
        if what:
            name = frame["name"].iat[i] if "name" in frame else ""
            code = frame["code"].iat[i] if "code" in frame else i
            log.warning("sites.gpkg, layer %s: feature %s (%s): %s", table, code, name,
                        "; ".join(what))
        geom[i] = kept
    return frame.set_geometry(geom, crs=frame.crs)


def _without_slivers(g: shapely.Geometry) -> tuple[shapely.Geometry, int]:
    """The polygon parts of ``g`` at least :data:`MIN_WIDTH_M` wide on average; how many not."""
    parts = [p for p in shapely.get_parts(shapely.get_parts(g)) if p.geom_type == "Polygon"]
    if not parts:
        return shapely.MultiPolygon(), 0
    lat = np.radians(shapely.get_coordinates(g)[:, 1].mean())
    metric = shapely.transform(np.array(parts, dtype=object),
                               lambda xy: xy * [111_320.0 * np.cos(lat), 111_320.0])
    width = 2 * shapely.area(metric) / np.maximum(shapely.length(metric), 1e-12)
    keep = [p for p, w in zip(parts, width, strict=True) if w >= MIN_WIDTH_M]
    if len(keep) == len(parts) and g.geom_type in ("Polygon", "MultiPolygon"):
        return g, 0
    return shapely.MultiPolygon(keep), len(parts) - len(keep)


# -- QGIS styles and the schema extension ----------------------------------------------------

_STYLES_DDL = (
    'CREATE TABLE "layer_styles" ("id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, '
    '"f_table_catalog" TEXT(256), "f_table_schema" TEXT(256), "f_table_name" TEXT(256), '
    '"f_geometry_column" TEXT(256), "styleName" TEXT(30), "styleQML" TEXT, "styleSLD" TEXT, '
    '"useAsDefault" BOOLEAN, "description" TEXT, "owner" TEXT(30), "ui" TEXT(30), '
    "\"update_time\" DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')))")
"""The table exactly as QGIS 3.22 creates it (Layer ▸ Save Style ▸ In Database)."""


def _layer_styles(con: sqlite3.Connection, layers: list[Layer]) -> None:
    con.execute(_STYLES_DDL)
    con.execute("INSERT INTO gpkg_contents (table_name, data_type, identifier, description, "
                "last_change, srs_id) VALUES ('layer_styles', 'attributes', 'layer_styles', "
                "'', ?, 0)", (STAMP,))
    rows = [("", "", x.table, "geom", s.name, qml.qml(s), "", int(k == 0), s.name, "", None,
             STAMP) for x in layers for k, s in enumerate(x.styles)]
    con.executemany(
        'INSERT INTO layer_styles ("f_table_catalog", "f_table_schema", "f_table_name", '
        '"f_geometry_column", "styleName", "styleQML", "styleSLD", "useAsDefault", '
        '"description", "owner", "ui", "update_time") VALUES (?,?,?,?,?,?,?,?,?,?,?,?)', rows)


def _data_columns(con: sqlite3.Connection, layers: list[Layer]) -> None:
    """The aliases as ``gpkg_data_columns`` titles (GeoPackage 1.2, Schema extension)."""
    con.execute(
        "CREATE TABLE gpkg_data_columns (table_name TEXT NOT NULL, column_name TEXT NOT NULL,"
        " name TEXT, title TEXT, description TEXT, mime_type TEXT, constraint_name TEXT, "
        "CONSTRAINT pk_gdc PRIMARY KEY (table_name, column_name), "
        "CONSTRAINT gdc_tn UNIQUE (table_name, name))")
    con.execute(
        "CREATE TABLE gpkg_data_column_constraints (constraint_name TEXT NOT NULL, "
        "constraint_type TEXT NOT NULL, value TEXT, min NUMERIC, min_is_inclusive BOOLEAN, "
        "max NUMERIC, max_is_inclusive BOOLEAN, description TEXT, "
        "CONSTRAINT gdcc_ntv UNIQUE (constraint_name, constraint_type, value))")
    con.execute("CREATE TABLE IF NOT EXISTS gpkg_extensions (table_name TEXT, column_name "
                "TEXT, extension_name TEXT NOT NULL, definition TEXT NOT NULL, scope TEXT NOT "
                "NULL, CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name))")
    con.executemany(
        "INSERT INTO gpkg_extensions (table_name, column_name, extension_name, definition, "
        "scope) VALUES (?, NULL, 'gpkg_schema', "
        "'http://www.geopackage.org/spec/#extension_schema', 'read-write')",
        [(t,) for t in ("gpkg_data_columns", "gpkg_data_column_constraints")])
    con.executemany(
        "INSERT INTO gpkg_data_columns (table_name, column_name, name, title) "
        "VALUES (?, ?, ?, ?)",
        [(x.table, c, c, alias) for x in layers if x.styles
         for c, alias in x.styles[0].aliases.items()])
