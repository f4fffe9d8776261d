"""Words shown to people, in Chinese (default) and English."""

from __future__ import annotations

_TEXT: dict[str, tuple[str, str]] = {
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
}


def t(key: str, lang: str = "zh") -> str:
    """The word for ``key`` in ``lang`` ('zh' or 'en'); the key itself when unknown."""
    pair = _TEXT.get(key)
    if pair is None:
        return key
    return pair[0] if lang == "zh" else pair[1]


def unit(key: str, lang: str = "zh") -> str:
    """The word for a demand class or layer ('village' → 行政村, 'residential' → 居住)."""
    return t(f"{key}_unit", lang) if f"{key}_unit" in _TEXT else t(key, lang)


def cover_text(tier: str, radius: float, classes: tuple[str, ...], mode: str,
               lang: str = "zh", *, building: bool = True) -> str:
    """'Every residential, commercial building within 300 m walking of a smart locker bank'."""
    names = "、".join(t(c, lang) for c in classes) if lang == "zh" else \
        ", ".join(t(c, lang) for c in classes)
    if lang == "zh":
        how = "步行" if mode == "walk" else "道路"
        what = "建筑" if building else "区"
        return f"所有{names}{what}{how}{radius:g} 米内有{t(tier, lang)}"
    how = "walking" if mode == "walk" else "by road"
    what = "building" if building else "area"
    return f"every {names} {what} within {radius:g} m {how} of a {t(tier, lang)}"


def reach_text(tier: str, radius: float, classes: tuple[str, ...], weight: str, mode: str,
               lang: str = "zh") -> str:
    """'Residential floor area within 500 m walking of a community service point'."""
    if lang == "zh":
        names = "、".join(unit(c, lang) for c in classes)
        what = {"floor_area": f"{names}建筑面积", "population": f"{names}人口"}.get(
            weight, f"{names}数量")
        how = "步行" if mode == "walk" else "道路"
        return f"{t(tier, lang)}{how}{radius:g} 米内的{what}"
    names = ", ".join(unit(c, lang) for c in classes)
    what = {"floor_area": f"{names} floor area", "population": f"{names} population"}.get(
        weight, f"{names} units")
    how = "walking" if mode == "walk" else "by road"
    return f"{what} within {radius:g} m {how} of a {t(tier, lang)}"


def count_text(tier: str, n: int, lang: str = "zh") -> str:
    """'At least 8 community service points'."""
    if lang == "zh":
        return f"{t(tier, lang)}不少于 {n:,} 个"
    return f"at least {n:,} {t(tier, lang)}s"


def target_text(tier: str, cfg: object, lang: str = "zh") -> str:
    """What a tier's main target says, from its configuration."""
    c = cfg  # a TierConfig (not imported here, to keep this module free of the scenario)
    classes = tuple(getattr(c, "classes", ()) or ())
    demand = getattr(c, "demand", "")
    radius = getattr(c, "radius_m", None) or 0.0
    mode = getattr(c, "network", "walk")
    if getattr(c, "reach", "road") == "inside":
        what = unit(classes[0], lang) if classes else unit(demand, lang)
        if lang == "zh":
            return f"每个{what}内有{t(tier, lang)}"
        return f"every {what} holds a {t(tier, lang)}"
    if getattr(c, "coverage", "all") == "maximise":
        return reach_text(tier, radius, classes or (demand,), getattr(c, "weight", "count"),
                          mode, lang)
    if demand == "osm_buildings" or (
            classes and set(classes) <= {"residential", "commercial", "government"}):
        return cover_text(tier, radius, classes or ("residential", "commercial", "government"),
                          mode, lang, building=demand == "osm_buildings")
    what = "、".join(unit(x, lang) for x in classes) if classes else unit(demand, lang)
    if lang == "zh":
        how = "步行" if mode == "walk" else "道路"
        return f"所有{what}{how}{radius:g} 米内有{t(tier, lang)}"
    how = "walking" if mode == "walk" else "by road"
    return f"every {what} within {radius:g} m {how} of a {t(tier, lang)}"


def each_text(tier: str, cls: str, lang: str = "zh") -> str:
    """'Every community holds at least one community service point'."""
    if lang == "zh":
        return f"每个{unit(cls, lang)}至少有 1 个{t(tier, lang)}"
    return f"every {unit(cls, lang)} holds at least one {t(tier, lang)}"


_CITY = {
    "township": ("每个乡镇（街道）有乡镇网点（乡乡有网点）",
                 "every township holds a township outlet"),
    "village": ("建制村快递通达：行政村道路范围内有村级网点",
                "administrative villages reached by a village outlet"),
    "community_plan": ("城市社区末端综合服务网点累计不少于 {n:,} 个",
                       "at least {n:,} community service points citywide"),
    "community_each": ("每个社区有社区综合服务网点",
                       "every community holds a community service point"),
    "locker": ("智能快件箱居民区、商业区、政务区全覆盖",
               "smart lockers cover every residential, commercial and government area"),
    "compartments": ("智能收投终端超过 {n:,} 组（智能快件箱格口）",
                     "more than {n:,} smart terminal units (locker compartments) citywide"),
}


def city_text(kind: str, lang: str = "zh", *, n: int = 0) -> str:
    """A citywide target's wording."""
    zh, en = _CITY[kind]
    return (zh if lang == "zh" else en).format(n=n)


def capacity_text(tier: str, lang: str = "zh") -> str:
    """'Every area's parcels fit into the lockers within reach'."""
    if lang == "zh":
        return f"各区域快件格口需求均可由服务范围内的{t(tier, lang)}容纳"
    return f"every area's compartment demand fits the {t(tier, lang)}s within reach"
