"""``map.pdf``: the plan on one A3 landscape sheet, drawn without a browser (matplotlib).

For attaching to a document: the roads, the township boundaries with their names and the
county outline, the units not served in red, every open site by tier (new in the tier's
colour, existing grey ringed in it), a legend with the counts, the title with the targets
met and the unmet ones and why, a north arrow, a scale bar and the data's credit ("generated"
where the inputs are). Drawn in the run's metric CRS, so the scale bar is true; the same run
writes the same bytes (no creation date).
"""

from __future__ import annotations

import contextlib
import logging
import math
import re
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
from matplotlib import font_manager, rc_context
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from siting.outputs import labels, report, shortfall, style, tables
from siting.run.results import RunResult

log = logging.getLogger(__name__)

A3_LANDSCAPE = (420 / 25.4, 297 / 25.4)
"""The sheet, in inches."""
CJK_FONTS = ("Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Zen Hei", "SimHei",
             "Microsoft YaHei", "PingFang SC", "Arial Unicode MS")
"""Fonts with Chinese glyphs, the first found is used (Debian: fonts-wqy-zenhei)."""
CJK_FILES = re.compile(r"wqy|notosanscjk|notoserifcjk|sourcehansans|simhei|msyh|pingfang|"
                       r"arialuni", re.IGNORECASE)
"""The file names of those fonts (a font installed since matplotlib's cache was made)."""


def write(result: RunResult, path: Path) -> None:
    """Write ``map.pdf`` for ``result``."""
    fig = Figure(figsize=A3_LANDSCAPE)
    family, weight = _font()
    with rc_context({"font.family": family, "font.weight": weight, "pdf.fonttype": 42,
                     "axes.unicode_minus": False}):
        ax = fig.add_axes((0.02, 0.07, 0.74, 0.80))
        _draw(ax, result)
        _legend(fig, ax, result)
        _title(fig, result)
        _north_arrow(ax, result.scenario.lang)
        _scale_bar(ax, result.scenario.lang)
        fig.text(0.02, 0.02, report.attribution(result), fontsize=9, color=style.NEUTRAL)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Glyph .* missing from font")
            fig.savefig(path, format="pdf", metadata={
                "CreationDate": None, "Creator": "siting", "Title": _heading(result)})


def _font() -> tuple[list[str], str | int]:
    """A CJK font first (when the machine has one), then matplotlib's default; its weight.

    Text is drawn in the font's own weight (WenQuanYi Zen Hei has one), so matplotlib never
    substitutes one and says so; headings stand out by size.
    """
    found = _cjk()
    if found is None:
        # installed after matplotlib cached its font list (its cache is not refreshed when
        # the machine's fonts change): add the machine's CJK font files, and look again
        for path in font_manager.findSystemFonts():
            if CJK_FILES.search(Path(path).name):
                with contextlib.suppress(OSError, RuntimeError, ValueError):
                    font_manager.fontManager.addfont(path)
        found = _cjk()
    if found is None:
        log.warning("map.pdf: no font with Chinese glyphs found (%s); install "
                    "fonts-wqy-zenhei or fonts-noto-cjk", ", ".join(CJK_FONTS))
        return ["DejaVu Sans"], "normal"
    return [found.name], found.weight


def _cjk() -> font_manager.FontEntry | None:
    fonts = font_manager.fontManager.ttflist
    return next((f for name in CJK_FONTS for f in fonts if f.name == name), None)


def _metric(result: RunResult, frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return frame.to_crs(result.network.crs)


def _draw(ax: Axes, result: RunResult) -> None:
    """Roads, boundaries, unserved units and sites, in the run's metric CRS."""
    net = result.network
    keep = np.flatnonzero(net.walk | net.drive)
    major = np.isin(net.highway[keep], style.MAJOR_ROADS)
    for sel, colour, width in ((keep[~major], style.ROAD_MINOR, 0.3),
                               (keep[major], style.ROAD_MAJOR, 0.8)):
        segs = np.stack([np.column_stack([net.x[net.u[sel]], net.y[net.u[sel]]]),
                         np.column_stack([net.x[net.v[sel]], net.y[net.v[sel]]])], axis=1)
        ax.add_collection(LineCollection(list(segs), colors=colour, linewidths=width, zorder=1))
    dem = result.demand
    unserved = np.zeros(len(dem), bool)
    for o in result.outcomes.values():
        unserved |= o.applies & ~o.served
    if unserved.any():
        _metric(result, dem[unserved]).plot(ax=ax, color=style.UNCOVERED, alpha=0.6,
                                            linewidth=0, zorder=2)
    villages = dem[dem["layer"] == "villages"]
    if len(villages):
        _metric(result, villages).boundary.plot(ax=ax, color=style.GREY, linewidth=0.3,
                                                zorder=2)
    towns = dem[dem["layer"] == "townships"]
    if len(towns):
        metric = _metric(result, towns)
        metric.boundary.plot(ax=ax, color=style.OUTLINE, linewidth=1.0, zorder=3)
        gpd.GeoSeries([metric.union_all()], crs=metric.crs).boundary.plot(
            ax=ax, color=style.BOUNDARY, linewidth=2.2, zorder=3)
        for name, pt in zip(metric["name"], metric.representative_point(), strict=True):
            ax.text(pt.x, pt.y, labels.short_name(str(name)), ha="center", va="center",
                    fontsize=11, color=style.BOUNDARY, zorder=6,
                    bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none",
                          "alpha": 0.6})
    _sites(ax, result)
    ax.set_aspect("equal")
    ax.autoscale_view()
    ax.set_axis_off()


