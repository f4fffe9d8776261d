"""The generator's road-density setting (for the scale benchmark, bench/scale.py)."""

from __future__ import annotations

import json

import pytest

from siting.readers import frame as frame_mod
from siting.readers import osm
from siting.synth import generate

from .conftest import SMALL

SAME = ("townships.shp", "townships.dbf", "villages.shp", "villages.dbf", "areas.shp",
        "areas.dbf", "facilities.csv")


@pytest.fixture(scope="module")
def fr():
    return frame_mod.load()


@pytest.fixture(scope="module")
def both(tmp_path_factory, fr):
    cache = tmp_path_factory.mktemp("density")
    return (generate.generate(SMALL, cache, frame=fr),
            generate.generate(SMALL, cache, frame=fr, road_density=4))


def test_denser_streets_go_to_their_own_folder_and_change_only_the_roads(both):
    plain, dense = both
    assert plain.name == SMALL and dense.name == f"{SMALL}-roads4x"
    for name in SAME:
        assert (plain / name).read_bytes() == (dense / name).read_bytes(), name
    assert (plain / "roads.osm").read_bytes() != (dense / "roads.osm").read_bytes()
    meta = json.loads((dense / "GENERATED.json").read_text(encoding="utf-8"))
    assert meta["road_density"] == 4.0
    assert "road_density" not in json.loads((plain / "GENERATED.json").read_text("utf-8"))
    assert "4x as dense" in (dense / "README.txt").read_text(encoding="utf-8")


def test_four_times_the_density_gives_about_four_times_the_grid_nodes(both):
    plain, dense = both
    n1 = len(osm.read(plain / "roads.osm").roads.node_id)
    n4 = len(osm.read(dense / "roads.osm").roads.node_id)
    # the street grids' nodes grow 4-fold; county and village roads stay as they are
    assert 2.5 * n1 < n4 <= 4.0 * n1


def test_a_dense_folder_is_reused_and_not_taken_for_another_density(both, fr):
    _, dense = both
    stamp = (dense / "roads.osm").stat().st_mtime_ns
    assert generate.generate(SMALL, dense.parent, frame=fr, road_density=4) == dense
    assert (dense / "roads.osm").stat().st_mtime_ns == stamp
    assert not generate._cached(dense, generate.SEED, 16.0)


@pytest.mark.parametrize("bad", [0.5, 0.0, float("nan"), float("inf")])
def test_a_density_below_one_is_refused(bad, tmp_path):
    with pytest.raises(ValueError, match="road_density"):
        generate.generate(SMALL, tmp_path, road_density=bad)
