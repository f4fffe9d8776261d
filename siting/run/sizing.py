"""Size before cost: each tier's coverage pairs and memory, estimated before any distance.

A road tier's pairs (demand unit, site within ``radius_m`` by road) are at most the pairs
within ``radius_m`` as the crow flies, which a k-d tree counts in a moment. A radius far
beyond the county's size makes every unit reach every site: on 中牟县, ``radius_m = 1e9``
built 4 M pairs, peaked at 9.2 GB and ran for minutes. Above ``[solver] max_pairs`` the run
is refused with the numbers; above a third of it, a warning says what is coming.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from siting._errors import SitingError, ValidationError
from siting.config.scenario import Scenario, TierConfig

log = logging.getLogger(__name__)

BYTES_PER_PAIR = 2300
"""Peak memory per coverage pair, measured: 9.2 GB for 4 M pairs on 中牟县 (distances,
the model and the solver together)."""


def estimate(units: pd.DataFrame, sites: pd.DataFrame, rows: np.ndarray, radius: float) -> int:
    """Pairs of (unit in ``rows``, site) within ``radius`` metres as the crow flies."""
    if len(rows) == 0 or len(sites) == 0:
        return 0
    tree = cKDTree(np.column_stack([sites["x"].to_numpy(float), sites["y"].to_numpy(float)]))
    span = float(np.hypot(*np.ptp(tree.data, axis=0)))
    if radius >= span:                  # every site is in reach: no need to count
        return len(rows) * len(sites)
    xy = np.column_stack([units["x"].to_numpy(float)[rows], units["y"].to_numpy(float)[rows]])
    return int(tree.query_ball_point(xy, radius, return_length=True).sum())


def check(scenario: Scenario, units: pd.DataFrame, sites: pd.DataFrame,
          rows: dict[str, np.ndarray], warnings: list[str]) -> None:
    """Refuse a tier whose estimated pairs exceed ``[solver] max_pairs``; warn above a third.

    Parameters
    ----------
    rows
        Each tier's demand rows (indices into ``units``).
    warnings
        Appended with a warning per tier that is large but allowed.

    Raises
    ------
    ValidationError
        Naming each tier over the limit, its estimate, the memory it needs and the fix.
    """
    limit = scenario.solver.max_pairs
    problems = []
    for name, cfg in scenario.tiers.items():
        if cfg.reach != "road" or cfg.radius_m is None:
            continue
        pairs = estimate(units, sites, rows[name], cfg.radius_m)
        log.info("size %s: about %s coverage pairs within %g m (at most %s)", name,
                 f"{pairs:,}", cfg.radius_m, f"{limit:,}")
        if pairs > limit:
            problems.append(_text(scenario, name, cfg, pairs, len(rows[name]), len(sites))
                            + f" This is above [solver] max_pairs = {limit:,}. Lower "
                            f"[tiers.{name}] radius_m, or raise [solver] max_pairs if the "
                            "machine has the memory.")
        elif pairs > limit / 3:
            warnings.append(_text(scenario, name, cfg, pairs, len(rows[name]), len(sites))
                            + " Expect a long run.")
    if problems:
        raise ValidationError(problems)


def _text(scenario: Scenario, name: str, cfg: TierConfig, pairs: int, n_rows: int,
          n_sites: int) -> str:
    mb = pairs * BYTES_PER_PAIR / 1e6
    memory = f"{mb / 1000:.1f} GB" if mb >= 100 else f"{mb:.1f} MB"
    return (f"{scenario.path.name}: tier '{name}': [tiers.{name}] radius_m = "
            f"{cfg.radius_m:g} gives about {pairs:,} coverage pairs ({n_rows:,} demand units "
            f"× {n_sites:,} sites, those within {cfg.radius_m:g} m as the crow flies), "
            f"about {memory} of memory.")


class Deadline:
    """The user's time limit for the whole run, not only the solver's call.

    Started when the run starts; :meth:`check` after each long stage before the solve stops
    the run with a clear message once the limit is spent, and :meth:`left` is what the
    solver may still use.
    """

    def __init__(self, limit_s: float, *, scenario: str = "the scenario") -> None:
        self.limit_s = limit_s
        self.scenario = scenario
        self.start = time.perf_counter()

    def spent(self) -> float:
        """Seconds since the run started."""
        return time.perf_counter() - self.start

    def left(self) -> float:
        """Seconds the solver may still use (at least one)."""
        return max(1.0, self.limit_s - self.spent())

    def check(self, stage: str) -> None:
        """Stop the run when the limit is spent.

        Raises
        ------
        SitingError
            Naming the stage, the time spent and the fix.
        """
        spent = self.spent()
        if spent > self.limit_s:
            raise SitingError(
                f"{self.scenario}: the time limit of {self.limit_s:g} s was spent before the "
                f"solve: {spent:.1f} s had gone by the end of '{stage}'. Raise --time-limit (or "
                "[solver] time_limit_s), or make the run smaller: a shorter radius_m, fewer "
                "candidates ([candidates] min_spacing_m), a smaller road file.")

    def progress(self, stage: str, inner: Callable[[int, int], None] | None,
                 ) -> Callable[[int, int], None]:
        """A progress callback for ``stage`` that stops it once the limit is spent."""
        def report(done: int, total: int) -> None:
            if inner is not None:
                inner(done, total)
            self.check(stage)
        return report
