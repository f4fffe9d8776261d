"""Words shown to people, in Chinese (default) and English: the one place that knows both.

Every string a reader sees (map, reports, tables) is looked up here by key, as
``t(key, lang)`` or through a :class:`Words` for one language; sentences with values are
templates in :data:`TEXT` filled by :meth:`Words.fill`. No other module compares a language.
A target's sentence is worded from its :class:`~siting.run.phrases.Phrase` (the run's data,
no words) by :func:`phrase`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from siting.run.phrases import Phrase

LANGS = ("zh", "en")
"""The languages, in the order of each :data:`TEXT` pair."""

_WORDS: dict[str, tuple[str, str]] = {
    "township": ("乡镇网点", "township outlet"),
    "village": ("村级网点", "village outlet"),
    "community": ("社区综合服务网点", "community service point"),
    "locker": ("智能快件箱", "smart locker bank"),
    "residential": ("居住", "residential"),
    "commercial": ("商业", "commercial"),
    "government": ("政务/公共", "government/public"),
    "new": ("新建", "new"),
    "existing": ("现有", "existing"),
    "covered": ("已覆盖", "covered"),
    "uncovered": ("未覆盖", "not covered"),
    "met": ("达标", "met"),
    "not met": ("未达标", "not met"),
    "info": ("—", "—"),
    "generated": ("生成数据", "generated data"),
    "sites": ("站点", "sites"),
    "buildings": ("建筑", "buildings"),
    "legend": ("图例", "Legend"),
    "cost": ("费用", "cost"),
    "name": ("名称", "name"),
    "site": ("站点编号", "site"),
    "tier": ("类型", "type"),
    "status": ("状态", "status"),
    "distance": ("距最近站点", "to nearest site"),
    "floor area": ("建筑面积", "floor area"),
    "class": ("类别", "class"),
    "reach": ("服务范围内", "within reach"),
    "roads": ("道路", "roads"),
    "village_unit": ("行政村", "administrative village"),
    "community_unit": ("社区", "community"),
    "township_unit": ("乡镇（街道）", "township"),
    "population": ("人口", "population"),
    "areas": ("区域", "areas"),
    "villages": ("行政村", "administrative village"),
    "townships": ("乡镇（街道）", "township"),
    "osm_buildings": ("建筑", "building"),
    "service_area": ("服务范围", "service area"),
    "sep": ("、", ", "),
    "walk": ("步行", "walking"),
    "road": ("道路", "by road"),
    "what_building": ("建筑", "building"),
    "what_area": ("区", "area"),
}

_REPORT: dict[str, tuple[str, str]] = {
    "generated_banner": ("本报告基于生成数据（非真实数据）。",
                         "This report is made from GENERATED data, not real data."),
    "data": ("数据：", "Data: "),
    "col_target": ("目标", "target"),
    "col_required": ("要求", "required"),
    "col_achieved": ("实际", "achieved"),
    "col_result": ("结果", "result"),
    "col_tier": ("类型", "tier"),
    "col_unit_cost": ("平均单价", "mean unit cost"),
    "targets_md": ("规划目标（独立核验）", "Targets (independent check)"),
    "targets_html": ("规划目标（独立核验）", "Targets (checked independently of the solver)"),
    "not_served": ("未覆盖", "not served"),
    "sites_and_cost": ("站点与费用", "Sites and cost"),
    "colocation_saving": ("合址节省", "Co-location saving"),
    "total_cost": ("总费用", "Total cost"),
    "compartments": ("智能快件箱格口", "Locker compartments"),
    "needed": ("需求", "needed"),
    "plan_compartments": ("全市规划目标 250 万组", "plan: 2.5 million citywide"),
    "solver_md": ("求解", "Solver"),
    "solver_html": ("求解（界与间隙读自求解器）", "Solver (bound and gap read from the solver)"),
    "solver_status": ("状态", "Status"),
    "proven_gap": ("证明的相对间隙", "proven relative gap"),
    "avoidable_gap_line": ("可避免成本上的证明间隙 {gap}（总成本上 {raw}）；"
                           "强制成本 {forced}：任何可行方案都必须支付",
                           "proven gap on the avoidable cost {gap} (on the total {raw}); forced "
                           "cost {forced}: what every feasible plan pays"),
    "forced_part": ("{tier}：{cost}（数量目标 {count} 个新站点，互不相交的未覆盖单元 {rows} 个，"
                    "预处理强制 {fixed} 个）",
                    "{tier}: {cost} (count target {count} new sites, {rows} disjoint unmet units, "
                    "{fixed} forced by the reductions)"),
    "avoidable_gap": ("可避免间隙", "avoidable gap"),
    "size_and_time": ("规模与耗时", "Size and time"),
    "inputs": ("输入文件", "Inputs"),
    "notes": ("说明", "Notes"),
    "tradeoff_title": ("覆盖与站点数", "Coverage against sites"),
    "tradeoff_axis": ("新建站点数（各自比例）", "new sites (own scale)"),
    "per_township": ("各乡镇（街道）站点数", "Sites per township"),
    # not translated yet: the same words in both languages, as the reports always had them
    "stage": ("stage", "stage"),
    "stage_status": ("status", "status"),
    "solver": ("solver", "solver"),
    "objective": ("objective", "objective"),
    "bound": ("bound", "bound"),
    "gap": ("gap", "gap"),
    "seconds": ("s", "s"),
    "role": ("role", "role"),
    "file": ("file", "file"),
    "sha256": ("SHA-256", "SHA-256"),
    "proven_gap_short": ("proven gap", "proven gap"),
    "time_limit": ("time limit", "time limit"),
    "size_network": ("network: {nodes:,} nodes, {segments:,} segments",
                     "network: {nodes:,} nodes, {segments:,} segments"),
    "size_units": ("demand units: {units:,}; candidate sites: {sites:,}",
                   "demand units: {units:,}; candidate sites: {sites:,}"),
    "unsnapped": ("not attached to the {mode} network: ", "not attached to the {mode} network: "),
    "attribution_generated": (
        "生成数据（siting generate），基于真实行政区划框架：乡镇边界 © Azavea（Apache-2.0），"
        "国家统计局 2023 年区划代码（WTFPL），2020 年人口普查（MIT）",
        "generated data (siting generate) over the real frame: township polygons © Azavea "
        "(Apache-2.0), NBS 2023 codes (WTFPL), 2020 census (MIT)"),
    # OpenStreetMap's attribution stays as the licence words it
    "attribution_osm": ("道路与建筑数据 © OpenStreetMap contributors（ODbL 1.0）",
                        "roads and buildings © OpenStreetMap contributors (ODbL 1.0)"),
    "tiles_osm": ("底图 © OpenStreetMap contributors（ODbL）",
                  "tiles © OpenStreetMap contributors (ODbL)"),
}

_CITY_REPORT: dict[str, tuple[str, str]] = {
    "generated_counties": ("以下县区基于生成数据（非真实数据）：",
                           "Counties run on GENERATED data (not real): "),
    "per_county": ("各县区站点数", "Sites per county"),
    "units_not_served": ("未达标的单元", "Units not served"),
    "counties": ("各县区", "Counties"),
    "col_county": ("县区", "county"),
    "col_generated": ("生成数据", "generated"),
    "col_villages": ("行政村", "villages"),
    "col_communities": ("社区", "communities"),
    "col_nodes": ("路网节点", "nodes"),
    "col_segments": ("路段", "segments"),
    "col_targets_met": ("达标", "targets met"),
    "col_solver": ("求解", "solver"),
    "col_gap": ("间隙", "gap"),
    "col_solve_s": ("求解秒", "solve s"),
    # the county table of city/report.md has always been in English
    "md_county": ("county", "county"),
    "md_generated": ("generated", "generated"),
    "md_villages": ("villages", "villages"),
    "md_communities": ("communities", "communities"),
    "md_nodes": ("nodes", "nodes"),
    "md_segments": ("segments", "segments"),
    "md_sites": ("sites: {tier}", "sites: {tier}"),
    "md_targets_met": ("targets met", "targets met"),
    "md_solve_s": ("solve s", "solve s"),
    "md_cost": ("cost", "cost"),
    "yes": ("yes", "yes"),
    "no": ("no", "no"),
}

_MAP: dict[str, tuple[str, str]] = {
    "generated_suffix": ("（生成数据）", " (generated data)"),
    "units_served": ("已服务/需求单元", "units served"),
    "county_boundary": ("区县边界", "county boundary"),
    "search": ("搜索", "search"),
    "search_hint": ("名称或代码…", "name or code…"),
    "grey_markers": ("（灰色标记）", " (grey markers)"),
    "targets_met": ("规划目标达标 {met}/{total}", "targets met {met}/{total}"),
    "lonlat": ("经度, 纬度", "lon, lat"),
    "county": ("区县", "county"),
    "villages_reached": ("行政村通达", "villages reached"),
    "includes_generated": ("（含生成数据）", " (includes generated data)"),
    "every_village": ("行政村全部通达", "every village reached"),
    "villages_not_reached": ("有行政村未通达", "villages not reached"),
    "cluster_note": ("圆圈数字：该处站点数", "numbered circles: sites clustered there"),
}

_SENTENCES: dict[str, tuple[str, str]] = {
    "cover": ("所有{names}{what}{how}{radius:g} 米内有{tier}",
              "every {names} {what} within {radius:g} m {how} of a {tier}"),
    "every": ("所有{what}{how}{radius:g} 米内有{tier}",
              "every {what} within {radius:g} m {how} of a {tier}"),
    "reach": ("{tier}{how}{radius:g} 米内的{what}", "{what} within {radius:g} m {how} of a {tier}"),
    "reach_floor_area": ("{names}建筑面积", "{names} floor area"),
    "reach_population": ("{names}人口", "{names} population"),
    "reach_count": ("{names}数量", "{names} units"),
    "inside": ("每个{what}内有{tier}", "every {what} holds a {tier}"),
    "count": ("{tier}不少于 {n:,} 个", "at least {n:,} {tier}s"),
    "each": ("每个{what}至少有 1 个{tier}", "every {what} holds at least one {tier}"),
    "capacity": ("各区域快件格口需求均可由服务范围内的{tier}容纳",
                 "every area's compartment demand fits the {tier}s within reach"),
    "city_township_cover": ("每个乡镇（街道）有乡镇网点（乡乡有网点）",
                            "every township holds a township outlet"),
    "city_village_cover": ("建制村快递通达：行政村道路范围内有村级网点",
                           "administrative villages reached by a village outlet"),
    "city_community_plan": ("城市社区末端综合服务网点累计不少于 {n:,} 个",
                            "at least {n:,} community service points citywide"),
    "city_community_each": ("每个社区有社区综合服务网点",
                            "every community holds a community service point"),
    "city_locker_cover": ("智能快件箱居民区、商业区、政务区全覆盖",
                          "smart lockers cover every residential, commercial and government area"),
    "city_compartments": ("智能收投终端超过 {n:,} 组（智能快件箱格口）",
                          "more than {n:,} smart terminal units (locker compartments) citywide"),
}

_COLUMNS: dict[str, tuple[str, str]] = {
    # the hand-out tables' headers (sites.csv, plan.xlsx): Chinese in zh, the key in en
    "site_id": ("站点编号", "site_id"),
    "tier": ("类型代码", "tier"),
    "tier_name": ("类型", "tier_name"),
    "status": ("状态代码", "status"),
    "status_name": ("状态", "status_name"),
    "name": ("名称", "name"),
    "source": ("来源", "source"),
    "osm_id": ("OSM编号", "osm_id"),
    "township_code": ("乡镇代码", "township_code"),
    "township": ("乡镇（街道）", "township"),
    "village_code": ("村/社区代码", "village_code"),
    "village": ("村/社区", "village"),
    "road": ("最近道路", "road"),
    "road_m": ("距道路（米）", "road_m"),
    "lon": ("经度", "lon"),
    "lat": ("纬度", "lat"),
    "datum": ("坐标系", "datum"),
    "gcj02_lon": ("经度（GCJ-02）", "gcj02_lon"),
    "gcj02_lat": ("纬度（GCJ-02）", "gcj02_lat"),
    "bank_size": ("箱体规格（格口）", "bank_size"),
    "compartments": ("格口数", "compartments"),
    "site_cost": ("场地费用", "site_cost"),
    "bank_cost": ("箱体费用", "bank_cost"),
    "colocation_saving": ("合址节省", "colocation_saving"),
    "cost": ("费用", "cost"),
    "reach_units": ("可达单元数", "reach_units"),
    "served_units": ("服务单元数", "served_units"),
    "served_population": ("服务人口", "served_population"),
    "served_compartments": ("服务所需格口", "served_compartments"),
    "generated": ("生成数据", "generated"),
    "county": ("区县", "county"),
    "code": ("代码", "code"),
    "layer": ("图层", "layer"),
    "population": ("人口", "population"),
    "reason": ("原因", "reason"),
    "nearest_m": ("距最近开放站点（米）", "nearest_m"),
}

_COLUMN_OF_TIER: dict[str, tuple[str, str]] = {
    # per-tier columns, ``<prefix><tier>``: the tier's name fills {tier}
    "new_": ("{tier}新建", "new {tier}"),
    "unserved_": ("{tier}未覆盖单元", "{tier}: units not served"),
}

_WORKBOOK: dict[str, tuple[str, str]] = {
    "sheet_summary": ("汇总", "summary"),
    "sheet_sites": ("站点", "sites"),
    "sheet_townships": ("乡镇", "townships"),
    "sheet_unserved": ("未覆盖", "not served"),
    "reason_no_road": ("{m:g} 米内无道路，无法接入路网", "no road within {m:g} m"),
    "reason_no_site": ("{r:g} 米内没有可选站点", "no possible site within {r:g} m"),
    "reason_far": ("最近的站点 {d:,.0f} 米，超出 {r:g} 米", "nearest open site {d:,.0f} m away, "
                   "beyond {r:g} m"),
    "reason_not_chosen": ("服务范围内无开放站点", "no open site within reach"),
}

_MAP_FIND: dict[str, tuple[str, str]] = {
    # the map's orientation, popups, title and print sheet (map.html, map.pdf)
    "place_names": ("地名标注", "place names"),
    "allocation_lines": ("服务分配线（单元→站点）", "allocation lines (unit → site)"),
    "code_townships": ("乡镇代码", "township code"),
    "code_villages": ("村/社区代码", "village/community code"),
    "code_areas": ("地块编号", "area id"),
    "code_osm_buildings": ("OSM 编号", "OSM id"),
    "site_name": ("名称", "name"),
    "source": ("来源", "source"),
    "place": ("所在乡镇/村（社区）", "township / village"),
    "address_hint": ("地址参考（最近道路）", "address hint (nearest road)"),
    "road_at": ("{road}（{m:,.0f} 米）", "{road} ({m:,.0f} m)"),
    "coords_wgs84": ("坐标（WGS84）", "coordinates (WGS84)"),
    "coords_gcj02": ("坐标（GCJ-02，高德/腾讯）", "coordinates (GCJ-02, Gaode/Tencent)"),
    "bank": ("箱体规格", "bank size"),
    "bank_of": ("{n:,.0f} 格口", "{n:,.0f} compartments"),
    "compartments_open": ("开放格口", "compartments open"),
    "cost_parts": ("{total}（场地 {site} + 箱体 {bank} − 合址节省 {saving}）",
                   "{total} (site {site} + bank {bank} − co-location {saving})"),
    "serves": ("服务对象", "serves"),
    "serves_units": ("{units:,} 个单元，人口 {pop:,.0f}", "{units:,} units, {pop:,.0f} residents"),
    "serves_compartments": ("，需格口 {n:,.0f}", ", {n:,.0f} compartments needed"),
    "floor_area": ("建筑面积", "floor area"),
    "served_by": ("服务站点", "served by"),
    "served_by_site": ("{site}（{name}），{d}", "{site} ({name}), {d}"),
    "inside_unit": ("单元内", "inside the unit"),
    "why_not": ("未覆盖原因", "why not served"),
    "unnamed_osm": ("未命名邮政网点", "unnamed post office"),
    "unnamed": ("未命名网点", "unnamed outlet"),
    "new_site_on": ("{road}{tier}（新建）", "new {tier}, {road}"),
    "new_site_in": ("{place}{tier}（新建）", "new {tier}, {place}"),
    "new_site": ("新建{tier}", "new {tier}"),
    "unmet_line": ("未达标：{target}（{why}）", "not met: {target} ({why})"),
    "unmet_more": ("等 {n:,} 个", " and {n:,} more"),
    "unmet_numbers": ("要求 {required}，实际 {achieved}",
                      "required {required}, achieved {achieved}"),
    "unit_reason": ("{unit}：{reason}", "{unit}: {reason}"),
    "north": ("北", "N"),
    "printed": ("打印日期：", "printed: "),
    "map_pdf_sites": ("{tier}：新建 {new:,}，现有 {existing:,}",
                      "{tier}: {new:,} new, {existing:,} existing"),
    "map_pdf_unserved": ("未覆盖单元", "units not served"),
    "scale_m": ("{n:,.0f} 米", "{n:,.0f} m"),
    "scale_km": ("{n:g} 公里", "{n:g} km"),
    # where an existing site's row came from (``Sites.source``)
    "source_OSM post office": ("OSM 邮局", "OSM post office"),
    "source_road node": ("道路节点", "road node"),
    "source_building": ("建筑入口", "building"),
    "source_area": ("地块中心", "area"),
    "source_village centre": ("村/社区中心", "village centre"),
    "source_township centre": ("乡镇中心", "township centre"),
}

COMMITTEE_SUFFIXES = (("村民委员会", ""), ("居民委员会", ""), ("村委会", "村"),
                      ("居委会", ""))
"""Village and community committees' names shortened for map labels (马固村村民委员会 → 马固村)."""


