"""The geometry of the reports' inline SVG charts; the templates draw it (``_charts.html.j2``).

Coordinates are computed here, words and markup stay in the templates.
"""

from __future__ import annotations

from dataclasses import dataclass

from siting.outputs import style


@dataclass(frozen=True)
class Point:
    """One trade-off solve: its place on the chart and what it says."""

    x: float
    y: float
    new_sites: int
    share: float


@dataclass(frozen=True)
class Curve:
    """One tier's coverage against its share of the plan's new sites (0–``top`` sites)."""

    tier: str
    color: str
    points: tuple[Point, ...]
    top: int
    legend_y: int


@dataclass(frozen=True)
class Tick:
    """A tick on an axis: where, and its value (a fraction, written as a percentage)."""

    at: float
    value: float


@dataclass(frozen=True)
class Tradeoff:
    """The trade-off chart: one curve per tier in the plot box, the legend right of it.

    The plot box is ``left``–``right`` × ``top``–``bottom``; the legend stands at
    ``legend_x``, outside the box, so it never covers a curve; the axis labels stand inside
    the drawing (``width`` × ``height``).
    """

    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    legend_x: int
    x_ticks: tuple[Tick, ...]
    y_ticks: tuple[Tick, ...]
    curves: tuple[Curve, ...]


TICKS = (0.0, 0.25, 0.5, 0.75, 1.0)
"""Both axes: 0 %, 25 %, 50 %, 75 %, 100 %."""


def tradeoff(curves: dict[str, list[dict[str, float]]]) -> Tradeoff:
    """Each tier's share of demand reached against its share of the plan's new sites.

    The tiers' numbers of new sites differ by orders (6 township outlets, 351 community
    points), so the x axis is each tier's share of the new sites the plan chose; the legend
    gives each tier's 100 %.
    """
    w, h = 760, 300
    left, right, top, bottom = 64, 460, 20, h - 64
    out = []
    for k, (tier, pts) in enumerate(curves.items()):
        if not pts:
            continue
        most = max(p["new_sites"] for p in pts) or 1
        out.append(Curve(tier, style.tier_color(tier), tuple(
            Point(left + (right - left) * p["new_sites"] / most,
                  bottom - (bottom - top) * p["reached_share"], int(p["new_sites"]),
                  p["reached_share"]) for p in pts), int(most), top + 12 + 20 * k))
    return Tradeoff(w, h, left, right, top, bottom, right + 20,
                    tuple(Tick(left + (right - left) * f, f) for f in TICKS),
                    tuple(Tick(bottom - (bottom - top) * f, f) for f in TICKS), tuple(out))


@dataclass(frozen=True)
class Segment:
    """One tier's part of a bar."""

    tier: str
    x: float
    width: float
    n: int
    color: str


@dataclass(frozen=True)
class Bar:
    """One row (a township or a county): its open sites stacked by tier."""

    name: str
    y: int
    segments: tuple[Segment, ...]
    end: float
    total: int


@dataclass(frozen=True)
class Bars:
    """The stacked bar chart."""

    width: int
    height: int
    bar: int
    rows: tuple[Bar, ...]


def bars(rows: list[tuple[str, dict[str, int]]], tiers: list[str]) -> Bars:
    """Stacked bars: open sites of each tier per row (township or county)."""
    bar, gap, pad = 18, 4, 170
    top = max((sum(n.values()) for _, n in rows), default=1) or 1
    w, h = 760, pad // 4 + (bar + gap) * len(rows) + 20
    out = []
    for i, (name, counts) in enumerate(rows):
        x, segments = float(pad), []
        for t in tiers:
            n = counts.get(t, 0)
            width = (w - pad - 60) * n / top
            if n:
                segments.append(Segment(t, x, width, n, style.tier_color(t)))
            x += width
        out.append(Bar(name, 10 + i * (bar + gap), tuple(segments), x, sum(counts.values())))
    return Bars(w, h, bar, tuple(out))


@dataclass(frozen=True)
class Dot:
    """One variant × county on the cost–coverage chart."""

    x: float
    y: float
    color: str
    variant: str
    county: str
    cost: float
    coverage: float


@dataclass(frozen=True)
class Scatter:
    """Cost (x, 0 to the largest) against coverage (y, the lowest to 100 %), a colour a variant."""

    width: int
    height: int
    pad: int
    top_cost: float
    low: float
    dots: tuple[Dot, ...]
    legend: tuple[tuple[str, str, int], ...]        # variant, colour, y


def scatter(points: list[tuple[str, str, float, float]]) -> Scatter:
    """(variant, county, cost, coverage) points, placed on the chart."""
    w, h, pad = 700, 320, 50
    top = max((p[2] for p in points), default=1.0) or 1.0
    low = min((p[3] for p in points), default=0.0)
    low = min(low, 0.99) - 0.01
    variants = list(dict.fromkeys(p[0] for p in points))
    color = {v: style.SERIES[i % len(style.SERIES)] for i, v in enumerate(variants)}
    dots = tuple(Dot(pad + (w - 2 * pad - 150) * cost / top,
                     h - pad - (h - 2 * pad) * (cov - low) / (1 - low), color[v], v, county,
                     cost, cov) for v, county, cost, cov in points)
    legend = tuple((v, color[v], 20 + 16 * i) for i, v in enumerate(variants))
    return Scatter(w, h, pad, top, low, dots, legend)
