"""A run stopped by a signal (SIGTERM of ``timeout`` or a CI runner, Ctrl-C, SIGHUP) exits with
128 + the signal's number and one line, leaves nothing of its own, and the previous outputs
as they were.

Each run is held while it writes its outputs (``sites.gpkg`` written, the other files not
yet), so the signal lands inside the temporary folder's life: in this process for
``siting run``, in the Dask workers for ``siting city`` (a worker preload holds them there).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

from siting import _atomic, cli
from siting._errors import Interrupted
from tests.conftest import city_project
from tests.test_output_safety import snapshot, write

OURS = (".tmp-", ".old-", ".siting-attempts-", ".siting-tmp-", ".siting-part")
"""What siting leaves only while it works: none of it may remain after a stop."""

HELD_RUN = r"""
import sys, time
from siting.outputs import write
gpkg = write.write_gpkg
def write_gpkg(result, path):
    gpkg(result, path)
    print("HOLD", file=sys.stderr, flush=True)
    time.sleep(120)
write.write_gpkg = write_gpkg
from siting import cli
sys.exit(cli.main(sys.argv[1:]))
"""

SOLVING = r"""
import random, sys, highspy
from pathlib import Path
HARD = Path("market_split.lp")      # a 4 x 32 market-split problem: minutes of branching
rng = random.Random(1)
rows = [[rng.randrange(100) for _ in range(32)] for _ in range(4)]
HARD.write_text("\n".join(
    ["Minimize", " obj: " + " + ".join(f"0 x{j}" for j in range(32)), "Subject To"]
    + [f" c{i}: " + " + ".join(f"{v} x{j}" for j, v in enumerate(r)) + f" = {sum(r) // 2}"
       for i, r in enumerate(rows)]
    + ["Binary", " " + " ".join(f"x{j}" for j in range(32)), "End", ""]))
def hard(run):
    def run_hard(self, *a):       # the run's first solve is handed the hard problem instead
        self.clearModel()
        self.readModel(str(HARD))
        self.setOptionValue("mip_max_nodes", 2_000_000_000)   # no node limit: minutes
        self.setOptionValue("time_limit", 300.0)
        print("SOLVING", file=sys.stderr, flush=True)
        return run(self, *a)
    return run_hard
highspy.Highs.run = hard(highspy.Highs.run)
highspy.Highs.startSolve = hard(highspy.Highs.startSolve)
from siting import cli
sys.exit(cli.main(sys.argv[1:]))
"""

CBC_HELD = r"""
import sys
from pathlib import Path
from siting.core import solve
fake = Path("fake_cbc").resolve()     # a CBC that records its process id and runs 5 minutes
fake.write_text(f"#!{sys.executable}\nimport os, time\n"
                "open(os.environ['SITING_TEST_CBC'], 'w').write(str(os.getpid()))\n"
                "time.sleep(300)\n")
fake.chmod(0o755)
solve.cbc_path = lambda: str(fake)
solve._run_highs = lambda lp, settings, warm, limit, progress=None: solve._run_cbc(
    lp, settings, warm, limit)
from siting import cli
sys.exit(cli.main(sys.argv[1:]))
"""

HELD_WORKER = r"""
import os, time
from pathlib import Path

def dask_setup(worker):
    from siting.outputs import write
    gpkg = write.write_gpkg
    def write_gpkg(result, path):
        gpkg(result, path)
        (Path(os.environ["SITING_TEST_HELD"]) / str(os.getpid())).write_text(str(path))
        time.sleep(120)
    write.write_gpkg = write_gpkg
"""


def left(root: Path) -> list[str]:
    """siting's temporary names anywhere under ``root``."""
    return sorted(p.relative_to(root).as_posix() for p in root.rglob(".*")
                  if any(k in p.name for k in OURS))


def _siting(args: list[str], cwd: Path, **popen) -> subprocess.CompletedProcess[str]:
    r = subprocess.run([sys.executable, "-m", "siting.cli", *args], cwd=cwd, text=True,
                       capture_output=True, timeout=300, check=False, **popen)
    assert r.returncode == 0, r.stderr
    return r


