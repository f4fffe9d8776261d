"""siting city and siting sweep on Dask: a LocalCluster of 2 workers, small 上街区 counties.

Each "county" is 上街区 cut to its township and village tiers (a few seconds a run), under
its own name and village radius, so a city of three is three distinct tasks.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import SMALL
from tests.conftest import city_project as _project

RADII = {"a": 2000, "b": 3000, "c": 2500}
NOISE = {"seconds", "solve_s", "tasks", "retries"}


def _siting(project: Path, *args: str, env: dict[str, str] | None = None):
    return subprocess.run([sys.executable, "-m", "siting.cli", *args], cwd=project,
                          capture_output=True, text=True, check=False,
                          env={**os.environ, **(env or {})}, timeout=600)


def _facts(path: Path):
    """A report.json without its timings and task table (what may differ run to run)."""
    def drop(v):
        if isinstance(v, dict):
            return {k: drop(x) for k, x in v.items() if k not in NOISE}
        if isinstance(v, list):
            return [drop(x) for x in v]
        return v
    return drop(json.loads(path.read_text(encoding="utf-8")))


def _report(project: Path) -> dict:
    return json.loads((project / "maps" / "city" / "report.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def sequential(small, tmp_path_factory):
    project = _project(tmp_path_factory.mktemp("seq"), RADII)
    r = _siting(project, "city", "models/city.toml", "--workers", "0")
    assert r.returncode == 0, r.stderr
    return project


@pytest.fixture(scope="module")
def on_cluster(small, tmp_path_factory):
    project = _project(tmp_path_factory.mktemp("dask"), RADII)
    r = _siting(project, "city", "models/city.toml", "--workers", "2")
    assert r.returncode == 0, r.stderr
    return project, r.stderr


def test_city_on_a_cluster_equals_the_sequential_run(sequential, on_cluster):
    project, log = on_cluster
    assert "on a LocalCluster of this machine (2 workers)" in log
    for name in RADII:                          # one line per county, with its time
        assert any(line.startswith("[") and f"] {name}: done in " in line
                   for line in log.splitlines()), log
    assert _facts(project / "maps" / "city" / "report.json") == \
        _facts(sequential / "maps" / "city" / "report.json")
    for name in [*RADII, "city"]:
        assert (project / "maps" / name / "sites.csv").read_bytes() == \
            (sequential / "maps" / name / "sites.csv").read_bytes()
    tasks = _report(project)["tasks"]
    assert [t["name"] for t in tasks] == list(RADII)          # the city file's order
    assert {t["status"] for t in tasks} == {"done"} and _report(project)["retries"] == 0
    assert not list((project / "maps").glob(".siting-attempts-*"))


def test_a_rerun_reuses_the_unchanged_tasks(on_cluster):
    project, _ = on_cluster
    before = _facts(project / "maps" / "city" / "report.json")
    stamp = (project / "maps" / "a" / "report.json").stat().st_mtime_ns
    model = project / "models" / "b.toml"
    model.write_text(model.read_text(encoding="utf-8").replace("radius_m = 3000",
                                                               "radius_m = 3500"),
                     encoding="utf-8")
    r = _siting(project, "city", "models/city.toml", "--workers", "2")
    assert r.returncode == 0, r.stderr
    status = {t["name"]: t["status"] for t in _report(project)["tasks"]}
    assert status == {"a": "reused", "b": "done", "c": "reused"}
    assert (project / "maps" / "a" / "report.json").stat().st_mtime_ns == stamp
    after = _facts(project / "maps" / "city" / "report.json")
    assert after["counties"][0] == before["counties"][0]
    assert after["counties"][1] != before["counties"][1]     # b ran again, at 3.5 km


def test_a_killed_worker_is_survived(sequential, tmp_path):
    project = _project(tmp_path / "kill", {"a": 2000, "b": 3000})
    hold = tmp_path / "hold"
    hold.mkdir()
    proc = subprocess.Popen(
        [sys.executable, "-m", "siting.cli", "city", "models/city.toml", "--workers", "2"],
        cwd=project, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "SITING_TEST_HOLD_DIR": str(hold), "SITING_TEST_HOLD_TASK": "a"})
    deadline = time.monotonic() + 300
    while not (hold / "pid").is_file() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert (hold / "pid").is_file(), proc.communicate()
    pid = int((hold / "pid").read_text())
    os.kill(pid, signal.SIGKILL)                # the worker running task a, mid-task
    _, log = proc.communicate(timeout=600)
    print(log)                                  # the kill-a-worker log (pytest -s shows it)
    assert proc.returncode == 0, log
    assert "] a: done in " in log and "attempt 2" in log
    report = _report(project)
    tasks = {t["name"]: t for t in report["tasks"]}
    assert tasks["a"]["attempts"] == 2 and tasks["b"]["attempts"] == 1
    assert report["retries"] == 1
    for name in ("a", "b"):                     # complete, and as the sequential run's
        assert (project / "maps" / name / "sites.csv").read_bytes() == \
            (sequential / "maps" / name / "sites.csv").read_bytes()
        assert not list((project / "maps").glob(f".{name}.tmp-*"))
    assert [c["name"] for c in report["counties"]] == ["a", "b"]


def test_a_bad_input_county_is_reported_while_the_others_finish(small, tmp_path):
    _, generated = small
    project = _project(tmp_path / "bad", {"a": 2000, "bad": 2000})
    data = project / "bad-data"
    shutil.copytree(generated, data)
    rows = (data / "facilities.csv").read_text(encoding="utf-8-sig").splitlines()
    rows[2] = rows[2].replace(rows[2].split(",")[3], "东经113度", 1)
    (data / "facilities.csv").write_text("\n".join(rows) + "\n", encoding="utf-8-sig")
    model = project / "models" / "bad.toml"
    model.write_text(model.read_text(encoding="utf-8").replace(
        'real = "../data/zhengzhou/shangjie"', 'real = "../bad-data"'), encoding="utf-8")
    r = _siting(project, "city", "models/city.toml", "--workers", "2")
    assert r.returncode == 2, r.stderr
    assert "1 of 2 task(s) failed" in r.stderr
    failures = r.stderr.split("task(s) failed", 1)[1]
    assert "\n  bad: error: " in failures and "facilities.csv: row 3: longitude" in failures
    assert "\n  a: " not in failures
    assert "Traceback" not in r.stderr
    assert (project / "maps" / "a" / "report.json").is_file()       # the other finished
    assert not (project / "maps" / "city").exists()                 # no partial city report


@contextmanager
def _running_cluster(tmp_path: Path, *worker_args: str, env: dict[str, str] | None = None,
                     ) -> Iterator[str]:
    """A cluster as the README starts one: `dask scheduler`, `dask worker`; its address."""
    dask = str(Path(sys.executable).with_name("dask"))
    file = tmp_path / "scheduler.json"
    procs = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", "0",
                               "--no-dashboard", "--scheduler-file", str(file)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        deadline = time.monotonic() + 120
        while not file.is_file() and time.monotonic() < deadline:
            time.sleep(0.2)
        procs.append(subprocess.Popen(
            [dask, "worker", "--scheduler-file", str(file), "--nthreads", "1",
             "--no-dashboard", *worker_args], stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, env={**os.environ, **(env or {})}))
        yield json.loads(file.read_text())["address"]
    finally:
        for p in reversed(procs):
            p.terminate()
            p.wait(timeout=60)


@pytest.fixture
def dask_cluster(tmp_path):
    """Two worker processes."""
    with _running_cluster(tmp_path, "--nworkers", "2") as address:
        yield address


HARD_WORKER = r"""
import os, random
from pathlib import Path

