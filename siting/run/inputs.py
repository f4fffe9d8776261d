"""Read every input a scenario names: the road network, the demand units, existing sites.

Demand units from every source share one table (``Inputs.units``): OSM buildings, and the
features of the township, village/community and area layers, each with a ``layer``, a
``code``, a ``name``, a ``class``, a ``population``, a floor area (buildings), a demand
point (``x``/``y`` in the network's metric CRS and ``lon``/``lat``: a point inside the
polygon) and its polygon in WGS84. Problems in several files are reported together.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from siting._errors import InputError, ValidationError
from siting.config.scenario import Scenario
from siting.network import roads
from siting.readers import buildings as demand
from siting.readers import coords, facilities, layers, osm

log = logging.getLogger(__name__)

UNIT_COLUMNS = ["layer", "code", "name", "class", "population", "floor_m2", "x", "y", "lon",
                "lat"]


@dataclass(frozen=True)
class Inputs:
    """Everything read from the input files."""

    network: roads.RoadNetwork
    units: gpd.GeoDataFrame
    existing: pd.DataFrame
    files: list[dict[str, object]]
    notes: list[str] = field(default_factory=list)
    layer_info: dict[str, dict[str, object]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)   # for `siting validate` and the report


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def load(scenario: Scenario) -> Inputs:
    """Read and check all inputs of ``scenario``; raise one error listing every problem."""
    problems: list[str] = []
    got: dict[str, layers.LayerRead] = {}
    for role, cfg in (scenario.layers or {}).items():
        try:
            got[role] = layers.read(cfg, role)
        except ValidationError as e:
            problems.extend(e.problems)
        except InputError as e:
            problems.append(str(e))
    clip = _clip_area(got.get("townships"), scenario.network.clip_buffer_m)
    net = data = None
    try:
        net, data = _network(scenario, clip)
    except InputError as e:
        problems.append(str(e))
    if net is None and clip is not None and "townships" in got:
        problems[-1] = _layer_off(scenario, got["townships"], problems[-1])
    crs = net.crs if net is not None else _fallback_crs(got)
    existing, notes, warnings = _existing(scenario, data, crs, problems)
    if net is not None:
        problems += [p for role, g in got.items() for p in _far_from_roads(g, role, net)]
    if problems or net is None:
        raise ValidationError(problems)
    frames = [_layer_units(g, role, net.crs) for role, g in got.items()]
    info = {role: {"file": g.path.name, "encoding": g.encoding, "crs": g.crs,
                   "features": len(g.units), "repaired": g.repaired,
                   "unclassed_values": sorted(set(g.units.loc[g.units["class"] == "",
                                                              "raw_class"]))}
            for role, g in got.items()}
    notes += [f"{g.path.name}: {g.repaired} invalid polygon(s) repaired (make_valid)"
              for g in got.values() if g.repaired]
    if any(t.demand == "osm_buildings" for t in scenario.tiers.values()):
        assert data is not None
        frames.insert(0, _building_units(demand.buildings(data, scenario.buildings, net.crs)))
    units = pd.concat(frames, ignore_index=True) if frames else _building_units(None)
    units = gpd.GeoDataFrame(units, geometry="geometry", crs="EPSG:4326")
    missing = _missing_demand(scenario, units)
    if missing:       # before any distance is computed: a tier must have someone to serve
        raise ValidationError(missing)
    files = [{"role": role, "path": str(p), "bytes": p.stat().st_size, "sha256": sha256(p)}
             for role, p in scenario.input_files().items() if p.is_file()]
    return Inputs(net, units, existing, files, notes, info, warnings)


def _missing_demand(scenario: Scenario, units: pd.DataFrame) -> list[str]:
    """A problem for each tier none of whose demand units is in the inputs."""
    problems = []
    for name, cfg in scenario.tiers.items():
        served = units["layer"] == cfg.demand
        if cfg.classes:
            served &= units["class"].isin(list(cfg.classes))
        if served.any():
            continue
        layer = units[units["layer"] == cfg.demand]
        lc = (scenario.layers or {}).get(cfg.demand)
        if len(layer) == 0:
            where = f"the file named in [layers.{cfg.demand}]" if lc else "the OSM file"
            problems.append(f"tier '{name}': the {cfg.demand} input holds no feature. Check "
                            f"{where}.")
            continue
        values = sorted(set(layer["class"]) - {""})
        where = f" (field '{lc.class_field}' of {lc.path.name})" if lc and lc.class_field else ""
        problems.append(
            f"tier '{name}': no {cfg.demand} feature is of class {list(cfg.classes)}; the "
            f"classes found are {values or 'none'}{where}. Fix [layers.{cfg.demand}] classes "
            "so its values map to the classes the tier serves.")
    return problems


def _clip_area(towns: layers.LayerRead | None, buffer_m: float) -> shapely.Geometry | None:
    """The townships' outline buffered by ``buffer_m`` metres, in lon/lat (None: no clip)."""
    if towns is None or len(towns.units) == 0 or buffer_m <= 0:
        return None
    outline = gpd.GeoSeries([shapely.union_all(towns.units.geometry.to_numpy())],
                            crs="EPSG:4326")
    metric = outline.estimate_utm_crs()
    return outline.to_crs(metric).buffer(buffer_m).to_crs("EPSG:4326").iloc[0]