def _stopped(proc: subprocess.Popen[str], sig: int, *, group: bool = False) -> tuple[int, str]:
    """Send ``sig`` (to its process group: ``group``); the exit code and the rest of stderr,
    within a minute."""
    if group:
        os.killpg(proc.pid, sig)
    else:
        proc.send_signal(sig)
    try:
        _, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    return proc.returncode, err


def test_a_signal_between_the_two_renames_waits_for_the_second(tmp_path, monkeypatch):
    """SIGTERM just as the previous outputs went aside: the new ones still go in, then the
    command stops (and says so)."""
    out = tmp_path / "out"
    write(out, **{"a.csv": "1"})
    rename = os.replace

    def replace(src, dst):
        rename(src, dst)
        if ".old-" in Path(dst).name:
            os.kill(os.getpid(), signal.SIGTERM)
    monkeypatch.setattr(os, "replace", replace)
    with cli._stop_signals_raise(), pytest.raises(Interrupted) as stop:
        write(out, **{"a.csv": "2"})
    assert stop.value.exit_code == 143
    assert stop.value.where == f"the new outputs in {out} are complete"
    assert (out / "a.csv").read_text() == "2"
    assert left(tmp_path) == []


def test_a_signal_while_writing_removes_the_temporary_folder(tmp_path):
    out = tmp_path / "out"
    write(out, **{"a.csv": "1"})
    with (cli._stop_signals_raise(), pytest.raises(Interrupted) as stop,
          _atomic.staging(out) as tmp):
        (tmp / "a.csv").write_text("2")
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)                           # the signal ends the wait at once
    assert stop.value.where == ""
    assert (out / "a.csv").read_text() == "1"
    assert left(tmp_path) == []


@pytest.fixture(scope="module")
def county(small, tmp_path_factory):
    """A village-only 上街区 scenario and one complete run of it, in Chinese."""
    project = city_project(tmp_path_factory.mktemp("stop"), {"one": 2000})
    _siting(["run", "models/one.toml", "--out", "out/one", "-q"], project)
    return project, snapshot(project / "out" / "one")


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130),
                                           (signal.SIGHUP, 129)])
