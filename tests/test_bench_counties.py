"""Smoke test: bench/counties.py runs on the smallest county with a 5 s limit."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from .conftest import ROOT, SMALL


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "counties.json"
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "counties.py"), "--counties",
                           SMALL, "--limit", "5", "--json", str(out)],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout, json.loads(out.read_text(encoding="utf-8"))


def test_both_ways_are_solved_and_their_bounds_hold_for_each_other(bench):
    text, rows = bench
    assert [r["method"] for r in rows] == ["single model, HiGHS", "siting (core.optimise)"]
    base, own = rows
    assert base["variables"] > 1_000 and base["constraints"] > 1_000
    assert base["forced"] == own["forced"] > 0
    for r in rows:
        assert r["status"] in ("optimal", "feasible")
        assert r["forced"] <= r["bound"] <= r["objective"] + 1e-6
    # a proven bound of one is below the other's plan: both solve the same problem
    assert base["bound"] <= own["objective"] + 1e-6 and own["bound"] <= base["objective"] + 1e-6
    assert "known optimum 32,590,000" in text
    assert f"{SMALL:12s} siting (core.optimise)" in text
