"""The seeded generator: the inputs no public data has, in the formats users supply.

For a county it writes into ``<cache>/<county>/``, over the real frame
(:mod:`siting.readers.frame`); the cache folder is ``--cache DIR``, else $SITING_CACHE, else
``$XDG_CACHE_HOME/siting`` or ``~/.cache/siting`` (:func:`siting.config.discovery.cache_dir`),
never the installed package:

- ``townships.shp`` — the 2023 townships: a 2000 polygon holding one of them is that
  township; one holding several is divided among them (seeded k-means Voronoi cells);
- ``villages.shp`` — one polygon per 2023 committee, named and coded from the NBS list and
  nested in its township: communities (社区) divide an urban patch around the township seat
  (its area the township's urban population at 12,000/km² for streets, 6,000 for towns),
  villages (村) divide the rest;
- ``areas.shp`` — residential (R2), commercial (B1) and government/public (A1) area polygons
  on the street blocks of each urban patch: one residential area per 3,000 urban residents,
  commercial areas a fifth of that nearest the seat, government areas a twentieth plus one
  at every township seat (乡镇人民政府);
- ``roads.osm`` — OSM XML: urban street grids, county roads between township seats,
  village roads to every village centre; about 1 % of villages (at least one where there
  are ten or more) are left without their road, as real OSM extracts miss village roads.
  ``road_density`` d (default 1) makes the street grids denser for scale benchmarks: √d
  times the streets in each direction (spacing 200 m / √d) with shape nodes √d times
  closer, so the grids' nodes per km² grow d-fold; the other files and roads stay as at
  d = 1, and the folder is ``<cache>/<county>-roads<d>x/``;
- ``facilities.csv`` — existing outlets with lon/lat and a 坐标系 (datum) column, a fifth of
  the rows in GCJ-02 as a Gaode export would be: postal outlets (邮政营业网点) and express
  outlets (快递网点) apportioned from the plan's 2020 citywide 244 and 2,500 by 2020
  population, and the county's mail processing centre (县级处理中心).

Shapefiles are CGCS2000 3-degree Gauss–Krüger zone 38 (EPSG:4547) with GBK-encoded DBFs,
as planning departments hand them out. Population: each county's 2020 census urban
population is divided among its communities and its rural population among its villages,
in proportion to the 2000 population of the township's host polygon per 2023 township,
with seeded ±30 % variation, rounded so the sums are exact. Every feature carries
``GENERATED = 1``; every file name and header says generated. The same seed gives
byte-identical files; a folder already generated with the same seed and generator version
is reused.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from siting._atomic import staging
from siting.config import discovery
from siting.readers import coords, layers
from siting.readers import frame as frame_mod
from siting.synth import _roadgen
from siting.synth._roadgen import OsmWriter

log = logging.getLogger(__name__)

VERSION = 5
SEED = 2021
CRS = "EPSG:4547"
DENSITY = {"street": 12_000.0, "town": 6_000.0, "township": 4_000.0, "other": 6_000.0}
PEOPLE_PER_AREA = 3_000
BLOCK_M = 200.0
PLAN_2020 = {"postal": 244, "express": 2_500, "compartments": 520_000}
BANK_SIZES = (48, 60, 72, 96, 120)   # compartments of the existing banks generated
GCJ_SHARE = 0.2
GAP_SHARE = 0.01
GAP_CLEARANCE_M = 400.0
STEP_M = {"county": 60.0, "village": 40.0, "street": 50.0}  # OSM-like node spacing on roads
FILES = ("townships.shp", "villages.shp", "areas.shp", "roads.osm", "facilities.csv")
KIND_ZH = {"village": "村", "community": "社区"}
BRANDS = ("中通", "圆通", "申通", "韵达", "顺丰", "京东", "极兔", "邮政")
PLACE_WORDS = ("幸福", "阳光", "锦绣", "金色", "翠竹", "康桥", "和谐", "正商", "建业", "绿城",
               "鑫苑", "永威", "美景", "亚星", "名门", "昌建", "升龙", "海马", "碧桂", "瀚海")


def apportion(total: int, weights: np.ndarray) -> np.ndarray:
    """Integers summing to ``total`` in proportion to ``weights`` (largest remainder)."""
    w = np.asarray(weights, dtype=float)
    if total <= 0 or len(w) == 0 or w.sum() <= 0:
        return np.zeros(len(w), dtype=np.int64)
    exact = total * w / w.sum()
    base = np.floor(exact).astype(np.int64)
    short = total - int(base.sum())
    order = np.lexsort((np.arange(len(w)), -(exact - base)))
    base[order[:short]] += 1
    return base


def _rng(seed: int, *keys: int | str) -> np.random.Generator:
    """A generator keyed by the seed and names (stable across runs and platforms)."""
    ints = [seed] + [int(hashlib.sha256(str(k).encode()).hexdigest()[:8], 16) for k in keys]
    return np.random.default_rng(ints)


def sample_inside(poly: shapely.Geometry, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` uniform random points inside a polygon (rejection sampling)."""
    minx, miny, maxx, maxy = poly.bounds
    out: list[np.ndarray] = []
    got = 0
    while got < n:
        k = max(64, 2 * (n - got))
        xy = np.column_stack([rng.uniform(minx, maxx, k), rng.uniform(miny, maxy, k)])
        ok = xy[shapely.contains_xy(poly, xy[:, 0], xy[:, 1])]
        out.append(ok)
        got += len(ok)
        if len(out) > 200 and got == 0:
            raise ValueError("polygon too thin to sample")
    return np.concatenate(out)[:n]


