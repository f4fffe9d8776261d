"""Write a run's files into its output folder, all or nothing.

Every file is written into a fresh temporary folder; only when all of them are complete do
they replace the old ones. A run that fails half-way leaves the previous outputs exactly as
they were; a folder siting did not make is never replaced (see :mod:`siting._atomic`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from siting._atomic import staging
from siting.outputs import gpkg, handout, mapsheet, report, report_html, webmap, workbook
from siting.outputs.handout import neutralised, site_table

__all__ = ["FILES", "neutralised", "site_table", "write_all", "write_csv", "write_gpkg",
           "write_table"]
from siting.run.results import RunResult

log = logging.getLogger(__name__)

FILES = ("map.html", "map.pdf", "sites.gpkg", "sites.csv", "plan.xlsx", "report.json", "report.md",
         "report.html")


def write_all(result: RunResult, out_dir: Path, *,
              extra: dict[str, Callable[[Path], object]] | None = None) -> list[Path]:
    """Write every output of ``result`` into ``out_dir`` atomically; return the file paths.

    ``extra`` names more files and their writers (a sweep task's record), written in the
    same step: all of them or none.
    """
    writers: dict[str, Callable[[RunResult, Path], None]] = {
        "sites.csv": write_csv, "sites.gpkg": write_gpkg, "report.json": report.write_json,
        "report.md": report.write_markdown, "report.html": report_html.write,
        "map.html": webmap.write, "plan.xlsx": workbook.write, "map.pdf": mapsheet.write}
    with staging(out_dir, kind="run", label=result.scenario.name) as tmp:
        for name, writer in writers.items():
            writer(result, tmp / name)
        for name, write_extra in (extra or {}).items():
            write_extra(tmp / name)
    files = [out_dir / n for n in FILES]
    log.info("outputs: %s", ", ".join(str(f) for f in files))
    return files


def write_csv(result: RunResult, path: Path) -> None:
    """``sites.csv``: UTF-8 with a byte-order mark, so Excel shows Chinese.

    Text cells are :func:`~siting.outputs.handout.neutralised` so that a spreadsheet never
    runs them as formulas.
    """
    write_table(handout.site_table(result), path, lang=result.scenario.lang)


def write_table(rows: pd.DataFrame, path: Path, *, lang: str) -> None:
    """A hand-out CSV: headed in ``lang``, text cells neutralised, UTF-8 with a BOM."""
    rows = rows.copy()
    for col in rows.columns:
        if pd.api.types.is_string_dtype(rows[col]) or rows[col].dtype == object:
            rows[col] = rows[col].map(handout.neutralised)
    handout.headed(rows, lang).to_csv(path, index=False, encoding="utf-8-sig", lineterminator="\n")


def write_gpkg(result: RunResult, path: Path) -> None:
    """``sites.gpkg``: a layer per kind, styled for QGIS (:mod:`siting.outputs.gpkg`)."""
    gpkg.write(result, path)
