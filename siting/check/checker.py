"""The in-run checker: every target recomputed from the chosen sites and the access graphs.

It reads the run's access graphs but not the model, its coverage matrices or the solver's
claims. For a coverage target it runs one multi-source search (``csgraph.dijkstra`` with
``min_only``) from the open sites of the tier and measures each demand unit's distance to
its nearest open site; for an "inside" target (a township, a community, a village in
in-village mode) it tests which polygon holds each open site; for a count it counts open
sites. The report shows these results, not the solver's. ``siting check``
(:mod:`siting.check.command`) goes further: it rebuilds the graph and the snapping itself
from the input files.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
import shapely
from scipy.sparse import csgraph

from siting.check.verify import Finding

CHUNK = 64
"""Sources per dense Dijkstra block in the capacity check."""


@dataclass(frozen=True)
class CoverTarget:
    """Every demand unit within ``radius`` by road of an open site of ``tier``."""

    key: str
    tier: str
    text: str                  # what the target says, for the report
    graph: sp.csr_array        # the access graph of the tier's mode
    site_node: np.ndarray      # (n,) node of every site in ``graph`` (-1: unsnapped)
    demand_node: np.ndarray    # (d,) node of each demand unit in ``graph`` (-1: unsnapped)
    demand_id: np.ndarray      # (d,) labels for the report (codes or OSM ids)
    radius: float
    weight: np.ndarray | None = None   # (d,) reported alongside (e.g. floor area)
    hard: bool = True          # False: reported as a share, not a pass/fail target


@dataclass(frozen=True)
class InsideTarget:
    """Every polygon holds an open site of ``tier`` (or, when not hard, the share that does)."""

    key: str
    tier: str
    text: str
    polygons: np.ndarray       # (d,) shapely polygons, WGS84
    site_lon: np.ndarray       # (n,) every site's position
    site_lat: np.ndarray
    demand_id: np.ndarray      # (d,) labels for the report
    weight: np.ndarray | None = None
    hard: bool = True


@dataclass(frozen=True)
class CapacityTarget:
    """Every unit's compartments fit into open banks within ``radius`` (a max-flow check)."""

    key: str
    tier: str
    text: str
    graph: sp.csr_array
    xy: np.ndarray
    site_node: np.ndarray      # (n,) every site's node in ``graph``
    demand_node: np.ndarray    # (d,)
    demand: np.ndarray         # (d,) compartments needed
    radius: float
    capacity: np.ndarray       # (n,) compartments of each site's bank (0 if none)
    demand_id: np.ndarray | None = None   # (d,) labels for the report


@dataclass(frozen=True)
class CompartmentTarget:
    """At least ``required`` compartments in the open banks of ``tier`` (existing included)."""

    key: str
    tier: str
    text: str
    required: int
    capacity: np.ndarray       # (n,) compartments of each site's bank (0 if none)


@dataclass(frozen=True)
class CountTarget:
    """At least ``required`` open sites of ``tier`` (existing included)."""

    key: str
    tier: str
    text: str
    required: int


@dataclass(frozen=True)
class Result(Finding):
    """A target as the checker found it, with each unit's verdict."""

    served: np.ndarray | None = field(default=None, repr=False)  # (d,) bool per unit

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {"key": self.key, "tier": self.tier, "target": self.text, "unit": self.unit,
                "required": self.required, "achieved": self.achieved, "met": self.met,
                "failing": self.failing}


Target = CoverTarget | InsideTarget | CountTarget | CapacityTarget | CompartmentTarget


def verify(targets: list[Target], is_open: dict[str, np.ndarray],
           ) -> tuple[list[Result], dict[str, np.ndarray]]:
    """Recompute every target.

    Parameters
    ----------
    targets
        The targets of the run.
    is_open
        tier -> (n,) bool: the tier's open sites, existing included.

    Returns
    -------
    results, nearest
        One :class:`Result` per target, and for each cover target (by key) the distance of
        every demand unit to its nearest open site of the tier (``inf`` beyond 4 radii).
    """
    results, nearest = [], {}
    for t in targets:
        opened = is_open.get(t.tier, np.zeros(0, dtype=bool))
        if isinstance(t, CapacityTarget):
            results.append(_capacity(t, opened))
            continue
        if isinstance(t, CompartmentTarget):
            got_c = float(t.capacity[opened].sum())
            results.append(Result(t.key, t.tier, t.text, "compartments", t.required, got_c,
                                  got_c >= t.required))
            continue
        if isinstance(t, CountTarget):
            got = int(opened.sum())
            results.append(Result(t.key, t.tier, t.text, "sites", t.required, got,
                                  got >= t.required))
            continue
        if isinstance(t, InsideTarget):
            served = _holds_a_site(t, opened)
        else:
            d = _nearest(t.graph, t.demand_node, t.site_node[opened], limit=t.radius * 4)
            nearest[t.key] = d
            served = d <= t.radius + 1e-6
        results.append(_result(t, served))
    return results, nearest


