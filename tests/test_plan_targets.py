"""The chain and the compartment target on a county run (上街区), and `siting check` on them.

The small county is run once with ``[chain] max_chain_km`` and a compartment target in its
locker tier; the run's chain and compartments agree with `siting check`'s own recomputation,
what the target costs is reported against the plan sized to demand alone, and plans edited
to break either target exit 5.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from siting.check import command
from siting.config import scenario as scenario_mod

from .conftest import HEADERS, SMALL

TARGET = 40_000           # compartments: above what a plan sized to demand opens (26,628)


@pytest.fixture(scope="module")
def planned(small, tmp_path_factory):
    """The small county with the chain and a compartment target: scenario, run, outputs."""
    from siting.outputs import write as outputs
    from siting.run import pipeline

    root, _ = small
    text = (root / "models" / f"{SMALL}.toml").read_text(encoding="utf-8")
    text = text.replace("min_demand = 20", f"min_demand = 20\ncompartments = {TARGET}")
    assert f"compartments = {TARGET}" in text
    text += "\n[chain]\nmax_chain_km = 40\n"
    path = root / "models" / "planned.toml"
    path.write_text(text.replace(f'name = "{SMALL}"', 'name = "planned"'), encoding="utf-8")
    s = scenario_mod.load(path)
    run = pipeline.run(s)
    out = tmp_path_factory.mktemp("planned") / "out"
    outputs.write_all(run, out)
    return s, run, out


def _copy(out: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "out"
    shutil.copytree(out, dst)
    return dst


def _found(outcome: command.Outcome) -> dict[str, object]:
    return {f.key: f for f in outcome.findings}


def test_the_run_meets_both_and_the_check_agrees(planned):
    s, run, out = planned
    got = {r.key: r for r in run.results}
    assert got["locker_compartments"].met and got["locker_compartments"].achieved >= TARGET
    assert got["chain"].met
    assert got["chain"].required == len(run.tiers["village"].rows) - 1   # 马固村: no road
    checked = command.check(s, out, headers=HEADERS)
    assert checked.exit_code == 0
    found = _found(checked)
    for key in ("chain", "locker_compartments"):
        assert found[key].met is True
        assert found[key].achieved == pytest.approx(got[key].achieved)


def test_each_village_has_its_links_and_the_report_says_them(planned):
    _, run, out = planned
    c = run.chain
    ok = np.isfinite(c.chain_m)
    assert ok.sum() >= len(c.villages) - 1          # the generator leaves a village roadless
    assert (c.chain_m[ok] == pytest.approx(c.centre_m[ok] + c.township_m[ok]))
    assert (c.outlet_m[ok] <= run.tiers["village"].config.radius_m + 1e-6).all()
    assert [x.existing for x in c.centres] == [True]   # the county's 县级处理中心
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["chain"]["villages"] == len(c.villages)
    assert report["chain"]["longest_km"] == pytest.approx(np.nanmax(c.chain_m) / 1000)
    book = pd.read_excel(out / "plan.xlsx", sheet_name=None)
    sheet = book["三级链路"]
    assert len(sheet) == len(c.villages)
    assert sheet["链路合计（公里）"].max() == pytest.approx(np.nanmax(c.chain_m) / 1000, abs=0.01)
    import geopandas as gpd
    lines = gpd.read_file(out / "sites.gpkg", layer="县乡村三级链路", engine="pyogrio")
    assert len(lines) == int(ok.sum())
    assert set(lines.geometry.geom_type) == {"LineString"}


def test_a_village_beyond_the_limit_is_named():
    from siting.run import chain

    c = chain.Chain(np.array([0, 1]), np.array([3, 4]), np.array([1, 1]), np.array([0, 0]),
                    np.array([10.0, 20.0]), np.array([1000.0, 9000.0]),
                    np.array([5000.0, 5000.0]), [], 12_000.0)
    units = pd.DataFrame({"code": ["410106001001", "410106001002"], "name": ["甲村", "乙村"]})
    r = chain.result(c, units)
    assert (r.required, r.achieved, r.met) == (2, 1, False)
    assert r.failing == ["410106001002 乙村 (14.0 km)"]


def test_the_target_costs_more_than_sizing_to_demand_alone(planned):
    _, run, out = planned
    (cost,) = run.compartment_costs
    assert cost.key == "locker_compartments"
    assert cost.with_target == pytest.approx(run.solution.cost)
    assert cost.open_without < TARGET <= run.results[[r.key for r in run.results].index(
        "locker_compartments")].achieved
    assert cost.cost > 0
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["compartment_costs"][0]["cost"] == pytest.approx(cost.cost, abs=0.01)
    assert report["compartments"]["target"] == TARGET


def test_check_catches_a_plan_short_of_compartments(planned, tmp_path):
    s, _, out = planned
    out = _copy(out, tmp_path)
    sites = pd.read_csv(out / "sites.csv", encoding="utf-8-sig", dtype={"osm_id": str})
    keys = sites.rename(columns=HEADERS)
    new = np.flatnonzero(((keys["tier"] == "locker") & (keys["status"] == "new")).to_numpy())
    sites = sites.drop(index=sites.index[new[: len(new) // 2]])     # half the new banks
    sites.to_csv(out / "sites.csv", index=False, encoding="utf-8-sig")
    got = command.check(s, out, headers=HEADERS)
    assert got.exit_code == command.EXIT_UNMET
    assert "locker_compartments" in {f.key for f in got.broken}


def test_check_catches_a_chain_beyond_the_limit(planned, tmp_path):
    s, _, out = planned
    out = _copy(out, tmp_path)
    # the same plan against a limit of 1 km: every chain is longer (the run claimed 40 km)
    tight = replace(s, chain=replace(s.chain, max_chain_km=1.0))
    got = command.check(tight, out, headers=HEADERS)
    assert got.exit_code == command.EXIT_UNMET
    chain = _found(got)["chain"]
    assert chain.met is False and chain.achieved == 0
    assert "km)" in chain.failing[0]
    # and the village outlets' rows deleted: their villages have no chain at all
    sites = pd.read_csv(out / "sites.csv", encoding="utf-8-sig", dtype={"osm_id": str})
    keys = sites.rename(columns=HEADERS)
    sites = sites.drop(index=keys.index[(keys["tier"] == "village").to_numpy()])
    sites.to_csv(out / "sites.csv", index=False, encoding="utf-8-sig")
    got = command.check(s, out, headers=HEADERS)
    assert got.exit_code == command.EXIT_UNMET and "chain" in {f.key for f in got.broken}
    assert _found(got)["chain"].failing[0].endswith("(-)")


def test_the_map_has_the_chain_layer_off_with_a_line_per_village(planned):
    from . import cdp
    from .test_browser import LEAFLET

    _, run, out = planned
    binary = cdp.find()
    if binary is None:
        pytest.skip("no Chromium on this machine")
    from siting.outputs import labels

    name = labels.t("chain_layer", run.scenario.lang)
    with cdp.Browser(binary) as b:
        page = b.page()
        page.open(out / "map.html")
        page.js(LEAFLET)
        assert page.errors() == []
        assert name in page.js("Object.keys(__t.overlays)")
        layer = f"__t.overlays[{json.dumps(name)}]"
        assert page.js(f"__t.map.hasLayer({layer})") is False          # off by default
        page.js(f"__t.map.addLayer({layer}), 0")
        count = page.js(f"""(() => {{ let n = 0, dots = 0;
            const walk = l => {{ if (l instanceof L.CircleMarker) dots++;
              else if (l instanceof L.Polyline && !(l instanceof L.Polygon)) n++;
              if (typeof l.getLayers === 'function') l.getLayers().forEach(walk); }};
            walk({layer}); return [n, dots]; }})()""")
        assert count == [int(np.isfinite(run.chain.chain_m).sum()), len(run.chain.centres)]
        assert page.errors() == []
        page.close()


def test_city_shares_the_plan_total_by_population_or_parcel_demand(planned, small):
    from siting.run import city

    s, _, _ = planned
    root, _ = small
    alone = scenario_mod.load(root / "models" / f"{SMALL}.toml")
    cfg = city.CityConfig(counties=(), compartments_from_plan=1001, compartments_by="parcels")
    # the same county twice: equal parcel demand, so halves (the remainder to the first)
    assert city.compartment_shares(cfg, [alone, s]) == {SMALL: 501, "planned": 500}
    by_pop = city.compartment_shares(replace(cfg, compartments_by="population"), [alone])
    assert by_pop == {SMALL: 1001}
    assert city.compartment_shares(replace(cfg, compartments_from_plan=None), [alone]) == {}
    planned_to = city.with_compartments(s, 777).tiers["locker"]
    assert (planned_to.compartments, planned_to.compartments_from_plan) == (777, None)
