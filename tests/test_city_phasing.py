"""The build order over the plan's years rolled up into the city report (city [phasing]).

A city of two small 上街区 counties (township and village tiers, a few seconds each), run in
turn (``--workers 0``): county a takes the city file's [phasing] (2022–2025, shares), county
b keeps its own (2022 and 2024); the city report sums them year by year.
"""

from __future__ import annotations

import itertools
import json
import pickle
from dataclasses import replace
from pathlib import Path

import pytest

from siting._errors import ScenarioError
from siting.config.scenario import PhasingConfig
from siting.run import city as city_run

from .conftest import ROOT, SMALL, village_only
from .test_cluster import _report, _siting

CITY_PHASING = """
[phasing]
years = [2022, 2023, 2024, 2025]
share = [0.4, 0.3, 0.2, 0.1]
"""
OWN_PHASING = """
[phasing]
years = [2022, 2024]
share = [0.5, 0.5]
"""
TITLES = {"a": "甲区", "b": "乙区"}


def _project(base: Path, city: str = CITY_PHASING) -> Path:
    (base / "models").mkdir(parents=True)
    text = (ROOT / "models" / f"{SMALL}.toml").read_text(encoding="utf-8").replace(
        "time_limit_s = 240", "time_limit_s = 20")
    for name, radius in (("a", 2000), ("b", 3000)):
        county = village_only(text, name=name, radius_m=radius).replace(
            'title = "上街区 邮政快递末端网点布局"', f'title = "{TITLES[name]}"')
        assert f'title = "{TITLES[name]}"' in county
        (base / "models" / f"{name}.toml").write_text(
            county + (OWN_PHASING if name == "b" else ""), encoding="utf-8")
    (base / "models" / "city.toml").write_text(
        'name = "city"\ncounties = ["a.toml", "b.toml"]\n' + city, encoding="utf-8")
    return base


@pytest.fixture(scope="module")
def phased_city(small, tmp_path_factory):
    project = _project(tmp_path_factory.mktemp("cityphase"))
    r = _siting(project, "city", "models/city.toml", "--workers", "0")
    assert r.returncode == 0, r.stderr
    return project


def _county(project: Path, folder: str) -> dict:
    return json.loads((project / "maps" / folder / "report.json").read_text(encoding="utf-8"))


def _counties(project: Path) -> list[dict]:
    """The county reports: a ran with the city's [phasing] (apart), b as its own file says."""
    return [_county(project, "city-counties/a"), _county(project, "b")]


def test_the_county_own_phasing_wins_and_the_city_phasing_runs_apart(phased_city):
    a, b = _counties(phased_city)
    assert a["phasing"]["years"] == [2022, 2023, 2024, 2025]
    assert a["phasing"]["budget_total"] == pytest.approx(a["cost"]["total"])   # the shares
    assert b["phasing"]["years"] == [2022, 2024]
    # a's phased run never replaces the outputs of a plain run of a (make city reuses them)
    assert not (phased_city / "maps" / "a").exists()


def test_each_year_is_the_sum_of_the_counties_years(phased_city):
    d = _report(phased_city)
    counties = _counties(phased_city)
    p = d["phasing"]
    assert [y["year"] for y in p["years"]] == [2022, 2023, 2024, 2025]
    cumulative = 0.0
    for y in p["years"]:
        mine = [e for c in counties for e in c["phasing"]["by_year"] if e["year"] == y["year"]]
        assert y["spent"] == pytest.approx(sum(e["spent"] for e in mine))
        assert y["budget"] == pytest.approx(sum(e["budget"] for e in mine))
        assert y["sites_total"] == sum(e["sites_total"] for e in mine)
        for tier in d["sites"]:
            assert y["sites"][tier] == sum(e["sites"][tier] for e in mine), tier
        cumulative += y["spent"]
        assert y["cumulative"] == pytest.approx(cumulative)
    # b lists no 2023: a's alone, and b's 2024 spend on top of a's
    assert p["years"][1]["spent"] == pytest.approx(counties[0]["phasing"]["by_year"][1]["spent"])
    assert p["phased"] == ["甲区", "乙区"] and p["not_phased"] == [] and p["unbuilt"] == {}


def test_levels_never_fall_and_the_last_year_is_the_city_totals(phased_city):
    d = _report(phased_city)
    years = d["phasing"]["years"]
    keys = [t["key"] for t in years[-1]["targets"]]
    assert {"township_cover", "village_cover", "community_plan"} <= set(keys)
    for key in keys:
        series = [next(t["achieved"] for t in y["targets"] if t["key"] == key) for y in years]
        assert all(b >= a for a, b in itertools.pairwise(series)), (key, series)
    # every county phases and its shares pay for its plan: the last year is the city's plan
    final = {t["key"]: t for t in d["targets"]}
    for t in years[-1]["targets"]:
        assert (t["required"], t["achieved"], t["met"]) == pytest.approx(
            (final[t["key"]]["required"], final[t["key"]]["achieved"], final[t["key"]]["met"]))
    assert years[-1]["cumulative"] == pytest.approx(d["cost_total"])
    for tier, s in d["sites"].items():
        assert sum(y["sites"][tier] for y in years) == s["new"], tier
    first = {t["key"]: t["achieved"] for t in years[0]["targets"]}
    assert first["township_cover"] < final["township_cover"]["achieved"]   # not all at once


