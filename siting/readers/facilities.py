"""Existing facilities: fixed open at no cost, counted toward every target of their tiers."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from siting._errors import InputError, ValidationError
from siting.config.scenario import FacilitiesConfig
from siting.readers import coords
from siting.readers.coords import project
from siting.readers.osm import OsmData

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
    return name or operator         # blank: unnamed, worded by the outputs in the run's language


def from_csv(cfg: FacilitiesConfig, tiers: list[str], crs: str) -> tuple[pd.DataFrame, list[str]]:
    """Existing facilities from a CSV: converted to WGS84, typed to tiers; notes on the rest.

    Returns the facilities (``osm_id`` holds the CSV's id) and notes for the report (types
    not mapped to a tier). Rows whose coordinates are missing, not numbers, swapped or out of
    range are problems naming the file, the row and the fix (:class:`ValidationError`).
    """
    path = cfg.path
    df = _read_table(path)
    problems: list[str] = []
    cols = {"lon": cfg.lon, "lat": cfg.lat, "name": cfg.name, "id": cfg.id, "type": cfg.type}
    if cfg.datum_field:
        cols["datum_field"] = cfg.datum_field
    missing = [f"'{c}' (for {k})" for k, c in cols.items() if c not in df.columns]
    if missing:
        keys = ", ".join(k for k, c in cols.items() if c not in df.columns)
        raise InputError(f"{path}: no column {', '.join(missing)}; its columns are "
                         f"{', '.join(map(str, df.columns))}. Set [facilities] {keys} to the "
                         "right column names.")
    lon = np.array(pd.to_numeric(df[cfg.lon], errors="coerce"), dtype=float)
    lat = np.array(pd.to_numeric(df[cfg.lat], errors="coerce"), dtype=float)
    datum = _row_datums(df, cfg, path, problems)
    _check_coordinates(path, lon, lat, problems)
    if problems:
        raise ValidationError(problems)
    for d in ("gcj02", "bd09"):
        rows = datum == d
        if rows.any():
            lon[rows], lat[rows] = coords.to_wgs84(lon[rows], lat[rows], d)
    types = cfg.types or {}
    kind = df[cfg.type].fillna("").astype(str).str.strip().to_numpy()
    out = pd.DataFrame({"osm_id": df[cfg.id].astype(str).to_numpy(),
                        "name": df[cfg.name].fillna("").astype(str).to_numpy(),
                        "source": kind, "lon": lon, "lat": lat,
                        "row": np.arange(len(df)) + 2})
    if cfg.capacity:
        if cfg.capacity not in df.columns:
            raise InputError(f"{path}: no column '{cfg.capacity}' (for capacity); its columns "
                             f"are {', '.join(map(str, df.columns))}. Fix [facilities] "
                             "capacity.")
        cap = pd.to_numeric(df[cfg.capacity].replace("", np.nan), errors="coerce")
        value = cap.to_numpy(dtype=float)
        bad = np.flatnonzero(cap.notna().to_numpy() & ((value < 0) | np.isinf(value)))
        if len(bad):
            raise ValidationError([f"{path}: row {i + 2}: capacity '{df[cfg.capacity].iat[i]}' "
                                   "is negative or infinite. Give the compartments (格口数) as "
                                   "a number, or leave the cell blank." for i in bad[:20]])
        out["capacity"] = cap.to_numpy(dtype=float)
    out["x"], out["y"] = project(lon, lat, crs)
    for t in tiers:
        out[f"existing_{t}"] = [t in types.get(k, ()) for k in kind]
    notes = []
    unmapped = sorted(set(kind) - set(types))
    if unmapped:
        counts = {k: int((kind == k).sum()) for k in unmapped}
        notes.append(f"{path.name}: facility types not counted toward any tier (add them to "
                     f"[facilities] types to count them): "
                     + ", ".join(f"{k or '(blank)'} ×{v}" for k, v in counts.items()))
    log.info("existing: %d facilities from %s (%d converted from GCJ-02/BD-09)", len(out),
             path.name, int(np.isin(datum, ("gcj02", "bd09")).sum()))
    return out, notes


def _read_table(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise InputError(f"{path}: the facilities file is missing. Put it there or fix "
                         "[facilities] path in the scenario.")
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return pd.read_csv(path, dtype=str, encoding=enc, keep_default_na=False)
        except UnicodeDecodeError:
            continue
        except pd.errors.ParserError as e:
            raise InputError(f"{path}: not a readable CSV ({str(e).strip()}). Save it as CSV "
                             "(UTF-8 or GBK) with one header row.") from e
    raise InputError(f"{path}: neither UTF-8 nor GBK text. Save it as CSV in UTF-8.")


def _row_datums(df: pd.DataFrame, cfg: FacilitiesConfig, path: Path,
                problems: list[str]) -> np.ndarray:
    if not cfg.datum_field:
        return np.full(len(df), cfg.datum, dtype=object)
    out = np.empty(len(df), dtype=object)
    for i, text in enumerate(df[cfg.datum_field].astype(str)):
        d = coords.datum_name(text) if text.strip() else cfg.datum
        if d is None:
            problems.append(f"{path}: row {i + 2}: unknown datum '{text}' in column "
                            f"'{cfg.datum_field}'. Use WGS84, CGCS2000, GCJ-02 or BD-09.")
        out[i] = d or cfg.datum
    return out


def _check_coordinates(path: Path, lon: np.ndarray, lat: np.ndarray,
                       problems: list[str]) -> None:
    """Rows with unusable coordinates (row numbers as in a spreadsheet: header is row 1)."""
    for i in np.flatnonzero(~np.isfinite(lon) | ~np.isfinite(lat))[:20]:
        problems.append(f"{path}: row {i + 2}: longitude/latitude missing or not a number. "
                        "Fill in decimal degrees (e.g. 113.65, 34.75) or delete the row.")
    ok = np.isfinite(lon) & np.isfinite(lat)
    swapped = ok & (lon >= 3) & (lon <= 54) & (lat >= 73) & (lat <= 136)
    for i in np.flatnonzero(swapped)[:20]:
        problems.append(f"{path}: row {i + 2}: longitude {lon[i]:g} and latitude {lat[i]:g} "
                        "look swapped (China is at longitude 73–136, latitude 3–54). Swap the "
                        "two columns, or the [facilities] lon/lat names.")
    outside = ok & ~swapped & ((lon < 73) | (lon > 136) | (lat < 3) | (lat > 54))
    for i in np.flatnonzero(outside)[:20]:
        problems.append(f"{path}: row {i + 2}: ({lon[i]:g}, {lat[i]:g}) is not in China. Check "
                        "the coordinates (decimal degrees, not projected metres).")


def counted_once(ex: pd.DataFrame, file: str) -> tuple[pd.DataFrame, list[str]]:
    """Existing facilities listed more than once, merged into one; a warning per group.

    Two rows are one facility when they share an id (rows of the CSV) or when they are of
    one type and lie within :data:`SAME_PLACE_M` of each other (``x``/``y`` in metres). The
    first row is kept and counts, once, for every tier any of its copies counts for; the
    warning names the rows so that the user can delete the copies.
    """
    if len(ex) < 2:
        return ex, []
    group = _groups(ex)
    dup = pd.Series(group).duplicated(keep=False).to_numpy()
    if not dup.any():
        return ex, []
    ex = ex.copy()
    tiers = [c for c in ex.columns if c.startswith("existing_")]
    warnings = []
    for g in sorted(set(group[dup])):
        idx = np.flatnonzero(group == g)
        ex.loc[ex.index[idx[0]], tiers] = ex.iloc[idx][tiers].astype(bool).any().to_numpy()
        warnings.append(_duplicate_text(ex.iloc[idx], file))
    keep = ~pd.Series(group).duplicated(keep="first").to_numpy()
    log.warning("existing: %d duplicate facility rows merged", int((~keep).sum()))
    return ex[keep].reset_index(drop=True), warnings


SAME_PLACE_M = 1.0
"""Two facilities of one type closer than this (metres) are one facility listed twice."""


def _groups(ex: pd.DataFrame) -> np.ndarray:
    """A group number per row: rows of one group are copies of one facility."""
    from scipy.cluster.hierarchy import DisjointSet
    from scipy.spatial import cKDTree

    n = len(ex)
    sets = DisjointSet(range(n))
    csv = ex["row"].notna().to_numpy() if "row" in ex else np.zeros(n, bool)
    ids = ex["osm_id"].astype(str).to_numpy()
    first: dict[str, int] = {}
    for i in np.flatnonzero(csv & ~np.isin(np.char.strip(ids.astype(str)), ("", "nan"))):
        sets.merge(first.setdefault(ids[i], int(i)), int(i))
    xy = np.column_stack([ex["x"].to_numpy(float), ex["y"].to_numpy(float)])
    kind = ex["source"].astype(str).to_numpy()
    for i, j in cKDTree(xy).query_pairs(SAME_PLACE_M):
        if kind[i] == kind[j]:
            sets.merge(int(i), int(j))
    return np.array([min(sets.subset(i)) for i in range(n)])


def _duplicate_text(rows: pd.DataFrame, file: str) -> str:
    first = rows.iloc[0]
    where = [f"row {int(r.row)}" if pd.notna(getattr(r, "row", np.nan)) else f"OSM {r.osm_id}"
             for r in rows.itertuples()]
    return (f"{file}: {', '.join(where)} list one facility ({first['name']}, id "
            f"{first['osm_id']}, {first['source']}) {len(rows)} times (the same id, or the "
            f"same type within {SAME_PLACE_M:g} m); it is counted once per tier. Delete the "
            "extra rows.")
