"""The bad-input corpus: each broken input gives its exit code and a one-paragraph message.

Every folder of ``tests/data/bad/`` (built by ``tests/data/make_bad.py``) is a small scenario
with one thing wrong and an ``expect.toml``: the command, the exit code, the offending file's
name and the strings the message must contain (the feature, row or key, and the fix).
"""

from __future__ import annotations

import csv
import importlib.util
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from siting import cli

DATA = Path(__file__).resolve().parent / "data"
BAD = DATA / "bad"
CASES = sorted(p.name for p in BAD.iterdir() if (p / "expect.toml").is_file())
IN_A_FRESH_PROCESS = ("osm_truncated", "pbf_corrupt", "scenario_mistyped_key", "html_in_name")


def expect(name: str) -> dict:
    return tomllib.loads((BAD / name / "expect.toml").read_text(encoding="utf-8"))


def cases() -> list:
    """Every case; a known bug outside the readers is a strict xfail naming it."""
    out = []
    for name in CASES:
        why = expect(name).get("xfail")
        marks = [pytest.mark.xfail(reason=why, strict=True)] if why else []
        out.append(pytest.param(name, marks=marks, id=name))
    return out


def command(name: str, out: Path) -> list[str]:
    exp = expect(name)
    args = [exp["command"], str(BAD / name / "scenario.toml")]
    return [*args, "--out", str(out)] if exp["command"] == "run" else args


def check(name: str, code: int, text: str, out: Path) -> None:
    exp = expect(name)
    assert code == exp["exit"], text
    assert "Traceback" not in text
    assert "internal error" not in text
    assert exp["file"] in text, f"the file {exp['file']!r} is not named in:\n{text}"
    for s in exp["contains"]:
        assert s in text, f"{s!r} is not in:\n{text}"
    if exp["command"] == "run":
        assert out.exists() == (exp["exit"] == 0)
        assert [p.name for p in out.parent.iterdir() if re.match(r"\..*tmp-", p.name)] == []
    for raw in exp.get("map_escaped", []):
        assert_escaped_only((out / "map.html").read_text(encoding="utf-8"), raw)
    if exp["command"] == "run" and exp["exit"] == 0:
        check_outputs(exp, out)


def strict_json(text: str) -> object:
    """``json.loads`` refusing NaN, Infinity and -Infinity (which Python accepts)."""
    def refuse(name: str) -> object:
        raise ValueError(f"report.json holds {name}, which is not JSON")
    return json.loads(text, parse_constant=refuse)


def check_outputs(exp: dict, out: Path) -> None:
    """report.json is strict JSON; sites.csv holds no live formula; existing counted once."""
    report = strict_json((out / "report.json").read_text(encoding="utf-8"))
    assert isinstance(report, dict)
    for tier, n in exp.get("existing", {}).items():
        assert report["sites"][tier]["existing"] == n, tier
    with (out / "sites.csv").open(encoding="utf-8-sig", newline="") as f:
        cells = [c for row in csv.reader(f) for c in row]
    assert [c for c in cells if re.match(r"[=+@\t\r]|-\D", c)] == []
    for cell in exp.get("csv_neutral", []):
        assert cell in cells, f"{cell!r} is not a cell of sites.csv"


def assert_escaped_only(page: str, raw: str) -> None:
    """``raw`` (``<tag …>``) reached the page, and only HTML-escaped: ``&lt;tag …&gt;``.

    The map's GeoJSON is JSON-encoded, so the escaped text may read ``\\u0026lt;``; a raw
    ``<`` may hide as ``\\u003c`` the same way, which is refused too.
    """
    inner = raw.strip("<>")
    hits = [m.start() for m in re.finditer(re.escape(inner), page)]
    assert hits, f"{raw!r} does not reach the map at all"
    for i in hits:
        assert page[:i].endswith(("&lt;", "\\u0026lt;")), page[max(0, i - 60):i + 60]
    assert raw not in page
    assert f"\\u003c{inner}" not in page.lower()


