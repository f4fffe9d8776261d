"""Running the tasks of ``siting city`` and ``siting sweep`` on Dask distributed.

By default the command starts a ``LocalCluster`` of process workers, one per core (one
thread each: a county's solve is single-threaded), and shuts it down when the tasks are
done; ``--scheduler tcp://HOST:PORT`` (or ``[cluster] scheduler``) sends the same tasks to a
running cluster instead (``dask scheduler`` and ``dask worker``, see the README), and
``--workers 0`` runs them one after another in this process, without Dask.

Each task is submitted once and gathered as it finishes (:func:`distributed.as_completed`);
one line per finished task goes to stderr, under a progress bar on a terminal. A worker lost
mid-task (killed, out of memory) is the scheduler's to handle: it runs the task again on
another worker (up to ``distributed.scheduler.allowed-failures`` times, 3 by default), and
the task's attempts are counted in a scratch folder beside the outputs, which every worker
reaches. The results come back in the order of the tasks, whatever order they finish in.

Stopped (Ctrl-C, SIGTERM: :class:`~siting._errors.Interrupted`) or failing, the command
shuts its LocalCluster down (the workers are stopped, killed if need be, and joined), removes
the attempts folder, then removes the temporary folders its workers were writing, as the
next run on those folders would (:func:`siting._atomic.remove_leftovers`). A running cluster
(``--scheduler``) is left to finish the tasks it holds: their outputs are whole or absent.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from siting._atomic import remove_leftovers
from siting._errors import InputError
from siting.cli.tasks import Task, TaskResult, run_task

log = logging.getLogger("siting")


def run(tasks: list[Task], *, scratch: Path, scheduler: str | None = None,
        workers: int | None = None, bar: bool = True) -> list[TaskResult]:
    """Run every task; return their results in the tasks' order."""
    if not tasks:
        return []
    scratch.mkdir(parents=True, exist_ok=True)
    attempts = tempfile.mkdtemp(prefix=".siting-attempts-", dir=scratch)
    report = _Progress(len(tasks), bar=bar)
    try:
        if scheduler is None and workers == 0:
            log.info("tasks: %d, one after another in this process", len(tasks))
            return [report(run_task(t, attempts, capture=False)) for t in tasks]
        return _on_dask(tasks, attempts, scheduler, workers, report)
    finally:
        report.close()
        shutil.rmtree(attempts, ignore_errors=True)
        if scheduler is None:         # this machine's workers, all stopped by now
            _remove_leftovers(tasks)


def _remove_leftovers(tasks: list[Task]) -> None:
    """The temporary folders of the tasks' outputs whose writers are gone."""
    for t in tasks:
        try:
            remove_leftovers(t.out)
        except OSError as e:
            log.warning("could not remove the temporary folders beside %s (%s); the next run "
                        "on it removes them", t.out, e)


def _on_dask(tasks: list[Task], attempts: str, scheduler: str | None, workers: int | None,
             report: Callable[[TaskResult], TaskResult]) -> list[TaskResult]:
    from distributed import as_completed

    results: list[TaskResult | None] = [None] * len(tasks)
    with client_for(scheduler, workers) as client:
        n = len(client.scheduler_info(n_workers=-1).get("workers", {}))
        log.info("tasks: %d on %s (%d workers)", len(tasks),
                 scheduler or "a LocalCluster of this machine", n)
        run_id = uuid.uuid4().hex[:8]
        futures = {client.submit(run_task, t, attempts, key=f"siting-{run_id}-{i}-{t.name}",
                                 pure=False): i for i, t in enumerate(tasks)}
        for fut in as_completed(futures):
            i = futures[fut]
            try:
                got = fut.result()
            except Exception as e:  # KilledWorker: lost with more workers than allowed
                got = TaskResult(tasks[i].name, tasks[i].variant, "failed", 0.0, code=1,
                                 message=f"the workers running it were lost: "
                                         f"{type(e).__name__}: {e}")
            results[i] = report(got)
    return [r for r in results if r is not None]


@contextmanager
def client_for(scheduler: str | None, workers: int | None) -> Iterator[Any]:
    """A client of the cluster at ``scheduler``, or of a LocalCluster started and stopped here."""
    from distributed import Client, LocalCluster

    # Dask's own messages (workers starting, closing, restarted) only with -v: the lines of
    # the tasks say what happened to each
    verbose = logging.getLogger("siting").isEnabledFor(logging.DEBUG)
    logging.getLogger("distributed").setLevel(logging.INFO if verbose else logging.ERROR)
    if scheduler is not None:
        try:
            client = Client(scheduler, timeout="20s")
        except (OSError, TimeoutError) as e:
            raise InputError(
                f"--scheduler {scheduler}: no Dask scheduler answers there ({e}). Start one "
                "(`dask scheduler`, then `dask worker tcp://HOST:8786` on each machine), or "
                "leave --scheduler out to use a LocalCluster of this machine.") from e
        with client:
            yield client
        return
    n = workers or os.cpu_count() or 1
    with LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                      dashboard_address=None, silence_logs=logging.ERROR) as cluster, \
            Client(cluster) as client:
        yield client


class _Progress:
    """One line per finished task (name, time, status), under a bar on a terminal."""

    def __init__(self, total: int, *, bar: bool) -> None:
        self.total, self.done = total, 0
        self.bar = None
        if bar and sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc="tasks", unit="task", file=sys.stderr)

    def __call__(self, r: TaskResult) -> TaskResult:
        self.done += 1
        line = f"[{self.done}/{self.total}] {r.name}: {line_of(r)}"
        if self.bar is not None:
            self.bar.write(line, file=sys.stderr)
            self.bar.update(1)
        else:
            log.info(line)
        for w in r.warnings:
            log.warning("  %s: %s", r.name, w)
        return r

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def line_of(r: TaskResult) -> str:
    """A finished task's status in a few words (the terminal's line)."""
    lost = "the worker of attempt 1 was lost" if r.attempts == 2 else \
        f"the workers of attempts 1–{r.attempts - 1} were lost"
    again = f", attempt {r.attempts} ({lost}, the task ran again)" if r.attempts > 1 else ""
    if r.status == "failed":
        return f"FAILED (exit {r.code}) after {r.seconds:.1f} s{again}: {r.message}"
    if r.status == "reused":
        return f"reused (inputs and scenario unchanged), {r.seconds:.1f} s"
    return f"done in {r.seconds:.1f} s{again}"


def rows(results: list[TaskResult]) -> list[dict[str, Any]]:
    """The tasks' table of a city or sweep report: name, status, time, attempts."""
    return [{"name": r.name, "variant": r.variant, "status": r.status,
             "seconds": round(r.seconds, 2), "attempts": r.attempts, "code": r.code,
             "message": r.message, "peak_rss_mb": r.peak_rss_mb} for r in results]


def exit_code(results: list[TaskResult]) -> int:
    """0 when every task finished; else the failures' exit code (bad input: 2)."""
    codes = [r.code for r in results if r.status == "failed"]
    return 0 if not codes else (2 if 2 in codes else max(codes))


def say_failures(results: list[TaskResult], what: str) -> None:
    """Name every failed task with its message, once all the tasks are done."""
    failed = [r for r in results if r.status == "failed"]
    if not failed:
        return
    print(f"siting: {len(failed)} of {len(results)} task(s) failed, so the {what} report is "
          "not written (the other tasks' outputs are, and a rerun reuses them):",
          file=sys.stderr)
    for r in failed:
        text = r.message.replace("\n", "\n    ")
        print(f"  {r.name}: {text}", file=sys.stderr)