def _fallback_crs(got: dict[str, layers.LayerRead]) -> str:
    for g in got.values():
        if len(g.units):
            b = g.units.total_bounds
            return coords.metric_crs(np.array([b[0], b[2]]), np.array([b[1], b[3]]))
    return "EPSG:4547"


def _network(scenario: Scenario, clip: shapely.Geometry | None,
             ) -> tuple[roads.RoadNetwork, osm.OsmData | None]:
    path = scenario.network.osm
    if path.name.lower().endswith(".graphml"):
        return roads.from_graphml(path, clip=clip), None
    data = osm.read(path, clip=clip)
    return roads.from_ways(data.roads, data.path), data


FAR_M = 5000.0
"""A feature farther than this from every road is outside the study area (an error)."""


def _far_from_roads(got: layers.LayerRead, role: str, net: roads.RoadNetwork) -> list[str]:
    """Features of a layer outside the road network's area, by code and name.

    Such a feature (a township polygon moved to another city, a village in the wrong CRS)
    would silently get a site of its own far from the county, and its target would read
    met; it is refused. When no feature of the layer is near a road, one problem names the
    layer's extent instead.
    """
    polys = got.units.geometry.to_numpy()
    if len(polys) == 0:
        return []
    metric = shapely.transform(polys, lambda xy: np.column_stack(
        coords.project(xy[:, 0], xy[:, 1], net.crs)))
    tree = shapely.STRtree(shapely.points(net.x, net.y))
    near = np.zeros(len(polys), bool)
    near[tree.query_nearest(metric, max_distance=FAR_M, all_matches=False)[0]] = True
    if near.all():
        return []
    where = f"more than {FAR_M / 1000:g} km from every road of {net.source.name}"
    if not near.any():
        return [f"{got.path}: the whole {role} layer lies {where}: the layer's extent "
                f"({_extent(got.units.total_bounds)}) misses the road network's "
                f"({_extent((net.lon.min(), net.lat.min(), net.lon.max(), net.lat.max()))}). "
                f"Check the layer's coordinate system (its .prj or [layers.{role}] crs), or "
                "that the road file covers the county."]
    u = got.units
    return [f"{got.path}: feature {u['code'].iat[i]} ({u['name'].iat[i]}) of the {role} layer "
            f"lies {where}, outside the study area (at {_extent(polys[i].bounds)}); it would "
            "get a site of its own there. Fix its coordinates, or delete the feature if it is "
            "not part of the county." for i in np.flatnonzero(~near)[:20]]


def _extent(bounds: tuple[float, ...] | np.ndarray) -> str:
    w, s, e, n = (float(b) for b in bounds)
    return f"lon {w:.4f} to {e:.4f}, lat {s:.4f} to {n:.4f}"