def test_the_task_outcome_carries_the_years(phased_city):
    """The driver sums the outcomes the tasks return, never rereading their report.json."""
    for folder, report in zip(("city-counties/a", "b"), _counties(phased_city), strict=True):
        blob = (phased_city / "maps" / folder / "outcome.pkl").read_bytes()
        outcome = pickle.loads(blob)
        got = json.loads(json.dumps(outcome.summary["phasing"], default=float))
        assert got["by_year"] == report["phasing"]["by_year"]
        assert all("compartments_open" in e for e in got["by_year"])


def test_a_county_without_phasing_is_listed_and_counted_in_no_year(phased_city, tmp_path):
    from siting.outputs import city as city_outputs

    a, b = (pickle.loads((phased_city / "maps" / f / "outcome.pkl").read_bytes())
            for f in ("city-counties/a", "b"))
    plain = replace(a, summary={k: v for k, v in a.summary.items() if k != "phasing"})
    cfg = city_run.load(phased_city / "models" / "city.toml")
    d = city_outputs.write(cfg, [plain, b], tmp_path / "city")
    p = d["phasing"]
    assert p["not_phased"] == ["甲区"] and p["phased"] == ["乙区"]
    assert [y["year"] for y in p["years"]] == [2022, 2024]
    for y, e in zip(p["years"], b.summary["phasing"]["by_year"], strict=True):
        assert y["spent"] == pytest.approx(e["spent"])
        assert y["sites_total"] == e["sites_total"]
        found = {t["key"]: t["achieved"] for t in e["targets"]}
        assert {t["key"]: t["achieved"] for t in y["targets"]
                if t["key"] != "community_plan"} == pytest.approx(found)
    md = (tmp_path / "city" / "report.md").read_text(encoding="utf-8")
    assert "未分年建设的区县（其站点不计入任何一年）：甲区。" in md
    assert "最后一年即全市汇总" not in md


def test_the_city_reports_show_the_table(phased_city):
    from tests.test_report_language import english_words, rendered_text

    d = _report(phased_city)
    out = phased_city / "maps" / "city"
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "<h2>全市分年建设</h2>" in page and page.count("<table class=city-phasing>") == 2
    for y in d["phasing"]["years"]:
        assert f"<tr><td>{y['year']}</td><td class=num>{y['budget']:,.0f}</td><td class=num>" \
               f"{y['spent']:,.0f}</td><td class=num>{y['cumulative']:,.0f}</td>" in page
    assert "最后一年即全市汇总" in page
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "## 全市分年建设" in md
    for y in d["phasing"]["years"]:
        assert f"| {y['year']} | {y['budget']:,.0f} | {y['spent']:,.0f} | " \
               f"{y['cumulative']:,.0f} |" in md
    township = next(t for t in d["phasing"]["years"][-1]["targets"]
                    if t["key"] == "township_cover")
    assert f"| {township['target']} | {township['required']:,.0f} |" in md
    # the Chinese city report stays Chinese (the tasks are named by their files: a, b)
    words = english_words(md) + english_words(rendered_text(page))
    assert [w for w in words if w not in ("a", "b")] == []


def test_a_city_without_phasing_has_no_table(small, tmp_path):
    """models/city.toml has no [phasing]: its report, and its county outputs, as before."""
    assert city_run.load(ROOT / "models" / "city.toml").phasing is None
    project = _project(tmp_path, city="")
    (project / "models" / "b.toml").write_text(
        (project / "models" / "b.toml").read_text(encoding="utf-8").replace(OWN_PHASING, ""),
        encoding="utf-8")
    r = _siting(project, "city", "models/city.toml", "--workers", "0")
    assert r.returncode == 0, r.stderr
    assert _report(project)["phasing"] is None
    assert "全市分年建设" not in (project / "maps" / "city" / "report.html").read_text(
        encoding="utf-8")
    assert (project / "maps" / "a").is_dir() and not (project / "maps" / "city-counties").exists()


@pytest.mark.parametrize(("table", "says"), [
    ("years = [2022, 2023]\nshare = [0.5, 0.5]\ncary_over = true",
     "unknown key 'cary_over' in [phasing]: did you mean 'carry_over'?"),
    ("years = [2022, 2023]\nshare = [0.5, 0.4]", "[phasing]: share sums to 0.9, not 1"),
    ("years = [2022, 2023]\nbudget = 1000", "'phasing.budget' must be a list"),
])
def test_a_bad_city_phasing_is_named_with_the_file_and_key(tmp_path, table, says):
    path = tmp_path / "city.toml"
    path.write_text(f'counties = ["a.toml"]\n\n[phasing]\n{table}\n', encoding="utf-8")
    with pytest.raises(ScenarioError) as e:
        city_run.load(path)
    assert str(e.value).startswith(f"{path}: 1 problem(s)")
    assert says in str(e.value)


