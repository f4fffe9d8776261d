"""Counties × variants: one process one task after another, against a LocalCluster.

    python bench/cluster.py                       # 15 counties × 4 village radii, 60 s limit
    python bench/cluster.py --counties shangjie huiji jingkai gaoxin --time-limit 30

Both runs go through the same code as ``siting sweep`` (``siting.cli.cluster.run`` on the
tasks of ``siting.cli.commands.county_task``): the sequential run with ``workers = 0`` (no
Dask, in this process), the cluster run on a LocalCluster of ``--workers`` process workers
started by the run itself (its start-up counted in its wall time). Each into fresh output
folders, so no task is reused. Printed in one run:

- wall time of each, and the speed-up ratio (sequential / cluster);
- the scheduler's overhead per task: ``--noop`` empty tasks through the same LocalCluster,
  wall time per task × workers, against the mean county task's time;
- memory: the peak resident memory of each worker process (its largest task), and the
  largest task by time;
- whether every task's sites.csv is byte-identical in the two runs;
- the estimate for Henan's 157 county-level units × 10 variants in one hour.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COUNTIES = ["zhongyuan", "erqi", "guancheng", "jinshui", "shangjie", "huiji", "zhongmu",
            "jingkai", "gaoxin", "hangkonggang", "gongyi", "xingyang", "xinmi", "xinzheng",
            "dengfeng"]
RADII = [2000, 2500, 3000, 4000]
HENAN_TASKS = 157 * 10


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--counties", nargs="+", default=COUNTIES)
    p.add_argument("--variants", type=int, default=len(RADII), help="village radii, ≤ 4")
    p.add_argument("--time-limit", type=float, default=60.0)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--noop", type=int, default=200)
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "cluster.json")
    args = p.parse_args()

    from siting.cli import cluster

    work = Path(tempfile.mkdtemp(prefix="siting-bench-cluster-"))
    models = _models(work, args.counties, args.time_limit)
    radii = RADII[:args.variants]
    print(f"{len(args.counties)} counties × {len(radii)} variants (village radius "
          f"{', '.join(map(str, radii))} m), time limit {args.time_limit:g} s, "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}", flush=True)
    runs = {}
    for label, workers in (("sequential", 0), (f"LocalCluster({args.workers})", args.workers)):
        tasks = _tasks(models, radii, work / label.split("(")[0])
        start = time.perf_counter()
        results = cluster.run(tasks, scratch=work, workers=workers, bar=False)
        runs[label] = (time.perf_counter() - start, tasks, results)
        failed = [r.name for r in results if r.status != "done"]
        print(f"{label}: {runs[label][0]:.1f} s wall, {len(results)} tasks"
              + (f", NOT done: {failed}" if failed else ""), flush=True)
    overhead = _noop_overhead(args.workers, args.noop)
    _report(runs, overhead, args)


def _models(work: Path, counties: list[str], limit: float) -> list[Path]:
    """Each county's scenario, with the bench's time limit, its inputs generated (cached)."""
    from siting.cli.commands import _prepare

    (work / "models").mkdir()
    out = []
    for c in counties:
        text = (ROOT / "models" / f"{c}.toml").read_text(encoding="utf-8")
        text = text.replace('"../data/zhengzhou/', f'"{ROOT}/data/zhengzhou/')
        text = text.replace("time_limit_s = 240", f"time_limit_s = {limit:g}")
        path = work / "models" / f"{c}.toml"
        path.write_text(text, encoding="utf-8")
        _prepare(path, True, None)           # as `siting sweep --generate`
        out.append(path)
    return out


def _tasks(models: list[Path], radii: list[int], root: Path) -> list:
    from siting.cli.commands import county_task

    return [county_task(m, root / f"r{r}", lang=None, cache=None, variant=f"r{r}",
                        overrides={"tiers.village.radius_m": r})
            for r in radii for m in models]


def _noop_overhead(workers: int, n: int) -> dict[str, float]:
    """Wall time per empty task through a LocalCluster (started before the clock)."""
    from distributed import as_completed

    from siting.cli.cluster import client_for

    start = time.perf_counter()
    with client_for(None, workers) as client:
        up = time.perf_counter() - start
        client.wait_for_workers(workers)
        t0 = time.perf_counter()
        futures = [client.submit(_noop, i, pure=False) for i in range(n)]
        for f in as_completed(futures):
            f.result()
        wall = time.perf_counter() - t0
    return {"startup_s": up, "noop_tasks": n, "per_task_s": wall * workers / n}


def _noop(i: int) -> int:
    return i


def _report(runs: dict, overhead: dict[str, float], args: argparse.Namespace) -> None:
    (seq_label, (seq_wall, seq_tasks, seq)), (cl_label, (cl_wall, cl_tasks, cl)) = runs.items()
    same = sum(_same(a.out, b.out) for a, b in zip(seq_tasks, cl_tasks, strict=True))
    mean = statistics.mean(r.seconds for r in seq)
    largest = max(seq, key=lambda r: r.seconds)
    per_worker: dict[str, float] = {}
    for r in cl:
        per_worker[r.worker] = max(per_worker.get(r.worker, 0.0), r.peak_rss_mb)
    speedup = seq_wall / cl_wall
    task_s = sum(r.seconds for r in seq)
    print()
    print("| run | wall s | tasks | sum of task times s | mean task s |")
    print("|---|---:|---:|---:|---:|")
    print(f"| {seq_label} | {seq_wall:.1f} | {len(seq)} | {task_s:.1f} | {mean:.1f} |")
    print(f"| {cl_label} | {cl_wall:.1f} | {len(cl)} | {sum(r.seconds for r in cl):.1f} | "
          f"{statistics.mean(r.seconds for r in cl):.1f} |")
    print()
    print(f"speed-up: {speedup:.2f}× ({seq_wall:.1f} s / {cl_wall:.1f} s, the cluster's "
          f"start-up of {overhead['startup_s']:.1f} s included)")
    print(f"scheduler overhead per task: {1000 * overhead['per_task_s']:.1f} ms "
          f"({overhead['noop_tasks']} empty tasks), {100 * overhead['per_task_s'] / mean:.3f} % "
          f"of the mean task ({mean:.1f} s)")
    print("peak memory per worker: " + ", ".join(f"{w.split(':')[-1]} {mb:,.0f} MB"
                                                 for w, mb in sorted(per_worker.items())))
    print(f"largest task: {largest.name} {largest.seconds:.1f} s, peak memory of the "
          f"sequential process {max(r.peak_rss_mb for r in seq):,.0f} MB")
    print(f"sites.csv byte-identical in both runs: {same} of {len(seq)}")
    eff = speedup / args.workers
    need = math.ceil(HENAN_TASKS * mean / 3600 / min(eff, 1.0))
    print(f"Henan, 157 units × 10 variants = {HENAN_TASKS} tasks at the mean task "
          f"{mean:.1f} s and this run's efficiency {eff:.2f}: {need} workers for one hour")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({
        "counties": args.counties, "variants": args.variants, "time_limit_s": args.time_limit,
        "workers": args.workers, "sequential_wall_s": seq_wall, "cluster_wall_s": cl_wall,
        "speedup": speedup, "overhead": overhead, "mean_task_s": mean,
        "tasks": [{"name": a.name, "sequential_s": a.seconds, "cluster_s": b.seconds,
                   "cluster_worker": b.worker, "peak_rss_mb": b.peak_rss_mb,
                   "status": b.status} for a, b in zip(seq, cl, strict=True)],
        "peak_rss_mb_per_worker": per_worker, "identical_sites": same,
        "henan_workers_one_hour": need}, indent=2, ensure_ascii=False), encoding="utf-8")


def _same(a: Path, b: Path) -> bool:
    fa, fb = a / "sites.csv", b / "sites.csv"
    return fa.is_file() and fb.is_file() and fa.read_bytes() == fb.read_bytes()


if __name__ == "__main__":
    sys.exit(main())