TEXT: dict[str, tuple[str, ...]] = {
    **_WORDS, **_REPORT, **_CITY_REPORT, **_MAP, **_MAP_FIND,
    **{f"sentence_{k}": v for k, v in _SENTENCES.items()},
    **{f"column_{k}": v for k, v in _COLUMNS.items()},
    **{f"column_of_tier_{k}": v for k, v in _COLUMN_OF_TIER.items()}, **_WORKBOOK}
"""Every key and its words, one per language of :data:`LANGS`."""


def t(key: str, lang: str = "zh") -> str:
    """The word for ``key`` in ``lang`` ('zh' or 'en'); the key itself when unknown."""
    words = TEXT.get(key)
    if words is None:
        return key
    return words[LANGS.index(lang)]


def unit(key: str, lang: str = "zh") -> str:
    """The word for a demand class or layer ('village' → 行政村, 'residential' → 居住)."""
    return t(f"{key}_unit", lang) if f"{key}_unit" in TEXT else t(key, lang)


def header(key: str, lang: str = "zh") -> str:
    """A table column's header in ``lang`` (the key itself for an unknown column).

    A per-tier column ``new_locker`` is worded with its tier: 智能快件箱新建.
    """
    if f"column_{key}" in TEXT:
        return t(f"column_{key}", lang)
    for prefix in _COLUMN_OF_TIER:
        if key.startswith(prefix):
            return Words(lang).fill(f"column_of_tier_{prefix}", tier=t(key[len(prefix):], lang))
    return key


