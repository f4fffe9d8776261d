"""Chinese coordinate systems: GCJ-02 (Gaode/AutoNavi, Tencent) and BD-09 (Baidu) ↔ WGS84.

PROJ has no GCJ-02: the obfuscation is a published non-linear formula, implemented by
``prcoords`` (public domain). GCJ-02 → WGS84 uses its iterative inverse (``*_bored``,
accurate to ~1e-6°); around Zhengzhou the raw offset is 550–590 m, larger than a locker's
walking radius. WGS84, GPS, OSM and CGCS2000 (EPSG:4490) agree to well under a metre and
are treated as one datum.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import prcoords
from pyproj import CRS, Transformer

DATUMS = ("wgs84", "cgcs2000", "gcj02", "bd09")
_ALIASES = {"wgs84": "wgs84", "wgs-84": "wgs84", "epsg:4326": "wgs84", "gps": "wgs84",
            "cgcs2000": "cgcs2000", "epsg:4490": "cgcs2000", "gcj02": "gcj02",
            "gcj-02": "gcj02", "gaode": "gcj02", "amap": "gcj02", "高德": "gcj02",
            "火星坐标": "gcj02", "bd09": "bd09", "bd-09": "bd09", "baidu": "bd09", "百度": "bd09"}


def datum_name(text: object) -> str | None:
    """The canonical datum for a label ('GCJ-02', 'gaode', 'WGS84'…), or None if unknown."""
    return _ALIASES.get(str(text).strip().lower().replace(" ", ""))


def _apply(fn: Callable[..., prcoords.Coords], lon: np.ndarray, lat: np.ndarray,
           ) -> tuple[np.ndarray, np.ndarray]:
    out = [fn(prcoords.Coords(float(b), float(a)), False) for a, b in zip(lon, lat, strict=True)]
    return (np.array([c.lon for c in out], dtype=float),
            np.array([c.lat for c in out], dtype=float))


_TO_WGS84 = {"gcj02": prcoords.gcj_wgs_bored, "bd09": prcoords.bd_wgs_bored}
_FROM_WGS84 = {"gcj02": prcoords.wgs_gcj, "bd09": prcoords.wgs_bd}


def to_wgs84(lon: np.ndarray, lat: np.ndarray, datum: str) -> tuple[np.ndarray, np.ndarray]:
    """Convert lon/lat in ``datum`` to WGS84."""
    return _convert(lon, lat, datum, _TO_WGS84)


def from_wgs84(lon: np.ndarray, lat: np.ndarray, datum: str) -> tuple[np.ndarray, np.ndarray]:
    """Convert WGS84 lon/lat to ``datum`` (what a Gaode or Baidu export would hold)."""
    return _convert(lon, lat, datum, _FROM_WGS84)


def _convert(lon: np.ndarray, lat: np.ndarray, datum: str,
             table: dict[str, Callable[..., prcoords.Coords]]) -> tuple[np.ndarray, np.ndarray]:
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    if datum in ("wgs84", "cgcs2000"):
        return lon.copy(), lat.copy()
    if datum in table:
        return _apply(table[datum], lon, lat)
    raise ValueError(f"unknown datum {datum!r}; use one of {', '.join(DATUMS)}")


def metric_crs(lon: np.ndarray, lat: np.ndarray) -> str:
    """The UTM zone (WGS84) holding the centre of the points."""
    lon0 = float(np.median(lon))
    lat0 = float(np.median(lat))
    zone = int((lon0 + 180) // 6) + 1
    return f"EPSG:{(32600 if lat0 >= 0 else 32700) + zone}"


def project(lon: np.ndarray, lat: np.ndarray, crs: str) -> tuple[np.ndarray, np.ndarray]:
    """Project lon/lat (WGS84) to ``crs``."""
    t = Transformer.from_crs(CRS.from_epsg(4326), CRS.from_user_input(crs), always_xy=True)
    x, y = t.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return np.asarray(x), np.asarray(y)
