"""Demand units: OSM buildings classed as residential, commercial or government/public.

Tag mapping (the first rule that applies wins):

1. **government/public** — ``building`` in government, public, civic, townhall,
   fire_station, school, university, college, kindergarten, hospital, train_station,
   transportation; or ``amenity`` in townhall, courthouse, police, fire_station,
   post_office, library, community_centre, social_facility, hospital, clinic, school,
   university, college, kindergarten; or ``office=government``; or any ``government=*``.
2. **commercial** — ``building`` in commercial, retail, office, supermarket, kiosk, hotel;
   or any ``shop=*`` or ``office=*``.
3. **residential** — ``building`` in residential, apartments, house, detached, dormitory,
   terrace, semidetached_house, bungalow, farm.
4. A building tagged only ``building=yes`` (or another value not above) takes the class
   of the land-use polygon holding its centre, when ``[buildings] landuse_fallback`` is on:
   ``landuse=residential`` → residential; ``commercial``/``retail`` → commercial;
   ``education``/``institutional``/``religious`` → government/public.
   Otherwise it is not a demand unit (sheds, garages, buildings of unknown use).

Floor area = footprint area (m², in the metric CRS) × storeys, storeys from
``building:levels`` (its first number) or ``[buildings] default_levels`` where missing.
"""

from __future__ import annotations

import logging
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from siting.config.scenario import BuildingConfig
from siting.readers.osm import OsmData

log = logging.getLogger(__name__)

_GOV_BUILDING = {"government", "public", "civic", "townhall", "fire_station", "school",
                 "university", "college", "kindergarten", "hospital", "train_station",
                 "transportation"}
_GOV_AMENITY = {"townhall", "courthouse", "police", "fire_station", "post_office", "library",
                "community_centre", "social_facility", "hospital", "clinic", "school",
                "university", "college", "kindergarten"}
_COM_BUILDING = {"commercial", "retail", "office", "supermarket", "kiosk", "hotel"}
_RES_BUILDING = {"residential", "apartments", "house", "detached", "dormitory", "terrace",
                 "semidetached_house", "bungalow", "farm"}
_LANDUSE = {"residential": "residential", "commercial": "commercial", "retail": "commercial",
            "education": "government", "institutional": "government",
            "religious": "government"}
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def classify(tags: dict[str, object]) -> str:
    """The demand class of one building from its own tags ('' when the tags do not say)."""
    building = str(tags.get("building", ""))
    amenity = str(tags.get("amenity", ""))
    office = str(tags.get("office", ""))
    if building in _GOV_BUILDING or amenity in _GOV_AMENITY or office == "government" \
            or tags.get("government"):
        return "government"
    if building in _COM_BUILDING or tags.get("shop") or office:
        return "commercial"
    if building in _RES_BUILDING:
        return "residential"
    return ""


def levels(value: object, default: float) -> float:
    """Storeys from a ``building:levels`` value ('6', '5;7', '3.5'), or ``default``."""
    m = _NUMBER.search(str(value or ""))
    n = float(m.group()) if m else 0.0
    return n if n > 0 else default


def buildings(data: OsmData, cfg: BuildingConfig, crs: str) -> gpd.GeoDataFrame:
    """Classed buildings with floor area and a demand point, in lon/lat.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per building of a known class: ``osm_id``, ``name``, ``building``,
        ``class``, ``levels``, ``footprint_m2``, ``floor_m2``, ``x``/``y`` and
        ``lon``/``lat`` (the demand point, inside the footprint, in ``crs`` and in WGS84),
        and the footprint geometry (EPSG:4326). Sorted by ``osm_id`` for reproducibility.
    """
    cols = ["osm_id", "name", "building", "class", "levels", "footprint_m2", "floor_m2", "x",
            "y",
            "lon", "lat"]
    if not data.buildings:
        return gpd.GeoDataFrame({c: [] for c in cols}, geometry=[], crs="EPSG:4326")
    gdf = gpd.GeoDataFrame(pd.DataFrame(data.buildings), geometry="geometry", crs="EPSG:4326")
    gdf["class"] = [classify(r) for r in data.buildings]
    if cfg.landuse_fallback and data.landuse:
        gdf["class"] = _landuse_class(gdf, data)
    gdf = gdf[gdf["class"] != ""].copy()
    metric = gdf.geometry.to_crs(crs)
    gdf["levels"] = [levels(v, cfg.default_levels) for v in gdf["building:levels"]]
    gdf["footprint_m2"] = metric.area.round(1)
    gdf["floor_m2"] = (gdf["footprint_m2"] * gdf["levels"]).round(1)
    point = metric.representative_point()
    gdf["x"], gdf["y"] = point.x.to_numpy(), point.y.to_numpy()
    lonlat = point.to_crs("EPSG:4326")
    gdf["lon"], gdf["lat"] = lonlat.x.to_numpy(), lonlat.y.to_numpy()
    gdf = gdf.sort_values("osm_id", kind="stable").reset_index(drop=True)
    counts = gdf["class"].value_counts()
    log.info("buildings: %s demand units (%s)", f"{len(gdf):,}",
             ", ".join(f"{k} {v:,}" for k, v in counts.items()))
    return gdf[[*cols, "geometry"]]


def _landuse_class(gdf: gpd.GeoDataFrame, data: OsmData) -> pd.Series:
    """Fill the class of untyped buildings from the land-use polygon holding their centre."""
    lu = gpd.GeoDataFrame(pd.DataFrame(data.landuse), geometry="geometry", crs="EPSG:4326")
    lu = lu[lu["landuse"].isin(list(_LANDUSE))]
    cls = gdf["class"].copy()
    todo = np.flatnonzero((cls == "").to_numpy())
    if len(lu) == 0 or len(todo) == 0:
        return cls
    centres = gdf.geometry.iloc[todo].representative_point()
    hit_pt, hit_lu = lu.sindex.query(centres, predicate="within")
    # the smallest land-use polygon wins where several overlap
    area = shapely.area(lu.geometry.to_numpy())[hit_lu]  # relative sizes only
    order = np.lexsort((area, hit_pt))
    first = np.ones(len(order), dtype=bool)
    first[1:] = hit_pt[order][1:] != hit_pt[order][:-1]
    pick_pt, pick_lu = hit_pt[order][first], hit_lu[order][first]
    values = cls.to_numpy().copy()
    values[todo[pick_pt]] = [_LANDUSE[v] for v in lu["landuse"].to_numpy()[pick_lu]]
    return pd.Series(values, index=cls.index)
