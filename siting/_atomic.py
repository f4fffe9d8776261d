"""Output folders that are all or nothing, and never touch a file siting did not write.

Every folder siting makes carries a marker, ``.siting-output.json``: the siting version, what
made it (``kind``: a run, a city report, generated inputs), its ``label`` (the scenario) and
the ``files`` it wrote. :class:`staging` writes into a temporary folder and, once every file
is complete, puts them in place of the previous outputs:

- The target may be absent, an empty folder, or a folder carrying the marker. Anything else
  (a file, the user's own folder, the current folder holding the user's files, ``/``) is
  refused with :class:`~siting._errors.OutputFolderError` before anything is written.
- Usually the temporary folder is a sibling, ``.NAME.tmp-XXXX``, renamed into place in one
  step; the previous outputs go aside to ``.NAME.old-XXXX`` and are removed.
- Where a sibling cannot be renamed into place (the target is or holds the current folder,
  is a mount point or ``/``, its parent is not writable, renaming it fails with ``EBUSY``, or
  it holds files of the user's beside siting's), the files are written into
  ``NAME/.siting-tmp-XXXX`` and moved in one by one. Of the old files, only those the
  previous marker lists are removed.
- A run stopped by a signal (Ctrl-C, SIGTERM, SIGHUP: the CLI raises
  :class:`~siting._errors.Interrupted`) removes its temporary folder on the way out; the
  few renames that put the new files in place are not cut: a signal arriving then takes
  effect once they are done.
- A run killed half-way (SIGKILL, a power cut) leaves marked leftovers; the next run on the
  same target removes them (never a folder without the marker), and puts back previous
  outputs it finds moved aside with the target gone.
- A refusal of the machine (disk full, read-only file system, no permission) becomes
  :class:`~siting._errors.EnvironmentFailure`, naming the folder and the fix. :func:`probe`
  finds it before the work starts.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from siting import __version__
from siting._errors import (
    STOP_SIGNALS,
    EnvironmentFailure,
    Interrupted,
    OutputFolderError,
    SitingError,
)

log = logging.getLogger(__name__)

MARKER = ".siting-output.json"
"""The marker every folder siting makes carries."""
PART = ".siting-part"
"""Suffix of a file being copied or written before its rename (ours, removed on sight)."""
INNER = ".siting-tmp-"
"""Prefix of the temporary folder made inside the target when it cannot be swapped."""

_FIX_SPACE = ("Free some space on that disk, or choose another output folder (--out) on a "
              "disk with room.")
ENVIRONMENT = {
    errno.ENOSPC: ("the disk is full", _FIX_SPACE),
    errno.EDQUOT: ("the disk quota is used up", _FIX_SPACE),
    errno.EROFS: ("it is on a read-only file system",
                  "Choose another output folder (--out) on a writable disk."),
    errno.EACCES: ("no permission to write there",
                   "Choose a folder you may write (--out), or get write permission on it."),
    errno.EPERM: ("the operation is not permitted there",
                  "Choose a folder you may write (--out), or get write permission on it."),
}
"""errno → (what is wrong, the fix) for the failures of the machine, not of siting."""

_NO_SWAP = {errno.EBUSY, errno.EXDEV, errno.ENOTEMPTY, errno.EEXIST, errno.EPERM,
            errno.EACCES, errno.EINVAL}
"""A folder rename failing with these falls back to moving the files in one by one."""


@dataclass(frozen=True)
class Plan:
    """What is at the target now, and how new outputs can replace it."""

    target: Path                  # absolute, symlinks resolved
    exists: bool
    marked: bool                  # carries siting's marker
    old: tuple[str, ...]          # the files the marker lists
    foreign: tuple[str, ...]      # files under the target that the marker does not list
    swap: bool                    # a sibling temporary folder may be renamed into place


def plan(target: Path) -> Plan:
    """Inspect ``target``; refuse it when siting may not replace it.

    Raises
    ------
    OutputFolderError
        ``target`` is a file, or a non-empty folder without siting's marker.
    """
    target = Path(target).resolve()
    if not target.exists():
        return Plan(target, exists=False, marked=False, old=(), foreign=(), swap=True)
    if not target.is_dir():
        raise OutputFolderError(f"output folder {target} is a file, not a folder; siting "
                                "will not replace a file with a folder. Choose another "
                                f"output folder (--out), e.g. {_suggest(target)}.")
    marker = read_marker(target)
    if marker is None:
        _refuse_unmarked(target)
        old: tuple[str, ...] = ()
    else:
        old = tuple(str(f) for f in marker.get("files", []) if isinstance(f, str))
    foreign = tuple(sorted(set(listing(target)) - set(old)))
    swap = not foreign and _may_swap(target)
    return Plan(target, exists=True, marked=marker is not None, old=old, foreign=foreign,
                swap=swap)


def _refuse_unmarked(target: Path) -> None:
    entries = sorted(e.name for e in target.iterdir() if not _ours(e))
    if not entries:
        return
    more = len(entries) - 4
    shown = ", ".join(entries[:4]) + (f" and {more} more" if more > 0 else "")
    raise OutputFolderError(
        f"output folder {target} already holds files siting did not write ({shown}) and "
        f"carries no {MARKER} marker, so siting leaves it untouched. Choose another output "
        f"folder (--out), e.g. {_suggest(target)}, or empty this one. (Outputs of an earlier "
        "siting, before folders carried the marker, have none either: delete them yourself.)")


def _suggest(target: Path) -> Path:
    return target.parent / f"{target.stem or 'siting'}-out"


def _may_swap(target: Path) -> bool:
    """A sibling may replace ``target``: not ``/``, a mount point, or the current folder."""
    if target.parent == target or os.path.ismount(target):
        return False
    cwd = Path.cwd().resolve()
    if cwd == target or target in cwd.parents:
        return False
    return os.access(target.parent, os.W_OK)


def read_marker(folder: Path) -> dict[str, Any] | None:
    """The marker of ``folder`` when it is siting's, else None."""
    try:
        data = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("tool") == "siting" else None


