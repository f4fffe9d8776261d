"""plan.xlsx read back with openpyxl: sheets, headers, frozen rows, totals equal the report's."""

from __future__ import annotations

import json
import shutil
import subprocess

import numpy as np
import pytest

openpyxl = pytest.importorskip("openpyxl")

import pandas as pd  # noqa: E402

from siting.outputs import labels, tables, workbook  # noqa: E402

from .conftest import HEADERS  # noqa: E402


@pytest.fixture(scope="module")
def book(small_outputs):
    return openpyxl.load_workbook(small_outputs / "plan.xlsx")


def _rows(ws) -> list[dict[str, object]]:
    values = list(ws.iter_rows(values_only=True))
    keys = [HEADERS.get(h, h) for h in values[0]]
    return [dict(zip(keys, r, strict=True)) for r in values[1:]]


def test_four_sheets_headed_in_chinese_with_frozen_headers(book):
    assert book.sheetnames == ["汇总", "站点", "乡镇", "未覆盖"]
    for ws in book:
        assert ws.freeze_panes == "A2", ws.title
    assert book["站点"]["A1"].value == labels.header("site_id", "zh")
    widths = [book["站点"].column_dimensions[c].width for c in "ABCDEFGHIJ"]
    assert min(widths) >= 6 and max(widths) <= 48


def test_totals_equal_the_report(book, small_outputs):
    report = json.loads((small_outputs / "report.json").read_text(encoding="utf-8"))
    total = report["cost"]["total"]
    summary = list(book["汇总"].iter_rows(values_only=True))
    assert summary[-1][0] == labels.t("total_cost", "zh")
    assert summary[-1][3] == pytest.approx(total, abs=0.5)
    tier_rows = {r[0]: r[3] for r in summary if r[0] in
                 {s["label"] for s in report["sites"].values()}}
    assert sum(tier_rows.values()) - report["cost"]["colocation_saving"] == \
        pytest.approx(total, abs=0.5)
    assert sum(r["cost"] for r in _rows(book["站点"])) == pytest.approx(total, abs=0.5)
    assert sum(r["cost"] for r in _rows(book["乡镇"])) == pytest.approx(total, abs=0.5)


def test_townships_count_the_new_sites_and_unserved_units(book, small_run):
    towns = _rows(book["乡镇"])
    sites = tables.open_sites(small_run)
    for name in small_run.tiers:
        new = int(((sites["tier"] == name) & (sites["status"] == "new")).sum())
        col = labels.header(f"new_{name}", "zh")
        assert sum(int(r[col] or 0) for r in towns) == new, name
    head = list(next(book["乡镇"].iter_rows(values_only=True)))
    assert labels.header("new_locker", "zh") in head


def test_unserved_lists_each_unit_with_its_reason(book, small_run):
    rows = _rows(book["未覆盖"])
    unserved = sum(int((o.applies & ~o.served).sum()) for o in small_run.outcomes.values())
    assert len(rows) == unserved
    assert all(r["reason"] for r in rows)


def test_text_that_looks_like_a_formula_stays_text(tmp_path):
    book = openpyxl.Workbook()
    workbook._sheet(book.active, pd.DataFrame({"name": ["=HYPERLINK(\"x\")", "+1 shop"],
                                               "n": [np.int64(3), np.nan]}))
    book.save(tmp_path / "t.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "t.xlsx").active
    assert ws["A2"].value == '=HYPERLINK("x")' and ws["A2"].data_type == "s"
    assert ws["A3"].value == "+1 shop"
    assert ws["B2"].value == 3 and ws["B3"].value is None


@pytest.mark.skipif(shutil.which("libreoffice") is None or shutil.which("pdftotext") is None,
                    reason="LibreOffice (libreoffice-calc-nogui) or pdftotext not installed: "
                           "`make browser` installs them")
def test_libreoffice_converts_the_workbook_with_chinese_intact(small_outputs, tmp_path):
    shutil.copy(small_outputs / "plan.xlsx", tmp_path / "plan.xlsx")
    subprocess.run(["libreoffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/lo",
                    "--convert-to", "pdf", "--outdir", str(tmp_path), str(tmp_path / "plan.xlsx")],
                   check=True, capture_output=True, timeout=180)
    text = subprocess.run(["pdftotext", str(tmp_path / "plan.pdf"), "-"], check=True,
                          capture_output=True, text=True, timeout=60).stdout
    for word in ("总费用", labels.t("locker", "zh"), labels.header("site_id", "zh")):
        assert word in text, word
    assert np.char.count(text, "\ufffd") == 0


def test_a_unit_far_from_the_roads_says_so(small_run):
    far = small_run.unsnapped.get("drive", [])
    assert far, "the generated 上街区 has a village (马固村) beyond 250 m of any drive road"
    rows = workbook.unserved_table(small_run)
    labelled = {f"{c} {n}".strip(): r for c, n, r in zip(rows["code"], rows["name"],
                                                           rows["reason"], strict=True)}
    m = small_run.scenario.network.max_snap_m
    for unit in far:
        assert labelled[unit] == labels.Words("zh").fill("reason_no_road", m=m)
