"""The three-level chain by hand: 3 villages, 2 township outlets, 1 county centre.

Roads (metres)::

    V1 --1000-- T1 --3000-- C --5000-- T2 --1500-- V3
                |
               2000
                |
                V2

Each village's demand point hangs 100 m off its village outlet (V1, V2, V3). The chains:
V1 100 + 1000 + 3000, V2 100 + 2000 + 3000, V3 100 + 1500 + 5000 (centre → township →
village outlet: 4,000, 5,000 and 6,500 m).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from siting import core
from siting.config.scenario import ChainConfig, NetworkConfig, Scenario, TierConfig
from siting.network.roads import RoadNetwork
from siting.network.snapping import AccessGraph
from siting.run import chain
from siting.run.results import Sites, TierRun

C, T1, T2, V1, V2, V3 = range(6)
EDGES = [(V1, T1, 1000.0), (T1, C, 3000.0), (C, T2, 5000.0), (T2, V3, 1500.0),
         (T1, V2, 2000.0), (V1, 6, 100.0), (V2, 7, 100.0), (V3, 8, 100.0)]
SETTINGS = core.SolverSettings(time_limit_s=20)


def _graph() -> AccessGraph:
    u, v, w = (np.array(x) for x in zip(*EDGES, strict=True))
    g = sp.csr_array((np.r_[w, w], (np.r_[u, v], np.r_[v, u])), shape=(9, 9))
    return AccessGraph(graph=g, n_road=6, node=np.array([6, 7, 8]), snapped=None,  # type: ignore[arg-type]
                       xy=np.zeros((9, 2)))


def _net() -> RoadNetwork:
    road = [e for e in EDGES if e[1] < 6]
    u, v, w = (np.array(x) for x in zip(*road, strict=True))
    lon = 113.6 + np.arange(6) * 0.01
    return RoadNetwork(node_id=np.arange(101, 107), lon=lon, lat=np.full(6, 34.7),
                       x=np.arange(6) * 1000.0, y=np.zeros(6), crs="EPSG:32649", u=u, v=v,
                       length=w, walk=np.ones(len(u), bool), drive=np.ones(len(u), bool),
                       highway=np.full(len(u), "tertiary"), name=np.full(len(u), ""),
                       source=Path("hand.osm"))


def _sites() -> Sites:
    n = 6
    source = np.array(["县级处理中心"] + ["road node"] * 5, dtype=object)
    return Sites(site_id=np.array([f"S{j:05d}" for j in range(1, n + 1)]),
                 name=np.array(["中牟县邮件处理中心"] + [""] * 5, dtype=object), source=source,
                 osm_id=np.arange(101, 107).astype(str), lon=113.6 + np.arange(n) * 0.01,
                 lat=np.full(n, 34.7), x=np.zeros(n), y=np.zeros(n),
                 road_node=np.arange(n), point=np.full(n, -1),
                 is_existing=np.arange(n) == C, existing={}, capacity=np.full(n, np.nan))


def _run(**chain_cfg: object) -> chain.Chain:
    cfg = TierConfig(cost=1.0, demand="villages", reach="road", radius_m=2000.0,
                     network="drive")
    village = TierRun("village", cfg, np.array([0, 1, 2]), sp.csr_array((3, 6)), None,
                      np.ones(3), np.zeros(0, np.int64), sp.csr_array((0, 6)), 0)
    scenario = Scenario(name="hand", network=NetworkConfig(osm=Path("hand.osm")),
                        tiers={"village": cfg}, chain=ChainConfig(**chain_cfg))  # type: ignore[arg-type]
    is_open = {"township": np.isin(np.arange(6), [T1, T2]),
               "village": np.isin(np.arange(6), [V1, V2, V3])}
    return chain.build(scenario, _net(), _graph(), _sites(), is_open, village,
                       settings=SETTINGS)


def test_each_link_and_the_whole_chain_by_hand():
    c = _run(max_chain_km=6.0)
    assert c.village_site.tolist() == [V1, V2, V3]
    assert c.township_site.tolist() == [T1, T1, T2]
    assert c.centre.tolist() == [0, 0, 0] and c.centres[0].existing
    assert c.outlet_m == pytest.approx([100.0, 100.0, 100.0])
    assert c.township_m == pytest.approx([1000.0, 2000.0, 1500.0])
    assert c.centre_m == pytest.approx([3000.0, 3000.0, 5000.0])
    assert c.chain_m == pytest.approx([4000.0, 5000.0, 6500.0])
    assert c.beyond.tolist() == [False, False, True]
    import pandas as pd
    units = pd.DataFrame({"code": ["V1", "V2", "V3"], "name": ["甲村", "乙村", "丙村"]})
    r = chain.result(c, units)
    assert (r.required, r.achieved, r.met) == (3, 2, False)
    assert r.failing == ["V3 丙村 (6.5 km)"]


def test_a_new_centre_goes_where_the_township_outlets_are_nearest_it():
    # with C fixed: at T2 the township outlets sum 3000 + 0, at T1 0 + 5000, at V3 3000 + 1500
    c = _run(new_centres=1, max_chain_km=6.0)
    assert [x.existing for x in c.centres] == [True, False]
    assert c.centres[1].osm_id == str(101 + T2)
    assert c.centre.tolist() == [0, 0, 1]
    assert c.chain_m == pytest.approx([4000.0, 5000.0, 1500.0])
    assert not c.beyond.any()


def test_a_village_without_an_outlet_in_reach_has_no_chain_and_is_beyond():
    cfg = TierConfig(cost=1.0, demand="villages", reach="road", radius_m=50.0,
                     network="drive")     # 100 m from every outlet: none within 50 m
    village = TierRun("village", cfg, np.array([0, 1, 2]), sp.csr_array((3, 6)), None,
                      np.ones(3), np.zeros(0, np.int64), sp.csr_array((0, 6)), 0)
    scenario = Scenario(name="hand", network=NetworkConfig(osm=Path("hand.osm")),
                        tiers={"village": cfg}, chain=ChainConfig(max_chain_km=6.0))
    is_open = {"township": np.isin(np.arange(6), [T1, T2]),
               "village": np.isin(np.arange(6), [V1, V2, V3])}
    c = chain.build(scenario, _net(), _graph(), _sites(), is_open, village, settings=SETTINGS)
    assert (c.village_site == -1).all() and np.isnan(c.chain_m).all()
    assert c.beyond.all()


def test_a_village_no_road_reaches_is_not_counted_by_the_chain():
    c = _run(max_chain_km=6.0)
    cut = chain.Chain(**{**c.__dict__, "attached": np.array([True, True, False])})
    assert cut.beyond.tolist() == [False, False, False]
    import pandas as pd
    r = chain.result(cut, pd.DataFrame({"code": ["V1", "V2", "V3"], "name": ["甲", "乙", "丙"]}))
    assert (r.required, r.achieved, r.met) == (2, 2, True)
