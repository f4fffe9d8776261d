"""The house's layers hold: import-linter's contracts pass, and breaking one turns them red."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT = Path(sys.executable).with_name("lint-imports")

pytestmark = pytest.mark.skipif(not LINT.exists(), reason="import-linter is not installed "
                                "(`make test` installs it with the test extra)")


def _lint(root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run([str(LINT), "--no-cache", "--config", str(root / "pyproject.toml")],
                          cwd=root, env=env, capture_output=True, text=True, check=False)


def _copy(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "siting", tmp_path / "siting",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_contracts_hold() -> None:
    out = _lint(ROOT)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "broken" not in out.stdout.split("Contracts:")[-1].split("kept")[0]


def _break(root: Path, module: str, line: str) -> None:
    path = root / "siting" / module
    text = path.read_text()
    head, sep, rest = text.partition("from __future__ import annotations\n")
    path.write_text(head + sep + line + "\n" + rest)


def test_core_importing_config_breaks_the_contract(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    # inside a function, where a cycle used to hide
    core = root / "siting" / "core" / "__init__.py"
    core.write_text(core.read_text() + "\n\ndef _sneak() -> object:\n"
                    "    from siting.config import scenario\n\n    return scenario\n")
    out = _lint(root)
    assert out.returncode != 0
    assert "siting.core is not allowed to import siting.config" in out.stdout


def test_run_importing_outputs_breaks_the_layers(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    _break(root, "run/__init__.py", "from siting.outputs import labels  # noqa")
    out = _lint(root)
    assert out.returncode != 0
    assert "siting.run is not allowed to import siting.outputs" in out.stdout