@pytest.mark.parametrize("name", cases())
def test_case(name, tmp_path, capsys):
    out = tmp_path / "out"
    code = cli.main(command(name, out))
    captured = capsys.readouterr()
    check(name, code, captured.out + captured.err, out)


@pytest.mark.parametrize("name", IN_A_FRESH_PROCESS)
def test_case_in_a_fresh_process(name, tmp_path):
    """The installed entry point: nothing but the message reaches the terminal."""
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "siting.cli", *command(name, out)],
                          capture_output=True, text=True, cwd=tmp_path, timeout=300)
    check(name, proc.returncode, proc.stdout + proc.stderr, out)


def test_corpus_has_the_cases_of_issue_4_and_11():
    assert len(CASES) >= 80
    commands = {expect(n)["command"] for n in CASES}
    assert commands == {"validate", "run"}


def test_make_bad_rebuilds_the_committed_corpus(tmp_path, monkeypatch):
    """Byte for byte: the DBF header date is fixed and no file carries a timestamp."""
    spec = importlib.util.spec_from_file_location("make_bad", DATA / "make_bad.py")
    assert spec is not None and spec.loader is not None
    make_bad = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "make_bad", make_bad)    # its dataclasses look it up
    spec.loader.exec_module(make_bad)
    make_bad.build(tmp_path / "bad")
    built = sorted(p.relative_to(tmp_path / "bad") for p in (tmp_path / "bad").rglob("*"))
    committed = sorted(p.relative_to(BAD) for p in BAD.rglob("*"))
    assert built == committed
    for rel in built:
        if (BAD / rel).is_file():
            assert (tmp_path / "bad" / rel).read_bytes() == (BAD / rel).read_bytes(), rel


# --- the checks of issue 11, one by one --------------------------------------------------------

def test_strict_json_refuses_what_python_writes():
    with pytest.raises(ValueError, match="NaN"):
        strict_json('{"gap": NaN}')
    with pytest.raises(ValueError, match="Infinity"):
        strict_json('{"bound": -Infinity}')


def test_report_numbers_are_made_finite_first():
    from siting.outputs import report

    data = {"a": float("inf"), "b": [np.float64("nan"), 1.5], "c": np.array([np.inf, 2.0]),
            "d": {"e": -np.inf, "f": "inf"}}
    text = json.dumps(report._finite(data), allow_nan=False)
    assert strict_json(text) == {"a": None, "b": [None, 1.5], "c": [None, 2.0],
                                 "d": {"e": None, "f": "inf"}}


