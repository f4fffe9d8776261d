"""Layers as planning departments hand them out: any CRS, GBK or UTF-8, GCJ-02 or BD-09.

One small layer of two polygons in Zhengzhou is written in each form and read back with
:func:`siting.readers.layers.read`; its outlines must come back to the same WGS84 lon/lat within
0.5 m, and its Chinese names unchanged.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from siting._errors import InputError
from siting.config.scenario import LayerConfig
from siting.readers import coords, layers

NAMES = ["二七区人民路社区", "金水区花园路街道"]
TOLERANCE_M = 0.5
METRIC = "EPSG:32649"           # UTM 49N, where Zhengzhou is: to measure gaps in metres


def layer() -> gpd.GeoDataFrame:
    """Two polygons in WGS84, one of them with a hole."""
    outer = shapely.box(113.600, 34.740, 113.610, 34.750)
    hole = shapely.box(113.603, 34.743, 113.606, 34.746)
    return gpd.GeoDataFrame(
        {"CODE": ["410103001001", "410105002001"], "NAME": NAMES, "POP": [2300, 4100]},
        geometry=[outer.difference(hole),
                  shapely.Polygon([(113.61, 34.74), (113.625, 34.741), (113.622, 34.752),
                                   (113.612, 34.749)])],
        crs="EPSG:4326")


def config(path: Path, **kw: object) -> LayerConfig:
    return LayerConfig(path=path, code="CODE", name="NAME", population="POP", **kw)


def gap_m(got: gpd.GeoSeries, want: gpd.GeoSeries) -> float:
    """The largest distance between the outlines read and the ones written, in metres."""
    a = got.set_crs("EPSG:4326", allow_override=True).to_crs(METRIC).to_numpy()
    b = want.to_crs(METRIC).to_numpy()
    return float(shapely.hausdorff_distance(a, b).max())


@pytest.mark.parametrize("epsg", [4490, 4326, 4547, 4526, 3857, 3395])
def test_every_crs_reads_back_to_the_same_lonlat(tmp_path, epsg):
    """CGCS2000 and WGS84 lon/lat, Gauss–Krüger with and without the zone prefix, Mercators."""
    src = layer()
    projected = src.to_crs(epsg)
    if epsg == 4526:   # zone 38 with its prefix: false easting 38 500 000 m
        assert projected.total_bounds[0] > 38_000_000
    path = tmp_path / f"units_{epsg}.shp"
    projected.to_file(path, encoding="UTF-8", engine="pyogrio")
    got = layers.read(config(path), "villages")
    assert got.crs == f"EPSG:{epsg}"
    assert gap_m(got.units.geometry, src.geometry) < TOLERANCE_M
    assert got.units["name"].tolist() == NAMES


def test_crs_given_in_the_scenario_when_there_is_no_prj(tmp_path):
    src = layer()
    path = tmp_path / "units.shp"
    src.to_crs(4526).to_file(path, encoding="UTF-8", engine="pyogrio")
    path.with_suffix(".prj").unlink()
    with pytest.raises(InputError, match=r"no coordinate system.*crs = \"EPSG:4547\""):
        layers.read(config(path), "villages")
    got = layers.read(config(path, crs="EPSG:4526"), "villages")
    assert gap_m(got.units.geometry, src.geometry) < TOLERANCE_M


def test_gbk_without_cpg_is_detected(tmp_path):
    path = tmp_path / "units.shp"
    layer().to_file(path, encoding="GBK", engine="pyogrio")
    path.with_suffix(".cpg").unlink()
    raw = path.with_suffix(".dbf").read_bytes()
    assert "二七区".encode("gbk") in raw and "二七区".encode() not in raw
    got = layers.read(config(path), "villages")
    assert got.encoding in ("GBK", "GB18030")
    assert got.units["name"].tolist() == NAMES


def test_utf8_with_cpg(tmp_path):
    path = tmp_path / "units.shp"
    layer().to_file(path, encoding="UTF-8", engine="pyogrio")
    assert path.with_suffix(".cpg").read_text().strip().upper() == "UTF-8"
    got = layers.read(config(path), "villages")
    assert got.encoding == "UTF-8"
    assert got.units["name"].tolist() == NAMES


def test_encoding_from_the_scenario_overrides_detection(tmp_path):
    path = tmp_path / "units.shp"
    layer().to_file(path, encoding="GBK", engine="pyogrio")
    path.with_suffix(".cpg").unlink()
    got = layers.read(config(path, encoding="gbk"), "villages")
    assert got.encoding == "gbk"
    assert got.units["name"].tolist() == NAMES
    with pytest.raises(InputError, match=r"units\.shp.*not utf-8.*\[layers\.villages\] encoding"):
        layers.read(config(path, encoding="utf-8"), "villages")


@pytest.mark.parametrize("datum", ["gcj02", "bd09"])
def test_gaode_and_baidu_layers_are_converted(tmp_path, datum):
    """A layer digitised on Gaode (GCJ-02) or Baidu (BD-09) maps, declared with ``datum``."""
    src = layer()

    def shift(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(coords.from_wgs84(xy[:, 0], xy[:, 1], datum))

    path = tmp_path / f"units_{datum}.shp"
    src.set_geometry(shapely.transform(src.geometry.to_numpy(), shift)).to_file(
        path, encoding="UTF-8", engine="pyogrio")
    got = layers.read(config(path, datum=datum), "villages")
    assert gap_m(got.units.geometry, src.geometry) < TOLERANCE_M
    undeclared = layers.read(config(path), "villages")
    assert gap_m(undeclared.units.geometry, src.geometry) > 400   # the offset it undoes
