"""Whose parcels go to which bank: a transport problem over the open banks of a plan.

The model decides how many compartments each open bank has, and that together they hold
every area's parcels; it does not say which bank takes which area's parcels. The nearest
bank is no answer for a capacitated tier: the nearest banks of a dense block would take more
than they hold, and the banks opened for that overflow would seem to serve nobody. This
module sends each area's parcels to the banks that reach it, as near as the capacities allow.

Formulation (rows r = demand units, columns s = open sites, pairs (r, s) that reach)::

    minimise    sum_(r,s) d_rs x_rs + M sum_r u_r
    subject to  sum_s x_rs + u_r = q_r       for every row r        (its parcels, or short)
                sum_r x_rs      <= c_s       for every column s     (the bank's compartments)
                x, u >= 0

with ``d`` the road distance, ``q`` a row's compartments, ``c`` a bank's compartments and
``u`` what a row cannot place. ``M`` exceeds the distance any re-routing of one compartment
can save (longer than an alternating path through every column), so ``u`` is non-zero only
where the capacities within reach fall short. Solved by HiGHS through
:func:`scipy.optimize.linprog`, which is deterministic for the same arrays.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

from siting.core._errors import SolverError


def transport(dist: sp.csr_array, capacity: np.ndarray, demand: np.ndarray
              ) -> tuple[sp.csr_array, np.ndarray]:
    """The cheapest flows of each row's demand to the columns within reach.

    Parameters
    ----------
    dist
        (rows, columns) road distance of every pair that reaches (a stored 0 is a pair of
        distance 0); the columns are the open banks.
    capacity
        (columns,) what each column holds.
    demand
        (rows,) what each row sends.

    Returns
    -------
    flows, short
        ``flows`` (rows, columns), the pairs of ``dist``, what each row sends each column;
        ``short`` (rows,) what a row could not place for want of capacity within reach.
    """
    m = sp.csr_array(dist, dtype=float)
    n_rows, n_cols = m.shape
    n_pairs = m.nnz
    if n_pairs == 0:
        return sp.csr_array((n_rows, n_cols)), np.asarray(demand, float).copy()
    rows = np.repeat(np.arange(n_rows), np.diff(m.indptr))
    cols = m.indices
    penalty = (2.0 * n_cols + 2.0) * (float(m.data.max()) + 1.0)
    c = np.concatenate([m.data, np.full(n_rows, penalty)])
    pair = np.arange(n_pairs)
    eq = sp.csr_array((np.ones(n_pairs + n_rows),
                       (np.concatenate([rows, np.arange(n_rows)]),
                        np.concatenate([pair, n_pairs + np.arange(n_rows)]))),
                      shape=(n_rows, n_pairs + n_rows))
    ub = sp.csr_array((np.ones(n_pairs), (cols, pair)), shape=(n_cols, n_pairs + n_rows))
    got = linprog(c, A_ub=ub, b_ub=np.asarray(capacity, float), A_eq=eq,
                  b_eq=np.asarray(demand, float), bounds=(0, None), method="highs")
    if got.status != 0:
        raise SolverError(f"the transport of demand to the open banks failed: {got.message}")
    x = np.where(got.x > 1e-9, got.x, 0.0)
    flows = sp.csr_array((x[:n_pairs], m.indices.copy(), m.indptr.copy()), shape=m.shape)
    return flows, x[n_pairs:]
