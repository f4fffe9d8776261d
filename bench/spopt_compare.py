"""siting's model against spopt's LSCP, MCLP and PMedian on the same clustered instances.

    python bench/spopt_compare.py                                  # all sizes, all models
    python bench/spopt_compare.py --sizes 2000x500 --time-limit 60 # a quick run

Instances (``bench/_instances.py``): seeded, towns and villages with populations, candidates
near demand and along roads, Euclidean distances in metres, service radius R = 3 km (each
demand point has about 30 candidates within R). Sizes 2,000 × 500, 10,000 × 2,000 and
20,000 × 4,000 (demand × candidates).

Both sides solve the same three problems with the same solver, HiGHS (single thread, the
same time limit and relative gap):

- **LSCP**: fewest sites so that every demand point has one within R;
- **MCLP**: p sites (p = candidates / 25) maximising the population within R of a site;
- **p-median with assignments within R**: p sites (p = candidates / 8, more than the
  LSCP needs) minimising Σ population × distance to the assigned site, each demand point
  assigned to a site within R. siting gets only the pairs within R (a sparse distance
  matrix, Elloumi's formulation); spopt's dense cost matrix has a prohibitive cost
  (1,000 × R) beyond R, so an optimal spopt solution assigns within R as well (checked).

siting builds its sparse matrices with a KD-tree and never forms a dense demand × candidate
matrix; spopt gets ``scipy.spatial.distance.cdist`` (its ``from_cost_matrix`` input), solved
with ``pulp.HiGHS(msg=False, timeLimit=…, gapRel=…, threads=1)`` and ``solve(…,
results=False)`` (spopt's result tables are not timed). spopt's objective, bound and gap
are read from the ``highspy.Highs`` object PuLP leaves at ``problem.solverModel`` by the
function that reads siting's own (``siting.core.solve.read_highs``: ``getInfo()``'s
``objective_function_value`` and ``mip_dual_bound``), never from PuLP's status.

Every run (one instance, one model, one side) is a subprocess with a wall-clock limit
(``--wall-limit``, default 1,200 s) and a resident-memory ceiling (``--memory-gb``,
default 16 GB, read from ``/proc/PID/status`` four times a second); a run stopped by either
is reported as such with the phase it was in, the seconds it had spent and its peak memory.
Times: "data" is the distance computation (KD-tree / cdist), "build" the model
(siting: checks, reductions and PuLP model; spopt: ``from_cost_matrix``), "solve" from
the hand-over to PuLP to the answer (PuLP → HiGHS transfer included), "total" everything
including siting's start (greedy; for the p-median also :mod:`siting.core.heuristics.lagrange`, its
seconds in ``start_s``) and second stage. The ratio is spopt's total over siting's.
Objectives agree when the proven intervals [bound, objective] overlap; the gaps are
HiGHS's. For the p-median the raw results also hold siting's Lagrangian bound
(``lagrange_bound``), recomputable from its multipliers, for comparison only.
No network access.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _instances

SIZES = ("2000x500", "10000x2000", "20000x4000")
MODELS = ("lscp", "mclp", "pmedian")
SIDES = ("siting", "spopt")
PROHIBITIVE = 1_000.0   # × R: spopt's cost of a pair beyond the radius (p-median)


# ---------------------------------------------------------------- the child processes

class _Progress:
    """Phases and their seconds, written to a file the parent reads if it has to stop us."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.done: dict[str, float] = {}
        self.t = time.perf_counter()

    def start(self, phase: str) -> None:
        self.t = time.perf_counter()
        self.path.write_text(json.dumps({"phase": phase, "done": self.done}))

    def stop(self, phase: str) -> float:
        self.done[phase] = time.perf_counter() - self.t
        return self.done[phase]


