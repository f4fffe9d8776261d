"""`siting check`: a written plan rechecked on the checker's own path, and broken on purpose.

Each edit a planner could make by hand — a row deleted in Excel, a locker moved in QGIS, a
bank made smaller, one site too few, a township left without an outlet — must show as a
target not met, with exit code 5.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from siting.check import command, measure, verify
from siting.check import inputs as check_inputs
from siting.check import plan as check_plan
from siting.config import scenario as scenario_mod

from .conftest import HEADERS, SMALL


def _copy(outdir: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "out"
    shutil.copytree(outdir, dst)
    return dst


def _sites(out: Path) -> pd.DataFrame:
    return pd.read_csv(out / "sites.csv", encoding="utf-8-sig", dtype={"osm_id": str}) \
        .rename(columns=HEADERS)


def _save(out: Path, df: pd.DataFrame) -> None:
    df.to_csv(out / "sites.csv", index=False, encoding="utf-8-sig")


def _found(outcome: command.Outcome) -> dict[str, verify.Finding]:
    return {f.key: f for f in outcome.findings}


@pytest.fixture(scope="module")
def small_scenario(small):
    root, _ = small
    return scenario_mod.load(root / "models" / f"{SMALL}.toml")


@pytest.fixture(scope="module")
def small_inputs(small_scenario):
    return check_inputs.read(small_scenario)


def _verify(s, inp, out: Path) -> command.Outcome:
    """As command.check, with the inputs read once for the module."""
    p = check_plan.read(out, headers=HEADERS)
    findings = verify.verify(s, inp, p)
    broken = [f for f in findings if f.met is False and command._claimed(f.key, p.claims)]
    return command.Outcome(findings, broken, p.path)


def test_demo_plan_checks_out_and_agrees_with_the_run(demo_scenario, demo_outputs, demo_run):
    out = command.check(demo_scenario, demo_outputs, headers=HEADERS)
    assert out.exit_code == 0 and out.broken == []
    got = _found(out)
    for r in demo_run.results:
        assert got[r.key].met == r.met
        assert got[r.key].achieved == pytest.approx(r.achieved, abs=1e-6)
    assert got["cost"].achieved == pytest.approx(got["cost"].required)
    text = command.table(out)
    assert "locker_cover" in text and "every target the run claims met is met" in text


def test_checker_distances_agree_with_the_model_to_a_millimetre(demo_scenario, demo_outputs,
                                                                demo_run):
    """Own graph and own snapping, same convention: the nearest-locker distances agree."""
    from siting.check import graph

    inp = check_inputs.read(demo_scenario)
    p = check_plan.read(demo_outputs, headers=HEADERS)
    places = {t: verify.place(p.of_tier(t), inp) for t in demo_scenario.tiers}
    acc, nodes = verify._attach(demo_scenario, inp, places, "walk")
    rows = verify.demand_rows(inp.units, demo_scenario.tiers["locker"])
    d = measure.nearest_distance(acc.graph, nodes["locker"], [acc.node[i] for i in rows], 1200)
    model = pd.Series(demo_run.outcomes["locker"].dist_m, index=demo_run.demand["code"])
    theirs = model.loc[inp.units["code"].to_numpy()[rows]].to_numpy(float)
    ok = np.isfinite(theirs)
    assert ok.sum() == len(rows)
    assert np.abs(d[ok] - theirs[ok]).max() <= 0.05 + 1e-9       # dist_m is rounded to 0.1
    assert isinstance(acc.graph, graph.nx.Graph)


def test_deleted_row_leaves_units_unserved(demo_scenario, demo_outputs, tmp_path):
    out = _copy(demo_outputs, tmp_path)
    df = _sites(out)
    new = df.index[(df["tier"] == "locker") & (df["status"] == "new")]
    _save(out, df.drop(index=new[0]))
    got = command.check(demo_scenario, out, headers=HEADERS)
    cover = _found(got)["locker_cover"]
    assert cover.met is False and cover.failing
    assert got.exit_code == command.EXIT_UNMET
    assert "locker_cover" in command.table(got).splitlines()[-1]


def test_locker_moved_400_m_in_the_geopackage(demo_scenario, demo_outputs, tmp_path):
    """QGIS moves the point geometry; the lon/lat attributes stay as they were."""
    out = _copy(demo_outputs, tmp_path)
    (out / "sites.csv").unlink()
    layer = check_plan.sites_layer(out / "sites.gpkg")
    sites = gpd.read_file(out / "sites.gpkg", layer=layer)
    k = int(np.flatnonzero((sites["tier"] == "locker") & (sites["status"] == "new")
                           & (sites["reach_units"] > 0))[0])
    pt = sites.geometry.iloc[k]
    dlon = 400 / (111_320 * np.cos(np.radians(pt.y)))
    sites.loc[sites.index[k], "geometry"] = shapely.Point(pt.x + dlon, pt.y)
    sites.to_file(out / "sites.gpkg", layer=layer, driver="GPKG", engine="pyogrio")
    got = command.check(demo_scenario, out, headers=HEADERS)
    assert got.plan.name == "sites.gpkg"
    assert _found(got)["locker_cover"].met is False
    assert got.exit_code == command.EXIT_UNMET


def test_small_plan_checks_out(small_scenario, small_inputs, small_outputs, small_run):
    got = _verify(small_scenario, small_inputs, small_outputs)
    assert got.exit_code == 0
    found = _found(got)
    for r in small_run.results:
        assert found[r.key].met == r.met, r.key
        if r.unit == "units":
            assert found[r.key].achieved == r.achieved, r.key
    assert found["locker_capacity"].met is True and found["locker_sizes"].met is True
    # the check counts the targets as the run does; the bank sizes are a rule, apart
    judged = [r for r in small_run.results if r.met is not None]
    assert command.tally(got.findings) == (
        f"{sum(r.met is True for r in judged)} of {len(judged)} targets met, 1 of 1 rules kept")


def test_count_one_short(small_scenario, small_inputs, small_outputs, tmp_path):
    out = _copy(small_outputs, tmp_path)
    df = _sites(out)
    need = verify._required_count(small_scenario, small_scenario.tiers["community"])
    rows = df.index[df["tier"] == "community"]
    _save(out, df.drop(index=rows[:len(rows) - need + 1]))
    f = _found(_verify(small_scenario, small_inputs, out))["community_count"]
    assert (f.required, f.achieved, f.met) == (need, need - 1, False)


def test_township_left_empty(small_scenario, small_inputs, small_outputs, tmp_path):
    out = _copy(small_outputs, tmp_path)
    df = _sites(out)
    towns = small_inputs.units[small_inputs.units["layer"] == "townships"]
    poly, label = towns.geometry.iloc[0], f"{towns['code'].iat[0]} {towns['name'].iat[0]}"
    inside = shapely.intersects_xy(poly, df["lon"].to_numpy(), df["lat"].to_numpy())
    _save(out, df[~(inside & (df["tier"] == "township")).to_numpy()])
    got = _verify(small_scenario, small_inputs, out)
    f = _found(got)["township_cover"]
    assert f.met is False and f.failing == [label.strip()]
    assert got.exit_code == command.EXIT_UNMET


def test_bank_too_small(small_scenario, small_inputs, small_outputs, tmp_path):
    """A unit that only one bank reaches gets one compartment too few there."""
    out = _copy(small_outputs, tmp_path)
    df = _sites(out)
    cfg = small_scenario.tiers["locker"]
    p = check_plan.read(out, headers=HEADERS)
    places = {t: verify.place(p.of_tier(t), small_inputs) for t in small_scenario.tiers}
    acc, nodes = verify._attach(small_scenario, small_inputs, places, "walk")
    rows = verify.demand_rows(small_inputs.units, cfg)
    unit, bank = measure.within(acc.graph, nodes["locker"], [acc.node[i] for i in rows],
                                cfg.radius_m)
    alone = np.flatnonzero(np.bincount(unit, minlength=len(rows)) == 1)
    assert len(alone)
    u = int(alone[0])
    b = int(bank[unit == u][0])
    need = verify.compartments_needed(small_inputs.units, rows, cfg)[u]
    lockers = df.index[df["tier"] == "locker"]
    df.loc[lockers[b], "compartments"] = need - 1
    _save(out, df)
    got = _verify(small_scenario, small_inputs, out)
    f = _found(got)["locker_capacity"]
    assert f.met is False
    assert any(x.startswith(small_inputs.label(rows[[u]])[0]) for x in f.failing)
    assert got.exit_code == command.EXIT_UNMET


def test_budget_and_upper_bound_count_as_claimed(small_scenario, small_inputs, small_outputs,
                                                 tmp_path):
    from dataclasses import replace

    tiers = dict(small_scenario.tiers)
    tiers["village"] = replace(tiers["village"], max_count=1)
    s = replace(small_scenario, tiers=tiers)
    got = _verify(s, small_inputs, small_outputs)
    f = _found(got)["village_max_count"]
    assert f.met is False and got.exit_code == command.EXIT_UNMET


def test_cli_check_exit_codes(demo_outputs, tmp_path):
    from .conftest import DEMO

    ok = subprocess.run([sys.executable, "-m", "siting.cli", "check", str(DEMO),
                         str(demo_outputs)], capture_output=True, text=True, check=False)
    assert ok.returncode == 0, ok.stderr
    assert "locker_cover" in ok.stdout
    out = _copy(demo_outputs, tmp_path)
    df = _sites(out)
    _save(out, df[df["tier"] != "locker"])
    bad = subprocess.run([sys.executable, "-m", "siting.cli", "check", str(DEMO), str(out)],
                         capture_output=True, text=True, check=False)
    assert bad.returncode == 5
    assert "NOT met: locker_cover" in bad.stdout


def test_plan_without_sites_file_names_the_fix(tmp_path):
    from siting._errors import InputError

    with pytest.raises(InputError, match=r"no sites\.csv or sites\.gpkg"):
        check_plan.read(tmp_path, headers=HEADERS)


def test_run_reports_the_check(demo_scenario, demo_outputs, tmp_path, caplog):
    import logging

    with caplog.at_level(logging.INFO, logger="siting.check"):
        assert command.after_run(demo_scenario, demo_outputs, headers=HEADERS) == 0
    assert "every target the run claims met is met" in caplog.text
    out = _copy(demo_outputs, tmp_path)
    df = _sites(out)
    _save(out, df[df["tier"] != "community"])
    with caplog.at_level(logging.INFO, logger="siting.check"):
        assert command.after_run(demo_scenario, out, headers=HEADERS) == command.EXIT_UNMET
    assert "community_count" in caplog.text


def test_unknown_tier_in_the_plan_is_named(demo_scenario, demo_outputs, tmp_path):
    from siting._errors import InputError

    out = _copy(demo_outputs, tmp_path)
    df = _sites(out)
    df.loc[df.index[0], "tier"] = "lockr"
    _save(out, df)
    with pytest.raises(InputError, match=r"tier 'lockr' is not a tier of .*locker"):
        command.check(demo_scenario, out, headers=HEADERS)


def test_a_geopackage_with_two_sites_layers_is_refused(tmp_path):
    from siting._errors import InputError

    cols = {c: ["x"] for c in check_plan.NEEDED if c not in ("lon", "lat")}
    sites = gpd.GeoDataFrame(cols, geometry=[shapely.Point(113.6, 34.7)], crs="EPSG:4326")
    path = tmp_path / "sites.gpkg"
    sites.to_file(path, layer="站点", driver="GPKG", engine="pyogrio")
    assert check_plan.sites_layer(path) == "站点"
    sites.to_file(path, layer="sites", driver="GPKG", engine="pyogrio")
    with pytest.raises(InputError, match=r"2 point layers \(站点, sites\).*Keep the one sites"):
        check_plan.sites_layer(path)
