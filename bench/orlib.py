"""OR-Library p-median and set covering: siting's model against the known optima.

    python bench/orlib.py [INSTANCE …] [--time-limit S] [--baseline-limit S] [--no-baseline]
                          [--baseline-solvers cbc highs]

Solves the named instances of ``bench/orlib/`` (all of them when none are named) with
``siting.core.optimise`` (HiGHS; set covering as one cover tier, p-median in Elloumi's
form) and, in the same run, with the *plain* formulation the verification logs used
(PuLP: ``min c·x, A x >= 1`` for set covering; ``x_ij <= y_j, Σ_j x_ij = 1, Σ y = p``
over all pairs for the p-median), solved by CBC and by HiGHS (PuLP's ``HiGHS`` class,
highspy in-process, one thread): the HiGHS column measures the formulation, not the solver.
Prints one line per instance: objective, known optimum (``*`` where it is only the best
known), proven gap (read from the solver), seconds, each plain run's seconds (``>`` when it
hit its time limit; model building included, as in siting's seconds) and the ratio.
"""

from __future__ import annotations

import argparse
import csv
import logging
import sys
import time
from pathlib import Path

import numpy as np
import pulp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import orlib_reader as orlib

from siting.core import SolverSettings, covering, optimise, p_median
from siting.core.solve import cbc_path

DATA = ROOT / "bench" / "orlib"


def known() -> dict[str, tuple[float, bool]]:
    """Instance -> (optimum or best known, proven)."""
    out = {}
    for name in ("pmed_known_optima.csv", "scp_known_optima.csv"):
        with (DATA / name).open(encoding="utf-8") as f:
            for row in csv.DictReader(f):
                if "optimal_objective" in row:
                    out[row["instance"]] = (float(row["optimal_objective"]), True)
                elif row["optimal_or_best_known_cost"].strip():
                    out[row["instance"]] = (float(row["optimal_or_best_known_cost"]),
                                            row["status"].startswith("proven"))
                else:       # listed with no known value (unicost CYC/CLR)
                    out[row["instance"]] = (float("nan"), False)
    return out


def path_of(name: str) -> Path:
    sub = "pmed" if name.startswith("pmed") else "scp"
    return DATA / sub / f"{name}.txt.gz"


def ours(name: str, limit: float) -> tuple[float, float | None, float]:
    """(objective, proven gap, seconds) by siting's model."""
    settings = SolverSettings(time_limit_s=limit, rel_gap=0.0)
    start = time.perf_counter()
    if name.startswith("pmed"):
        med = orlib.read_pmed(path_of(name))
        sol = optimise(p_median(med.dist, med.p, name="median"), settings)  # finite pairs
        out = sol.stages[0][1]
        return float(out.objective or np.nan), out.gap, time.perf_counter() - start
    sc = orlib.read_scp(path_of(name))
    sol = optimise(covering(sc.cost, sc.cover, name="cover"), settings)
    return sol.cost, sol.stages[0][1].gap, time.perf_counter() - start


def plain(name: str, limit: float, solver: str = "cbc") -> tuple[float, bool]:
    """(seconds, finished) of the plain PuLP formulation solved by CBC or HiGHS."""
    start = time.perf_counter()
    prob = pulp.LpProblem(name, pulp.LpMinimize)
    if name.startswith("pmed"):
        inst = orlib.read_pmed(path_of(name))
        n = len(inst.dist)
        y = [prob.add_variable(f"y{j}", 0, 1, pulp.LpBinary) for j in range(n)]
        x = [[prob.add_variable(f"x{i}_{j}", 0, 1) for j in range(n)] for i in range(n)]
        prob += pulp.lpSum(inst.dist[i, j] * x[i][j] for i in range(n) for j in range(n))
        for i in range(n):
            prob += pulp.lpSum(x[i]) == 1
            for j in range(n):
                prob += x[i][j] <= y[j]
        prob += pulp.lpSum(y) == inst.p
    else:
        sc = orlib.read_scp(path_of(name))
        xs = [prob.add_variable(f"x{j}", 0, 1, pulp.LpBinary) for j in range(len(sc.cost))]
        prob += pulp.lpSum(c * v for c, v in zip(sc.cost, xs, strict=True))
        for i in range(sc.cover.shape[0]):
            cols = sc.cover.indices[sc.cover.indptr[i]:sc.cover.indptr[i + 1]]
            prob += pulp.lpSum(xs[j] for j in cols) >= 1
    if solver == "highs":
        prob.solve(pulp.HiGHS(msg=False, timeLimit=limit, threads=1))
    else:
        prob.solve(pulp.COIN_CMD(path=cbc_path(), msg=False, timeLimit=limit))
    seconds = time.perf_counter() - start
    return seconds, seconds < limit * 0.98


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("instances", nargs="*")
    ap.add_argument("--time-limit", type=float, default=900.0)
    ap.add_argument("--baseline-limit", type=float, default=300.0)
    ap.add_argument("--no-baseline", action="store_true")
    ap.add_argument("--baseline-solvers", nargs="*", default=["cbc", "highs"],
                    choices=["cbc", "highs"])
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    optima = known()
    names = args.instances or sorted(
        optima, key=lambda s: (s.startswith("scp"), len(s), s))
    heads = "".join(f" {'plain ' + b + ' s':>14s} {'ratio':>7s}"
                    for b in ([] if args.no_baseline else args.baseline_solvers))
    print(f"{'instance':10s} {'objective':>10s} {'optimum':>10s} {'gap':>8s} {'siting s':>9s}"
          f"{heads}")
    worst = ("", 0.0)
    all_ok = True
    for name in names:
        obj, gap, secs = ours(name, args.time_limit)
        opt, proven = optima.get(name, (float("nan"), False))
        cells = ""
        for b in [] if args.no_baseline else args.baseline_solvers:
            took, done = plain(name, args.baseline_limit, b)
            mark = "" if done else ">"
            cells += f" {mark + f'{took:.1f}':>14s} {mark + f'{took / secs:.1f}x':>7s}"
        ok = abs(obj - opt) < 1e-6 and gap is not None and gap <= 1e-9
        all_ok &= ok or not proven
        if secs > worst[1]:
            worst = (name, secs)
        gap_s = "n/a" if gap is None else f"{100 * gap:.3g}%"
        print(f"{name:10s} {obj:10.0f} {opt:10.0f}{'' if proven else '*'} {gap_s:>8s} "
              f"{secs:9.1f}{cells} {'' if ok else ' MISMATCH'}", flush=True)
    print(f"slowest: {worst[0]} ({worst[1]:.1f} s); every proven optimum matched with a "
          f"proven gap of 0: {all_ok}")
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
