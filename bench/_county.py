"""A county's problem, its single model and the project's own solve, for the county benches.

Shared by ``bench/counties.py`` and ``bench/solvers.py``:

- :func:`problem` reads ``models/<county>.toml`` on its generated inputs (made on demand in
  the same cache as ``siting run --generate``: ``$SITING_CACHE``, else ``~/.cache/siting``)
  and assembles the core's problem exactly as ``siting run`` does
  (:func:`siting.run.pipeline.prepare`, :func:`siting.run.assemble.problem`);
- :func:`single_model` is the baseline: today's one PuLP model over all tiers (the core's
  reductions, then :func:`siting.core.formulation.build`, the objective C − forced), no
  decomposition, no component bounds, no start;
- :func:`own` is the project's own way, :func:`siting.core.optimise` with the scenario's
  solver settings.

Times are wall-clock seconds (``time.perf_counter``); the load average is read when a
figure is printed, so a reader sees what else the machine was doing.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, replace
from pathlib import Path

import pulp

from siting import core
from siting.config import scenario as scenario_mod
from siting.core import formulation, presolve
from siting.core import solve as solver
from siting.core.forced import forced_cost
from siting.core.problem import avoidable_gap
from siting.run import assemble, pipeline
from siting.synth import generate

ROOT = Path(__file__).resolve().parents[1]
COUNTIES = ("zhongyuan", "erqi", "guancheng", "jinshui", "shangjie", "huiji", "zhongmu",
            "jingkai", "gaoxin", "hangkonggang", "gongyi", "xingyang", "xinmi", "xinzheng",
            "dengfeng")
# An independent exact decomposition of 上街区 (generated inputs, generator version 5) found
# this optimum (issue 12); every bench line of shangjie prints it beside the figures.
KNOWN_OPTIMUM = {"shangjie": 32_590_000.0}
GAP_TOL = 1e-9


@dataclass(frozen=True)
class County:
    """A county's scenario, its core problem and the seconds it took to read and assemble."""

    name: str
    scenario: scenario_mod.Scenario
    problem: core.Problem
    prepare_s: float


@dataclass(frozen=True)
class Single:
    """The single model (PuLP) with the forced cost it subtracts, and its size."""

    lp: pulp.LpProblem
    forced: float
    variables: int
    constraints: int
    build_s: float


@dataclass(frozen=True)
class Result:
    """One solve of a county: what was proved, and how long it took."""

    method: str
    objective: float | None   # the plan's cost C
    bound: float | None       # proven lower bound on C
    forced: float
    seconds: float            # wall time from the core's problem to the answer
    status: str               # optimal (within the gap) | feasible | no_solution | ...
    detail: str = ""

    @property
    def gap(self) -> float | None:
        """The proven gap on the avoidable cost, (C − bound) / (C − forced)."""
        if self.objective is None or self.bound is None:
            return None
        return avoidable_gap(self.objective, self.bound, self.forced)

    def reached(self, rel_gap: float) -> bool:
        """Whether the run proved the avoidable gap within ``rel_gap``."""
        return self.gap is not None and self.gap <= rel_gap + GAP_TOL


def load_average() -> str:
    """The 1, 5 and 15 minute load averages, as ``uptime`` shows them."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def scenario_path(county: str) -> Path:
    return ROOT / "models" / f"{county}.toml"


def problem(county: str) -> County:
    """The county's core problem on its generated inputs (generated first when missing)."""
    t0 = time.perf_counter()
    path = scenario_path(county)
    fallback = scenario_mod.generated_fallback(path)
    if fallback is not None:
        slug, folder, seed = fallback
        generate.generate(slug, folder.parent, seed=seed)
    s = scenario_mod.load(path)
    prep = pipeline.prepare(s)
    prob = assemble.problem(s, prep.sites, prep.tiers)
    return County(county, s, prob, time.perf_counter() - t0)


def settings(county: County, limit: float) -> core.SolverSettings:
    """The scenario's solver settings (gap, threads) with the bench's time limit."""
    return replace(pipeline.solver_settings(county.scenario.solver), time_limit_s=limit)


def single_model(prob: core.Problem) -> Single:
    """Today's single model: reductions, one PuLP model of all tiers, objective C − forced."""
    t0 = time.perf_counter()
    small, _ = presolve.reduce(prob)
    forced = forced_cost(small).total
    built = formulation.build(small)
    formulation.without_forced(built, forced)
    lp = built.lp
    return Single(lp, forced, lp.numVariables(), lp.numConstraints(),
                  time.perf_counter() - t0)


def baseline(county: County, limit: float) -> tuple[Result, Single]:
    """The single model handed to HiGHS through the project's own solver seam, no start."""
    single = single_model(county.problem)
    s = settings(county, limit)
    with solver.quiet():
        out = solver.run(single.lp, s, offset=single.forced)
    result = Result("single model, HiGHS", out.objective, out.bound, single.forced,
                    single.build_s + out.seconds, _status(out, s.rel_gap, single.forced),
                    f"build {single.build_s:.1f} s + solve {out.seconds:.1f} s")
    return result, single


def own(county: County, limit: float) -> Result:
    """The project's own solve: :func:`siting.core.optimise` as ``siting run`` calls it."""
    s = settings(county, limit)
    t0 = time.perf_counter()
    sol = core.optimise(county.problem, s)
    seconds = time.perf_counter() - t0
    first = sol.stages[0][1]
    detail = (f"{first.solver}; build {sol.seconds.get('build', 0):.1f} s, start "
              f"{sol.seconds.get('start', 0):.1f} s, solve {sol.seconds.get('solve', 0):.1f} s")
    return Result("siting (core.optimise)", first.objective, first.bound, first.forced, seconds,
                  sol.status, detail)


def _status(out: core.Outcome, rel_gap: float, forced: float) -> str:
    if not out.has_solution or out.objective is None or out.bound is None:
        return out.status
    gap = avoidable_gap(out.objective, out.bound, forced)
    return "optimal" if gap <= rel_gap + GAP_TOL else "feasible"


def quiet_logs() -> None:
    """Warnings only from siting (the benches print their own lines)."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")


def money(x: float | None) -> str:
    return "—" if x is None else f"{x:,.0f}"


def pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.2f}%"
