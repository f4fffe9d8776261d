"""The drivers behind the commands: ``run``, ``validate``, ``generate``, ``city``, ``compare``.

Each takes the parsed arguments and returns the exit code; :func:`siting.cli.main` maps the
errors they raise to exit codes. This is the top layer: it runs the stages (``siting.run``)
and hands their results to the writers (``siting.outputs``).
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from siting._errors import InputError, Interrupted, SitingError

if TYPE_CHECKING:
    from siting.cli.tasks import Task, TaskResult
    from siting.run.city import CityConfig, ClusterConfig
    from siting.run.results import RunResult

log = logging.getLogger("siting")


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


def _prepare(path: Path, generate_missing: bool, cache: Path | None) -> None:
    """Make the generated stand-ins a scenario falls back to, when asked to."""
    from siting.config import scenario
    from siting.synth import generate

    fallback = scenario.generated_fallback(path, cache=cache)
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


def check(args: argparse.Namespace) -> int:
    """``siting check``: reads the plan's headers in either language the outputs write."""
    from siting.check import command as check_command
    from siting.outputs import labels

    return check_command.main(args, headers=labels.header_keys())


def run(args: argparse.Namespace) -> int:
    """``siting run``: prepare, solve, check, write the outputs."""
    from siting._atomic import probe
    from siting.check import command as check_command
    from siting.config import scenario
    from siting.outputs import labels
    from siting.outputs import write as outputs
    from siting.run import pipeline

    start = time.perf_counter()
    _prepare(args.scenario, args.generate, args.cache)
    s = scenario.load(args.scenario, cache=args.cache)
    s = _override_solver(s, args)
    if args.lang:
        s = replace(s, lang=args.lang)
    out = args.out or Path("maps") / s.name
    probe(out, kind="run", label=s.name)              # refusals and a full disk, before work
    log.info("scenario: %s (%s)", s.name, args.scenario)
    _say_inputs(s)
    with on_interrupt(f"the previous outputs in {out} are unchanged"):
        prepared = pipeline.prepare(s, progress=_progress_factory(not args.quiet))
        result = pipeline.run(s, prepared=prepared)
        outputs.write_all(result, out)
    with _muted("siting.readers"), on_interrupt(
            f"the new outputs in {out} are complete (run `siting check {out}`)"):
        code = check_command.after_run(s, out, headers=labels.header_keys())
    log.info("%s", summary_line(result, time.perf_counter() - start, out))
    return code


@contextmanager
def on_interrupt(where: str) -> Iterator[None]:
    """A signal stopping the block: ``where`` says what became of the outputs.

    Unless code nearer the signal said it first (a commit that finished, see
    :class:`siting._atomic.staging`).
    """
    try:
        yield
    except Interrupted as e:
        e.where = e.where or where
        raise


@contextmanager
def _muted(name: str) -> Iterator[None]:
    """Logger ``name`` quiet below errors in the block (its lines would repeat the run's)."""
    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def summary_line(result: RunResult, seconds: float, out: Path) -> str:
    """The run's last line: targets met, which are not (and where), the cost, the time limit.

    'done in 27.7 s: 5 of 6 targets met; NOT met: every administrative village … (1 unit:
    410106100219 马固村村民委员会); cost 32,500,000; the solver proved the plan within
    0.457% of the avoidable cost (0.5% asked, time limit 240 s); outputs in …'
    """
    from siting.core.solve import money
    from siting.outputs import labels

    met = [r for r in result.results if r.met is not None]
    unmet = [r for r in met if r.met is False]
    parts = [f"done in {seconds:.1f} s: {len(met) - len(unmet)} of {len(met)} targets met"]
    if unmet:
        parts.append("NOT met: " + "; ".join(_unmet(r, result, labels) for r in unmet))
    sol, limit = result.solution, result.scenario.solver.time_limit_s
    parts.append(f"cost {money(sol.cost)}")
    gap = "n/a" if sol.avoidable_gap is None else f"{100 * sol.avoidable_gap:.3g}%"
    asked = f"{100 * result.scenario.solver.rel_gap:.3g}%"
    if sol.status == "optimal":
        parts.append(f"the solver proved the plan within {gap} of the avoidable cost "
                     f"({asked} asked, time limit {limit:g} s)")
    else:
        parts.append(f"the time limit of {limit:g} s STOPPED the solve at a proven gap of "
                     f"{gap} on the avoidable cost, {asked} asked (raise --time-limit for a "
                     "closer plan)")
    return "; ".join(parts) + f"; outputs in {out}"


