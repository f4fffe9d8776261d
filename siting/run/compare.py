"""Scenarios side by side: run outputs read back, and their sites matched (``siting compare``).

Each folder is the output of ``siting run`` or ``siting city`` (its ``report.json`` and
``sites.csv``). :func:`read` keeps what a comparison needs: the targets, the sites and cost
per tier, and the open sites. :func:`compare` matches the sites of each later folder against
the first's: a site is *kept* when the other plan opens one of the same tier (and county)
within ``tolerance_m`` of it, *removed* when none, and a site of the other plan left unmatched
is *added*. Matching is one to one, nearest pairs first (ties by site id), so the result does
not depend on the rows' order. The result is typed and has no words:
``siting.outputs.compare`` writes the report and the map from it.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from siting._errors import InputError

log = logging.getLogger(__name__)

EARTH_M = 6_371_009.0
"""The great-circle radius every length of siting is measured with."""
SITE_COLUMNS = ("county", "tier", "status", "site_id", "name", "township", "village", "lon",
                "lat", "cost")
"""The columns of a site table kept for a comparison."""


@dataclass(frozen=True)
class Target:
    """One target of a run as its report states it (the checker's numbers)."""

    key: str
    text: str
    required: float
    achieved: float
    met: bool | None


@dataclass(frozen=True)
class TierCost:
    """One tier's new and existing sites and its cost."""

    new: int
    existing: int
    cost: float


@dataclass(frozen=True)
class RunOutputs:
    """One output folder as read back: a county run or the city's report."""

    label: str
    folder: Path
    kind: str                       # "run" or "city"
    title: str
    lang: str
    generated: bool
    targets: tuple[Target, ...]
    tiers: dict[str, TierCost]
    cost_total: float
    sites: pd.DataFrame             # SITE_COLUMNS, one row per open site and tier


@dataclass(frozen=True)
class SiteDiff:
    """The sites of ``other`` against those of ``base``."""

    base: str
    other: str
    added: pd.DataFrame             # open in other only
    removed: pd.DataFrame           # open in base only
    kept: pd.DataFrame              # matched: base's columns, and moved_m


@dataclass(frozen=True)
class Comparison:
    """Every run, and each later run's sites against the first's."""

    runs: tuple[RunOutputs, ...]
    diffs: tuple[SiteDiff, ...]
    tolerance_m: float


def read(folder: Path, *, headers: dict[str, str], label: str | None = None) -> RunOutputs:
    """Read ``folder/report.json`` and ``folder/sites.csv`` (headed in either language).

    Raises
    ------
    InputError
        The folder holds no report or site table of siting's.
    """
    folder = Path(folder)
    report = _report(folder)
    sites = _sites(folder / "sites.csv", headers)
    city = "counties" in report
    targets = tuple(Target(str(t["key"]), str(t.get("target", t["key"])),
                           float(t["required"]), float(t["achieved"]), t.get("met"))
                    for t in report.get("targets", []) if t.get("unit") != "weight")
    tiers = {tier: TierCost(int(s["new"]), int(s["existing"]), float(s["cost"]))
             for tier, s in report.get("sites", {}).items()}
    total = report["cost_total"] if city else report.get("cost", {}).get("total", 0.0)
    generated = bool(report.get("generated_counties")) if city else \
        bool(report.get("generated_data"))
    return RunOutputs(label=label or str(report.get("scenario") or folder.name), folder=folder,
                      kind="city" if city else "run",
                      title=str(report.get("title") or folder.name),
                      lang=str(report.get("lang") or "zh"), generated=generated,
                      targets=targets, tiers=tiers, cost_total=float(total), sites=sites)


def _report(folder: Path) -> dict[str, Any]:
    path = folder / "report.json"
    if not path.is_file():
        raise InputError(f"{folder}: no report.json, so this is not the output folder of "
                         "`siting run` or `siting city`. Give folders those commands wrote, "
                         "e.g. maps/shangjie maps/shangjie-3km.")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise InputError(f"{path}: not readable JSON ({e}). Run the scenario again to "
                         "rewrite it.") from e
    if not isinstance(data, dict) or "targets" not in data or "sites" not in data:
        raise InputError(f"{path}: not a siting report (no targets or sites). Give the "
                         "output folder of `siting run` or `siting city`.")
    return data


def _sites(path: Path, headers: dict[str, str]) -> pd.DataFrame:
    if not path.is_file():
        raise InputError(f"{path.parent}: no sites.csv beside report.json. Run the scenario "
                         "again to rewrite its outputs.")
    rows = pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    rows = rows.rename(columns=headers)
    missing = [c for c in ("tier", "status", "site_id", "lon", "lat") if c not in rows]
    if missing:
        raise InputError(f"{path}: columns {missing} are missing (headers in Chinese or "
                         "English as siting writes them). Run the scenario again to rewrite "
                         "the file.")
    if "county" not in rows:
        rows["county"] = ""
    for col in SITE_COLUMNS:
        if col not in rows:
            rows[col] = ""
    out = rows[list(SITE_COLUMNS)].copy()
    for col in ("lon", "lat", "cost"):
        out[col] = pd.to_numeric(out[col], errors="coerce").fillna(0.0)
    return out.sort_values(["county", "tier", "site_id"], kind="stable").reset_index(drop=True)


def compare(runs: list[RunOutputs], *, tolerance_m: float = 5.0) -> Comparison:
    """Each later run's sites against the first run's."""
    if len(runs) < 2:
        raise InputError("siting compare needs at least two output folders, e.g. "
                         "`siting compare maps/a maps/b`.")
    base = runs[0]
    diffs = tuple(diff(base.sites, other.sites, tolerance_m=tolerance_m, base=base.label,
                       other=other.label) for other in runs[1:])
    for d in diffs:
        log.info("compare %s → %s: %d added, %d removed, %d kept", d.base, d.other,
                 len(d.added), len(d.removed), len(d.kept))
    return Comparison(tuple(runs), diffs, tolerance_m)


def diff(a: pd.DataFrame, b: pd.DataFrame, *, tolerance_m: float, base: str = "a",
         other: str = "b") -> SiteDiff:
    """Match the sites of ``b`` to those of ``a`` by tier (and county) and position."""
    kept_a: list[int] = []
    kept_b: list[int] = []
    moved: list[float] = []
    for key, ga in a.groupby(["county", "tier"], sort=True):
        gb = b[(b["county"] == key[0]) & (b["tier"] == key[1])]
        for i, j, d in match(ga, gb, tolerance_m):
            kept_a.append(int(ga.index[i]))
            kept_b.append(int(gb.index[j]))
            moved.append(d)
    kept = a.loc[kept_a].assign(other_site_id=b.loc[kept_b, "site_id"].to_numpy(),
                                moved_m=np.round(moved, 2))
    return SiteDiff(base, other, added=b.drop(index=kept_b), removed=a.drop(index=kept_a),
                    kept=kept.sort_index())


def match(a: pd.DataFrame, b: pd.DataFrame, tolerance_m: float) -> list[tuple[int, int, float]]:
    """One-to-one pairs (row of a, row of b, metres) within ``tolerance_m``, nearest first."""
    if len(a) == 0 or len(b) == 0:
        return []
    lat0 = float(np.radians(np.concatenate([a["lat"], b["lat"]]).mean()))
    xa, xb = _metres(a, lat0), _metres(b, lat0)
    near = cKDTree(xa).sparse_distance_matrix(cKDTree(xb), tolerance_m, output_type="ndarray")
    ids_a, ids_b = a["site_id"].to_numpy(), b["site_id"].to_numpy()
    order = sorted(((float(d), str(ids_a[i]), str(ids_b[j]), int(i), int(j))
                    for i, j, d in near), key=lambda r: r[:3])
    used_a: set[int] = set()
    used_b: set[int] = set()
    pairs = []
    for d, _, _, i, j in order:
        if i in used_a or j in used_b:
            continue
        used_a.add(i)
        used_b.add(j)
        pairs.append((i, j, d))
    return pairs


def _metres(rows: pd.DataFrame, lat0: float) -> np.ndarray:
    """Local east/north metres (equirectangular: exact enough within a few metres)."""
    lon = np.radians(rows["lon"].to_numpy(float))
    lat = np.radians(rows["lat"].to_numpy(float))
    return np.column_stack([EARTH_M * lon * np.cos(lat0), EARTH_M * lat])
