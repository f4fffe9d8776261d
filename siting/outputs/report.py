"""The run's report: targets met or not (from the checker), counts, costs, solver proof, timings.

``report.json`` is for machines; ``report.md`` for people. Both state each target's
required and achieved values as the independent checker found them, never the solver's
claim, and say "generated data" wherever the inputs were generated.
"""

from __future__ import annotations

import json
import math
import platform
from pathlib import Path
from typing import Any

import numpy as np

from siting.outputs import labels
from siting.run import inputs
from siting.run.pipeline import RunResult


def summary(result: RunResult) -> dict[str, Any]:
    """Everything the report says, as plain JSON-ready data."""
    s = result.scenario
    sol = result.solution
    rows = result.open_rows()
    by_tier = {}
    for name, tier in result.tiers.items():
        sel = rows[rows["tier"] == name]
        rows_of = np.concatenate([tier.rows, tier.each_rows]) if tier.config.coverage == "all" \
            else tier.each_rows
        new = int((sel["status"] == "new").sum())
        by_tier[name] = {
            "label": labels.t(name, s.lang), "new": new,
            "existing": int((sel["status"] == "existing").sum()),
            "cost_each": tier.config.cost,
            "cost": round(sol.tier_cost.get(name, new * tier.config.cost), 2),
            "demand_units": len(tier.rows), "radius_m": tier.config.radius_m,
            "required_count": tier.count,
            "network": tier.config.network,
            "uncoverable": [inputs.unit_label(result.demand, int(rows_of[i]))
                            for i in sol.uncoverable.get(name, np.zeros(0, int))]}
    saving = round(sum(t["cost"] for t in by_tier.values()) - sol.cost, 2)
    return {
        "title": s.title or s.name, "scenario": s.name, "scenario_file": str(s.path),
        "generated_data": result.generated, "lang": s.lang,
        "data_attribution": attribution(result),
        "layers": result.layer_info,
        "targets": [r.as_dict() for r in result.results],
        "all_targets_met": all(r.met is not False for r in result.results),
        "sites": by_tier,
        "cost": {"total": round(sol.cost, 2), "colocation_saving": saving},
        "solver": {
            "status": sol.status, "gap": sol.gap,
            "time_limit_s": s.solver.time_limit_s, "rel_gap_requested": s.solver.rel_gap,
            "stages": [{"stage": name, "solver": o.solver, "status": o.status,
                        "objective": o.objective, "bound": o.bound, "gap": o.gap,
                        "seconds": round(o.seconds, 3), "nodes": o.nodes}
                       for name, o in sol.stages],
            "claims": {"cost": sol.cost, "reached_weight": sol.reached_weight}},
        "counts": {
            "network_nodes": result.network.n_nodes, "network_segments": len(result.network.u),
            "demand_units": len(result.demand), "candidate_sites": len(result.sites),
            "unsnapped": result.unsnapped},
        "timings_s": {**result.timings, "build_model": round(sol.seconds.get("build", 0), 3),
                      "solve": round(sol.seconds.get("solve", 0), 3)},
        "inputs": result.inputs,
        "environment": {"python": platform.python_version()},
        "notes": result.notes,
        "tradeoffs": result.tradeoffs,
        "compartments": _compartments(result),
    }


def _compartments(result: RunResult) -> dict[str, float]:
    """Locker compartments open (existing and new) against the plan's 2.5 million citywide."""
    out = {}
    for name, tier in result.tiers.items():
        col = f"compartments_{name}"
        if tier.demand is not None and col in result.sites:
            is_open = result.sites[f"open_{name}"].to_numpy()
            cap = result.sites[col].to_numpy(float)
            existing = result.sites[f"existing_{name}"].to_numpy()
            out = {"tier": name, "open": float(cap[is_open].sum()),
                   "existing": float(cap[is_open & existing].sum()),
                   "new": float(cap[is_open & ~existing].sum()),
                   "needed": float(tier.demand.sum()), "plan_citywide": 2_500_000}
    return out


def attribution(result: RunResult) -> str:
    """Where the data drawn and reported comes from (generated or OpenStreetMap)."""
    if result.generated:
        return ("generated data (siting generate) over the real frame: township polygons "
                "© Azavea (Apache-2.0), NBS 2023 codes (WTFPL), 2020 census (MIT)")
    return "© OpenStreetMap contributors (ODbL 1.0)"


