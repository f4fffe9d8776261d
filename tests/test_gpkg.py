"""sites.gpkg as GDAL reads it: one layer per kind, QGIS styles, aliases, valid, GeoPackage 1.2.

What QGIS itself makes of the file is tests/test_gpkg_qgis.py.
"""

from __future__ import annotations

import logging
import shutil
import sqlite3
import subprocess
import warnings
import xml.etree.ElementTree as ET
from contextlib import closing
from dataclasses import replace
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
import shapely

from siting.outputs import gpkg, labels, style
from tests.conftest import read_sites

QGIS_STYLE_COLUMNS = ["id", "f_table_catalog", "f_table_schema", "f_table_name",
                      "f_geometry_column", "styleName", "styleQML", "styleSLD", "useAsDefault",
                      "description", "owner", "ui", "update_time"]
"""``layer_styles`` as QGIS 3.22 makes it (Layer ▸ Save Style ▸ In Database (GeoPackage))."""


def _tables(path: Path) -> dict[str, str]:
    """Layer name → geometry type (None for a table without geometry)."""
    return {str(n): g for n, g in pyogrio.list_layers(path)}


def _sql(path: Path, query: str) -> list[tuple]:
    with closing(sqlite3.connect(path)) as con:
        return con.execute(query).fetchall()


def test_one_layer_per_kind_named_in_chinese(small_run, small_outputs):
    path = small_outputs / "sites.gpkg"
    got = _tables(path)
    assert got == {"乡镇（街道）": "MultiPolygon", "行政村": "MultiPolygon",
                   "社区": "MultiPolygon", "区域（居住、商业、政务）": "MultiPolygon",
                   "服务关系线": "LineString",
                   "站点": "Point", "layer_styles": None}
    dem = small_run.demand
    counts = {name: pyogrio.read_info(path, layer=name)["features"] for name in got}
    assert counts["乡镇（街道）"] == int((dem["layer"] == "townships").sum())
    assert counts["行政村"] == int(((dem["layer"] == "villages")
                                    & (dem["class"] == "village")).sum())
    assert counts["社区"] == int(((dem["layer"] == "villages")
                                  & (dem["class"] == "community")).sum())
    assert counts["区域（居住、商业、政务）"] == int((dem["layer"] == "areas").sum())
    assert counts["站点"] == len(read_sites(small_outputs))
    villages = gpd.read_file(path, layer="行政村")
    assert "village_served" in villages and "locker_served" not in villages  # its tiers only
    assert (villages["generated"] == 1).all()


def test_every_layer_has_a_default_qgis_style_in_the_palette(small_outputs):
    path = small_outputs / "sites.gpkg"
    with closing(sqlite3.connect(path)) as con:
        cols = [r[1] for r in con.execute("PRAGMA table_info(layer_styles)")]
        rows = con.execute("SELECT f_table_name, f_geometry_column, styleName, styleQML, "
                           "useAsDefault, update_time FROM layer_styles").fetchall()
    assert cols == QGIS_STYLE_COLUMNS
    layers = {n for n, g in _tables(path).items() if g is not None}
    defaults = [r[0] for r in rows if r[4] == 1]
    assert sorted(defaults) == sorted(layers)              # one default style per layer
    assert {r[1] for r in rows} == {"geom"}
    assert {r[5] for r in rows} == {gpkg.STAMP}
    areas = [r for r in rows if r[0] == "区域（居住、商业、政务）"]
    assert [r[2] for r in areas] == ["智能快件箱覆盖", "社区综合服务网点覆盖"]  # a style per tier
    qml = {r[0]: ET.fromstring(r[3].split("\n", 1)[1]) for r in rows if r[4] == 1}
    sites = qml["站点"]
    colours = {c.get("value"): _colour(sites, c.get("symbol"))
               for c in sites.iter("category")}
    assert colours["locker/new"] == qml_rgb(style.TIER_COLOR["locker"])
    assert colours["village/existing"] == qml_rgb(style.EXISTING_SWATCH)
    towns = qml["乡镇（街道）"]
    assert towns.get("labelsEnabled") == "1"
    assert towns.find("labeling/settings/text-style").get("fieldName") == "name"
    aliases = {a.get("field"): a.get("name") for a in towns.iter("alias")}
    assert aliases["name"] == "名称" and aliases["village_units_served"] == "村级网点：已服务单元数"


def qml_rgb(css: str) -> str:
    h = css.lstrip("#")
    return ",".join(str(int(h[i:i + 2], 16)) for i in (0, 2, 4))


def _colour(root: ET.Element, symbol: str | None) -> str:
    sym = next(s for s in root.iter("symbol") if s.get("name") == symbol)
    opt = next(o for o in sym.iter("Option") if o.get("name") == "color")
    return opt.get("value", "").rsplit(",", 1)[0]


def test_aliases_also_in_the_schema_extension(small_outputs):
    path = small_outputs / "sites.gpkg"
    rows = dict(((t, c), title) for t, c, title in _sql(
        path, "SELECT table_name, column_name, title FROM gpkg_data_columns"))
    assert rows[("站点", "site_id")] == "站点编号"
    assert rows[("行政村", "village_site_m")] == "村级网点：距服务站点（米）"
    ext = _sql(path, "SELECT table_name FROM gpkg_extensions WHERE extension_name = "
                     "'gpkg_schema'")
    assert sorted(r[0] for r in ext) == ["gpkg_data_column_constraints", "gpkg_data_columns"]


