"""The hand-out tables (``sites.csv``, ``plan.xlsx``): words in the run's language, safe cells.

:func:`site_table` words :func:`siting.outputs.tables.open_sites` for people; :func:`headed`
heads any table in the run's language; :func:`neutralised` keeps a text cell from running
as a formula in Excel, WPS or LibreOffice.
"""

from __future__ import annotations

import re

import pandas as pd

from siting.outputs import labels, naming, phasing, tables
from siting.run.results import RunResult


def site_table(result: RunResult) -> pd.DataFrame:
    """The open facilities, one row per site and tier, with words in the run's language."""
    lang = result.scenario.lang
    rows = tables.open_sites(result)
    rows["name"] = naming.site_names(rows, lang)      # unnamed and new sites named too
    rows.insert(2, "tier_name", [labels.t(t, lang) for t in rows["tier"]])
    rows.insert(4, "status_name", [labels.t(s, lang) for s in rows["status"]])
    for col in ("lon", "lat", "gcj02_lon", "gcj02_lat"):
        rows[col] = rows[col].round(7)
    for col in ("site_cost", "bank_cost", "colocation_saving", "cost", "served_population"):
        rows[col] = rows[col].round(2)
    for col in ("bank_size", "compartments", "served_compartments", "spare_compartments"):
        rows[col] = rows[col].round().astype("Int64")       # whole compartments, blank: none
    if not result.scenario.gcj02:
        rows = rows.drop(columns=["gcj02_lon", "gcj02_lat"])
    if result.phasing is not None:     # the build year of a new site ([phasing])
        year = rows["site_id"].map(phasing.site_years(result)).astype("Int64")
        rows["year"] = year.where(rows["status"] == "new")
    rows["generated"] = int(result.generated)
    return rows


def headed(rows: pd.DataFrame, lang: str) -> pd.DataFrame:
    """``rows`` with each column headed in ``lang`` (:func:`siting.outputs.labels.header`)."""
    return rows.rename(columns={c: labels.header(c, lang) for c in rows.columns})


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""What makes Excel, WPS or LibreOffice read a cell as a formula (CSV injection)."""


def neutralised(value: object) -> object:
    """A text cell that a spreadsheet would run as a formula, prefixed with an apostrophe.

    Numbers and other text pass unchanged: ``-3.5`` (an OSM id of ``-12``) stays as it is,
    ``=HYPERLINK(…)`` becomes ``'=HYPERLINK(…)``, shown as text.
    """
    if isinstance(value, str) and value.startswith(FORMULA_START) \
            and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


_PLAIN_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")
