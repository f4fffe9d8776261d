"""The model against OR-Library instances with proven optima."""

from __future__ import annotations

import numpy as np
import pytest

from siting import orlib
from siting.model import Problem, TierData, optimise
from siting.scenario import SolverConfig

from .conftest import ORLIB


def test_scp41_reaches_the_proven_optimum_429_with_a_proven_gap_of_zero():
    inst = orlib.read_scp(ORLIB / "scp" / "scp41.txt.gz")
    assert inst.cover.shape == (200, 1000)
    tier = TierData("cover", cost=inst.cost, existing=np.zeros(len(inst.cost), bool),
                    cover=inst.cover)
    sol = optimise(Problem(len(inst.cost), (tier,)), SolverConfig(time_limit_s=120))
    assert sol.cost == pytest.approx(429)
    out = sol.stages[0][1]
    assert out.status == "optimal"
    assert out.bound == pytest.approx(429)
    assert out.gap == pytest.approx(0.0, abs=1e-9)
    # every row is covered by the chosen columns
    assert (inst.cover @ sol.open["cover"].astype(int) >= 1).all()
