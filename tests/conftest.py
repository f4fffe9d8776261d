"""Shared fixtures: paths to shipped data and one demo run reused by several tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "models" / "demo-haidian.toml"
ORLIB = ROOT / "bench" / "orlib"


@pytest.fixture(scope="session")
def demo_scenario():
    from siting import scenario

    return scenario.load(DEMO)


@pytest.fixture(scope="session")
def demo_run(demo_scenario):
    from siting import pipeline

    return pipeline.run(demo_scenario)


@pytest.fixture(scope="session")
def demo_outputs(demo_run, tmp_path_factory):
    from siting import outputs

    out = tmp_path_factory.mktemp("demo") / "demo"
    outputs.write_all(demo_run, out)
    return out


@pytest.fixture
def demo_copy(tmp_path):
    """A scenario folder (models/ + data/) copied so a test may edit it."""
    (tmp_path / "models").mkdir()
    shutil.copy(DEMO, tmp_path / "models" / "demo.toml")
    shutil.copytree(ROOT / "data" / "demo", tmp_path / "data" / "demo")
    return tmp_path / "models" / "demo.toml"
