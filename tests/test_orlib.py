"""The model against OR-Library instances with proven optima (scp41–45, pmed1–5)."""

from __future__ import annotations

import csv

import numpy as np
import orlib_reader as orlib  # bench/, on the path by conftest
import pytest

from siting.core import SolverSettings, covering, optimise, p_median

from .conftest import ORLIB

CFG = SolverSettings(time_limit_s=120)


def _optima(name: str, col: str) -> dict[str, float]:
    with (ORLIB / name).open(encoding="utf-8") as f:
        return {r["instance"]: float(r[col]) for r in csv.DictReader(f) if r[col].strip()}


@pytest.mark.parametrize("name", ["scp41", "scp42", "scp43", "scp44", "scp45"])
def test_set_covering_reaches_the_proven_optimum(name):
    inst = orlib.read_scp(ORLIB / "scp" / f"{name}.txt.gz")
    optimum = _optima("scp_known_optima.csv", "optimal_or_best_known_cost")[name]
    sol = optimise(covering(inst.cost, inst.cover, name="cover"), CFG)
    out = sol.stages[0][1]
    assert sol.cost == pytest.approx(optimum)
    assert out.status == "optimal"
    assert out.gap == pytest.approx(0.0, abs=1e-9)
    assert (inst.cover @ sol.open["cover"].astype(int) >= 1).all()


@pytest.mark.parametrize("name", ["pmed1", "pmed2", "pmed3", "pmed4", "pmed5"])
def test_p_median_reaches_the_proven_optimum(name):
    inst = orlib.read_pmed(ORLIB / "pmed" / f"{name}.txt.gz")
    optimum = _optima("pmed_known_optima.csv", "optimal_objective")[name]
    sol = optimise(p_median(inst.dist, inst.p, name="m"), CFG)
    out = sol.stages[0][1]
    assert out.objective == pytest.approx(optimum)
    assert out.bound == pytest.approx(optimum)
    assert out.gap == pytest.approx(0.0, abs=1e-9)
    chosen = np.flatnonzero(sol.open["m"])
    assert len(chosen) == inst.p
    # the objective recomputed from the chosen medians alone
    assert inst.dist[:, chosen].min(axis=1).sum() == pytest.approx(optimum)


def test_a_node_limit_stops_the_same_way_and_keeps_the_solvers_bound():
    """HiGHS's mip_max_nodes (set for sub-solves, deterministic unlike a clock): PuLP does not
    know the status; siting reports 'feasible' with the solver's own bound, twice alike."""
    inst = orlib.read_scp(ORLIB / "scp" / "scp61.txt.gz")
    optimum = _optima("scp_known_optima.csv", "optimal_or_best_known_cost")["scp61"]
    cfg = SolverSettings(time_limit_s=120, max_nodes=1)
    runs = [optimise(covering(inst.cost, inst.cover, name="cover"), cfg) for _ in range(2)]
    out = runs[0].stages[0][1]
    assert out.status == "feasible"
    assert out.bound <= optimum <= out.objective
    assert out.objective > out.bound                      # stopped before the proof
    assert np.array_equal(runs[0].open["cover"], runs[1].open["cover"])
    assert (inst.cover @ runs[0].open["cover"].astype(int) >= 1).all()
