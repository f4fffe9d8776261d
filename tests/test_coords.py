"""GCJ-02 and BD-09 conversions against point pairs published by other implementations.

Reference values (each from the named library's own tests or README, not computed here):

- ``googollee/eviltransform`` ``python/test.py`` (commit 3416646): WGS84 → GCJ-02 in
  Shanghai, Shenzhen and Beijing. (Its BD-09 pairs are not used: its ``bd2wgs`` goes through
  an approximate GCJ-02 inverse and lies 10–40 m from the exact one.)
- ``wandergis/coordtransform`` ``README.md`` (commit 0148136): ``wgs84togcj02``,
  ``gcj02tobd09`` and ``bd09togcj02`` of (116.404, 39.915).
- ``Glatzel/pyxis`` ``python/tests/test_crypto.py`` (commit 62cd047): one WGS84 / GCJ-02 /
  BD-09 triple near Shanghai.

The forward formulas are closed-form: they must agree to 1e-6° (~0.1 m). The inverses are
iterative: they must land within a few decimetres of the published WGS84 point.
"""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import Geod

from siting.readers import coords

GEOD = Geod(ellps="WGS84")
FORWARD_DEG = 1e-6
INVERSE_M = 0.3

# (WGS84 lon, lat), (GCJ-02 lon, lat)
WGS_GCJ = [
    pytest.param((121.5272106, 31.1774276), (121.531541859215, 31.17530398364597),
                 id="eviltransform-shanghai"),
    pytest.param((113.912316, 22.543847), (113.9171764808363, 22.540796131694766),
                 id="eviltransform-shenzhen"),
    pytest.param((116.377817, 39.911954), (116.38404722455657, 39.91334545536069),
                 id="eviltransform-beijing"),
    pytest.param((116.404, 39.915), (116.41024449916938, 39.91640428150164),
                 id="coordtransform-beijing"),
    pytest.param((121.0917077, 30.6107779), (121.09626935575027, 30.608604331756705),
                 id="pyxis-shanghai"),
]
# (WGS84 lon, lat), (BD-09 lon, lat)
WGS_BD = [
    pytest.param((121.0917077, 30.6107779), (121.10271732371203, 30.61484572185035),
                 id="pyxis-shanghai"),
]
# (GCJ-02 lon, lat), (BD-09 lon, lat), from coordtransform's gcj02tobd09 and bd09togcj02
GCJ_BD = [
    pytest.param((116.404, 39.915), (116.41036949371029, 39.92133699351021),
                 id="gcj02tobd09"),
    pytest.param((116.39762729119315, 39.90865673957631), (116.404, 39.915),
                 id="bd09togcj02"),
]


def one(fn, point, datum):
    lon, lat = fn(np.array([point[0]]), np.array([point[1]]), datum)
    return float(lon[0]), float(lat[0])


def metres(a, b):
    return GEOD.inv(a[0], a[1], b[0], b[1])[2]


PUBLISHED = [pytest.param(*p.values, datum, id=f"{datum}-{p.id}")
             for datum, pairs in (("gcj02", WGS_GCJ), ("bd09", WGS_BD)) for p in pairs]


@pytest.mark.parametrize(("wgs", "other", "datum"), PUBLISHED)
def test_wgs84_to_the_chinese_datums_matches_published(wgs, other, datum):
    assert one(coords.from_wgs84, wgs, datum) == pytest.approx(other, abs=FORWARD_DEG)


@pytest.mark.parametrize(("wgs", "other", "datum"), PUBLISHED)
def test_the_chinese_datums_to_wgs84_land_within_decimetres(wgs, other, datum):
    assert metres(one(coords.to_wgs84, other, datum), wgs) < INVERSE_M


@pytest.mark.parametrize(("gcj", "bd"), GCJ_BD)
def test_gcj02_and_bd09_of_one_place_give_one_wgs84_point(gcj, bd):
    """A published GCJ-02/BD-09 pair: both convert to the same WGS84 point."""
    assert metres(one(coords.to_wgs84, gcj, "gcj02"), one(coords.to_wgs84, bd, "bd09")) \
        < INVERSE_M


def test_offset_around_zhengzhou_is_what_the_module_says():
    """550–590 m in Zhengzhou: larger than a locker's walking radius, so it must be undone."""
    lon = np.array([113.55, 113.65, 113.75, 113.85])
    lat = np.array([34.65, 34.75, 34.80, 34.90])
    glon, glat = coords.from_wgs84(lon, lat, "gcj02")
    gaps = GEOD.inv(lon, lat, glon, glat)[2]
    assert ((gaps > 550) & (gaps < 590)).all(), gaps


def test_arrays_convert_point_by_point():
    lon = np.array([121.5272106, 113.912316, 116.377817])
    lat = np.array([31.1774276, 22.543847, 39.911954])
    for datum in ("gcj02", "bd09"):
        blon, blat = coords.to_wgs84(*coords.from_wgs84(lon, lat, datum), datum)
        assert GEOD.inv(lon, lat, blon, blat)[2].max() < INVERSE_M


def test_wgs84_and_cgcs2000_are_left_alone():
    lon, lat = np.array([113.65]), np.array([34.75])
    for datum in ("wgs84", "cgcs2000"):
        for fn in (coords.to_wgs84, coords.from_wgs84):
            out = fn(lon, lat, datum)
            assert (out[0].tolist(), out[1].tolist()) == ([113.65], [34.75])


@pytest.mark.parametrize(("label", "datum"), [
    ("WGS84", "wgs84"), ("wgs-84", "wgs84"), ("EPSG:4326", "wgs84"), ("CGCS2000", "cgcs2000"),
    ("GCJ-02", "gcj02"), ("gcj02", "gcj02"), ("高德", "gcj02"), ("火星坐标", "gcj02"),
    ("BD-09", "bd09"), ("百度", "bd09"), (" Baidu ", "bd09"), ("BJ54", None), ("", None)])
def test_datum_labels(label, datum):
    assert coords.datum_name(label) == datum


def test_unknown_datum_is_refused():
    with pytest.raises(ValueError, match="unknown datum"):
        coords.to_wgs84(np.array([113.65]), np.array([34.75]), "bj54")
