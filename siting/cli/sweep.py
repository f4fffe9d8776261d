"""``siting sweep SWEEP.toml``: a base scenario or the city, once per variant, on the cluster.

Every variant × county is a task (:mod:`siting.cli.tasks`) run on Dask
(:mod:`siting.cli.cluster`); its outputs go to ``maps/<sweep>/<variant>/<county>/``. With the
city file as base, each variant's city report goes to ``maps/<sweep>/<variant>/city/``. The
sweep report, ``maps/<sweep>/report/``, is ``siting compare`` over the variants (their city
reports, or their one county's run), the tasks with their status and attempts, and cost
against coverage per variant and county.
"""

from __future__ import annotations

import argparse
import logging
import time
from dataclasses import replace
from pathlib import Path

from siting.cli import cluster
from siting.cli.commands import city_overrides, county_task, on_interrupt, run_tasks
from siting.cli.tasks import TaskResult

log = logging.getLogger("siting")


def sweep(args: argparse.Namespace) -> int:
    """Run every variant × county, then write the sweep report."""
    from siting._atomic import probe
    from siting.run import city as city_run
    from siting.run import sweep as sweep_run

    start = time.perf_counter()
    cfg = sweep_run.load(args.sweep)
    lang = args.lang or cfg.lang
    root = Path("maps").resolve() / cfg.name
    city = city_run.load(cfg.base) if sweep_run.is_city(cfg.base) else None
    probe(root / "report", kind="sweep", label=cfg.name)
    paths = city_run.county_paths(city) if city is not None else [cfg.base]
    phasing = {p: city_overrides(city, p, {}) if city is not None else {} for p in paths}
    tasks = [county_task(p, root / v.name, lang=lang, cache=args.cache, variant=v.name,
                         overrides={**phasing[p], **v.set}) for v in cfg.variants for p in paths]
    log.info("sweep %s: %d variants × %d scenario(s) = %d tasks", cfg.name, len(cfg.variants),
             len(paths), len(tasks))
    with on_interrupt(f"the sweep report in maps/{cfg.name}/report is unchanged, each task's "
                      "folder holds its previous outputs or, when the task had finished, its "
                      "new ones"):
        results = run_tasks(tasks, args, cfg.cluster, scratch=root)
    cluster.say_failures(results, "sweep")
    if cluster.exit_code(results):
        return cluster.exit_code(results)
    with on_interrupt(f"the sweep report in maps/{cfg.name}/report is unchanged, the tasks' "
                      "folders hold their new outputs (a rerun reuses them)"):
        folders = [_variant_report(city, v.name, results, root, lang)
                   if city is not None else next(t.out for t in tasks if t.variant == v.name)
                   for v in cfg.variants]
        _report(cfg, folders, results, root / "report", lang=lang,
                tolerance_m=args.tolerance_m)
    log.info("sweep done in %.1f s: %d tasks; report in %s", time.perf_counter() - start,
             len(results), root / "report")
    return 0


def _variant_report(city, variant: str, results: list[TaskResult], root: Path,  # type: ignore[no-untyped-def]
                    lang: str) -> Path:
    """One variant's city report, ``<root>/<variant>/city/``."""
    from siting.outputs import city as city_outputs

    mine = [r for r in results if r.variant == variant]
    out = root / variant / "city"
    city_outputs.write(replace(city, lang=lang), [r.outcome for r in mine if r.outcome],
                       out, tasks=cluster.rows(mine))
    return out


def _report(cfg, folders: list[Path], results: list[TaskResult], out: Path, *,  # type: ignore[no-untyped-def]
            lang: str, tolerance_m: float) -> None:
    from siting.outputs import labels
    from siting.outputs import sweep as sweep_outputs
    from siting.run import compare as compare_run
    from siting.run import sweep as sweep_run

    runs = [compare_run.read(f, headers=labels.header_keys(), label=v.name)
            for f, v in zip(folders, cfg.variants, strict=True)]
    c = compare_run.compare(runs, tolerance_m=tolerance_m)
    points = [sweep_run.point(r.variant, r.outcome.name, r.outcome.summary)
              for r in results if r.outcome is not None]
    sweep_outputs.write(c, out, lang=lang, title=cfg.title or cfg.name, points=points,
                        tasks=cluster.rows(results))
