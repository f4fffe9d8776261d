"""sites.gpkg opened in QGIS, as a planner opens it: every layer styled, aliased, valid, drawn.

PyQGIS is Debian's ``python3-qgis`` for the system Python (``make test`` installs it, as it
installs Chromium); the virtual environment cannot import it, so tests/qgis_probe.py runs
under /usr/bin/python3 and answers in JSON. Without PyQGIS the test skips and says why.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pyogrio
import pytest

from siting.outputs import labels, style
from tests.conftest import read_sites

SYSTEM_PYTHON = Path("/usr/bin/python3")
PROBE = Path(__file__).with_name("qgis_probe.py")


def _has_qgis() -> bool:
    if not SYSTEM_PYTHON.exists():
        return False
    got = subprocess.run([str(SYSTEM_PYTHON), "-c", "import qgis.core"], capture_output=True,
                         timeout=120, check=False)
    return got.returncode == 0


COLOURS = {"covered": style.COVERED, "uncovered": style.UNCOVERED,
           **{t: c for t, c in style.TIER_COLOR.items()}}


@pytest.fixture(scope="module")
def qgis(small_outputs, tmp_path_factory):
    """What QGIS makes of the small county's sites.gpkg, and the PNG it drew."""
    if not _has_qgis():
        pytest.skip("no PyQGIS for /usr/bin/python3: `make test` installs Debian's "
                    "python3-qgis (as root or with sudo)")
    png = tmp_path_factory.mktemp("qgis") / "sites.png"
    args = [str(SYSTEM_PYTHON), str(PROBE), str(small_outputs / "sites.gpkg"), str(png)]
    for c in dict.fromkeys(COLOURS.values()):
        args += ["--colour", c]
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    got = subprocess.run(args, capture_output=True, text=True, timeout=300, env=env,
                         check=False)
    assert got.returncode == 0, got.stderr[-2000:]
    return json.loads(got.stdout), png


def test_every_layer_opens_valid_with_its_features(qgis, small_outputs):
    seen, _ = qgis
    path = small_outputs / "sites.gpkg"
    assert seen["order"][0] == "乡镇（街道）" and seen["order"][-1] == "站点"
    for name, layer in seen["layers"].items():
        assert layer["valid"], name
        assert layer["count"] == pyogrio.read_info(path, layer=name)["features"] > 0, name
        assert layer["invalid"] == [], name               # QGIS's GEOS check of each feature
    assert seen["layers"]["站点"]["count"] == len(read_sites(small_outputs))


def test_every_layer_is_drawn_by_its_stored_style(qgis):
    seen, _ = qgis
    for name, layer in seen["layers"].items():
        assert layer["renderer"] == "categorizedSymbol", name      # not QGIS's grey default
        assert len(layer["categories"]) >= 2, name
    sites = {c["value"]: c for c in seen["layers"]["站点"]["categories"]}
    assert sites["locker/new"]["colour"] == style.TIER_COLOR["locker"]
    assert sites["locker/new"]["label"] == "智能快件箱 · 新建"
    assert sites["village/existing"]["colour"] == style.EXISTING_SWATCH
    villages = {c["value"]: c for c in seen["layers"]["行政村"]["categories"]}
    assert villages["yes"]["colour"] == style.COVERED
    assert villages["no"]["colour"] == style.UNCOVERED
    assert villages["no"]["label"] == labels.t("uncovered", "zh")
    assert seen["layers"]["乡镇（街道）"]["labels"] and seen["layers"]["行政村"]["labels"]


def test_fields_carry_chinese_aliases(qgis):
    seen, _ = qgis
    sites = seen["layers"]["站点"]["aliases"]
    assert sites["site_id"] == "站点编号" and sites["compartments"] == "格口数"
    villages = seen["layers"]["行政村"]["aliases"]
    assert villages["population"] == "人口"
    assert villages["village_served"] == "村级网点：已覆盖"
    for name, layer in seen["layers"].items():
        blank = [f for f, a in layer["aliases"].items() if not a and f != "fid"]
        assert blank == [], name


def test_the_render_shows_the_palette(qgis):
    seen, png = qgis
    assert png.stat().st_size > 20_000
    pixels = seen["pixels"]
    for tier in ("village", "community", "locker"):
        assert pixels[style.TIER_COLOR[tier]] > 20, tier         # the new sites' markers
    assert pixels[style.UNCOVERED] > 0       # the unserved village (马固村, no road near)