MARK = Path(os.environ["SITING_TEST_MARK"])

def dask_setup(worker):
    # the first solve on this worker is a 4 x 32 market-split problem: minutes of branching
    from siting.core import solve
    rng = random.Random(1)
    rows = [[rng.randrange(100) for _ in range(32)] for _ in range(4)]
    hard = MARK / "market_split.lp"
    hard.write_text("\n".join(
        ["Minimize", " obj: " + " + ".join(f"0 x{j}" for j in range(32)), "Subject To"]
        + [f" c{i}: " + " + ".join(f"{v} x{j}" for j, v in enumerate(r)) + f" = {sum(r) // 2}"
           for i, r in enumerate(rows)]
        + ["Binary", " " + " ".join(f"x{j}" for j in range(32)), "End", ""]))
    stoppable = solve._run_stoppable
    def run_hard(h):
        h.clearModel()
        h.readModel(str(hard))
        h.setOptionValue("mip_max_nodes", 2_000_000_000)
        h.setOptionValue("time_limit", 300.0)
        (MARK / "solving").write_text(str(os.getpid()))
        try:
            stoppable(h)
        finally:
            (MARK / "ended").write_text(str(os.getpid()))
    solve._run_stoppable = run_hard
"""


def test_a_task_on_a_running_cluster_stops_with_its_driver(small, tmp_path):
    """SIGTERM to `siting city --scheduler …` mid-solve: the worker's solve stops too."""
    project = _project(tmp_path / "p", {"a": 2000})
    mark = tmp_path / "mark"
    mark.mkdir()
    preload = tmp_path / "hard_worker.py"
    preload.write_text(HARD_WORKER, encoding="utf-8")
    with _running_cluster(tmp_path, "--nworkers", "1", "--preload", str(preload),
                          env={"SITING_TEST_MARK": str(mark)}) as address:
        proc = subprocess.Popen([sys.executable, "-m", "siting.cli", "city", "models/city.toml",
                                 "--scheduler", address, "-q"], cwd=project,
                                stderr=subprocess.PIPE, text=True)
        until = time.monotonic() + 180
        while not (mark / "solving").exists():
            assert proc.poll() is None and time.monotonic() < until, proc.communicate()
            time.sleep(0.2)
        time.sleep(2)
        assert not (mark / "ended").exists()          # the worker is solving
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 143, err
        until = time.monotonic() + 30
        while not (mark / "ended").exists() and time.monotonic() < until:
            time.sleep(0.2)
        assert (mark / "ended").exists()              # … and stops, not at its 300 s limit
    assert not (project / "maps" / "city").exists()


