"""Build the bad-input corpus: ``tests/data/bad/<case>/`` (issue 4).

Every case folder holds a complete small scenario (``scenario.toml`` and its inputs) with one
thing wrong, and ``expect.toml``: the command to run (``validate`` or ``run``), the exit code,
the offending file's name and the strings the message must contain; ``map_escaped``: input
text the written map.html must hold only HTML-escaped; ``csv_neutral``: cells sites.csv must
hold (text a spreadsheet would run as a formula, neutralised); ``existing``: the existing
sites report.json must count per tier; ``xfail``: a known bug outside the readers that the
case shows (the test is a strict xfail until it is fixed).
``tests/test_bad_inputs.py`` runs them all.

The base is tiny and built here, not copied: a 3 km × 2 km county in 上街区 (two townships,
six villages and communities, six areas) as GBK shapefiles in CGCS2000 Gauss–Krüger 114°E
(EPSG:4547, as ``siting generate`` writes them), a 500 m road grid as OSM XML, a four-row
facilities CSV with a datum column, and a scenario modelled on ``models/shangjie.toml`` with
small counts. Run ``python tests/data/make_bad.py`` to rebuild; the output is byte-for-byte
the same every time (the DBF date is fixed, nothing is random).
"""

from __future__ import annotations

import argparse
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import osmium
import pandas as pd
import pyogrio
import shapely
from pyproj import Transformer

from siting.readers import coords

OUT = Path(__file__).resolve().parent / "bad"
CRS = "EPSG:4547"                  # CGCS2000 / 3-degree Gauss–Krüger CM 114E
X0, Y0 = 434000.0, 3851000.0       # the base's south-west corner, in 上街区
GRID = 500                         # road spacing, metres
WIDTH, HEIGHT = 3000, 2000         # the county's extent, metres
HTML_NAME = "<img src=x onerror=alert(1)>"

_TO_WGS = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)


# ---------------------------------------------------------------------------------------------
# The base county
# ---------------------------------------------------------------------------------------------

def _box(x0: float, y0: float, x1: float, y1: float) -> shapely.Polygon:
    """A rectangle given in metres from the base's corner."""
    return shapely.box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


def _lonlat(x: float, y: float) -> tuple[float, float]:
    """WGS84 lon/lat of a point given in metres from the base's corner."""
    lon, lat = _TO_WGS.transform(X0 + x, Y0 + y)
    return round(float(lon), 7), round(float(lat), 7)


def townships() -> gpd.GeoDataFrame:
    """Two townships side by side."""
    return gpd.GeoDataFrame({
        "CODE": ["410106001", "410106002"],
        "NAME": ["济源路街道", "峡窝镇"],
        "POP": [5200, 4100]},
        geometry=[_box(0, 0, 1500, HEIGHT), _box(1500, 0, WIDTH, HEIGHT)], crs=CRS)


def villages() -> gpd.GeoDataFrame:
    """Three villages or communities per township, in 500 m strips."""
    return gpd.GeoDataFrame({
        "CODE": ["410106001001", "410106001201", "410106001202",
                 "410106002001", "410106002201", "410106002202"],
        "NAME": ["济源路社区", "张庄村", "李湾村", "峡窝社区", "马固村", "王庄村"],
        "POP": [2600, 1400, 1200, 1900, 1300, 900],
        "KIND": ["社区", "村", "村", "社区", "村", "村"]},
        geometry=[_box(x, 0, x + 500, HEIGHT) for x in range(0, WIDTH, 500)], crs=CRS)


def areas() -> gpd.GeoDataFrame:
    """Residential, commercial and government areas, 130 m or so from a road."""
    return gpd.GeoDataFrame({
        "ID": ["A01", "A02", "A03", "A04", "A05", "A06"],
        "NAME": ["幸福小区", "济源路商业街", "街道办事处", "峡窝家园", "马固新村", "王庄安置小区"],
        "POP": [1800, 0, 0, 1500, 900, 700],
        "YDXZ": ["R2", "B1", "A1", "R2", "R21", "R2"]},
        geometry=[_box(100, 560, 300, 700), _box(600, 1060, 850, 1200),
                  _box(1100, 560, 1300, 700), _box(1600, 1060, 1800, 1200),
                  _box(2100, 560, 2300, 700), _box(2600, 1560, 2800, 1700)], crs=CRS)


@dataclass
class Roads:
    """An OSM road network: nodes (id -> metres from the corner) and tagged ways."""

    nodes: dict[int, tuple[float, float]] = field(default_factory=dict)
    ways: list[tuple[int, list[int], dict[str, str]]] = field(default_factory=list)

    def line(self, points: list[tuple[float, float]], tags: dict[str, str]) -> None:
        """Add a way through ``points``, sharing the nodes that already exist there."""
        ids = []
        for p in points:
            found = next((k for k, q in self.nodes.items() if q == p), None)
            if found is None:
                found = len(self.nodes) + 1
                self.nodes[found] = p
            ids.append(found)
        self.ways.append((100 + len(self.ways) + 1, ids, tags))

    def xml(self) -> str:
        """OSM XML 0.6, nodes in WGS84 with seven decimals."""
        lines = ['<?xml version="1.0" encoding="UTF-8"?>',
                 '<osm version="0.6" generator="tests/data/make_bad.py">']
        for k, (x, y) in self.nodes.items():
            lon, lat = _lonlat(x, y)
            lines.append(f'  <node id="{k}" version="1" lat="{lat:.7f}" lon="{lon:.7f}"/>')
        for wid, ids, tags in self.ways:
            lines.append(f'  <way id="{wid}" version="1">')
            lines += [f'    <nd ref="{n}"/>' for n in ids]
            lines += [f'    <tag k="{k}" v="{v}"/>' for k, v in tags.items()]
            lines.append("  </way>")
        lines.append("</osm>")
        return "\n".join(lines) + "\n"