def _unmet(r, result: RunResult, labels) -> str:  # type: ignore[no-untyped-def]
    """One unmet target in words (English, as the terminal speaks), with its first units."""
    p = result.phrases.get(r.key)
    text = labels.phrase(p, "en") if p is not None else r.key
    failing = list(r.failing or [])
    if not failing:
        return text
    shown = ", ".join(failing[:3]) + (f" and {len(failing) - 3} more" if len(failing) > 3
                                      else "")
    return f"{text} ({len(failing)} unit{'s' if len(failing) > 1 else ''}: {shown})"


def _override_solver(s, args):  # type: ignore[no-untyped-def]
    solver = s.solver
    if args.time_limit is not None:
        if not (args.time_limit > 0 and math.isfinite(args.time_limit)):
            raise InputError(f"--time-limit {args.time_limit:g}: give a positive number of "
                             "seconds, e.g. --time-limit 600.")
        solver = replace(solver, time_limit_s=args.time_limit)
    if args.gap is not None:
        if not 0 <= args.gap < 1:
            raise InputError(f"--gap {args.gap:g}: give a fraction in [0, 1), e.g. --gap 0.001 "
                             "for 0.1 %.")
        solver = replace(solver, rel_gap=args.gap)
    return replace(s, solver=solver)


def validate(args: argparse.Namespace) -> int:
    """``siting validate``: every check that can be made before solving, one report."""
    from siting._errors import ScenarioError, ValidationError
    from siting.config import scenario
    from siting.run import pipeline, validate

    try:
        s = scenario.load(args.scenario, cache=args.cache)
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


def generate(args: argparse.Namespace) -> int:
    """``siting generate``: seeded stand-in inputs for the counties asked for."""
    from siting.readers import frame
    from siting.synth import generate

    wanted = [slug for slug, _ in frame.COUNTIES.values()] if "all" in args.counties \
        else args.counties
    codes = [frame.slug_to_code(c) for c in wanted]       # unknown names fail before work
    fr = frame.load()
    for code in codes:
        folder = generate.generate(code, args.cache, seed=args.seed, frame=fr,
                                   force=args.force)
        print(folder)
    return 0


def city(args: argparse.Namespace) -> int:
    """``siting city``: every county a task on the cluster, then the city's report."""
    from siting._atomic import probe
    from siting.cli import cluster
    from siting.outputs import city as city_outputs
    from siting.run import city as city_run

    start = time.perf_counter()
    cfg = city_run.load(args.config)
    if args.lang:
        cfg = replace(cfg, lang=args.lang)
    out_root = Path("maps").resolve()
    probe(out_root / cfg.name, kind="city", label=cfg.name)
    paths = city_run.county_paths(cfg)
    shares = _city_shares(cfg, paths, args)
    tasks = [_city_task(cfg, p, out_root, shares, args) for p in paths]
    with on_interrupt(f"the city report in maps/{cfg.name} is unchanged, each county "
                      "folder holds its previous outputs or, when its task had finished, "
                      "its new ones"):
        results = run_tasks(tasks, args, cfg.cluster, scratch=out_root)
    cluster.say_failures(results, "city")
    if cluster.exit_code(results):
        return cluster.exit_code(results)
    outcomes = [r.outcome for r in results if r.outcome is not None]
    with on_interrupt(f"the city report in maps/{cfg.name} is unchanged, the county "
                      "folders hold their new outputs (a rerun reuses them)"):
        summary = city_outputs.write(cfg, outcomes, out_root / cfg.name,
                                     tasks=cluster.rows(results))
    met = sum(1 for t in summary["targets"] if t["met"])
    log.info("city done in %.1f s: %d of %d citywide targets met; outputs in maps/%s",
             time.perf_counter() - start, met, len(summary["targets"]), cfg.name)
    return 0


def _city_shares(cfg: CityConfig, paths: list[Path], args: argparse.Namespace,
                 ) -> dict[str, int]:
    """The counties' compartment shares, from their scenarios (inputs generated first).

    A county whose inputs or scenario are bad is left to its own task, which reports it;
    the shares then cannot be apportioned, and the run says so (it exits non-zero anyway).
    """
    if cfg.compartments_from_plan is None:
        return {}
    try:
        for path in paths:
            _prepare(path, args.generate, args.cache)
        return _compartment_shares(cfg, paths, args.cache)
    except SitingError as e:
        log.warning("warning: the citywide compartment target is not apportioned: %s", e)
        return {}


