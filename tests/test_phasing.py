"""The build order over the plan's years ([phasing]): the core's model, the run, the outputs.

A hand-checkable instance where the greedy order is wrong and the optimum is known; seeded
random instances for the rules (every year within its budget, coverage never falling, the
last year the whole plan when the money adds up); bad [phasing] tables; and 上街区 phased
over 2022–2025 through the outputs a planner opens (report, sites.csv, plan.xlsx, the map).
"""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
from dataclasses import replace

import numpy as np
import pytest
import scipy.sparse as sp

from siting import core
from siting._errors import InputError, ScenarioError
from siting.config import scenario
from siting.config.scenario import PhasingConfig
from siting.core import phasing as cp
from siting.outputs import labels

from .conftest import HEADERS, SMALL, read_sites, written

openpyxl = pytest.importorskip("openpyxl")


def _serve(pairs: list[tuple[int, int]], units: int, items: int) -> sp.csr_array:
    r, c = zip(*pairs, strict=True)
    return sp.csr_array((np.ones(len(r)), (r, c)), shape=(units, items))


# --- the core ----------------------------------------------------------------------------

def test_hand_checked_order_beats_the_greedy_one():
    """A (cost 2) serves u1 (5); B (1) serves u2 (3); C (1) serves u2 and u3 (1).

    Two years of 2: A first serves 5/9 in year one, {B, C} first only 4/9. The greedy,
    taking the best ratio (C: 4 per unit cost), builds C and B in year one; the MIP proves A.
    """
    serve = _serve([(0, 0), (1, 1), (1, 2), (2, 2)], 3, 3)
    out = core.phase(np.array([2.0, 1.0, 1.0]), serve, np.array([5.0, 3.0, 1.0]),
                     np.array([2.0, 2.0]), complete=True)
    assert out.year.tolist() == [0, 1, 1]
    assert out.covered == pytest.approx([5 / 9, 1.0])
    assert out.spend.tolist() == [2.0, 2.0]
    assert out.outcome.status == "optimal" and out.outcome.gap == pytest.approx(0, abs=1e-6)
    assert out.outcome.bound == pytest.approx(out.outcome.objective, rel=1e-6)
    greedy = cp.greedy(np.array([2.0, 1.0, 1.0]),
                       cp._groups(serve, np.array([5.0, 3.0, 1.0]), cp._later(None, 3)),
                       np.array([2.0, 2.0]), complete=True)
    assert greedy.tolist() == [1, 0, 0]
    assert out.greedy_objective < out.outcome.objective - 0.05


def _random(seed: int) -> tuple[np.ndarray, sp.csr_array, np.ndarray]:
    rng = np.random.default_rng(seed)
    n, units = 25, 60
    cost = rng.integers(1, 10, n).astype(float)
    dense = rng.random((units, n)) < 0.08
    return cost, sp.csr_array(dense.astype(float)), rng.integers(1, 100, units).astype(float)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_each_year_within_budget_coverage_never_falls_last_year_is_the_plan(seed):
    cost, serve, weight = _random(seed)
    share = np.array([0.4, 0.3, 0.2, 0.1])
    out = core.phase(cost, serve, weight, share * cost.sum(), complete=True,
                     settings=core.SolverSettings(time_limit_s=30))
    money = share * cost.sum()
    assert (np.cumsum(out.spend) <= np.cumsum(money) + 1e-6).all()
    assert (np.diff(out.covered) >= -1e-12).all()
    assert (out.year >= 0).all() and out.spend.sum() == pytest.approx(cost.sum())
    assert out.outcome.bound >= out.outcome.objective - 1e-9     # a maximisation's bound


@pytest.mark.parametrize("seed", [4, 5])
def test_without_carry_over_each_year_spends_its_own_money_only(seed):
    cost, serve, weight = _random(seed)
    money = np.array([30.0, 20.0, 20.0])
    out = core.phase(cost, serve, weight, money, carry_over=False,
                     settings=core.SolverSettings(time_limit_s=30))
    assert (out.spend <= money + 1e-6).all()
    assert (np.diff(out.covered) >= -1e-12).all()
    greedy = cp.greedy(cost, cp._groups(serve, weight, cp._later(None, len(cost))), money,
                       carry_over=False)
    assert all(cost[greedy == t].sum() <= money[t] + 1e-6 for t in range(3))


