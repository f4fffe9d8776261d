"""Output folders: nothing of the user's is ever lost, nothing of siting's is left behind.

Unit tests drive :class:`siting._atomic.staging` with a toy writer; the CLI tests run the
Haidian demo, and the kill tests ``kill -9`` a real ``siting run`` at several points.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from siting import _atomic, cli
from siting._atomic import MARKER, probe, staging
from siting._errors import EnvironmentFailure, OutputFolderError

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "models" / "demo-haidian.toml"
RUN_FILES = {"map.html", "map.pdf", "sites.gpkg", "sites.csv", "plan.xlsx", "report.json",
             "report.md", "report.html"}


def write(out: Path, **files: str) -> None:
    """A toy run: write ``files`` (name → text) through staging."""
    with staging(out, kind="test", label="toy") as tmp:
        for name, text in files.items():
            (tmp / name).write_text(text, encoding="utf-8")


def leftovers(*folders: Path) -> list[str]:
    """siting's temporary names in ``folders``: ``.X.tmp-*``, ``.X.old-*``, ``.siting-tmp-*``."""
    return sorted(p.name for f in folders for p in f.iterdir()
                  if ".tmp-" in p.name or ".old-" in p.name or p.name.startswith(_atomic.INNER)
                  or p.name.endswith(_atomic.PART))


def marker(folder: Path) -> dict:
    return json.loads((folder / MARKER).read_text(encoding="utf-8"))


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def user_folder(tmp_path):
    """A folder of the user's: a scenario, an input, a .docx, a sub-folder."""
    folder = tmp_path / "project"
    (folder / "data").mkdir(parents=True)
    (folder / "scenario.toml").write_text("name = 'x'\n", encoding="utf-8")
    (folder / "data" / "roads.osm").write_text("<osm/>", encoding="utf-8")
    (folder / "plan.docx").write_bytes(b"PK\x03\x04 the user's document")
    return folder


# ----------------------------------------------------------------------------- refusals

def test_new_folder_gets_a_marker_listing_its_files(tmp_path):
    write(tmp_path / "out", **{"a.csv": "1", "b.md": "2"})
    m = marker(tmp_path / "out")
    assert m["tool"] == "siting" and m["state"] == "complete"
    assert m["files"] == ["a.csv", "b.md"]
    assert (m["kind"], m["label"]) == ("test", "toy")
    assert leftovers(tmp_path, tmp_path / "out") == []


def test_a_folder_of_the_users_is_refused_and_untouched(user_folder):
    before = snapshot(user_folder)
    with pytest.raises(OutputFolderError, match=r"holds files siting did not write") as e:
        write(user_folder, **{"a.csv": "1"})
    text = str(e.value)
    assert str(user_folder) in text and "--out" in text and "empty this one" in text
    assert "plan.docx" in text
    assert snapshot(user_folder) == before
    assert leftovers(user_folder.parent, user_folder) == []


def test_a_file_is_refused_never_replaced_by_a_folder(tmp_path):
    path = tmp_path / "report.docx"
    path.write_bytes(b"the user's report")
    with pytest.raises(OutputFolderError, match=r"is a file, not a folder") as e:
        write(path, **{"a.csv": "1"})
    assert str(path) in str(e.value) and "--out" in str(e.value)
    assert path.read_bytes() == b"the user's report"
    assert leftovers(tmp_path) == []


def test_root_is_refused_before_anything_is_made(monkeypatch):
    made: list[str] = []
    monkeypatch.setattr(tempfile, "mkdtemp", lambda **kw: made.append(kw["dir"]))
    with pytest.raises(OutputFolderError, match=r"output folder / already holds"):
        write(Path("/"), **{"a.csv": "1"})
    assert made == []


def test_an_empty_folder_is_used(tmp_path):
    (tmp_path / "out").mkdir()
    write(tmp_path / "out", **{"a.csv": "1"})
    assert (tmp_path / "out" / "a.csv").read_text() == "1"
    assert marker(tmp_path / "out")["files"] == ["a.csv"]


def test_rerun_replaces_only_the_files_siting_wrote(tmp_path):
    out = tmp_path / "out"
    write(out, **{"a.csv": "1", "old.md": "2"})
    (out / "my notes.txt").write_text("mine", encoding="utf-8")
    write(out, **{"a.csv": "new"})
    assert (out / "a.csv").read_text() == "new"
    assert not (out / "old.md").exists()                      # siting's, listed: gone
    assert (out / "my notes.txt").read_text() == "mine"       # the user's: kept
    assert marker(out)["files"] == ["a.csv"]
    assert leftovers(tmp_path, out) == []


