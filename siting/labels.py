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
}


def t(key: str, lang: str = "zh") -> str:
    """The word for ``key`` in ``lang`` ('zh' or 'en'); the key itself when unknown."""
    pair = _TEXT.get(key)
    if pair is None:
        return key
    return pair[0] if lang == "zh" else pair[1]


def cover_text(tier: str, radius: float, classes: tuple[str, ...], mode: str,
               lang: str = "zh") -> str:
    """'Every residential, commercial building within 300 m walking of a smart locker bank'."""
    names = "、".join(t(c, lang) for c in classes) if lang == "zh" else \
        ", ".join(t(c, lang) for c in classes)
    if lang == "zh":
        how = "步行" if mode == "walk" else "道路"
        return f"所有{names}建筑{how}{radius:g} 米内有{t(tier, lang)}"
    how = "walking" if mode == "walk" else "by road"
    return f"every {names} building within {radius:g} m {how} of a {t(tier, lang)}"


def reach_text(tier: str, radius: float, classes: tuple[str, ...], weight: str, mode: str,
               lang: str = "zh") -> str:
    """'Residential floor area within 500 m walking of a community service point'."""
    if lang == "zh":
        names = "、".join(t(c, lang) for c in classes)
        what = f"{names}建筑面积" if weight == "floor_area" else f"{names}建筑数"
        how = "步行" if mode == "walk" else "道路"
        return f"{t(tier, lang)}{how}{radius:g} 米内的{what}"
    names = ", ".join(t(c, lang) for c in classes)
    what = f"{names} floor area" if weight == "floor_area" else f"{names} buildings"
    how = "walking" if mode == "walk" else "by road"
    return f"{what} within {radius:g} m {how} of a {t(tier, lang)}"


def count_text(tier: str, n: int, lang: str = "zh") -> str:
    """'At least 8 community service points'."""
    if lang == "zh":
        return f"{t(tier, lang)}不少于 {n:,} 个"
    return f"at least {n:,} {t(tier, lang)}s"