def _sites(ax: Axes, result: RunResult) -> None:
    rows = tables.open_sites(result)
    for i, (tier, colour) in enumerate((t, style.tier_color(t)) for t in result.tiers):
        sel = rows[rows["tier"] == tier]
        if len(sel) == 0:
            continue
        x, y = _project(result, sel["lon"].to_numpy(float), sel["lat"].to_numpy(float))
        new = (sel["status"] == "new").to_numpy()
        glyph, size = style.TIER_GLYPH.get(tier, "o"), 34 - 5 * i
        ax.scatter(x[~new], y[~new], s=size * 0.6, marker=glyph, c=style.EXISTING_SWATCH,
                   edgecolors=colour, linewidths=0.8, zorder=4 + i / 10)
        ax.scatter(x[new], y[new], s=size, marker=glyph, c=colour, edgecolors="white",
                   linewidths=0.5, zorder=5 + i / 10)


def _project(result: RunResult, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, ...]:
    pts = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs="EPSG:4326").to_crs(
        result.network.crs)
    return pts.x.to_numpy(), pts.y.to_numpy()


def _legend(fig: Figure, ax: Axes, result: RunResult) -> None:
    w = labels.Words(result.scenario.lang)
    rows = tables.open_sites(result)
    handles: list[object] = []
    for tier in result.tiers:
        sel = rows[rows["tier"] == tier]
        new = int((sel["status"] == "new").sum())
        handles.append(Line2D([], [], linestyle="none", marker=style.TIER_GLYPH.get(tier, "o"),
                              markersize=8, markerfacecolor=style.tier_color(tier),
                              markeredgecolor="white", label=w.fill(
                                  "map_pdf_sites", tier=w(tier), new=new,
                                  existing=len(sel) - new)))
    handles.append(Line2D([], [], linestyle="none", marker="o", markersize=8,
                          markerfacecolor=style.EXISTING_SWATCH, markeredgecolor=style.NEUTRAL,
                          label=w("existing") + w("grey_markers")))
    handles.append(Patch(facecolor=style.UNCOVERED, alpha=0.6, label=w("map_pdf_unserved")))
    handles.append(Line2D([], [], color=style.BOUNDARY, linewidth=2.2,
                          label=w("county_boundary")))
    handles.append(Line2D([], [], color=style.OUTLINE, linewidth=1.0, label=w("townships")))
    handles.append(Line2D([], [], color=style.ROAD_MAJOR, linewidth=0.8, label=w("roads")))
    fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.78, 0.86),
               title=w("legend"), fontsize=10, title_fontsize=12, frameon=True,
               alignment="left")


def _heading(result: RunResult) -> str:
    from siting.outputs import webmap

    return webmap.title_of(result)


def _title(fig: Figure, result: RunResult) -> None:
    w = labels.Words(result.scenario.lang)
    met = [r.met for r in result.results]
    fig.text(0.02, 0.965, _heading(result), fontsize=20, va="top")
    lines = [w.fill("targets_met", met=sum(m is True for m in met),
                    total=sum(m is not None for m in met))]
    lines += [w.fill("unmet_line", target=u.target, why=u.why)
              for u in shortfall.unmet(result)]
    for i, line in enumerate(lines):
        fig.text(0.02, 0.925 - 0.022 * i, line, fontsize=11, va="top",
                 color=style.UNCOVERED if i else style.NEUTRAL)


def _north_arrow(ax: Axes, lang: str) -> None:
    """An arrow pointing up (the metric CRS has north up), top right of the map."""
    ax.annotate("", xy=(0.97, 0.98), xytext=(0.97, 0.90), xycoords="axes fraction",
                arrowprops={"arrowstyle": "simple,head_width=0.8,tail_width=0.3",
                            "color": style.BOUNDARY})
    ax.text(0.97, 0.885, labels.t("north", lang), transform=ax.transAxes, ha="center",
            va="top", fontsize=12)


def _scale_bar(ax: Axes, lang: str) -> None:
    """A bar of a round length, about a fifth of the map's width, bottom left."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    length = _round_length((x1 - x0) / 5)
    bx, by = x0 + 0.03 * (x1 - x0), y0 + 0.04 * (y1 - y0)
    ax.plot([bx, bx + length], [by, by], color=style.BOUNDARY, linewidth=4,
            solid_capstyle="butt", zorder=7)
    w = labels.Words(lang)
    text = w.fill("scale_km", n=length / 1000) if length >= 1000 else w.fill("scale_m", n=length)
    ax.text(bx + length / 2, by + 0.012 * (y1 - y0), text, ha="center", va="bottom",
            fontsize=10, zorder=7)


def _round_length(metres: float) -> float:
    """1, 2 or 5 × a power of ten, at most ``metres``."""
    power = 10 ** math.floor(math.log10(max(metres, 1.0)))
    return max(f * power for f in (1, 2, 5) if f * power <= max(metres, 1.0))
