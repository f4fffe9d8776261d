"""``plan.xlsx``: the plan as a workbook a planner hands on (openpyxl).

Four sheets, headed in the run's language, each with a frozen header row and columns as
wide as their text: 汇总 (targets as the checker found them, cost per tier, the total),
站点 (the sites of ``sites.csv``), 乡镇 (per township: new sites per tier, cost, units not
reached) and 未覆盖 (every demand unit not served, with the reason); with ``[phasing]``,
a fifth, 分年 (per year: money, sites built, every target by the year's end), and the
站点 sheet's build year. Its totals are the
report's: the 站点 and 乡镇 cost columns sum to the 汇总 total, ``report.json``'s
``cost.total``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from siting.outputs import advice, chain, handout, kpi, labels, phasing, report, tables
from siting.run.results import RunResult

MAX_WIDTH = 48
"""The widest a column gets, in characters (a CJK character counts two)."""


def write(result: RunResult, path: Path) -> None:
    """Write ``plan.xlsx`` for ``result``."""
    lang = result.scenario.lang
    d = report.summary(result)
    book = Workbook()
    first = book.active
    assert first is not None
    book.remove(first)
    sheets = {"sheet_summary": summary_rows(d, lang),
              "sheet_sites": handout.headed(handout.site_table(result), lang),
              "sheet_townships": handout.headed(township_table(result), lang),
              "sheet_unserved": handout.headed(unserved_table(result), lang)}
    if result.phasing is not None:
        sheets["sheet_phasing"] = handout.headed(phasing.year_table(result), lang)
    if result.chain is not None:
        sheets["sheet_chain"] = handout.headed(chain.table(result), lang)
    for key, frame in sheets.items():
        _sheet(book.create_sheet(labels.t(key, lang)), frame)
    book.save(path)


def summary_rows(d: dict[str, Any], lang: str) -> pd.DataFrame:
    """汇总: the targets, then one row per tier's sites and cost, then the total."""
    w = labels.Words(lang)
    cols = [w("col_target"), w("col_required"), w("col_achieved"), w("col_result")]
    rows = [[t["target"], t["required"], t["achieved"], _verdict(t["met"], lang)]
            for t in d["targets"]]
    rows.append([""] * 4)
    rows.append([w("col_tier"), w("new"), w("existing"), w("cost")])
    rows += [[s["label"], s["new"], s["existing"], s["cost"]] for s in d["sites"].values()]
    rows.append([w("colocation_saving"), "", "", -d["cost"]["colocation_saving"]])
    rows.append([w("total_cost"), "", "", d["cost"]["total"]])
    rows += [[c["text"], "", "", c["cost"]] for c in d.get("compartment_costs", [])]
    if d.get("chain"):
        rows.append([d["chain"]["text"], "", "", ""])
    return pd.DataFrame(rows, columns=cols)


def _verdict(met: bool | None, lang: str) -> str:
    return labels.t("info" if met is None else "met" if met else "not met", lang)


def township_table(result: RunResult) -> pd.DataFrame:
    """乡镇: per township, the new sites of each tier, their cost, the units not reached.

    Sites outside every township (or a run without townships) make one last row with a
    blank code, so that the cost column sums to the plan's cost.
    """
    sites = tables.open_sites(result)
    towns = pd.DataFrame(kpi.townships(result).drop(columns="geometry"))
    out = pd.DataFrame({"township_code": towns["code"].astype(str),
                        "township": towns["name"].astype(str)})
    if (sites["township_code"] == "").any() or len(out) == 0:
        out.loc[len(out)] = ["", ""]
    for name in result.tiers:
        new = sites[(sites["tier"] == name) & (sites["status"] == "new")]
        out[f"new_{name}"] = out["township_code"].map(new["township_code"].value_counts()) \
            .fillna(0).astype(int)
        if f"{name}_units" in towns:
            left = towns[f"{name}_units"] - towns[f"{name}_served"]
        else:                           # no townships: the units of the tier, in one row
            left = pd.Series([int((~result.outcomes[name].served
                                   & result.outcomes[name].applies).sum())])
        out[f"unserved_{name}"] = left.reindex(out.index).fillna(0).astype(int)
    cost = sites.groupby("township_code")["cost"].sum()
    out["cost"] = out["township_code"].map(cost).fillna(0.0).round(2)
    return out


def unserved_table(result: RunResult) -> pd.DataFrame:
    """未覆盖: every demand unit a tier does not serve, with the reason in words."""
    table = tables.allocation_table(result)
    if len(table) == 0:
        return pd.DataFrame(columns=["tier_name", "code", "name", "reason"])
    table = table[~table["served"].astype(bool)].copy()
    lang = result.scenario.lang
    table["reason"] = [reason(result, t, int(u), lang)
                       for t, u in zip(table["tier"], table["unit"], strict=True)]
    table["tier_name"] = [labels.t(t, lang) for t in table["tier"]]
    table["layer"] = [labels.t(k, lang) for k in table["layer"]]
    table["nearest_m"] = [result.outcomes[t].dist_m[u]
                          for t, u in zip(table["tier"], table["unit"], strict=True)]
    return table[["tier_name", "code", "name", "layer", "population", "nearest_m", "reason"]] \
        .reset_index(drop=True)


def reason(result: RunResult, tier: str, unit: int, lang: str) -> str:
    """Why ``unit`` is not served by ``tier``, in words (:func:`advice.reason_of`)."""
    key, values = advice.reason_of(result, tier, unit)
    return labels.Words(lang).fill(key, **values)


def _sheet(ws: Worksheet, frame: pd.DataFrame) -> None:
    """Write ``frame`` with its header row frozen and each column sized to its text."""
    ws.append([str(c) for c in frame.columns])
    for r, row in enumerate(frame.itertuples(index=False), start=2):
        values = [_cell(v) for v in row]
        ws.append(values)
        # text openpyxl would store as a formula is text (by row and column: ws.max_row
        # scans every cell, which made this loop quadratic)
        for c, v in enumerate(values, start=1):
            if isinstance(v, str) and v.startswith("="):
                cell = ws.cell(row=r, column=c)
                if cell.data_type == "f":
                    cell.data_type = "s"
    ws.freeze_panes = "A2"
    for i, col in enumerate(frame.columns, start=1):
        texts = [str(col)] + [str(v) for v in frame[col].head(500) if not _blank(v)]
        ws.column_dimensions[get_column_letter(i)].width = min(
            MAX_WIDTH, 2 + max(_width(t) for t in texts))


def _cell(value: object) -> object:
    """A value openpyxl writes: NumPy scalars as Python's, missing as blank.

    Text stays as it is: a cell that starts with "=" is stored as text, not as a formula
    (:func:`_sheet`), so the workbook needs no apostrophe as ``sites.csv`` does.
    """
    if _blank(value):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def _blank(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value))


def _width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)
