"""Scale and density: read → graph → snap → candidates → distances, timed and measured per stage.

    python bench/scale.py                                 # the three real files + 1x, 4x, 16x
    python bench/scale.py --inputs dalian gen1 gen4       # some of them
    python bench/scale.py --county zhongmu --osm-dir /work/shared/data/osm

Inputs: the real OpenStreetMap files ``shenzhen_futian_nanshan_drive_2024.osm.pbf`` (38,919
nodes), ``dalian_central_drive_2024.osm.pbf`` (23,901) and ``liechtenstein_2013.osm.pbf``
(65,733 nodes, with buildings) from ``--osm-dir`` (``data/osm/`` of the checkout first, then
``../shared/data/osm/``), and the generator's ``roads.osm`` of ``--county`` (zhongmu) at 1×,
4× and 16× road density (``siting.synth.generate.generate(…, road_density=d)``, in the cache).
Each input runs in a process of its own, so one's memory does not colour the next; per stage:

- **read**: ``siting.readers.osm.read`` (osmium: the roads with the walk/drive filters);
- **graph**: ``siting.network.roads.from_ways`` (projection, segment lengths);
- **snap**: ``siting.network.snapping.access_graph`` on the walk network, for seeded demand
  points (one per 20 road nodes, each a random road node moved by N(0, 80 m) each way:
  the same rule on every input, so the work grows with the network);
- **candidates**: ``siting.network.candidates.road_nodes`` (any road node, 100 m spacing,
  as the county scenarios ask);
- **distances**: ``siting.network.distances.within`` from the demand points to the candidates
  within 500 m walking (the community tier's radius), localised, kept sparse;
- **plain csgraph** (the baseline, not a stage of siting): the same pairs by
  ``scipy.sparse.csgraph.dijkstra`` on the whole access graph from the smaller side
  (``plain_csgraph`` of ``bench/distances.py``), checked to give the same pairs.

Time is wall clock; memory is the peak resident set (``VmRSS`` of ``/proc/self/status``
sampled every 5 ms) during the stage, and the increase over the stage's start. The growth
exponent of a stage is the slope of log(seconds) over log(road nodes), least squares, over
all inputs and over the density series alone.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

REAL = {"shenzhen": "shenzhen_futian_nanshan_drive_2024.osm.pbf",
        "dalian": "dalian_central_drive_2024.osm.pbf",
        "liechtenstein": "liechtenstein_2013.osm.pbf"}
DENSITY = {"gen1": 1.0, "gen4": 4.0, "gen16": 16.0}
STAGES = ("read", "graph", "snap", "candidates", "distances", "plain csgraph")
OSM_DIRS = (ROOT / "data" / "osm", ROOT.parent / "shared" / "data" / "osm")
RADIUS_M = 500.0
SEED = 12


class Memory:
    """The peak resident set of this process while a stage runs, sampled in a thread."""

    def __init__(self) -> None:
        self.peak = self.now()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    @staticmethod
    def now() -> int:
        with Path("/proc/self/status").open() as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        return 0

    def _watch(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, self.now())

    @contextmanager
    def stage(self, name: str, out: dict[str, dict[str, float]]) -> Iterator[None]:
        start = self.peak = self.now()
        t0 = time.perf_counter()
        yield
        seconds = time.perf_counter() - t0
        peak = max(self.peak, self.now())
        out[name] = {"s": seconds, "peak_mb": peak / 2**20, "added_mb": (peak - start) / 2**20}

    def close(self) -> None:
        self._stop.set()
        self._thread.join()


def demand_points(x: np.ndarray, y: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """n seeded points: random road nodes moved by N(0, 80 m) in x and y."""
    rng = np.random.default_rng(SEED)
    pick = rng.integers(0, len(x), n)
    return x[pick] + rng.normal(0, 80, n), y[pick] + rng.normal(0, 80, n)


def one(label: str, path: Path) -> dict[str, object]:
    """Every stage on one file, in this process."""
    from siting.network import candidates, distances, roads, snapping
    from siting.readers import osm

    mem = Memory()
    st: dict[str, dict[str, float]] = {}
    with mem.stage("read", st):
        data = osm.read(path)
    with mem.stage("graph", st):
        net = roads.from_ways(data.roads, path)
    x, y = demand_points(net.x, net.y, max(100, net.n_nodes // 20))
    with mem.stage("snap", st):
        ag = snapping.access_graph(net, "walk", x, y, max_snap_m=250.0)
    with mem.stage("candidates", st):
        sites = candidates.road_nodes(net, ["walk", "drive"], min_spacing_m=100.0,
                                      junctions_only=False)
    with mem.stage("distances", st):
        reach = distances.within(ag.graph, ag.node, sites["road_node"].to_numpy(), RADIUS_M,
                                 xy=ag.xy)
    from distances import plain_csgraph  # after siting's stages: its imports weigh 150 MB

    with mem.stage("plain csgraph", st):
        plain = plain_csgraph(ag.graph, ag.node, sites["road_node"].to_numpy(), RADIUS_M)
    mem.close()
    same = plain.nnz == reach.dist.nnz and abs(plain - reach.dist).max() < 1e-6
    return {"input": label, "file": path.name, "bytes": path.stat().st_size,
            "nodes": net.n_nodes, "segments": len(net.u), "buildings": len(data.buildings),
            "demand": len(x), "snapped": int((ag.node >= 0).sum()),
            "candidates": len(sites), "pairs": int(reach.dist.nnz), "same_pairs": bool(same),
            "stages": st,
            "max_rss_mb": max(s["peak_mb"] for s in st.values())}


def locate(label: str, osm_dir: Path | None, county: str) -> Path:
    """The file of an input: a real extract, or the generated county at a road density."""
    if label in DENSITY:
        from siting.synth import generate

        return generate.generate(county, road_density=DENSITY[label]) / "roads.osm"
    for folder in ([osm_dir] if osm_dir else []) + list(OSM_DIRS):
        if (folder / REAL[label]).is_file():
            return folder / REAL[label]
    raise SystemExit(f"{REAL[label]} not found in {osm_dir or ' or '.join(map(str, OSM_DIRS))}"
                     "; give --osm-dir")


def slope(sizes: list[float], seconds: list[float]) -> float | None:
    """Least-squares slope of log(seconds) over log(size); None with fewer than 2 sizes."""
    if len(set(sizes)) < 2:
        return None
    return float(np.polyfit(np.log(sizes), np.log(np.maximum(seconds, 1e-6)), 1)[0])


def report(rows: list[dict[str, object]]) -> None:
    print(f"{'input':14s} {'nodes':>7s} {'demand':>6s} {'sites':>6s} {'pairs':>8s}  " +
          "  ".join(f"{s + ' s / MB':>20s}" for s in STAGES) + f"  {'peak MB':>8s} same")
    for r in rows:
        st = r["stages"]
        assert isinstance(st, dict)
        cells = "  ".join(f"{st[s]['s']:9.2f} / {st[s]['peak_mb']:6.0f}+{st[s]['added_mb']:<4.0f}"
                          for s in STAGES)
        print(f"{r['input']:14s} {r['nodes']:7,d} {r['demand']:6,d} {r['candidates']:6,d} "
              f"{r['pairs']:8,d}  {cells}  {r['max_rss_mb']:8.0f} {r['same_pairs']}")
    for name, keep in (("all inputs", lambda r: True),
                       ("density series", lambda r: r.get("road_density") is not None)):
        chosen = [r for r in rows if keep(r)]
        sizes = [float(r["nodes"]) for r in chosen]
        fits = [slope(sizes, [float(r["stages"][s]["s"]) for r in chosen]) for s in STAGES]
        print(f"growth exponent over {name} ({len(chosen)}): " + ", ".join(
            f"{s} {'—' if b is None else f'{b:.2f}'}" for s, b in zip(STAGES, fits, strict=True)))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--inputs", nargs="*", default=[*REAL, *DENSITY],
                    choices=[*REAL, *DENSITY])
    ap.add_argument("--county", default="zhongmu", help="generated county (zhongmu)")
    ap.add_argument("--osm-dir", type=Path, help="folder of the real .osm.pbf files")
    ap.add_argument("--json", type=Path, help="write the results here as JSON")
    ap.add_argument("--one", nargs=2, metavar=("LABEL", "PATH"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(args.one[0], Path(args.one[1]))))
        return 0
    print(f"# bench/scale.py; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    rows = []
    for label in args.inputs:
        path = locate(label, args.osm_dir, args.county)
        tag = label if label not in DENSITY else f"{args.county} {label[3:]}x"
        done = subprocess.run([sys.executable, __file__, "--one", tag, str(path)],
                              capture_output=True, text=True, check=True)
        rows.append({**json.loads(done.stdout.strip().splitlines()[-1]),
                     "road_density": DENSITY.get(label)})
        print(f"  {tag}: done, load average {os.getloadavg()[0]:.2f}", flush=True)
    report(rows)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
