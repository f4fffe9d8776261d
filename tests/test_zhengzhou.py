"""The Zhengzhou frame, the seeded generator, the rural tiers and the city report."""

from __future__ import annotations

import json
import shutil

import geopandas as gpd
import numpy as np
import pytest
import shapely

from siting import ScenarioError
from siting.config import scenario
from siting.outputs import write as outputs
from siting.readers import frame
from siting.synth import generate

from .conftest import ROOT, SMALL
from .test_report_language import english_words, rendered_text


def test_frame_has_every_unit_of_the_2023_codes(fr):
    assert len(fr.counties) == 15
    assert len(fr.townships) == 208
    assert len(fr.committees) == 3306
    assert fr.townships["host"].notna().all()
    assert set(fr.townships["rule"]) <= {"code", "name", "moved", "split"}
    # the moves the crosswalk must find: 峡窝镇 from 荥阳 to 上街, 八岗 from 中牟 to 航空港区
    t = fr.townships.set_index("name")
    assert t.loc["峡窝镇", "host"] == "410182107"
    assert t.loc["八岗镇", "host"] == "410122205"


def test_plan_share_apportions_exactly_20000(fr):
    shares = [frame.plan_share(20000, c) for c in fr.counties["code"]]
    assert sum(shares) == 20000
    assert frame.plan_share(20000, "jinshui") > frame.plan_share(20000, "shangjie")


def test_same_seed_gives_byte_identical_files(tmp_path, fr):
    a = generate.generate(SMALL, tmp_path / "a", frame=fr, seed=7)
    b = generate.generate(SMALL, tmp_path / "b", frame=fr, seed=7)
    c = generate.generate(SMALL, tmp_path / "c", frame=fr, seed=8)
    names = sorted(p.name for p in a.iterdir() if p.name != "README.txt")
    assert "villages.dbf" in names and "roads.osm" in names
    for name in names:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    assert (a / "roads.osm").read_bytes() != (c / "roads.osm").read_bytes()


def test_cached_folder_is_reused(tmp_path, fr):
    a = generate.generate(SMALL, tmp_path, frame=fr)
    stamp = (a / "roads.osm").stat().st_mtime_ns
    generate.generate(SMALL, tmp_path, frame=fr)
    assert (a / "roads.osm").stat().st_mtime_ns == stamp


def test_shapefile_is_gbk_in_cgcs2000_gauss_kruger(small, fr):
    _, folder = small
    assert (folder / "villages.cpg").read_text().strip() == "GBK"
    villages = gpd.read_file(folder / "villages.shp")
    assert villages.crs.to_epsg() == 4547
    nbs = fr.committees[fr.committees["county"] == frame.slug_to_code(SMALL)]
    assert sorted(villages["NAME"]) == sorted(nbs["name"])
    first = nbs["name"].iloc[0]
    assert first.encode("gbk") in (folder / "villages.dbf").read_bytes()
    assert first.encode("utf-8") not in (folder / "villages.dbf").read_bytes()


def test_villages_nest_in_their_township_and_sum_to_the_census(small, fr):
    _, folder = small
    villages = gpd.read_file(folder / "villages.shp")
    towns = gpd.read_file(folder / "townships.shp").set_index("CODE")
    for town_code, group in villages.groupby("TOWN_CODE"):
        shell = shapely.buffer(towns.loc[town_code, "geometry"], 1.0)
        assert shapely.within(group.geometry.to_numpy(), shell).all(), town_code
    county = fr.county(frame.slug_to_code(SMALL))
    pop = villages.groupby("KIND")["POP"].sum()
    assert pop.sum() == county["pop2020"]
    assert pop.get("村", 0) == county["rural2020"]
    assert (villages["GENERATED"] == 1).all()


def test_every_generated_file_says_generated(small):
    _, folder = small
    assert "generated" in (folder / "roads.osm").read_text(encoding="utf-8")[:400].lower()
    for name in ("townships", "villages", "areas"):
        assert (gpd.read_file(folder / f"{name}.shp")["GENERATED"] == 1).all()
    facilities = (folder / "facilities.csv").read_text(encoding="utf-8-sig")
    assert facilities.splitlines()[0].endswith("generated")
    assert "GCJ-02" in facilities and "WGS84" in facilities


