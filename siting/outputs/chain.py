"""The chain's outputs: one row per village (workbook sheet, report) and its lines (map, gpkg).

Built from the run's typed :class:`~siting.run.results.Chain`: the village, its village
outlet, that outlet's township outlet and its centre, and the road kilometres of each link
(village → village outlet, township outlet → village outlet, centre → township outlet) and
of the chain (centre → township outlet → village outlet). A line runs centre → township
outlet → village outlet, straight between them (the lengths are the roads').
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from siting.outputs import labels
from siting.run.results import Chain, RunResult


def table(result: RunResult) -> pd.DataFrame:
    """One row per village, longest chain first (a village with no chain first of all)."""
    c = result.chain
    if c is None:
        return pd.DataFrame()
    out = _rows(result, c)
    order = np.lexsort((out["code"].to_numpy(), -np.nan_to_num(c.chain_m, nan=np.inf)))
    return out.iloc[order].reset_index(drop=True)


def _rows(result: RunResult, c: Chain) -> pd.DataFrame:
    """One row per village, in the village tier's order."""
    lang = result.scenario.lang
    units = result.demand
    rows = c.villages
    out = pd.DataFrame({
        "code": units["code"].to_numpy()[rows].astype(str),
        "name": units["name"].to_numpy()[rows].astype(str),
        "village_outlet": _site_ids(result, c.village_site),
        "township_outlet": _site_ids(result, c.township_site),
        "centre": [_centre_name(c, int(k), lang) for k in c.centre],
        "outlet_km": np.round(c.outlet_m / 1000.0, 2),
        "township_km": np.round(c.township_m / 1000.0, 2),
        "centre_km": np.round(c.centre_m / 1000.0, 2),
        "chain_km": np.round(c.chain_m / 1000.0, 2)})
    if c.max_m is not None:
        out["beyond"] = [labels.t("beyond_mark", lang) if b else "" for b in c.beyond]
    return out


def _site_ids(result: RunResult, site: np.ndarray) -> list[str]:
    ids = result.sites.site_id
    return [str(ids[j]) if j >= 0 else "" for j in site]


def _centre_name(c: Chain, k: int, lang: str) -> str:
    if k < 0:
        return ""
    centre = c.centres[k]
    return centre.name or f"{labels.t('new_centre', lang)} {centre.site_id}"


def summary(result: RunResult) -> dict[str, Any] | None:
    """``report.json``'s ``chain``: counts, lengths, the centres and the villages beyond."""
    c = result.chain
    if c is None:
        return None
    km = c.chain_m / 1000.0
    ok = np.isfinite(km)
    lang = result.scenario.lang
    return {
        "villages": len(c.villages), "with_chain": int(ok.sum()),
        "max_chain_km": None if c.max_m is None else c.max_m / 1000.0,
        "beyond": int(c.beyond.sum()),
        "mean_km": float(km[ok].mean()) if ok.any() else None,
        "longest_km": float(km[ok].max()) if ok.any() else None,
        "centres": [{"site_id": x.site_id, "name": x.name or labels.t("new_centre", lang),
                     "source": x.source, "osm_id": x.osm_id, "lon": round(x.lon, 7),
                     "lat": round(x.lat, 7), "status": "existing" if x.existing else "new",
                     "townships": int(np.unique(c.township_site[c.centre == k]).size)}
                    for k, x in enumerate(c.centres)],
        "text": labels.Words(lang).fill(
            "chain_summary", n=len(c.villages), centres=len(c.centres),
            new=sum(not x.existing for x in c.centres),
            mean=float(km[ok].mean()) if ok.any() else 0.0,
            longest=float(km[ok].max()) if ok.any() else 0.0)}


def lines(result: RunResult) -> gpd.GeoDataFrame:
    """Centre → township outlet → village outlet, one line per village with a chain."""
    c = result.chain
    cols = ["code", "name", "village_outlet", "township_outlet", "centre", "township_km",
            "centre_km", "chain_km", "generated"]
    if c is None:
        return gpd.GeoDataFrame(columns=cols, geometry=[], crs="EPSG:4326")
    s = result.sites
    keep = np.flatnonzero(np.isfinite(c.chain_m))
    geoms = []
    for i in keep:
        k, tw, v = int(c.centre[i]), int(c.township_site[i]), int(c.village_site[i])
        geoms.append(shapely.LineString([(c.centres[k].lon, c.centres[k].lat),
                                         (s.lon[tw], s.lat[tw]), (s.lon[v], s.lat[v])]))
    rows = _rows(result, c).iloc[keep].reset_index(drop=True)
    rows["generated"] = np.int8(result.generated)
    return gpd.GeoDataFrame(rows[cols], geometry=geoms, crs="EPSG:4326")
