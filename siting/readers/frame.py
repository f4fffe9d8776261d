"""Zhengzhou's administrative frame from the real public layers shipped with siting.

The layers are package data in ``siting/readers/_frame/`` (read with :mod:`importlib.resources`,
so an installed wheel finds them wherever it runs), each folder with its licence file:

- 15 county-level units, 208 townships/streets and 3,306 village/community committees:
  NBS 统计用区划代码 2023 (``admin_codes_2023/``). A committee is a community (社区) when its
  name contains 社区, 居委会 or 居民委员会, otherwise a village (村委会).
- 160 township polygons of the 2000 division scheme with 2000 census population
  (``townships_2000/``).
- County census tables 2020 (7th) and 2010 (6th) (``census/``): 2020 total, urban (城镇) and
  rural (乡村) population per county.

The 2023 townships are placed on the 2000 polygons (the *crosswalk*), in this order:

1. **code** — the 2000 polygon with the same 9-digit code;
2. **name** — else the polygon of the same county whose Chinese name has the same stem
   (the name without 街道/镇/乡/办事处), or whose pinyin name matches the stem's pinyin
   (any reading of polyphonic characters; ``pypinyin``);
3. **moved** — else a polygon of another county matched the same way, if no township of its
   own county claims it (峡窝镇 moved from 荥阳 to 上街, 八岗 from 中牟 to 航空港区…);
4. **split** — else the township was carved out of older ones: it shares a host polygon of
   its own county, the one with the most 2000 population per township already placed in it
   (new streets appear where people are); a development zone with no host of its own
   (经开区) takes, the same way, the polygons no 2023 township claimed, then any.

A host polygon shared by several 2023 townships is divided among them by the generator.
"""

from __future__ import annotations

import itertools
import logging
import re
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from importlib.resources.abc import Traversable

import geopandas as gpd
import numpy as np
import pandas as pd

from siting._errors import InputError

log = logging.getLogger(__name__)

DATA = resources.files("siting.readers") / "_frame"
"""The shipped frame: package data, with the licence and attribution files of each layer."""

COUNTIES = {  # NBS code -> (slug for make targets and file names, short Chinese name)
    "410102": ("zhongyuan", "中原区"), "410103": ("erqi", "二七区"),
    "410104": ("guancheng", "管城回族区"), "410105": ("jinshui", "金水区"),
    "410106": ("shangjie", "上街区"), "410108": ("huiji", "惠济区"),
    "410122": ("zhongmu", "中牟县"), "410171": ("jingkai", "经开区"),
    "410172": ("gaoxin", "高新区"), "410173": ("hangkonggang", "航空港区"),
    "410181": ("gongyi", "巩义市"), "410182": ("xingyang", "荥阳市"),
    "410183": ("xinmi", "新密市"), "410184": ("xinzheng", "新郑市"),
    "410185": ("dengfeng", "登封市"),
}
ZONES = ("410171", "410172", "410173")
_SUFFIX = re.compile(r"(街道办事处|街道|办事处|回族乡|镇|乡|地区)$")
_PREFIX = re.compile(r"^郑州经济技术开发区")
_PY_SUFFIX = re.compile(r"( Jie Dao| Zhen| Xiang| Hui Zu Xiang)$")
_COMMUNITY = re.compile(r"社区|居委会|居民委员会")


def slug_to_code(slug: str) -> str:
    """NBS code of a county from its slug ('zhongmu' → '410122') or its code."""
    for code, (s, name) in COUNTIES.items():
        if slug in (s, code, name):
            return code
    known = ", ".join(s for s, _ in COUNTIES.values())
    raise InputError(f"unknown county '{slug}': use one of {known}")


def stem(name: str) -> str:
    """A township name without its administrative suffix ('侯寨街道' → '侯寨')."""
    return _SUFFIX.sub("", _PREFIX.sub("", name or ""))


