"""Write a run's files into its output folder, all or nothing.

Every file is written into a fresh temporary folder beside the target; only when all of
them are complete does the temporary folder replace the old one. A run that fails half-way
leaves the previous outputs exactly as they were.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from siting._atomic import staging
from siting.outputs import labels, report, report_html, webmap
from siting.run.pipeline import RunResult

log = logging.getLogger(__name__)

FILES = ("map.html", "sites.gpkg", "sites.csv", "report.json", "report.md", "report.html")


def write_all(result: RunResult, out_dir: Path) -> list[Path]:
    """Write every output of ``result`` into ``out_dir`` atomically; return the file paths."""
    writers: dict[str, Callable[[RunResult, Path], None]] = {
        "sites.csv": write_csv, "sites.gpkg": write_gpkg, "report.json": report.write_json,
        "report.md": report.write_markdown, "report.html": report_html.write,
        "map.html": webmap.write}
    with staging(out_dir) as tmp:
        for name, writer in writers.items():
            writer(result, tmp / name)
    files = [out_dir / n for n in FILES]
    log.info("outputs: %s", ", ".join(str(f) for f in files))
    return files


def site_table(result: RunResult) -> pd.DataFrame:
    """The open facilities, one row per site and tier, with words in the run's language."""
    lang = result.scenario.lang
    rows = result.open_rows()
    rows.insert(2, "tier_name", [labels.t(t, lang) for t in rows["tier"]])
    rows.insert(4, "status_name", [labels.t(s, lang) for s in rows["status"]])
    rows["lon"] = rows["lon"].round(7)
    rows["lat"] = rows["lat"].round(7)
    rows["cost"] = rows["cost"].round(2)
    if any(c.startswith("compartments_") for c in result.sites.columns):
        rows["compartments"] = _compartments(result, rows)   # what `siting check` reads
    rows["generated"] = int(result.generated)
    return rows


def _compartments(result: RunResult, rows: pd.DataFrame) -> pd.Series:
    """Each locker bank's compartments (blank for the tiers without sizes)."""
    by_site = result.sites.set_index("site_id")
    got = [by_site.at[s, f"compartments_{t}"] if f"compartments_{t}" in by_site else np.nan
           for s, t in zip(rows["site_id"], rows["tier"], strict=True)]
    return pd.Series(np.round(np.asarray(got, float)), index=rows.index).astype("Int64")


def write_csv(result: RunResult, path: Path) -> None:
    """``sites.csv``: UTF-8 with a byte-order mark, so Excel shows Chinese."""
    site_table(result).to_csv(path, index=False, encoding="utf-8-sig", lineterminator="\n")


def write_gpkg(result: RunResult, path: Path) -> None:
    """``sites.gpkg``: layers ``sites`` (points) and ``demand`` (polygons), WGS84."""
    rows = site_table(result)
    sites = gpd.GeoDataFrame(rows, geometry=gpd.points_from_xy(rows["lon"], rows["lat"]),
                             crs="EPSG:4326")
    sites.to_file(path, layer="sites", driver="GPKG", engine="pyogrio")
    dem = result.demand.drop(columns=["x", "y"]).copy()
    for col in [c for c in dem.columns if c.endswith("_served")]:
        dem[col] = pd.array([None if v is None else bool(v) for v in dem[col]], dtype="boolean")
    dem["generated"] = np.int8(result.generated)
    dem.to_file(path, layer="demand", driver="GPKG", engine="pyogrio")