def test_money_short_of_the_plan_leaves_sites_unbuilt_and_says_so():
    cost, serve, weight = _random(6)
    money = np.array([0.3, 0.3]) * cost.sum()
    out = core.phase(cost, serve, weight, money, settings=core.SolverSettings(time_limit_s=30))
    assert (np.cumsum(out.spend) <= np.cumsum(money) + 1e-6).all()
    assert (out.year < 0).any() and out.spend.sum() <= money.sum() + 1e-6
    with pytest.raises(core.InfeasibleError, match="budgets adding up"):
        core.phase(cost, serve, weight, money, complete=True)


def test_an_item_dearer_than_any_year_is_refused():
    with pytest.raises(core.InfeasibleError, match=r"items \[1\] cost more"):
        core.phase(np.array([1.0, 5.0]), _serve([(0, 0), (1, 1)], 2, 2), np.ones(2),
                   np.array([3.0, 3.0]), carry_over=False)


# --- the scenario ------------------------------------------------------------------------

@pytest.mark.parametrize(("table", "says"), [
    ("years = [2023, 2022]\nbudget = [1, 1]", "years must increase, but 2023 then 2022"),
    ("years = [2022, 2023]\nshare = [0.5, 0.4]", "share sums to 0.9, not 1"),
    ("years = [2022, 2023]\nbudget = [100, -5]", "budget is negative for 2023: -5"),
    ("years = [2022, 2023]\nbudget = [1, 2, 3]", "budget has 3 values for 2 years"),
    ("years = [2022, 2023]\nbudget = [1, 1]\nshare = [0.5, 0.5]", "not both"),
    ("years = [2022, 2023]", "not neither"),
    ("years = [2022, 2023]\nbudget = [1, 1]\ncary_over = true", "did you mean 'carry_over'"),
])
def test_bad_phasing_tables_are_named(demo_copy, table, says):
    demo_copy.write_text(demo_copy.read_text(encoding="utf-8") + f"\n[phasing]\n{table}\n",
                         encoding="utf-8")
    with pytest.raises(ScenarioError, match="phasing") as e:
        scenario.load(demo_copy)
    assert says in str(e.value)


def test_shares_become_money_of_the_plan_cost():
    p = PhasingConfig(years=(2022, 2023), share=(0.25, 0.75))
    assert p.money(400.0) == (100.0, 300.0)


# --- 上街区, phased ------------------------------------------------------------------------

PHASING = """
[phasing]
years = [2022, 2023, 2024, 2025]
share = [0.4, 0.3, 0.2, 0.1]
"""


@pytest.fixture(scope="module")
def phased(small):
    from siting.run import pipeline

    root, _ = small
    path = root / "models" / f"{SMALL}-phased.toml"
    text = (root / "models" / f"{SMALL}.toml").read_text(encoding="utf-8")
    path.write_text(text.replace(f'name = "{SMALL}"', f'name = "{SMALL}-phased"') + PHASING,
                    encoding="utf-8")
    return pipeline.run(scenario.load(path))


@pytest.fixture(scope="module")
def phased_out(phased, tmp_path_factory):
    return written(phased, tmp_path_factory, "phased")


@pytest.fixture(scope="module")
def section(phased_out):
    return json.loads((phased_out / "report.json").read_text(encoding="utf-8"))


