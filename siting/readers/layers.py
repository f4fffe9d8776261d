"""Boundary and area layers as planning departments hand them out.

Shapefile, GeoPackage or GeoJSON, read with ``pyogrio``:

- **encoding** — a shapefile's ``.cpg`` when present; otherwise the DBF's text is tried as
  UTF-8 and, failing that, as GBK/GB18030 (what Chinese GIS software writes); or the
  scenario's ``encoding``;
- **files** — a shapefile missing its ``.shx`` or ``.dbf``, or shorter than its headers say
  (an interrupted copy), is refused; a GeoPackage with several layers needs ``layer``;
- **CRS** — from the ``.prj`` (any EPSG or ESRI WKT: CGCS2000 geographic or Gauss–Krüger
  with or without the zone prefix, Web Mercator, World Mercator …); a layer without one is
  refused unless the scenario gives ``crs``, and so is a layer that its CRS puts outside
  China (a ``.prj`` that does not fit the coordinates); GCJ-02/BD-09 coordinates are
  converted to WGS84 when the scenario declares ``datum`` (:mod:`siting.readers.coords`);
- **geometry** — invalid polygons are repaired (``make_valid``) and counted; empty, null or
  non-polygon geometries are problems that name the feature.

Every problem found is collected, naming the file, the feature's code and name, and what to
do; :func:`read` raises them all together.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError

from siting._errors import InputError, ValidationError
from siting.config.scenario import LayerConfig
from siting.readers import coords

log = logging.getLogger(__name__)

VECTOR_SUFFIXES = (".shp", ".gpkg", ".geojson", ".json")


@dataclass
class LayerRead:
    """A layer read into EPSG:4326 with the scenario's fields mapped."""

    path: Path
    units: gpd.GeoDataFrame         # code, name, population, class, raw_class, geometry
    encoding: str
    crs: str
    repaired: int = 0
    warnings: list[str] = field(default_factory=list)


def detect_encoding(path: Path) -> str:
    """The text encoding of a shapefile's DBF: its .cpg, else UTF-8 if it decodes, else GBK."""
    cpg = sibling(path, ".cpg")
    if cpg.is_file():
        text = cpg.read_text(encoding="ascii", errors="replace").strip().upper()
        return {"936": "GBK", "CP936": "GBK", "GB2312": "GBK", "GB18030": "GB18030",
                "UTF8": "UTF-8", "65001": "UTF-8"}.get(text.replace("-", ""), text or "UTF-8")
    dbf = sibling(path, ".dbf")
    raw = dbf.read_bytes() if dbf.is_file() else b""
    header = int.from_bytes(raw[8:10], "little") if len(raw) > 10 else 0
    body = raw[header:]
    try:
        body.decode("utf-8")
        return "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        body.decode("gb18030")
        return "GB18030"
    except UnicodeDecodeError:
        return "UTF-8"


def read(cfg: LayerConfig, role: str, classes: dict[str, tuple[str, ...]] | None = None,
         ) -> LayerRead:
    """Read one layer; raise :class:`ValidationError` listing every problem found.

    Parameters
    ----------
    cfg
        The scenario's [layers.<role>] section.
    role
        'townships', 'villages' or 'areas' (named in messages).
    classes
        class -> values of ``cfg.class_field`` (prefix match); defaults to ``cfg.classes``.
    """
    path = cfg.path
    _check_file(path, role)
    encoding = detect_encoding(path) if cfg.encoding == "auto" else cfg.encoding
    gdf = _read_frame(path, cfg, role, encoding)
    problems: list[str] = []
    crs = _crs(gdf, cfg, path, role, problems)
    units = _fields(gdf, cfg, path, role, classes if classes is not None else cfg.classes,
                    problems)
    units, repaired = _geometry(units, path, role, problems)
    if crs and not problems:
        units = units.set_crs(crs, allow_override=True).to_crs("EPSG:4326")
        _check_in_china(units, path, role, crs, problems)
        units, again = _repair(units, np.ones(len(units), bool), path, role, problems,
                               where=" once converted to lon/lat")
        repaired += again
    if problems:
        raise ValidationError(problems)
    if cfg.datum in ("gcj02", "bd09"):
        units = _convert_datum(units, cfg.datum)
    out = LayerRead(path, units.reset_index(drop=True), encoding, crs, repaired)
    log.info("layer %s: %s features from %s (%s, %s%s)", role, f"{len(units):,}", path.name,
             encoding, crs, f", {repaired} repaired" if repaired else "")
    return out


