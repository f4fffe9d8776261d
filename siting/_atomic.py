"""All-or-nothing folders: write into a temporary sibling, swap it in only when complete."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path


class staging:  # noqa: N801 (a context manager used like a function)
    """A temporary folder that replaces ``target`` on success and vanishes on failure.

    Usage: ``with staging(out) as tmp: write files into tmp``. On success the previous
    ``target`` (if any) is moved aside, ``tmp`` renamed to ``target``, the old one removed;
    on any exception ``tmp`` is deleted and ``target`` is untouched.
    """

    def __init__(self, target: Path) -> None:
        self.target = Path(target)

    def __enter__(self) -> Path:
        self.target.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = Path(tempfile.mkdtemp(prefix=f".{self.target.name}.tmp-",
                                         dir=self.target.parent))
        return self.tmp

    def __exit__(self, kind: object, exc: object, tb: object) -> None:
        if kind is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            return
        self.tmp.chmod(0o755)
        old = None
        if self.target.exists():
            old = self.target.with_name(f".{self.target.name}.old-{os.getpid()}")
            self.target.replace(old)
        self.tmp.replace(self.target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
