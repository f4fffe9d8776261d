"""Coverage computation: siting's bounded CSR Dijkstra against per-source networkx Dijkstra.

    python bench/distances.py COUNTY [COUNTY …] [--repeat 3]   e.g. … distances.py zhongmu

Times are the best of ``--repeat`` runs (one run for networkx per site, the slowest).

For each tier of ``models/<county>.toml`` that reaches by road, every method computes the
pairs (demand unit, candidate site) within the tier's radius on the *same* access graph
(roads plus attached demand points and existing sites):

- **siting**: ``siting.network.distances.within`` — ``scipy.sparse.csgraph.dijkstra(limit=radius)``
  on CSR, searching from the smaller side, in localised groups, kept sparse;
- **networkx per site** (the baseline): ``networkx.single_source_dijkstra_path_length(
  cutoff=radius)`` from every candidate site — the textbook way to build a coverage matrix,
  one service-area search per facility;
- **networkx per demand unit**: the same from every demand unit (the smaller side here),
  a stronger baseline, shown too;
- **plain csgraph**: ``scipy.sparse.csgraph.dijkstra(indices=…, limit=radius)`` on the
  whole graph from the smaller side, sources in chunks of dense rows (128 MB each), the
  entries within the radius kept — what one writes with scipy without the localised
  grouping; the strongest baseline.

The networkx graph is built from the same CSR matrix (construction not timed). It checks
that all four give the same pairs (and distances to 1e-6 m), then prints times and ratios.
Uses the county's real inputs when present, else its generated stand-ins (made on demand).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TypeVar

import networkx as nx
import numpy as np
import scipy.sparse as sp
from scipy.sparse import csgraph

T = TypeVar("T")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from siting.config import scenario
from siting.network import (
    candidates,
    distances,
)
from siting.network.snapping import access_graph
from siting.run import (
    inputs,
    pipeline,
)
from siting.run.results import Sites
from siting.synth import generate


def networkx_pairs(g: nx.Graph, starts: np.ndarray, rows: np.ndarray, radius: float,
                   ) -> dict[tuple[int, int], float]:
    """(row position, start position) -> distance, by one networkx search per start."""
    where: dict[int, list[int]] = {}
    for i, node in enumerate(rows.tolist()):
        if node >= 0:
            where.setdefault(node, []).append(i)
    out = {}
    for j, s in enumerate(starts.tolist()):
        if s < 0:
            continue
        for node, d in nx.single_source_dijkstra_path_length(g, s, cutoff=radius,
                                                             weight="weight").items():
            for i in where.get(node, ()):
                out[(i, j)] = d
    return out


def plain_csgraph(graph: sp.csr_array, rows: np.ndarray, cols: np.ndarray, radius: float,
                  ) -> sp.csr_array:
    """(rows × sites) distances within the radius: csgraph.dijkstra from the smaller side."""
    flip = len(rows) < len(cols)
    starts, ends = (rows, cols) if flip else (cols, rows)
    ok_s, ok_e = np.flatnonzero(starts >= 0), np.flatnonzero(ends >= 0)
    chunk = max(1, (128 * 2**20) // (8 * graph.shape[0]))
    found_s, found_e, found_d = [], [], []
    for lo in range(0, len(ok_s), chunk):
        pos = ok_s[lo:lo + chunk]
        d = csgraph.dijkstra(graph, directed=True, indices=starts[pos], limit=radius)
        d = d[:, ends[ok_e]]
        a, b = np.nonzero(d <= radius)
        found_s.append(pos[a])
        found_e.append(ok_e[b])
        found_d.append(d[a, b])
    s_, e_, d_ = (np.concatenate(x) for x in (found_s, found_e, found_d))
    r, c = (s_, e_) if flip else (e_, s_)
    return sp.csr_array((d_, (r, c)), shape=(len(rows), len(cols)))


def as_pairs(m: sp.csr_array) -> dict[tuple[int, int], float]:
    coo = m.tocoo()
    return {(int(i), int(j)): float(d) for i, j, d in zip(coo.row, coo.col, coo.data,
                                                           strict=True)}


def best_of(repeat: int, fn: Callable[..., T], *args: object) -> tuple[T, float]:
    """fn(*args) and its fastest time of ``repeat`` runs."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn(*args)
        times.append(time.perf_counter() - t0)
    return out, min(times)