def _layer_off(scenario: Scenario, towns: layers.LayerRead, problem: str) -> str:
    """The network's problem, naming the townships layer when its extent misses the roads."""
    if not problem.startswith(f"{scenario.network.osm}: no road"):
        return problem
    try:
        whole, _ = _network(scenario, None)
    except InputError:
        return problem                  # the file has no road anywhere: its own message
    return (f"{towns.path}: the townships layer ({_extent(towns.units.total_bounds)}) lies "
            f"outside the road network of {scenario.network.osm.name} "
            f"({_extent((whole.lon.min(), whole.lat.min(), whole.lon.max(), whole.lat.max()))})"
            f": no road is within {scenario.network.clip_buffer_m:g} m of it. Check the "
            "layer's coordinate system (its .prj or [layers.townships] crs), or that the road "
            "file covers the county.")


def _layer_units(got: layers.LayerRead, role: str, crs: str) -> pd.DataFrame:
    u = got.units
    lonlat = shapely.get_coordinates(layers.inner_point(u.geometry.to_numpy()))
    x, y = coords.project(lonlat[:, 0], lonlat[:, 1], crs)
    cls = u["class"].to_numpy()
    return pd.DataFrame({
        "layer": role, "code": u["code"].to_numpy(), "name": u["name"].to_numpy(),
        "class": cls, "population": u["population"].to_numpy(dtype=float), "floor_m2": 0.0,
        "x": x, "y": y, "lon": lonlat[:, 0], "lat": lonlat[:, 1],
        "geometry": u.geometry.to_numpy()})


def _building_units(b: gpd.GeoDataFrame | None) -> pd.DataFrame:
    if b is None or len(b) == 0:
        return pd.DataFrame({c: [] for c in [*UNIT_COLUMNS, "geometry"]})
    return pd.DataFrame({
        "layer": "osm_buildings", "code": b["osm_id"].astype(str).to_numpy(),
        "name": b["name"].fillna("").astype(str).to_numpy(), "class": b["class"].to_numpy(),
        "population": 0.0, "floor_m2": b["floor_m2"].to_numpy(dtype=float),
        "x": b["x"].to_numpy(), "y": b["y"].to_numpy(), "lon": b["lon"].to_numpy(),
        "lat": b["lat"].to_numpy(), "geometry": b.geometry.to_numpy()})


def _existing(scenario: Scenario, data: osm.OsmData | None, crs: str,
              problems: list[str]) -> tuple[pd.DataFrame, list[str], list[str]]:
    """Existing facilities, notes for the report, and warnings (facilities listed twice)."""
    tiers = list(scenario.tiers)
    parts: list[pd.DataFrame] = []
    notes: list[str] = []
    if scenario.existing.osm_post_offices and data is not None:
        parts.append(facilities.from_osm_post_offices(data, scenario.existing.osm_post_offices,
                                                      crs))
    if scenario.facilities is not None:
        try:
            df, notes = facilities.from_csv(scenario.facilities, tiers, crs)
            parts.append(df)
        except ValidationError as e:
            problems.extend(e.problems)
    if not parts:
        return (pd.DataFrame(columns=["osm_id", "name", "source", "lon", "lat", "x", "y"]),
                notes, [])
    out = pd.concat(parts, ignore_index=True)
    for t in tiers:
        col = f"existing_{t}"
        out[col] = out[col].astype("boolean").fillna(False).astype(bool) if col in out \
            else False
    out["osm_id"] = out["osm_id"].astype(str)
    file = scenario.facilities.path.name if scenario.facilities else scenario.network.osm.name
    out, twice = facilities.counted_once(out, file)
    return out, notes, twice


def unit_label(units: pd.DataFrame, i: int) -> str:
    """'410122100201 张庄村民委员会' — a unit's code and name for messages and reports."""
    name = units["name"].iat[i]
    return f"{units['code'].iat[i]} {name}".strip()


def points(units: pd.DataFrame, existing: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The points attached to the access graphs: demand units, then existing sites."""
    return (np.concatenate([units["x"].to_numpy(float), existing["x"].to_numpy(float)]),
            np.concatenate([units["y"].to_numpy(float), existing["y"].to_numpy(float)]))