def partition(poly: shapely.Geometry, k: int, rng: np.random.Generator,
              ) -> list[shapely.Geometry]:
    """Divide a polygon into ``k`` compact cells (seeded k-means + Voronoi), in reading order.

    The cells cover the polygon and do not overlap; they are returned sorted north to south,
    then west to east, so that codes assigned in order read like a map.
    """
    if k <= 0:
        return []
    if k == 1:
        return [poly]
    pts = sample_inside(poly, max(400, 40 * k), rng)
    centres = pts[rng.choice(len(pts), size=k, replace=False)]
    for _ in range(10):
        _, lab = cKDTree(centres).query(pts)
        for c in range(k):
            mine = pts[lab == c]
            if len(mine):
                centres[c] = mine.mean(axis=0)
    centres += rng.normal(0.0, 1e-3, centres.shape)       # no two centres coincide
    cells = shapely.voronoi_polygons(shapely.multipoints(centres), extend_to=poly,
                                     ordered=True)
    parts = [shapely.make_valid(shapely.intersection(c, poly)) for c in cells.geoms]
    parts = [_polygonal(p) for p in parts]
    order = sorted(range(k), key=lambda i: (-round(centres[i, 1], -2), centres[i, 0]))
    return [parts[i] for i in order]


def _polygonal(g: shapely.Geometry) -> shapely.Geometry:
    """Keep only the polygon parts of a geometry (intersections can leave slivers of lines)."""
    if g.geom_type in ("Polygon", "MultiPolygon"):
        return g
    polys = [p for p in getattr(g, "geoms", []) if p.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(polys) if polys else shapely.Polygon()


@dataclass
class _Town:
    """One 2023 township while it is being generated."""

    code: str
    name: str
    kind: str
    host: str
    rule: str
    polygon: shapely.Geometry
    seat: np.ndarray
    communities: pd.DataFrame
    villages: pd.DataFrame
    urban_pop: int = 0
    rural_pop: int = 0
    patch: shapely.Geometry | None = None
    grid: dict[tuple[int, int], np.ndarray] = field(default_factory=dict)
    grid_edges: list[tuple[tuple[int, int], tuple[int, int]]] = field(default_factory=list)


@dataclass
class Generated:
    """A county's generated layers, in EPSG:4547, before writing."""

    county: pd.Series
    townships: gpd.GeoDataFrame
    villages: gpd.GeoDataFrame
    areas: gpd.GeoDataFrame
    roads: OsmWriter
    facilities: pd.DataFrame
    gaps: list[str]
    seed: int
    road_density: float = 1.0


def generate(county: str, cache: str | Path | None = None, *, seed: int = SEED,
             frame: frame_mod.Frame | None = None, force: bool = False,
             road_density: float = 1.0) -> Path:
    """Write (or reuse) the generated inputs of ``county`` and return their folder.

    Parameters
    ----------
    county
        Slug ('zhongmu'), NBS code ('410122') or Chinese name.
    cache
        The cache folder; files go to ``cache/<slug>/``. None: $SITING_CACHE, else the
        default (:func:`siting.config.discovery.cache_dir`).
    seed
        The generator's seed; the same seed gives byte-identical files.
    frame
        The real frame (loaded if not given).
    force
        Regenerate even when a folder with the same seed and version exists.
    road_density
        How much denser the urban street grids are than by default (see the module
        docstring); a value other than 1 writes to ``<cache>/<county>-roads<d>x/``.
    """
    if not (math.isfinite(road_density) and road_density >= 1.0):
        raise ValueError(f"road_density = {road_density}: give a number >= 1")
    code = frame_mod.slug_to_code(county)
    slug = frame_mod.COUNTIES[code][0]
    folder = slug if road_density == 1.0 else f"{slug}-roads{road_density:g}x"
    target = discovery.cache_dir(cache) / folder
    if not force and _cached(target, seed, road_density):
        log.info("generate %s: reusing %s (seed %d)", slug, target, seed)
        return target
    fr = frame or frame_mod.load()
    gen = build(fr, code, seed, road_density=road_density)
    with staging(target, kind="generated", label=slug) as tmp:
        write(gen, tmp)
    log.info("generate %s: %d townships, %d villages, %d communities, %d areas, "
             "%s road nodes, %d facilities -> %s", slug, len(gen.townships),
             int((gen.villages["KIND"] == "村").sum()),
             int((gen.villages["KIND"] == "社区").sum()), len(gen.areas),
             f"{len(gen.roads.xy):,}", len(gen.facilities), target)
    return target


def _cached(target: Path, seed: int, road_density: float = 1.0) -> bool:
    stamp = target / "GENERATED.json"
    if not stamp.is_file():
        return False
    try:
        meta = json.loads(stamp.read_text(encoding="utf-8"))
    except ValueError:
        return False
    files_ok = all((target / f).is_file() for f in FILES)
    return (files_ok and meta.get("seed") == seed and meta.get("version") == VERSION
            and meta.get("road_density", 1.0) == road_density)


def build(fr: frame_mod.Frame, code: str, seed: int, *,
          road_density: float = 1.0) -> Generated:
    """Generate a county in memory (see the module docstring for the rules)."""
    county = fr.county(code)
    polygons = fr.polygons.to_crs(CRS).set_index("gbcode")
    towns = _towns(fr, code, polygons, seed)
    _population(fr, county, towns, polygons, seed)
    villages = _committee_polygons(towns, seed)
    areas = _areas(towns, seed)
    roads, gaps = _roads(towns, villages, county, seed, road_density)
    facilities = _facilities(fr, county, towns, villages, areas, seed)
    townships = gpd.GeoDataFrame({
        "CODE": [t.code for t in towns], "NAME": [t.name for t in towns],
        "COUNTY": code, "KIND": [t.kind for t in towns],
        "POP": [t.urban_pop + t.rural_pop for t in towns],
        "URBAN_POP": [t.urban_pop for t in towns], "RURAL_POP": [t.rural_pop for t in towns],
        "HOST2000": [t.host for t in towns], "RULE": [t.rule for t in towns],
        "GENERATED": 1}, geometry=[t.polygon for t in towns], crs=CRS)
    return Generated(county, townships, villages, areas, roads, facilities, gaps, seed,
                     road_density)


def _towns(fr: frame_mod.Frame, code: str, polygons: gpd.GeoDataFrame, seed: int,
           ) -> list[_Town]:
    mine = fr.townships[fr.townships["county"] == code]
    cells: dict[str, shapely.Geometry] = {}
    for host in sorted(set(mine["host"])):
        held = fr.hosts[host]        # every 2023 township in this polygon, any county
        parts = partition(polygons.loc[host, "geometry"], len(held), _rng(seed, "host", host))
        cells.update(zip(held, parts, strict=True))
    committees = fr.committees
    out = []
    for row in mine.itertuples(index=False):
        poly = cells[row.code]
        seat = np.array(shapely.get_coordinates(poly.representative_point())[0])
        cm = committees[committees["township"] == row.code]
        out.append(_Town(row.code, row.name, row.kind, row.host, row.rule, poly, seat,
                         cm[cm["kind"] == "community"].reset_index(drop=True),
                         cm[cm["kind"] == "village"].reset_index(drop=True)))
    return out


def _population(fr: frame_mod.Frame, county: pd.Series, towns: list[_Town],
                polygons: gpd.GeoDataFrame, seed: int) -> None:
    """County census urban/rural totals → townships (host 2000 population per township)."""
    weight = np.array([polygons.loc[t.host, "pop2000"] / len(fr.hosts[t.host]) for t in towns])
    n_comm = np.array([len(t.communities) for t in towns])
    n_vill = np.array([len(t.villages) for t in towns])
    urban, rural = int(county["urban2020"]), int(county["rural2020"])
    if n_vill.sum() == 0:        # no village committee: its rural people live in communities
        urban, rural = urban + rural, 0
    if n_comm.sum() == 0:
        urban, rural = 0, urban + rural
    rng = _rng(seed, "pop", county["code"])
    u = apportion(urban, weight * n_comm * rng.uniform(0.7, 1.3, len(towns)))
    r = apportion(rural, weight * n_vill * rng.uniform(0.7, 1.3, len(towns)))
    for t, a, b in zip(towns, u, r, strict=True):
        t.urban_pop, t.rural_pop = int(a), int(b)


def _committee_polygons(towns: list[_Town], seed: int) -> gpd.GeoDataFrame:
    rows, geoms = [], []
    for t in towns:
        rng = _rng(seed, "committees", t.code)
        t.patch = _urban_patch(t)
        rural_land = t.polygon if t.patch is None else \
            _polygonal(shapely.difference(t.polygon, t.patch))
        if len(t.villages) and (rural_land.is_empty or rural_land.area < 1e4):
            t.patch = shapely.intersection(t.polygon, shapely.buffer(
                shapely.Point(t.seat), np.sqrt(0.5 * t.polygon.area / np.pi)))
            rural_land = _polygonal(shapely.difference(t.polygon, t.patch))
        for kind, members, land, pop in (("community", t.communities, t.patch, t.urban_pop),
                                         ("village", t.villages, rural_land, t.rural_pop)):
            if len(members) == 0:
                continue
            cells = partition(land, len(members), rng)
            people = apportion(pop, rng.uniform(0.7, 1.3, len(members)))
            for m, cell, p in zip(members.itertuples(index=False), cells, people, strict=True):
                rows.append({"CODE": m.code, "NAME": m.name, "TOWN_CODE": t.code,
                             "TOWN_NAME": t.name, "KIND": KIND_ZH[kind], "POP": int(p),
                             "GENERATED": 1})
                geoms.append(cell)
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=CRS)


