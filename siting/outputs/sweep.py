"""The sweep report: ``siting compare`` over the variants, the tasks, cost against coverage.

Written into ``maps/<sweep>/report/`` (report.json/.md/.html and the map of the differences
between the variants), atomically, from the typed comparison and the sweep's points.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from siting._atomic import staging
from siting.outputs import charts, compare
from siting.run.compare import Comparison
from siting.run.sweep import Point


def write(c: Comparison, out: Path, *, lang: str, title: str, points: list[Point],
          tasks: list[dict[str, Any]]) -> dict[str, Any]:
    """Write the sweep report into ``out``; return its data."""
    d = compare.as_dict(c)
    d.update(title=title, lang=lang, tasks=tasks,
             retries=sum(t["attempts"] - 1 for t in tasks),
             points=[asdict(p) for p in points])
    chart = charts.scatter([(p.variant, p.county, p.cost, p.coverage) for p in points])
    with staging(out, kind="sweep", label=title) as tmp:
        compare.write_into(c, d, tmp, page="sweep", chart=chart)
    return d