def inner_point(geoms: np.ndarray) -> np.ndarray:
    """A point inside each polygon: its centroid when inside, else a representative point.

    The centroid hardly moves with the CRS, so the point is the same whether it is taken in
    lon/lat or in metres; the generator uses this same function for village centres.
    """
    geoms = np.asarray(geoms, dtype=object)
    cen = shapely.centroid(geoms)
    rep = shapely.point_on_surface(geoms)
    inside_ = shapely.contains(geoms, cen)
    return np.where(inside_, cen, rep)


def sibling(path: Path, suffix: str) -> Path:
    """A shapefile's companion file in whatever case it is spelt (.dbf, .DBF, .Dbf).

    The one spelt like ``path``'s own suffix first (``.SHP`` → ``.DBF``); the lower-case name
    when there is none, so that a message names the file the user should add.
    """
    same = path.with_suffix(suffix.upper() if path.suffix.isupper() else suffix)
    if same.is_file():
        return same
    folder = path.parent
    if folder.is_dir():
        for p in sorted(folder.iterdir()):
            if p.stem == path.stem and p.suffix.lower() == suffix and p.is_file():
                return p
    return path.with_suffix(suffix)


def _check_file(path: Path, role: str) -> None:
    if not path.exists():
        raise InputError(f"{path}: the {role} layer file is missing. Put it there or fix "
                         f"[layers.{role}] path in the scenario.")
    if path.suffix.lower() not in VECTOR_SUFFIXES:
        raise InputError(f"{path}: not a layer file the {role} layer can be read from. Use a "
                         "shapefile (.shp with .shx/.dbf/.prj), a GeoPackage or a GeoJSON.")
    if path.suffix.lower() == ".shp":
        missing = [s for s in (".shx", ".dbf") if not sibling(path, s).is_file()]
        if missing:
            raise InputError(f"{path}: the shapefile has no {' or '.join(missing)} beside it. "
                             "Copy all the shapefile's files (.shp, .shx, .dbf, .prj, .cpg).")
        short = _cut_off(path)
        if short:
            raise InputError(f"{path}: the shapefile is cut off ({'; '.join(short)}, as its "
                             "header says). Copy it again from the source.")


def _cut_off(path: Path) -> list[str]:
    """The parts of a shapefile shorter than their headers say (an interrupted copy)."""
    def head(p: Path, n: int) -> bytes:
        with p.open("rb") as f:
            return f.read(n)

    files = {s: sibling(path, s) for s in (".shp", ".shx", ".dbf")}
    want = {}
    for suffix in (".shp", ".shx"):     # file length in 16-bit words, big-endian, at byte 24
        h = head(files[suffix], 28)
        want[suffix] = int.from_bytes(h[24:28], "big") * 2 if len(h) == 28 else 100
    h = head(files[".dbf"], 12)  # header size + records × record size
    want[".dbf"] = (int.from_bytes(h[8:10], "little") + int.from_bytes(h[4:8], "little")
                    * int.from_bytes(h[10:12], "little")) if len(h) == 12 else 32
    sizes = {s: f.stat().st_size for s, f in files.items()}
    return [f"{files[s].name} has {sizes[s]:,} of {want[s]:,} bytes"
            for s in want if sizes[s] < want[s]]


def _read_frame(path: Path, cfg: LayerConfig, role: str, encoding: str) -> gpd.GeoDataFrame:
    if path.suffix.lower() != ".shp":
        _check_layer_name(path, cfg, role)
    try:
        return pyogrio.read_dataframe(path, layer=cfg.layer, encoding=encoding,
                                      on_invalid="ignore")
    except UnicodeDecodeError as e:
        from_cpg = cfg.encoding == "auto" and sibling(path, ".cpg").is_file()
        named = " (the encoding its .cpg names)" if from_cpg else ""
        raise InputError(f"{path}: the {role} layer's text is not {encoding}{named} ({e}). Set "
                         f"[layers.{role}] encoding to the file's encoding (\"gbk\" for most "
                         "Chinese GIS exports, \"utf-8\")"
                         + (", or correct the .cpg." if named else
                            ", or to \"auto\" to detect it.")) from e
    except Exception as e:  # GDAL raises its own error types for every kind of bad file
        raise InputError(f"{path}: the {role} layer cannot be read ({e}). Check that all its "
                         "files (.shp, .shx, .dbf, .prj) are present and complete."
                         if path.suffix.lower() == ".shp" else
                         f"{path}: the {role} layer cannot be read ({e}). Check that the file "
                         "is complete: copy or export it again.") from e