def _run_siting(inst: _instances.Instance, model: str, limit: float, gap: float,
                progress: _Progress) -> dict[str, object]:
    from siting.core import SolverSettings, covering, max_coverage, optimise, p_median

    n, m = inst.shape
    t_start = time.perf_counter()
    progress.start("data")
    dist = _instances.pairs(inst)
    reach = dist.copy()
    reach.data[:] = 1.0
    progress.stop("data")
    if model == "lscp":
        problem = covering(np.ones(m), reach, name="post")
    elif model == "mclp":
        problem = max_coverage(reach, inst.weight, p=inst.p_mclp, name="post")
    else:
        problem = p_median(dist, inst.p_median, weight=inst.weight, cost=np.ones(m),
                           name="post")
    progress.start("optimise")
    sol = optimise(problem, SolverSettings(name="highs", time_limit_s=limit, rel_gap=gap))
    progress.stop("optimise")
    first = sol.stages[0][1]
    obj, bound = first.objective, first.bound   # siting.core.solve reports in the model's sense
    if model == "mclp" and obj is not None and abs(obj - sol.reached_weight) > 1e-6 * obj:
        raise RuntimeError(f"first-stage objective {obj} is not the reached weight "
                           f"{sol.reached_weight}")
    return {"pairs": int(dist.nnz), "open": int(sol.open["post"].sum()),
            "objective": obj, "bound": bound, "status": first.status,
            "data_s": progress.done["data"], "build_s": sol.seconds["build"],
            "solve_s": sol.seconds["solve"], "total_s": time.perf_counter() - t_start,
            "stages": len(sol.stages), "reductions": sol.reductions,
            "start_s": sol.seconds.get("start"), "n_demand": n,
            "lagrange_bound": sol.certificate.bound if sol.certificate else None}


def _run_spopt(inst: _instances.Instance, model: str, limit: float, gap: float,
               progress: _Progress) -> dict[str, object]:
    import pulp
    from scipy.spatial.distance import cdist
    from spopt.locate import LSCP, MCLP, PMedian

    t_start = time.perf_counter()
    progress.start("data")
    cost = cdist(inst.demand, inst.sites)
    pairs = int((cost <= inst.radius).sum())
    progress.stop("data")
    progress.start("build")
    if model == "lscp":
        obj = LSCP.from_cost_matrix(cost, inst.radius)
    elif model == "mclp":
        obj = MCLP.from_cost_matrix(cost, inst.weight, inst.radius, inst.p_mclp)
    else:
        cost[cost > inst.radius] = PROHIBITIVE * inst.radius
        obj = PMedian.from_cost_matrix(cost, inst.weight, inst.p_median)
    progress.stop("build")
    progress.start("solve")
    solver = pulp.HiGHS(msg=False, timeLimit=limit, gapRel=gap, threads=1)
    try:
        obj.solve(solver, results=False)
        pulp_says = pulp.LpStatus[obj.problem.status]
    except RuntimeError as e:     # spopt's check_status: PuLP reported no solution
        pulp_says = str(e)
    progress.stop("solve")
    return {"pairs": pairs, **_highs_result(obj, model, inst, cost),
            "pulp_status": pulp_says, "data_s": progress.done["data"],
            "build_s": progress.done["build"], "solve_s": progress.done["solve"],
            "total_s": time.perf_counter() - t_start}


def _highs_result(located: object, model: str, inst: _instances.Instance,
                  cost: np.ndarray) -> dict[str, object]:
    from siting.core.solve import read_highs

    h = located.problem.solverModel  # type: ignore[attr-defined]
    got = read_highs(h, maximise=model == "mclp", is_mip=True)   # as siting reads its own
    has = got.has_solution
    out: dict[str, object] = {"objective": got.objective, "bound": got.bound,
                              "highs_gap": got.gap, "status": got.status}
    if has:
        sol = np.asarray(h.getSolution().col_value)
        fac = [v.index for v in located.fac_vars]  # type: ignore[attr-defined]
        out["open"] = int((sol[fac] > 0.5).sum())
        if model == "pmedian":
            out["beyond_radius"] = _assigned_beyond(located, sol, cost, inst.radius)
    return out