def test_a_user_file_named_like_an_output_is_not_overwritten(tmp_path):
    out = tmp_path / "out"
    write(out, **{"a.csv": "1"})
    (out / "b.md").write_text("the user's", encoding="utf-8")
    with pytest.raises(OutputFolderError, match=r"b\.md, which siting did not write"):
        write(out, **{"a.csv": "2", "b.md": "siting's"})
    assert (out / "b.md").read_text() == "the user's"
    assert (out / "a.csv").read_text() == "1"
    assert leftovers(tmp_path, out) == []


def test_failure_while_writing_leaves_the_previous_outputs(tmp_path):
    out = tmp_path / "out"
    write(out, **{"a.csv": "1"})
    before = snapshot(out)
    with pytest.raises(RuntimeError, match="half-way"), staging(out) as tmp:
        (tmp / "a.csv").write_text("partial")
        raise RuntimeError("half-way")
    assert snapshot(out) == before
    assert leftovers(tmp_path, out) == []


# ------------------------------------------------------- the current folder, mount points

def test_current_folder_of_the_user_is_refused(user_folder, monkeypatch):
    monkeypatch.chdir(user_folder)
    before = snapshot(user_folder)
    with pytest.raises(OutputFolderError, match=r"Choose another output folder"):
        write(Path(), **{"a.csv": "1"})
    assert snapshot(user_folder) == before
    assert leftovers(user_folder.parent, user_folder) == []


def test_current_folder_made_by_siting_is_updated_in_place(tmp_path, monkeypatch):
    out = tmp_path / "out"
    write(out, **{"a.csv": "1"})
    inode = out.stat().st_ino
    monkeypatch.chdir(out)
    made: list[str] = []
    real = tempfile.mkdtemp
    monkeypatch.setattr(tempfile, "mkdtemp", lambda **kw: made.append(kw["dir"]) or real(**kw))
    write(Path(), **{"a.csv": "2"})
    assert [Path(d).resolve() for d in made] == [out.resolve()]   # never a sibling
    assert Path.cwd().stat().st_ino == inode == out.stat().st_ino  # the same folder
    assert (out / "a.csv").read_text() == "2"
    assert leftovers(tmp_path, out) == []


def test_mount_point_is_never_renamed(tmp_path, monkeypatch):
    out = tmp_path / "mnt"
    write(out, **{"a.csv": "1"})
    inode = out.stat().st_ino
    real = os.path.ismount
    monkeypatch.setattr(os.path, "ismount", lambda p: Path(p) == out or real(p))
    write(out, **{"a.csv": "2"})
    assert out.stat().st_ino == inode
    assert (out / "a.csv").read_text() == "2"
    assert leftovers(tmp_path, out) == []


@pytest.mark.parametrize("code", [errno.EBUSY, errno.EXDEV])
def test_a_folder_that_cannot_be_renamed_gets_its_files_moved_in(tmp_path, monkeypatch, code):
    out = tmp_path / "out"
    write(out, **{"a.csv": "1", "b.md": "1"})
    real = os.replace

    def replace(src, dst, *a, **k):
        across = Path(dst).parent == out and out not in Path(src).parents
        if Path(src) == out or (code == errno.EXDEV and across):
            raise OSError(code, os.strerror(code), str(src))
        return real(src, dst, *a, **k)

    monkeypatch.setattr(os, "replace", replace)
    write(out, **{"a.csv": "2"})
    assert snapshot(out).keys() == {MARKER, "a.csv"}
    assert (out / "a.csv").read_text() == "2"
    assert leftovers(tmp_path, out) == []


# ----------------------------------------------------------------------------- leftovers

def _leftover(where: Path, name: str, *, state: str, marked: bool = True) -> Path:
    folder = where / name
    folder.mkdir()
    (folder / "sites.csv").write_text("old")
    if marked:
        _atomic.write_marker(folder, kind="run", label="x", files=["sites.csv"], state=state)
    return folder


def test_next_run_removes_only_its_own_marked_leftovers(tmp_path):
    out = tmp_path / "out"
    write(out, **{"a.csv": "1"})
    _leftover(tmp_path, ".out.tmp-k1ll3d", state="staging")
    _leftover(tmp_path, ".out.old-k1ll3d", state="complete")
    _leftover(out, ".siting-tmp-k1ll3d", state="staging")
    (out / ("a.csv" + _atomic.PART)).write_text("half a copy")
    users = _leftover(tmp_path, ".out.tmp-mine", state="staging", marked=False)
    kept = _leftover(tmp_path, ".out.old-with-notes", state="complete")
    (kept / "notes.txt").write_text("mine")
    write(out, **{"a.csv": "2"})
    assert leftovers(tmp_path, out) == [".out.old-with-notes", ".out.tmp-mine"]
    assert (users / "sites.csv").read_text() == "old"
    assert (kept / "notes.txt").read_text() == "mine"