def pinyin_keys(text: str) -> set[str]:
    """Every pinyin reading of ``text`` as lower-case syllables joined ('石佛' → shifo, shifu)."""
    from pypinyin import Style, pinyin

    readings = pinyin(text, style=Style.NORMAL, heteronym=True)
    if not readings:
        return set()
    combos = itertools.islice(itertools.product(*readings), 64)
    return {"".join(c).lower() for c in combos}


@dataclass(frozen=True)
class Frame:
    """The real frame: counties, 2023 townships and committees, 2000 polygons, census."""

    counties: pd.DataFrame       # code, name, slug, short, pop2020, urban2020, rural2020
    townships: pd.DataFrame      # code, name, county, kind, host, rule
    committees: pd.DataFrame     # code, name, township, county, kind (village|community)
    polygons: gpd.GeoDataFrame   # gbcode, name_zh, name_pinyin, pop2000, geometry (EPSG:4326)

    @cached_property
    def hosts(self) -> dict[str, list[str]]:
        """2000 polygon code -> the 2023 township codes it holds, in code order."""
        out: dict[str, list[str]] = {}
        for code, host in zip(self.townships["code"], self.townships["host"], strict=True):
            out.setdefault(host, []).append(code)
        return out

    def county(self, code: str) -> pd.Series:
        """The county row of an NBS code."""
        return self.counties[self.counties["code"] == code].iloc[0]


def load(data: Traversable = DATA) -> Frame:
    """Read the shipped layers and place the 2023 townships on the 2000 polygons."""
    counties = _counties(data)
    townships = _read_csv(data / "admin_codes_2023" / "zhengzhou_townships_streets_4101.csv")
    townships = townships.rename(columns={"areaCode": "county"})[["code", "name", "county"]]
    townships["kind"] = [_township_kind(n) for n in townships["name"]]
    committees = _read_csv(data / "admin_codes_2023" / "zhengzhou_villages_communities_4101.csv")
    committees = committees.rename(columns={"streetCode": "township", "areaCode": "county"})
    committees = committees[["code", "name", "township", "county"]].copy()
    committees["kind"] = ["community" if _COMMUNITY.search(n) else "village"
                          for n in committees["name"]]
    polygons = _polygons(data)
    townships = _crosswalk(townships, polygons)
    log.info("frame: %d counties, %d townships (%s), %d committees, %d polygons of 2000",
             len(counties), len(townships),
             ", ".join(f"{k} {v}" for k, v in townships["rule"].value_counts().items()),
             len(committees), len(polygons))
    return Frame(counties, townships.reset_index(drop=True), committees, polygons)


def _read_csv(item: Traversable) -> pd.DataFrame:
    _shipped(item)
    with resources.as_file(item) as path:
        return pd.read_csv(path, dtype=str, encoding="utf-8")


def _shipped(item: Traversable) -> None:
    if not item.is_file():
        raise InputError(f"{item}: missing. It is shipped with siting as package data "
                         "(siting/readers/_frame/); reinstall siting, or restore the file from "
                         "the repository.")


def _counties(data: Traversable) -> pd.DataFrame:
    names = _read_csv(data / "admin_codes_2023" / "zhengzhou_counties_4101.csv")
    census = _read_csv(data / "census" / "zhengzhou_county_census2020_7th.csv")
    census = census.rename(columns={"区划代码": "code", "人口数_合计": "pop2020",
                                    "城镇人口": "urban2020", "乡村人口": "rural2020"})
    out = names[["code", "name"]].merge(census[["code", "pop2020", "urban2020", "rural2020"]],
                                        on="code", how="left")
    for col in ("pop2020", "urban2020", "rural2020"):
        out[col] = out[col].astype(int)
    out["slug"] = [COUNTIES[c][0] for c in out["code"]]
    out["short"] = [COUNTIES[c][1] for c in out["code"]]
    return out