def header_keys() -> dict[str, str]:
    """Every language's header of every column, to its key (for reading a table back)."""
    return {words[i]: key for key, words in _COLUMNS.items() for i in range(len(LANGS))}


def says_generated(text: str) -> bool:
    """Whether ``text`` already says, in either language, that its data are generated."""
    return any(word in text.lower() for word in ("生成数据", "generated"))


@dataclass(frozen=True)
class Words:
    """The words of one language: ``w('legend')``, ``w.fill('targets_met', met=3, total=4)``."""

    lang: str = "zh"

    def __call__(self, key: str) -> str:
        """The word for ``key``."""
        return t(key, self.lang)

    def fill(self, key: str, **values: Any) -> str:
        """The template of ``key`` with ``values`` filled in (``str.format`` fields)."""
        return t(key, self.lang).format(**values)

    def unit(self, key: str) -> str:
        """The word for a demand class or layer."""
        return unit(key, self.lang)

    def join(self, items: Iterable[str]) -> str:
        """Items joined as a list is written in the language (、 or , )."""
        return self("sep").join(items)


def phrase(p: Phrase, lang: str = "zh") -> str:
    """The sentence of a target, from what it asks."""
    w = Words(lang)
    tier = w(p.tier)
    if p.kind == "count":
        return w.fill("sentence_count", tier=tier, n=p.n)
    if p.kind == "each":
        return w.fill("sentence_each", tier=tier, what=w.unit(p.classes[0]))
    if p.kind == "capacity":
        return w.fill("sentence_capacity", tier=tier)
    if p.kind.startswith("city_"):
        return w.fill(f"sentence_{p.kind}", n=p.n)
    return _cover(p, w)