def road_grid(width: int = WIDTH, height: int = HEIGHT) -> Roads:
    """Streets every 500 m over the county, the outer ring tertiary, the rest residential."""
    roads = Roads()
    xs, ys = range(0, width + 1, GRID), range(0, height + 1, GRID)
    for k, y in enumerate(ys, 1):
        kind = "tertiary" if y in (0, height) else "residential"
        roads.line([(x, y) for x in xs], {"highway": kind, "name": f"纬{k}路"})
    for k, x in enumerate(xs, 1):
        kind = "tertiary" if x in (0, width) else "residential"
        roads.line([(x, y) for y in ys], {"highway": kind, "name": f"经{k}路"})
    return roads


def facilities() -> pd.DataFrame:
    """Four existing outlets, one each in WGS84, GCJ-02 and BD-09 and a depot."""
    spots = [(250, 1000), (1750, 1500), (2250, 1000), (1250, 1500)]
    datums = ["WGS84", "GCJ-02", "BD-09", "WGS84"]
    lon, lat = [], []
    for (x, y), label in zip(spots, datums, strict=True):
        wlon, wlat = _lonlat(x, y)
        clon, clat = coords.from_wgs84(np.array([wlon]), np.array([wlat]),
                                       coords.datum_name(label) or "wgs84")
        lon.append(f"{clon[0]:.6f}")
        lat.append(f"{clat[0]:.6f}")
    return pd.DataFrame({
        "编号": ["F001", "F002", "F003", "F004"],
        "名称": ["上街区济源路邮政支局", "峡窝镇快递服务站", "马固村快递代办点",
                 "上街区邮件处理中心"],
        "类型": ["邮政营业网点", "快递网点", "快递网点", "县级处理中心"],
        "经度": lon, "纬度": lat, "坐标系": datums})


HEADER = '''\
# Bad-input corpus, case "{name}": {why}
# Built by tests/data/make_bad.py; modelled on models/shangjie.toml with small counts.
name = "{name}"
title = "坏输入测试 {name}"
'''

SCENARIO = '''\
[network]
osm = "roads.osm"
max_snap_m = 250

[candidates]
junctions_only = false
min_spacing_m = 0

[layers.townships]
path = "townships.shp"
code = "CODE"
name = "NAME"
population = "POP"

[layers.villages]
path = "villages.shp"
code = "CODE"
name = "NAME"
population = "POP"
class_field = "KIND"
classes = { village = ["村"], community = ["社区"] }

[layers.areas]
path = "areas.shp"
code = "ID"
name = "NAME"
population = "POP"
class_field = "YDXZ"
classes = { residential = ["R"], commercial = ["B"], government = ["A"] }

[facilities]
path = "facilities.csv"
id = "编号"
name = "名称"
type = "类型"
lon = "经度"
lat = "纬度"
datum_field = "坐标系"

[facilities.types]
"邮政营业网点" = ["township", "village", "community"]
"快递网点" = ["village", "community"]
"县级处理中心" = []

[tiers.township]
demand = "townships"
reach = "inside"
cost = 300000

[tiers.village]
demand = "villages"
classes = ["village"]
reach = "road"
radius_m = 2000
network = "drive"
cost = 50000

[tiers.community]
demand = "areas"
classes = ["residential"]
coverage = "maximise"
weight = "population"
reach = "road"
radius_m = 500
network = "walk"
one_in_each = "community"
count = 2
cost = 80000

[tiers.locker]
demand = "areas"
classes = ["residential", "commercial", "government"]
coverage = "all"
reach = "road"
radius_m = 300
network = "walk"
cost = 30000

[colocation]
tiers = ["community", "locker"]
saving = 10000

[solver]
name = "highs"
time_limit_s = 60
rel_gap = 0.0
'''


@dataclass
class Inputs:
    """One case's inputs before they are written; a case edits a fresh copy."""

    scenario: str = SCENARIO          # the scenario below its header (name, title)
    townships: gpd.GeoDataFrame = field(default_factory=townships)
    villages: gpd.GeoDataFrame = field(default_factory=villages)
    areas: gpd.GeoDataFrame = field(default_factory=areas)
    roads: Roads = field(default_factory=road_grid)
    facilities: pd.DataFrame = field(default_factory=facilities)

    def edit(self, old: str, new: str) -> None:
        """Replace ``old`` (which must be there) in the scenario text."""
        if old not in self.scenario:
            raise ValueError(f"scenario text has no {old!r}")
        self.scenario = self.scenario.replace(old, new, 1)


