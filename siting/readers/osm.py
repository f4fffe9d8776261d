"""Read OpenStreetMap files: roads, buildings, land use and post offices in one pass.

One reader, libosmium through ``osmium``, takes ``.osm`` XML, ``.osm.bz2``/``.osm.gz`` and
``.osm.pbf`` alike. Road ways are kept with the node coordinates of every vertex; which
ways are walkable or drivable follows OSMnx's ``walk`` and ``drive`` network filters
(``osmnx._overpass._get_network_filter``), applied here to the tags instead of in an
Overpass query, so a file gives the same network OSMnx would download.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import osmium
import shapely

from siting._errors import InputError

log = logging.getLogger(__name__)

OSM_SUFFIXES = (".osm", ".osm.bz2", ".osm.gz", ".osm.pbf", ".pbf")

# Each entry: tag key -> regular expression that excludes the way when it matches the value,
# as in OSMnx's Overpass filters ('["highway"!~"..."]' and '["access"!~"private"]').
_WALK_EXCLUDE = {
    "area": "yes",
    "access": "private",
    "highway": "abandoned|bus_guideway|construction|cycleway|motor|no|planned|platform|"
               "proposed|raceway|razed|rest_area|services",
    "foot": "no",
    "service": "private",
    "sidewalk": "separate",
    "sidewalk:both": "separate",
    "sidewalk:left": "separate",
    "sidewalk:right": "separate",
}
_DRIVE_EXCLUDE = {
    "area": "yes",
    "access": "private",
    "highway": "abandoned|bridleway|bus_guideway|construction|corridor|cycleway|elevator|"
               "escalator|footway|no|path|pedestrian|planned|platform|proposed|raceway|razed|"
               "rest_area|service|services|steps|track",
    "motor_vehicle": "no",
    "motorcar": "no",
    "service": "alley|driveway|emergency_access|parking|parking_aisle|private",
}
_WALK_RE = {k: re.compile(v) for k, v in _WALK_EXCLUDE.items()}
_DRIVE_RE = {k: re.compile(v) for k, v in _DRIVE_EXCLUDE.items()}

BUILDING_TAGS = ("building", "building:levels", "amenity", "shop", "office", "name",
                 "government", "landuse")


def allowed(tags: dict[str, str], mode: str) -> bool:
    """Whether a highway way with these tags belongs to the ``walk`` or ``drive`` network."""
    rules = _WALK_RE if mode == "walk" else _DRIVE_RE
    return "highway" in tags and not any(
        key in tags and rx.search(tags[key]) for key, rx in rules.items())


@dataclass(frozen=True)
class RoadWays:
    """Road segments as flat arrays: segment k joins OSM nodes ``a[k]`` and ``b[k]``."""

    node_id: np.ndarray    # (n,) int64 OSM node ids, sorted, unique
    lon: np.ndarray        # (n,) float64
    lat: np.ndarray        # (n,) float64
    a: np.ndarray          # (m,) int64 index into node_id
    b: np.ndarray          # (m,) int64 index into node_id
    walk: np.ndarray       # (m,) bool: segment is on the walk network
    drive: np.ndarray      # (m,) bool: segment is on the drive network
    highway: np.ndarray    # (m,) str: the way's highway tag
    name: np.ndarray       # (m,) str: the way's name tag ('' if none)


@dataclass(frozen=True)
class OsmData:
    """What a run takes from an OSM file."""

    path: Path
    roads: RoadWays
    buildings: list[dict[str, object]]     # each: osm_id, geometry (lon/lat), tags of BUILDING_TAGS
    landuse: list[dict[str, object]]       # each: osm_id, landuse, geometry
    post_offices: list[dict[str, object]]  # each: osm_id, name, operator, lon, lat


class _Collector:
    """Accumulates road segments, areas and post offices while osmium streams the file."""

    def __init__(self, bbox: tuple[float, float, float, float] | None = None) -> None:
        self.bbox = bbox
        self.ids: list[int] = []
        self.lons: list[float] = []
        self.lats: list[float] = []
        self.seg: list[tuple[int, int, bool, bool, str, str]] = []
        self.buildings: list[dict[str, object]] = []
        self.landuse: list[dict[str, object]] = []
        self.post_offices: list[dict[str, object]] = []
        self.missing_nodes = 0
        self.wkb = osmium.geom.WKBFactory()

    def way(self, w: osmium.osm.Way) -> None:
        tags = dict(w.tags)
        walk, drive = allowed(tags, "walk"), allowed(tags, "drive")
        if not (walk or drive):
            return
        prev = None
        prev_in = False
        prev_lon = prev_lat = 0.0
        box = self.bbox
        for n in w.nodes:
            if not n.location.valid():
                self.missing_nodes += 1
                prev = None
                continue
            lon, lat = n.lon, n.lat
            here = box is None or (box[0] <= lon <= box[2] and box[1] <= lat <= box[3])
            if prev is not None and prev != n.ref and (here or prev_in):
                if not prev_in:        # the segment enters the box: keep its outer end too
                    self.ids.append(prev)
                    self.lons.append(prev_lon)
                    self.lats.append(prev_lat)
                self.seg.append((prev, n.ref, walk, drive, tags.get("highway", ""),
                                 tags.get("name", "")))
            if here or (prev is not None and prev_in):
                self.ids.append(n.ref)
                self.lons.append(lon)
                self.lats.append(lat)
            prev, prev_in, prev_lon, prev_lat = n.ref, here, lon, lat

    def area(self, a: osmium.osm.Area) -> None:
        tags = a.tags
        if "building" not in tags and "landuse" not in tags and \
                tags.get("amenity") != "post_office":
            return
        try:
            geom = shapely.from_wkb(self.wkb.create_multipolygon(a))
        except RuntimeError:  # an area osmium could not assemble: skipped, counted
            self.missing_nodes += 1
            return
        osm_id = a.orig_id() if a.from_way() else -a.orig_id()
        if "building" in tags:
            rec: dict[str, object] = {k: tags.get(k, "") for k in BUILDING_TAGS}
            rec.update(osm_id=osm_id, geometry=geom)
            self.buildings.append(rec)
        elif "landuse" in tags:
            self.landuse.append({"osm_id": osm_id, "landuse": tags["landuse"], "geometry": geom})
        if tags.get("amenity") == "post_office":
            c = geom.representative_point()
            self.post_offices.append(_post_office(osm_id, tags, c.x, c.y))

    def node(self, n: osmium.osm.Node) -> None:
        if n.tags.get("amenity") == "post_office" and n.location.valid():
            self.post_offices.append(_post_office(n.id, n.tags, n.lon, n.lat))

    def roads(self) -> RoadWays:
        ids = np.asarray(self.ids, dtype=np.int64)
        node_id, first = np.unique(ids, return_index=True)
        lon = np.asarray(self.lons)[first]
        lat = np.asarray(self.lats)[first]
        if self.seg:
            a_id, b_id, walk, drive, highway, name = map(list, zip(*self.seg, strict=True))
        else:
            a_id = b_id = walk = drive = highway = name = []
        return RoadWays(
            node_id=node_id, lon=lon, lat=lat,
            a=np.searchsorted(node_id, np.asarray(a_id, dtype=np.int64)),
            b=np.searchsorted(node_id, np.asarray(b_id, dtype=np.int64)),
            walk=np.asarray(walk, dtype=bool), drive=np.asarray(drive, dtype=bool),
            highway=np.asarray(highway, dtype=object), name=np.asarray(name, dtype=object))


def _post_office(osm_id: int, tags: object, lon: float, lat: float) -> dict[str, object]:
    get = tags.get  # type: ignore[attr-defined]
    return {"osm_id": osm_id, "name": get("name", ""), "operator": get("operator", ""),
            "lon": float(lon), "lat": float(lat)}


def read(path: Path, *, clip: shapely.Geometry | None = None) -> OsmData:
    """Read roads, buildings, land use and post offices from an OSM file.

    Parameters
    ----------
    path
        An ``.osm``, ``.osm.bz2``, ``.osm.gz`` or ``.osm.pbf`` file.
    clip
        Optional area (lon/lat): only road segments with an end inside it, and buildings,
        land use and post offices inside it, are kept — a province extract is cut to the
        county while it is read.

    Returns
    -------
    OsmData
        Road segments with the walk/drive filters applied, building and land-use polygons
        in lon/lat, and ``amenity=post_office`` points.

    Raises
    ------
    InputError
        When the file is missing, of an unknown kind, truncated or corrupt, or holds no road.
    """
    path = Path(path)
    _check_path(path)
    col = _Collector(tuple(shapely.bounds(clip)) if clip is not None else None)
    try:
        for obj in osmium.FileProcessor(str(path)).with_locations().with_areas():
            if isinstance(obj, osmium.osm.Way):
                col.way(obj)
            elif isinstance(obj, osmium.osm.Area):
                col.area(obj)
            elif isinstance(obj, osmium.osm.Node):
                col.node(obj)
    except (RuntimeError, osmium.InvalidLocationError) as e:
        raise InputError(
            f"{path}: the OSM file cannot be read ({e}). It may be truncated or corrupt: "
            "download it again, or check it with `osmium fileinfo`.") from e
    roads = col.roads()
    buildings, landuse, posts = col.buildings, col.landuse, col.post_offices
    if clip is not None:
        total = len(roads.a)
        roads = clip_roads(roads, clip)
        buildings = [b for b in buildings if _inside(clip, b["geometry"])]
        landuse = [b for b in landuse if _inside(clip, b["geometry"])]
        posts = [p for p in posts if clip.contains(shapely.Point(p["lon"], p["lat"]))]
        log.info("osm: clipped to the study area: %s of %s road segments kept",
                 f"{len(roads.a):,}", f"{total:,}")
    if len(roads.a) == 0:
        raise InputError(
            f"{path}: no road (no way tagged highway=* usable on foot or by car) in the file. "
            "Check that the extract covers the study area and was not filtered to other "
            "features.")
    log.info("osm: %s road segments on %s nodes, %s buildings, %s land-use areas, "
             "%s post offices", f"{len(roads.a):,}", f"{len(roads.node_id):,}",
             f"{len(buildings):,}", f"{len(landuse):,}", f"{len(posts):,}")
    if col.missing_nodes:
        log.warning("osm: %s way nodes or areas without coordinates in %s were skipped "
                    "(ways cut at the extract's edge)", col.missing_nodes, path.name)
    return OsmData(path=path, roads=roads, buildings=buildings, landuse=landuse,
                   post_offices=posts)


def _inside(area: shapely.Geometry, geom: object) -> bool:
    return bool(area.contains(shapely.point_on_surface(geom)))


def clip_roads(roads: RoadWays, area: shapely.Geometry) -> RoadWays:
    """Keep the segments with at least one end inside ``area`` (lon/lat), and their nodes."""
    shapely.prepare(area)
    inside = shapely.contains_xy(area, roads.lon, roads.lat)
    keep = inside[roads.a] | inside[roads.b]
    used = np.unique(np.concatenate([roads.a[keep], roads.b[keep]]))
    remap = np.full(len(roads.node_id), -1, np.int64)
    remap[used] = np.arange(len(used))
    return RoadWays(node_id=roads.node_id[used], lon=roads.lon[used], lat=roads.lat[used],
                    a=remap[roads.a[keep]], b=remap[roads.b[keep]], walk=roads.walk[keep],
                    drive=roads.drive[keep], highway=roads.highway[keep],
                    name=roads.name[keep])


def _check_path(path: Path) -> None:
    if not path.is_file():
        raise InputError(f"{path}: OSM file not found. Put the extract there or fix "
                         "[network] osm in the scenario.")
    if not path.name.lower().endswith(OSM_SUFFIXES):
        raise InputError(f"{path}: not an OSM file name. Use .osm, .osm.bz2, .osm.gz, "
                         ".osm.pbf, or .graphml for a saved graph.")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: the OSM file is empty. Download the extract again.")
