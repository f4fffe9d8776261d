"""The outputs' own tables, built from a run's typed results (:mod:`siting.run.results`).

The run passes arrays indexed by site and by unit; the files want rows. Here, once:

- :func:`open_sites`: one row per open facility and tier (``sites.csv``, the map's markers,
  the report's counts);
- :func:`demand_table`: the demand units with their per-tier columns
  (:func:`tier_columns`: ``<tier>_dist_m``, ``<tier>_served``, the serving site) for the
  GeoPackage; :func:`allocation_table` and :func:`allocation_lines`: who serves whom.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from siting.run.results import RunResult, TierOutcome

SITE_COLUMNS = ["site_id", "tier", "status", "name", "source", "osm_id", "township_code",
                "township", "village_code", "village", "road", "road_m", "lon", "lat", "datum",
                "gcj02_lon", "gcj02_lat", "bank_size", "compartments", "site_cost", "bank_cost",
                "colocation_saving", "cost", "reach_units", "served_units", "served_population",
                "served_compartments", "spare_compartments"]
"""``cost`` = ``site_cost`` + ``bank_cost`` − ``colocation_saving``: summed, the plan's cost."""


def open_sites(result: RunResult) -> pd.DataFrame:
    """One row per open facility (a site hosting two tiers gives two rows), tier by tier.

    Columns :data:`SITE_COLUMNS`: ``status`` is "existing" or "new"; where the site is
    (township, village or community, nearest named road, WGS84 and GCJ-02 lon/lat, blank
    without ``[report] gcj02``); a locker bank's size and compartments (blank for tiers
    without sizes); what the new site costs (0 for an existing one), its parts and the
    co-location saving; ``reach_units`` the tier's demand units the site reaches, what the
    allocation gives it (:mod:`siting.run.allocation`) and, for a bank, the compartments
    that leaves free.
    """
    frames = [_open_of_tier(result, name) for name in result.tiers]
    if not frames:
        return pd.DataFrame(columns=SITE_COLUMNS)
    out = pd.concat(frames, ignore_index=True)[SITE_COLUMNS]
    order = {t: i for i, t in enumerate(result.tiers)}
    out["_t"] = out["tier"].map(order)
    return out.sort_values(["_t", "site_id"], kind="stable").drop(columns="_t") \
        .reset_index(drop=True)


def _open_of_tier(result: RunResult, name: str) -> pd.DataFrame:
    sites, outcome, tier = result.sites, result.outcomes[name], result.tiers[name]
    sel = np.flatnonzero(outcome.open)
    status = np.where(outcome.existing[sel], "existing", "new")
    reach = np.diff(tier.cover.tocsc().indptr)[sel]
    alloc, price = outcome.allocation, outcome.costs
    return pd.DataFrame({
        "site_id": sites.site_id[sel], "tier": name, "status": status,
        "name": sites.name[sel], "source": sites.source[sel],
        "osm_id": sites.osm_id[sel].astype(str), **_placed(result, sel),
        **_bank(result, name, sel),
        "site_cost": price.site[sel], "bank_cost": price.bank[sel],
        "colocation_saving": price.colocation_saving[sel], "cost": price.total[sel],
        "reach_units": reach, "served_units": alloc.units[sel],
        "served_population": alloc.population[sel],
        "served_compartments": _or_blank(alloc.compartments, sel),
        "spare_compartments": _spare(outcome, sel)})


def _placed(result: RunResult, sel: np.ndarray) -> dict[str, object]:
    """Where the sites ``sel`` are: township, village, road, WGS84 and GCJ-02 lon/lat."""
    p, sites = result.placement, result.sites
    return {"township_code": p.township_code[sel], "township": p.township_name[sel],
            "village_code": p.unit_code[sel], "village": p.unit_name[sel],
            "road": p.road[sel], "road_m": p.road_m[sel],
            "lon": sites.lon[sel], "lat": sites.lat[sel], "datum": "WGS84",
            "gcj02_lon": _or_blank(p.gcj_lon, sel), "gcj02_lat": _or_blank(p.gcj_lat, sel)}


def _bank(result: RunResult, name: str, sel: np.ndarray) -> dict[str, object]:
    """A locker bank's size (its compartments) and the compartments open; NaN otherwise."""
    outcome, sizes = result.outcomes[name], result.tiers[name].config.sizes
    of_size = np.array([float(b.compartments) for b in sizes] + [np.nan])
    size = outcome.bank_size[sel]
    return {"bank_size": of_size[np.where(size >= 0, size, len(sizes))] if sizes
            else np.full(len(sel), np.nan),
            "compartments": _or_blank(outcome.compartments, sel)}


