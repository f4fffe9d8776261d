"""The report speaks the run's language only: no English word in the Chinese report.

The text a reader sees in ``report.html`` (what the browser renders: no markup, no style,
no code element) and ``report.md`` is scanned for Latin words. Allowed are what is not
English: identifiers a planner types or reads as they are (scenario keys such as
``[network] max_snap_m``, file names and paths, site ids, versions), units, and names
(HiGHS, OpenStreetMap, the licences).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

ALLOWED = {"HiGHS", "CBC", "OSM", "OpenStreetMap", "Azavea", "WTFPL", "MIT", "ODbL", "siting",
           "m", "km"}
"""Names and units: the same words in a Chinese text."""

IDENTIFIER = re.compile(r"\[[\w.]+\]|[\w\u00c0-\uffff]*[A-Za-z0-9](?:[._/-][\w]+)+/?"
                        r"|(?<![A-Za-z])[A-Za-z]+\d\w*")
"""Scenario sections, keys with '_', file names, paths, versions, ids: 'max_snap_m',
'roads.osm', 'S00014', road refs such as 'X001'."""

LATIN_WORD = re.compile(r"[A-Za-z]+")


class _Text(HTMLParser):
    """The text of a page as a reader sees it: not in <style>, <script> or <code>."""

    SKIP = frozenset({"style", "script", "code"})

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self.depth += 1

    def handle_endtag(self, tag):
        if tag in self.SKIP:
            self.depth -= 1

    def handle_data(self, data):
        if not self.depth:
            self.parts.append(data)


def rendered_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(parser.parts)


def english_words(text: str) -> list[str]:
    """The Latin words of ``text`` that are not identifiers, names or units."""
    bare = IDENTIFIER.sub(" ", re.sub(r"`[^`]*`", " ", text))
    return sorted({w for w in LATIN_WORD.findall(bare) if w not in ALLOWED})


def test_the_scan_finds_english_and_passes_identifiers():
    assert english_words("状态 optimal，间隙 0.5%") == ["optimal"]
    assert english_words("调大 [network] max_snap_m，见 roads.osm 与 data/zhengzhou/") == []
    assert english_words("HiGHS 1.15.1（分为 15 个子问题求解）· S00014 · 县道X001 · 300 m") == []
    assert english_words(rendered_text("<p>a<code>deadbeef</code></p>")) == ["a"]


@pytest.fixture(scope="module")
def small_zh(small_outputs):
    import json

    assert json.loads((small_outputs / "report.json").read_text(encoding="utf-8"))["lang"] \
        == "zh"
    return small_outputs


def test_the_chinese_report_html_has_no_english(small_zh):
    text = rendered_text((small_zh / "report.html").read_text(encoding="utf-8"))
    assert "马固村" in text and "下一步" in text
    assert english_words(text) == []


def test_the_chinese_report_md_has_no_english(small_zh):
    text = (small_zh / "report.md").read_text(encoding="utf-8")
    assert english_words(text) == []
