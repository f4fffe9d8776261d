"""``report.html``: the report as one self-contained page, charts drawn inline as SVG.

The same facts as ``report.json`` (:func:`siting.outputs.report.summary`): per target required,
achieved and met (from the independent checker), the unreached units with their codes,
cost per tier, the solver's status and proven gap, and two charts — each tier's coverage
against its number of new sites (from the trade-off solves) and the sites per township.
Every value from an input file is HTML-escaped; nothing is loaded from the network.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from siting.outputs import kpi, labels, report
from siting.run.results import RunResult

COLORS = {"township": "#0b3d91", "village": "#2b8a3e", "community": "#7048e8",
          "locker": "#f08c00"}


def esc(value: object) -> str:
    """HTML-escape anything shown."""
    return html.escape("" if value is None else str(value), quote=True)


def write(result: RunResult, path: Path) -> None:
    """Write ``report.html``."""
    d = report.summary(result)
    lang = d["lang"]
    zh = lang == "zh"
    towns = kpi.townships(result)
    parts = [_head(d["title"]), f"<h1>{esc(d['title'])}</h1>"]
    if d["generated_data"]:
        parts.append('<p class="generated">' + esc(
            "本报告基于生成数据（非真实数据）。" if zh else
            "This report is made from GENERATED data, not real data.") + "</p>")
    parts.append(f"<p class=\"src\">{esc(d['data_attribution'])}</p>")
    parts.append(_targets(d, lang))
    parts.append(_costs(d, lang))
    parts.append(_solver(d, lang))
    if d["tradeoffs"]:
        parts.append(f"<h2>{esc('覆盖与站点数' if zh else 'Coverage against sites')}</h2>")
        parts.append(_tradeoff_svg(d["tradeoffs"], lang))
    if len(towns):
        parts.append(f"<h2>{esc('各乡镇（街道）站点数' if zh else 'Sites per township')}</h2>")
        rows = towns.sort_values("code")
        parts.append(_bars([(r.name, {t: int(getattr(r, f"{t}_sites")) for t in result.tiers})
                            for r in rows.itertuples()], list(result.tiers), lang))
    parts.append(_notes(d, lang))
    parts.append("</body></html>")
    path.write_text("\n".join(parts), encoding="utf-8")


def _head(title: str) -> str:
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8">
<title>{esc(title)}</title><style>
body {{font:14px/1.5 sans-serif; margin:24px auto; max-width:1100px; color:#212529;}}
table {{border-collapse:collapse; margin:8px 0 16px;}}
th, td {{border:1px solid #dee2e6; padding:4px 8px; text-align:left; vertical-align:top;}}
td.num {{text-align:right; font-variant-numeric:tabular-nums;}}
.met {{color:#2b8a3e; font-weight:600;}} .notmet {{color:#e03131; font-weight:600;}}
.generated {{background:#fff3bf; padding:6px 10px; font-weight:600;}}
.src {{color:#495057;}} .failing {{font-size:12px; color:#495057; max-width:700px;}}
svg text {{font:11px sans-serif;}}
</style></head><body>"""


def _targets(d: dict[str, Any], lang: str) -> str:
    zh = lang == "zh"
    head = ("目标", "要求", "实际", "结果") if zh else ("target", "required", "achieved", "result")
    rows = []
    for t in d["targets"]:
        met = t["met"]
        cls = "" if met is None else ("met" if met else "notmet")
        word = labels.t("info" if met is None else ("met" if met else "not met"), lang)
        digits = 1 if t.get("unit") == "weight" else 0
        rows.append(f"<tr><td>{esc(t['target'])}</td><td class=num>{t['required']:,.{digits}f}"
                    f"</td><td class=num>{t['achieved']:,.{digits}f}</td>"
                    f"<td class='{cls}'>{esc(word)}</td></tr>")
        if t.get("failing"):
            shown = "、".join(t["failing"][:200]) if zh else ", ".join(t["failing"][:200])
            more = f" … (+{len(t['failing']) - 200})" if len(t["failing"]) > 200 else ""
            rows.append(f"<tr><td colspan=4 class=failing>{esc(labels.t('uncovered', lang))}: "
                        f"{esc(shown)}{esc(more)}</td></tr>")
    title = "规划目标（独立核验）" if zh else "Targets (checked independently of the solver)"
    return (f"<h2>{esc(title)}</h2><table><tr>" + "".join(f"<th>{esc(h)}</th>" for h in head)
            + "</tr>" + "".join(rows) + "</table>")