def test_a_temporary_folder_of_a_live_run_is_left_alone(tmp_path):
    out = tmp_path / "out"
    busy = tmp_path / ".out.tmp-busy"
    busy.mkdir()
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]) as other:
        _atomic.write_marker(busy, kind="run", label="x", files=[], state="staging",
                             pid=other.pid)
        write(out, **{"a.csv": "1"})
        assert busy.is_dir()
        other.kill()
    write(out, **{"a.csv": "2"})
    assert not busy.exists()


def test_probe_leaves_nothing_and_makes_no_folder(tmp_path):
    out = tmp_path / "new" / "deeper" / "out"
    plan = probe(out)
    assert not (tmp_path / "new").exists()
    assert plan.swap and not plan.exists


# ------------------------------------------------------------------ environment failures

ENV_CASES = [(errno.EROFS, "read-only file system"), (errno.ENOSPC, "the disk is full"),
             (errno.EACCES, "no permission to write there")]


def _refuse_mkdir(monkeypatch, code: int) -> None:
    def mkdtemp(**kw):
        raise OSError(code, os.strerror(code), kw["dir"])
    monkeypatch.setattr(tempfile, "mkdtemp", mkdtemp)


@pytest.mark.parametrize(("code", "words"), ENV_CASES)
def test_environment_failure_is_named_with_the_fix(tmp_path, monkeypatch, code, words):
    _refuse_mkdir(monkeypatch, code)
    with pytest.raises(EnvironmentFailure, match=words) as e:
        probe(tmp_path / "out")
    assert e.value.errno == code
    assert str(tmp_path / "out") in str(e.value) and "--out" in str(e.value)
    assert not (tmp_path / "out").exists()


def test_disk_full_while_writing_is_an_environment_failure(tmp_path):
    out = tmp_path / "out"
    write(out, **{"a.csv": "1"})
    with pytest.raises(EnvironmentFailure, match="disk is full"), staging(out):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "sites.gpkg")
    assert (out / "a.csv").read_text() == "1"
    assert leftovers(tmp_path, out) == []


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0,
                    reason="root writes into a 0o555 folder")