def _spare(outcome: TierOutcome, sel: np.ndarray) -> np.ndarray:
    """A bank's compartments its allocated parcels leave free; NaN for a tier without banks."""
    served = outcome.allocation.compartments
    if outcome.compartments is None or served is None:
        return np.full(len(sel), np.nan)
    return np.maximum(np.asarray(outcome.compartments, float)[sel] - served[sel], 0.0)


def _or_blank(values: np.ndarray | None, sel: np.ndarray) -> np.ndarray:
    """``values[sel]``, or NaN for each row when there are no values."""
    return np.full(len(sel), np.nan) if values is None else np.asarray(values, float)[sel]


def served_column(outcome: TierOutcome) -> pd.arrays.BooleanArray:
    """(n_units,) served or not, missing (NA) where the unit is not the tier's demand."""
    return pd.arrays.BooleanArray(outcome.served.copy(), ~outcome.applies)


def tier_columns_of(tier: str) -> list[str]:
    """The names of :func:`tier_columns` for ``tier``."""
    return [f"{tier}_dist_m", f"{tier}_served", f"{tier}_site", f"{tier}_site_m"]


def tier_columns(outcome: TierOutcome, site_id: np.ndarray) -> dict[str, object]:
    """A tier's per-unit columns, the serving site's included.

    ``<tier>_dist_m`` (NaN: not measured), ``<tier>_served``, ``<tier>_site`` (the serving
    site's id, "" none) and ``<tier>_site_m`` (road metres to it).
    """
    site = outcome.allocation.site
    return {f"{outcome.name}_dist_m": outcome.dist_m,
            f"{outcome.name}_served": served_column(outcome),
            f"{outcome.name}_site": np.where(site >= 0, site_id[np.maximum(site, 0)], ""),
            f"{outcome.name}_site_m": outcome.allocation.dist_m}


def demand_table(result: RunResult) -> gpd.GeoDataFrame:
    """The demand units as read, then every tier's :func:`tier_columns`, in tier order."""
    cols: dict[str, object] = {}
    for outcome in result.outcomes.values():
        cols.update(tier_columns(outcome, result.sites.site_id))
    return result.demand.assign(**cols)


def allocation_table(result: RunResult) -> pd.DataFrame:
    """One row per demand unit and tier: the unit, its serving site (blank: none) and distance.

    Columns ``tier``, ``unit`` (row in ``RunResult.demand``), ``code``, ``name``, ``layer``,
    ``population``, ``served``, ``site`` (row in ``Sites``, -1 none), ``site_id``, ``dist_m``.
    """
    frames = []
    dem = result.demand
    for name, outcome in result.outcomes.items():
        rows = np.flatnonzero(outcome.applies)
        site = outcome.allocation.site[rows]
        frames.append(pd.DataFrame({
            "tier": name, "unit": rows, "code": dem["code"].to_numpy()[rows],
            "name": dem["name"].to_numpy()[rows], "layer": dem["layer"].to_numpy()[rows],
            "population": dem["population"].to_numpy(float)[rows],
            "served": outcome.served[rows], "site": site,
            "site_id": np.where(site >= 0, result.sites.site_id[np.maximum(site, 0)], ""),
            "dist_m": outcome.allocation.dist_m[rows]}))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def allocation_lines(result: RunResult) -> gpd.GeoDataFrame:
    """:func:`allocation_table`'s allocated rows as lines, demand point → serving site.

    A unit served by a site on its own demand point (a door candidate) draws no line: a
    line of length 0 is no valid geometry. The demand layer's ``<tier>_site`` still names it.
    """
    table = allocation_table(result)
    if len(table) == 0:
        return gpd.GeoDataFrame(table, geometry=[], crs="EPSG:4326")
    table = table[table["site"] >= 0].reset_index(drop=True)
    dem, sites = result.demand, result.sites
    u, s = table["unit"].to_numpy(), table["site"].to_numpy()
    start = np.column_stack([dem["lon"].to_numpy(float)[u], dem["lat"].to_numpy(float)[u]])
    end = np.column_stack([sites.lon[s], sites.lat[s]])
    apart = ~np.all(np.isclose(start, end, rtol=0.0, atol=1e-9), axis=1)
    geom = shapely.linestrings(np.stack([start[apart], end[apart]], axis=1))
    return gpd.GeoDataFrame(table[apart].drop(columns=["unit", "site"]),
                            geometry=geom if len(geom) else [], crs="EPSG:4326")
