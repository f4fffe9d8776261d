"""The typed stage results, the outputs' tables built from them, and TierData's demand rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from siting.config.scenario import SolverConfig
from siting.core.model import Problem, TierData, capacity_short, optimise
from siting.network import candidates
from siting.outputs import kpi, tables
from siting.run.results import Sites

CFG = SolverConfig(time_limit_s=30)


def _table() -> pd.DataFrame:
    existing = pd.DataFrame({"source": ["csv", "csv"], "osm_id": ["e1", "e2"],
                             "name": ["post A", "post B"], "lon": [116.0, 116.1],
                             "lat": [40.0, 40.1], "x": [0.0, 10.0], "y": [0.0, 10.0],
                             "existing_locker": [True, False], "capacity": [90.0, np.nan]})
    nodes = pd.DataFrame({"source": "road node", "osm_id": [7], "name": "", "lon": [116.2],
                          "lat": [40.2], "x": [20.0], "y": [20.0], "road_node": [3]})
    units = pd.DataFrame({"layer": ["areas"], "code": ["A1"], "name": ["area"], "lon": [116.3],
                          "lat": [40.3], "x": [30.0], "y": [30.0]})
    return candidates.combine(existing, nodes, candidates.doors(units), first_point=1,
                              tiers=["locker", "village"])


def test_sites_have_one_index_space_and_an_existing_flag():
    s = Sites.from_frame(_table(), ["locker", "village"])
    assert len(s) == 4
    assert s.site_id.tolist() == ["S00001", "S00002", "S00003", "S00004"]
    assert s.is_existing.tolist() == [True, True, False, False]
    assert s.existing["locker"].tolist() == [True, False, False, False]
    assert not s.existing["village"].any()
    assert s.point.tolist() == [1, 2, -1, 0]         # unit 0, then the existing points
    assert s.road_node.tolist() == [-1, -1, 3, -1]
    assert s.existing_sites().tolist() == [0, 1]
    assert s.capacity[0] == pytest.approx(90.0) and np.isnan(s.capacity[1:]).all()


def test_demand_rows_default_to_the_first_rows_and_must_match_the_demand():
    cover = sp.csr_array(np.array([[1, 0], [0, 1], [1, 1]]))
    t = TierData("locker", cost=np.zeros(2), existing=np.zeros(2, bool), cover=cover,
                 sizes=((60.0, 1.0),), demand=np.array([10.0, 20.0]))
    assert t.demand_rows is not None and t.demand_rows.tolist() == [0, 1]
    assert t.demand_cover().toarray().tolist() == [[1, 0], [0, 1]]
    with pytest.raises(ValueError, match="3 demand_rows for 2 demand values"):
        TierData("locker", cost=np.zeros(2), existing=np.zeros(2, bool), cover=cover,
                 sizes=((60.0, 1.0),), demand=np.array([10.0, 20.0]),
                 demand_rows=np.array([0, 1, 2]))


def test_demand_on_later_rows_of_cover_is_placed_by_those_rows():
    # row 0 is a one-in-each row without demand; row 1 (site 0 only) needs 100 compartments,
    # row 2 (sites 1 and 2) needs 200. Read as the first rows, site 0 alone would owe 200.
    cover = sp.csr_array(np.array([[1, 1, 1], [1, 0, 0], [0, 1, 1]]))
    kw = {"cost": np.array([5.0, 1.0, 5.0]), "existing": np.zeros(3, bool), "cover": cover,
          "sizes": ((60.0, 1.0), (120.0, 2.0)), "demand": np.array([100.0, 200.0])}
    t = TierData("locker", **kw, demand_rows=np.array([1, 2]))
    assert t.demand_cover().toarray().tolist() == [[1, 0, 0], [0, 1, 1]]
    assert capacity_short(t).tolist() == []
    assert capacity_short(TierData("locker", **kw)).tolist() == [1]
    sol = optimise(Problem(3, (t,)), CFG)
    assert sol.short.get("locker", {}) == {}
    assert sol.capacity["locker"].tolist() == [120.0, 120.0, 120.0]
    assert sol.cost == pytest.approx(7 + 3 + 7)


def test_the_run_leaves_the_units_as_read_and_the_tables_add_the_tier_columns(demo_run):
    assert not [c for c in demo_run.demand.columns if c.endswith(("_served", "_dist_m"))]
    table = tables.demand_table(demo_run)
    for name, tr in demo_run.tiers.items():
        out = demo_run.outcomes[name]
        served = table[f"{name}_served"]
        assert served.dtype == "boolean"
        assert served.isna().to_numpy().tolist() == (~out.applies).tolist()
        assert out.applies[tr.rows].all()
        assert not out.served[~out.applies].any()
        assert int(served.sum()) == int(out.served.sum())
        measured = ~np.isnan(table[f"{name}_dist_m"].to_numpy())
        assert not (measured & ~out.applies).any()


def test_open_sites_come_from_the_outcomes(demo_run):
    rows = tables.open_sites(demo_run)
    assert list(rows.columns) == tables.SITE_COLUMNS
    for name, out in demo_run.outcomes.items():
        mine = rows[rows["tier"] == name]
        assert len(mine) == int(out.open.sum())
        assert int((mine["status"] == "existing").sum()) == int((out.open & out.existing).sum())
        assert (mine.loc[mine["status"] == "existing", "cost"] == 0).all()
        expect = demo_run.sites.site_id[np.flatnonzero(out.open)].tolist()
        assert mine["site_id"].tolist() == expect


def test_compartments_and_township_figures_read_the_outcomes(small_run):
    locker = small_run.outcomes["locker"]
    assert locker.compartments is not None
    assert (locker.compartments[~locker.open] == 0).all()
    assert (locker.compartments[locker.new] > 0).all()
    assert small_run.outcomes["village"].compartments is None
    towns = kpi.townships(small_run)
    village = next(r for r in small_run.results if r.key == "village_cover")
    assert int(towns["village_served"].sum()) == village.achieved
    assert int(towns["locker_sites"].sum()) <= int(locker.open.sum())