def test_read_only_folder_for_real(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        with pytest.raises(EnvironmentFailure, match="no permission"):
            probe(locked / "out")
    finally:
        locked.chmod(0o755)


@pytest.mark.parametrize(("code", "words"), ENV_CASES)
def test_cli_finds_it_before_the_solve_exit_4(tmp_path, monkeypatch, capsys, code, words):
    from siting.run import pipeline

    def never(*a, **k):
        raise AssertionError("the run started although its outputs cannot be written")

    monkeypatch.setattr(pipeline, "prepare", never)
    _refuse_mkdir(monkeypatch, code)
    assert cli.main(["run", str(DEMO), "--out", str(tmp_path / "out"), "-q"]) == 4
    err = capsys.readouterr().err
    assert words in err and str(tmp_path / "out") in err
    assert "Traceback" not in err and "internal error" not in err


def test_exit_codes_are_documented():
    help_text = " ".join(cli._parser().format_help().split())
    assert "4 the outputs cannot be written (disk full, read-only, no permission)" in help_text
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    assert "4 when the outputs cannot be written" in readme


# ------------------------------------------------------------------------ the CLI, for real

def test_cli_refuses_the_scenarios_own_folder(demo_copy, capsys):
    project = demo_copy.parents[1]
    before = snapshot(project)
    assert cli.main(["run", str(demo_copy), "--out", str(demo_copy.parent), "-q"]) == 2
    err = capsys.readouterr().err
    assert str(demo_copy.parent) in err and "demo.toml" in err and "--out" in err
    assert "Traceback" not in err
    assert snapshot(project) == before


def test_cli_refuses_a_file(tmp_path, capsys):
    doc = tmp_path / "plan.docx"
    doc.write_bytes(b"mine")
    assert cli.main(["run", str(DEMO), "--out", str(doc), "-q"]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err
    assert doc.read_bytes() == b"mine"


DRIVER = r"""
import os, sys, time
from pathlib import Path
point, out = sys.argv[1], Path(sys.argv[2]).resolve()

def hold():
    print("HOLD " + point, file=sys.stderr, flush=True)
    time.sleep(600)

if point == "write":
    from siting.outputs import write
    gpkg = write.write_gpkg
    def write_gpkg(*a, **k):
        gpkg(*a, **k)
        hold()
    write.write_gpkg = write_gpkg
else:
    real = os.replace
    def replace(src, dst, *a, **k):
        src, dst = Path(src), Path(dst)
        if point == "swap" and ".tmp-" in src.name and dst == out:
            hold()                         # the old outputs are aside, the new not yet in
        real(src, dst, *a, **k)
        if point == "install" and dst == out / "report.json":
            hold()                         # some files moved in, others not
    os.replace = replace
from siting import cli
sys.exit(cli.main(["run", sys.argv[3], "--out", str(out), "-q"]))
"""


def _kill_at(point: str, out: Path, cwd: Path) -> None:
    """Start a real run held at ``point`` and ``kill -9`` it there."""
    proc = subprocess.Popen([sys.executable, "-c", DRIVER, point, str(out), str(DEMO)],
                            cwd=cwd, stderr=subprocess.PIPE, text=True)
    _kill_on(proc, f"HOLD {point}")


def _kill_on(proc: subprocess.Popen, line_start: str) -> None:
    assert proc.stderr is not None
    with proc, proc.stderr:
        for line in proc.stderr:
            if line.startswith(line_start):
                proc.send_signal(signal.SIGKILL)
                break
        code = proc.wait(timeout=60)
    assert code == -signal.SIGKILL, f"the run ended before {line_start!r}"


@pytest.fixture
def made_once(tmp_path, demo_outputs):
    """A complete run's output folder, a user's file beside it, and a user's folder named
    like a leftover."""
    out = tmp_path / "out"
    shutil.copytree(demo_outputs, out)
    assert marker(out)["state"] == "complete"
    (tmp_path / "notes.docx").write_bytes(b"the user's")
    (tmp_path / ".out.tmp-mine").mkdir()
    (tmp_path / ".out.tmp-mine" / "keep.txt").write_text("mine")
    return out


def _next_run_cleans_up(out: Path, tmp_path: Path, run=None) -> None:
    """The next run: the whole CLI, or (given ``run``) its two steps on files: the probe
    before the solve and the writing after it."""
    if run is None:
        assert cli.main(["run", str(DEMO), "--out", str(out), "-q"]) == 0
    else:
        from siting.outputs import write as outputs

        probe(out, kind="run", label=run.scenario.name)
        outputs.write_all(run, out)
    assert leftovers(tmp_path, out) == [".out.tmp-mine"]
    assert (tmp_path / ".out.tmp-mine" / "keep.txt").read_text() == "mine"
    assert (tmp_path / "notes.docx").read_bytes() == b"the user's"
    assert set(marker(out)["files"]) == RUN_FILES
    assert marker(out)["state"] == "complete"


def test_kill_9_of_siting_run_while_solving(made_once, tmp_path, demo_run):
    """``python -m siting.cli run`` killed as it logs the model: the outputs stay whole."""
    before = snapshot(made_once)
    proc = subprocess.Popen([sys.executable, "-m", "siting.cli", "run", str(DEMO), "--out",
                             str(made_once)], cwd=tmp_path, stderr=subprocess.PIPE, text=True)
    _kill_on(proc, "model:")
    assert leftovers(tmp_path, made_once) == [".out.tmp-mine"]
    assert snapshot(made_once) == before
    _next_run_cleans_up(made_once, tmp_path, demo_run)


def test_kill_9_while_writing(made_once, tmp_path, demo_run):
    before = snapshot(made_once)
    _kill_at("write", made_once, tmp_path)
    assert [n for n in leftovers(tmp_path) if n.startswith(".out.tmp-") and n != ".out.tmp-mine"]
    assert snapshot(made_once) == before
    _next_run_cleans_up(made_once, tmp_path, demo_run)


def test_kill_9_between_the_two_renames_of_the_swap(made_once, tmp_path):
    before = snapshot(made_once)
    _kill_at("swap", made_once, tmp_path)
    assert not made_once.exists()           # the old outputs aside, the new ones not yet in
    names = [n.rsplit("-", 1)[0] for n in leftovers(tmp_path) if n != ".out.tmp-mine"]
    assert sorted(names) == [".out.old", ".out.tmp"]
    _atomic.remove_leftovers(made_once)     # what the next run does first: put them back
    assert snapshot(made_once) == before
    assert leftovers(tmp_path) == [".out.tmp-mine"]
    _next_run_cleans_up(made_once, tmp_path)


def test_kill_9_while_moving_files_into_the_current_folder(made_once, tmp_path, demo_run):
    (made_once / "mynotes.txt").write_text("mine")
    _kill_at("install", Path(), made_once)
    assert marker(made_once)["state"] == "installing"
    assert [n for n in leftovers(made_once) if n.startswith(_atomic.INNER)]
    _next_run_cleans_up(made_once, tmp_path, demo_run)
    assert (made_once / "mynotes.txt").read_text() == "mine"
