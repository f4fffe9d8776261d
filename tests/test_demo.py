"""End to end on the shipped real OSM extract (Beijing Haidian, Tsinghua/PKU)."""

from __future__ import annotations

import json
import re

import networkx as nx
import numpy as np
import pytest

from siting.network.snapping import access_graph
from siting.outputs import tables
from siting.outputs import write as outputs
from siting.run import pipeline

from .conftest import read_sites


def test_every_output_is_written(demo_outputs):
    for name in outputs.FILES:
        assert (demo_outputs / name).stat().st_size > 0, name


def test_targets_called_met_hold_by_an_independent_networkx_check(demo_run, demo_outputs):
    report = json.loads((demo_outputs / "report.json").read_text(encoding="utf-8"))
    sites = read_sites(demo_outputs)
    index = {sid: j for j, sid in enumerate(demo_run.sites.site_id)}
    checked = 0
    for target in report["targets"]:
        if not target["met"] or not target["key"].endswith("_cover"):
            continue
        tier = target["tier"]
        cfg = demo_run.scenario.tiers[tier]
        graph = _access_graph(demo_run, cfg.network)
        g = nx.from_scipy_sparse_array(graph.graph, edge_attribute="length")
        open_ids = sites.loc[sites["tier"] == tier, "site_id"]
        nodes = pipeline.site_nodes(demo_run.sites, graph)[[index[i] for i in open_ids]]
        dist = nx.multi_source_dijkstra_path_length(g, set(nodes.tolist()),
                                                    cutoff=cfg.radius_m, weight="length")
        rows = demo_run.tiers[tier].rows
        for i in rows:
            assert dist.get(int(graph.node[i]), np.inf) <= cfg.radius_m + 1e-6
        checked += 1
    assert checked >= 1


def _access_graph(run, mode):
    ex = run.sites.existing_sites()
    x = np.concatenate([run.demand["x"].to_numpy(), run.sites.x[ex]])
    y = np.concatenate([run.demand["y"].to_numpy(), run.sites.y[ex]])
    return access_graph(run.network, mode, x, y, max_snap_m=run.scenario.network.max_snap_m)


def test_report_states_proof_and_counts(demo_outputs, demo_run):
    report = json.loads((demo_outputs / "report.json").read_text(encoding="utf-8"))
    assert report["solver"]["status"] == "optimal"
    assert report["solver"]["gap"] == pytest.approx(0.0, abs=1e-9)
    for stage in report["solver"]["stages"]:
        assert stage["bound"] is not None
    assert report["all_targets_met"] is True
    assert report["inputs"][0]["sha256"] == pipeline.sha256(demo_run.scenario.network.osm)
    assert report["counts"]["network_nodes"] > 1000
    assert report["generated_data"] is False


def test_model_claims_match_the_checker(demo_run):
    reach = next(r for r in demo_run.results if r.key == "community_cover")
    assert demo_run.solution.reached_weight == pytest.approx(reach.achieved, rel=1e-6)
    count = next(r for r in demo_run.results if r.key == "community_count")
    assert count.achieved == int(demo_run.solution.open["community"].sum())


def test_existing_post_offices_are_open_and_free(demo_run):
    rows = tables.open_sites(demo_run)
    existing = rows[rows["status"] == "existing"]
    assert len(existing) == 2 * 4            # 4 post offices, counted for two tiers
    assert (existing["cost"] == 0).all()


def test_two_runs_give_byte_identical_sites_csv(demo_scenario, demo_outputs, tmp_path):
    again = pipeline.run(demo_scenario)
    outputs.write_all(again, tmp_path / "again")
    assert (tmp_path / "again" / "sites.csv").read_bytes() == \
        (demo_outputs / "sites.csv").read_bytes()


def test_sites_csv_opens_in_excel_with_chinese(demo_outputs):
    raw = (demo_outputs / "sites.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert "智能快件箱" in raw.decode("utf-8-sig")


def test_map_loads_no_remote_script_or_stylesheet(demo_outputs):
    page = (demo_outputs / "map.html").read_text(encoding="utf-8")
    remote = re.findall(r"""<(?:script|link)[^>]+(?:src|href)\s*=\s*["']?(?:https?:)?//""", page)
    assert remote == []
    assert "@import url(http" not in page
    assert "leaflet" in page.lower()          # the library is inlined, not missing


def test_gpkg_has_the_sites_and_every_demand_unit(demo_outputs, demo_run):
    import pyogrio

    from siting.check import plan
    from siting.outputs import gpkg

    path = demo_outputs / "sites.gpkg"
    layers = {name for name, _ in pyogrio.list_layers(path)}
    assert plan.sites_layer(path) == "站点" and "layer_styles" in layers
    units = [x for x in gpkg.build(demo_run) if x.key in ("villages", "communities", "areas",
                                                          "buildings")]
    assert {x.table for x in units} <= layers
    written = sum(len(pyogrio.read_dataframe(path, layer=x.table)) for x in units)
    assert written == int((demo_run.demand["layer"] != "townships").sum()) > 0