def _check_layer_name(path: Path, cfg: LayerConfig, role: str) -> None:
    """A GeoPackage with several layers needs [layers.<role>] layer, naming one it has."""
    try:
        names = [str(n) for n in pyogrio.list_layers(path)[:, 0]]
    except Exception as e:  # not a readable vector file: GDAL's error types vary
        raise InputError(f"{path}: the {role} layer cannot be read ({e}). Check that the file "
                         "is complete: copy or export it again.") from e
    if cfg.layer is not None and cfg.layer not in names:
        raise InputError(f"{path}: there is no layer '{cfg.layer}' in the file; its layers are "
                         f"{', '.join(names)}. Set [layers.{role}] layer to one of them.")
    if cfg.layer is None and len(names) > 1:
        raise InputError(f"{path}: the file holds {len(names)} layers ({', '.join(names)}). "
                         f"Set [layers.{role}] layer to the one with the {role}.")


def _crs(gdf: gpd.GeoDataFrame, cfg: LayerConfig, path: Path, role: str,
         problems: list[str]) -> str:
    if cfg.crs:
        try:
            CRS.from_user_input(cfg.crs)
        except CRSError as e:
            problems.append(f"{path}: [layers.{role}] crs = \"{cfg.crs}\" is not a coordinate "
                            f"system PROJ knows ({e}). Give an EPSG code, e.g. crs = "
                            "\"EPSG:4547\" for CGCS2000 3-degree Gauss–Krüger 114°E.")
            return ""
        return cfg.crs
    if gdf.crs is None:
        problems.append(f"{path}: the {role} layer has no coordinate system (no .prj). Add "
                        f"the .prj, or set [layers.{role}] crs, e.g. crs = \"EPSG:4547\" for "
                        "CGCS2000 3-degree Gauss–Krüger 114°E.")
        return ""
    epsg = gdf.crs.to_epsg()
    return f"EPSG:{epsg}" if epsg else gdf.crs.to_wkt()


CHINA = (73.0, 3.0, 136.0, 54.0)
"""lon/lat bounds of China (west, south, east, north), to catch a .prj that does not fit."""


def _check_in_china(units: gpd.GeoDataFrame, path: Path, role: str, crs: str,
                    problems: list[str]) -> None:
    if len(units) == 0:
        return
    west, south, east, north = units.total_bounds
    if west >= CHINA[0] and south >= CHINA[1] and east <= CHINA[2] and north <= CHINA[3]:
        return
    name = crs if crs.startswith("EPSG:") else "the .prj's"
    problems.append(f"{path}: read in the coordinate system {name}, the {role} layer lies at "
                    f"longitude {west:.6g} to {east:.6g}, latitude {south:.6g} to {north:.6g}, "
                    f"not in China: its .prj (or [layers.{role}] crs) does not fit the "
                    f"coordinates. Set [layers.{role}] crs to the system the coordinates are "
                    "in, e.g. crs = \"EPSG:4547\" for CGCS2000 Gauss–Krüger 114°E metres.")


def _fields(gdf: gpd.GeoDataFrame, cfg: LayerConfig, path: Path, role: str,
            classes: dict[str, tuple[str, ...]] | None, problems: list[str]) -> gpd.GeoDataFrame:
    wanted = {"code": cfg.code, "name": cfg.name, "population": cfg.population,
              "class": cfg.class_field}
    present = list(gdf.columns.drop("geometry", errors="ignore"))
    for key, fld in wanted.items():
        if fld is not None and fld not in gdf.columns:
            problems.append(f"{path}: the {role} layer has no field '{fld}' (for {key}); its "
                            f"fields are {', '.join(present)}. Set [layers.{role}] "
                            f"{'class_field' if key == 'class' else key} to one of them.")
    if problems:
        return gpd.GeoDataFrame({"geometry": []})
    out = gpd.GeoDataFrame({
        "code": gdf[cfg.code].astype(str).str.strip(),
        "name": gdf[cfg.name].fillna("").astype(str).str.strip()}, geometry=gdf.geometry)
    out["population"] = _population(gdf, cfg, path, role, out, problems)
    raw = gdf[cfg.class_field].fillna("").astype(str).str.strip() if cfg.class_field else \
        pd.Series([""] * len(gdf), index=gdf.index)
    out["raw_class"] = raw
    out["class"] = _classify(raw, classes, role)
    dup = out["code"][out["code"].duplicated(keep=False)]
    for code in sorted(set(dup)):
        names = ", ".join(out.loc[out["code"] == code, "name"].head(3))
        problems.append(f"{path}: code {code} appears {int((dup == code).sum())} times in the "
                        f"{role} layer ({names}). Codes must be unique: fix the duplicates.")
    blank = out.index[out["code"].isin(["", "nan", "None"])]
    for i in blank[:20]:
        problems.append(f"{path}: feature {i + 1} ({out['name'][i] or 'no name'}) of the {role} "
                        f"layer has no code in field '{cfg.code}'. Fill it in.")
    return out