def bench_county(county: str, repeat: int) -> list[dict[str, object]]:
    path = ROOT / "models" / f"{county}.toml"
    fallback = scenario.generated_fallback(path)
    if fallback is not None:
        slug, folder, seed = fallback
        generate.generate(slug, folder.parent, seed=seed)
    s = scenario.load(path)
    inp = inputs.load(s)
    net, units = inp.network, inp.units
    nodes = candidates.road_nodes(net, ["walk", "drive"],
                                  junctions_only=s.candidates.junctions_only,
                                  min_spacing_m=s.candidates.min_spacing_m)
    sites = Sites.from_frame(candidates.combine(inp.existing, nodes, candidates.doors(units),
                                                first_point=len(units), tiers=list(s.tiers)),
                             list(s.tiers))
    x, y = inputs.points(units, inp.existing)
    lines = []
    for name, cfg in s.tiers.items():
        if cfg.reach != "road":
            continue
        ag = access_graph(net, cfg.network, x, y, max_snap_m=s.network.max_snap_m)
        rows = ag.node[pipeline.demand_rows(units, cfg)]
        cols = pipeline.site_nodes(sites, ag)
        radius = float(cfg.radius_m or 0.0)
        reach, t_ours = best_of(repeat, partial(distances.within, xy=ag.xy), ag.graph, rows,
                                cols, radius)
        g = nx.from_scipy_sparse_array(ag.graph, edge_attribute="weight")
        per_site, t_site = best_of(1, networkx_pairs, g, cols, rows, radius)
        by_unit, t_unit = best_of(repeat, networkx_pairs, g, rows, cols, radius)
        per_unit = {(i, j): d for (j, i), d in by_unit.items()}
        plain, t_plain = best_of(repeat, plain_csgraph, ag.graph, rows, cols, radius)
        mine = as_pairs(reach.dist)
        same = all(set(mine) == set(x) and all(abs(mine[k] - x[k]) < 1e-6 for k in mine)
                   for x in (per_site, per_unit, as_pairs(plain)))
        lines.append({"county": county, "tier": name, "radius_m": radius,
                      "graph_nodes": ag.graph.shape[0], "demand": len(rows), "sites": len(cols),
                      "pairs": len(mine), "siting_s": t_ours, "nx_site_s": t_site,
                      "nx_unit_s": t_unit, "csgraph_s": t_plain, "same_pairs": same})
    return lines


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("counties", nargs="*", default=["zhongmu"])
    ap.add_argument("--repeat", type=int, default=3,
                    help="best of this many runs for every method but networkx per site (3)")
    args = ap.parse_args()
    print(f"{'county':12s} {'tier':10s} {'radius':>6s} {'nodes':>7s} {'demand':>6s} "
          f"{'sites':>6s} {'pairs':>7s} {'siting s':>9s} {'nx/site s':>10s} {'ratio':>7s} "
          f"{'nx/unit s':>10s} {'ratio':>7s} {'csgraph s':>10s} {'ratio':>7s} same")
    all_ok = True
    tot = {"siting_s": 0.0, "nx_site_s": 0.0, "nx_unit_s": 0.0, "csgraph_s": 0.0}
    for county in args.counties:
        for r in bench_county(county, args.repeat):
            t = float(r["siting_s"])
            print(f"{r['county']:12s} {r['tier']:10s} {r['radius_m']:6.0f} {r['graph_nodes']:7,d} "
                  f"{r['demand']:6,d} {r['sites']:6,d} {r['pairs']:7,d} {t:9.4f} "
                  f"{r['nx_site_s']:10.3f} {r['nx_site_s'] / t:6.1f}x "
                  f"{r['nx_unit_s']:10.4f} {r['nx_unit_s'] / t:6.1f}x "
                  f"{r['csgraph_s']:10.4f} {r['csgraph_s'] / t:6.1f}x {r['same_pairs']}")
            all_ok &= bool(r["same_pairs"])
            for k in tot:
                tot[k] += float(r[k])
    print(f"total: siting {tot['siting_s']:.4f} s; networkx per site {tot['nx_site_s']:.3f} s "
          f"({tot['nx_site_s'] / tot['siting_s']:.1f}x); networkx per demand unit "
          f"{tot['nx_unit_s']:.4f} s ({tot['nx_unit_s'] / tot['siting_s']:.1f}x); plain "
          f"csgraph {tot['csgraph_s']:.3f} s ({tot['csgraph_s'] / tot['siting_s']:.1f}x); "
          f"identical pairs: {all_ok}")
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