def test_sweep_on_a_running_cluster_compares_the_variants(small, tmp_path, dask_cluster):
    project = _project(tmp_path / "sweep", {"a": 2000, "c": 2000})
    (project / "models" / "sw.toml").write_text(
        'name = "sw"\nbase = "city.toml"\nlang = "en"\n'
        '[grid]\n"tiers.village.radius_m" = [2000, 3000]\n', encoding="utf-8")
    r = _siting(project, "sweep", "models/sw.toml", "--scheduler", dask_cluster)
    assert r.returncode == 0, r.stderr
    assert f"tasks: 4 on {dask_cluster}" in r.stderr
    out = project / "maps" / "sw"
    d = json.loads((out / "report" / "report.json").read_text(encoding="utf-8"))
    assert [x["label"] for x in d["runs"]] == ["radius_m=2000", "radius_m=3000"]
    assert [(p["variant"], p["county"]) for p in d["points"]] == [
        ("radius_m=2000", "a"), ("radius_m=2000", "c"), ("radius_m=3000", "a"),
        ("radius_m=3000", "c")]
    # a and c are the same county and scenario: the same cost at the same radius
    assert d["points"][0]["cost"] == d["points"][1]["cost"]
    city3 = json.loads((out / "radius_m=3000" / "city" / "report.json").read_text("utf-8"))
    assert d["runs"][1]["cost_total"] == city3["cost_total"]
    diff = d["diffs"][0]
    assert diff["counts"]["added"] + diff["counts"]["removed"] > 0
    html = (out / "report" / "report.html").read_text(encoding="utf-8")
    assert "<svg" in html and "Cost against coverage" in html


def test_a_task_made_by_other_code_is_not_reused(small, monkeypatch):
    """The reuse key holds the code's digest: a change to siting (same version) runs again."""
    from siting.cli import tasks
    from siting.config import scenario

    root, _ = small
    s = scenario.load(root / "models" / f"{SMALL}.toml")
    key = tasks.task_key(s)
    assert tasks.task_key(s) == key                           # the same code, the same key
    digest = tasks.code_digest()
    assert len(digest) == 64
    monkeypatch.setattr(tasks, "code_digest", lambda: "0" * 64)
    assert tasks.task_key(s) != key