def _urban_patch(t: _Town) -> shapely.Geometry | None:
    if len(t.communities) == 0:
        return None
    if len(t.villages) == 0:
        return t.polygon
    area = 1e6 * t.urban_pop / DENSITY.get(t.kind, 6_000.0)
    area = float(np.clip(area, 0.5e6, 0.7 * t.polygon.area))
    disk = shapely.buffer(shapely.Point(t.seat), np.sqrt(area / np.pi), quad_segs=16)
    return _polygonal(shapely.intersection(t.polygon, disk))


def _areas(towns: list[_Town], seed: int) -> gpd.GeoDataFrame:
    rows, geoms = [], []
    for t in towns:
        rng = _rng(seed, "areas", t.code)
        blocks = []
        if t.patch is not None and not t.patch.is_empty:
            t.grid, t.grid_edges = _roadgen.street_grid(t.seat, t.patch, BLOCK_M)
            blocks = _blocks(t, margin=20.0)
        n_r = int(np.ceil(t.urban_pop / PEOPLE_PER_AREA)) if blocks else 0
        n_b, n_a = (n_r + 4) // 5, n_r // 20
        seat_box = shapely.box(t.seat[0] + 40, t.seat[1] + 40, t.seat[0] + 160, t.seat[1] + 160)
        seat = f"{t.name}人民政府" if t.kind != "street" else f"{t.name}办事处"
        plan: list[tuple[Any, ...]] = [("A1", seat_box, seat)]
        near = [b for b in blocks if not b.intersects(seat_box)]
        for b in near[:n_b]:
            plan.append(("B1", b, f"{_word(rng)}商业广场"))
        rest = near[n_b:]
        if n_a and len(rest) > n_a:
            pick = rng.choice(len(rest), size=n_a, replace=False)
            for i in sorted(pick.tolist()):
                plan.append(("A1", rest[i], f"{_word(rng)}公共服务中心"))
            rest = [b for i, b in enumerate(rest) if i not in set(pick.tolist())]
        while len(rest) < n_r and rest and min(b.area for b in rest) > 4_000:
            rest = [q for b in rest for q in _quarters(b)]    # smaller blocks, more areas
        homes = rest[:n_r] if len(rest) >= n_r else rest
        people = apportion(t.urban_pop, rng.uniform(0.8, 1.2, len(homes)))
        for b, p in zip(homes, people, strict=True):
            plan.append(("R2", b, f"{_word(rng)}{_home_suffix(rng)}", int(p)))
        for k, item in enumerate(plan):
            cls, geom, name = item[0], item[1], item[2]
            pop = item[3] if len(item) > 3 else 0
            rows.append({"ID": f"{t.code}{k + 1:04d}", "NAME": name, "YDXZ": cls, "POP": pop,
                         "TOWN_CODE": t.code, "GENERATED": 1})
            geoms.append(geom)
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=CRS)


