"""The outputs' own tables, built from a run's typed results (:mod:`siting.run.results`).

The run passes arrays indexed by site and by unit; the files want rows. Here, once:

- :func:`open_sites`: one row per open facility and tier (``sites.csv``, the map's markers,
  the report's counts);
- :func:`demand_table`: the demand units with their per-tier columns
  (:func:`tier_columns`: ``<tier>_dist_m`` and ``<tier>_served``) for the GeoPackage.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from siting.run.results import RunResult, TierOutcome

SITE_COLUMNS = ["site_id", "tier", "status", "name", "source", "osm_id", "lon", "lat", "cost",
                "reach_units"]


def open_sites(result: RunResult) -> pd.DataFrame:
    """One row per open facility (a site hosting two tiers gives two rows), tier by tier.

    Columns :data:`SITE_COLUMNS`: ``status`` is "existing" or "new", ``cost`` the new site's
    cost (0 for an existing one), ``reach_units`` the tier's demand units the site reaches.
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
    return pd.DataFrame({
        "site_id": sites.site_id[sel], "tier": name, "status": status,
        "name": sites.name[sel], "source": sites.source[sel], "osm_id": sites.osm_id[sel],
        "lon": sites.lon[sel], "lat": sites.lat[sel],
        "cost": np.where(status == "new", tier.config.cost, 0.0), "reach_units": reach})


def served_column(outcome: TierOutcome) -> pd.arrays.BooleanArray:
    """(n_units,) served or not, missing (NA) where the unit is not the tier's demand."""
    return pd.arrays.BooleanArray(outcome.served.copy(), ~outcome.applies)


def tier_columns(outcome: TierOutcome) -> dict[str, object]:
    """A tier's per-unit columns: ``<tier>_dist_m`` (NaN: not measured), ``<tier>_served``."""
    return {f"{outcome.name}_dist_m": outcome.dist_m,
            f"{outcome.name}_served": served_column(outcome)}


def demand_table(result: RunResult) -> gpd.GeoDataFrame:
    """The demand units as read, then every tier's :func:`tier_columns`, in tier order."""
    cols: dict[str, object] = {}
    for outcome in result.outcomes.values():
        cols.update(tier_columns(outcome))
    return result.demand.assign(**cols)
