"""Township key figures: what each township has and what it reaches, from a run's results.

For every township polygon: the open sites of each tier inside it (new and existing), and
for each tier's demand units whose demand point lies inside it, how many are served — the
figures a district official reads on the map when hovering over a township, and the
citywide report sums.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from siting.run.results import RunResult


def townships(result: RunResult) -> gpd.GeoDataFrame:
    """One row per township of the run (empty without a townships layer).

    Columns: ``code``, ``name``, ``population``, then per tier ``<tier>_sites`` and
    ``<tier>_new`` (open sites inside), ``<tier>_units`` and ``<tier>_served`` (the tier's
    demand units inside and how many are served), and the polygon.
    """
    units = result.demand
    town = units[units["layer"] == "townships"]
    if len(town) == 0:
        return gpd.GeoDataFrame({"code": [], "name": []}, geometry=[], crs="EPSG:4326")
    polys = town.geometry.to_numpy()
    out = pd.DataFrame({"code": town["code"].to_numpy(), "name": town["name"].to_numpy(),
                        "population": town["population"].to_numpy()})
    site_pts = shapely.points(result.sites.lon, result.sites.lat)
    site_in = _containing(polys, site_pts)
    unit_pts = shapely.points(units["lon"].to_numpy(), units["lat"].to_numpy())
    unit_in = _containing(polys, unit_pts)
    for name, tier in result.tiers.items():
        outcome = result.outcomes[name]
        out[f"{name}_sites"] = _count(site_in, outcome.open, len(polys))
        out[f"{name}_new"] = _count(site_in, outcome.new, len(polys))
        rows = np.zeros(len(units), dtype=bool)
        rows[tier.rows] = True
        out[f"{name}_units"] = _count(unit_in, rows, len(polys))
        out[f"{name}_served"] = _count(unit_in, rows & outcome.served, len(polys))
    return gpd.GeoDataFrame(out, geometry=polys, crs="EPSG:4326")


def _containing(polys: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """For each point, the index of the polygon holding it (-1 if none)."""
    tree = shapely.STRtree(polys)
    p, g = tree.query(pts, predicate="within")
    out = np.full(len(pts), -1, dtype=np.int64)
    out[p] = g
    return out


def _count(where: np.ndarray, mask: np.ndarray, n: int) -> np.ndarray:
    sel = where[mask]
    return np.bincount(sel[sel >= 0], minlength=n)