def test_a_run_stopped_while_writing_leaves_the_previous_outputs(county, sig, code):
    project, before = county
    out = project / "out" / "one"
    proc = subprocess.Popen([sys.executable, "-c", HELD_RUN, "run", "models/one.toml",
                             "--out", "out/one", "--lang", "en", "-q"], cwd=project,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    for line in proc.stderr:
        if line.startswith("HOLD"):
            break
    staged = list(out.parent.glob(".one.tmp-*/sites.gpkg"))
    assert staged, f"the run ended before it wrote its outputs: {proc.communicate()}"
    got, err = _stopped(proc, sig)
    name = signal.Signals(sig).name
    assert got == code, err
    assert err.strip().splitlines() == [
        f"siting: interrupted by {name}: the previous outputs in out/one are unchanged, "
        "nothing partial was left."]
    assert left(project) == []
    assert snapshot(out) == before


def test_a_solve_stops_at_the_signal_not_at_its_time_limit(small, tmp_path):
    """A solve HiGHS would branch on for minutes (a market-split problem handed to the run's
    first solve, under its 300 s limit): SIGTERM ends it at once.

    Quiet (``-q``), so no progress callback of HiGHS's calls into Python during the solve.
    (The run's own models now close in seconds, too fast to be stopped mid-solve reliably.)
    """
    root, _ = small
    proc = subprocess.Popen([sys.executable, "-c", SOLVING, "run",
                             str(root / "models" / "shangjie.toml"), "--out", "out",
                             "--time-limit", "300", "--gap", "0", "-q"], cwd=tmp_path,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    watchdog = threading.Timer(120, proc.kill)
    watchdog.start()
    for line in proc.stderr:
        if line.startswith("SOLVING"):
            break
    watchdog.cancel()
    time.sleep(2)
    assert proc.poll() is None, proc.communicate()
    start = time.monotonic()
    got, err = _stopped(proc, signal.SIGTERM)
    assert got == 143, err
    assert time.monotonic() - start < 10
    assert err.strip().splitlines() == [
        "siting: interrupted by SIGTERM: the previous outputs in out are unchanged, nothing "
        "partial was left."]
    assert left(tmp_path) == [] and not (tmp_path / "out").exists()


def test_a_cbc_solve_ends_with_the_run(small, tmp_path):
    """SIGTERM to siting alone while CBC (a child process) solves: CBC is stopped too."""
    root, _ = small
    pid_file = tmp_path / "cbc.pid"
    proc = subprocess.Popen([sys.executable, "-c", CBC_HELD, "run",
                             str(root / "models" / "shangjie.toml"), "--out", "out", "-q"],
                            cwd=tmp_path, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "SITING_TEST_CBC": str(pid_file)})
    until = time.monotonic() + 120
    while not (pid_file.exists() and pid_file.read_text()):
        assert proc.poll() is None and time.monotonic() < until, proc.communicate()
        time.sleep(0.2)
    cbc = int(pid_file.read_text())
    assert psutil.Process(cbc).parent().pid == proc.pid        # siting's child, solving
    got, err = _stopped(proc, signal.SIGTERM)
    assert got == 143, err
    until = time.monotonic() + 10
    while _running(cbc) and time.monotonic() < until:
        time.sleep(0.1)
    assert not _running(cbc)
    assert left(tmp_path) == [] and not (tmp_path / "out").exists()


def _running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@pytest.mark.parametrize(("sig", "group"), [(signal.SIGTERM, False), (signal.SIGINT, True)],
                         ids=["SIGTERM to the driver", "Ctrl-C to every process"])
def test_a_city_stopped_while_its_workers_write_leaves_nothing(small, tmp_path, sig, group):
    """Held in their writing, the workers are stopped with the cluster; their temporary
    folders go, their processes too. Ctrl-C in a terminal reaches the workers as well (they
    are of the driver's process group)."""
    project = city_project(tmp_path / "city", {"a": 2000, "b": 3000})
    maps = project / "maps"
    _siting(["city", "models/city.toml", "--workers", "0", "-q"], project)
    before = {name: snapshot(maps / name) for name in ("a", "b", "city")}
    held = tmp_path / "held"
    held.mkdir()
    (tmp_path / "held_worker.py").write_text(HELD_WORKER, encoding="utf-8")
    env = {**os.environ, "SITING_TEST_HELD": str(held),
           "DASK_DISTRIBUTED__WORKER__PRELOAD": f"['{tmp_path / 'held_worker.py'}']"}
    proc = subprocess.Popen([sys.executable, "-m", "siting.cli", "city", "models/city.toml",
                             "--workers", "2", "--lang", "en", "-q"], cwd=project, env=env,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 120
    while len(list(held.iterdir())) < 2 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(list(held.iterdir())) == 2, proc.communicate()
    workers = [p for p in psutil.Process(proc.pid).children(recursive=True)]
    assert {int(p.name) for p in held.iterdir()} <= {p.pid for p in workers}
    assert sorted(p.name.split(".tmp-")[0] for p in maps.glob(".*.tmp-*")) == [".a", ".b"]
    assert list(maps.glob(".siting-attempts-*"))
    got, err = _stopped(proc, sig, group=group)
    assert got == 128 + sig, err
    name = signal.Signals(sig).name
    assert f"siting: interrupted by {name}: the city report in maps/city is unchanged" in err
    assert "nothing partial was left" in err and "Traceback" not in err
    _, alive = psutil.wait_procs(workers, timeout=10)
    assert [p for p in alive if p.status() != psutil.STATUS_ZOMBIE] == []
    assert left(project) == []
    assert {name: snapshot(maps / name) for name in before} == before

