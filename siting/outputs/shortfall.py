"""Which targets are not met, and why, in words: for the map's title and its printed sheet.

A target the checker found unmet is named by its sentence; its failing units (the first
:data:`SHOWN`) follow with the reason each is not served, the same reason the workbook's
未覆盖 sheet gives (:func:`siting.outputs.workbook.reason`): "马固村：250 米内无道路，无法接入路网".
A target without failing units (a count, a capacity) states required against achieved.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from siting.outputs import labels, report, workbook
from siting.run import inputs
from siting.run.results import RunResult

SHOWN = 3
"""Failing units named per target; the rest are counted."""


@dataclass(frozen=True)
class Unmet:
    """One unmet target: its sentence and why, in the run's language."""

    target: str
    why: str


def unmet(result: RunResult) -> list[Unmet]:
    """The targets the checker found unmet, in the report's order."""
    lang = result.scenario.lang
    w = labels.Words(lang)
    out = []
    for r in result.results:
        if r.met is not False:
            continue
        sentence = report.worded(r.as_dict(), result, lang)["target"]
        rows = _rows_of(result, r.tier, list(r.failing))
        if rows:
            parts = [w.fill("unit_reason", unit=_unit_name(result, u),
                            reason=workbook.reason(result, r.tier, u, lang))
                     for u in rows[:SHOWN]]
            why = w.join(parts)
            if len(r.failing) > SHOWN:
                why += w.fill("unmet_more", n=len(r.failing))
        else:
            why = w.fill("unmet_numbers", required=_num(r.required), achieved=_num(r.achieved))
        out.append(Unmet(sentence, why))
    return out


def _rows_of(result: RunResult, tier: str, failing: list[str]) -> list[int]:
    """The demand rows of ``failing`` unit labels (those of the tier that can be found)."""
    tr = result.tiers.get(tier)
    if tr is None or not failing:
        return []
    rows = np.unique(np.concatenate([tr.rows, tr.each_rows]))
    by_label = {inputs.unit_label(result.demand, int(i)): int(i) for i in rows}
    return [by_label[f] for f in failing if f in by_label]


def _unit_name(result: RunResult, row: int) -> str:
    name = str(result.demand["name"].iat[row] or "")
    return labels.short_name(name) if name else str(result.demand["code"].iat[row])


def _num(value: object) -> str:
    if isinstance(value, (int, float, np.integer, np.floating)):
        return f"{float(value):,.0f}" if float(value).is_integer() else f"{float(value):,.2f}"
    return str(value)