def test_every_year_within_its_money_and_the_last_is_the_unphased_plan(section):
    p = section["phasing"]
    total = section["cost"]["total"]
    assert p["total_cost"] == pytest.approx(total)
    assert p["budget_total"] == pytest.approx(total)          # shares add up to the plan
    spent = 0.0
    for y in p["by_year"]:
        assert y["spent"] <= y["available"] + 0.01
        spent += y["spent"]
        assert y["cumulative"] == pytest.approx(spent)
    assert spent == pytest.approx(total)
    assert p["complete"] and p["unbuilt"] == []
    built = {t: sum(y["sites"][t] for y in p["by_year"]) for t in section["sites"]}
    assert built == {t: s["new"] for t, s in section["sites"].items()}
    assert p["solver"]["bound"] >= p["solver"]["objective"] - 1e-9


def test_targets_never_fall_and_end_as_the_checker_found_the_plan(section):
    p = section["phasing"]
    levels = [p["before"]["targets"], *(y["targets"] for y in p["by_year"])]
    for k, t in enumerate(p["before"]["targets"]):
        series = [lv[k]["achieved"] for lv in levels]
        assert all(b >= a - 1e-9 for a, b in itertools.pairwise(series)), t["key"]
    final = {t["key"]: t["achieved"] for t in section["targets"]}
    assert {t["key"]: t["achieved"] for t in levels[-1]} == pytest.approx(final)


def test_coverage_comes_first(section):
    """上街区's shares reach every coverage target in 2022; the count waits for the money."""
    first = {t["key"]: t for t in section["phasing"]["by_year"][0]["targets"]}
    final = {t["key"]: t for t in section["targets"]}
    for key in ("community_cover", "community_each", "locker_cover", "township_cover"):
        assert first[key]["achieved"] == pytest.approx(final[key]["achieved"]), key
    assert first["community_count"]["achieved"] < final["community_count"]["required"]


def test_sites_csv_and_workbook_give_the_year(phased, phased_out, section):
    sites = read_sites(phased_out)
    new = sites["status"] == "new"
    assert sites.loc[new, "year"].isin([2022, 2023, 2024, 2025]).all()
    assert sites.loc[~new, "year"].isna().all()
    for y in section["phasing"]["by_year"]:
        assert sites.loc[sites["year"] == y["year"], "cost"].sum() == pytest.approx(y["spent"])
    book = openpyxl.load_workbook(phased_out / "plan.xlsx")
    assert book.sheetnames[-1] == labels.t("sheet_phasing", "zh") == "分年"
    rows = list(book["分年"].iter_rows(values_only=True))
    head = [HEADERS.get(h, h) for h in rows[0]]
    assert head[:5] == ["year", "budget", "available", "spent", "cumulative_spent"]
    assert [r[0] for r in rows[1:]] == [labels.t("before_plan", "zh"), 2022, 2023, 2024, 2025]
    assert [r[3] for r in rows[2:]] == pytest.approx(
        [y["spent"] for y in section["phasing"]["by_year"]])
    assert HEADERS[labels.header("year", "zh")] == "year"
    assert labels.header("year", "zh") in [c.value for c in book["站点"][1]]


def test_reports_have_the_table_per_year(phased_out, section):
    text = (phased_out / "report.md").read_text(encoding="utf-8")
    assert "## 分年建设" in text
    for y in section["phasing"]["by_year"]:
        assert f"| {y['year']} | {y['budget']:,.0f} | {y['available']:,.0f} | " \
               f"{y['spent']:,.0f} | {y['cumulative']:,.0f} |" in text
    page = (phased_out / "report.html").read_text(encoding="utf-8")
    assert "<h2>分年建设</h2>" in page and page.count("<table class=phasing>") == 2


def test_a_budget_that_never_builds_a_site_names_it(phased):
    from siting.run import phasing

    s = replace(phased.scenario, phasing=PhasingConfig(years=(2022, 2023), budget=(50_000.0,
                                                       50_000.0), carry_over=False))
    prices = {t: o.costs for t, o in phased.outcomes.items()}
    with pytest.raises(InputError, match=r"can never build \d+ of the plan's new sites: S\d+"
                       ) as e:
        phasing.plan(s, phased.sites, phased.tiers, phased.solution, prices, [], {},
                     core.SolverSettings())
    assert "carry_over = true" in str(e.value)