def test_geopackage_1_2_read_without_a_warning(small_outputs):
    path = small_outputs / "sites.gpkg"
    assert _sql(path, "PRAGMA user_version") == [(10200,)]          # GeoPackage 1.2.0
    assert _sql(path, "PRAGMA application_id") == [(0x47504B47,)]   # 'GPKG'
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for name in _tables(path):
            pyogrio.read_dataframe(path, layer=name)
    ogrinfo = shutil.which("ogrinfo")
    if ogrinfo is None:
        pytest.skip("no ogrinfo (gdal-bin) to read it with the system's GDAL")
    got = subprocess.run([ogrinfo, "-ro", "-al", "-so", str(path)], capture_output=True,
                         text=True, check=True, timeout=120)
    assert "Warning" not in got.stderr and "ERROR" not in got.stderr, got.stderr
    assert "Layer name: 站点" in got.stdout


def test_geometries_are_valid(small_outputs):
    path = small_outputs / "sites.gpkg"
    for name, geom in _tables(path).items():
        if geom is None:
            continue
        g = gpd.read_file(path, layer=name).geometry
        assert g.is_valid.all() and not g.is_empty.any(), name


def test_a_sliver_part_is_left_out_and_named(caplog):
    square = shapely.box(113.0, 34.0, 113.01, 34.01)
    # a spike 900 m long and 1 cm wide, as the generator's Voronoi cut leaves (民主街村委会)
    spike = shapely.Polygon([(113.02, 34.0), (113.03, 34.0), (113.02, 34.0 + 1e-7)])
    bow = shapely.Polygon([(113.0, 34.0), (113.01, 34.01), (113.01, 34.0), (113.0, 34.01)])
    frame = gpd.GeoDataFrame({"code": ["410122001202", "B"], "name": ["民主街村委会", "bow"]},
                             geometry=[shapely.MultiPolygon([square, spike]), bow],
                             crs="EPSG:4326")
    with caplog.at_level(logging.WARNING):
        got = gpkg.valid(frame, "行政村")
    assert got.geometry.iloc[0].equals(shapely.MultiPolygon([square]))
    assert "410122001202 (民主街村委会): 1 sliver part(s) left out" in caplog.text
    assert "B (bow): repaired" in caplog.text
    assert got.is_valid.all() and got.geometry.iloc[1].area == pytest.approx(0.5 * 1e-4)
    caplog.clear()
    kept = gpkg.valid(frame.iloc[:1].set_geometry([square]), "行政村")
    assert kept.geometry.iloc[0].equals(square) and caplog.text == ""


def test_the_same_run_writes_the_same_bytes(small_run, tmp_path):
    a, b = tmp_path / "a.gpkg", tmp_path / "b.gpkg"
    gpkg.write(small_run, a)
    gpkg.write(small_run, b)
    assert a.read_bytes() == b.read_bytes()
    assert {r[0] for r in _sql(a, "SELECT last_change FROM gpkg_contents")} == {gpkg.STAMP}
    # compacted from its content (no free pages left by the writer's transactions), GPKG 1.2
    # still in its header, and the draft it was compacted from gone
    assert _sql(a, "PRAGMA freelist_count") == [(0,)]
    assert _sql(a, "PRAGMA application_id") == [(0x47504B47,)]
    assert _sql(a, "PRAGMA user_version") == [(10200,)]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.gpkg", "b.gpkg"]


def test_english_run_names_layers_and_aliases_in_english(small_run, tmp_path):
    en = replace(small_run, scenario=replace(small_run.scenario, lang="en"))
    path = tmp_path / "en.gpkg"
    gpkg.write(en, path)
    assert set(_tables(path)) == {"townships", "villages", "communities", "areas",
                                  "allocation", "sites", "layer_styles"}
    titles = dict(_sql(path, "SELECT column_name, title FROM gpkg_data_columns "
                             "WHERE table_name = 'villages'"))
    assert titles["village_served"] == "village outlet: covered"
    names = [r[0] for r in _sql(path, "SELECT styleName FROM layer_styles")]
    assert "smart locker bank coverage" in names and "sites by type" in names
    qml = "".join(r[0] for r in _sql(path, "SELECT styleQML FROM layer_styles"))
    assert labels.t("covered", "zh") not in qml and 'label="covered"' in qml


def test_service_areas_when_the_scenario_asks_for_them(small_run, tmp_path):
    s = small_run.scenario
    run = replace(small_run, scenario=replace(s, map=replace(s.map, service_areas=("village",))))
    path = tmp_path / "sites.gpkg"
    gpkg.write(run, path)
    assert _tables(path)["服务范围"] == "MultiLineString"
    areas = gpd.read_file(path, layer="服务范围")
    opened = small_run.outcomes["village"].open
    assert set(areas["tier"]) == {"village"} and 0 < len(areas) <= int(opened.sum())
    assert set(areas["site_id"]) <= set(small_run.sites.site_id[opened])
    assert areas.is_valid.all() and (areas["generated"] == 1).all()
    order = [str(n) for n, _ in pyogrio.list_layers(path)]
    assert order.index("服务范围") < order.index("站点")          # drawn under the sites