def _polygons(data: Traversable) -> gpd.GeoDataFrame:
    item = data / "townships_2000" / "zhengzhou_townships_2000_wgs84.geojson"
    _shipped(item)
    with resources.as_file(item) as path:
        gdf = gpd.read_file(path, engine="pyogrio")
    gdf = gdf.rename(columns={"gbcode_2000": "gbcode", "name_zh_geotrellis": "name_zh",
                              "TotalPop": "pop2000"})
    gdf["name_zh"] = gdf["name_zh"].fillna("")
    gdf["county"] = gdf["gbcode"].str[:6]
    return gdf[["gbcode", "county", "name_zh", "name_pinyin", "pop2000", "geometry"]] \
        .sort_values("gbcode").reset_index(drop=True)


def _township_kind(name: str) -> str:
    if name.endswith(("街道", "办事处")):
        return "street"
    if name.endswith("镇"):
        return "town"
    if name.endswith("乡"):
        return "township"
    return "other"   # scenic areas, industrial clusters, new districts


def _crosswalk(townships: pd.DataFrame, polygons: gpd.GeoDataFrame) -> pd.DataFrame:
    """Give every 2023 township a host 2000 polygon and the rule that placed it."""
    codes = set(polygons["gbcode"])
    host: dict[str, str] = {}
    rule: dict[str, str] = {}
    for code in townships["code"]:
        if code in codes:
            host[code], rule[code] = code, "code"
    claimed = set(host.values())
    keys = {g: _poly_keys(zh, py) for g, zh, py in
            zip(polygons["gbcode"], polygons["name_zh"], polygons["name_pinyin"], strict=True)}
    for same_county in (True, False):
        for code, name, county in townships[["code", "name", "county"]].itertuples(index=False):
            if code in host:
                continue
            mine = {stem(name)} | pinyin_keys(stem(name))
            hits = [g for g in keys if keys[g] & mine and g not in claimed
                    and (g[:6] == county) == same_county]
            if len(hits) == 1:
                host[code], rule[code] = hits[0], "name" if same_county else "moved"
                claimed.add(hits[0])
    pop = dict(zip(polygons["gbcode"], polygons["pop2000"], strict=True))
    held: dict[str, int] = {g: 0 for g in codes}
    for g in host.values():
        held[g] += 1
    order = sorted(townships["code"], key=lambda c: (c[:6] in ZONES, c))
    for code in order:
        if code in host:
            continue
        county = code[:6]
        pool = [g for g in codes if held[g] and _host_county(g, host, townships) == county]
        pool += [g for g in codes if g[:6] == county and held[g] == 0]
        if not pool:
            pool = [g for g in codes if held[g] == 0] or sorted(codes)
        best = max(sorted(pool), key=lambda g: pop[g] / (held[g] + 1))
        host[code], rule[code] = best, "split"
        held[best] += 1
    out = townships.copy()
    out["host"] = out["code"].map(host)
    out["rule"] = out["code"].map(rule)
    return out


def _host_county(gbcode: str, host: dict[str, str], townships: pd.DataFrame) -> str | None:
    """The county of the first 2023 township placed in a polygon (its 2023 owner)."""
    for code in sorted(c for c, g in host.items() if g == gbcode):
        return code[:6]
    return None


def _poly_keys(name_zh: str, name_pinyin: str) -> set[str]:
    keys = set()
    if name_zh:
        keys.add(stem(name_zh))
    if name_pinyin:
        keys.add(_PY_SUFFIX.sub("", name_pinyin).replace(" ", "").lower())
    return keys



def plan_share(total: int, county: str, data: Traversable = DATA) -> int:
    """A county's share of a citywide plan total, by 2020 urban population (largest remainder).

    The 20,000 community service points of the plan (专栏4) are apportioned this way unless a
    scenario gives its own count.
    """
    counties = _counties(data)
    urban = counties["urban2020"].to_numpy(dtype=float)
    exact = total * urban / urban.sum()
    base = np.floor(exact).astype(int)
    order = np.lexsort((np.arange(len(urban)), -(exact - base)))
    base[order[: total - int(base.sum())]] += 1
    code = slug_to_code(county)
    return int(base[int(np.flatnonzero(counties["code"].to_numpy() == code)[0])])
