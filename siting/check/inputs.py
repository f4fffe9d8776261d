"""What ``siting check`` reads of a scenario: roads, demand units, existing facilities.

Everything comes through the file readers (:mod:`siting.readers`) and nothing else of the
model: the OSM road ways as read (clipped to the townships' outline like a run), every
demand unit with its code, name, class, population, floor area, demand point (lon/lat) and
polygon, and the existing facilities with their ids and compartments.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from siting._errors import InputError
from siting.config.scenario import Scenario
from siting.readers import buildings, coords, facilities, layers, osm

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CheckInputs:
    """The inputs of a scenario, as the checker sees them."""

    roads: osm.RoadWays
    crs: str                   # the metric CRS of the length convention (UTM of the roads)
    units: pd.DataFrame        # layer, code, name, class, population, floor_m2, lon, lat, geometry
    existing: pd.DataFrame     # osm_id, source (type), lon, lat, capacity (NaN: not given)

    def label(self, rows: np.ndarray) -> list[str]:
        """'code name' of the units at ``rows``, for the table."""
        u = self.units
        return [f"{u['code'].iat[i]} {u['name'].iat[i]}".strip() for i in rows]


def read(scenario: Scenario) -> CheckInputs:
    """Read the scenario's input files through the readers."""
    got = {role: layers.read(cfg, role) for role, cfg in (scenario.layers or {}).items()}
    path = scenario.network.osm
    if path.name.lower().endswith(".graphml"):
        raise InputError(f"{path}: siting check reads OSM files (.osm, .osm.pbf …), not a "
                         "saved GraphML graph. Point [network] osm at the OSM extract.")
    data = osm.read(path, clip=_outline(got.get("townships"), scenario.network.clip_buffer_m))
    crs = coords.metric_crs(data.roads.lon, data.roads.lat)
    frames = [_layer_units(g, role) for role, g in got.items()]
    if any(t.demand == "osm_buildings" for t in scenario.tiers.values()):
        frames.insert(0, _building_units(buildings.buildings(data, scenario.buildings, crs)))
    units = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["layer", "code", "name", "class", "population", "floor_m2", "lon", "lat",
                 "geometry"])
    existing = _existing(scenario, data, crs)
    log.info("check inputs: %s road segments, %s demand units, %s existing facilities",
             f"{len(data.roads.a):,}", f"{len(units):,}", f"{len(existing):,}")
    return CheckInputs(data.roads, crs, units.reset_index(drop=True), existing)


def _outline(towns: layers.LayerRead | None, buffer_m: float) -> shapely.Geometry | None:
    """The townships' union buffered by ``buffer_m`` metres (a run clips its roads so)."""
    if towns is None or len(towns.units) == 0 or buffer_m <= 0:
        return None
    union = gpd.GeoSeries([shapely.union_all(towns.units.geometry.to_numpy())],
                          crs="EPSG:4326")
    utm = union.estimate_utm_crs()
    return union.to_crs(utm).buffer(buffer_m).to_crs("EPSG:4326").iloc[0]


def _layer_units(got: layers.LayerRead, role: str) -> pd.DataFrame:
    u = got.units
    point = shapely.get_coordinates(layers.inner_point(u.geometry.to_numpy()))
    return pd.DataFrame({
        "layer": role, "code": u["code"].astype(str).to_numpy(), "name": u["name"].to_numpy(),
        "class": u["class"].to_numpy(), "population": u["population"].to_numpy(float),
        "floor_m2": 0.0, "lon": point[:, 0], "lat": point[:, 1],
        "geometry": u.geometry.to_numpy()})


def _building_units(b: gpd.GeoDataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "layer": "osm_buildings", "code": b["osm_id"].astype(str).to_numpy(),
        "name": b["name"].fillna("").astype(str).to_numpy(), "class": b["class"].to_numpy(),
        "population": 0.0, "floor_m2": b["floor_m2"].to_numpy(float),
        "lon": b["lon"].to_numpy(float), "lat": b["lat"].to_numpy(float),
        "geometry": b.geometry.to_numpy()})


def _existing(scenario: Scenario, data: osm.OsmData, crs: str) -> pd.DataFrame:
    parts = []
    if scenario.existing.osm_post_offices:
        parts.append(facilities.from_osm_post_offices(data, scenario.existing.osm_post_offices,
                                                      crs))
    if scenario.facilities is not None:
        parts.append(facilities.from_csv(scenario.facilities, list(scenario.tiers), crs)[0])
    cols = ["osm_id", "source", "lon", "lat", "capacity"]
    if not parts:
        return pd.DataFrame(columns=cols)
    out = pd.concat(parts, ignore_index=True)
    if "capacity" not in out:
        out["capacity"] = np.nan
    out["osm_id"] = out["osm_id"].astype(str)
    out["source"] = out["source"].astype(str)
    return out[cols]
