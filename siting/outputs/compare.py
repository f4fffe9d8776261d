"""``siting compare``'s outputs: report.json/.md/.html and map.html, side by side.

:func:`write` words the typed :class:`~siting.run.compare.Comparison` (labels, the
``compare.*.j2`` templates) and writes every file atomically into one folder; the map of the
differences is :mod:`siting.outputs.compare_map`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from siting._atomic import staging
from siting.outputs import compare_map, labels, render
from siting.run.compare import Comparison, RunOutputs, SiteDiff

FILES = ("report.json", "report.md", "report.html", "map.html")


def as_dict(c: Comparison) -> dict[str, Any]:
    """The comparison's facts as JSON-ready data (no words but the runs' own)."""
    return {"tolerance_m": c.tolerance_m, "runs": [_run(r) for r in c.runs],
            "targets": _target_rows(c.runs), "tiers": _tier_rows(c.runs),
            "diffs": [_diff(d) for d in c.diffs]}


def _run(r: RunOutputs) -> dict[str, Any]:
    return {"label": r.label, "folder": str(r.folder), "kind": r.kind, "title": r.title,
            "generated": r.generated, "cost_total": r.cost_total,
            "targets_met": sum(t.met is True for t in r.targets),
            "targets": sum(t.met is not None for t in r.targets)}


def _target_rows(runs: tuple[RunOutputs, ...]) -> list[dict[str, Any]]:
    """One row per target key (first seen order): each run's required, achieved, met."""
    keys: dict[str, str] = {}
    for r in runs:
        for t in r.targets:
            keys.setdefault(t.key, t.text)
    rows = []
    for key, text in keys.items():
        cells = []
        for r in runs:
            got = next((t for t in r.targets if t.key == key), None)
            cells.append(None if got is None else
                         {"text": got.text, "required": got.required,
                          "achieved": got.achieved, "met": got.met})
        rows.append({"key": key, "target": text, "runs": cells})
    return rows


def _tier_rows(runs: tuple[RunOutputs, ...]) -> list[dict[str, Any]]:
    tiers = list(dict.fromkeys(t for r in runs for t in r.tiers))
    return [{"tier": tier, "runs": [None if tier not in r.tiers else
                                    {"new": r.tiers[tier].new, "existing": r.tiers[tier].existing,
                                     "cost": r.tiers[tier].cost} for r in runs]}
            for tier in tiers]


def _diff(d: SiteDiff) -> dict[str, Any]:
    return {"base": d.base, "other": d.other,
            "counts": {"added": len(d.added), "removed": len(d.removed), "kept": len(d.kept)},
            "added": _records(d.added), "removed": _records(d.removed),
            "kept_moved": _records(d.kept[d.kept["moved_m"] > 0])}


def _records(rows: pd.DataFrame) -> list[dict[str, Any]]:
    cols = [c for c in ("county", "tier", "status", "site_id", "other_site_id", "name",
                        "township", "village", "lon", "lat", "cost", "moved_m") if c in rows]
    return [{k: (v.item() if hasattr(v, "item") else v) for k, v in rec.items()}
            for rec in rows[cols].to_dict(orient="records")]


def write(c: Comparison, out: Path, *, lang: str, title: str | None = None) -> dict[str, Any]:
    """Write the comparison into ``out`` atomically; return its data."""
    d = as_dict(c)
    d["title"] = title or labels.t("compare_title", lang) + ": " + " · ".join(
        r.label for r in c.runs)
    d["lang"] = lang
    with staging(out, kind="compare", label=d["title"]) as tmp:
        write_into(c, d, tmp)
    return d


def write_into(c: Comparison, d: dict[str, Any], folder: Path, *, page: str = "compare",
               **context: Any) -> None:
    """The comparison's files in ``folder`` (already staged), pages from ``page``.*.j2."""
    (folder / "report.json").write_text(json.dumps(d, ensure_ascii=False, indent=2),
                                        encoding="utf-8")
    for ext in ("md", "html"):
        (folder / f"report.{ext}").write_text(
            render.render(f"{page}.{ext}.j2", lang=d["lang"], d=d, **context), encoding="utf-8")
    compare_map.write(c, folder / "map.html", lang=d["lang"], title=d["title"])