def _ours(path: Path) -> bool:
    """Entries siting leaves only while it works: its marker, a part file, a marked temp."""
    name = path.name
    if name == MARKER or name.endswith(PART):
        return True
    return name.startswith(INNER) and path.is_dir() and read_marker(path) is not None


def listing(folder: Path) -> list[str]:
    """Every file under ``folder`` (relative, ``/``-separated), siting's own entries left out."""
    out = []
    for root, dirs, files in os.walk(folder):
        base = Path(root)
        dirs[:] = [d for d in dirs if not _ours(base / d)]
        links = [d for d in dirs if (base / d).is_symlink()]
        for name in [*files, *links]:
            if not _ours(base / name):
                out.append((base / name).relative_to(folder).as_posix())
    return sorted(out)


def write_marker(folder: Path, *, kind: str, label: str, files: list[str], state: str,
                 pid: int | None = None) -> None:
    """Write ``folder``'s marker (in one rename, so it is whole or absent).

    A temporary folder's marker (``state`` "staging") holds the ``pid`` of the run writing
    it, so a second run on the same target leaves it alone while that run lives.
    """
    data: dict[str, Any] = {"tool": "siting", "version": __version__, "kind": kind,
                            "label": label, "state": state, "files": sorted(files)}
    if pid is not None:
        data["pid"] = pid
    part = folder / (MARKER + PART)
    part.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    part.replace(folder / MARKER)


def remove_leftovers(target: Path) -> None:
    """Remove what killed runs on ``target`` left: marked ``.tmp-``/``.old-`` folders only.

    A run killed between its two renames left the previous outputs aside (``.old-``) and no
    target: those are put back, not removed.
    """
    target = Path(target)
    found = []
    if target.parent != target and target.parent.is_dir():
        found += [p for p in _scan(target.parent)
                  if p.name.startswith((f".{target.name}.tmp-", f".{target.name}.old-"))]
    if target.is_dir():
        found += [p for p in _scan(target) if p.name.startswith(INNER) or p.name.endswith(PART)]
    for p in found:
        marker = read_marker(p) if p.is_dir() and not p.is_symlink() else None
        if p.is_file() and not p.is_symlink():
            p.unlink()
        elif marker is None or _running(marker):
            continue
        elif p.name.startswith(f".{target.name}.old-") and marker.get("state") != "staging" \
                and not target.exists() and not target.is_symlink():
            log.warning("output: put back %s from %s, where a run stopped mid-replace left "
                        "it", target, p.name)
            p.replace(target)
        else:
            log.info("output: removing %s, left by a run (or a worker) that was stopped", p)
            remove_ours(p)