def _costs(d: dict[str, Any], lang: str) -> str:
    zh = lang == "zh"
    head = ("类型", "新建", "现有", "单价", "费用") if zh else \
        ("tier", "new", "existing", "unit cost", "cost")
    rows = [f"<tr><td>{esc(s['label'])}</td><td class=num>{s['new']:,}</td>"
            f"<td class=num>{s['existing']:,}</td><td class=num>{s['cost_each']:,.0f}</td>"
            f"<td class=num>{s['cost']:,.0f}</td></tr>" for s in d["sites"].values()]
    total = (f"<p>{esc('合址节省' if zh else 'Co-location saving')}: "
             f"{d['cost']['colocation_saving']:,.0f} · {esc('总费用' if zh else 'Total cost')}: "
             f"<b>{d['cost']['total']:,.0f}</b></p>")
    comp = d.get("compartments") or {}
    if comp:
        total += (f"<p>{esc('智能快件箱格口' if zh else 'Locker compartments')}: "
                  f"{comp['open']:,.0f} ({esc(labels.t('existing', lang))} "
                  f"{comp['existing']:,.0f}, {esc(labels.t('new', lang))} {comp['new']:,.0f}); "
                  f"{esc('需求' if zh else 'needed')} {comp['needed']:,.0f}; "
                  f"{esc('全市规划目标 250 万组' if zh else 'plan: 2.5 million citywide')}</p>")
    title = "站点与费用" if zh else "Sites and cost"
    return (f"<h2>{esc(title)}</h2><table><tr>" + "".join(f"<th>{esc(h)}</th>" for h in head)
            + "</tr>" + "".join(rows) + "</table>" + total)


def _solver(d: dict[str, Any], lang: str) -> str:
    sv = d["solver"]
    gap = "—" if sv["gap"] is None else f"{100 * sv['gap']:.3g}%"
    rows = []
    for st in sv["stages"]:
        g = "—" if st["gap"] is None else f"{100 * st['gap']:.3g}%"
        obj = "—" if st["objective"] is None else f"{st['objective']:,.2f}"
        bound = "—" if st["bound"] is None else f"{st['bound']:,.2f}"
        rows.append(f"<tr><td>{esc(st['stage'])}</td><td>{esc(st['solver'])}</td>"
                    f"<td>{esc(st['status'])}</td><td class=num>{obj}</td><td class=num>"
                    f"{bound}</td><td class=num>{g}</td><td class=num>{st['seconds']:.1f}"
                    "</td></tr>")
    title = "求解（界与间隙读自求解器）" if lang == "zh" else \
        "Solver (bound and gap read from the solver)"
    return (f"<h2>{esc(title)}</h2><p>status <b>{esc(sv['status'])}</b> · proven gap "
            f"<b>{gap}</b> · time limit {sv['time_limit_s']:g} s</p><table><tr><th>stage</th>"
            "<th>solver</th><th>status</th><th>objective</th><th>bound</th><th>gap</th>"
            "<th>s</th></tr>" + "".join(rows) + "</table>")


def _notes(d: dict[str, Any], lang: str) -> str:
    items = [f"<li>{esc(n)}</li>" for n in d["notes"]]
    files = [f"<li>{esc(i['role'])}: {esc(Path(str(i['path'])).name)} <code>"
             f"{esc(i['sha256'])}</code></li>" for i in d["inputs"]]
    timings = ", ".join(f"{esc(k)} {v:.1f} s" for k, v in d["timings_s"].items())
    zh = lang == "zh"
    return (f"<h2>{esc('说明' if zh else 'Notes')}</h2><ul>{''.join(items)}</ul>"
            f"<h2>{esc('输入文件' if zh else 'Inputs')}</h2><ul>{''.join(files)}</ul>"
            f"<p>{timings}</p>")


