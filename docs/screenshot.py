"""Screenshot a map for the README: ``docs/demo-map.png`` from ``make demo``'s map.

Usage (after ``make demo``)::

    .venv/bin/python docs/screenshot.py [maps/demo/map.html] [docs/demo-map.png]

Headless Chromium (Debian's ``chromium``; ``make test`` installs it) opens the page with the
network shut, as the browser tests do (``tests/cdp.py``), at 1400 × 900, waits for the map to
draw and saves the viewport as PNG. It prints the page's size and load time.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests import cdp  # noqa: E402 (the repository's root is put on the path first)

SETTLED = """new Promise(done => requestAnimationFrame(() => requestAnimationFrame(
    () => done(performance.getEntriesByType('navigation')[0].loadEventEnd))))"""


def main(argv: list[str]) -> int:
    """Save the screenshot; 1 when there is no map or no browser."""
    page_path = Path(argv[0]) if argv else ROOT / "maps" / "demo" / "map.html"
    png = Path(argv[1]) if len(argv) > 1 else ROOT / "docs" / "demo-map.png"
    if not page_path.is_file():
        print(f"{page_path} does not exist: run `make demo` first", file=sys.stderr)
        return 1
    binary = cdp.find()
    if binary is None:
        print("no Chromium: apt-get install chromium fonts-wqy-zenhei", file=sys.stderr)
        return 1
    with cdp.Browser(binary, width=1400, height=900) as browser:
        page = browser.page()
        page.open(page_path)
        load_ms = page.js(SETTLED)
        time.sleep(0.5)                          # marker clusters finish their animation
        page.screenshot(png)
        errors = page.errors()
    size = page_path.stat().st_size / 1e6
    print(f"{page_path}: {size:.1f} MB, window load {load_ms / 1000:.2f} s; wrote {png}")
    for line in errors:
        print("console:", line, file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