def test_small_county_end_to_end(small_run, tmp_path):
    r = small_run
    assert r.generated
    by_key = {x.key: x for x in r.results}
    # every township holds an outlet, checked by point-in-polygon of the open sites
    assert by_key["township_cover"].met
    # every village that reaches the road network is served; the unreachable are named
    village = by_key["village_cover"]
    unreached = {name.split()[0] for name in village.failing}
    gaps = set((r.scenario.data_dir / "README.txt").read_text(encoding="utf-8")
               .split("simulation): ")[1].split()[0].split(","))
    assert unreached == {g.strip() for g in gaps}
    assert all(" " in name for name in village.failing)      # code and name
    assert by_key["community_each"].met and by_key["community_count"].met
    assert by_key["locker_cover"].met
    outputs.write_all(r, tmp_path / "out")
    report = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert report["generated_data"] is True
    assert "生成数据" in (tmp_path / "out" / "map.html").read_text(encoding="utf-8")
    assert "生成数据" in (tmp_path / "out" / "report.md").read_text(encoding="utf-8")


def test_unreachable_village_is_not_silently_dropped(small_run):
    r = small_run
    v = r.tiers["village"]
    assert len(v.rows) == int((r.demand["class"] == "village").sum())
    report_lists = next(x for x in r.results if x.key == "village_cover")
    assert report_lists.required == len(v.rows)
    assert report_lists.achieved == len(v.rows) - len(report_lists.failing)


def test_real_folder_with_only_some_files_is_refused(small):
    root, _ = small
    real = root / "data" / "zhengzhou" / SMALL
    real.mkdir(parents=True)
    (real / "townships.shp").write_bytes(b"")
    try:
        with pytest.raises(ScenarioError, match=r"holds townships\.shp but not"):
            scenario.load(root / "models" / f"{SMALL}.toml")
    finally:
        shutil.rmtree(real)


def test_missing_generated_data_names_the_command(tmp_path):
    (tmp_path / "models").mkdir()
    shutil.copy(ROOT / "models" / "erqi.toml", tmp_path / "models")
    with pytest.raises(ScenarioError, match="siting generate erqi"):
        scenario.load(tmp_path / "models" / "erqi.toml")


def test_city_report_sums_the_counties(small_run, city_outputs):
    summary, out, outcome = city_outputs
    targets = {t["key"]: t for t in summary["targets"]}
    village = next(x for x in small_run.results if x.key == "village_cover")
    assert targets["village_cover"]["achieved"] == village.achieved
    assert targets["community_plan"]["required"] == 20000
    assert targets["community_plan"]["achieved"] == int(small_run.solution.open["community"].sum())
    assert summary["generated_counties"] == [SMALL]
    for name in ("report.json", "report.md", "report.html", "sites.csv", "map.html"):
        assert (out / name).is_file()
    kpi = outcome.townships
    assert int(kpi["village_units"].sum()) == village.required
    assert int(kpi["village_served"].sum()) == village.achieved
    assert np.all(kpi["township_sites"] >= 1)
    # the plan's 2.5 million compartments, against the open banks' compartments
    comp = outcome.summary["compartments"]
    assert targets["compartments"]["required"] == 2_500_000
    assert targets["compartments"]["achieved"] == comp["open"] > 0
    assert targets["compartments"]["met"] is False            # one county is far from it
    assert summary["compartments"]["needed"] == comp["needed"]
    county = summary["counties"][0]
    assert county["villages"] == village.required
    listed = next(t for t in outcome.summary["targets"] if t["key"] == "village_cover")
    assert county["unmet"].get("village_cover", []) == listed["failing"]
    md = (out / "report.md").read_text(encoding="utf-8")
    title = small_run.scenario.title
    assert f"| {title} | 是 | {village.required:,} |" in md
    # the county table says the plan's own status and its avoidable gap, in the report's words
    solver = outcome.summary["solver"]
    assert county["gap"] == solver["avoidable_gap"] and county["solver_status"] == solver["status"]
    # (the task table names each task by its scenario file, models/<name>.toml: an identifier)
    html = rendered_text((out / "report.html").read_text(encoding="utf-8"))
    assert [w for w in english_words(md) + english_words(html) if w != SMALL] == []
