"""Command line: ``siting run SCENARIO``.

Exit codes: 0 success; 2 bad input (file, scenario, data); 3 a target cannot be met or the
solver failed; 5 ``siting check`` (run after every ``siting run``) found a target claimed met
that is not; 1 an unexpected internal error (rerun with ``-v`` for the traceback).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
import traceback
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from siting import __version__
from siting._errors import InfeasibleError, InputError, SitingError, SolverError

log = logging.getLogger("siting")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="siting",
        description="Last-mile postal facility siting for the Zhengzhou 14th Five-Year "
                    "postal plan: reads roads and boundaries, solves one MIP over all "
                    "facility tiers, writes a map, a GeoPackage, a CSV and a report.")
    p.add_argument("--version", action="version", version=f"siting {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    run = sub.add_parser("run", help="run a scenario and write its outputs",
                         description="Run a scenario: read inputs, compute network "
                                     "distances, solve, check every target independently, "
                                     "and write map.html, sites.gpkg, sites.csv, report.json "
                                     "and report.md into maps/<scenario name>/.")
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
    _verbosity(run)
    from siting.check import command as check_command
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
    _verbosity(val)
    gen = sub.add_parser("generate", help="write generated stand-in inputs for counties",
                         description="Write seeded, generated stand-ins for the inputs no public "
                                     "data has (village/community and area polygons, roads, "
                                     "existing outlets) into data/generated/<county>/, over "
                                     "the real Zhengzhou frame. Every feature says generated.")
    gen.add_argument("counties", nargs="+", metavar="COUNTY",
                     help="county slugs (zhongmu, jinshui, …), NBS codes, or 'all'")
    gen.add_argument("--seed", type=int, default=2021, help="the seed (default 2021)")
    gen.add_argument("--out", type=Path, default=None,
                     help="parent folder (default: data/generated)")
    gen.add_argument("--force", action="store_true", help="regenerate even if cached")
    _verbosity(gen)
    city = sub.add_parser("city", help="run every county scenario and write the city report",
                          description="Run every county scenario listed in the city file "
                                      "(each writing maps/<county>/), then write maps/<city>/ "
                                      "with the plan's citywide targets summed.")
    city.add_argument("config", type=Path, help="city file, e.g. models/city.toml")
    city.add_argument("--lang", choices=["zh", "en"], default=None,
                      help="language of the maps and the reports")
    city.add_argument("--generate", action="store_true",
                      help="generate stand-ins for counties without real input files")
    _verbosity(city)
    return p


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


def _progress_factory(enabled: bool):  # type: ignore[no-untyped-def]
    """Progress bars for long stages, only on an interactive terminal."""
    if not enabled or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    def make(label: str):  # type: ignore[no-untyped-def]
        bar = tqdm(total=0, desc=label, unit="src", leave=False, file=sys.stderr)

        def update(done: int, total: int) -> None:
            bar.total = total
            bar.n = done
            bar.refresh()
            if done >= total:
                bar.close()
        return update
    return make


def _prepare(path: Path, generate_missing: bool) -> None:
    """Make the generated stand-ins a scenario falls back to, when asked to."""
    from siting.config import scenario
    from siting.synth import generate

    fallback = scenario.generated_fallback(path)
    if fallback is None:
        return
    slug, folder, seed = fallback
    if generate_missing:
        generate.generate(slug, folder.parent, seed=seed)


def _say_inputs(s) -> None:  # type: ignore[no-untyped-def]
    if s.generated:
        log.info("inputs: GENERATED stand-ins in %s (no real files found); every output says "
                 "so", s.data_dir)
    else:
        log.info("inputs: real files, paths relative to %s", s.data_dir)


def _cmd_run(args: argparse.Namespace) -> int:
    from siting.check import command as check_command
    from siting.config import scenario
    from siting.outputs import write as outputs
    from siting.run import pipeline

    start = time.perf_counter()
    _prepare(args.scenario, args.generate)
    s = scenario.load(args.scenario)
    s = _override_solver(s, args)
    if args.lang:
        s = replace(s, lang=args.lang)
    out = args.out or Path("maps") / s.name
    log.info("scenario: %s (%s)", s.name, args.scenario)
    _say_inputs(s)
    prepared = pipeline.prepare(s, progress=_progress_factory(not args.quiet))
    result = pipeline.run(s, prepared=prepared)
    outputs.write_all(result, out)
    met = [r for r in result.results if r.met is not None]
    ok = sum(r.met is True for r in met)
    code = check_command.after_run(s, out)
    log.info("done in %.1f s: %d of %d targets met; outputs in %s", time.perf_counter() - start,
             ok, len(met), out)
    return code


def _override_solver(s, args):  # type: ignore[no-untyped-def]
    solver = s.solver
    if args.time_limit is not None:
        if not args.time_limit > 0:
            raise InputError(f"--time-limit {args.time_limit:g}: give a positive number of "
                             "seconds, e.g. --time-limit 600.")
        solver = replace(solver, time_limit_s=args.time_limit)
    if args.gap is not None:
        if not 0 <= args.gap < 1:
            raise InputError(f"--gap {args.gap:g}: give a fraction in [0, 1), e.g. --gap 0.001 "
                             "for 0.1 %.")
        solver = replace(solver, rel_gap=args.gap)
    return replace(s, solver=solver)


def _cmd_validate(args: argparse.Namespace) -> int:
    from siting._errors import ScenarioError, ValidationError
    from siting.config import scenario
    from siting.run import pipeline, validate

    try:
        s = scenario.load(args.scenario)
    except ValidationError as e:
        return _report_validation(args.scenario, validate.Findings(errors=e.problems))
    except ScenarioError as e:
        return _report_validation(args.scenario, validate.Findings(errors=[str(e)]))
    _say_inputs(s)
    try:
        prepared = pipeline.prepare(s)
    except ValidationError as e:
        return _report_validation(args.scenario, validate.Findings(errors=e.problems))
    except InputError as e:
        return _report_validation(args.scenario, validate.Findings(errors=[str(e)]))
    return _report_validation(args.scenario, validate.diagnose(prepared))


def _report_validation(path: Path, findings) -> int:  # type: ignore[no-untyped-def]
    verdict = "errors found" if findings.errors else "OK"
    print(f"siting validate {path}: {verdict}\n{findings.text()}")
    return 2 if findings.errors else 0


def _cmd_generate(args: argparse.Namespace) -> int:
    from siting.readers import frame
    from siting.synth import generate

    wanted = [slug for slug, _ in frame.COUNTIES.values()] if "all" in args.counties \
        else args.counties
    codes = [frame.slug_to_code(c) for c in wanted]       # unknown names fail before work
    fr = frame.load()
    for code in codes:
        folder = generate.generate(code, args.out or generate.OUT, seed=args.seed, frame=fr,
                                   force=args.force)
        print(folder)
    return 0


def _cmd_city(args: argparse.Namespace) -> int:
    from siting.run import city

    start = time.perf_counter()
    cfg = city.load(args.config)
    if args.lang:
        cfg = replace(cfg, lang=args.lang)
    outcomes = []
    paths = city.county_paths(cfg)
    for k, path in enumerate(paths, 1):
        _prepare(path, args.generate)
        log.info("county %d/%d: %s", k, len(paths), path.name)
        outcomes.append(city.run_county(path, Path("maps"), lang=args.lang,
                                        progress=_progress_factory(not args.quiet)))
    summary = city.write(cfg, outcomes, Path("maps") / cfg.name)
    met = sum(1 for t in summary["targets"] if t["met"])
    log.info("city done in %.1f s: %d of %d citywide targets met; outputs in maps/%s",
             time.perf_counter() - start, met, len(summary["targets"]), cfg.name)
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    from siting.check import command as check_command

    return check_command.main(args)


COMMANDS = {"run": _cmd_run, "check": _cmd_check, "validate": _cmd_validate,
            "generate": _cmd_generate, "city": _cmd_city}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``siting`` command."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    _configure_logging(getattr(args, "verbose", False), getattr(args, "quiet", False))
    try:
        return COMMANDS[args.command](args)
    except (InfeasibleError, SolverError) as e:
        print(f"siting: cannot meet the targets: {e}", file=sys.stderr)
        return 3
    except SitingError as e:
        print(f"siting: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("siting: interrupted; the previous outputs are unchanged.", file=sys.stderr)
        return 130
    except Exception as e:  # the last resort: one paragraph, traceback only with -v
        if getattr(args, "verbose", False):
            traceback.print_exc()
        print(f"siting: internal error: {type(e).__name__}: {e}. The previous outputs are "
              "unchanged. Rerun with -v for the traceback and report it with the scenario "
              "file.", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
