"""Each county's single model as MPS, solved by HiGHS, CBC, SCIP and CP-SAT, beside siting's solve.

    python bench/solvers.py                                    # all 15 counties, 240 s each
    python bench/solvers.py --counties shangjie --limit 30
    python bench/solvers.py --counties zhongmu --solvers highs scip --mps-dir /tmp/mps

Per county (generated inputs, as ``bench/counties.py``), the single model of today's run
(the core's reductions, one PuLP model of all tiers; ``bench/_county.py``) is written as MPS.
Its objective is C − forced (the forced cost enters as a column fixed at 1), so every
solver's own relative gap is the gap on the avoidable cost. Each solver gets the file, the
bench's time limit, the relative gap (the scenario's 0.5 %) and one thread (the scenario's
``threads``), and no start:

- **HiGHS** (highspy): ``readModel``, the options of ``siting.core.solve`` (mip_rel_gap,
  mip_abs_gap 1e-6, threads, time_limit, random_seed 0);
- **CBC**: the binary PuLP uses (``siting.core.solve.cbc_path``), ``-sec -ratioGap
  -threads -solve``; its log is read by ``siting.core.solve.parse_cbc_log``;
- **SCIP** (pyscipopt): ``readProblem``, ``limits/time``, ``limits/gap``; SCIP's gap is
  measured over min(|primal|, |dual|), a little stricter than the others';
- **CP-SAT** (OR-Tools): the same arrays (read from the MPS by highspy: costs, bounds, the
  constraint matrix) as an integer model (``bench/_cpsat.py``, in its own process),
  ``max_time_in_seconds``, ``relative_gap_limit``, ``num_workers``. CP-SAT has only integer
  variables: each row is scaled by the smallest power of ten that makes its coefficients
  whole, and the continuous columns (assignments z, co-location w, reach y, shortfalls) are
  made integer. That keeps the optimum: demands and
  capacities are whole compartments, so for fixed sites the assignment is a transportation
  problem with an integral optimum; w ≤ x_a, w ≤ x_b with a negative cost is 0/1 at an
  optimum, and y does not enter the first stage's objective. A column with no upper bound
  gets the largest finite bound of the model (a demand: no z or shortfall exceeds it).

Then siting's own solve (``siting.core.optimise``) with the same limit and gap. Every line:
time to the proven gap (``>limit`` and the gap reached when stopped), the plan's cost C
(objective + forced), the proven bound, and whether the bound is below every solver's plan
(``consistent``: a solver whose bound is above another's plan would be wrong).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import highspy
import numpy as np
import scipy.sparse as sp

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import _county as cty
import _cpsat

from siting.core import solve as solver

SOLVERS = ("highs", "cbc", "scip", "cpsat")
Solve = Callable[[Path, float, float, int, float], cty.Result]


def run_highs(mps: Path, limit: float, gap: float, threads: int, forced: float) -> cty.Result:
    t0 = time.perf_counter()
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.readModel(str(mps))
    for key, value in (("mip_rel_gap", gap), ("mip_abs_gap", 1e-6), ("threads", threads),
                       ("time_limit", limit), ("random_seed", 0)):
        h.setOptionValue(key, value)
    h.run()
    out = solver.read_highs(h, maximise=False, is_mip=True)
    return _result(out.solver, out.objective, out.bound, forced, time.perf_counter() - t0, gap)


def run_cbc(mps: Path, limit: float, gap: float, threads: int, forced: float) -> cty.Result:
    t0 = time.perf_counter()
    cmd = [solver.cbc_path(), str(mps), "-sec", f"{limit:g}", "-ratioGap", f"{gap:g}",
           "-allowableGap", "1e-6", "-threads", str(threads), "-randomSeed", "1", "-solve",
           "-quit"]
    text = subprocess.run(cmd, capture_output=True, text=True, check=False).stdout
    out = solver.parse_cbc_log(text)
    version = text.split("—")[0].replace("CBC", "").strip() if "—" in text else ""
    return _result(f"CBC {version}".strip(), out.objective, out.bound, forced,
                   time.perf_counter() - t0, gap)


def run_scip(mps: Path, limit: float, gap: float, threads: int, forced: float) -> cty.Result:
    import pyscipopt

    t0 = time.perf_counter()
    m = pyscipopt.Model()
    m.hideOutput()
    m.readProblem(str(mps))
    m.setParam("limits/time", limit)
    m.setParam("limits/gap", gap)
    m.setParam("limits/absgap", 1e-6)
    m.setParam("randomization/randomseedshift", 0)
    m.optimize()
    objective = m.getObjVal() if m.getNSols() > 0 else None
    bound = m.getDualbound()
    bound = bound if math.isfinite(bound) else None
    return _result(f"SCIP {m.version()}", objective, bound, forced, time.perf_counter() - t0,
                   gap)


def run_cpsat(mps: Path, limit: float, gap: float, threads: int, forced: float) -> cty.Result:
    """CP-SAT on the MPS model's arrays, in its own process (``bench/_cpsat.py``)."""
    t0 = time.perf_counter()
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.readModel(str(mps))
    lp = h.getLp()
    a = lp.a_matrix_
    rows = sp.csc_array((np.asarray(a.value_), np.asarray(a.index_), np.asarray(a.start_)),
                        shape=(lp.num_row_, lp.num_col_)).tocsr()
    arrays = mps.with_suffix(".npz")
    _cpsat.save(arrays, np.asarray(lp.col_cost_), np.asarray(lp.col_lower_),
                np.asarray(lp.col_upper_), rows, np.asarray(lp.row_lower_),
                np.asarray(lp.row_upper_))
    done = subprocess.run([sys.executable, str(HERE / "_cpsat.py"), str(arrays), f"{limit:g}",
                           f"{gap:g}", str(threads)], capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        print(done.stderr[-2000:], file=sys.stderr)
        return cty.Result("CP-SAT", None, None, forced, time.perf_counter() - t0, "error")
    got = json.loads(done.stdout.strip().splitlines()[-1])
    return _result(str(got["solver"]), got["objective"], got["bound"], forced,
                   time.perf_counter() - t0, gap)


def _result(name: str, objective: float | None, bound: float | None, forced: float,
            seconds: float, gap: float) -> cty.Result:
    """A solver's figures on the MPS model (C − forced) as the plan's cost C."""
    c = None if objective is None else objective + forced
    b = None if bound is None else bound + forced
    r = cty.Result(name, c, b, forced, seconds, "no_solution" if c is None else "feasible")
    return cty.Result(name, c, b, forced, seconds,
                      "optimal" if r.reached(gap) else r.status)


RUN: dict[str, Solve] = {"highs": run_highs, "cbc": run_cbc, "scip": run_scip,
                         "cpsat": run_cpsat}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--counties", nargs="*", default=list(cty.COUNTIES))
    ap.add_argument("--limit", type=float, default=240.0, help="seconds per solve (240)")
    ap.add_argument("--solvers", nargs="*", default=list(SOLVERS), choices=SOLVERS)
    ap.add_argument("--no-own", action="store_true", help="skip siting's own solve")
    ap.add_argument("--mps-dir", type=Path, help="keep the MPS files here (default: a temp dir)")
    ap.add_argument("--json", type=Path, help="write every result here as JSON")
    args = ap.parse_args()
    missing = [m for k, m in (("scip", "pyscipopt"), ("cpsat", "ortools"))
               if k in args.solvers and importlib.util.find_spec(m) is None]
    if missing:
        ap.error(f"{' and '.join(missing)} not installed: `make bench` installs the bench "
                 "extra (pip install -e '.[bench]'), or leave those solvers out with --solvers")
    cty.quiet_logs()
    print(f"# bench/solvers.py --limit {args.limit:g}; load average {cty.load_average()}")
    print(f"{'county':12s} {'solver':24s} {'status':9s} {'to gap s':>8s} {'gap':>7s} "
          f"{'objective':>13s} {'bound':>13s} consistent")
    rows = []
    with tempfile.TemporaryDirectory(prefix="siting-mps-") as tmp:
        folder = args.mps_dir or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        for name in args.counties:
            rows += bench_county(name, folder, args)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1), encoding="utf-8")
    return 0