def _tradeoff_svg(curves: dict[str, list[dict[str, float]]], lang: str) -> str:
    """One line per tier: share of demand reached against new sites (each tier's own scale)."""
    w, h, pad = 640, 260, 40
    lines, legend = [], []
    for k, (tier, pts) in enumerate(curves.items()):
        if not pts:
            continue
        top = max(p["new_sites"] for p in pts) or 1
        xy = [(pad + (w - 2 * pad) * p["new_sites"] / top,
               h - pad - (h - 2 * pad) * p["reached_share"]) for p in pts]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
        c = COLORS.get(tier, "#495057")
        lines.append(f'<polyline fill="none" stroke="{c}" stroke-width="2" points="{path}"/>')
        lines += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{c}"><title>'
                  f'{esc(labels.t(tier, lang))}: {p["new_sites"]:,} → '
                  f'{100 * p["reached_share"]:.1f}%</title></circle>'
                  for (x, y), p in zip(xy, pts, strict=True)]
        legend.append(f'<text x="{w - 190}" y="{20 + 14 * k}" fill="{c}">'
                      f'{esc(labels.t(tier, lang))} (0–{top:,})</text>')
    axis = (f'<line x1="{pad}" y1="{h - pad}" x2="{w - pad}" y2="{h - pad}" stroke="#868e96"/>'
            f'<line x1="{pad}" y1="{pad}" x2="{pad}" y2="{h - pad}" stroke="#868e96"/>'
            f'<text x="{pad}" y="{h - 12}">0</text><text x="{w - pad - 70}" y="{h - 12}">'
            f'{esc("新建站点数（各自比例）" if lang == "zh" else "new sites (own scale)")}</text>'
            f'<text x="4" y="{pad + 4}">100%</text><text x="10" y="{h - pad}">0%</text>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" role="img">'
            + axis + "".join(lines) + "".join(legend) + "</svg>")


def _bars(rows: list[tuple[str, dict[str, int]]], tiers: list[str], lang: str) -> str:
    """Stacked bars: open sites of each tier per row (township or county)."""
    bar, gap, pad = 18, 4, 170
    totals = [sum(n.values()) for _, n in rows]
    top = max(totals, default=1) or 1
    w, h = 760, pad // 4 + (bar + gap) * len(rows) + 20
    out = []
    for i, (name, counts) in enumerate(rows):
        y = 10 + i * (bar + gap)
        x = pad
        out.append(f'<text x="4" y="{y + 13}">{esc(name)[:14]}</text>')
        for t in tiers:
            n = counts.get(t, 0)
            width = (w - pad - 60) * n / top
            if n:
                out.append(f'<rect x="{x:.1f}" y="{y}" width="{width:.1f}" height="{bar}" '
                           f'fill="{COLORS.get(t, "#495057")}"><title>{esc(name)} · '
                           f'{esc(labels.t(t, lang))}: {n:,}</title></rect>')
            x += width
        out.append(f'<text x="{x + 4:.1f}" y="{y + 13}">{totals[i]:,}</text>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" role="img">'
            + "".join(out) + "</svg>")


