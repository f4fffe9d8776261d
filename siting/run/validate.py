"""Every check that can be made before solving, reported all at once.

``siting validate SCENARIO`` prints these findings; ``siting run`` makes the same checks
first and stops on any error. File-level problems (a missing or unreadable file, a field
that is not there, a bad row, a tier with no demand unit of its classes) are found while
reading (:mod:`siting.run.inputs`); the checks here look across the inputs once they are read:

- a count that the candidate and existing sites cannot reach, or a ``max_count`` below the
  existing sites;
- demand units and existing sites too far from any road to be attached (listed);
- demand units on a road fragment cut off from the main network (listed, with the
  fragment's size): only a site on the same fragment can serve them;
- villages and areas outside every township polygon, existing facilities outside the
  study area (listed by row);
- values of a layer's class field that no class takes (counted).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import cast

import numpy as np
import shapely
from scipy.sparse import csgraph

from siting.run import inputs
from siting.run.assemble import demand_rows, required_count
from siting.run.results import Prepared

log = logging.getLogger(__name__)

MAX_LISTED = 30


@dataclass
class Findings:
    """What the checks found: errors stop a run, warnings go into the report."""

    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def text(self) -> str:
        """The findings as an indented list."""
        lines = []
        for title, items in (("errors", self.errors), ("warnings", self.warnings)):
            if items:
                lines.append(f"{len(items)} {title[:-1] if len(items) == 1 else title}:")
                lines += [f"  - {x}" for x in items]
        return "\n".join(lines) if lines else "no problems found"


def diagnose(prep: Prepared) -> Findings:
    """Run every cross-input check on prepared inputs."""
    f = Findings(warnings=list(prep.inputs.warnings))
    _counts(prep, f)
    _unattached(prep, f)
    _fragments(prep, f)
    _outside_townships(prep, f)
    _facilities_outside(prep, f)
    _unclassed(prep, f)
    return f


def _listed(labels: list[str]) -> str:
    more = f" … and {len(labels) - MAX_LISTED} more" if len(labels) > MAX_LISTED else ""
    return ", ".join(labels[:MAX_LISTED]) + more


def _counts(prep: Prepared, f: Findings) -> None:
    s, sites = prep.scenario, prep.sites
    for name, cfg in s.tiers.items():
        need = required_count(s, cfg)
        existing = int(sites.existing[name].sum())
        if need > len(sites):
            f.errors.append(
                f"tier '{name}': at least {need:,} sites are required but only {len(sites):,} "
                "candidate and existing sites exist. Lower [tiers."
                f"{name}] {'count_from_plan' if cfg.count_from_plan else 'count'}, or allow "
                "more candidates ([candidates] junctions_only = false, min_spacing_m smaller).")
        if cfg.max_count is not None and cfg.max_count < existing:
            f.errors.append(f"tier '{name}': max_count = {cfg.max_count:,} is below the "
                            f"{existing:,} existing sites, which stay open. Raise "
                            f"[tiers.{name}] max_count.")


def _unattached(prep: Prepared, f: Findings) -> None:
    s, units, sites = prep.scenario, prep.inputs.units, prep.sites
    ex = sites.existing_sites()
    for mode, g in prep.graphs.items():
        rows = _road_rows(prep, mode)
        bad = [inputs.unit_label(units, i) for i in rows if g.node[i] < 0]
        if bad:
            f.warnings.append(
                f"{len(bad)} demand unit(s) farther than {s.network.max_snap_m:g} m from any "
                f"{mode} road, so no site can reach them (check that {s.network.osm.name} "
                f"covers them, or raise [network] max_snap_m): {_listed(bad)}")
        far = ex[g.node[sites.point[ex]] < 0]
        if len(far):
            f.warnings.append(
                f"{len(far)} existing site(s) farther than {s.network.max_snap_m:g} m from any "
                f"{mode} road serve no one by road: "
                f"{_listed([f'{sites.name[j]} ({sites.osm_id[j]})' for j in far])}")


def _road_rows(prep: Prepared, mode: str) -> np.ndarray:
    units = prep.inputs.units
    rows = [demand_rows(units, c) for c in prep.scenario.tiers.values()
            if c.reach == "road" and c.network == mode]
    return np.unique(np.concatenate(rows)) if rows else np.zeros(0, np.int64)


def _fragments(prep: Prepared, f: Findings) -> None:
    units = prep.inputs.units
    for mode, g in prep.graphs.items():
        count, label = csgraph.connected_components(g.graph, directed=False)
        road = label[: g.n_road]
        sizes = np.bincount(road, minlength=count)
        main = int(np.argmax(sizes))
        rows = _road_rows(prep, mode)
        rows = rows[g.node[rows] >= 0]
        cut = rows[label[g.node[rows]] != main]
        if len(cut) == 0:
            continue
        items = [f"{inputs.unit_label(units, i)} (fragment of "
                 f"{int(sizes[label[g.node[i]]])} road nodes)" for i in cut]
        f.warnings.append(
            f"{prep.scenario.network.osm.name}: the {mode} network has "
            f"{int((sizes > 0).sum())} separate pieces; {len(cut)} "
            f"demand unit(s) sit on a piece cut off from the main network of "
            f"{int(sizes[main]):,} nodes, so only a site on the same piece can serve them "
            f"(a missing road in the file?): {_listed(items)}")


def _outside_townships(prep: Prepared, f: Findings) -> None:
    s, units = prep.scenario, prep.inputs.units
    towns = units[units["layer"] == "townships"]
    if len(towns) == 0:
        return
    area = shapely.union_all(towns.geometry.to_numpy())
    shapely.prepare(area)
    others = units[units["layer"].isin(["villages", "areas"])]
    inside = shapely.contains_xy(area, others["lon"].to_numpy(), others["lat"].to_numpy())
    for layer in ("villages", "areas"):
        sel = np.flatnonzero(~inside & (others["layer"] == layer).to_numpy())
        if len(sel):
            labels = [inputs.unit_label(others, int(i)) for i in sel]
            f.warnings.append(
                f"{s.layer(layer).path.name}: {len(sel)} {layer} feature(s) lie outside every "
                f"township polygon of {s.layer('townships').path.name} (check the layers share "
                "one CRS and cover the same county): " + _listed(labels))


def _facilities_outside(prep: Prepared, f: Findings) -> None:
    ex = prep.inputs.existing
    units = prep.inputs.units
    towns = units[units["layer"] == "townships"]
    if len(towns) == 0 or len(ex) == 0 or "row" not in ex:
        return
    outline = shapely.buffer(shapely.union_all(towns.geometry.to_numpy()), 0.02)
    shapely.prepare(outline)
    out = ~shapely.contains_xy(outline, ex["lon"].to_numpy(float), ex["lat"].to_numpy(float))
    rows = ex[out & ex["row"].notna().to_numpy()]
    if len(rows):
        path = prep.scenario.facilities.path.name if prep.scenario.facilities else "facilities"
        items = [f"row {int(r.row)} ({r.name})" for r in rows.itertuples()]
        f.warnings.append(
            f"{path}: {len(rows)} facilities lie outside the county (more than ~2 km beyond "
            "its townships); check their coordinates and datum: " + _listed(items))


def _unclassed(prep: Prepared, f: Findings) -> None:
    s, units = prep.scenario, prep.inputs.units
    for role, cfg in (s.layers or {}).items():
        if not cfg.classes or not cfg.class_field:
            continue
        layer = units[units["layer"] == role]
        blank = layer[layer["class"] == ""]
        if len(blank):
            values = cast("list[str]",
                          prep.inputs.layer_info.get(role, {}).get("unclassed_values") or [])
            f.warnings.append(
                f"{cfg.path.name}: {len(blank)} feature(s) have a '{cfg.class_field}' value that "
                f"no class in [layers.{role}] classes takes ({_listed(list(values))}); they are "
                f"not demand. Add the values to [layers.{role}] classes if they should be "
                f"(e.g. {_listed(blank['code'].head(5).tolist())})")