def _city_task(cfg: CityConfig, path: Path, out_root: Path, shares: dict[str, int],
               args: argparse.Namespace) -> Task:
    """A county's task in the city run: its compartment share, the city's [phasing].

    A county run with the city's [phasing] (it has none of its own) is not the county's
    own scenario: its outputs go to ``<city>-counties/<county>/``, so that they never
    replace those of the plain city run and the county's own run (which reuse them).
    """
    overrides = city_overrides(cfg, path, shares)
    root = out_root / f"{cfg.name}-counties" if "phasing" in overrides else out_root
    return county_task(path, root, lang=args.lang, cache=args.cache, overrides=overrides)


def city_overrides(cfg: CityConfig, path: Path, shares: dict[str, int]) -> dict[str, Any]:
    """What the city file sets in a county's scenario, as overrides.

    Its compartment share (when apportioned) and the city's [phasing] (when the county has
    none of its own).
    """
    from siting.config import scenario
    from siting.run import city as city_run

    try:
        table = scenario._read_toml(path)
    except SitingError:
        return {}                              # the task itself reports the bad file
    name = str(table.get("name") or path.stem)
    share = {"tiers.locker.compartments": shares[name]} if name in shares else {}
    return {**share, **city_run.phasing_override(cfg, table)}


def _compartment_shares(cfg: CityConfig, paths: list[Path],
                        cache: Path | None) -> dict[str, int]:
    """Each county's share of the city's ``compartments_from_plan`` (none when unset)."""
    from siting.config import scenario
    from siting.run import city as city_run

    if cfg.compartments_from_plan is None:
        return {}
    return city_run.compartment_shares(cfg, [scenario.load(p, cache=cache) for p in paths])


def county_task(path: Path, out_root: Path, *, lang: Literal["zh", "en"] | None,
                cache: Path | None, variant: str = "",
                overrides: dict[str, Any] | None = None) -> Task:
    """The task of one county scenario (× variant); outputs in ``out_root/<its name>``."""
    from siting.cli.tasks import Task
    from siting.config import scenario

    try:
        name = str(scenario._read_toml(path).get("name") or path.stem)
    except SitingError:
        name = path.stem                       # the task itself reports the bad file
    label = f"{variant}/{name}" if variant else name
    return Task(label, path.resolve(), (out_root / name).resolve(), variant=variant,
                overrides=dict(overrides or {}), lang=lang,
                cache=cache.resolve() if cache else None)


def run_tasks(tasks: list[Task], args: argparse.Namespace, cfg: ClusterConfig, *,
              scratch: Path) -> list[TaskResult]:
    """Generate missing stand-ins here (one writer per cache folder), then run the tasks."""
    from siting.cli import cluster
    from siting.cli.tasks import TaskResult

    failed: dict[int, TaskResult] = {}
    for path in dict.fromkeys(t.scenario for t in tasks):
        try:
            _prepare(path, args.generate, args.cache)
        except SitingError as e:
            failed |= {i: TaskResult(t.name, t.variant, "failed", 0.0, code=2,
                                     message=f"error: {e}")
                       for i, t in enumerate(tasks) if t.scenario == path}
    todo = [t for i, t in enumerate(tasks) if i not in failed]
    done = iter(cluster.run(todo, scratch=scratch,
                            scheduler=args.scheduler or cfg.scheduler,
                            workers=args.workers if args.workers is not None else cfg.workers,
                            bar=not args.quiet))
    return [failed[i] if i in failed else next(done) for i in range(len(tasks))]


def compare(args: argparse.Namespace) -> int:
    """``siting compare``: run outputs side by side, sites matched by tier and position."""
    from siting._atomic import probe
    from siting.outputs import compare as compare_outputs
    from siting.outputs import labels
    from siting.run import compare as compare_run

    if not args.tolerance_m >= 0 or not math.isfinite(args.tolerance_m):
        raise InputError(f"--tolerance-m {args.tolerance_m:g}: give metres ≥ 0, e.g. 5.")
    out = args.out or Path("maps") / "compare"
    probe(out, kind="compare", label="compare")
    runs = [compare_run.read(f, headers=labels.header_keys()) for f in args.folders]
    runs = _distinct_labels(runs)
    c = compare_run.compare(runs, tolerance_m=args.tolerance_m)
    lang = args.lang or runs[0].lang
    compare_outputs.write(c, out, lang=lang)
    log.info("compare written to %s (report.html, report.md, report.json, map.html)", out)
    return 0


def _distinct_labels(runs):  # type: ignore[no-untyped-def]
    """Runs of the same scenario name are told apart by their folder."""
    from collections import Counter

    seen = Counter(r.label for r in runs)
    return [replace(r, label=f"{r.label} ({r.folder.name})") if seen[r.label] > 1 else r
            for r in runs]
