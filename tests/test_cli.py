"""The command line: exit codes and one-paragraph messages, never a traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest

from siting import cli


def _run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "siting.cli", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, timeout=600)


def test_help_lists_run():
    out = _run("--help")
    assert out.returncode == 0
    assert "run" in out.stdout


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