def _capacity(t: CapacityTarget, opened: np.ndarray) -> Result:
    """Max flow source → units (demand) → open banks within reach → sink (capacity)."""
    sites = np.flatnonzero(opened & (t.capacity > 0))
    need = np.ceil(t.demand).astype(np.int64)
    reach = _within(t.graph, t.demand_node, t.site_node[sites], t.radius)
    d, s = len(need), len(sites)
    src, sink = 0, d + s + 1
    rows = np.concatenate([np.zeros(d, np.int64), 1 + reach.row, 1 + d + np.arange(s)])
    cols = np.concatenate([1 + np.arange(d), 1 + d + reach.col, np.full(s, sink)])
    caps = np.concatenate([need, need[reach.row],
                           np.floor(t.capacity[sites] + 1e-9).astype(np.int64)])
    g = sp.csr_array((caps.astype(np.int32), (rows, cols)), shape=(sink + 1, sink + 1))
    flow, served, got = 0, np.zeros(d, dtype=bool), np.zeros(d)
    if d:
        result = csgraph.maximum_flow(g, src, sink)
        flow = result.flow_value
        got = np.asarray(result.flow.tocsr()[[0], 1:d + 1].todense()).ravel()
        served = got >= need
    ids = t.demand_id if t.demand_id is not None else np.arange(d)
    failing = [f"{ids[i]} ({int(got[i]) if d else 0}/{int(need[i])})"
               for i in np.flatnonzero(~served)] if d else []
    return Result(t.key, t.tier, t.text, "compartments", float(need.sum()), float(flow),
                  bool(flow >= need.sum()), failing, served)


def _nearest(graph: sp.csr_array, targets: np.ndarray, sources: np.ndarray, *,
             limit: float) -> np.ndarray:
    """Distance from each target to its nearest source (``inf`` beyond ``limit`` or unsnapped)."""
    targets = np.asarray(targets, dtype=np.int64)
    sources = np.unique(sources[sources >= 0])
    out = np.full(len(targets), np.inf)
    if len(sources) == 0:
        return out
    d = csgraph.dijkstra(graph, directed=True, indices=sources, limit=limit, min_only=True)
    ok = targets >= 0
    out[ok] = d[targets[ok]]
    return out


def nearest_source(graph: sp.csr_array, sources: np.ndarray, targets: np.ndarray, *,
                   limit: float = np.inf) -> tuple[np.ndarray, np.ndarray]:
    """Each target's road distance to its nearest source and which source (its position).

    ``sources`` and ``targets`` are graph nodes (-1: not attached). Where several sources
    share a node the first is named. Returns (distance, position in ``sources``), ``inf``
    and -1 beyond ``limit`` or unattached.
    """
    sources = np.asarray(sources, dtype=np.int64)
    targets = np.asarray(targets, dtype=np.int64)
    dist, which = np.full(len(targets), np.inf), np.full(len(targets), -1, np.int64)
    ok_src = np.flatnonzero(sources >= 0)
    if len(ok_src) == 0 or len(targets) == 0:
        return dist, which
    nodes, first = np.unique(sources[ok_src], return_index=True)
    d, _, origin = csgraph.dijkstra(graph, directed=True, indices=nodes, limit=limit,
                                    min_only=True, return_predecessors=True)
    pos = dict(zip(nodes.tolist(), ok_src[first].tolist(), strict=True))
    ok = np.flatnonzero(targets >= 0)
    ok = ok[np.isfinite(d[targets[ok]])]
    dist[ok] = d[targets[ok]]
    which[ok] = [pos[int(o)] for o in origin[targets[ok]]]
    return dist, which


def _within(graph: sp.csr_array, targets: np.ndarray, sources: np.ndarray,
            radius: float) -> sp.coo_array:
    """(targets × sources) pairs within ``radius``, sources searched in blocks of CHUNK."""
    targets = np.asarray(targets, dtype=np.int64)
    ok = np.flatnonzero(targets >= 0)
    rows, cols = [], []
    for lo in range(0, len(sources), CHUNK):
        block = np.asarray(sources[lo:lo + CHUNK], dtype=np.int64)
        d = np.full((len(block), len(ok)), np.inf)
        good = block >= 0
        if good.any():
            d[good] = csgraph.dijkstra(graph, directed=True, indices=block[good],
                                       limit=radius)[:, targets[ok]]
        s, r = np.nonzero(d <= radius)
        rows.append(ok[r])
        cols.append(lo + s)
    r, c = (np.concatenate(rows), np.concatenate(cols)) if rows else (np.zeros(0, int),) * 2
    return sp.coo_array((np.ones(len(r)), (r, c)), shape=(len(targets), len(sources)))


def _holds_a_site(t: InsideTarget, opened: np.ndarray) -> np.ndarray:
    """Point-in-polygon of the open sites, polygon by polygon (no index shared with the model)."""
    lon, lat = t.site_lon[opened], t.site_lat[opened]
    out = np.zeros(len(t.polygons), dtype=bool)
    for i, poly in enumerate(t.polygons):
        if poly is None or poly.is_empty:
            continue
        minx, miny, maxx, maxy = poly.bounds
        near = (lon >= minx) & (lon <= maxx) & (lat >= miny) & (lat <= maxy)
        if near.any():
            out[i] = bool(shapely.intersects_xy(poly, lon[near], lat[near]).any())
    return out


def _result(t: CoverTarget | InsideTarget, served: np.ndarray) -> Result:
    if t.hard:
        failing = [str(x) for x in t.demand_id[~served]]
        return Result(t.key, t.tier, t.text, "units", len(served), int(served.sum()),
                      bool(served.all()), failing, served)
    w = np.ones(len(served)) if t.weight is None else np.asarray(t.weight, float)
    return Result(t.key, t.tier, t.text, "weight", float(w.sum()), float(w[served].sum()),
                  None, [], served)
