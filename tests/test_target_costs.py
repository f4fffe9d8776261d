"""What each target costs: the plan solved again without it (siting.run.target_costs), and
how the report says it (siting.outputs.advice): hand-checked cases, then 上街区."""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.sparse as sp

from siting import core
from siting.config.scenario import SolverConfig
from siting.run import target_costs
from tests.conftest import read_sites

SOLVER = SolverConfig()


def _plan(problem):
    return core.optimise(problem, core.SolverSettings(time_limit_s=30))


def test_a_count_costs_the_sites_beyond_those_reaching_the_same_rows():
    # 4 sites at 10 each; site 0 reaches both rows, the others one each; at least 3 open
    reach = sp.csr_array(np.array([[1, 1, 0, 0], [1, 0, 1, 0]]))
    tier = core.TierData("community", cost=np.full(4, 10.0), existing=np.zeros(4, bool),
                         reach=reach, weight=np.array([5.0, 7.0]), min_count=3)
    problem = core.Problem(4, (tier,))
    plan = _plan(problem)
    assert plan.cost == pytest.approx(30.0)
    (tc,) = target_costs.of_targets(problem, {}, plan, SOLVER, seconds_left=30.0)
    assert (tc.key, tc.kind, tc.status) == ("community_count", "count", "optimal")
    assert tc.without_cost == pytest.approx(10.0)      # site 0 alone reaches both rows
    assert tc.extra_cost == pytest.approx(20.0) and tc.extra_sites == 2
    assert tc.extra_range == pytest.approx((20.0, 20.0))


def test_capacity_costs_the_banks_beyond_the_smallest():
    # one area needing 30 compartments, two sites in reach; banks of 10 (5) or 20 (8)
    cover = sp.csr_array(np.array([[1, 1]]))
    tier = core.TierData("locker", cost=np.ones(2), existing=np.zeros(2, bool), cover=cover,
                         sizes=((10.0, 5.0), (20.0, 8.0)), demand=np.array([30.0]))
    problem = core.Problem(2, (tier,))
    plan = _plan(problem)
    assert plan.cost == pytest.approx(15.0)            # 20 + 10 compartments at two sites

    class Run:                                         # what of_targets reads of the run
        demand = np.array([30.0])

    (tc,) = target_costs.of_targets(problem, {"locker": Run()}, plan, SOLVER,
                                    seconds_left=30.0)
    assert tc.kind == "capacity" and tc.without_cost == pytest.approx(6.0)   # 1 site + 5
    assert tc.extra_cost == pytest.approx(9.0) and tc.extra_sites == 1


def test_with_no_time_left_nothing_is_solved_and_it_says_so():
    reach = sp.csr_array(np.array([[1, 1]]))
    tier = core.TierData("community", cost=np.full(2, 10.0), existing=np.zeros(2, bool),
                         reach=reach, min_count=2)
    problem = core.Problem(2, (tier,))
    (tc,) = target_costs.of_targets(problem, {}, _plan(problem), SOLVER, seconds_left=0.0)
    assert tc.status == "skipped" and tc.extra_cost is None


@pytest.fixture(scope="module")
def report(small_outputs):
    return json.loads((small_outputs / "report.json").read_text(encoding="utf-8"))


def test_the_shangjie_report_prices_the_count_and_the_capacity(report, small_run):
    got = {tc["key"]: tc for tc in report["target_costs"]}
    assert set(got) == {"community_count", "locker_capacity"}
    count = got["community_count"]
    new = report["sites"]["community"]["new"]
    assert count["plan_new"] == new and 0 < count["without_new"] < new
    if count["status"] != "skipped":
        assert count["extra_cost"] == pytest.approx(report["cost"]["total"]
                                                    - count["without_cost"])
        lo, hi = count["extra_min"], count["extra_max"]
        assert lo <= count["extra_cost"] <= hi
        assert f"新建 {count['without_new']:,} 个即可覆盖" in count["text"]
        assert f"多出 {count['extra_sites']:,} 个" in count["text"]
        assert f"{count['extra_cost']:,.0f}" in count["text"]


def test_idle_sites_agree_with_sites_csv(report, small_outputs):
    sites = read_sites(small_outputs)
    village = next(g for g in report["idle_sites"] if g["tier"] == "village")
    rows = sites[(sites["tier"] == "village") & (sites["reach_units"] == 0)]
    assert village["idle"] == len(rows) > 0
    assert village["existing"] == int((rows["status"] == "existing").sum())
    assert {x["site_id"] for x in village["sites"]} <= set(rows["site_id"])
    assert "已建成、不花费用" in village["text"]


def test_next_steps_follow_from_the_results(report, small_outputs):
    steps = report["next_steps"]
    unmet = [t for t in report["targets"] if t["met"] is False]
    assert unmet and any("马固村" in s and "max_snap_m" in s for s in steps)
    village = next(g for g in report["idle_sites"] if g["tier"] == "village")
    assert any(f"{village['existing']:,} 处服务范围内没有任何需求单元" in s for s in steps)
    page = (small_outputs / "report.html").read_text(encoding="utf-8")
    assert "下一步" in page and "各目标的代价" in page
    assert "马固村村民委员会（250 米内无道路" in page
