"""CP-SAT on a MIP's arrays, in a process of its own (used by ``bench/solvers.py``).

    python bench/_cpsat.py ARRAYS.npz LIMIT GAP THREADS     # prints one JSON line

OR-Tools bundles its own HiGHS, whose symbols clash with highspy's in one process, so
``bench/solvers.py`` reads the MPS file with highspy, saves its arrays (costs, column and
row bounds, the CSR constraint matrix) with :func:`save`, and runs this file on them; this
process imports neither highspy nor siting.

CP-SAT has only integer variables. Each row is scaled by the smallest power of ten that
makes its coefficients and bounds whole (a row's bounds are rounded inwards, valid for
integer columns), the objective likewise; continuous columns become integer columns (why
that keeps the siting model's optimum: ``bench/solvers.py``). A column with no upper bound
gets the largest finite bound of the model.
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import scipy.sparse as sp

BIG = 1e20      # |bound| at or above this is infinite (HiGHS's kHighsInf is inf)


def save(path: Path, cost: np.ndarray, col_lo: np.ndarray, col_up: np.ndarray,
         rows: sp.csr_array, row_lo: np.ndarray, row_up: np.ndarray) -> None:
    """The model's arrays for :func:`model` (in another process)."""
    np.savez(path, cost=cost, col_lo=col_lo, col_up=col_up, data=rows.data,
             indices=rows.indices, indptr=rows.indptr, shape=np.array(rows.shape),
             row_lo=row_lo, row_up=row_up)


def power(values: np.ndarray) -> int:
    """The smallest power of ten (up to 10^6) that makes every value whole."""
    for e in range(7):
        v = values * 10 ** e
        if np.all(np.abs(v - np.rint(v)) <= 1e-9 * np.maximum(1, np.abs(v))):
            return 10 ** e
    raise ValueError("coefficients are not decimal numbers with at most 6 digits")


def _whole(x: float, default: int, rnd: Callable[[float], int]) -> int:
    return default if not math.isfinite(x) or abs(x) >= BIG else int(rnd(round(x, 9)))


def model(arrays: dict[str, np.ndarray]) -> tuple[object, float]:
    """The CP-SAT model of the arrays, and the scale of its objective."""
    from ortools.sat.python import cp_model

    rows = sp.csr_array((arrays["data"], arrays["indices"], arrays["indptr"]),
                        shape=tuple(arrays["shape"]))
    col_lo, col_up = arrays["col_lo"], arrays["col_up"]
    row_lo, row_up = arrays["row_lo"], arrays["row_up"]
    finite = np.concatenate([x[np.isfinite(x) & (np.abs(x) < BIG)]
                             for x in (col_lo, col_up, row_lo, row_up)])
    cap = math.ceil(max(1.0, float(np.abs(finite).max(initial=1.0))))
    m = cp_model.CpModel()
    xs = [m.new_int_var(_whole(lo, -cap, math.ceil), _whole(up, cap, math.floor), f"c{j}")
          for j, (lo, up) in enumerate(zip(col_lo, col_up, strict=True))]
    for i in range(rows.shape[0]):
        a, b = rows.indptr[i], rows.indptr[i + 1]
        cols, vals = rows.indices[a:b], rows.data[a:b]
        bounds = [x for x in (row_lo[i], row_up[i]) if abs(x) < BIG]
        k = power(np.concatenate([vals, bounds]))
        lhs = cp_model.LinearExpr.weighted_sum([xs[j] for j in cols],
                                               np.rint(vals * k).astype(np.int64).tolist())
        if abs(row_lo[i]) < BIG:
            m.add(lhs >= math.ceil(round(row_lo[i] * k, 9)))
        if abs(row_up[i]) < BIG:
            m.add(lhs <= math.floor(round(row_up[i] * k, 9)))
    cost = arrays["cost"]
    scale = float(power(cost))
    nz = np.flatnonzero(cost)
    m.minimize(cp_model.LinearExpr.weighted_sum(
        [xs[j] for j in nz], np.rint(cost[nz] * scale).astype(np.int64).tolist()))
    return m, scale


def solve(path: Path, limit: float, gap: float, threads: int) -> dict[str, object]:
    from ortools import __version__
    from ortools.sat.python import cp_model

    t0 = time.perf_counter()
    with np.load(path) as f:
        m, scale = model(dict(f))
    built = time.perf_counter() - t0
    s = cp_model.CpSolver()
    s.parameters.max_time_in_seconds = limit
    s.parameters.relative_gap_limit = gap
    s.parameters.num_workers = threads
    s.parameters.random_seed = 0
    status = s.solve(m)
    found = status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    return {"solver": f"CP-SAT {__version__}", "status": s.status_name(status),
            "objective": s.objective_value / scale if found else None,
            "bound": s.best_objective_bound / scale if found else None,
            "build_s": built, "seconds": time.perf_counter() - t0}


if __name__ == "__main__":
    print(json.dumps(solve(Path(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]),
                           int(sys.argv[4]))))
