"""Seeded clustered siting instances for bench/spopt_compare.py: towns, villages, roads.

The landscape is a square whose area grows with the number of demand points (about 2,000
points per 900 km²), so the density, and with it the number of candidates within the
service radius, stays the same at every size:

- **towns** (3 per 2,000 demand points): dense Gaussian clusters (σ 0.8–2 km) holding 45 %
  of the demand points, residential blocks of about 800 people each (log-normal);
- **villages**: small clusters of 3–15 points (σ 150 m), about 110 people per point,
  70 % of them scattered around the towns (σ 8 km), the rest anywhere;
- **roads**: a minimum spanning tree over the town and village centres (on a 6-nearest-
  neighbour graph), i.e. the shortest network that links every settlement;
- **candidates**: one near each village centre (its post office), then half of the rest near
  demand points (jitter 250 m), half along the roads (by length, jitter 40 m).

Distances are Euclidean in metres. The radius is fixed (3 km); every demand point is within
it of at least one candidate (checked), so the set cover is feasible.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import minimum_spanning_tree
from scipy.spatial import cKDTree

RADIUS_M = 3_000.0
POINTS_PER_900_KM2 = 2_000


@dataclass(frozen=True)
class Instance:
    """Demand points with populations, candidate sites, the radius and the p of each model."""

    demand: np.ndarray        # (n, 2) metres
    weight: np.ndarray        # (n,) population
    sites: np.ndarray         # (m, 2) metres
    radius: float
    p_mclp: int               # facilities for the maximal covering model
    p_median: int             # facilities for the p-median (enough to serve all within R)
    side_m: float

    @property
    def shape(self) -> tuple[int, int]:
        """(demand points, candidates)."""
        return len(self.demand), len(self.sites)


def make(n_demand: int, n_sites: int, *, seed: int = 2024) -> Instance:
    """The seeded instance of this size (identical for every caller with the same seed)."""
    rng = np.random.default_rng([seed, n_demand, n_sites])
    side = 30_000.0 * np.sqrt(n_demand / POINTS_PER_900_KM2)
    n_towns = max(3, round(3 * n_demand / POINTS_PER_900_KM2))
    towns = rng.uniform(0.1 * side, 0.9 * side, (n_towns, 2))
    n_town_pts = int(0.45 * n_demand)
    town_pts, town_w = _towns(rng, towns, n_town_pts)
    vil_centres, vil_pts, vil_w = _villages(rng, towns, n_demand - n_town_pts, side)
    demand = np.clip(np.vstack([town_pts, vil_pts]), 0, side)
    weight = np.concatenate([town_w, vil_w])
    roads = _roads(np.vstack([towns, vil_centres]))
    sites = _candidates(rng, demand, vil_centres, roads, n_sites, side)
    _check_feasible(demand, sites, RADIUS_M)
    return Instance(demand, weight, sites, RADIUS_M, p_mclp=max(5, n_sites // 25),
                    p_median=max(10, n_sites // 8), side_m=side)


def _towns(rng: np.random.Generator, centres: np.ndarray, n: int,
           ) -> tuple[np.ndarray, np.ndarray]:
    share = rng.dirichlet(np.full(len(centres), 2.0))
    which = rng.choice(len(centres), size=n, p=share)
    sigma = rng.uniform(800, 2_000, len(centres))
    pts = centres[which] + rng.normal(size=(n, 2)) * sigma[which, None]
    return pts, np.maximum(1, np.round(rng.lognormal(np.log(800), 0.6, n)))


def _villages(rng: np.random.Generator, towns: np.ndarray, n: int, side: float,
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    sizes: list[int] = []
    while sum(sizes) < n:
        sizes.append(int(rng.integers(3, 16)))
    sizes[-1] -= sum(sizes) - n
    if sizes[-1] <= 0:
        sizes.pop()
        sizes[-1] += n - sum(sizes)
    k = len(sizes)
    near = rng.random(k) < 0.7
    centres = np.where(near[:, None],
                       towns[rng.integers(0, len(towns), k)] + rng.normal(size=(k, 2)) * 8_000,
                       rng.uniform(0, side, (k, 2)))
    centres = np.clip(centres, 0, side)
    owner = np.repeat(np.arange(k), sizes)
    pts = centres[owner] + rng.normal(size=(n, 2)) * 150
    return centres, pts, np.maximum(1, np.round(rng.lognormal(np.log(110), 0.7, n)))


def _roads(nodes: np.ndarray) -> np.ndarray:
    """Segments (s, 4) of the spanning tree over settlement centres: x0, y0, x1, y1."""
    k = min(7, len(nodes))
    dist, idx = cKDTree(nodes).query(nodes, k=k)
    rows = np.repeat(np.arange(len(nodes)), k - 1)
    g = sp.csr_array((dist[:, 1:].ravel() + 1e-6, (rows, idx[:, 1:].ravel())),
                     shape=(len(nodes), len(nodes)))
    tree = minimum_spanning_tree(g).tocoo()
    return np.hstack([nodes[tree.row], nodes[tree.col]])


def _candidates(rng: np.random.Generator, demand: np.ndarray, vil_centres: np.ndarray,
                roads: np.ndarray, n_sites: int, side: float) -> np.ndarray:
    offices = vil_centres + rng.normal(size=vil_centres.shape) * 100
    if len(offices) > n_sites // 2:
        offices = offices[rng.choice(len(offices), n_sites // 2, replace=False)]
    rest = n_sites - len(offices)
    n_near = rest // 2
    near = demand[rng.integers(0, len(demand), n_near)] + rng.normal(size=(n_near, 2)) * 250
    length = np.hypot(roads[:, 2] - roads[:, 0], roads[:, 3] - roads[:, 1])
    seg = rng.choice(len(roads), rest - n_near, p=length / length.sum())
    t = rng.random(len(seg))[:, None]
    along = roads[seg, :2] * (1 - t) + roads[seg, 2:] * t
    along += rng.normal(size=along.shape) * 40
    return np.clip(np.vstack([offices, near, along]), 0, side)


def _check_feasible(demand: np.ndarray, sites: np.ndarray, radius: float) -> None:
    d, _ = cKDTree(sites).query(demand, k=1)
    far = int((d > radius).sum())
    if far:
        raise ValueError(f"{far} demand points have no candidate within {radius:.0f} m; "
                         "the generator must place more candidates near villages")


def pairs(inst: Instance) -> sp.csr_array:
    """Distances of the (demand, candidate) pairs within the radius, by KD-tree, sparse.

    Zero distances are kept as explicit entries (the structure is what counts).
    """
    tree_d, tree_s = cKDTree(inst.demand), cKDTree(inst.sites)
    coo = tree_d.sparse_distance_matrix(tree_s, inst.radius, output_type="ndarray")
    n, m = inst.shape
    out = sp.csr_array((coo["v"], (coo["i"], coo["j"])), shape=(n, m))
    out.sort_indices()
    return out
