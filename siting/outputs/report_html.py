"""``report.html``: the report as one self-contained page, charts drawn inline as SVG.

The same facts as ``report.json`` (:func:`siting.outputs.report.summary`): per target required,
achieved and met (from the independent checker), the unreached units with their codes,
cost per tier, the solver's status and proven gap, and two charts — each tier's coverage
against its number of new sites (from the trade-off solves) and the sites per township.
The page is rendered from ``templates/report.html.j2`` with autoescape, so every value from
an input file is HTML-escaped; nothing is loaded from the network.
"""

from __future__ import annotations

from pathlib import Path

from siting.outputs import charts, handout, kpi, render, report, workbook
from siting.run.results import RunResult


def write(result: RunResult, path: Path) -> None:
    """Write ``report.html``."""
    d = report.summary(result)
    towns = kpi.townships(result)
    rows = [(r.name, {t: int(getattr(r, f"{t}_sites")) for t in result.tiers})
            for r in towns.sort_values("code").itertuples()] if len(towns) else []
    has_towns = bool((result.demand["layer"] == "townships").any())
    table = handout.headed(workbook.township_table(result), d["lang"]) if has_towns else None
    page = render.render("report.html.j2", lang=d["lang"], d=d,
                         tradeoff=charts.tradeoff(d["tradeoffs"]),
                         towns=charts.bars(rows, list(result.tiers)), township_table=table)
    path.write_text(page, encoding="utf-8")
