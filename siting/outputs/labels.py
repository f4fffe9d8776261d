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

SENTENCE_SEP = ("", " ")
"""Between two sentences, per language of :data:`LANGS` (Chinese puts no space)."""

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
    "tradeoff_axis": ("新建站点数占本方案新建数的比例", "new sites, as a share of the plan's"),
    "tradeoff_y_axis": ("覆盖的需求比例", "demand reached"),
    "tradeoff_legend": ("{tier}（100% = {n:,} 个）", "{tier} (100% = {n:,})"),
    "per_township": ("各乡镇（街道）站点数", "Sites per township"),
    "stage": ("阶段", "stage"),
    "stage_status": ("状态", "status"),
    "solver": ("求解器", "solver"),
    "objective": ("目标值", "objective"),
    "bound": ("证明的界", "bound"),
    "gap": ("间隙", "gap"),
    "seconds": ("秒", "s"),
    "role": ("用途", "role"),
    "file": ("文件", "file"),
    "sha256": ("SHA-256", "SHA-256"),
    "proven_gap_short": ("证明间隙", "proven gap"),
    "time_limit": ("时间限制", "time limit"),
    "size_network": ("路网：{nodes:,} 个节点，{segments:,} 条路段",
                     "network: {nodes:,} nodes, {segments:,} segments"),
    "size_units": ("需求单元 {units:,} 个；候选站点 {sites:,} 个",
                   "demand units: {units:,}; candidate sites: {sites:,}"),
    "unsnapped": ("未接入{mode}路网：", "not attached to the {mode} network: "),
    "attribution_generated": (
        "生成数据（siting 生成器），叠加真实行政框架：乡镇边界 © Azavea（Apache-2.0），"
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
    "col_gap": ("可避免费用间隙", "avoidable gap"),
    "col_solve_s": ("求解秒", "solve s"),
    "col_run_s": ("总秒", "run s"),
    "solver_optimal": ("已证明", "optimal"),
    "solver_feasible": ("未证明", "feasible"),
    "solver_infeasible": ("无可行解", "infeasible"),
    "solver_no_solution": ("无解", "no solution"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
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
    "spare_compartments": ("空余格口", "spare_compartments"),
    "generated": ("生成数据", "generated"),
    "county": ("区县", "county"),
    "code": ("代码", "code"),
    "layer": ("图层", "layer"),
    "population": ("人口", "population"),
    "reason": ("原因", "reason"),
    "nearest_m": ("距最近开放站点（米）", "nearest_m"),
    # the build order ([phasing]): sites.csv's year, the 分年 sheet
    "year": ("建设年份", "year"),
    "budget": ("年度预算", "budget"),
    "available": ("可用资金", "available"),
    "spent": ("当年支出", "spent"),
    "cumulative_spent": ("累计支出", "cumulative_spent"),
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

_PHASING: dict[str, tuple[str, str]] = {
    # the build order over the plan's years ([phasing])
    "sheet_phasing": ("分年", "phasing"),
    "phasing_title": ("分年建设", "Build order by year"),
    "phasing_money": ("各年资金与新建站点", "Money and sites by year"),
    "phasing_levels": ("各目标年末水平（独立核验）", "Each target by year-end (checked)"),
    "phasing_rule": (
        "同一站点的各类新建设施同年建设，按站点总费用计（场地、箱体，减合址节省）；"
        "先使各覆盖目标（按人口或单元数）尽早达到，再尽早达成数量与格口目标。",
        "A site's new tiers are built in the same year, at the site's total cost (site, "
        "bank, less the co-location saving); every coverage target (by population or units) "
        "is reached as early as the money allows, then the count and capacity targets."),
    "phasing_carry": ("当年未用资金结转下一年。", "A year's unspent money carries over."),
    "phasing_no_carry": ("各年资金不结转。", "A year's unspent money does not carry over."),
    "phasing_solver": ("分年模型（HiGHS）：{status}，目标值 {objective}，界 {bound}，"
                       "证明间隙 {gap}；贪心起点 {greedy}",
                       "build-order model (HiGHS): {status}, objective {objective}, "
                       "bound {bound}, proven gap {gap}; greedy start {greedy}"),
    "phasing_unbuilt": ("资金不足，规划期内未建的站点：", "Not built within the years (money "
                        "short): "),
    "phasing_complete": ("最后一年建成全部规划站点（与不分年方案相同）。",
                         "The last year completes the plan (the same sites as unphased)."),
    "before_plan": ("现状", "existing"),
    "col_year": ("年份", "year"),
    "col_sites_built": ("新建站点", "sites built"),
    "phasing_target_column": ("{target}（要求 {required}）", "{target} (required {required})"),
    "year_filter": ("建设年份", "build year"),
    "all_years": ("全部", "all years"),
    "by_year_end": ("{year} 年底前", "built by end of {year}"),
    # the city report's build order, the counties' years summed
    "city_phasing_title": ("全市分年建设", "Build order by year, citywide"),
    "city_phasing_rule": (
        "各年资金、支出与新建站点为分年建设各区县当年之和；各目标为年末水平，与全市汇总同一口径"
        "相加（某区县未列的年份不支出，水平保持其上一年）。",
        "Each year's money, spend and new sites are the phasing counties' of that year, "
        "summed; each target is its level by the year's end, summed as the citywide totals "
        "are (a county spends nothing in a year it does not list, and keeps its level of "
        "the year before)."),
    "city_phasing_not_phased": ("未分年建设的区县（其站点不计入任何一年）：{counties}。",
                                "Not phased (their sites are counted in no year): {counties}."),
    "city_phasing_unbuilt": ("资金不足、规划期内仍有站点未建的区县：{counties}。",
                             "Counties whose money leaves plan sites unbuilt: {counties}."),
    "city_phasing_unbuilt_county": ("{county}（{n:,} 个站点）", "{county} ({n:,} sites)"),
    "city_phasing_complete": ("各区县均分年建设并建成全部规划站点：最后一年即全市汇总。",
                              "Every county phases and completes its plan: the last year "
                              "is the citywide total."),
    "city_phasing_levels": ("全市各目标年末水平", "Each citywide target by year-end"),
}

_RUN_WORDS: dict[str, tuple[str, str]] = {
    # the solver's statuses and stages, the run's stages and input roles, in words
    "drive": ("车行", "driving"),
    "status_optimal": ("最优（已证明在要求的间隙内）", "optimal (proven within the gap asked)"),
    "status_feasible": ("可行（未证明最优）", "feasible (not proven optimal)"),
    "status_infeasible": ("无可行解", "infeasible"),
    "status_no_solution": ("未找到解", "no solution"),
    "status_skipped": ("未计算", "not computed"),
    "stage_minimum cost": ("最低费用", "minimum cost"),
    "stage_most reached weight at that cost": ("同等费用下覆盖最多",
                                               "most reached weight at that cost"),
    "stage_most reached weight": ("覆盖最多", "most reached weight"),
    "stage_least cost at that reach": ("同等覆盖下费用最低", "least cost at that reach"),
    "stage_least weighted distance": ("加权距离最小", "least weighted distance"),
    "solver_pieces": ("{name}（分为 {n} 个子问题求解）", "{name} ({n} pieces apart)"),
    "solver_no_solve": ("无需求解：可达单元均已覆盖", "no solve: every reachable row is reached"),
    "timing_read": ("读取输入", "read"),
    "timing_candidates": ("候选站点", "candidates"),
    "timing_distances": ("路网距离", "distances"),
    "timing_model": ("建模与求解", "model"),
    "timing_check": ("独立核验", "check"),
    "timing_target_costs": ("目标代价", "target costs"),
    "timing_compartment_cost": ("格口目标代价", "compartment target cost"),
    "timing_chain": ("三级链路", "chain"),
    "timing_phasing": ("分年建设", "phasing"),
    "timing_tradeoff": ("权衡曲线", "trade-off"),
    "timing_build_model": ("其中建模", "build model"),
    "timing_solve": ("其中求解", "solve"),
    "role_osm": ("路网", "roads"),
    "role_facilities": ("现有网点", "existing outlets"),
    "notes_in_json": ("运行检查另有 {n} 条提示，其英文原文保存在 report.json 中；"
                      "其中影响目标的已在上文说明。",
                      "{n} notes of the run's checks are kept in report.json."),
}

_ADVICE: dict[str, tuple[str, str]] = {
    # what each target costs, the sites that reach no one, the next steps (siting.outputs.advice)
    "target_costs_title": ("各目标的代价（去掉该目标再求解一次）",
                           "What each target costs (solved again without it)"),
    "target_costs_none": ("本方案没有数量或格口容量目标。",
                          "The plan has no count or capacity target."),
    "tc_count_max": (
        "{tier}：不设数量目标时，新建 {without_new:,} 个即可覆盖本方案覆盖的全部{what}单元，"
        "总费用 {without_cost}；数量目标（不少于 {n:,} 个）要求新建 {plan_new:,} 个，"
        "多出 {extra_sites:,} 个，增加费用约 {extra}，占总费用 {share}（证明区间 {lo} 至 {hi}）。",
        "{tier}: without the count, {without_new:,} new sites reach every {what} unit the plan "
        "reaches, for a total cost of {without_cost}; the count (at least {n:,}) asks for "
        "{plan_new:,} new, {extra_sites:,} more, adding about {extra}, {share} of the total "
        "(proven between {lo} and {hi})."),
    "tc_idle": ("其中 {idle:,} 个新建网点的服务范围内没有任何需求单元，只为凑足数量。",
                "{idle:,} of the new sites reach no demand unit: they are there for the count "
                "alone."),
    "tc_count": (
        "{tier}：不设数量目标时新建 {without_new:,} 个，总费用 {without_cost}；数量目标（不少于 "
        "{n:,} 个）要求新建 {plan_new:,} 个，多出 {extra_sites:,} 个，增加费用约 {extra}，占总费用 "
        "{share}（证明区间 {lo} 至 {hi}）。",
        "{tier}: without the count, {without_new:,} new sites, for a total of {without_cost}; "
        "the count (at least {n:,}) asks for {plan_new:,} new, {extra_sites:,} more, adding "
        "about {extra}, {share} of the total (proven between {lo} and {hi})."),
    "tc_capacity": (
        "{tier}：若不要求格口容量（每处新建只设最小箱体），新建 {without_new:,} 处即可，总费用 "
        "{without_cost}；格口容量目标要求新建 {plan_new:,} 处并配足箱体，增加费用约 {extra}，"
        "占总费用 {share}（证明区间 {lo} 至 {hi}）。",
        "{tier}: without compartments to hold (the smallest bank at each new site), "
        "{without_new:,} new sites, for a total of {without_cost}; the capacity target asks "
        "for {plan_new:,} new sites with banks large enough, adding about {extra}, {share} of "
        "the total (proven between {lo} and {hi})."),
    "tc_solve": ("去掉该目标的求解：{status}，可避免间隙 {gap}。",
                 "The solve without it: {status}, avoidable gap {gap}."),
    "tc_time": ("用时 {used} 秒（分得剩余时间 {given} 秒）",
                "{used} s (given {given} s of the time left)"),
    "tc_skipped": ("{tier}：“{target}”的代价未计算：方案本身的求解已用完时间限制。",
                   "{tier}: the cost of “{target}” was not computed: the plan's own solve used "
                   "the whole time limit."),
    "idle_title": ("服务范围内没有任何需求单元的站点", "Sites that reach no demand unit"),
    "idle_none": ("每个开放站点的服务范围内都有需求单元。",
                  "Every open site reaches a demand unit."),
    "idle_line": ("{tier}：{open:,} 处开放站点中有 {idle:,} 处的服务范围内没有任何需求单元"
                  "（现有 {existing:,} 处，新建 {new:,} 处）。",
                  "{tier}: {idle:,} of {open:,} open sites reach no demand unit ({existing:,} "
                  "existing, {new:,} new)."),
    "idle_why_existing": ("现有的 {n:,} 处已建成、不花费用，保留并计入各项目标。",
                          "The {n:,} existing ones are there already, cost nothing, and count "
                          "toward every target."),
    "idle_why_count": ("新建的 {n:,} 处为满足数量目标而设。",
                       "The {n:,} new ones are there for the count target."),
    "idle_why_other": ("新建的 {n:,} 处由其他目标（合址、每个社区至少一处）要求。",
                       "The {n:,} new ones are there for another target (co-location, one in "
                       "each community)."),
    "idle_more": ("另有 {n:,} 处未列出，见 sites.csv（可达单元数为 0 的行）。",
                  "{n:,} more are not listed: see sites.csv (the rows with reach_units 0)."),
    "next_steps_title": ("下一步", "Next steps"),
    "next_steps_none": ("各项目标均已达标，无需进一步处理。",
                        "Every target is met; nothing is left to do."),
    "step_reason_no_road": (
        "{units}：{m:g} 米内没有道路，{tier}无法到达。请在路网文件中补上通往这些单元的道路"
        "（或核实其边界位置），或调大 [network] max_snap_m 后重新运行。",
        "{units}: no road within {m:g} m, so no {tier} can reach them. Add the road to them to "
        "the road file (or check where their boundary lies), or raise [network] max_snap_m "
        "and run again."),
    "step_reason_no_site": (
        "{units}：{r:g} 米内没有可选站点。请放宽 [tiers.{tier_key}] radius_m，或增加候选站点"
        "（调小 [candidates] min_spacing_m）。",
        "{units}: no possible site within {r:g} m. Widen [tiers.{tier_key}] radius_m, or allow "
        "more candidates (a smaller [candidates] min_spacing_m)."),
    "step_reason_far": (
        "{units}：最近的开放站点超出 {r:g} 米。请调大 [solver] time_limit_s 重新求解，或放宽 "
        "[tiers.{tier_key}] radius_m。",
        "{units}: the nearest open site is beyond {r:g} m. Give the solver more time ([solver] "
        "time_limit_s), or widen [tiers.{tier_key}] radius_m."),
    "step_reason_not_chosen": (
        "{units}：服务范围内没有开放站点。请调大 [solver] time_limit_s 后重新运行。",
        "{units}: no open site within reach. Give the solver more time ([solver] time_limit_s) "
        "and run again."),
    "step_capacity_short": (
        "{tier}：{n:,} 个区域的快件格口需求超出其服务范围内可设箱体的容量。请增加更大的箱体规格"
        "（[tiers.locker] sizes）或放宽 radius_m。",
        "{tier}: {n:,} areas need more compartments than the banks within reach can hold. Add "
        "a larger bank size ([tiers.locker] sizes) or widen radius_m."),
    "step_count": (
        "{tier}的数量目标（不少于 {n:,} 个）使费用增加约 {extra}（占总费用 {share}），"
        "为此多建 {sites:,} 个。",
        "The {tier} count (at least {n:,}) adds about {extra} ({share} of the total) and "
        "{sites:,} sites."),
    "step_count_idle": ("其中 {idle:,} 个服务范围内没有任何需求单元。",
                        "{idle:,} of them reach no demand unit."),
    "step_count_do": ("请与市局核实分配给本区的数量（按 2020 年城镇人口分摊），"
                      "或把多出的网点放在居民最多的社区内。",
                      "Check the county's share with the city administration (apportioned by "
                      "2020 urban population), or put the extra points in the most populous "
                      "communities."),
    "step_capacity": (
        "{tier}的格口容量目标使费用增加约 {extra}（占总费用 {share}）。",
        "The {tier} capacity target adds about {extra} ({share} of the total)."),
    "step_capacity_do": ("请核实决定格口需求的参数（parcels_per_person_day、locker_share、"
                         "dwell_days）。",
                         "Check the figures that set the compartments needed "
                         "(parcels_per_person_day, locker_share, dwell_days)."),
    "step_not_priced": ("{tier}目标的代价未计算：请调大 [solver] time_limit_s，为去掉目标的求解"
                        "留出时间。",
                        "The cost of the {tier} targets was not computed: raise [solver] "
                        "time_limit_s to leave time for the solves without them."),
    "step_idle_existing": (
        "现有{tier} {of:,} 处中有 {n:,} 处服务范围内没有任何需求单元：请在现有网点文件中核实"
        "其位置与类型（坐标或类型可能有误）。",
        "{n:,} of the {of:,} existing {tier}s reach no demand unit: check their position and "
        "type in the existing facilities file (a wrong coordinate or type?)."),
    "step_time_limit": (
        "求解被时间限制（{limit:g} 秒）停止，可避免费用上的证明间隙为 {gap}：调大 [solver] "
        "time_limit_s 可得到更省或已证明最优的方案。",
        "The time limit ({limit:g} s) stopped the solve at a proven gap of {gap} on the "
        "avoidable cost: raise [solver] time_limit_s for a cheaper or proven plan."),
    "step_generated": ("本方案基于生成数据：把真实文件放入 data/zhengzhou/ 下本县区的文件夹后"
                       "重新运行。",
                       "This plan is made from generated data: put the real files in the "
                       "county's folder under data/zhengzhou/ and run again."),
    "per_township_table": ("各乡镇（街道）新建站点、费用与未覆盖单元",
                           "Per township: new sites, cost and units not served"),
}

_CHAIN: dict[str, tuple[str, str]] = {
    # the three-level chain (专栏5) and the compartment target (发展目标), issue 14
    "sentence_chain": ("每个行政村的三级链路（县级处理中心→乡镇网点→村级网点）道路距离"
                       "不超过 {km:g} 公里",
                       "every village's chain (county centre → township outlet → village "
                       "outlet) within {km:g} km by road"),
    "sentence_compartments": ("{tier}格口（现有加新建）不少于 {n:,} 个",
                              "at least {n:,} {tier} compartments open (existing and new)"),
    "centre": ("县级处理中心", "county processing centre"),
    "new_centre": ("新建县级处理中心", "new county processing centre"),
    "chain": ("三级链路", "chain"),
    "chain_layer": ("三级链路（中心→乡镇→村）", "chain (centre → township → village)"),
    "sheet_chain": ("三级链路", "chain"),
    "column_village_outlet": ("村级网点", "village_outlet"),
    "column_township_outlet": ("乡镇网点", "township_outlet"),
    "column_centre": ("县级处理中心", "centre"),
    "column_outlet_km": ("村→村级网点（公里）", "outlet_km"),
    "column_township_km": ("乡镇网点→村级网点（公里）", "township_km"),
    "column_centre_km": ("中心→乡镇网点（公里）", "centre_km"),
    "column_chain_km": ("链路合计（公里）", "chain_km"),
    "column_beyond": ("超出限值", "beyond"),
    "beyond_mark": ("超出", "beyond"),
    "chain_summary": ("三级链路：{n:,} 个行政村，中心 {centres} 个（新建 {new} 个），链路平均 "
                      "{mean:.1f} 公里，最长 {longest:.1f} 公里",
                      "chain: {n:,} villages, {centres} centres ({new} new), mean {mean:.1f} km, "
                      "longest {longest:.1f} km"),
    "chain_beyond": ("超过 {km:g} 公里的行政村 {n:,} 个", "{n:,} villages beyond {km:g} km"),
    "sentence_city_chain": ("各县区行政村三级链路在限值内", "villages' chains within each "
                            "county's limit"),
    "city_target_cost": ("达到全市格口目标的代价：{cost:,.0f}，介于 {at_least:,.0f} 与 "
                         "{at_most:,.0f} 之间（含目标 {with_target:,.0f}，仅按需求配置 "
                         "{without:,.0f}，届时开放格口 {open_without:,.0f} 个）",
                         "reaching the citywide compartment target costs {cost:,.0f}, between "
                         "{at_least:,.0f} and {at_most:,.0f} ({with_target:,.0f} with it, "
                         "{without:,.0f} sized to demand alone, which opens "
                         "{open_without:,.0f} compartments)"),
    "city_chain": ("三级链路：{villages:,} 个行政村，{centres} 个县级处理中心，超出限值 {beyond:,} "
                   "个，最长 {longest:.1f} 公里",
                   "chain: {villages:,} villages, {centres} county centres, {beyond:,} beyond "
                   "the limit, longest {longest:.1f} km"),
    "target_cost": ("达到{what}的代价：{cost:,.0f}，介于 {at_least:,.0f} 与 {at_most:,.0f} 之间"
                    "（含目标 {with_target:,.0f}，仅按需求配置 {without:,.0f}）",
                    "reaching {what} costs {cost:,.0f}, between {at_least:,.0f} and "
                    "{at_most:,.0f} ({with_target:,.0f} with the target, {without:,.0f} sized "
                    "to demand alone)"),
}

_COMPARE: dict[str, tuple[str, str]] = {
    # siting compare (scenarios side by side) and siting sweep
    "compare_title": ("方案比较", "Scenarios compared"),
    "compare_runs": ("比较的方案（第一个为基准）", "Runs compared (the first is the base)"),
    "compare_targets": ("规划目标", "Targets"),
    "compare_cost": ("各类站点费用", "Cost per tier"),
    "col_run": ("方案", "run"),
    "col_folder": ("输出文件夹", "folder"),
    "col_kind": ("类型", "kind"),
    "kind_run": ("区县方案", "county run"),
    "kind_city": ("全市汇总", "city"),
    "added": ("新增", "added"),
    "removed": ("取消", "removed"),
    "kept": ("保留", "kept"),
    "sites_diff": ("站点差异：{other} 相对 {base}", "Sites: {other} against {base}"),
    "diff_counts": ("新增 {added} 个，取消 {removed} 个，保留 {kept} 个",
                    "{added} added, {removed} removed, {kept} kept"),
    "match_note": ("站点按类型（及区县）与位置匹配：相距 {m:g} 米以内视为同一站点。",
                   "Sites are matched by tier (and county) and position: within {m:g} m they "
                   "are the same site."),
    "col_moved": ("位移（米）", "moved (m)"),
    "no_difference": ("两个方案的站点相同。", "The two plans open the same sites."),
    "diff_layer": ("{other} 相对 {base}：{what}", "{other} vs {base}: {what}"),
    "sweep_title": ("参数扫描", "Sweep"),
    "sweep_tasks": ("任务", "Tasks"),
    "col_task": ("任务", "task"),
    "col_variant": ("方案", "variant"),
    "col_attempts": ("尝试次数", "attempts"),
    "col_reused": ("沿用上次结果", "reused"),
    "col_message": ("说明", "message"),
    "task_done": ("完成", "done"),
    "task_reused": ("沿用", "reused"),
    "task_failed": ("失败", "failed"),
    "retries_line": ("工作进程中断后重新运行的任务：{n}",
                     "tasks run again after a worker was lost: {n}"),
    "cost_coverage": ("费用与覆盖率（各方案、各区县）",
                      "Cost against coverage (per variant and county)"),
    "axis_cost": ("费用", "cost"),
    "axis_coverage": ("规划目标单元覆盖率", "share of target units met"),
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
    "spare": ("空余格口", "compartments spare"),
    "value_why": ("{value}（{why}）", "{value} ({why})"),
    "spare_for_target": ("附近需求已由其他箱体承接，此箱体为格口总量目标而设",
                         "nearby demand is met by other banks: this bank is there for the "
                         "compartment target"),
    "spare_unneeded": ("附近需求已由其他箱体承接，方案在其证明的差距内而非精确最优，此箱体或可取消",
                       "nearby demand is met by other banks: the plan is proven within its gap, "
                       "not exact, and may not need this bank"),
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
    **_WORDS, **_REPORT, **_CITY_REPORT, **_MAP, **_MAP_FIND, **_CHAIN, **_COMPARE,
    **{f"sentence_{k}": v for k, v in _SENTENCES.items()},
    **{f"column_{k}": v for k, v in _COLUMNS.items()},
    **{f"column_of_tier_{k}": v for k, v in _COLUMN_OF_TIER.items()}, **_WORKBOOK,
    **_PHASING, **_RUN_WORDS, **_ADVICE}
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


def role(key: str, lang: str = "zh") -> str:
    """An input file's role in words: ``layers.villages`` → 行政村, ``network.osm`` → 路网."""
    last = key.rsplit(".", 1)[-1]
    return t(f"role_{last}", lang) if f"role_{last}" in TEXT else unit(last, lang)


def notes_in_language(notes: list[str], lang: str) -> list[str]:
    """The run's notes as the report shows them.

    They are written in English, so a report in another language shows none (it says how
    many there are, and where).
    """
    return list(notes) if lang == "en" else []


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

    def of(self, kind: str, key: str) -> str:
        """The word for a value of a kind: ``w.of('status', 'optimal')`` (key status_optimal)."""
        return self(f"{kind}_{key}")

    def sentences(self, parts: Iterable[str]) -> str:
        """Sentences one after the other, as the language writes them."""
        return SENTENCE_SEP[LANGS.index(self.lang)].join(parts)

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
    if p.kind == "compartments":
        return w.fill("sentence_compartments", tier=tier, n=p.n)
    if p.kind == "chain":
        return w.fill("sentence_chain", km=p.radius_m / 1000.0)
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


_GPKG: dict[str, tuple[str, str]] = {
    # sites.gpkg: its layers (the table names QGIS lists), styles and legend entries
    "layer_townships": ("乡镇（街道）", "townships"),
    "layer_villages": ("行政村", "villages"),
    "layer_communities": ("社区", "communities"),
    "layer_areas": ("区域（居住、商业、政务）", "areas"),
    "layer_buildings": ("建筑", "buildings"),
    "layer_sites": ("站点", "sites"),
    "layer_allocation": ("服务关系线", "allocation"),
    "layer_chain": ("县乡村三级链路", "chain"),
    "layer_service_areas": ("服务范围", "service_areas"),
    "style_coverage": ("{tier}覆盖", "{tier} coverage"),
    "style_sites": ("站点（按类型）", "sites by type"),
    "style_townships": ("乡镇服务情况", "townships served"),
    "style_lines": ("服务关系（按类型）", "allocation by type"),
    "not_demand": ("非该类网点需求", "not this tier's demand"),
    "all_served": ("需求单元全部已服务", "every unit served"),
    "some_unserved": ("有未服务的需求单元", "units not served"),
    "colocated": ("合址", "co-located"),
}

_FIELDS: dict[str, tuple[str, str]] = {
    # the GeoPackage's field aliases, beyond the hand-out headers (column_*)
    "class": ("类别", "class"),
    "floor_m2": ("建筑面积（平方米）", "floor area (m²)"),
    "served": ("已服务", "served"),
    "dist_m": ("道路距离（米）", "road distance (m)"),
    "share_served": ("已服务比例", "share of units served"),
    "all_served": ("全部已服务", "every unit served"),
}

_FIELDS_OF_TIER: dict[str, tuple[str, str]] = {
    # per-tier fields, ``<tier><suffix>``: the tier's name fills {tier}
    "_dist_m": ("{tier}：距最近站点（米）", "{tier}: to the nearest site (m)"),
    "_served": ("{tier}：已覆盖", "{tier}: covered"),
    "_site": ("{tier}：服务站点", "{tier}: serving site"),
    "_site_m": ("{tier}：距服务站点（米）", "{tier}: to the serving site (m)"),
    "_sites": ("{tier}：站点数", "{tier}: sites"),
    "_new": ("{tier}：新建站点数", "{tier}: new sites"),
    "_units": ("{tier}：需求单元数", "{tier}: demand units"),
    "_units_served": ("{tier}：已服务单元数", "{tier}: units served"),
}

TEXT.update({**_GPKG, **{f"field_{k}": v for k, v in _FIELDS.items()},
             **{f"field_of_tier{k}": v for k, v in _FIELDS_OF_TIER.items()}})


def field_alias(key: str, lang: str = "zh", *, tiers: Iterable[str] = ()) -> str:
    """A GeoPackage field's alias in ``lang``: ``locker_served`` → 智能快件箱：已覆盖.

    A field of one of ``tiers`` (``<tier><suffix>``) is worded with its tier; the hand-out
    columns keep their headers (:func:`header`); an unknown field keeps its name.
    """
    for tier in tiers:
        suffix = key[len(tier):] if key.startswith(tier) else ""
        if f"field_of_tier{suffix}" in TEXT:
            return Words(lang).fill(f"field_of_tier{suffix}", tier=t(tier, lang))
    if f"field_{key}" in TEXT:
        return t(f"field_{key}", lang)
    return header(key, lang)