def _population(gdf: gpd.GeoDataFrame, cfg: LayerConfig, path: Path, role: str,
                out: gpd.GeoDataFrame, problems: list[str]) -> np.ndarray:
    if cfg.population is None:
        return np.zeros(len(gdf))
    values = pd.to_numeric(gdf[cfg.population], errors="coerce")
    raw = values.to_numpy(dtype=float)
    bad = np.flatnonzero(~np.isfinite(raw) | (raw < 0))
    for i in bad[:20]:
        problems.append(f"{path}: feature {out['code'].iat[i]} ({out['name'].iat[i]}) of the "
                        f"{role} layer has population '{gdf[cfg.population].iat[i]}' in field "
                        f"'{cfg.population}', not a finite number >= 0. Correct it (0 if unknown).")
    if len(bad) > 20:
        problems.append(f"{path}: … and {len(bad) - 20} more features with a bad population.")
    return values.fillna(0).to_numpy(dtype=float)


def _classify(raw: pd.Series, classes: dict[str, tuple[str, ...]] | None, role: str,
              ) -> np.ndarray:
    if not classes:
        return np.full(len(raw), role.rstrip("s"), dtype=object)
    out = np.full(len(raw), "", dtype=object)
    values = raw.to_numpy(dtype=str)
    for cls, prefixes in classes.items():
        hit = np.zeros(len(values), dtype=bool)
        for p in prefixes:
            hit |= np.char.startswith(values, p)
        out[(out == "") & hit] = cls
    return out


def _geometry(units: gpd.GeoDataFrame, path: Path, role: str,
              problems: list[str]) -> tuple[gpd.GeoDataFrame, int]:
    if len(units) == 0 or "code" not in units:
        if "code" in units:
            problems.append(f"{path}: the {role} layer is empty. Export it again with its "
                            "features.")
        return units, 0
    geom = units.geometry.to_numpy()
    missing = shapely.is_missing(geom) | shapely.is_empty(geom)
    for i in np.flatnonzero(missing)[:20]:
        problems.append(f"{path}: feature {units['code'].iat[i]} ({units['name'].iat[i]}) of "
                        f"the {role} layer has no geometry. Draw it or delete the feature.")
    types = shapely.get_type_id(geom)
    wrong = ~missing & ~np.isin(types, (3, 6))
    for i in np.flatnonzero(wrong)[:20]:
        problems.append(f"{path}: feature {units['code'].iat[i]} ({units['name'].iat[i]}) of "
                        f"the {role} layer is a {geom[i].geom_type}, not a polygon. Export the "
                        "layer as polygons.")
    units, repaired = _repair(units, ~missing & ~wrong, path, role, problems)
    return units, repaired


def _repair(units: gpd.GeoDataFrame, check: np.ndarray, path: Path, role: str,
            problems: list[str], *, where: str = "") -> tuple[gpd.GeoDataFrame, int]:
    """Repair the invalid polygons among ``check`` (make_valid); count them.

    A polygon that repair turns into nothing (no area: its points on a line, or all one
    point) is a problem naming the feature. ``where`` says in which CRS it was invalid.
    """
    geom = units.geometry.to_numpy()
    invalid = check & ~shapely.is_valid(geom)
    if not invalid.any():
        return units, 0
    geom = geom.copy()
    geom[invalid] = [_polygon_part(g) for g in shapely.make_valid(geom[invalid])]
    for i in np.flatnonzero(invalid & shapely.is_empty(geom))[:20]:
        problems.append(f"{path}: feature {units['code'].iat[i]} ({units['name'].iat[i]}) of "
                        f"the {role} layer has no area{where}: its polygon is a line or a "
                        "point, and repairing it leaves nothing. Redraw the polygon or delete "
                        "the feature.")
    return units.set_geometry(geom, crs=units.crs), int(invalid.sum())


def _polygon_part(g: shapely.Geometry) -> shapely.Geometry:
    if g.geom_type in ("Polygon", "MultiPolygon"):
        return g
    parts = [p for p in getattr(g, "geoms", []) if p.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def _convert_datum(units: gpd.GeoDataFrame, datum: str) -> gpd.GeoDataFrame:
    def to_wgs(xy: np.ndarray) -> np.ndarray:
        lon, lat = coords.to_wgs84(xy[:, 0], xy[:, 1], datum)
        return np.column_stack([lon, lat])

    geom = shapely.transform(units.geometry.to_numpy(), to_wgs)
    return units.set_geometry(geom, crs="EPSG:4326")