def _blocks(t: _Town, *, margin: float) -> list[shapely.Geometry]:
    """Street blocks of the grid (all four corners on the grid), nearest the seat first."""
    assert t.patch is not None
    keys = set(t.grid)
    cells = []
    for (i, j) in sorted(keys):
        if {(i + 1, j), (i, j + 1), (i + 1, j + 1)} <= keys:
            x0, y0 = t.grid[(i, j)]
            box = shapely.box(x0 + margin, y0 + margin, x0 + BLOCK_M - margin,
                              y0 + BLOCK_M - margin)
            if t.patch.contains(box):
                cells.append(((i + 0.5) ** 2 + (j + 0.5) ** 2, i, j, box))
    cells.sort(key=lambda c: c[:3])
    return [c[3] for c in cells]


def _quarters(box: shapely.Geometry, margin: float = 10.0) -> list[shapely.Geometry]:
    """A block split into four, with a lane between."""
    x0, y0, x1, y1 = box.bounds
    xm, ym = (x0 + x1) / 2, (y0 + y1) / 2
    return [shapely.box(a + margin / 2 * (a > x0), b + margin / 2 * (b > y0),
                        c - margin / 2 * (c < x1), d - margin / 2 * (d < y1))
            for a, b, c, d in ((x0, y0, xm, ym), (xm, y0, x1, ym), (x0, ym, xm, y1),
                               (xm, ym, x1, y1))]