def write_inputs(inp: Inputs, folder: Path, header: str) -> None:
    """Write the scenario, the three layers, the roads and the facilities into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "scenario.toml").write_text(f"{header}\n{inp.scenario}", encoding="utf-8")
    for name in ("townships", "villages", "areas"):
        write_shapefile(getattr(inp, name), folder / f"{name}.shp")
    (folder / "roads.osm").write_text(inp.roads.xml(), encoding="utf-8")
    inp.facilities.to_csv(folder / "facilities.csv", index=False, encoding="utf-8-sig",
                          lineterminator="\n")


def write_shapefile(gdf: gpd.GeoDataFrame, path: Path, encoding: str = "GBK") -> None:
    """A shapefile as Chinese GIS software writes it (GBK DBF with a .cpg), dated 2023-06-30."""
    gdf.to_file(path, driver="ESRI Shapefile", encoding=encoding, engine="pyogrio")
    with path.with_suffix(".dbf").open("r+b") as f:   # the DBF header's last-update date
        f.seek(1)
        f.write(bytes([123, 6, 30]))


def drop(folder: Path, *names: str) -> None:
    """Delete files from a case folder."""
    for name in names:
        (folder / name).unlink()


def retarget(folder: Path, old: str, new: str) -> None:
    """Replace ``old`` (which must be there) in a written scenario, below its header."""
    path = folder / "scenario.toml"
    header, gap, body = path.read_text(encoding="utf-8").partition("\n\n")
    if old not in body:
        raise ValueError(f"{path} has no {old!r}")
    path.write_text(header + gap + body.replace(old, new, 1), encoding="utf-8")


# ---------------------------------------------------------------------------------------------
# The cases
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Case:
    """One broken input, what to run on it, and what the message must say."""

    name: str
    why: str
    command: str                        # "validate" or "run"
    exit: int
    file: str                           # the offending file's name, named in the message
    contains: tuple[str, ...]           # the feature/row/key, and a word of the fix
    edit: Callable[[Inputs], None] | None = None       # change the inputs before writing
    after: Callable[[Path], None] | None = None        # change the files after writing
    map_escaped: tuple[str, ...] = ()   # input text map.html must hold, only HTML-escaped
    csv_neutral: tuple[str, ...] = ()   # cells sites.csv must hold (formulas neutralised)
    existing: dict[str, int] = field(default_factory=dict)  # report.json's existing sites
    xfail: str = ""                     # a known bug outside the readers: why it fails


CASES: list[Case] = []


def case(name: str, why: str, command: str, exit: int, file: str, *contains: str,
         **extra: object) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Register a case; the decorated function edits the inputs (or, ``after=True``, files)."""
    after = bool(extra.pop("after", False))

    def register(fn: Callable[..., None]) -> Callable[..., None]:
        hooks = {"after": fn} if after else {"edit": fn}
        CASES.append(Case(name, why, command, exit, file, contains, **hooks, **extra))
        return fn
    return register


# --- the scenario file -------------------------------------------------------------------------

@case("scenario_mistyped_key", "max_snap_m is spelt max_snapm", "run", 2, "scenario.toml",
      "max_snapm", "did you mean 'max_snap_m'")
def _(inp: Inputs) -> None:
    inp.edit("max_snap_m = 250", "max_snapm = 250")


@case("scenario_wrong_type", "radius_m is a string", "validate", 2, "scenario.toml",
      "tiers.locker.radius_m", "\"300\"", "wrong type", "must be a number")
def _(inp: Inputs) -> None:
    inp.edit("radius_m = 300", 'radius_m = "300"')


@case("scenario_negative_radius", "a negative walking radius", "validate", 2, "scenario.toml",
      "tiers.community.radius_m", "-500", "out of range", "> 0 metres")
def _(inp: Inputs) -> None:
    inp.edit("radius_m = 500", "radius_m = -500")


@case("scenario_not_toml", "a missing closing quote", "validate", 2, "scenario.toml",
      "not valid TOML", "line 7", "Fix the line")
def _(inp: Inputs) -> None:
    inp.edit('osm = "roads.osm"', 'osm = "roads.osm')


@case("scenario_missing_section", "no [network] section", "validate", 2, "scenario.toml",
      "'network' is required but missing", "add a [network] section")
def _(inp: Inputs) -> None:
    inp.edit('[network]\nosm = "roads.osm"\nmax_snap_m = 250\n', "")


@case("scenario_unknown_tier", "[tiers.lockers] for [tiers.locker]", "validate", 2,
      "scenario.toml", "unknown tier [tiers.lockers]", "the tiers are", "[tiers.locker]")
def _(inp: Inputs) -> None:
    inp.edit("[tiers.locker]", "[tiers.lockers]")


@case("scenario_unknown_encoding", "a layer encoding Python does not know", "validate", 2,
      "scenario.toml", "layers.villages.encoding", "gbk2312", "'gbk'")
def _(inp: Inputs) -> None:
    inp.edit('class_field = "KIND"', 'class_field = "KIND"\nencoding = "gbk2312"')


@case("count_exceeds_candidates", "more community points than there are sites", "validate",
      2, "scenario.toml", "tier 'community'", "at least 500 sites are required",
      "Lower [tiers.community] count")
def _(inp: Inputs) -> None:
    inp.edit("count = 2", "count = 500")


@case("class_map_matches_nothing", "the villages' classes map names values not in KIND",
      "validate", 2, "villages.shp", "tier 'village'", "'KIND'", "Fix [layers.villages] classes")
def _(inp: Inputs) -> None:
    inp.edit('village = ["村"]', 'village = ["行政村"]')


@case("real_folder_partial", "the real folder holds the layers but not roads or facilities",
      "validate", 2, "scenario.toml", "roads.osm", "facilities.csv", "Add the missing files",
      after=True)
def _(folder: Path) -> None:
    real = folder / "real"
    real.mkdir()
    for p in sorted(folder.iterdir()):
        if p.name.split(".")[0] in ("townships", "villages", "areas"):
            p.rename(real / p.name)
    drop(folder, "roads.osm", "facilities.csv")
    retarget(folder, "[network]", '[inputs]\nreal = "real"\ngenerated = "generated"\n\n[network]')



# --- layers ------------------------------------------------------------------------------------

@case("layer_file_missing", "villages.shp and its sidecar files are not there", "run", 2,
      "villages.shp", "villages layer file is missing", "[layers.villages] path", after=True)
def _(folder: Path) -> None:
    drop(folder, *(f"villages.{s}" for s in ("shp", "shx", "dbf", "prj", "cpg")))


@case("layer_empty", "the areas shapefile has no feature", "validate", 2, "areas.shp",
      "areas layer is empty", "Export it again")
def _(inp: Inputs) -> None:
    inp.areas = inp.areas.iloc[:0]


@case("shapefile_without_dbf", "townships.dbf was not copied", "run", 2, "townships.shp",
      "no .dbf", "Copy all the shapefile's files", after=True)
def _(folder: Path) -> None:
    drop(folder, "townships.dbf")


@case("shapefile_truncated", "villages.shp cut off half-way (an interrupted copy)", "run", 2,
      "villages.shp", "cut off", "458 of 916 bytes", "Copy it again", after=True)
