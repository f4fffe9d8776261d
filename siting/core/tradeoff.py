"""Trade-off curves: how much of a tier's demand k new sites can reach, for a few k.

For each tier that serves demand units, a few single-tier ``max_coverage`` solves (the
tier's demand rows weighted by population — or one each — and at most ``existing + k``
sites, for k from 0 to the number of new sites the run chose) give the best coverage
reachable with k new sites. The report draws them as curves: where the last sites buy
little, a planner sees it. Each point carries the gap its solve proved; each solve stops at
a node limit (or the proven 1 % gap), not at a clock, so the curves are the same on every run.
"""

from __future__ import annotations

import logging
from dataclasses import replace

import numpy as np
import scipy.sparse as sp

from siting.core._errors import CoreError
from siting.core.optimise import optimise
from siting.core.problem import Problem, SolverSettings, TierData
from siting.core.solve import quiet

log = logging.getLogger(__name__)


POINT_NODES = 1_000    # branch-and-bound nodes per point of a curve, at most


def curve(tier: TierData, rows: int, weight: np.ndarray, chosen_new: int, *,
          points: int, settings: SolverSettings) -> list[dict[str, float]]:
    """[{new_sites, reached_share, gap}] for ``points`` values of k from 0 to ``chosen_new``."""
    if tier.cover is None and tier.reach is None:
        return []
    m = sp.csr_array(tier.cover if tier.reach is None else tier.reach)[:rows]
    w = np.asarray(weight, float)[:rows]
    if len(w) == 0 or w.sum() <= 0:
        return []
    existing = int(tier.existing.sum())
    ks = sorted({round(chosen_new * f) for f in np.linspace(0, 1, max(2, points))})
    quick = replace(settings, rel_gap=0.01, max_nodes=POINT_NODES)
    base = replace(tier, cover=None, reach=m, weight=w, min_count=0, sizes=(), demand=None,
                   demand_rows=None, existing_capacity=None, dist=None)
    out = []
    for k in ks:
        t = replace(base, max_count=existing + k)
        problem = Problem(len(tier.cost), (t,), objective="max_coverage")
        try:
            with quiet():
                sol = optimise(problem, quick, cut=False)
        except CoreError as e:          # pragma: no cover - reported, not raised
            log.warning("trade-off %s at %d sites: %s", tier.name, k, e)
            continue
        out.append({"new_sites": k, "reached_share": sol.reached_weight / w.sum(),
                    "gap": sol.stages[0][1].gap})
    return out