def test_siting_city_refuses_a_bad_phasing_before_any_task(tmp_path):
    project = _project(tmp_path, city=CITY_PHASING.replace("share", "shares"))
    r = _siting(project, "city", "models/city.toml", "--workers", "0")
    assert r.returncode == 2, r.stderr
    assert "models/city.toml: 2 problem(s)" in r.stderr     # all at once
    assert "unknown key 'shares' in [phasing]: did you mean 'share'?" in r.stderr
    assert "[phasing]: give either budget = [...]" in r.stderr
    assert "Traceback" not in r.stderr and not (project / "maps").exists()


def test_money_the_city_phasing_gives_too_little_names_where_it_comes_from(small, tmp_path):
    project = _project(tmp_path, city="\n[phasing]\nyears = [2022, 2023]\n"
                       "budget = [1000, 1000]\ncarry_over = false\n")
    r = _siting(project, "city", "models/city.toml", "--workers", "0")
    assert r.returncode == 2, r.stderr
    assert "[phasing] can never build a needed site of [tiers.township]" in r.stderr
    assert "(set for this task by the city or sweep file, not in a.toml: [phasing])" in r.stderr
    assert "b: done" in r.stderr                    # b keeps its own [phasing]


def test_the_city_phasing_is_an_override_only_where_the_county_has_none():
    cfg = city_run.CityConfig(counties=("a.toml",), phasing=PhasingConfig(
        years=(2022, 2023), budget=(1e6, 2e6), carry_over=False))
    assert city_run.phasing_override(cfg, {"name": "a"}) == {"phasing": {
        "years": [2022, 2023], "budget": [1e6, 2e6], "share": [], "carry_over": False,
        "discount_rate": 0.0}}
    assert city_run.phasing_override(cfg, {"name": "a", "phasing": {"years": [2022]}}) == {}
    assert city_run.phasing_override(replace(cfg, phasing=None), {"name": "a"}) == {}


def test_the_phased_city_model_is_the_city_with_a_phasing_table():
    plain = city_run.load(ROOT / "models" / "city.toml")
    phased = city_run.load(ROOT / "models" / "city-phased.toml")
    assert phased.phasing == PhasingConfig(years=(2022, 2023, 2024, 2025),
                                           share=(0.4, 0.3, 0.2, 0.1))
    assert replace(phased, name=plain.name, title=plain.title, phasing=None) == plain


@pytest.fixture(scope="module")
def full_phased(small):
    """上街区 with all four tiers and the city's shares: its outcome, as two counties."""
    from siting.config import scenario
    from siting.outputs import city as city_outputs
    from siting.run import pipeline

    root, _ = small
    path = root / "models" / f"{SMALL}-cityphase.toml"
    text = (root / "models" / f"{SMALL}.toml").read_text(encoding="utf-8")
    assert text.rstrip().endswith("tradeoff_points = 3")      # [report] is the last table
    path.write_text(text.replace(f'name = "{SMALL}"', f'name = "{SMALL}-cityphase"')
                    + "target_costs = false\n" + CITY_PHASING, encoding="utf-8")
    outcome = city_outputs.outcome(pipeline.run(scenario.load(path)), seconds=1.0)
    return [outcome, replace(outcome, name="twin", title="乙区")]


def test_every_citywide_target_ends_at_the_city_totals(full_phased, tmp_path):
    """Community points, communities, locker areas and compartments too, summed as the
    final citywide roll-up sums them."""
    from siting.outputs import city as city_outputs

    cfg = city_run.CityConfig(counties=("a.toml", "b.toml"), compartments_from_plan=40_000)
    d = city_outputs.write(cfg, full_phased, tmp_path / "city")
    years = d["phasing"]["years"]
    final = {t["key"]: t for t in d["targets"]}
    assert {"community_plan", "community_each", "locker_cover", "compartments"} <= set(final)
    assert [t["key"] for t in years[-1]["targets"]] == list(final)
    for key, t in final.items():
        series = [next(x for x in y["targets"] if x["key"] == key) for y in years]
        assert all(b["achieved"] >= a["achieved"] for a, b in itertools.pairwise(series)), key
        assert (series[-1]["required"], series[-1]["achieved"], series[-1]["met"]) == \
            pytest.approx((t["required"], t["achieved"], t["met"])), key
    one = full_phased[0].summary
    first = {t["key"]: t["achieved"] for t in years[0]["targets"]}
    existing = one["sites"]["community"]["existing"]
    built = one["phasing"]["by_year"][0]["sites"]["community"]
    assert first["community_plan"] == 2 * (existing + built) < final["community_plan"]["achieved"]
    assert first["compartments"] == pytest.approx(
        2 * one["phasing"]["by_year"][0]["compartments_open"])
    assert one["phasing"]["before"]["compartments_open"] < \
        one["phasing"]["by_year"][-1]["compartments_open"] == one["compartments"]["open"]
    assert years[-1]["cumulative"] == pytest.approx(d["cost_total"])