def _running(marker: dict[str, Any]) -> bool:
    """The run that writes this temporary folder is still alive (another process)."""
    pid = marker.get("pid")
    if marker.get("state") != "staging" or not isinstance(pid, int) or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True            # alive, but another user's
    return True


def _scan(folder: Path) -> list[Path]:
    try:
        return list(folder.iterdir())
    except OSError:
        return []


def remove_ours(folder: Path) -> None:
    """Remove a marked folder: all of a temporary one, only the listed files of outputs.

    The marker goes last, so a removal cut short is still recognised next time; a folder
    that holds files siting did not write is left as it is.
    """
    marker = read_marker(folder) or {}
    found = listing(folder)
    if marker.get("state") != "staging" and set(found) - set(marker.get("files", [])):
        log.warning("output: kept %s: it holds files siting did not write", folder)
        return
    for p in folder.iterdir():
        if p.name == MARKER:
            continue
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p)
        else:
            p.unlink()
    (folder / MARKER).unlink(missing_ok=True)
    folder.rmdir()


@contextmanager
def environment(target: Path) -> Iterator[None]:
    """Turn the machine's refusals (disk full, read-only, no permission) into their error."""
    try:
        yield
    except SitingError:
        raise
    except OSError as e:
        failure = environment_failure(e, target)
        if failure is None:
            raise
        raise failure from e


def environment_failure(e: OSError, target: Path) -> EnvironmentFailure | None:
    """The :class:`EnvironmentFailure` that ``e`` stands for, or None if it is none of them."""
    if e.errno not in ENVIRONMENT:
        return None
    what, fix = ENVIRONMENT[e.errno]
    where = f" ({e.filename}: {e.strerror})" if e.filename else f" ({e.strerror})"
    return EnvironmentFailure(f"cannot write the output folder {target}: {what}{where}. "
                              f"{fix}", errno=e.errno,
                              filename=None if e.filename is None else str(e.filename))


def probe(target: Path, *, kind: str = "output", label: str = "") -> Plan:
    """Check, before any work, that outputs can be written to ``target``.

    Refuses a target siting may not replace, removes earlier leftovers, and makes and removes
    a marked temporary folder where :class:`staging` will make its own. Nothing else changes.

    Raises
    ------
    OutputFolderError
        See :func:`plan`.
    EnvironmentFailure
        The disk is full, read-only, or not writable by this user.
    """
    with environment(Path(target)), uninterrupted():
        p = plan(target)
        missing = [d for d in (p.target, *p.target.parents) if not d.exists()][1:]
        tmp = _temporary(p, kind=kind, label=label)
        remove_ours(tmp)
        for d in missing:
            d.rmdir()
    return p


def _temporary(p: Plan, *, kind: str, label: str) -> Path:
    remove_leftovers(p.target)
    if p.swap:
        p.target.parent.mkdir(parents=True, exist_ok=True)
        where, prefix = p.target.parent, f".{p.target.name}.tmp-"
    else:
        where, prefix = p.target, INNER
    tmp = Path(tempfile.mkdtemp(prefix=prefix, dir=where))
    try:
        write_marker(tmp, kind=kind, label=label, files=[], state="staging",
                     pid=os.getpid())
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return tmp


