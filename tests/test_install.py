"""Data that installs: the frame is package data, generated inputs go to the cache folder."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from siting._errors import ScenarioError
from siting.config import discovery, scenario
from tests.conftest import ROOT, SMALL


def test_cache_folder_flag_then_variable_then_xdg_then_home(tmp_path, monkeypatch):
    monkeypatch.setenv("SITING_CACHE", str(tmp_path / "env"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert discovery.cache_dir(tmp_path / "flag") == tmp_path / "flag"
    assert discovery.cache_dir() == tmp_path / "env"
    monkeypatch.setenv("SITING_CACHE", "")
    assert discovery.cache_dir() == tmp_path / "xdg" / "siting"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert discovery.cache_dir() == tmp_path / "home" / ".cache" / "siting"


def test_relative_cache_folder_is_taken_from_the_working_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert discovery.cache_dir("gen") == tmp_path / "gen"


def _county_copy(folder: Path, generated: str = SMALL) -> Path:
    (folder / "models").mkdir(parents=True)
    text = (ROOT / "models" / f"{SMALL}.toml").read_text(encoding="utf-8")
    text = text.replace(f'generated = "{SMALL}"', f'generated = "{generated}"', 1)
    path = folder / "models" / f"{SMALL}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_generated_inputs_are_found_in_the_cache_given(small, tmp_path):
    _, folder = small
    path = _county_copy(tmp_path / "project")
    s = scenario.load(path, cache=folder.parent)
    assert s.generated and s.data_dir == folder
    assert scenario.generated_fallback(path, cache=folder.parent) == (SMALL, folder, 2021)
    with pytest.raises(ScenarioError, match=rf"siting generate {SMALL} --cache .*empty"):
        scenario.load(path, cache=tmp_path / "empty")


def test_generated_folder_given_as_a_path_is_refused(tmp_path):
    path = _county_copy(tmp_path, generated="../data/generated/shangjie")
    with pytest.raises(ScenarioError, match=r"generated = '\.\./data/generated/shangjie'.*not a "
                                            r"path.*--cache DIR or SITING_CACHE"):
        scenario.load(path)


def test_cli_flag_names_the_cache(small, tmp_path, monkeypatch):
    from siting import cli

    monkeypatch.setenv("SITING_CACHE", str(tmp_path / "elsewhere"))
    _, folder = small
    path = _county_copy(tmp_path / "project")
    assert cli.main(["validate", str(path), "--cache", str(folder.parent), "-q"]) == 0
    assert not (tmp_path / "elsewhere").exists()


CHECK = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    import siting
    from siting.cli import main
    from siting.readers import frame
    fr = frame.load()
    code = main(["generate", "shangjie", "--cache", sys.argv[1], "-q"])
    print(json.dumps({"package": siting.__file__, "frame": str(frame.DATA), "code": code,
                      "polygons": len(fr.polygons), "counties": len(fr.counties)}))
""")


def _files(folder: Path) -> set[Path]:
    return {p.relative_to(folder) for p in folder.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts}


def test_installed_package_finds_its_frame_and_writes_only_to_the_cache(tmp_path):
    """``pip install`` (not editable) into a folder, then run from an unrelated folder."""
    src = tmp_path / "src"
    shutil.copytree(ROOT / "siting", src / "siting",
                    ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    site = tmp_path / "site"
    built = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                            "--no-compile", "--no-build-isolation", "--target", str(site),
                            str(src)],
                           capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    assert (site / "siting" / "readers" / "_frame" / "townships_2000"
            / "GEOTRELLIS_LICENSE.txt").is_file()
    before = _files(site)
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site)}
    env.pop("SITING_CACHE", None)
    out = subprocess.run([sys.executable, "-c", CHECK, "cache"], cwd=elsewhere, env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    seen = json.loads(out.stdout.splitlines()[-1])
    assert Path(seen["package"]).is_relative_to(site)
    assert Path(seen["frame"]).is_relative_to(site / "siting" / "readers" / "_frame")
    assert (seen["code"], seen["polygons"], seen["counties"]) == (0, 160, 15)
    meta = json.loads((elsewhere / "cache" / SMALL / "GENERATED.json").read_text("utf-8"))
    assert meta["county"] == "410106" and meta["seed"] == 2021
    assert _files(site) == before
