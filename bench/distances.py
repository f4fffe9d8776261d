"""Coverage computation: siting's bounded CSR Dijkstra against per-source networkx Dijkstra.

    python bench/distances.py COUNTY [COUNTY …]      e.g. python bench/distances.py zhongmu

For each tier of ``models/<county>.toml`` that reaches by road, every method computes the
pairs (demand unit, candidate site) within the tier's radius on the *same* access graph
(roads plus attached demand points and existing sites):

- **siting**: ``siting.network.distances.within`` — ``scipy.sparse.csgraph.dijkstra(limit=radius)``
  on CSR, searching from the smaller side, in localised groups, kept sparse;
- **networkx per site** (the baseline): ``networkx.single_source_dijkstra_path_length(
  cutoff=radius)`` from every candidate site — the textbook way to build a coverage matrix,
  one service-area search per facility;
- **networkx per demand unit**: the same from every demand unit (the smaller side here),
  a stronger baseline, shown too.

The networkx graph is built from the same CSR matrix (construction not timed). It checks
that all three give the same pairs (and distances to 1e-6 m), then prints times and ratios.
Uses the county's real inputs when present, else its generated stand-ins (made on demand).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import networkx as nx
import numpy as np

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


def bench_county(county: str) -> list[dict[str, object]]:
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
        t0 = time.perf_counter()
        ours = distances.within(ag.graph, rows, cols, radius, xy=ag.xy).dist
        t_ours = time.perf_counter() - t0
        g = nx.from_scipy_sparse_array(ag.graph, edge_attribute="weight")
        t0 = time.perf_counter()
        per_site = networkx_pairs(g, cols, rows, radius)
        t_site = time.perf_counter() - t0
        t0 = time.perf_counter()
        per_unit = {(i, j): d for (j, i), d in networkx_pairs(g, rows, cols, radius).items()}
        t_unit = time.perf_counter() - t0
        coo = ours.tocoo()
        mine = {(int(i), int(j)): float(d) for i, j, d in zip(coo.row, coo.col, coo.data,
                                                               strict=True)}
        same = all(set(mine) == set(x) and all(abs(mine[k] - x[k]) < 1e-6 for k in mine)
                   for x in (per_site, per_unit))
        lines.append({"county": county, "tier": name, "radius_m": radius,
                      "graph_nodes": ag.graph.shape[0], "demand": len(rows), "sites": len(cols),
                      "pairs": len(mine), "siting_s": t_ours, "nx_site_s": t_site,
                      "nx_unit_s": t_unit, "same_pairs": same})
    return lines


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("counties", nargs="*", default=["zhongmu"])
    args = ap.parse_args()
    print(f"{'county':12s} {'tier':10s} {'radius':>6s} {'nodes':>7s} {'demand':>6s} "
          f"{'sites':>6s} {'pairs':>7s} {'siting s':>9s} {'nx/site s':>10s} {'ratio':>7s} "
          f"{'nx/unit s':>10s} {'ratio':>7s} same")
    all_ok = True
    tot = {"siting_s": 0.0, "nx_site_s": 0.0, "nx_unit_s": 0.0}
    for county in args.counties:
        for r in bench_county(county):
            t = float(r["siting_s"])
            print(f"{r['county']:12s} {r['tier']:10s} {r['radius_m']:6.0f} {r['graph_nodes']:7,d} "
                  f"{r['demand']:6,d} {r['sites']:6,d} {r['pairs']:7,d} {t:9.3f} "
                  f"{r['nx_site_s']:10.3f} {r['nx_site_s'] / t:6.1f}x "
                  f"{r['nx_unit_s']:10.3f} {r['nx_unit_s'] / t:6.1f}x {r['same_pairs']}")
            all_ok &= bool(r["same_pairs"])
            for k in tot:
                tot[k] += float(r[k])
    print(f"total: siting {tot['siting_s']:.3f} s; networkx per site {tot['nx_site_s']:.3f} s "
          f"({tot['nx_site_s'] / tot['siting_s']:.1f}x); networkx per demand unit "
          f"{tot['nx_unit_s']:.3f} s ({tot['nx_unit_s'] / tot['siting_s']:.1f}x); "
          f"identical pairs: {all_ok}")
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
