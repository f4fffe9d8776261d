"""Every county solved twice: today's single model on HiGHS (the baseline), and siting's way.

    python bench/counties.py                                   # all 15 counties, 240 s each
    python bench/counties.py --counties shangjie zhongmu --limit 60
    python bench/counties.py --counties shangjie --limit 5 --json /tmp/c.json

Per county of ``models/city.toml`` (generated inputs, the cache of ``siting run
--generate``; made on demand), the same core problem is solved, in the same run, by:

- **single model, HiGHS** (the baseline): the core's reductions, then one PuLP model of all
  tiers (``siting.core.formulation.build``, objective C − forced so that HiGHS's relative
  gap is the avoidable gap), handed to HiGHS through the project's solver seam with the
  scenario's settings (gap 0.5 %, one thread, seed 0) and the bench's time limit; no
  decomposition, no component bounds, no start;
- **single model + start** (``--with-start``, a second baseline): ``siting.core.optimise(…,
  cut=False)``, the same model warm-started from the greedy solution, banks re-sized after;
- **siting**: ``siting.core.optimise`` as ``siting run`` calls it (tiers and locker pieces
  apart, the whole model only when their plan is not proven).

Each line gives the time to a proven avoidable gap of ``--gap`` (the scenario's 0.5 %), or
``>limit`` and the gap reached when the limit stopped it; the plan's cost C, the proven
bound, the forced cost, and the single model's variables and constraints. Times count from
the core's problem (reading the inputs and the distances, the same for every method, are
shown once as "prepare").
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import _county as cty

from siting import core


def with_start(county: cty.County, limit: float) -> cty.Result:
    """The single model warm-started from the greedy solution (no pieces), re-sized after."""
    t0 = time.perf_counter()
    sol = core.optimise(county.problem, cty.settings(county, limit), cut=False)
    first = sol.stages[0][1]
    return cty.Result("single model + start", first.objective, first.bound, first.forced,
                      time.perf_counter() - t0, sol.status, first.solver)


def line(county: str, r: cty.Result, single: cty.Single, limit: float, rel_gap: float) -> str:
    t = f"{r.seconds:.1f}" if r.reached(rel_gap) else f">{limit:.0f}"
    if not r.reached(rel_gap) and r.seconds < limit:
        t = f"({r.seconds:.1f})"      # stopped short of the gap before the limit
    known = cty.KNOWN_OPTIMUM.get(county)
    extra = f"  known optimum {cty.money(known)}" if known is not None else ""
    return (f"{county:12s} {r.method:24s} {r.status:9s} {t:>8s} {cty.pct(r.gap):>7s} "
            f"{cty.money(r.objective):>13s} {cty.money(r.bound):>13s} {cty.money(r.forced):>13s} "
            f"{single.variables:>9,d} {single.constraints:>9,d}  {r.detail}{extra}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--counties", nargs="*", default=list(cty.COUNTIES))
    ap.add_argument("--limit", type=float, default=240.0, help="seconds per solve (240)")
    ap.add_argument("--gap", type=float, default=None,
                    help="avoidable gap to prove (default: the scenario's rel_gap, 0.5 %%)")
    ap.add_argument("--with-start", action="store_true",
                    help="also solve the single model warm-started (core.optimise cut=False)")
    ap.add_argument("--json", type=Path, help="write every result here as JSON")
    args = ap.parse_args()
    cty.quiet_logs()
    print(f"# bench/counties.py --limit {args.limit:g}; load average {cty.load_average()}")
    print(f"{'county':12s} {'method':24s} {'status':9s} {'to gap s':>8s} {'gap':>7s} "
          f"{'objective':>13s} {'bound':>13s} {'forced':>13s} {'variables':>9s} "
          f"{'rows':>9s}  detail")
    rows = []
    for name in args.counties:
        county = cty.problem(name)
        if args.gap is not None:
            county = replace(county, scenario=replace(
                county.scenario, solver=replace(county.scenario.solver, rel_gap=args.gap)))
        rel_gap = county.scenario.solver.rel_gap
        print(f"{name:12s} prepare (read, candidates, distances) {county.prepare_s:.1f} s; "
              f"load average {cty.load_average()}", flush=True)
        base, single = cty.baseline(county, args.limit)
        results = [base]
        if args.with_start:
            results.append(with_start(county, args.limit))
        results.append(cty.own(county, args.limit))
        for r in results:
            print(line(name, r, single, args.limit, rel_gap), flush=True)
            rows.append({"county": name, **asdict(r), "gap": r.gap,
                         "reached": r.reached(rel_gap), "rel_gap": rel_gap,
                         "variables": single.variables, "constraints": single.constraints,
                         "limit_s": args.limit, "load": cty.load_average(),
                         "known_optimum": cty.KNOWN_OPTIMUM.get(name)})
        del single
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1), encoding="utf-8")
    own = sum(r["reached"] for r in rows if r["method"].startswith("siting"))
    base = sum(r["reached"] for r in rows if r["method"].startswith("single model,"))
    print(f"siting proved the gap on {own} of {len(args.counties)} counties, the baseline on "
          f"{base}; load average {cty.load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