def _(folder: Path) -> None:
    shp = folder / "villages.shp"
    shp.write_bytes(shp.read_bytes()[: shp.stat().st_size // 2])


@case("cpg_wrong", "the .cpg says UTF-8 but the DBF is GBK", "validate", 2, "villages.shp",
      "is not UTF-8 (the encoding its .cpg names)", "correct the .cpg", after=True)
def _(folder: Path) -> None:
    (folder / "villages.cpg").write_text("UTF-8", encoding="ascii")


@case("shapefile_without_prj", "townships.prj was not copied and no crs is given", "validate",
      2, "townships.shp", "no coordinate system", "crs = \"EPSG:4547\"", after=True)
def _(folder: Path) -> None:
    drop(folder, "townships.prj")


@case("layer_bad_crs", "crs names an EPSG code that does not exist", "validate", 2,
      "townships.shp", "EPSG:99999", "[layers.townships] crs")
def _(inp: Inputs) -> None:
    inp.edit('code = "CODE"', 'code = "CODE"\ncrs = "EPSG:99999"')


@case("encoding_override_wrong", "encoding = utf-8 given for a GBK shapefile", "validate", 2,
      "villages.shp", "is not utf-8", "[layers.villages] encoding", "gbk")
def _(inp: Inputs) -> None:
    inp.edit('class_field = "KIND"', 'class_field = "KIND"\nencoding = "utf-8"')


@case("gpkg_layer_missing", "layer names a layer the GeoPackage does not have", "validate", 2,
      "areas.gpkg", "no layer 'areas'", "landuse", "[layers.areas] layer", after=True)
def _(folder: Path) -> None:
    write_gpkg(folder, "areas", {"landuse": areas(), "roads_buffer": townships()})
    retarget(folder, 'path = "areas.shp"', 'path = "areas.gpkg"\nlayer = "areas"')


@case("gpkg_several_layers", "a GeoPackage of two layers and no layer named", "validate", 2,
      "areas.gpkg", "2 layers", "landuse", "Set [layers.areas] layer", after=True)
def _(folder: Path) -> None:
    write_gpkg(folder, "areas", {"landuse": areas(), "roads_buffer": townships()})
    retarget(folder, 'path = "areas.shp"', 'path = "areas.gpkg"')


@case("prj_wrong", "areas.prj says lon/lat (EPSG:4326) but the coordinates are metres",
      "validate", 2, "areas.shp", "not in China", "[layers.areas] crs")
def _(inp: Inputs) -> None:
    inp.areas = inp.areas.set_crs("EPSG:4326", allow_override=True)


@case("population_text", "a population that is text", "validate", 2, "villages.shp",
      "410106001201", "张庄村", "'约1400'", "Correct it")
def _(inp: Inputs) -> None:
    inp.villages["POP"] = inp.villages["POP"].astype(str)
    inp.villages.loc[1, "POP"] = "约1400"


@case("field_missing", "the population field named in the mapping is not in the file",
      "validate", 2, "villages.shp", "no field 'RENKOU'", "[layers.villages] population")
def _(inp: Inputs) -> None:
    text = inp.scenario.split("[layers.villages]")
    inp.scenario = text[0] + "[layers.villages]" + text[1].replace('population = "POP"',
                                                                     'population = "RENKOU"', 1)


@case("duplicate_codes", "two villages share one code", "run", 2, "villages.shp",
      "code 410106002201 appears 2 times", "马固村", "王庄村", "Codes must be unique")
def _(inp: Inputs) -> None:
    inp.villages.loc[5, "CODE"] = "410106002201"


@case("null_geometry", "a village without a geometry", "validate", 2, "villages.shp",
      "410106001202", "李湾村", "has no geometry", "Draw it or delete")
def _(inp: Inputs) -> None:
    inp.villages.loc[2, "geometry"] = None


@case("empty_geometry_geojson", "a GeoJSON village whose polygon has no coordinates",
      "validate", 2, "villages.geojson", "410106002202", "王庄村", "has no geometry", after=True)
def _(folder: Path) -> None:
    drop(folder, *(f"villages.{s}" for s in ("shp", "shx", "dbf", "prj", "cpg")))
    write_geojson(villages(), folder / "villages.geojson", empty=5)
    retarget(folder, 'path = "villages.shp"', 'path = "villages.geojson"')


@case("points_for_polygons", "the areas layer holds points", "validate", 2, "areas.shp",
      "A01", "幸福小区", "Point", "Export the layer as polygons")
def _(inp: Inputs) -> None:
    inp.areas = inp.areas.set_geometry(inp.areas.geometry.centroid)


@case("invalid_polygon_repaired", "a self-crossing (bow-tie) area is repaired, not refused",
      "validate", 0, "areas.shp", "1 repaired")
def _(inp: Inputs) -> None:
    x, y = X0 + 2600, Y0 + 1560
    inp.areas.loc[5, "geometry"] = shapely.Polygon(
        [(x, y), (x + 200, y + 140), (x + 200, y), (x, y + 140)])


@case("village_outside_townships", "a village east of both townships (a warning)", "validate",
      0, "villages.shp", "outside every township", "410106002203", "东外村")
def _(inp: Inputs) -> None:
    extra = gpd.GeoDataFrame({"CODE": ["410106002203"], "NAME": ["东外村"], "POP": [300],
                              "KIND": ["村"]}, geometry=[_box(3050, 700, 3450, 1300)], crs=CRS)
    inp.villages = pd.concat([inp.villages, extra], ignore_index=True)


@case("unclassed_values", "a KIND value no class takes (a warning)", "validate", 0,
      "villages.shp", "'KIND'", "居委会", "410106002001", "Add the values to [layers.villages]")
def _(inp: Inputs) -> None:
    inp.villages.loc[3, "KIND"] = "居委会"


@case("html_in_name", "a village named with HTML: must run, and be escaped on the map", "run",
      0, "villages.shp", map_escaped=(HTML_NAME,))
def _(inp: Inputs) -> None:
    inp.villages.loc[4, "NAME"] = HTML_NAME


# --- roads -------------------------------------------------------------------------------------

@case("osm_truncated", "roads.osm cut off in the middle of a way", "run", 2, "roads.osm",
      "truncated or corrupt", "download it again", after=True)
def _(folder: Path) -> None:
    text = (folder / "roads.osm").read_bytes()
    cut = text.index(b'<way id="105"') + 30
    (folder / "roads.osm").write_bytes(text[:cut])


@case("osm_no_roads", "an OSM file with nodes but no highway way", "validate", 2, "roads.osm",
      "no road", "covers the study area")
def _(inp: Inputs) -> None:
    inp.roads.ways = [(w, ids, {"waterway": "canal"}) for w, ids, _ in inp.roads.ways]


@case("osm_empty", "roads.osm is an empty file", "validate", 2, "roads.osm",
      "the OSM file is empty", "Download the extract again", after=True)
def _(folder: Path) -> None:
    (folder / "roads.osm").write_bytes(b"")


@case("osm_wrong_suffix", "the road file is a .txt", "validate", 2, "roads.txt",
      "not an OSM file name", ".osm.pbf", after=True)
def _(folder: Path) -> None:
    (folder / "roads.osm").rename(folder / "roads.txt")
    retarget(folder, '"roads.osm"', '"roads.txt"')


@case("pbf_corrupt", "a .osm.pbf whose data block is damaged", "run", 2, "roads.osm.pbf",
      "truncated or corrupt", "download it again", after=True)
def _(folder: Path) -> None:
    pbf = folder / "roads.osm.pbf"
    write_pbf(folder / "roads.osm", pbf)
    raw = bytearray(pbf.read_bytes())
    start = len(raw) // 2
    raw[start:start + 64] = bytes(range(64))
    pbf.write_bytes(bytes(raw))
    drop(folder, "roads.osm")
    retarget(folder, '"roads.osm"', '"roads.osm.pbf"')


@case("graphml_not_graphml", "roads.graphml holds an HTML error page", "validate", 2,
      "roads.graphml", "not a GraphML file", "osmnx.save_graphml", after=True)
def _(folder: Path) -> None:
    drop(folder, "roads.osm")
    (folder / "roads.graphml").write_text(
        "<html><head><title>502 Bad Gateway</title></head>\n<body>502 Bad Gateway</body>"
        "</html>\n", encoding="utf-8")
    retarget(folder, '"roads.osm"', '"roads.graphml"')


@case("road_fragment", "the east village's roads are cut off from the grid (a warning)",
      "validate", 0, "roads.osm", "separate pieces", "410106002202", "王庄村",
      "missing road")
def _(inp: Inputs) -> None:
    roads = road_grid(width=2000)
    roads.line([(2300, 1000), (2500, 1000), (2700, 1000)], {"highway": "residential"})
    roads.line([(2500, 800), (2500, 1000), (2500, 1200)], {"highway": "residential"})
    inp.roads = roads


@case("unit_far_from_road", "an area in the middle of a block, beyond max_snap_m (a warning)",
      "validate", 0, "roads.osm", "farther than 200 m", "A03", "街道办事处", "max_snap_m")
def _(inp: Inputs) -> None:
    inp.edit("max_snap_m = 250", "max_snap_m = 200")
    inp.areas.loc[2, "geometry"] = _box(1150, 1150, 1350, 1350)


@case("tier_all_far_from_road", "every area beyond max_snap_m: only warnings are expected "
      "(no unit of the tier attached to a road)", "validate", 0, "roads.osm",
      "farther than 100 m", "A01", "幸福小区", "max_snap_m")
def _(inp: Inputs) -> None:
    inp.edit("max_snap_m = 250", "max_snap_m = 100")


# --- facilities --------------------------------------------------------------------------------

@case("facilities_not_numeric", "coordinates that are not numbers, and a blank one",
      "validate", 2, "facilities.csv", "row 3", "row 5", "not a number",
      "Fill in decimal degrees")
def _(inp: Inputs) -> None:
    inp.facilities.loc[1, "经度"] = "113度17分"
    inp.facilities.loc[3, "纬度"] = ""


@case("facilities_swapped", "latitude in the longitude column", "run", 2, "facilities.csv",
      "row 2", "look swapped", "Swap the two columns")
def _(inp: Inputs) -> None:
    f = inp.facilities
    f.loc[0, "经度"], f.loc[0, "纬度"] = f.loc[0, "纬度"], f.loc[0, "经度"]


@case("facilities_outside_china", "projected metres where degrees belong", "validate", 2,
      "facilities.csv", "row 4", "is not in China", "not projected metres")
def _(inp: Inputs) -> None:
    inp.facilities.loc[2, "经度"] = "436250.0"
    inp.facilities.loc[2, "纬度"] = "3852000.0"


@case("facilities_unknown_datum", "a datum label nobody knows", "validate", 2,
      "facilities.csv", "row 3", "unknown datum 'BJ54'", "Use WGS84")
def _(inp: Inputs) -> None:
    inp.facilities.loc[1, "坐标系"] = "BJ54"


@case("facilities_missing_column", "datum_field names a column the CSV lacks", "validate",
      2, "facilities.csv", "'datum'", "[facilities] datum_field")
def _(inp: Inputs) -> None:
    inp.edit('datum_field = "坐标系"', 'datum_field = "datum"')


@case("facilities_ragged_csv", "a row with one cell too many (an unquoted comma)", "validate",
      2, "facilities.csv", "not a readable CSV", "line 3", "Save it as CSV", after=True)
def _(folder: Path) -> None:
    path = folder / "facilities.csv"
    lines = path.read_text(encoding="utf-8-sig").split("\n")
    lines[2] = lines[2].replace("峡窝镇快递服务站", "峡窝镇快递服务站,东门")
    path.write_text("\n".join(lines), encoding="utf-8-sig")


@case("facilities_outside_county", "an outlet 30 km away (a warning)", "validate", 0,
      "facilities.csv", "row 5", "上街区邮件处理中心", "outside the county")
def _(inp: Inputs) -> None:
    inp.facilities.loc[3, "经度"] = "113.600000"


# --- numbers: inf and nan (issue 11) -------------------------------------------------------

NUMBERS = [  # case, the key, its value, the text it goes after (None: replaces the key's)
    ("number_inf_cost", "tiers.locker.cost", "inf", None),
    ("number_neg_inf_cost", "tiers.village.cost", "-inf", None),
    ("number_nan_radius", "tiers.community.radius_m", "nan", None),
    ("number_inf_radius", "tiers.village.radius_m", "inf", None),
    ("number_overflow_radius", "tiers.locker.radius_m", "1e400", None),
    ("number_inf_count", "tiers.community.count", "inf", None),
    ("number_nan_snap", "network.max_snap_m", "nan", None),
    ("number_inf_clip", "network.clip_buffer_m", "inf", "max_snap_m = 250"),
    ("number_nan_spacing", "candidates.min_spacing_m", "nan", None),
    ("number_inf_saving", "colocation.saving", "inf", None),
    ("number_nan_time_limit", "solver.time_limit_s", "nan", None),
    ("number_nan_rel_gap", "solver.rel_gap", "nan", None),
    ("number_inf_budget", "budget", "inf", ""),
    ("number_nan_locker_share", "tiers.locker.locker_share", "nan", "cost = 30000\n"),
    ("number_inf_parcels", "tiers.locker.parcels_per_person_day", "inf", "cost = 30000\n"),
    ("number_inf_dwell", "tiers.locker.dwell_days", "inf", "cost = 30000\n"),
    ("number_nan_min_demand", "tiers.locker.min_demand", "nan", "cost = 30000\n"),
    ("number_nan_bank_cost", "tiers.locker.sizes[0].cost", "nan", "cost = 30000\n"),
    ("number_inf_default_levels", "buildings.default_levels", "inf", ""),
]
CURRENT = {"tiers.locker.cost": "cost = 30000\n", "tiers.village.cost": "cost = 50000",
           "tiers.community.radius_m": "radius_m = 500", "tiers.village.radius_m":
           "radius_m = 2000", "tiers.locker.radius_m": "radius_m = 300",
           "tiers.community.count": "count = 2", "network.max_snap_m": "max_snap_m = 250",
           "candidates.min_spacing_m": "min_spacing_m = 0", "colocation.saving":
           "saving = 10000", "solver.time_limit_s": "time_limit_s = 60",
           "solver.rel_gap": "rel_gap = 0.0"}


def _number_case(name: str, key: str, value: str, after: str | None) -> None:
    field_ = key.rpartition(".")[2]
    line = ("sizes = [{ compartments = 60, cost = " + value + " }]" if "sizes" in key
            else f"{field_} = {value}")

    def edit(inp: Inputs) -> None:
        end = "\n" if (after or CURRENT.get(key, "")).endswith("\n") else ""
        if after is None:                   # replace the key's value
            inp.edit(CURRENT[key], line + end)
        elif after:                         # a new key in a section
            inp.edit(after, f"{after}{line}\n" if end else f"{after}\n{line}")
        elif key == "budget":               # a top-level key, above the first section
            inp.scenario = f"{line}\n\n{inp.scenario}"
        else:                               # a new section
            inp.scenario += f"\n[{key.partition('.')[0]}]\n{line}\n"
    shown = {"1e400": "inf"}.get(value, value)
    case(name, f"{key} = {value} in the scenario", "validate", 2, "scenario.toml", f"'{key}'",
         f"= {shown}", "not a finite number", "give an ordinary number")(edit)


for _args in NUMBERS:
    _number_case(*_args)


@case("population_inf", "a village's population is 'inf' (text a DBF can hold)", "validate",
      2, "villages.shp", "410106001202", "李湾村", "'inf'", "not a finite number")
def _(inp: Inputs) -> None:
    inp.villages["POP"] = inp.villages["POP"].astype(str)
    inp.villages.loc[2, "POP"] = "inf"


@case("population_nan", "a village's population is 'nan'", "validate", 2, "villages.shp",
      "410106002201", "马固村", "'nan'", "Correct it")
def _(inp: Inputs) -> None:
    inp.villages["POP"] = inp.villages["POP"].astype(str)
    inp.villages.loc[4, "POP"] = "nan"


@case("facilities_capacity_inf", "an existing bank's compartments are 'inf'", "validate", 2,
      "facilities.csv", "row 3", "'inf'", "negative or infinite", "leave the cell blank")
def _(inp: Inputs) -> None:
    inp.edit('datum_field = "坐标系"', 'datum_field = "坐标系"\ncapacity = "格口数"')
    inp.facilities["格口数"] = ["", "inf", "", ""]


@case("facilities_coordinate_inf", "a longitude of 'inf'", "validate", 2, "facilities.csv",
      "row 4", "not a number", "Fill in decimal degrees")
def _(inp: Inputs) -> None:
    inp.facilities.loc[2, "经度"] = "inf"


# --- facilities listed twice (issue 11) ----------------------------------------------------

def _copies(inp: Inputs, row: int, n: int, **change: str) -> None:
    copies = pd.concat([inp.facilities.iloc[[row]]] * n, ignore_index=True)
    for col, value in change.items():
        copies[col] = [f"{value}{k}" for k in range(n)] if value else copies[col]
    inp.facilities = pd.concat([inp.facilities, copies], ignore_index=True)


@case("facilities_same_id", "the district post office listed four times under one id",
      "validate", 0, "facilities.csv", "row 2, row 6, row 7, row 8", "F001",
      "4 times", "counted once per tier", "Delete the extra rows")
def _(inp: Inputs) -> None:
    _copies(inp, 0, 3)


@case("facilities_same_place", "one courier station twice, under two ids, at one spot",
      "validate", 0, "facilities.csv", "row 3, row 6", "峡窝镇快递服务站", "2 times",
      "within 1 m", "Delete the extra rows")
def _(inp: Inputs) -> None:
    _copies(inp, 1, 1, 编号="F10")


@case("facilities_copies_run", "four copies of a post office counted as one (run)", "run", 0,
      "facilities.csv", "row 2, row 6, row 7, row 8", "counted once per tier",
      existing={"township": 1, "village": 3, "community": 3})
def _(inp: Inputs) -> None:
    _copies(inp, 0, 3)


# --- outside the study area (issue 11) -----------------------------------------------------

BEIJING = (-8000.0, 605000.0)    # metres north, to Beijing's latitude (40.2 N)


def _moved(gdf: gpd.GeoDataFrame, rows: list[int], dx: float, dy: float) -> gpd.GeoDataFrame:
    gdf = gdf.copy()
    gdf.loc[rows, "geometry"] = gdf.geometry[rows].translate(dx, dy)
    return gdf


@case("township_in_beijing", "a township polygon moved 600 km north, to Beijing's latitude",
      "validate", 2, "townships.shp", "410106002", "峡窝镇", "outside the study area",
      "Fix its coordinates, or delete the feature")
def _(inp: Inputs) -> None:
    inp.townships = _moved(inp.townships, [1], *BEIJING)


@case("township_in_beijing_run", "the same, with `siting run`: no site planned in Beijing",
      "run", 2, "townships.shp", "410106002", "峡窝镇", "outside the study area")
def _(inp: Inputs) -> None:
    inp.townships = _moved(inp.townships, [1], *BEIJING)


@case("village_far_away", "a village moved 80 km east", "validate", 2, "villages.shp",
      "410106002202", "王庄村", "outside the study area", "more than 5 km from every road")
def _(inp: Inputs) -> None:
    inp.villages = _moved(inp.villages, [5], 80000, 0)


@case("area_far_away", "an area moved 40 km south", "validate", 2, "areas.shp", "A05",
      "马固新村", "outside the study area")
def _(inp: Inputs) -> None:
    inp.areas = _moved(inp.areas, [4], 0, -40000)


@case("areas_layer_off", "the whole areas layer shifted 200 km (a wrong false easting)",
      "validate", 2, "areas.shp", "the whole areas layer", "misses the road network",
      "[layers.areas] crs")
def _(inp: Inputs) -> None:
    inp.areas = _moved(inp.areas, list(range(6)), 200000, 0)


@case("townships_layer_off", "the whole townships layer 200 km away: no road near it",
      "validate", 2, "townships.shp", "the townships layer", "outside the road network of "
      "roads.osm", "[layers.townships] crs")
def _(inp: Inputs) -> None:
    inp.townships = _moved(inp.townships, [0, 1], 0, 200000)


# --- geometry (issue 11) -------------------------------------------------------------------

@case("village_zero_area", "a village polygon whose corners lie on one line", "validate", 2,
      "villages.shp", "410106001201", "张庄村", "has no area", "Redraw the polygon")
def _(inp: Inputs) -> None:
    x = X0 + 500
    inp.villages.loc[1, "geometry"] = shapely.Polygon(
        [(x, Y0), (x + 250, Y0 + 1000), (x + 500, Y0 + 2000), (x, Y0)])


@case("area_zero_area", "an area drawn as one point four times", "run", 2, "areas.shp", "A04",
      "峡窝家园", "has no area", "Redraw the polygon")
def _(inp: Inputs) -> None:
    x, y = X0 + 1600, Y0 + 1060
    inp.areas.loc[3, "geometry"] = shapely.Polygon([(x, y), (x, y), (x, y), (x, y)])


@case("invalid_after_reprojection", "a village valid in EPSG:4547 but not in lon/lat: a "
      "sliver ring whose two corners 1 ulp apart become one point (as 民主街村委会 in make "
      "demo)", "validate", 0, "villages.shp", "1 repaired")
def _(inp: Inputs) -> None:
    x, y = X0 + 1059, Y0 + HEIGHT            # found by search: the two corners meet in lon/lat
    strip = shapely.Polygon([(X0 + 1500, Y0), (X0 + 1500, y), (x, y), (X0 + 1000, y),
                             (X0 + 1000, Y0)])
    sliver = shapely.Polygon([(x, y), (x - 200, y + 300), (x, float(np.nextafter(y, 4e6)))])
    inp.villages.loc[2, "geometry"] = shapely.MultiPolygon([strip, sliver])


# --- shapefile extensions in any case (issue 11) -------------------------------------------

def _upper(folder: Path, name: str, suffixes: tuple[str, ...]) -> None:
    for s in suffixes:
        (folder / f"{name}.{s}").rename(folder / f"{name}.{s.upper()}")


@case("shapefile_upper_case", "villages.SHP, .SHX, .DBF, .PRJ, .CPG (a Windows export)",
      "validate", 0, "villages.SHP", "no problems found", after=True)
def _(folder: Path) -> None:
    _upper(folder, "villages", ("shp", "shx", "dbf", "prj", "cpg"))
    retarget(folder, 'path = "villages.shp"', 'path = "villages.SHP"')


@case("shapefile_mixed_case", "areas.shp with areas.SHX and areas.DBF", "run", 0, "areas.shp",
      after=True)
def _(folder: Path) -> None:
    _upper(folder, "areas", ("shx", "dbf"))


@case("shapefile_upper_without_dbf", "townships.SHP whose .DBF was not copied", "validate", 2,
      "townships.SHP", "no .dbf", "Copy all the shapefile's files", after=True)
def _(folder: Path) -> None:
    _upper(folder, "townships", ("shp", "shx", "prj", "cpg"))
    drop(folder, "townships.dbf")
    retarget(folder, 'path = "townships.shp"', 'path = "townships.SHP"')


# --- size before cost (issue 11) -----------------------------------------------------------

@case("radius_huge", "radius_m = 1e9: every unit would reach every site", "validate", 2,
      "scenario.toml", "tier 'locker'", "radius_m = 1e+09", "coverage pairs", "MB of memory",
      "above [solver] max_pairs = 100", "Lower [tiers.locker] radius_m")
def _(inp: Inputs) -> None:
    inp.edit("radius_m = 300", "radius_m = 1e9")
    inp.edit("rel_gap = 0.0", "rel_gap = 0.0\nmax_pairs = 100")


@case("radius_large_warning", "a radius giving more than a third of max_pairs (a warning)",
      "validate", 0, "scenario.toml", "tier 'village'", "coverage pairs", "Expect a long run")
def _(inp: Inputs) -> None:
    inp.edit("rel_gap = 0.0", "rel_gap = 0.0\nmax_pairs = 500")


@case("time_limit_spent", "a time limit that reading the inputs alone uses up: the limit "
      "bounds the whole run, not only the solver", "run", 2, "scenario.toml",
      "time limit of 0.001 s was spent before the solve", "'read'", "Raise --time-limit")
def _(inp: Inputs) -> None:
    inp.edit("time_limit_s = 60", "time_limit_s = 0.001")


# --- spreadsheet formulas (issue 11) -------------------------------------------------------

@case("formula_in_names", "facility names that a spreadsheet would run as formulas", "run", 0,
      "facilities.csv", csv_neutral=("'=HYPERLINK(\"http://x\",\"点我\")", "'@SUM(1+1)",
                                     "'-1+2"))
def _(inp: Inputs) -> None:        # the fourth, a depot, counts for no tier: not in sites.csv
    inp.facilities["名称"] = ['=HYPERLINK("http://x","点我")', "@SUM(1+1)", "-1+2", "+86 371"]


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------

def write_pbf(src: Path, dst: Path) -> None:
    """Copy an OSM XML file to PBF with osmium (no timestamps, so the bytes are stable)."""
    with osmium.SimpleWriter(str(dst)) as writer:
        for obj in osmium.FileProcessor(str(src)):
            writer.add(obj)


def write_gpkg(folder: Path, name: str, frames: dict[str, gpd.GeoDataFrame]) -> None:
    """A GeoPackage of several layers replacing ``name``.shp; GDAL's timestamps fixed."""
    drop(folder, *(f"{name}.{s}" for s in ("shp", "shx", "dbf", "prj", "cpg")))
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": "2023-06-30T00:00:00.000Z"})
    try:
        for layer, gdf in frames.items():
            pyogrio.write_dataframe(gdf, folder / f"{name}.gpkg", layer=layer, driver="GPKG")
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": None})


def write_geojson(gdf: gpd.GeoDataFrame, path: Path, empty: int) -> None:
    """GeoJSON in lon/lat, feature ``empty`` with a polygon that has no coordinates."""
    wgs = gdf.to_crs("EPSG:4326")
    features = []
    for i, row in enumerate(wgs.itertuples(index=False)):
        geom = json.loads(shapely.to_geojson(shapely.transform(
            row.geometry, lambda xy: np.round(xy, 7))))
        if i == empty:
            geom = {"type": "Polygon", "coordinates": []}
        props = {k: getattr(row, k) for k in ("CODE", "NAME", "POP", "KIND")}
        features.append({"type": "Feature", "properties": props, "geometry": geom})
    text = json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False,
                      default=int)
    path.write_text(text + "\n", encoding="utf-8")


def expect_text(c: Case) -> str:
    """``expect.toml`` of a case."""
    def s(v: str) -> str:
        return json.dumps(v, ensure_ascii=False)      # a TOML basic string

    def lst(vs: tuple[str, ...]) -> str:
        return "[" + ", ".join(s(v) for v in vs) + "]"

    lines = [f"# {c.why}", f"command = {s(c.command)}", f"exit = {c.exit}",
             f"file = {s(c.file)}", f"contains = {lst(c.contains)}"]
    if c.map_escaped:
        lines.append(f"map_escaped = {lst(c.map_escaped)}")
    if c.csv_neutral:
        lines.append(f"csv_neutral = {lst(c.csv_neutral)}")
    if c.existing:
        table = ", ".join(f"{k} = {v}" for k, v in c.existing.items())
        lines.append(f"existing = {{ {table} }}")
    if c.xfail:
        lines.append(f"xfail = {s(c.xfail)}")
    return "\n".join(lines) + "\n"


def build_case(c: Case, root: Path) -> Path:
    """Write one case folder under ``root``."""
    folder = root / c.name
    inp = Inputs()
    if c.edit is not None:
        c.edit(inp)
    write_inputs(inp, folder, HEADER.format(name=c.name, why=c.why))
    if c.after is not None:
        c.after(folder)
    (folder / "expect.toml").write_text(expect_text(c), encoding="utf-8")
    return folder


def build(root: Path = OUT) -> list[Path]:
    """Build every case under ``root`` (emptied first); return the case folders."""
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    return [build_case(c, root) for c in CASES]


def main() -> None:
    """``python tests/data/make_bad.py [--out DIR]``."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=OUT, help=f"output folder (default {OUT})")
    args = p.parse_args()
    folders = build(args.out)
    size = sum(f.stat().st_size for d in folders for f in d.rglob("*") if f.is_file())
    print(f"{len(folders)} cases in {args.out} ({size / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
