"""A written plan as ``siting check`` reads it: the open sites and what the run claimed.

The sites come from ``sites.csv`` (one row per open site and tier, as Excel saves it) or
``sites.gpkg`` (its sites layer, 站点 or ``sites``: there a site's position is its point
geometry, so a locker moved in QGIS is checked where it now stands). The claims come from
``report.json`` (``targets[].met``); without it every target counts as claimed.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from siting._errors import InputError

log = logging.getLogger(__name__)

NEEDED = ("site_id", "tier", "status", "source", "osm_id", "lon", "lat")


@dataclass(frozen=True)
class Plan:
    """The open sites of a plan, one row per site and tier."""

    path: Path
    sites: pd.DataFrame                      # NEEDED columns, and 'compartments' when written
    claims: dict[str, bool | None] = field(default_factory=dict)   # target key -> met
    claimed_cost: float | None = None
    centres: pd.DataFrame = field(default_factory=pd.DataFrame)   # the run's new centres

    def of_tier(self, tier: str) -> pd.DataFrame:
        """The rows of one tier."""
        return self.sites[self.sites["tier"] == tier]


def find(outdir: Path) -> Path:
    """The plan file of an output folder (``sites.csv``, else ``sites.gpkg``), or a file."""
    if outdir.is_file():
        return outdir
    for name in ("sites.csv", "sites.gpkg"):
        if (outdir / name).is_file():
            return outdir / name
    raise InputError(f"{outdir}: no sites.csv or sites.gpkg in it. Give the output folder of "
                     "a `siting run` (e.g. maps/demo), or the edited sites file itself.")


def read(outdir: Path, *, headers: Mapping[str, str] | None = None) -> Plan:
    """Read the plan file and the claims of ``report.json`` beside it.

    ``headers`` maps a column header as written (``站点编号`` in a Chinese ``sites.csv``) to
    its key (``site_id``); the writer's words, given by the caller.
    """
    path = find(Path(outdir))
    sites = _gpkg(path) if path.suffix.lower() == ".gpkg" else _csv(path)
    sites = sites.rename(columns=dict(headers or {}))
    missing = [c for c in NEEDED if c not in sites.columns]
    if missing:
        raise InputError(f"{path}: no column {', '.join(missing)}. Keep the columns siting "
                         "wrote (edit rows and values, not the header).")
    sites = sites.astype({"site_id": str, "tier": str, "status": str, "source": str,
                          "osm_id": str})
    sites["osm_id"] = sites["osm_id"].str.removesuffix(".0")
    for col in ("lon", "lat"):
        sites[col] = pd.to_numeric(sites[col], errors="coerce")
    bad = sites.index[~np.isfinite(sites[["lon", "lat"]].to_numpy(float)).all(axis=1)]
    if len(bad):
        rows = ", ".join(f"row {i + 2} ({sites['site_id'].iat[i]})" for i in bad[:10])
        raise InputError(f"{path}: lon/lat not a number in {rows}. Give decimal degrees.")
    claims, cost = _claims(path.parent / "report.json")
    log.info("plan: %s site rows from %s", f"{len(sites):,}", path)
    return Plan(path, sites.reset_index(drop=True), claims, cost,
                _new_centres(path.parent / "report.json"))


def _new_centres(report: Path) -> pd.DataFrame:
    """The county centres the run sited (``report.json`` ``chain.centres``, status new).

    They are part of the plan like its sites; the existing centres come from the inputs.
    """
    cols = ["site_id", "source", "osm_id", "lon", "lat", "status"]
    if not report.is_file():
        return pd.DataFrame(columns=cols)
    chain = json.loads(report.read_text(encoding="utf-8")).get("chain") or {}
    rows = [c for c in chain.get("centres", []) if c.get("status") == "new"]
    return pd.DataFrame([{k: c.get(k) for k in cols} for c in rows], columns=cols)


def _csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, encoding="utf-8-sig", dtype={"osm_id": str, "site_id": str},
                       keep_default_na=False, na_values=[""])


def _gpkg(path: Path) -> pd.DataFrame:
    import geopandas as gpd

    layer = sites_layer(path)
    gdf = gpd.read_file(path, layer=layer, engine="pyogrio").to_crs("EPSG:4326")
    df = pd.DataFrame(gdf.drop(columns="geometry"))
    df["lon"], df["lat"] = gdf.geometry.x.to_numpy(), gdf.geometry.y.to_numpy()
    return df


def sites_layer(path: Path) -> str:
    """The layer of ``sites.gpkg`` that holds the sites: the point layer with their fields.

    Its name is in the run's language (站点, ``sites``); the checker finds it by its fields
    (:data:`NEEDED`, ``lon``/``lat`` aside: a site stands at its point).
    """
    import pyogrio

    found = []
    for name, geometry in pyogrio.list_layers(path):
        if geometry not in ("Point", "MultiPoint"):
            continue
        fields = set(pyogrio.read_info(path, layer=name)["fields"])
        if set(NEEDED) - {"lon", "lat"} <= fields:
            found.append(str(name))
    if len(found) != 1:
        what = "no point layer" if not found else f"{len(found)} point layers ({', '.join(found)})"
        raise InputError(f"{path}: {what} with the fields {', '.join(NEEDED[:5])}. Keep the "
                         "one sites layer siting wrote (edit its features, not its fields), "
                         "or check sites.csv instead.")
    return found[0]


def _claims(report: Path) -> tuple[dict[str, bool | None], float | None]:
    if not report.is_file():
        return {}, None
    try:
        data = json.loads(report.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise InputError(f"{report}: not readable JSON ({e}). Rerun `siting run`, or delete "
                         "it to check every target.") from e
    claims = {str(t["key"]): t.get("met") for t in data.get("targets", [])}
    total = (data.get("cost") or {}).get("total")
    return claims, None if total is None else float(total)
