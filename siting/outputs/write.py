"""Write a run's files into its output folder, all or nothing.

Every file is written into a fresh temporary folder; only when all of them are complete do
they replace the old ones. A run that fails half-way leaves the previous outputs exactly as
they were; a folder siting did not make is never replaced (see :mod:`siting._atomic`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from siting._atomic import staging
from siting.outputs import labels, report, report_html, tables, webmap
from siting.run.results import RunResult

log = logging.getLogger(__name__)

FILES = ("map.html", "sites.gpkg", "sites.csv", "report.json", "report.md", "report.html")


def write_all(result: RunResult, out_dir: Path) -> list[Path]:
    """Write every output of ``result`` into ``out_dir`` atomically; return the file paths."""
    writers: dict[str, Callable[[RunResult, Path], None]] = {
        "sites.csv": write_csv, "sites.gpkg": write_gpkg, "report.json": report.write_json,
        "report.md": report.write_markdown, "report.html": report_html.write,
        "map.html": webmap.write}
    with staging(out_dir, kind="run", label=result.scenario.name) as tmp:
        for name, writer in writers.items():
            writer(result, tmp / name)
    files = [out_dir / n for n in FILES]
    log.info("outputs: %s", ", ".join(str(f) for f in files))
    return files


def site_table(result: RunResult) -> pd.DataFrame:
    """The open facilities, one row per site and tier, with words in the run's language."""
    lang = result.scenario.lang
    rows = tables.open_sites(result)
    rows.insert(2, "tier_name", [labels.t(t, lang) for t in rows["tier"]])
    rows.insert(4, "status_name", [labels.t(s, lang) for s in rows["status"]])
    rows["lon"] = rows["lon"].round(7)
    rows["lat"] = rows["lat"].round(7)
    rows["cost"] = rows["cost"].round(2)
    if any(o.compartments is not None for o in result.outcomes.values()):
        rows["compartments"] = _compartments(result, rows)   # what `siting check` reads
    rows["generated"] = int(result.generated)
    return rows


def _compartments(result: RunResult, rows: pd.DataFrame) -> pd.Series:
    """Each locker bank's compartments (blank for the tiers without sizes)."""
    index = {sid: i for i, sid in enumerate(result.sites.site_id)}
    got = [np.nan if (c := result.outcomes[t].compartments) is None else c[index[s]]
           for s, t in zip(rows["site_id"], rows["tier"], strict=True)]
    return pd.Series(np.round(np.asarray(got, float)), index=rows.index).astype("Int64")


def write_csv(result: RunResult, path: Path) -> None:
    """``sites.csv``: UTF-8 with a byte-order mark, so Excel shows Chinese.

    Text cells are :func:`neutralised` so that a spreadsheet never runs them as formulas.
    """
    rows = site_table(result)
    for col in rows.columns:
        if pd.api.types.is_string_dtype(rows[col]) or rows[col].dtype == object:
            rows[col] = rows[col].map(neutralised)
    rows.to_csv(path, index=False, encoding="utf-8-sig", lineterminator="\n")


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""What makes Excel, WPS or LibreOffice read a cell as a formula (CSV injection)."""


def neutralised(value: object) -> object:
    """A text cell that a spreadsheet would run as a formula, prefixed with an apostrophe.

    Numbers and other text pass unchanged: ``-3.5`` (an OSM id of ``-12``) stays as it is,
    ``=HYPERLINK(…)`` becomes ``'=HYPERLINK(…)``, shown as text.
    """
    if isinstance(value, str) and value.startswith(FORMULA_START) \
            and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


_PLAIN_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")


def write_gpkg(result: RunResult, path: Path) -> None:
    """``sites.gpkg``: layers ``sites`` (points) and ``demand`` (polygons), WGS84."""
    rows = site_table(result)
    sites = gpd.GeoDataFrame(rows, geometry=gpd.points_from_xy(rows["lon"], rows["lat"]),
                             crs="EPSG:4326")
    sites.to_file(path, layer="sites", driver="GPKG", engine="pyogrio")
    dem = tables.demand_table(result).drop(columns=["x", "y"])
    dem["generated"] = np.int8(result.generated)
    dem.to_file(path, layer="demand", driver="GPKG", engine="pyogrio")
