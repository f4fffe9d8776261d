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
    crs = net.crs if net is not None else _fallback_crs(got)
    existing, notes = _existing(scenario, data, crs, problems)
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
    return Inputs(net, units, existing, files, notes, info)


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
              problems: list[str]) -> tuple[pd.DataFrame, list[str]]:
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
        return pd.DataFrame(columns=["osm_id", "name", "source", "lon", "lat", "x", "y"]), notes
    out = pd.concat(parts, ignore_index=True)
    for t in tiers:
        col = f"existing_{t}"
        out[col] = out[col].astype("boolean").fillna(False).astype(bool) if col in out \
            else False
    out["osm_id"] = out["osm_id"].astype(str)
    return out, notes


def unit_label(units: pd.DataFrame, i: int) -> str:
    """'410122100201 张庄村民委员会' — a unit's code and name for messages and reports."""
    name = units["name"].iat[i]
    return f"{units['code'].iat[i]} {name}".strip()


def points(units: pd.DataFrame, existing: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The points attached to the access graphs: demand units, then existing sites."""
    return (np.concatenate([units["x"].to_numpy(float), existing["x"].to_numpy(float)]),
            np.concatenate([units["y"].to_numpy(float), existing["y"].to_numpy(float)]))