@contextmanager
def uninterrupted() -> Iterator[None]:
    """A stop signal (Ctrl-C, SIGTERM, SIGHUP) arriving in the block takes effect after it.

    For the few steps that must not be cut between two: a temporary folder made and marked,
    the previous outputs moved aside and the new ones renamed in. The signal is raised again
    once the block is done (the handler it finds then decides: the CLI's raises
    :class:`~siting._errors.Interrupted`). Python runs signal handlers in the main thread
    only, so elsewhere (a Dask worker's task thread) the block runs as it is.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    before = {s: signal.getsignal(s) for s in STOP_SIGNALS}
    mine = {s: h for s, h in before.items() if h is not None}  # None: not settable from Python
    for s in mine:
        signal.signal(s, lambda signum, _frame: caught.append(signum))
    try:
        yield
    finally:
        for s, h in mine.items():
            signal.signal(s, h)
        if caught:
            signal.raise_signal(caught[0])


class staging:  # noqa: N801 (a context manager used like a function)
    """A temporary folder whose files replace ``target``'s on success; gone on failure.

    Usage: ``with staging(out, kind="run", label=name) as tmp: write files into tmp``. On
    success the files take the place of the previous outputs (see the module docstring),
    with a marker listing them; on any exception ``tmp`` is removed and ``target`` is as it
    was.

    Parameters
    ----------
    target
        The output folder.
    kind
        What the folder holds (``run``, ``city``, ``generated``), written into the marker.
    label
        The scenario or county, written into the marker.
    """

    def __init__(self, target: Path, *, kind: str = "output", label: str = "") -> None:
        self.target = Path(target)
        self.kind = kind
        self.label = label or self.target.name

    def __enter__(self) -> Path:
        self.committed = False
        try:
            with environment(self.target), uninterrupted():
                self.tmp = _temporary(plan(self.target), kind=self.kind, label=self.label)
        except BaseException:           # e.g. a signal, deferred while the folder was made
            if hasattr(self, "tmp"):
                shutil.rmtree(self.tmp, ignore_errors=True)
            raise
        return self.tmp

    def __exit__(self, kind: object, exc: BaseException | None, tb: object) -> None:
        if exc is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            failure = (environment_failure(exc, self.target)
                       if isinstance(exc, OSError) and not isinstance(exc, SitingError)
                       else None)
            if failure is not None:
                raise failure from exc
            return
        try:
            with environment(self.target), uninterrupted():
                self._commit()
                self.committed = True
        except Interrupted as e:
            if not self.committed:
                shutil.rmtree(self.tmp, ignore_errors=True)
            elif not e.where:           # the signal came during the commit, which finished
                e.where = f"the new outputs in {self.target} are complete"
            raise
        except BaseException:
            shutil.rmtree(self.tmp, ignore_errors=True)
            raise

    def _commit(self) -> None:
        files = listing(self.tmp)
        meta = {"kind": self.kind, "label": self.label}
        write_marker(self.tmp, files=files, state="complete", kind=self.kind, label=self.label)
        now = plan(self.target)        # again: the user may have added files meanwhile
        if now.swap and self.tmp.parent == now.target.parent:
            _swap(self.tmp, now, files, meta)
        else:
            _install(self.tmp, now, files, meta)


def _swap(tmp: Path, p: Plan, files: list[str], meta: dict[str, str]) -> None:
    """Rename ``tmp`` into place; the previous outputs go aside first, then away."""
    tmp.chmod(0o755)
    old = None
    if p.marked:
        old = tmp.with_name(tmp.name.replace(".tmp-", ".old-", 1))
        try:
            p.target.replace(old)
        except OSError as e:
            if e.errno not in _NO_SWAP:
                raise
            log.debug("output: cannot rename %s (%s); moving files in one by one",
                      p.target, e.strerror)
            _install(tmp, p, files, meta)
            return
    try:
        tmp.replace(p.target)
    except OSError as e:
        if old is not None:
            old.replace(p.target)      # the previous outputs back in place
        elif e.errno in _NO_SWAP and p.exists:
            _install(tmp, p, files, meta)   # an empty folder that cannot be replaced
            return
        raise
    if old is not None:
        remove_ours(old)


def _install(tmp: Path, p: Plan, files: list[str], meta: dict[str, str]) -> None:
    """Move the files of ``tmp`` into the target one by one; remove only listed old ones."""
    clash = sorted(set(files) & set(p.foreign))
    if clash:
        raise OutputFolderError(
            f"output folder {p.target} holds {', '.join(clash)}, which siting did not write "
            f"(its {MARKER} does not list them) and would now overwrite. Move them away, or "
            "choose another output folder (--out).")
    p.target.mkdir(parents=True, exist_ok=True)
    write_marker(p.target, files=sorted(set(p.old) | set(files)), state="installing",
                 kind=meta["kind"], label=meta["label"])
    for name in files:
        _move(tmp / name, p.target / name)
    for name in sorted(set(p.old) - set(files)):
        (p.target / name).unlink(missing_ok=True)
    write_marker(p.target, files=files, state="complete", kind=meta["kind"], label=meta["label"])
    remove_ours(tmp)


def _move(src: Path, dst: Path) -> None:
    """Rename ``src`` to ``dst``; across file systems, copy to a part file and rename that."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        src.replace(dst)
    except OSError as e:
        if e.errno != errno.EXDEV:
            raise
        part = dst.with_name(dst.name + PART)
        shutil.copy2(src, part)
        part.replace(dst)