def test_map_year_filter_shows_the_sites_standing_by_a_year(phased, phased_out):
    from . import cdp

    binary = cdp.find()
    if binary is None:
        pytest.skip("no Chromium on this machine")
    sites = read_sites(phased_out)
    with cdp.Browser(binary) as browser:
        page = browser.page()
        page.open(phased_out / "map.html")
        assert page.errors() == []
        assert page.js("document.querySelectorAll('#siting-year option').length") == 5
        assert page.js("sitingYear.shown()") == len(sites)
        drawn = page.js("Array.from(document.querySelectorAll('.leaflet-marker-pane "
                        "[data-year]'), e => Number(e.dataset.year))")
        assert drawn and set(drawn) <= {2022, 2023, 2024, 2025}
        for year in (2022, 2024):
            page.js(f"(() => {{ const s = document.querySelector('#siting-year'); "
                    f"s.value = '{year}'; s.dispatchEvent(new Event('change')); }})()")
            standing = (sites["status"] == "existing") | (sites["year"] <= year)
            assert page.js("sitingYear.shown()") == int(standing.sum()), year
        page.js("sitingYear.apply('all')")
        assert page.js("sitingYear.shown()") == len(sites)
        assert page.errors() == []
        page.close()


def test_the_phased_model_is_shangjie_with_a_phasing_table(small):
    from .conftest import ROOT

    plain = scenario.load(ROOT / "models" / f"{SMALL}.toml")
    phased = scenario.load(ROOT / "models" / f"{SMALL}-phased.toml")
    assert phased.phasing == PhasingConfig(years=(2022, 2023, 2024, 2025),
                                           share=(0.4, 0.3, 0.2, 0.1))
    assert replace(phased, name=plain.name, title=plain.title, phasing=None) == plain


def test_siting_run_refuses_a_budget_too_small_for_a_tier_before_solving(demo_copy, tmp_path):
    from .test_cli import _run

    demo_copy.write_text(demo_copy.read_text(encoding="utf-8") + "\n[phasing]\nyears = [2022, "
                         "2023]\nbudget = [20000, 20000]\ncarry_over = false\n", encoding="utf-8")
    out = _run("run", demo_copy, "--out", tmp_path / "out")
    assert out.returncode == 2, out.stderr
    # found before the solve: both tiers need a new site, the cheapest costs 30,000 and
    # 80,000 less the 10,000 co-location saving beyond the other's 30,000
    assert "[phasing] can never build a needed site of [tiers.locker] (a new site costs at " \
           "least 30,000), [tiers.community] (a new site costs at least 80,000)" in out.stderr
    assert "the largest year's budget is 20,000" in out.stderr
    assert "at least 80,000, or set carry_over = true" in out.stderr
    assert "solve:" not in out.stderr
    assert "Traceback" not in out.stderr and not (tmp_path / "out").exists()


@pytest.mark.skipif(shutil.which("libreoffice") is None,
                    reason="LibreOffice (libreoffice-calc-nogui) not installed: `make browser` "
                           "installs it")
def test_libreoffice_reads_the_phasing_sheet(phased_out, section, tmp_path):
    import pandas as pd

    shutil.copy(phased_out / "plan.xlsx", tmp_path / "plan.xlsx")
    every_sheet = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1"
    subprocess.run(["libreoffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/lo",
                    "--convert-to", every_sheet, "--outdir", str(tmp_path),
                    str(tmp_path / "plan.xlsx")], check=True, capture_output=True, timeout=180)
    sheet = pd.read_csv(tmp_path / "plan-分年.csv").rename(columns=HEADERS)
    assert sheet["year"].tolist() == ["现状", "2022", "2023", "2024", "2025"]
    assert sheet["spent"].iloc[1:].tolist() == pytest.approx(
        [y["spent"] for y in section["phasing"]["by_year"]])
    sites = pd.read_csv(tmp_path / "plan-站点.csv").rename(columns=HEADERS)
    assert set(sites["year"].dropna().astype(int)) <= {2022, 2023, 2024, 2025}
