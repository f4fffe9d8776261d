"""Command line: ``siting run SCENARIO``.

The parser and the exit codes live here, the drivers in :mod:`siting.cli.commands`.
Exit codes: 0 success; 2 bad input (file, scenario, data, or an output folder siting may not
replace); 3 a target cannot be met or the solver failed; 4 the machine refuses to write the
outputs (disk full, read-only, no permission); 5 ``siting check`` (also run after every
``siting run``) found a target claimed met that is not; 1 an unexpected internal error (rerun
with ``-v`` for the traceback); 128 + the signal's number when a signal stopped it (Ctrl-C:
130, SIGTERM: 143, SIGHUP: 129), after removing every temporary folder and shutting the Dask
cluster down, as for any error.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from siting import __version__
from siting._errors import STOP_SIGNALS, EnvironmentFailure, Interrupted, SitingError
from siting.check import command as check_command
from siting.cli import commands, sweep
from siting.core import InfeasibleError, SolverError

log = logging.getLogger("siting")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="siting",
        description="Last-mile postal facility siting for the Zhengzhou 14th Five-Year "
                    "postal plan: reads roads and boundaries, solves one MIP over all "
                    "facility tiers, writes a map, a GeoPackage, a CSV and a report.",
        epilog="Exit codes: 0 done; 2 bad input, or an output folder siting did not make "
               "(it replaces only folders carrying its .siting-output.json marker, or empty "
               "ones); 3 a target cannot be met or the solver failed; 4 the outputs cannot be "
               "written (disk full, read-only, no permission), found before the solve; 5 "
               "`siting check` found a target claimed met that is not; 1 an internal error; "
               "130 Ctrl-C, 143 SIGTERM (the previous outputs kept, nothing partial left).")
    p.add_argument("--version", action="version", version=f"siting {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    run = sub.add_parser("run", help="run a scenario and write its outputs",
                         description="Run a scenario: read inputs, compute network "
                                     "distances, solve, check every target independently, "
                                     "and write map.html, sites.gpkg, sites.csv, plan.xlsx, "
                                     "report.json and report.md into maps/<scenario name>/.")
    run.add_argument("scenario", type=Path, help="scenario file (TOML), e.g. models/demo.toml")
    run.add_argument("--out", type=Path, default=None,
                     help="output folder (default: maps/<scenario name>)")
    run.add_argument("--time-limit", type=float, default=None, metavar="S",
                     help="solver time limit in seconds (overrides [solver] time_limit_s)")
    run.add_argument("--gap", type=float, default=None, metavar="G",
                     help="relative MIP gap at which to stop, e.g. 0.001 (overrides "
                          "[solver] rel_gap)")
    run.add_argument("--lang", choices=["zh", "en"], default=None,
                     help="language of the map and the report (default: the scenario's, zh)")
    run.add_argument("--generate", action="store_true",
                     help="when the scenario has no real input files, make (or reuse) the "
                          "generated stand-ins first, as `siting generate` would")
    _cache(run)
    _verbosity(run)
    chk = sub.add_parser("check", help="recompute every target of a written plan",
                         description=check_command.DESCRIPTION)
    check_command.add_arguments(chk)
    _verbosity(chk)
    val = sub.add_parser("validate", help="check every input of a scenario, report all problems",
                         description="Read every input the scenario names and run every check "
                                     "that can be made before solving; print one report of all "
                                     "the problems found. Exit 0 when there is no error, 2 "
                                     "otherwise. `siting run` makes the same checks first.")
    val.add_argument("scenario", type=Path, help="scenario file (TOML)")
    _cache(val)
    _verbosity(val)
    gen = sub.add_parser("generate", help="write generated stand-in inputs for counties",
                         description="Write seeded, generated stand-ins for the inputs no public "
                                     "data has (village/community and area polygons, roads, "
                                     "existing outlets) into <cache>/<county>/, over the real "
                                     "Zhengzhou frame. Every feature says generated.")
    gen.add_argument("counties", nargs="+", metavar="COUNTY",
                     help="county slugs (zhongmu, jinshui, …), NBS codes, or 'all'")
    gen.add_argument("--seed", type=int, default=2021, help="the seed (default 2021)")
    gen.add_argument("--force", action="store_true", help="regenerate even if cached")
    _cache(gen)
    _verbosity(gen)
    city = sub.add_parser("city", help="run every county scenario and write the city report",
                          description="Run every county scenario listed in the city file "
                                      "(each writing maps/<county>/), then write maps/<city>/ "
                                      "with the plan's citywide targets summed.")
    city.add_argument("config", type=Path, help="city file, e.g. models/city.toml")
    _many_runs(city, lang="language of the maps and the reports")
    _compare_parser(sub)
    _sweep_parser(sub)
    return p


def _sweep_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    sw = sub.add_parser("sweep", help="run a scenario or the city once per variant, on Dask",
                        description="Run the base of a sweep file (a scenario, or the city "
                                    "file and so every county) once per variant (named "
                                    "overrides of scenario keys, or a grid), each county × "
                                    "variant a task on a Dask cluster; write each task's "
                                    "outputs to maps/<sweep>/<variant>/<county>/ and the "
                                    "sweep report (compare over the variants, cost against "
                                    "coverage) to maps/<sweep>/report/. A rerun reuses the "
                                    "tasks whose inputs and scenario are unchanged.")
    sw.add_argument("sweep", type=Path, help="sweep file, e.g. models/sweep-village-radius.toml")
    sw.add_argument("--tolerance-m", type=float, default=5.0, metavar="M",
                    help="sites within M metres are the same site in the comparison")
    _many_runs(sw, lang="language of the maps and the reports (default: the sweep file's)")


def _many_runs(p: argparse.ArgumentParser, *, lang: str) -> None:
    """The options of the commands that run many tasks (city, sweep)."""
    p.add_argument("--lang", choices=["zh", "en"], default=None, help=lang)
    p.add_argument("--generate", action="store_true",
                   help="generate stand-ins for counties without real input files")
    _cluster(p)
    _cache(p)
    _verbosity(p)


def _compare_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    cmp = sub.add_parser("compare", help="compare run outputs side by side",
                         description="Read the output folders of `siting run` or `siting "
                                     "city` (report.json, sites.csv) and write one report "
                                     "(report.html, report.md, report.json) and map.html: the "
                                     "targets and the cost per tier of each, and the sites "
                                     "added, removed and kept against the first folder.")
    cmp.add_argument("folders", nargs="+", type=Path, metavar="OUT",
                     help="output folders, the first is the base, e.g. maps/a maps/b")
    cmp.add_argument("--out", type=Path, default=None,
                     help="folder of the comparison (default: maps/compare)")
    cmp.add_argument("--tolerance-m", type=float, default=5.0, metavar="M",
                     help="sites of the same tier within M metres are the same site "
                          "(default 5)")
    cmp.add_argument("--lang", choices=["zh", "en"], default=None,
                     help="language of the report (default: the first folder's)")
    _verbosity(cmp)


def _cluster(p: argparse.ArgumentParser) -> None:
    p.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT",
                   help="run the tasks on the Dask cluster of this scheduler (overrides "
                        "[cluster] scheduler; default: a LocalCluster of this machine)")
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="LocalCluster worker processes (default: one per core); 0 runs the "
                        "tasks one after another in this process")


def _cache(p: argparse.ArgumentParser) -> None:
    p.add_argument("--cache", type=Path, default=None, metavar="DIR",
                   help="folder of the generated inputs, <DIR>/<county>/ (default: "
                        "$SITING_CACHE, else $XDG_CACHE_HOME/siting, else ~/.cache/siting)")


def _verbosity(p: argparse.ArgumentParser) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("-v", "--verbose", action="store_true", help="more detail, and tracebacks")
    g.add_argument("-q", "--quiet", action="store_true", help="warnings and errors only")


def _configure_logging(verbose: bool, quiet: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    logging.getLogger("siting").setLevel(
        logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO)


COMMANDS = {"run": commands.run, "check": commands.check, "validate": commands.validate,
            "generate": commands.generate, "city": commands.city,
            "compare": commands.compare, "sweep": sweep.sweep}


@contextmanager
def _stop_signals_raise() -> Iterator[None]:
    """Ctrl-C, SIGTERM and SIGHUP raise :class:`Interrupted`, so every cleanup runs.

    Python's default for SIGTERM and SIGHUP ends the process at once, skipping every
    ``finally``: temporary output folders, the attempts folder and the Dask workers would be
    left. Only the first signal raises; a second one, while the cleanup runs, is ignored
    (SIGKILL still stops it at once, and the next run removes what that leaves).
    """
    if threading.current_thread() is not threading.main_thread():
        yield                       # main() called from a thread: signals are not its own
        return
    raised: list[int] = []

    def handler(signum: int, _frame: FrameType | None) -> None:
        if not raised:
            raised.append(signum)
            raise Interrupted(signum)

    before = {s: signal.signal(s, handler) for s in STOP_SIGNALS}
    try:
        yield
    finally:
        for s, h in before.items():
            signal.signal(s, h if h is not None else signal.SIG_DFL)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``siting`` command."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    _configure_logging(getattr(args, "verbose", False), getattr(args, "quiet", False))
    try:
        with _stop_signals_raise():
            return COMMANDS[args.command](args)
    except (InfeasibleError, SolverError) as e:
        print(f"siting: cannot meet the targets: {e}", file=sys.stderr)
        return 3
    except EnvironmentFailure as e:
        print(f"siting: {e}", file=sys.stderr)
        return 4
    except SitingError as e:
        print(f"siting: error: {e}", file=sys.stderr)
        return 2
    except Interrupted as e:
        where = e.where or "the previous outputs are unchanged"
        print(f"siting: interrupted by {e.name}: {where}, nothing partial was left.",
              file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("siting: interrupted: the previous outputs are unchanged, nothing partial was "
              "left.", file=sys.stderr)
        return 130
    except Exception as e:  # the last resort: one paragraph, traceback only with -v
        if getattr(args, "verbose", False):
            traceback.print_exc()
        print(f"siting: internal error: {type(e).__name__}: {e}. The previous outputs are "
              "unchanged. Rerun with -v for the traceback and report it with the scenario "
              "file.", file=sys.stderr)
        return 1
