"""Existing facilities: fixed open at no cost, counted toward every target of their tiers."""

from __future__ import annotations

import logging

import pandas as pd

from siting.network import project
from siting.osm import OsmData

log = logging.getLogger(__name__)


def from_osm_post_offices(data: OsmData, tiers: tuple[str, ...], crs: str) -> pd.DataFrame:
    """OSM ``amenity=post_office`` nodes and areas as existing sites of ``tiers``."""
    rows = sorted(data.post_offices, key=lambda r: int(r["osm_id"]))  # type: ignore[call-overload]
    df = pd.DataFrame(rows, columns=["osm_id", "name", "operator", "lon", "lat"])
    df["name"] = [_label(r) for r in rows]
    df["source"] = "OSM post office"
    df["x"], df["y"] = project(df["lon"].to_numpy(), df["lat"].to_numpy(), crs)
    for t in tiers:
        df[f"existing_{t}"] = True
    log.info("existing: %d OSM post offices, counted as %s", len(df), ", ".join(tiers) or "-")
    return df.drop(columns=["operator"])


def _label(row: dict[str, object]) -> str:
    name, operator = str(row.get("name") or ""), str(row.get("operator") or "")
    if name and operator:
        return f"{name} ({operator})"
    return name or operator or "post office"
