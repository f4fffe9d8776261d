"""The command line: exit codes and one-paragraph messages, never a traceback."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from siting import cli
from tests.conftest import ROOT


def _run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "siting.cli", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, timeout=600)


def test_help_lists_run():
    out = _run("--help")
    assert out.returncode == 0
    assert "run" in out.stdout


def test_python_dash_m_siting_is_the_siting_command():
    from siting import __version__

    out = subprocess.run([sys.executable, "-m", "siting", "--version"], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert __version__ in out.stdout + out.stderr


def test_missing_scenario_file(tmp_path):
    out = _run("run", tmp_path / "nope.toml")
    assert out.returncode == 2
    assert "nope.toml" in out.stderr and "not found" in out.stderr
    assert "Traceback" not in out.stderr


def test_unknown_key_is_named_with_a_suggestion(demo_copy):
    text = demo_copy.read_text(encoding="utf-8").replace("max_snap_m", "max_snapm")
    demo_copy.write_text(text, encoding="utf-8")
    out = _run("run", demo_copy)
    assert out.returncode == 2
    assert "max_snapm" in out.stderr and "did you mean 'max_snap_m'" in out.stderr
    assert str(demo_copy) in out.stderr
    assert "Traceback" not in out.stderr


def test_missing_osm_file_names_the_file_and_the_fix(demo_copy):
    (demo_copy.parents[1] / "data" / "demo" / "beijing_haidian_tsinghua_pku_2017.osm").unlink()
    out = _run("run", demo_copy, "--out", demo_copy.parents[1] / "out")
    assert out.returncode == 2
    assert "beijing_haidian_tsinghua_pku_2017.osm" in out.stderr
    assert "[network] osm" in out.stderr
    assert not (demo_copy.parents[1] / "out").exists()


def test_failed_run_leaves_previous_outputs_intact(demo_copy, tmp_path):
    out_dir = tmp_path / "out"
    assert cli.main(["run", str(demo_copy), "--out", str(out_dir), "-q"]) == 0
    before = {p.name: p.read_bytes() for p in out_dir.iterdir()}
    osm = demo_copy.parents[1] / "data" / "demo" / "beijing_haidian_tsinghua_pku_2017.osm"
    osm.write_bytes(osm.read_bytes()[: osm.stat().st_size // 2])   # cut off mid-element
    assert cli.main(["run", str(demo_copy), "--out", str(out_dir), "-q"]) == 2
    after = {p.name: p.read_bytes() for p in out_dir.iterdir()}
    assert after == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == []


@pytest.mark.parametrize("limit", ["-5", "inf", "nan"])
def test_bad_time_limit_is_refused(demo_copy, limit):
    out = _run("run", demo_copy, "--time-limit", limit)
    assert out.returncode == 2
    assert "--time-limit" in out.stderr
    assert "Traceback" not in out.stderr


def test_targets_that_cannot_hold_together_exit_3(demo_copy, tmp_path):
    # every locker area must be covered, but at most 5 banks (4 existing) may be open
    text = demo_copy.read_text(encoding="utf-8").replace(
        "cost = 30000\n", "cost = 30000\nmax_count = 5\n", 1)
    demo_copy.write_text(text, encoding="utf-8")
    out = _run("run", demo_copy, "--out", tmp_path / "out")
    assert out.returncode == 3, out.stderr
    assert "infeasible" in out.stderr and "max_count" in out.stderr
    assert "Traceback" not in out.stderr
    assert not (tmp_path / "out").exists()


def test_a_count_above_the_candidates_is_bad_input_exit_2(demo_copy, tmp_path):
    # the README's exit-code table: bad input found before solving is 2, not 3
    text = demo_copy.read_text(encoding="utf-8")
    assert "count = 8\n" in text
    demo_copy.write_text(text.replace("count = 8\n", "count = 100000\n", 1), encoding="utf-8")
    out = _run("run", demo_copy, "--out", tmp_path / "out")
    assert out.returncode == 2, out.stderr
    assert "at least 100,000 sites are required" in out.stderr
    assert "[tiers.community] count" in out.stderr
    assert "Traceback" not in out.stderr
    assert not (tmp_path / "out").exists()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "2 for bad input" in readme and "a count larger than the candidate" in readme


def test_the_terminal_says_each_warning_once_and_ends_with_the_verdict(demo_copy, tmp_path):
    osm = demo_copy.parents[1] / "data" / "demo" / "beijing_haidian_tsinghua_pku_2017.osm"
    text = osm.read_text(encoding="utf-8")
    cut = ('<way id="999999999"><nd ref="1"/><nd ref="2"/>'
           '<tag k="highway" v="residential"/></way>\n</osm>')
    osm.write_text(text.replace("</osm>", cut), encoding="utf-8")    # a way cut at the edge
    out = _run("run", demo_copy, "--out", tmp_path / "out")
    assert out.returncode == 0, out.stderr
    assert out.stdout == ""                       # progress and log lines: stderr only
    assert out.stderr.count("way nodes or areas without coordinates") == 1, out.stderr
    last = out.stderr.strip().splitlines()[-1]
    assert last.startswith("done in ") and "targets met" in last
    assert re.search(r"cost \d{1,3}(,\d{3})+;", last), last     # 1,240,000, not 1.24e+06
    assert "time limit" in last and str(tmp_path / "out") in last
    assert "e+0" not in out.stderr


def test_the_last_line_names_an_unmet_target_and_its_units(small_run, tmp_path):
    from siting.cli.commands import summary_line

    line = summary_line(small_run, 12.3, tmp_path)
    unmet = [r for r in small_run.results if r.met is False]
    assert unmet and "NOT met: " in line
    assert "马固村" in line and "village outlet" in line
    assert f"cost {small_run.solution.cost:,.0f};" in line
    stopped = small_run.solution.status != "optimal"
    assert ("STOPPED the solve" in line) == stopped
    assert ("the solver proved the plan within" in line) == (not stopped)
    asked = f"{100 * small_run.scenario.solver.rel_gap:.3g}% asked"
    assert asked in line
