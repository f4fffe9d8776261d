"""siting compare: two runs of 上街区 with different village radii, their differing sites named."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import read_sites
from tests.test_browser import browser, open_alone  # noqa: F401 (the fixture)


def _siting(*args, cwd):
    return subprocess.run([sys.executable, "-m", "siting.cli", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, check=False)


@pytest.fixture(scope="module")
def two_radii(small, village_models, tmp_path_factory):
    root, _ = small
    out = tmp_path_factory.mktemp("cmp")
    folders = []
    for name, radius in (("sj2km", 2000), ("sj3km", 3000)):
        path = village_models(name, radius_m=radius)
        r = _siting("run", path, "--out", out / name, "-q", cwd=root)
        assert r.returncode in (0, 5) and (out / name / "sites.csv").is_file(), r.stderr
        folders.append(out / name)
    return out, folders


def _new_villages(folder):
    s = read_sites(folder)
    s = s[(s["tier"] == "village") & (s["status"] == "new")]
    return {(round(x, 6), round(y, 6)): sid for x, y, sid in zip(s["lon"], s["lat"],
                                                                   s["site_id"], strict=True)}


def test_compare_names_the_sites_that_differ(two_radii):
    out, (a, b) = two_radii
    r = _siting("compare", a, b, "--out", out / "cmp", cwd=out)
    assert r.returncode == 0, r.stderr
    d = json.loads((out / "cmp" / "report.json").read_text(encoding="utf-8"))
    va, vb = _new_villages(a), _new_villages(b)
    only_a = {va[k] for k in set(va) - set(vb)}
    only_b = {vb[k] for k in set(vb) - set(va)}
    assert only_a or only_b, "the radii should change the village plan"
    diff = d["diffs"][0]
    assert {s["site_id"] for s in diff["removed"]} == only_a
    assert {s["site_id"] for s in diff["added"]} == only_b
    assert all(s["tier"] == "village" for s in diff["removed"] + diff["added"])
    kept = diff["counts"]["kept"]
    assert kept == len(read_sites(a)) - len(only_a) == len(read_sites(b)) - len(only_b)
    # the costs per tier are each run's own report's
    for run, folder in zip(d["runs"], (a, b), strict=True):
        own = json.loads((folder / "report.json").read_text(encoding="utf-8"))
        assert run["cost_total"] == own["cost"]["total"]
    village = next(t for t in d["tiers"] if t["tier"] == "village")
    assert [c["new"] for c in village["runs"]] == [len(va), len(vb)]
    md = (out / "cmp" / "report.md").read_text(encoding="utf-8")
    html = (out / "cmp" / "report.html").read_text(encoding="utf-8")
    for sid in only_a | only_b:
        assert sid in md and sid in html
    page = (out / "cmp" / "map.html").read_text(encoding="utf-8")
    assert "<script src=\"http" not in page and "新增" in page and "取消" in page
    for sid in only_a | only_b:
        assert sid in page


def test_compare_of_a_folder_with_itself_in_english(two_radii):
    out, (a, _) = two_radii
    r = _siting("compare", a, a, "--out", out / "same", "--lang", "en", cwd=out)
    assert r.returncode == 0, r.stderr
    d = json.loads((out / "same" / "report.json").read_text(encoding="utf-8"))
    assert d["diffs"][0]["counts"]["added"] == d["diffs"][0]["counts"]["removed"] == 0
    md = (out / "same" / "report.md").read_text(encoding="utf-8")
    assert "The two plans open the same sites." in md and "新增" not in md


def test_compare_refuses_a_folder_that_is_not_an_output(two_radii, tmp_path):
    out, (a, _) = two_radii
    r = _siting("compare", a, tmp_path, "--out", out / "bad", cwd=out)
    assert r.returncode == 2
    assert "no report.json" in r.stderr and str(tmp_path) in r.stderr
    assert "Traceback" not in r.stderr


def test_compare_map_and_report_in_a_browser(two_radii, browser):  # noqa: F811 (fixture)
    """map.html opens alone (no request, no error); its added and removed layers hold, in
    Leaflet, one dot per differing site; report.html lists them."""
    out, (a, b) = two_radii
    folder = out / "browser"
    assert _siting("compare", a, b, "--out", folder, cwd=out).returncode == 0
    d = json.loads((folder / "report.json").read_text(encoding="utf-8"))["diffs"][0]
    page = browser.page()
    try:
        open_alone(page, folder / "report.html")
        names = page.js("Array.from(document.querySelectorAll('table')).at(-1).rows.length")
        assert names == 1 + len(d["added"]) + len(d["removed"])
    finally:
        page.close()
    page = browser.page()
    try:
        open_alone(page, folder / "map.html")
        dots = page.js("""(() => {
            const key = Object.keys(window).find(k => /^layer_control_[0-9a-f]+_layers$/.test(k));
            const out = {};
            for (const [name, layer] of Object.entries(window[key].overlays)) {
              out[name] = layer.getLayers().filter(l => l instanceof L.CircleMarker).length;
            }
            return out;
        })()""")
        added = next(v for k, v in dots.items() if "新增" in k)
        removed = next(v for k, v in dots.items() if "取消" in k)
        assert (added, removed) == (len(d["added"]), len(d["removed"]))
        legend = page.js("document.querySelector('#siting-legend').textContent")
        assert "新增" in legend and "取消" in legend and "保留" in legend
    finally:
        page.close()