def bench_county(name: str, folder: Path, args: argparse.Namespace) -> list[dict[str, object]]:
    county = cty.problem(name)
    s = cty.settings(county, args.limit)
    single = cty.single_model(county.problem)
    mps = folder / f"{name}.mps"
    t0 = time.perf_counter()
    single.lp.writeMPS(str(mps))
    print(f"{name:12s} single model {single.variables:,} variables, {single.constraints:,} rows, "
          f"forced cost {cty.money(single.forced)}; MPS written in "
          f"{time.perf_counter() - t0:.1f} s ({mps.stat().st_size / 1e6:.1f} MB); "
          f"load average {cty.load_average()}", flush=True)
    results = [RUN[k](mps, args.limit, s.rel_gap, s.threads, single.forced)
               for k in args.solvers]
    if not args.no_own:
        results.append(cty.own(county, args.limit))
    plans = [r.objective for r in results if r.objective is not None]
    best = min(plans) if plans else math.inf
    out = []
    known = cty.KNOWN_OPTIMUM.get(name)
    for r in results:
        ok = r.bound is None or r.bound <= best + 1e-6 * max(1.0, abs(best))
        t = f"{r.seconds:.1f}" if r.reached(s.rel_gap) else f">{args.limit:.0f}"
        extra = f"  known optimum {cty.money(known)}" if known is not None else ""
        print(f"{name:12s} {r.method:24s} {r.status:9s} {t:>8s} {cty.pct(r.gap):>7s} "
              f"{cty.money(r.objective):>13s} {cty.money(r.bound):>13s} "
              f"{'yes' if ok else 'NO'}{extra}", flush=True)
        out.append({"county": name, **asdict(r), "gap": r.gap, "reached": r.reached(s.rel_gap),
                    "consistent": ok, "limit_s": args.limit, "load": cty.load_average()})
    return out


if __name__ == "__main__":
    sys.exit(main())
