"""map.pdf (the A3 plan drawn without a browser) read back with poppler, and both maps
written twice from one run: the same bytes (issue 13)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from siting.outputs import labels, mapsheet, report, shortfall, webmap

needs_poppler = pytest.mark.skipif(shutil.which("pdfinfo") is None,
                                   reason="poppler-utils not installed")


@needs_poppler
def test_map_pdf_is_one_a3_landscape_page_with_title_legend_and_credit(small_outputs, small_run):
    pdf = small_outputs / "map.pdf"
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True,
                          check=True).stdout
    assert re.search(r"^Pages: +1$", info, re.M)
    size = re.search(r"Page size: +([\d.]+) x ([\d.]+) pts \(A3\)", info)
    assert size and float(size[1]) == pytest.approx(1190.55, abs=0.1)    # landscape
    assert float(size[2]) == pytest.approx(841.89, abs=0.1)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    flat = text.replace("\n", "")
    assert webmap.title_of(small_run) in text            # says 生成数据 (generated)
    assert labels.says_generated(webmap.title_of(small_run))
    assert labels.t("legend", "zh") in text and labels.t("north", "zh") in text
    assert report.attribution(small_run) in flat
    assert re.search(r"\d+ 公里|\d+ 米", text)            # the scale bar's length
    for u in shortfall.unmet(small_run):                 # the unmet target and why
        assert u.why in flat
    for tier in small_run.tiers:
        assert labels.t(tier, "zh") in text
    towns = small_run.demand[small_run.demand["layer"] == "townships"]
    assert all(labels.short_name(n) in text for n in towns["name"])


def test_the_maps_are_the_same_twice(small_run, tmp_path):
    """No clock and no random id: the same run writes the same map.html and map.pdf."""
    for name, writer in (("map.html", webmap.write), ("map.pdf", mapsheet.write)):
        a, b = tmp_path / f"a-{name}", tmp_path / f"b-{name}"
        writer(small_run, a)
        writer(small_run, b)
        assert a.read_bytes() == b.read_bytes(), name


def test_a_cjk_font_installed_after_matplotlib_cached_its_fonts_is_used(monkeypatch):
    """matplotlib keeps its font list from its first import: fonts-wqy-zenhei installed
    since (as `make test` does) is still found, and map.pdf gets its Chinese glyphs."""
    from matplotlib import font_manager

    if not any(mapsheet.CJK_FILES.search(Path(p).name) for p in font_manager.findSystemFonts()):
        pytest.skip("no CJK font file on this machine (make test installs fonts-wqy-zenhei)")
    stale = [f for f in font_manager.fontManager.ttflist if f.name not in mapsheet.CJK_FONTS]
    monkeypatch.setattr(font_manager.fontManager, "ttflist", stale)
    family, _ = mapsheet._font()
    assert family[0] in mapsheet.CJK_FONTS