def _word(rng: np.random.Generator) -> str:
    return PLACE_WORDS[int(rng.integers(len(PLACE_WORDS)))]


def _home_suffix(rng: np.random.Generator) -> str:
    return ("小区", "家园", "花园", "苑", "新村")[int(rng.integers(5))]


def _roads(towns: list[_Town], villages: gpd.GeoDataFrame, county: pd.Series, seed: int,
           road_density: float = 1.0) -> tuple[OsmWriter, list[str]]:
    osm = OsmWriter(CRS)
    rng = _rng(seed, "roads", county["code"])
    for t in towns:
        _grid_ways(osm, t, _rng(seed, "grid", t.code), road_density)
    seats = np.array([t.seat for t in towns])
    capital = int(np.argmax([t.urban_pop for t in towns]))
    for n, (a, b) in enumerate(_roadgen.spanning_edges(seats, extra_second_nearest=True)):
        hw = "secondary" if capital in (a, b) else "tertiary"
        osm.add(_roadgen.wiggle(seats[a], seats[b], rng, step=STEP_M["county"], amplitude=300),
                {"highway": hw, "name": f"县道X{n + 1:03d}", "ref": f"X{n + 1:03d}"})
    links, centres = _village_links(towns, villages)
    gaps = _choose_gaps(links, centres, rng)
    for a_xy, b_xy, name in links:
        if not (_touches(a_xy, b_xy, centres, gaps)):
            osm.add(_roadgen.wiggle(a_xy, b_xy, rng, step=STEP_M["village"], amplitude=120),
                    {"highway": "unclassified", "name": name})
    gaps = _confirm_gaps(osm, links, centres, gaps, rng)
    osm.finish()
    return osm, gaps