def _cover(p: Phrase, w: Words) -> str:
    """A tier's main target: inside a unit, reach maximised, or every unit within reach."""
    tier, how = w(p.tier), w("walk" if p.network == "walk" else "road")
    if p.reach == "inside":
        what = w.unit(p.classes[0]) if p.classes else w.unit(p.demand)
        return w.fill("sentence_inside", what=what, tier=tier)
    if p.coverage == "maximise":
        names = w.join(w.unit(c) for c in p.classes or (p.demand,))
        key = {"floor_area": "floor_area", "population": "population"}.get(p.weight, "count")
        what = w.fill(f"sentence_reach_{key}", names=names)
        return w.fill("sentence_reach", tier=tier, how=how, radius=p.radius_m, what=what)
    if p.demand == "osm_buildings" or (
            p.classes and set(p.classes) <= {"residential", "commercial", "government"}):
        classes = p.classes or ("residential", "commercial", "government")
        building = "what_building" if p.demand == "osm_buildings" else "what_area"
        return w.fill("sentence_cover", names=w.join(w(c) for c in classes), what=w(building),
                      how=how, radius=p.radius_m, tier=tier)
    what = w.join(w.unit(x) for x in p.classes) if p.classes else w.unit(p.demand)
    return w.fill("sentence_every", what=what, how=how, radius=p.radius_m, tier=tier)


def source(value: str, lang: str = "zh") -> str:
    """Where a site's row came from, in words (a facility file's own type stays as written)."""
    key = f"source_{value}"
    return t(key, lang) if key in TEXT else value


def short_name(name: str) -> str:
    """A committee's name without its 村民委员会 / 居民委员会 suffix, for map labels."""
    for suffix, instead in COMMITTEE_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)] + instead
    return name
