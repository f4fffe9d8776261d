"""OR-Library instances (J. E. Beasley) as arrays for the benchmarks: set covering, p-median.

``siting.core.covering(inst.cost, inst.cover)`` and ``siting.core.p_median(inst.dist, inst.p)``
turn them into problems.

- Set covering (``scp*``): ``m n``, then the ``n`` column costs, then for each row its
  number of covering columns and those columns (1-based).
- p-median (``pmed*``): ``n edges p``, then ``edges`` lines ``i j cost`` (undirected,
  1-based; where an edge appears twice the last one wins). Costs between vertices are
  all-pairs shortest paths.

Files may be gzip-compressed (``.gz``).
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from scipy.sparse import csgraph

from siting._errors import InputError


def _numbers(path: Path) -> np.ndarray:
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt") as f:  # type: ignore[operator]
            return np.array(f.read().split(), dtype=np.float64)
    except (OSError, ValueError) as e:
        raise InputError(f"{path}: not an OR-Library instance ({e}).") from e


@dataclass(frozen=True)
class SetCover:
    """min c·x subject to A x ≥ 1, x binary."""

    name: str
    cost: np.ndarray       # (n,)
    cover: sp.csr_array    # (m, n) 0/1


@dataclass(frozen=True)
class PMedian:
    """Choose p of n vertices minimising the total distance of every vertex to its nearest."""

    name: str
    p: int
    dist: np.ndarray       # (n, n) all-pairs shortest-path lengths


def instance_name(path: Path) -> str:
    """'scp41' from 'scp41.txt.gz'."""
    return path.name.split(".")[0]


def read_scp(path: str | Path) -> SetCover:
    """Read a set-covering instance."""
    path = Path(path)
    v = _numbers(path)
    m, n = int(v[0]), int(v[1])
    cost = v[2:2 + n]
    rows, cols = [], []
    k = 2 + n
    for i in range(m):
        count = int(v[k])
        cols.append(v[k + 1:k + 1 + count].astype(np.int64) - 1)
        rows.append(np.full(count, i, dtype=np.int64))
        k += 1 + count
    r, c = np.concatenate(rows), np.concatenate(cols)
    a = sp.csr_array((np.ones(len(r), dtype=np.int8), (r, c)), shape=(m, n))
    a.sum_duplicates()
    a.data[:] = 1
    return SetCover(instance_name(path), cost, a)


def read_pmed(path: str | Path) -> PMedian:
    """Read a p-median instance and compute its all-pairs shortest paths."""
    path = Path(path)
    v = _numbers(path)
    n, e, p = int(v[0]), int(v[1]), int(v[2])
    edges = v[3:3 + 3 * e].reshape(e, 3)
    weight: dict[tuple[int, int], float] = {}
    for i, j, c in edges:
        a, b = int(i) - 1, int(j) - 1
        weight[(min(a, b), max(a, b))] = c          # the last duplicate wins
    keys = np.array(list(weight), dtype=np.int64).reshape(-1, 2)
    w = np.array(list(weight.values()))
    g = sp.csr_array((w, (keys[:, 0], keys[:, 1])), shape=(n, n))
    dist = csgraph.shortest_path(g, method="D", directed=False)
    return PMedian(instance_name(path), p, dist)