def _grid_ways(osm: OsmWriter, t: _Town, rng: np.random.Generator,
               road_density: float = 1.0) -> None:
    grid, edges, main_every = t.grid, t.grid_edges, 5
    if road_density != 1.0 and t.patch is not None and not t.patch.is_empty:
        f = math.sqrt(road_density)     # √d streets each way, their nodes √d closer
        grid, edges = _roadgen.street_grid(t.seat, t.patch, BLOCK_M / f)
        main_every = max(1, round(5 * f))
    names: dict[tuple[str, int], str] = {}
    for a, b in edges:
        axis, line = ("x", a[0]) if a[0] == b[0] else ("y", a[1])
        if (axis, line) not in names:
            names[(axis, line)] = _roadgen.road_name(rng, "路" if axis == "x" else "街")
        main = line % main_every == 0
        k = int(BLOCK_M // STEP_M["street"])
        osm.add(np.linspace(grid[a], grid[b], k + 1),
                {"highway": "secondary" if main else "residential",
                 "name": names[(axis, line)]})


def _village_centre(geom: shapely.Geometry) -> np.ndarray:
    """The village's demand point exactly as the reader will take it (in lon/lat)."""
    wgs = gpd.GeoSeries([geom], crs=CRS).to_crs("EPSG:4326").to_numpy()
    point = gpd.GeoSeries(layers.inner_point(wgs), crs="EPSG:4326").to_crs(CRS)
    return np.array(shapely.get_coordinates(point.iloc[0])[0])


Link = tuple[np.ndarray, np.ndarray, str]


def _village_links(towns: list[_Town], villages: gpd.GeoDataFrame,
                   ) -> tuple[list[Link], dict[str, np.ndarray]]:
    """Village roads (from, to, name), tree-shaped per township, and each village's centre."""
    vill = villages[villages["KIND"] == "村"]
    links: list[Link] = []
    centres: dict[str, np.ndarray] = {}
    for t in towns:
        mine = vill[vill["TOWN_CODE"] == t.code]
        if len(mine) == 0:
            continue
        pts = np.vstack([t.seat] + [_village_centre(g) for g in mine.geometry])
        centres.update(zip(mine["CODE"], pts[1:], strict=True))
        names = [""] + [frame_mod.stem(n).replace("村民委员会", "").replace("村委会", "")
                        for n in mine["NAME"]]
        for a, b in _roadgen.spanning_edges(pts):
            links.append((pts[a], pts[b], f"{names[max(a, b)]}村道"))
    return links, centres


def _key(p: np.ndarray) -> tuple[float, float]:
    return (round(float(p[0]), 1), round(float(p[1]), 1))


def _touches(a: np.ndarray, b: np.ndarray, centres: dict[str, np.ndarray],
             which: set[str] | list[str]) -> bool:
    ends = {_key(a), _key(b)}
    return any(_key(centres[v]) in ends for v in which)


def _wanted_gaps(centres: dict[str, np.ndarray]) -> int:
    n = len(centres)
    return max(1, round(GAP_SHARE * n)) if n >= 10 else 0


def _choose_gaps(links: list[Link], centres: dict[str, np.ndarray],
                 rng: np.random.Generator) -> list[str]:
    """Candidate villages to leave without their road: leaves of the village-road trees."""
    degree: dict[tuple[float, float], int] = {}
    for a, b, _ in links:
        for p in (a, b):
            degree[_key(p)] = degree.get(_key(p), 0) + 1
    leaves = sorted(v for v, c in centres.items() if degree.get(_key(c), 0) == 1)
    rng.shuffle(leaves)
    return leaves[: 3 * _wanted_gaps(centres)]


def _confirm_gaps(osm: OsmWriter, links: list[Link], centres: dict[str, np.ndarray],
                  candidates: list[str], rng: np.random.Generator) -> list[str]:
    """Keep as gaps only villages far from every road; give the others their road back."""
    want = _wanted_gaps(centres)
    net = osm.segments()
    kept = [v for v in candidates
            if shapely.distance(shapely.Point(centres[v]), net) > GAP_CLEARANCE_M][:want]
    for a, b, name in links:
        if _touches(a, b, centres, candidates) and not _touches(a, b, centres, kept):
            osm.add(_roadgen.wiggle(a, b, rng, step=STEP_M["village"], amplitude=120),
                    {"highway": "unclassified", "name": name})
    net = osm.segments()
    return sorted(v for v in kept
                  if shapely.distance(shapely.Point(centres[v]), net) > GAP_CLEARANCE_M)


def _facilities(fr: frame_mod.Frame, county: pd.Series, towns: list[_Town],
                villages: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, seed: int,
                ) -> pd.DataFrame:
    rng = _rng(seed, "facilities", county["code"])
    pops = fr.counties["pop2020"].to_numpy()
    k = int(np.flatnonzero(fr.counties["code"].to_numpy() == county["code"])[0])
    n_post = int(apportion(PLAN_2020["postal"], pops)[k])
    n_exp = int(apportion(PLAN_2020["express"], pops)[k])
    rows: list[tuple[str, str, np.ndarray]] = []
    capital = towns[int(np.argmax([t.urban_pop for t in towns]))]
    rows.append(("县级处理中心", f"{fr.county(county['code'])['short']}邮件处理中心",
                 capital.seat + np.array([0.0, -60.0])))
    by_pop = sorted(towns, key=lambda t: -(t.urban_pop + t.rural_pop))
    for t in by_pop[:n_post]:
        rows.append(("邮政营业网点", f"中国邮政{frame_mod.stem(t.name)}营业所", t.seat))
    urban_nodes = [(t, p) for t in towns for p in t.grid.values()]
    for _ in range(max(0, n_post - len(by_pop))):
        t, p = urban_nodes[int(rng.integers(len(urban_nodes)))] if urban_nodes else \
            (capital, capital.seat)
        rows.append(("邮政营业网点", f"中国邮政{frame_mod.stem(t.name)}支局", p))
    n_urban = round(n_exp * county["urban2020"] / county["pop2020"]) if urban_nodes else 0
    for _ in range(n_urban):
        t, p = urban_nodes[int(rng.integers(len(urban_nodes)))]
        rows.append(("快递网点", f"{_brand(rng)}快递{frame_mod.stem(t.name)}服务站", p))
    vill = villages[villages["KIND"] == "村"].reset_index(drop=True)
    w = vill["POP"].to_numpy(dtype=float)
    for _ in range(n_exp - n_urban):
        if len(vill) == 0 or w.sum() <= 0:
            break
        i = int(rng.choice(len(vill), p=w / w.sum()))
        rows.append(("快递网点", f"{_brand(rng)}快递{vill['NAME'][i][:6]}服务点",
                     _village_centre(vill.geometry[i])))
    n_plain = len(rows)
    banks = _existing_banks(fr, county, areas, rng)
    rows += [("智能快件箱", name, p) for name, p, _ in banks]
    compartments = [""] * n_plain + [str(c) for _, _, c in banks]
    xy = np.array([p for _, _, p in rows], dtype=float)
    angle = rng.uniform(0, 2 * np.pi, len(rows))
    dist = rng.uniform(10, 40, len(rows))
    xy += np.column_stack([np.cos(angle) * dist, np.sin(angle) * dist])
    lonlat = gpd.GeoSeries(gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=CRS).to_crs("EPSG:4326")
    lon, lat = lonlat.x.to_numpy().copy(), lonlat.y.to_numpy().copy()
    gcj = rng.uniform(size=len(rows)) < GCJ_SHARE
    glon, glat = coords.from_wgs84(lon[gcj], lat[gcj], "gcj02")
    lon[gcj], lat[gcj] = glon, glat
    return pd.DataFrame({
        "编号": [f"{county['code']}F{i + 1:05d}" for i in range(len(rows))],
        "名称": [r[1] for r in rows], "类型": [r[0] for r in rows],
        "经度": np.round(lon, 7), "纬度": np.round(lat, 7),
        "坐标系": np.where(gcj, "GCJ-02", "WGS84"), "格口数": compartments, "generated": 1})


def _existing_banks(fr: frame_mod.Frame, county: pd.Series, areas: gpd.GeoDataFrame,
                    rng: np.random.Generator) -> list[tuple[str, np.ndarray, int]]:
    """Existing locker banks: the county's share of 2020's 520,000 compartments.

    Shared out by urban population, in about half of the areas (more where more people live).
    """
    urban = fr.counties["urban2020"].to_numpy(dtype=float)
    k = int(np.flatnonzero(fr.counties["code"].to_numpy() == county["code"])[0])
    total = int(apportion(PLAN_2020["compartments"], urban)[k])
    if len(areas) == 0 or total == 0:
        return []
    chosen = np.flatnonzero(rng.uniform(size=len(areas)) < 0.5)
    if len(chosen) == 0:
        return []
    weight = np.maximum(areas["POP"].to_numpy(dtype=float)[chosen], 500.0)
    per_area = apportion(total, weight)
    out = []
    for i, budget in zip(chosen, per_area, strict=True):
        geom = areas.geometry.iloc[i]
        left = int(budget)
        while left >= BANK_SIZES[0]:
            size = int(rng.choice([s for s in BANK_SIZES if s <= left]))
            p = np.array(shapely.get_coordinates(geom.representative_point())[0])
            p = p + rng.uniform(-30, 30, 2)
            out.append((f"{areas['NAME'].iloc[i]}智能快件箱", p, size))
            left -= size
    return out


def _brand(rng: np.random.Generator) -> str:
    return BRANDS[int(rng.integers(len(BRANDS)))]


def write(gen: Generated, folder: Path) -> None:
    """Write the generated layers in the formats users supply."""
    for name, gdf in (("townships", gen.townships), ("villages", gen.villages),
                      ("areas", gen.areas)):
        path = folder / f"{name}.shp"
        gdf.to_file(path, driver="ESRI Shapefile", encoding="GBK", engine="pyogrio")
        _fix_dbf_date(path.with_suffix(".dbf"))
    gen.roads.write(folder / "roads.osm")
    gen.facilities.to_csv(folder / "facilities.csv", index=False, encoding="utf-8-sig",
                          lineterminator="\n")
    county = gen.county
    (folder / "README.txt").write_text(
        f"GENERATED DATA — NOT REAL. 生成数据，非真实数据。\n\n"
        f"{county['name']} ({county['code']}), made by `siting generate {county['slug']}` "
        f"(generator version {VERSION}, seed {gen.seed}) over the real administrative frame "
        "shipped with siting (siting/readers/_frame/; see siting/synth/generate.py for the "
        "rules).\n"
        + (f"Street grids {gen.road_density:g}x as dense as by default (road_density).\n"
           if gen.road_density != 1.0 else "")
        + f"Villages left without a road (OSM gap simulation): {', '.join(gen.gaps) or 'none'}\n",
        encoding="utf-8")
    meta: dict[str, object] = {"generated": True, "version": VERSION, "seed": gen.seed,
                               "county": county["code"]}
    if gen.road_density != 1.0:
        meta["road_density"] = float(gen.road_density)
    meta["files"] = {f: _sha256(folder / f) for f in FILES}
    (folder / "GENERATED.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n",
                                           encoding="utf-8")


def _fix_dbf_date(path: Path) -> None:
    """Stamp the DBF header's last-update date with the frame's date (2023-06-30), not today."""
    with path.open("r+b") as f:
        f.seek(1)
        f.write(bytes([123, 6, 30]))


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