def _assigned_beyond(located: object, sol: np.ndarray, cost: np.ndarray,
                     radius: float) -> int:
    """How many demand points spopt assigned to a site beyond R (0 for a valid answer)."""
    z = located.cli_assgn_vars  # type: ignore[attr-defined]
    index = np.vectorize(lambda v: v.index)(z)
    return int(((sol[index] > 0.5) & (cost > radius)).sum())


def child(args: argparse.Namespace) -> None:
    """One run, its result printed as a RESULT line."""
    n, m = (int(s) for s in args.child_size.split("x"))
    inst = _instances.make(n, m, seed=args.seed)
    progress = _Progress(Path(args.progress))
    run = _run_siting if args.child_side == "siting" else _run_spopt
    res = run(inst, args.child_model, args.time_limit, args.gap, progress)
    print("RESULT " + json.dumps(res), flush=True)


# ---------------------------------------------------------------- the parent

def _rss_kb(pid: int) -> tuple[int, int]:
    """(current, peak) resident memory of a process in kB, from /proc."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0, 0
    got = {k: int(v.split()[0]) for k, v in (ln.split(":", 1) for ln in text.splitlines())
           if k in ("VmRSS", "VmHWM")}
    return got.get("VmRSS", 0), got.get("VmHWM", 0)


def launch(side: str, model: str, size: str, args: argparse.Namespace,
           tmp: Path) -> dict[str, object]:
    """Run one child under the wall-clock and memory limits; its result or how it stopped."""
    progress = tmp / f"{side}-{model}-{size}.json"
    cmd = [sys.executable, __file__, "--child-side", side, "--child-model", model,
           "--child-size", size, "--progress", str(progress), "--seed", str(args.seed),
           "--time-limit", str(args.time_limit), "--gap", str(args.gap)]
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE",)}
    env["OMP_NUM_THREADS"] = "1"
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env)
    peak, stopped, load = 0, None, 0.0
    ceiling = args.memory_gb * 1024 * 1024
    while proc.poll() is None:
        rss, hwm = _rss_kb(proc.pid)
        peak = max(peak, hwm, rss)
        load = max(load, os.getloadavg()[0])
        if rss > ceiling:
            stopped = f"memory above {args.memory_gb:g} GB"
        elif time.perf_counter() - t0 > args.wall_limit:
            stopped = f"did not finish in {args.wall_limit:.0f} s"
        if stopped:
            proc.kill()
            break
        time.sleep(0.25)
    out, err = proc.communicate()
    wall = time.perf_counter() - t0
    base: dict[str, object] = {"side": side, "model": model, "size": size, "wall_s": wall,
                               "peak_gb": peak / 1024 / 1024, "max_load": load}
    line = next((ln for ln in out.splitlines() if ln.startswith("RESULT ")), None)
    if line is not None and stopped is None:
        return {**base, **json.loads(line[7:])}
    where = json.loads(progress.read_text()) if progress.exists() else {}
    reason = stopped or f"failed (exit {proc.returncode}): {err.strip().splitlines()[-1:]}"
    return {**base, "stopped": reason, "phase": where.get("phase"),
            "done": where.get("done", {})}


def agree(model: str, a: dict[str, object], b: dict[str, object], tol: float = 1e-6) -> str:
    """Whether the proven intervals of the two optima overlap."""
    if a.get("objective") is None or b.get("objective") is None:
        return "n/a"
    if a.get("bound") is None or b.get("bound") is None:
        return "no bound"
    lo_a, hi_a = sorted((float(a["objective"]), float(a["bound"])))  # type: ignore[arg-type]
    lo_b, hi_b = sorted((float(b["objective"]), float(b["bound"])))  # type: ignore[arg-type]
    scale = max(1.0, abs(hi_a), abs(hi_b))
    return "yes" if max(lo_a, lo_b) <= min(hi_a, hi_b) + tol * scale else "NO"


def gap_of(r: dict[str, object]) -> float | None:
    """|objective − bound| / |objective|, the same way for both sides."""
    if r.get("objective") is None or r.get("bound") is None:
        return None
    o, b = float(r["objective"]), float(r["bound"])  # type: ignore[arg-type]
    return abs(o - b) / max(abs(o), 1e-9)


def _fmt_obj(r: dict[str, object]) -> str:
    if "stopped" in r:
        return "—"
    o = r.get("objective")
    return "none" if o is None else f"{float(o):,.6g}"  # type: ignore[arg-type]


def _fmt_gap(r: dict[str, object]) -> str:
    g = gap_of(r)
    return "—" if g is None else f"{100 * g:.3f} %"


def _fmt_times(r: dict[str, object]) -> str:
    if "stopped" in r:
        done = r.get("done") or {}
        parts = ", ".join(f"{k} {v:.1f} s" for k, v in done.items())  # type: ignore[union-attr]
        if r["stopped"] == "not run":
            return "not run"
        return (f"{r['stopped']}: stopped after {float(r['wall_s']):.0f} s "  # type: ignore[arg-type]
                f"(in {r.get('phase')}{'; ' + parts if parts else ''}; "
                f"peak {float(r['peak_gb']):.1f} GB)")  # type: ignore[arg-type]
    return (f"{float(r['data_s']):.2f} + {float(r['build_s']):.2f} + "  # type: ignore[arg-type]
            f"{float(r['solve_s']):.2f} = {float(r['total_s']):.2f} s, "  # type: ignore[arg-type]
            f"{float(r['peak_gb']):.2f} GB")  # type: ignore[arg-type]


def _ratio(a: dict[str, object], b: dict[str, object]) -> str:
    if "stopped" in a:
        return "—"
    ta = float(a["total_s"])  # type: ignore[arg-type]
    if "stopped" in b and str(b["stopped"]).startswith("did not finish"):
        return f"> {float(b['wall_s']) / ta:,.1f}×"  # type: ignore[arg-type]
    if "stopped" in b:
        return "n/a (spopt stopped)"
    return f"{float(b['total_s']) / ta:,.1f}×"  # type: ignore[arg-type]


def table(rows: list[tuple[dict[str, object], dict[str, object]]]) -> str:
    """The comparison as a Markdown table."""
    head = ("| instance | model | siting objective | spopt objective | siting gap | spopt gap "
            "| agree | siting data + build + solve = total, peak memory "
            "| spopt data + build + solve = total, peak memory | spopt / siting |")
    lines = [head, "|" + "---|" * 10]
    for a, b in rows:
        lines.append(f"| {a['size']} | {a['model']} | {_fmt_obj(a)} | {_fmt_obj(b)} "
                     f"| {_fmt_gap(a)} | {_fmt_gap(b)} | {agree(str(a['model']), a, b)} "
                     f"| {_fmt_times(a)} | {_fmt_times(b)} | {_ratio(a, b)} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the comparison and print the table."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sizes", default=",".join(SIZES),
                   help="comma-separated DEMANDxCANDIDATES (default: %(default)s)")
    p.add_argument("--models", default=",".join(MODELS), help="default: %(default)s")
    p.add_argument("--sides", default=",".join(SIDES), help="default: %(default)s")
    p.add_argument("--time-limit", type=float, default=600.0,
                   help="HiGHS time limit per solve, both sides (default: %(default)s s)")
    p.add_argument("--gap", type=float, default=0.005,
                   help="relative MIP gap, both sides (default: %(default)s)")
    p.add_argument("--wall-limit", type=float, default=1200.0,
                   help="wall-clock limit of one run, build included (default: %(default)s s)")
    p.add_argument("--memory-gb", type=float, default=16.0,
                   help="resident-memory ceiling of one run (default: %(default)s GB)")
    p.add_argument("--seed", type=int, default=2024)
    p.add_argument("--json", type=Path, help="also write the raw results here")
    p.add_argument("--merge", type=Path, nargs="+", metavar="JSON",
                   help="run nothing: print the table of results written by --json runs")
    for name in ("--child-side", "--child-model", "--child-size", "--progress"):
        p.add_argument(name, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child_side:
        child(args)
        return 0
    if args.merge:
        rows = merged(args.merge)
        print(table(rows))
        return _verdict(rows)
    return compare(args)


def _verdict(rows: list[tuple[dict[str, object], dict[str, object]]]) -> int:
    """1 (and a message) when some objectives disagree beyond the proven gaps."""
    bad = [f"{a['size']} {a['model']}" for a, b in rows if agree(str(a["model"]), a, b) == "NO"]
    if bad:
        print("objectives disagree beyond the proven gaps: " + ", ".join(bad))
    return 1 if bad else 0


def merged(paths: list[Path]) -> list[tuple[dict[str, object], dict[str, object]]]:
    """Rows from the raw results of several runs (later files win), in run order."""
    found: dict[tuple[str, str, str], dict[str, object]] = {}
    for path in paths:
        for r in json.loads(path.read_text()):
            if r.get("stopped") != "not run":
                found[(str(r["size"]), str(r["model"]), str(r["side"]))] = r
    keys = dict.fromkeys((size, model) for size, model, _ in found)
    missing = {"stopped": "not run", "peak_gb": 0.0, "wall_s": 0.0}
    return [tuple(found.get((size, model, side), {"side": side, "model": model,
                                                   "size": size, **missing})
                  for side in SIDES) for size, model in keys]  # type: ignore[misc]


def compare(args: argparse.Namespace) -> int:
    """All runs, one after the other (never two at once on the 2-core machine)."""
    import tempfile

    rows, raw = [], []
    sides = args.sides.split(",")
    with tempfile.TemporaryDirectory(prefix="spopt-compare-") as tmp:
        for size in args.sizes.split(","):
            n, m = (int(s) for s in size.split("x"))
            inst = _instances.make(n, m, seed=args.seed)
            print(f"# {size}: {inst.side_m / 1000:.0f} km square, population "
                  f"{inst.weight.sum():,.0f}, R {inst.radius:.0f} m, MCLP p {inst.p_mclp}, "
                  f"p-median p {inst.p_median}", flush=True)
            for model in args.models.split(","):
                res = {s: launch(s, model, size, args, Path(tmp)) if s in sides
                       else {"side": s, "model": model, "size": size, "stopped": "not run",
                             "peak_gb": 0.0, "wall_s": 0.0} for s in SIDES}
                _warn_pairs(res["siting"], res["spopt"])
                for s in SIDES:
                    print(f"  {size} {model} {s}: {json.dumps(res[s])}", flush=True)
                rows.append((res["siting"], res["spopt"]))
                raw.extend(res.values())
    print()
    print(f"HiGHS time limit {args.time_limit:g} s, gap {args.gap:g}, wall limit "
          f"{args.wall_limit:g} s, memory ceiling {args.memory_gb:g} GB, seed {args.seed}")
    print(machine())
    loads = [float(r.get("max_load", 0.0)) for r in raw]  # type: ignore[arg-type]
    print(f"highest 1-minute load average seen during a run: {max(loads, default=0):.1f}")
    print(table(rows))
    if args.json:
        args.json.write_text(json.dumps(raw, indent=1))
    return _verdict(rows)


def machine() -> str:
    """CPU, cores, memory and the versions that matter, in one line."""
    from importlib.metadata import version

    cpu = next((ln.split(":", 1)[1].strip() for ln in
                Path("/proc/cpuinfo").read_text().splitlines() if ln.startswith("model name")),
               "unknown CPU")
    mem = int(Path("/proc/meminfo").read_text().split()[1]) / 1024 / 1024
    pkgs = ", ".join(f"{p} {version(p)}" for p in ("highspy", "pulp", "spopt", "numpy", "scipy"))
    return (f"{cpu}, {os.cpu_count()} cores, {mem:.0f} GB; Python "
            f"{sys.version.split()[0]}, {pkgs}")


def _warn_pairs(a: dict[str, object], b: dict[str, object]) -> None:
    if "pairs" in a and "pairs" in b and a["pairs"] != b["pairs"]:
        print(f"  WARNING: KD-tree found {a['pairs']} pairs within R, cdist {b['pairs']}",
              flush=True)


if __name__ == "__main__":
    sys.exit(main())
