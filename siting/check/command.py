"""``siting check SCENARIO OUTDIR``: recompute every target of a written plan and say which fail.

Exit codes: 0 every target the run claims met is met; :data:`EXIT_UNMET` (5) at least one
target that ``report.json`` claims met (or, without a report, any target) is not met.
Upper count bounds and the budget count as claimed always: the model enforces them.
"""

from __future__ import annotations

import argparse
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from siting.check import inputs as check_inputs
from siting.check import plan as check_plan
from siting.check.verify import Finding, verify
from siting.config.scenario import Scenario

log = logging.getLogger(__name__)

EXIT_UNMET = 5
"""Exit code of ``siting check`` when a claimed target is not met."""

ALWAYS_CLAIMED = ("_max_count", "_sizes", "budget")
SHOWN_FAILING = 10


@dataclass(frozen=True)
class Outcome:
    """What the check found, and whether it contradicts the run's claims."""

    findings: list[Finding]
    broken: list[Finding]          # claimed met (or enforced), found not met
    plan: Path

    @property
    def exit_code(self) -> int:
        """0 when no claim is broken, else :data:`EXIT_UNMET`."""
        return EXIT_UNMET if self.broken else 0


def check(scenario: Scenario, outdir: Path, *,
          headers: Mapping[str, str] | None = None) -> Outcome:
    """Read the scenario's inputs and the plan in ``outdir``; recompute every target.

    ``headers``: the plan's column headers in any language, to their keys (the CLI passes
    :func:`siting.outputs.labels.header_keys`).
    """
    plan = check_plan.read(Path(outdir), headers=headers)
    inp = check_inputs.read(scenario)
    findings = verify(scenario, inp, plan)
    broken = [f for f in findings if f.met is False and _claimed(f.key, plan.claims)]
    log.info("check: %s; %d claimed met but not", tally(findings), len(broken))
    return Outcome(findings, broken, plan.path)


def tally(findings: list[Finding]) -> str:
    """What the check found, as '5 of 6 targets met, 1 of 1 rules kept'.

    The plan's targets are counted as the run counts them (its report's targets), apart from
    the rules the model enforces on every plan (bank sizes, count caps, the budget), which the
    check verifies as well.
    """
    judged = [f for f in findings if f.met is not None]
    rules = [f for f in judged if f.key.endswith(ALWAYS_CLAIMED)]
    targets = [f for f in judged if not f.key.endswith(ALWAYS_CLAIMED)]
    text = f"{sum(f.met is True for f in targets)} of {len(targets)} targets met"
    if rules:
        text += f", {sum(f.met is True for f in rules)} of {len(rules)} rules kept"
    return text


def _claimed(key: str, claims: dict[str, bool | None]) -> bool:
    if not claims or key.endswith(ALWAYS_CLAIMED):
        return True
    return claims.get(key) is True


def table(outcome: Outcome) -> str:
    """The target-by-target table, then the units not met of every failing target."""
    head = ("target", "required", "achieved", "met")
    rows = [(f.key, _num(f.required), _num(f.achieved),
             "-" if f.met is None else ("yes" if f.met else "NO")) for f in outcome.findings]
    width = [max(len(r[i]) for r in [head, *rows]) for i in range(4)]
    lines = [f"siting check {outcome.plan}"]
    lines += ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in
                        enumerate(zip(r, width, strict=True))) for r in [head, *rows]]
    for f in outcome.findings:
        if f.failing:
            more = len(f.failing) - SHOWN_FAILING
            lines.append(f"{f.key} not met ({f.text}): " + "; ".join(f.failing[:SHOWN_FAILING])
                         + (f"; … and {more} more" if more > 0 else ""))
    verdict = (f"{len(outcome.broken)} target(s) the run claims met are NOT met: "
               + ", ".join(f.key for f in outcome.broken)) if outcome.broken else \
        "every target the run claims met is met"
    return "\n".join([*lines, verdict])


def _num(v: float) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.1f}"


DESCRIPTION = ("Recompute every target of a written plan on the checker's own code path "
               "(its own road graph, snapping, shortest paths, max flow and point-in-polygon, "
               "from the scenario's input files) and print a target-by-target table. OUTDIR "
               "is a `siting run` output folder or an edited sites.csv / sites.gpkg. Exit 0 "
               f"when every target the run claims met is met, {EXIT_UNMET} otherwise.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of ``siting check``."""
    parser.add_argument("scenario", type=Path, help="scenario file (TOML) of the run")
    parser.add_argument("outdir", type=Path,
                        help="the run's output folder (sites.csv or sites.gpkg in it), or a "
                             "sites file")


def main(args: argparse.Namespace, *, headers: Mapping[str, str] | None = None) -> int:
    """``siting check SCENARIO OUTDIR``: print the table, return the exit code."""
    from siting.config import scenario

    outcome = check(scenario.load(args.scenario), args.outdir, headers=headers)
    print(table(outcome))
    return outcome.exit_code


def after_run(scenario: Scenario, outdir: Path, *,
              headers: Mapping[str, str] | None = None) -> int:
    """What ``siting run`` does after writing: check the files, log the verdict."""
    outcome = check(scenario, outdir, headers=headers)
    if outcome.broken:
        log.error("siting check found targets claimed met but not met:\n%s", table(outcome))
    else:
        log.info("siting check: every target the run claims met is met (recomputed from "
                 "the written %s)", outcome.plan.name)
    return outcome.exit_code
