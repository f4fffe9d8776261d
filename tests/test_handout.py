"""The hand-out files: every site placed and priced, who serves whom (issue 13).

On the small county run (上街区: townships, villages, sized locker banks, co-location) and
the Haidian demo (real OSM road names).
"""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import shapely

from siting.outputs import labels, popups, tables
from siting.readers import coords
from siting.run import allocation

from .conftest import HEADERS, read_sites


def test_sites_csv_cost_sums_to_the_report_total(small_run, small_outputs):
    report = json.loads((small_outputs / "report.json").read_text(encoding="utf-8"))
    rows = read_sites(small_outputs)
    assert rows["cost"].sum() == pytest.approx(report["cost"]["total"], abs=0.5)
    parts = rows["site_cost"] + rows["bank_cost"] - rows["colocation_saving"]
    assert np.allclose(parts, rows["cost"])
    for name, tier in report["sites"].items():
        of = rows[rows["tier"] == name]
        assert (of["site_cost"] + of["bank_cost"]).sum() == pytest.approx(tier["cost"], abs=0.5)
        assert tier["new"] * tier["cost_each"] == pytest.approx(tier["cost"], abs=tier["new"])
    assert rows["colocation_saving"].sum() == pytest.approx(
        report["cost"]["colocation_saving"], abs=0.5)


def test_a_new_locker_bank_has_its_size_compartments_and_price(small_run, small_outputs):
    cfg = small_run.tiers["locker"].config
    price = {b.compartments: b.cost for b in cfg.sizes}
    rows = read_sites(small_outputs)
    new = rows[(rows["tier"] == "locker") & (rows["status"] == "new")]
    assert len(new) > 0
    assert set(new["bank_size"].astype(int)) <= set(price)
    assert (new["compartments"] == new["bank_size"]).all()
    assert (new["bank_cost"] == new["bank_size"].astype(int).map(price)).all()
    assert (new["site_cost"] == cfg.cost).all()


def test_the_saving_sits_on_a_new_row_of_a_site_hosting_both_tiers(small_run):
    rows = tables.open_sites(small_run)
    saved = rows[rows["colocation_saving"] > 0]
    assert len(saved) > 0 and (saved["status"] == "new").all()
    both = set(rows.loc[rows["tier"] == "community", "site_id"]) & \
        set(rows.loc[rows["tier"] == "locker", "site_id"])
    assert set(saved["site_id"]) <= both


def test_every_site_has_its_township_and_village(small_run):
    p, units = small_run.placement, small_run.demand
    town = units[units["layer"] == "townships"]
    opened = np.flatnonzero(np.any([o.open for o in small_run.outcomes.values()], axis=0))
    named = p.township_code[opened] != ""
    assert named.mean() > 0.95
    j = opened[np.flatnonzero(named)[0]]
    poly = town.geometry[town["code"].astype(str) == p.township_code[j]].iloc[0]
    assert poly.covers(shapely.Point(small_run.sites.lon[j], small_run.sites.lat[j]))
    assert (p.unit_name[opened] != "").mean() > 0.9


def test_nearest_named_road_is_a_road_of_the_network(demo_run):
    p, net = demo_run.placement, demo_run.network
    hinted = p.road != ""
    assert hinted.mean() > 0.9
    assert set(p.road[hinted]) <= {str(n).strip() for n in net.name}
    assert np.nanmax(p.road_m) <= 300


def test_gcj02_coordinates_round_trip_and_are_hundreds_of_metres_off(small_run):
    p, s = small_run.placement, small_run.sites
    assert small_run.scenario.lang == "zh" and p.gcj_lon is not None and p.gcj_lat is not None
    lon, lat = coords.to_wgs84(p.gcj_lon[:20], p.gcj_lat[:20], "gcj02")
    assert lon == pytest.approx(s.lon[:20], abs=1e-5)
    assert lat == pytest.approx(s.lat[:20], abs=1e-5)
    off = np.hypot((p.gcj_lon[:20] - s.lon[:20]) * 85_000, (p.gcj_lat[:20] - s.lat[:20]) * 111_000)
    assert off.min() > 300


def test_csv_headers_follow_the_language_and_osm_id_is_text(small_outputs):
    raw = pd.read_csv(small_outputs / "sites.csv", encoding="utf-8-sig", dtype=str)
    assert list(raw.columns[:2]) == [labels.header("site_id", "zh"), labels.header("tier", "zh")]
    keys = raw.rename(columns=HEADERS)
    assert {"township", "township_code", "datum", "gcj02_lon", "road"} <= set(keys.columns)
    assert set(keys["datum"]) == {"WGS84"}
    text = pd.read_csv(small_outputs / "sites.csv", encoding="utf-8-sig").rename(
        columns=HEADERS)["osm_id"]
    assert text.map(type).nunique() == 1
    assert (small_outputs / "sites.csv").read_bytes().startswith(b"\xef\xbb\xbf")


def test_nearest_open_takes_the_closest_open_column_and_counts_zero():
    m = sp.csr_array((np.array([0.0, 50.0, 20.0, 5.0]), (np.array([0, 0, 1, 1]),
                                                         np.array([0, 2, 1, 2]))), shape=(3, 3))
    col, d = allocation.nearest_open(m, np.array([True, False, True]))
    assert list(col) == [0, 2, -1]
    assert d[:2] == pytest.approx([0.0, 5.0]) and np.isnan(d[2])


