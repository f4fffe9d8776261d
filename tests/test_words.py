"""One voice for words: labels hold both languages, templates escape, nothing else branches."""

from __future__ import annotations

import ast
import re
import string
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from siting.outputs import labels, render, report_html
from siting.run.phrases import Phrase

SITING = Path(__file__).resolve().parents[1] / "siting"
TEMPLATES = SITING / "outputs" / "templates"


def _language_branches(path: Path, root: Path = SITING.parent) -> list[str]:
    """Comparisons with "zh"/"en", and dicts keyed by both, in one module."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Compare):
            consts = [c for side in [node.left, *node.comparators] for c in ast.walk(side)
                      if isinstance(c, ast.Constant)]
            if any(c.value in labels.LANGS for c in consts):
                found.append(f"{path.relative_to(root)}:{node.lineno}")
        if isinstance(node, ast.Dict):
            keys = {k.value for k in node.keys if isinstance(k, ast.Constant)}
            if set(labels.LANGS) <= keys:
                found.append(f"{path.relative_to(root)}:{node.lineno}")
    return sorted(set(found))


def test_no_language_branch_outside_labels() -> None:
    modules = [p for p in SITING.rglob("*.py") if p != SITING / "outputs" / "labels.py"]
    found = [hit for p in modules for hit in _language_branches(p)]
    assert found == [], "language branches outside siting/outputs/labels.py: " + ", ".join(found)


def test_the_branch_finder_sees_one(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text('zh = lang == "zh"\nword = {"zh": "图例", "en": "Legend"}[lang]\n'
                      'if lang in ("en",):\n    pass\n', encoding="utf-8")
    assert _language_branches(sample, tmp_path) == ["sample.py:1", "sample.py:2", "sample.py:3"]


def _fields(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f}


def test_every_label_has_both_languages_and_the_same_fields() -> None:
    assert labels.LANGS == ("zh", "en")
    for key, words in labels.TEXT.items():
        assert len(words) == len(labels.LANGS), key
        assert all(isinstance(w, str) and w for w in words), key
        assert _fields(words[0]) == _fields(words[1]), key


def test_every_key_the_templates_use_is_a_label() -> None:
    used = {m for p in TEMPLATES.glob("*.j2")
            for m in re.findall(r"""w(?:\.fill)?\(\s*["']([^"']+)["']""", p.read_text())}
    assert used, "no w('…') found in the templates"
    assert sorted(used - set(labels.TEXT)) == []
    # w.of("solver", status): every solver status has its word under that kind
    kinds = {m for p in TEMPLATES.glob("*.j2")
             for m in re.findall(r"""w\.of\(\s*["']([^"']+)["']""", p.read_text())}
    assert kinds >= {"solver", "status"}
    for kind in ("solver", "status"):
        for status in ("optimal", "feasible", "infeasible", "no_solution"):
            assert f"{kind}_{status}" in labels.TEXT, (kind, status)


@pytest.mark.parametrize(("p", "zh", "en"), [
    (Phrase("count", "community", n=1200), "社区综合服务网点不少于 1,200 个",
     "at least 1,200 community service points"),
    (Phrase("each", "community", classes=("community",)), "每个社区至少有 1 个社区综合服务网点",
     "every community holds at least one community service point"),
    (Phrase("cover", "locker", radius_m=300, classes=("residential", "commercial")),
     "所有居住、商业区步行300 米内有智能快件箱",
     "every residential, commercial area within 300 m walking of a smart locker bank"),
    (Phrase("cover", "township", reach="inside", demand="townships"),
     "每个乡镇（街道）内有乡镇网点",
     "every township holds a township outlet"),
    (Phrase("city_compartments", n=2_500_000), "智能收投终端超过 2,500,000 组（智能快件箱格口）",
     "more than 2,500,000 smart terminal units (locker compartments) citywide"),
])
def test_phrases_are_worded_in_both_languages(p: Phrase, zh: str, en: str) -> None:
    assert labels.phrase(p, "zh") == zh
    assert labels.phrase(p, "en") == en


class _Texts(HTMLParser):
    """The text inside each <text> and <title> of a page, entities decoded."""

    def __init__(self) -> None:
        super().__init__()
        self.tag, self.texts = "", []  # type: tuple[str, list[tuple[str, str]]]

    def handle_starttag(self, tag: str, attrs: object) -> None:
        self.tag = tag

    def handle_data(self, data: str) -> None:
        if self.tag in ("text", "title"):
            self.texts.append((self.tag, data))


def test_a_name_with_markup_survives_truncation_and_escaping(demo_run, tmp_path, monkeypatch):
    name = "A&B <b>Tōwn</b> & Co — long"            # & and < fall inside the first 14 chars
    tiers = list(demo_run.tiers)
    towns = pd.DataFrame([{"name": name, "code": "1", **{f"{t}_sites": 2 for t in tiers}}])
    monkeypatch.setattr(report_html.kpi, "townships", lambda result: towns)
    report_html.write(demo_run, tmp_path / "report.html")
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "<b>Tōwn" not in page and "&amp;B &lt;b&gt;" in page
    parser = _Texts()
    parser.feed(page)
    assert ("text", name[:14]) in parser.texts                  # cut, then escaped
    assert any(tag == "title" and text.startswith(f"{name} · ") for tag, text in parser.texts)
    assert render.clip(name, 14) == "A&B <b>Tōwn</b"


def test_words_object_fills_and_joins() -> None:
    w = labels.Words("en")
    assert w.fill("targets_met", met=3, total=4) == "targets met 3/4"
    assert w.join(["a", "b"]) == "a, b"
    assert labels.Words("zh").join(["a", "b"]) == "a、b"
    assert labels.says_generated("Zhongmu (generated data)")
    assert labels.says_generated("中牟县（生成数据）")
    assert not labels.says_generated("Haidian")