@pytest.mark.parametrize(("cell", "written"), [
    ("=1+2", "'=1+2"), ("+86 371", "'+86 371"), ("-1+2", "'-1+2"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=x", "'\t=x"), ("-12", "-12"), ("+3.5", "+3.5"), ("上街区", "上街区"), (-3.5, -3.5)])
def test_formula_cells_are_neutralised(cell, written):
    from siting.outputs.write import neutralised

    assert neutralised(cell) == written


def _facilities(ids, kinds, xs, rows=True):
    df = pd.DataFrame({"osm_id": ids, "name": [f"n{i}" for i in range(len(ids))],
                       "source": kinds, "x": xs, "y": 0.0,
                       "existing_township": [True, False, False][: len(ids)],
                       "existing_community": [False, True, True][: len(ids)]})
    if rows:
        df["row"] = np.arange(len(ids)) + 2.0
    return df


def test_copies_of_a_facility_count_once_with_every_tier_of_any_copy():
    from siting.readers.facilities import counted_once

    ex, warnings = counted_once(_facilities(["F1", "F1", "F2"], ["a", "a", "a"],
                                            [0.0, 500.0, 0.6]), "f.csv")
    assert ex["osm_id"].tolist() == ["F1"]          # F2 lies 0.6 m from F1: one type, one place
    assert ex["existing_township"].tolist() == [True]
    assert ex["existing_community"].tolist() == [True]
    assert len(warnings) == 1 and "row 2, row 3, row 4" in warnings[0]


def test_different_types_blank_ids_and_distant_sites_stay_apart():
    from siting.readers.facilities import counted_once

    same_spot = _facilities(["F1", "F2"], ["post office", "courier"], [0.0, 0.0])
    assert counted_once(same_spot, "f.csv")[1] == []
    blank = _facilities(["", ""], ["a", "a"], [0.0, 10.0])
    assert len(counted_once(blank, "f.csv")[0]) == 2
    osm = _facilities(["1", "1"], ["OSM post office"] * 2, [0.0, 50.0], rows=False)
    assert len(counted_once(osm, "osm")[0]) == 2     # an id repeats only in the CSV


def test_pair_estimate_is_the_crow_flies_count():
    from siting.run.sizing import estimate

    rng = np.random.default_rng(7)
    units = pd.DataFrame({"x": rng.uniform(0, 1000, 40), "y": rng.uniform(0, 1000, 40)})
    sites = pd.DataFrame({"x": rng.uniform(0, 1000, 30), "y": rng.uniform(0, 1000, 30)})
    rows = np.arange(0, 40, 2)
    d = np.hypot(units["x"].to_numpy()[rows, None] - sites["x"].to_numpy()[None],
                 units["y"].to_numpy()[rows, None] - sites["y"].to_numpy()[None])
    assert estimate(units, sites, rows, 250.0) == int((d <= 250.0).sum())
    assert estimate(units, sites, rows, 1e9) == len(rows) * len(sites)
    assert estimate(units, sites, rows[:0], 250.0) == 0


def test_a_spent_time_limit_stops_a_long_stage():
    from siting._errors import SitingError
    from siting.run.sizing import Deadline

    seen = []
    stop = Deadline(0.0, scenario="s.toml").progress("distances locker",
                                                     lambda d, t: seen.append(d))
    with pytest.raises(SitingError, match=r"s\.toml: the time limit of 0 s .*'distances locker'"):
        stop(1, 10)
    assert seen == [1]
    assert Deadline(3600.0).left() == pytest.approx(3600.0, abs=5.0)


def test_a_name_made_of_html_shows_as_text_in_the_browser(tmp_path):
    """html_in_name in headless Chromium: the village's place name, search result and popup
    read the name as text; no element of it is made and nothing of it runs."""
    from . import cdp
    from .test_browser import LEAFLET, type_into

    binary = cdp.find()
    if binary is None:
        pytest.skip("no Chromium on this machine: `make test` installs Debian's chromium")
    out = tmp_path / "out"
    assert cli.main(command("html_in_name", out)) == 0
    raw = expect("html_in_name")["map_escaped"][0]
    with cdp.Browser(binary) as b:
        page = b.page()
        page.open(out / "map.html")
        page.js(LEAFLET)
        # the search matches the escaped text, so a name's "<" is not typed
        type_into(page, ".leaflet-control-search input", "img src")
        tip = page.wait_for(f"""(() => {{ const e = Array.from(document.querySelectorAll(
            '.leaflet-control-search .search-tip')).find(e => e.textContent.startsWith(
            {json.dumps(raw)}));
            if (!e) return null;
            const b = e.getBoundingClientRect();
            return [b.left + b.width / 2, b.top + b.height / 2]; }})()""")
        page.click(*tip)                      # zooms to the village and opens its popup
        popup = page.wait_for("(document.querySelector('.leaflet-popup-content') || {})"
                              ".textContent")
        assert raw in popup
        page.wait_for("__t.map.getZoom() >= 14")
        shown = page.wait_for(f"""Array.from(document.querySelectorAll('.siting-label-unit'))
            .some(e => e.textContent === {json.dumps(raw)})""")
        assert shown
        assert page.js("document.querySelectorAll('img[src=\"x\"], img[onerror]').length") == 0
        assert [e for e in page.events if e["method"] == "Page.javascriptDialogOpening"] == []
        assert page.errors() == []
        page.close()