def test_allocation_serves_within_the_radius_and_adds_up(small_run):
    for name, tr in small_run.tiers.items():
        o = small_run.outcomes[name]
        a = o.allocation
        got = a.site[tr.rows] >= 0
        assert o.open[a.site[tr.rows][got]].all(), name
        if tr.dist is not None:
            assert np.nanmax(a.dist_m[tr.rows]) <= float(tr.config.radius_m) + 0.1, name
            assert np.array_equal(got, o.served[tr.rows]) or tr.demand is not None, name
        pop = small_run.demand["population"].to_numpy(float)
        # banks count a unit's residents by the share each takes, in whole residents
        assert a.population.sum() == pytest.approx(pop[a.site >= 0].sum(),
                                                   abs=0.5 * (a.population > 0).sum()), name
        if tr.demand is None:
            assert a.units.sum() == int((a.site >= 0).sum()), name
            continue
        # the banks: every reached unit's parcels placed, no bank given more than it holds,
        # and a unit counted at each bank it sends parcels to
        assert a.compartments is not None and o.compartments is not None
        assert a.compartments.sum() == pytest.approx(tr.demand[got].sum())
        assert (a.compartments <= o.compartments + 1e-6).all()
        assert (a.compartments[~o.open] == 0).all()
        assert a.units.sum() >= int(got.sum()) and (a.units[a.site[a.site >= 0]] > 0).all()


def test_a_failed_transport_names_the_nearest_bank_with_a_warning(small_run, monkeypatch,
                                                                 caplog):
    from siting import core

    def fails(*args, **kwargs):
        raise core.SolverError("HiGHS stopped")

    tr, o = small_run.tiers["locker"], small_run.outcomes["locker"]
    pop = small_run.demand["population"].to_numpy(float)
    monkeypatch.setattr(core, "transport", fails)
    got = allocation.allocate(tr, o.open, pop, o.compartments)
    assert "HiGHS stopped" in caplog.text and "nearest bank" in caplog.text
    nearest, _ = allocation.nearest_open(tr.dist, o.open)
    assert np.array_equal(got.site[tr.rows], nearest)
    assert not np.array_equal(o.allocation.site[tr.rows], nearest)   # the transport differs


def test_every_new_bank_takes_parcels_and_none_more_than_it_holds(small_run, small_outputs):
    """The nearest bank alone would credit the dense blocks' banks with more than they hold
    and show the banks opened for the overflow serving nobody."""
    rows = read_sites(small_outputs)
    banks = rows[rows["tier"] == "locker"]
    assert (banks["served_compartments"] <= banks["compartments"] + 1e-6).all()
    new = banks[banks["status"] == "new"]
    assert len(new) > 0 and (new["served_units"] > 0).all() and (new["served_population"]
                                                                  > 0).any()


def test_a_bank_states_its_spare_compartments_and_a_new_one_without_parcels_why(small_outputs):
    rows = read_sites(small_outputs)
    banks = rows[rows["tier"] == "locker"]
    assert banks["spare_compartments"].to_numpy(float) == pytest.approx(
        (banks["compartments"] - banks["served_compartments"]).to_numpy(float))
    assert rows.loc[rows["tier"] != "locker", "spare_compartments"].isna().all()
    w = labels.Words("zh")
    new = next(banks[banks["status"] == "new"].itertuples(index=False))
    said = dict(popups.site_rows(new, "zh", gcj02=True))
    assert said["spare"] == f"{new.spare_compartments:,.0f}"     # it takes parcels: no why
    idle = new._replace(served_units=0, served_population=0.0, served_compartments=0.0,
                        spare_compartments=float(new.compartments))
    for target, why in ((True, "spare_for_target"), (False, "spare_unneeded")):
        said = dict(popups.site_rows(idle, "zh", gcj02=True, compartment_target=target))
        assert said["spare"] == w.fill("value_why", value=f"{new.compartments:,.0f}",
                                       why=w(why))
    old = next(banks[banks["status"] == "existing"].itertuples(index=False))
    old = old._replace(served_units=0)
    assert dict(popups.site_rows(old, "zh", gcj02=True, compartment_target=True))["spare"] \
        == f"{old.spare_compartments:,.0f}"


def test_gpkg_has_the_allocation_lines_and_the_serving_site(small_run, small_outputs):
    lines = gpd.read_file(small_outputs / "sites.gpkg", layer="服务关系线", engine="pyogrio")
    table = tables.allocation_table(small_run)
    got = table[table["site"] >= 0]
    sites = small_run.sites
    dem_pts = small_run.demand[["lon", "lat"]].to_numpy(float)[got["unit"].to_numpy()]
    same = np.all(np.isclose(dem_pts, np.column_stack([sites.lon, sites.lat])[got["site"]],
                             rtol=0.0, atol=1e-9), axis=1)
    assert len(lines) == int((~same).sum()) > 0
    assert (lines.geom_type == "LineString").all() and lines.is_valid.all()
    ids = set(small_run.sites.site_id)
    assert set(lines["site_id"]) <= ids
    dem = gpd.read_file(small_outputs / "sites.gpkg", layer="区域（居住、商业、政务）",
                        engine="pyogrio")
    assert "locker_site" in dem.columns and "locker_site_m" in dem.columns