def write_city(d: dict[str, Any], path: Path) -> None:
    """The city's ``report.html`` from :func:`siting.run.city.aggregate`'s summary."""
    lang = d["lang"]
    zh = lang == "zh"
    parts = [_head(d["title"]), f"<h1>{esc(d['title'])}</h1>"]
    if d["generated_counties"]:
        parts.append('<p class="generated">' + esc(
            ("以下县区基于生成数据（非真实数据）：" if zh else
             "Counties run on GENERATED data (not real): ")
            + ", ".join(d["generated_counties"])) + "</p>")
    parts.append(_targets(d, lang))
    tiers = list(d["sites"])
    head = ("类型", "新建", "现有", "费用") if zh else ("tier", "new", "existing", "cost")
    rows = [f"<tr><td>{esc(labels.t(t, lang))}</td><td class=num>{s['new']:,}</td>"
            f"<td class=num>{s['existing']:,}</td><td class=num>{s['cost']:,.0f}</td></tr>"
            for t, s in d["sites"].items()]
    parts.append(f"<h2>{esc('站点与费用' if zh else 'Sites and cost')}</h2><table><tr>"
                 + "".join(f"<th>{esc(h)}</th>" for h in head) + "</tr>" + "".join(rows)
                 + f"</table><p>{esc('总费用' if zh else 'Total cost')}: "
                 f"<b>{d['cost_total']:,.0f}</b></p>")
    comp = d.get("compartments") or {}
    if comp:
        parts.append(f"<p>{esc('智能快件箱格口' if zh else 'Locker compartments')}: "
                     f"{comp['open']:,.0f} ({esc(labels.t('existing', lang))} "
                     f"{comp['existing']:,.0f}, {esc(labels.t('new', lang))} "
                     f"{comp['new']:,.0f}); {esc('需求' if zh else 'needed')} "
                     f"{comp['needed']:,.0f}</p>")
    parts.append(_county_table(d, tiers, lang))
    parts.append(f"<h2>{esc('各县区站点数' if zh else 'Sites per county')}</h2>")
    parts.append(_bars([(c["name"], c["sites"]) for c in d["counties"]], tiers, lang))
    unmet = [(c["name"], key, units) for c in d["counties"]
             for key, units in c.get("unmet", {}).items() if units]
    if unmet:
        parts.append(f"<h2>{esc('未达标的单元' if zh else 'Units not served')}</h2><ul>"
                     + "".join(f"<li>{esc(name)} · {esc(key)}: <span class=failing>"
                               f"{esc(', '.join(units))}</span></li>"
                               for name, key, units in unmet) + "</ul>")
    parts.append("</body></html>")
    path.write_text("\n".join(parts), encoding="utf-8")


def _county_table(d: dict[str, Any], tiers: list[str], lang: str) -> str:
    """One row per county: size, sites per tier, targets met, solver status and proven gap."""
    zh = lang == "zh"
    head = (["县区", "生成数据", "行政村", "社区", "路网节点", "路段"]
            + [labels.t(t, lang) for t in tiers]
            + ["达标", "求解", "间隙", "求解秒", "费用"]) if zh else \
        (["county", "generated", "villages", "communities", "nodes", "segments"]
         + [labels.t(t, lang) for t in tiers]
         + ["targets met", "solver", "gap", "solve s", "cost"])
    rows = []
    for c in d["counties"]:
        gap = "—" if c["gap"] is None else f"{100 * c['gap']:.3g}%"
        nums = [c.get("villages"), c.get("communities"), c["network_nodes"],
                c["network_segments"], *(c["sites"].get(t, 0) for t in tiers)]
        cells = "".join(f"<td class=num>{'—' if n is None else f'{n:,}'}</td>" for n in nums)
        met = "met" if c["targets_met"] == c["targets"] else "notmet"
        rows.append(f"<tr><td>{esc(c['title'])}</td><td>{'✓' if c['generated'] else ''}</td>"
                    f"{cells}<td class={met}>{c['targets_met']}/{c['targets']}</td>"
                    f"<td>{esc(c['solver_status'])}</td><td class=num>{gap}</td>"
                    f"<td class=num>{c['solve_s']:.1f}</td><td class=num>{c['cost']:,.0f}</td>"
                    "</tr>")
    return (f"<h2>{esc('各县区' if zh else 'Counties')}</h2><table><tr>"
            + "".join(f"<th>{esc(h)}</th>" for h in head) + "</tr>" + "".join(rows) + "</table>")