def write_json(result: RunResult, path: Path) -> None:
    """``report.json``: strict JSON, an infinite or missing number written as null."""
    path.write_text(json.dumps(_finite(summary(result)), ensure_ascii=False, indent=2,
                               default=_plain, allow_nan=False), encoding="utf-8")


def _finite(value: Any) -> Any:
    """``value`` with every inf and nan (Python or NumPy) replaced by None."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    if isinstance(value, np.ndarray):
        return _finite(value.tolist())
    if isinstance(value, (float, np.floating)) and not math.isfinite(value):
        return None
    return value


def _plain(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON-serialisable: {type(value).__name__}")


def _num(x: float | None, digits: int = 0) -> str:
    if x is None:
        return "—"
    return f"{x:,.{digits}f}"


def _met(value: bool | None, lang: str) -> str:
    return labels.t("info" if value is None else ("met" if value else "not met"), lang)


def write_markdown(result: RunResult, path: Path) -> None:
    """``report.md``."""
    d = summary(result)
    zh = d["lang"] == "zh"
    lines = [f"# {d['title']}", ""]
    if d["generated_data"]:
        lines += ["**" + ("本报告基于生成数据（非真实数据）。" if zh else
                          "This report is made from GENERATED data, not real data.") + "**", ""]
    lines += [("数据：" if zh else "Data: ") + d["data_attribution"], ""]
    head = ("| 目标 | 要求 | 实际 | 结果 |" if zh else "| target | required | achieved | result |")
    lines += ["## " + ("规划目标（独立核验）" if zh else "Targets (independent check)"), "",
              head, "|---|---:|---:|---|"]
    for r in d["targets"]:
        digits = 0 if r["unit"] != "weight" else 1
        lines.append(f"| {r['target']} | {_num(r['required'], digits)} | "
                     f"{_num(r['achieved'], digits)} | {_met(r['met'], d['lang'])} |")
        if r["failing"]:
            shown = ", ".join(r["failing"][:50])
            more = f" … (+{len(r['failing']) - 50})" if len(r["failing"]) > 50 else ""
            lines.append(f"|  ↳ {'未覆盖' if zh else 'not served'}: {shown}{more} | | | |")
    lines += ["", "## " + ("站点与费用" if zh else "Sites and cost"), "",
              "| 类型 | 新建 | 现有 | 单价 | 费用 |" if zh else
              "| tier | new | existing | unit cost | cost |", "|---|---:|---:|---:|---:|"]
    for s in d["sites"].values():
        lines.append(f"| {s['label']} | {s['new']} | {s['existing']} | {_num(s['cost_each'])} "
                     f"| {_num(s['cost'])} |")
    saving = _num(d["cost"]["colocation_saving"])
    lines += ["", f"{'合址节省' if zh else 'Co-location saving'}: {saving}"
              f" · {'总费用' if zh else 'Total cost'}: **{_num(d['cost']['total'])}**", ""]
    sv = d["solver"]
    proven = "—" if sv["gap"] is None else f"{100 * sv['gap']:.4g}%"
    lines += ["## " + ("求解" if zh else "Solver"), "",
              f"{'状态' if zh else 'Status'}: **{sv['status']}** · "
              f"{'证明的相对间隙' if zh else 'proven relative gap'}: {proven}", "",
              "| stage | solver | status | objective | bound | gap | s |",
              "|---|---|---|---:|---:|---:|---:|"]
    for st in sv["stages"]:
        gap = "—" if st["gap"] is None else f"{100 * st['gap']:.4g}%"
        lines.append(f"| {st['stage']} | {st['solver']} | {st['status']} | "
                     f"{_num(st['objective'], 2)} | {_num(st['bound'], 2)} | {gap} | "
                     f"{st['seconds']:.2f} |")
    c = d["counts"]
    lines += ["", "## " + ("规模与耗时" if zh else "Size and time"), "",
              f"- network: {c['network_nodes']:,} nodes, {c['network_segments']:,} segments",
              f"- demand units: {c['demand_units']:,}; candidate sites: {c['candidate_sites']:,}",
              "- " + ", ".join(f"{k} {v:.2f} s" for k, v in d["timings_s"].items())]
    for mode, items in c["unsnapped"].items():
        lines.append(f"- not attached to the {mode} network: {', '.join(items[:30])}")
    lines += ["", "## " + ("输入文件" if zh else "Inputs"), "", "| role | file | SHA-256 |",
              "|---|---|---|"]
    lines += [f"| {i['role']} | {Path(str(i['path'])).name} | `{i['sha256']}` |"
              for i in d["inputs"]]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
