"""Scenario files: TOML in, a validated frozen :class:`Scenario` out.

A scenario names every input and every setting of one run. Relative paths are taken from
the scenario file's folder. Unknown keys, wrong types and out-of-range values are all
reported together in one :class:`~siting._errors.ScenarioError`.
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from siting._errors import ScenarioError
from siting.config import _schema, discovery
from siting.config import overrides as _overrides
from siting.config._schema import fraction, non_negative, positive, spec

TIERS = ("township", "village", "community", "locker")
"""The plan's facility tiers, from the largest to the smallest."""

BUILDING_CLASSES = ("residential", "commercial", "government")


@dataclass(frozen=True)
class NetworkConfig:
    """The road network and how points are attached to it."""

    osm: Path = spec(doc="road network: .osm, .osm.bz2, .osm.pbf or .graphml")
    max_snap_m: float = spec(250.0, check=positive, need="> 0 metres",
                             doc="a point farther than this from any road is reported, not used")
    clip_buffer_m: float = spec(5000.0, check=non_negative, need=">= 0 metres",
                                doc="keep roads within this distance of the townships layer "
                                "(0: keep the whole file)")


@dataclass(frozen=True)
class CandidateConfig:
    """Where new sites may go."""

    junctions_only: bool = spec(True, doc="only nodes where roads branch or end; false: "
                                "every road node (then thin them with min_spacing_m)")
    min_spacing_m: float = spec(0.0, check=non_negative, need=">= 0 metres",
                                doc="keep at most one candidate node per grid cell of this size")


@dataclass(frozen=True)
class ExistingConfig:
    """Facilities already open: fixed open at no cost, counted toward every target."""

    osm_post_offices: tuple[str, ...] = spec((), doc="tiers an OSM amenity=post_office counts for")


@dataclass(frozen=True)
class BuildingConfig:
    """How OSM buildings become demand."""

    default_levels: float = spec(1.0, check=positive, need="> 0",
                                 doc="storeys assumed where building:levels is missing")
    landuse_fallback: bool = spec(True, doc="class an untyped building by its landuse polygon")


@dataclass(frozen=True)
class BankSize:
    """A locker bank size: its compartments (格口) and its cost."""

    compartments: int = spec(check=positive, need="> 0")
    cost: float = spec(check=non_negative, need=">= 0")


@dataclass(frozen=True)
class TierConfig:
    """One facility tier: whom it serves, how far, at what cost, how many."""

    cost: float = spec(check=non_negative, need=">= 0 (currency units per new site)",
                       doc="opening cost of one new site")
    demand: Literal["osm_buildings", "areas", "villages", "townships"] = spec(
        "osm_buildings", doc="the units the tier serves: OSM buildings or a [layers] layer")
    classes: tuple[str, ...] = spec((), doc="classes of the demand layer served (all if empty)")
    reach: Literal["road", "inside"] = spec(
        "road", doc="'road': within radius_m on the network; 'inside': a site inside the unit")
    radius_m: float | None = spec(None, check=positive, need="> 0 metres")
    network: Literal["walk", "drive"] = "walk"
    coverage: Literal["all", "maximise"] = spec(
        "all", doc="'all': every demand unit reached (hard); 'maximise': most weight reached")
    weight: Literal["floor_area", "population", "count"] = spec(
        "population", doc="what a unit weighs in 'maximise': floor area, population or 1")
    one_in_each: str | None = spec(None, doc="a class (e.g. 'community') each of whose "
                                   "polygons must hold at least one site of this tier")
    count: int | None = spec(None, check=non_negative, need=">= 0",
                             doc="at least this many sites, existing ones included")
    count_from_plan: int | None = spec(None, check=positive, need="> 0",
                                       doc="a citywide plan total apportioned to the "
                                       "scenario's county by 2020 urban population")
    max_count: int | None = spec(None, check=non_negative, need=">= 0")
    sizes: tuple[BankSize, ...] = spec((), doc="locker bank sizes: with them, demand must fit "
                                       "the compartments of the banks within reach")
    parcels_per_person_day: float = spec(
        0.24, check=non_negative, need=">= 0",
        doc="parcels a resident receives a day (2020: 11亿件 / 365 / 12.6 million people)")
    locker_share: float = spec(0.3, check=lambda v: 0 <= v <= 1, need="in [0, 1]",
                               doc="share of parcels delivered into lockers")
    dwell_days: float = spec(1.5, check=positive, need="> 0",
                             doc="days a parcel waits in its compartment")
    min_demand: float = spec(20.0, check=non_negative, need=">= 0",
                             doc="compartments for a unit without residents (shops, offices)")
    existing_compartments: int = spec(60, check=positive, need="> 0",
                                      doc="compartments of an existing bank whose size is "
                                      "not given")
    compartments: int | None = spec(None, check=non_negative, need=">= 0",
                                    doc="at least this many compartments open (existing "
                                    "banks included): a target to plan to (needs sizes)")
    compartments_from_plan: int | None = spec(
        None, check=positive, need="> 0", doc="a citywide compartment total (the plan's "
        "2,500,000) apportioned to the scenario's county by 2020 urban population")

    def __post_init__(self) -> None:
        if self.sizes and (self.reach != "road" or self.coverage != "all"):
            raise ValueError("sizes (capacity) need reach = 'road' and coverage = 'all'")
        if self.count is not None and self.max_count is not None and self.max_count < self.count:
            raise ValueError(f"max_count = {self.max_count} is below count = {self.count}; "
                             "raise max_count or lower count")
        if self.count is not None and self.count_from_plan is not None:
            raise ValueError("give count or count_from_plan, not both")
        if self.coverage == "maximise" and self.count is None and self.max_count is None \
                and self.count_from_plan is None:
            raise ValueError("coverage = 'maximise' needs a number of sites: set count, "
                             "count_from_plan or max_count, or use coverage = 'all'")
        if self.reach == "road" and self.radius_m is None:
            raise ValueError("reach = 'road' needs radius_m (the reach in metres by road)")
        if self.compartments is not None and self.compartments_from_plan is not None:
            raise ValueError("give compartments or compartments_from_plan, not both")
        if (self.compartments or self.compartments_from_plan) and not self.sizes:
            raise ValueError("a compartment target (compartments, compartments_from_plan) "
                             "needs bank sizes: add sizes = [{ compartments = …, cost = … }]")


@dataclass(frozen=True)
class LayerConfig:
    """A boundary or area layer (shapefile, GeoPackage or GeoJSON) and its field mapping."""

    path: Path = spec(doc="the layer file, relative to the inputs folder")
    code: str = spec("CODE", doc="field holding the unit's code")
    name: str = spec("NAME", doc="field holding the unit's name")
    population: str | None = spec(None, doc="field holding the population (a number)")
    class_field: str | None = spec(None, doc="field holding the unit's class")
    classes: dict[str, tuple[str, ...]] = spec(
        None, doc="class -> values of class_field that mean it (a value matches when it equals "
        "or starts with one of them, so 'R' matches R2 and R21)")
    layer: str | None = spec(None, doc="layer name inside a GeoPackage with several layers")
    encoding: str = spec("auto", check=_schema.known_encoding,
                         need="'auto' or a text encoding: 'utf-8', 'gbk' or 'gb18030'",
                         doc="'auto' (from the .cpg, else detected), 'utf-8' or 'gbk'")
    crs: str | None = spec(None, doc="the CRS when the file has none (no .prj), e.g. EPSG:4547")
    datum: Literal["wgs84", "cgcs2000", "gcj02", "bd09"] = spec(
        "wgs84", doc="gcj02 or bd09 when the coordinates come from Gaode or Baidu")


@dataclass(frozen=True)
class FacilitiesConfig:
    """Existing facilities from a CSV file with longitude and latitude."""

    path: Path = spec(doc="the CSV file, relative to the inputs folder")
    lon: str = spec("lon", doc="longitude column")
    lat: str = spec("lat", doc="latitude column")
    name: str = spec("name", doc="name column")
    id: str = spec("id", doc="identifier column")
    type: str = spec("type", doc="facility type column")
    datum: Literal["wgs84", "cgcs2000", "gcj02", "bd09"] = spec(
        "wgs84", doc="the datum of every row, unless datum_field says otherwise")
    datum_field: str | None = spec(None, doc="column naming each row's datum (WGS84, GCJ-02…)")
    types: dict[str, tuple[str, ...]] = spec(
        None, doc="facility type -> the tiers it counts as (an empty list: shown, not counted)")
    capacity: str | None = spec(None, doc="column of an existing locker bank's compartments")


@dataclass(frozen=True)
class InputsConfig:
    """Where the input files are: the user's real files, else the generated ones."""

    real: str | None = spec(None, doc="folder of the user's real files (relative to the "
                            "scenario file)")
    generated: str | None = spec(None, doc="name of the folder `siting generate` writes in "
                                 "the cache (the county slug, e.g. 'zhongmu'), used when the "
                                 "real folder holds none of the files")
    seed: int = spec(2021, doc="the generator's seed for the generated folder")


@dataclass(frozen=True)
class ColocationConfig:
    """A saving when one site hosts two tiers (e.g. a community point with a locker bank)."""

    tiers: tuple[str, ...] = spec(("community", "locker"),
                                  check=lambda v: len(v) == 2 and v[0] != v[1],
                                  need="two different tier names")
    saving: float = spec(0.0, check=non_negative, need=">= 0")


@dataclass(frozen=True)
class SolverConfig:
    """MIP solver and its limits."""

    name: Literal["highs", "cbc"] = "highs"
    time_limit_s: float = spec(300.0, check=positive, need="> 0 seconds")
    rel_gap: float = spec(0.0, check=fraction, need="in [0, 1)",
                          doc="stop when the gap on the avoidable cost (objective − bound) / "
                          "(objective − forced cost) is proven below this")
    threads: int = spec(1, check=positive, need=">= 1")
    max_pairs: int = spec(2_000_000, check=positive, need="> 0",
                          doc="most coverage pairs a tier may build (about 2.3 kB of memory "
                          "each); a radius giving more is refused before the distances")


@dataclass(frozen=True)
class MapConfig:
    """Map appearance."""

    tiles: str = spec("none", doc="'none', 'osm', or a tile URL template with {z}/{x}/{y}")
    service_areas: tuple[str, ...] = spec((), doc="tiers whose sites' service areas (the "
                                          "roads each reaches) are drawn")


@dataclass(frozen=True)
class ChainConfig:
    """The three-level rural chain (专栏5): county centre → township outlet → village outlet."""

    centre_types: tuple[str, ...] = spec(("县级处理中心",), doc="facility types (the "
                                         "[facilities] type column) that are county centres")
    new_centres: int = spec(0, check=non_negative, need=">= 0",
                            doc="new centres to site, at the least summed road distance to "
                            "the township outlets (a p-median)")
    max_chain_km: float | None = spec(None, check=positive, need="> 0 km",
                                      doc="a village whose chain (centre → township outlet → "
                                      "village outlet, by road) is longer is named: a target")
    network: Literal["walk", "drive"] = spec("drive", doc="the roads the chain is measured on")
    spacing_m: float = spec(1000.0, check=positive, need="> 0 metres",
                            doc="new centres: candidate road junctions at most one per grid "
                            "cell of this size (and every township outlet's site)")


GCJ02_LANGS = ("zh",)
"""The report languages whose readers paste coordinates into Gaode or Tencent (GCJ-02)."""


@dataclass(frozen=True)
class ReportConfig:
    """What the report adds beyond the targets."""

    tradeoff_points: int = spec(5, check=non_negative, need=">= 0",
                                doc="points of each tier's coverage-versus-sites curve (0: none)")
    gcj02: bool | None = spec(None, doc="also give each site's GCJ-02 coordinates (Gaode, "
                              "Tencent maps); unset: on when lang is one of GCJ02_LANGS")
    target_costs: bool = spec(True, doc="price each count and capacity target by solving "
                              "without it, in the time left of the limit")


@dataclass(frozen=True)
class PhasingConfig:
    """A build order over the plan's years: the money of each year, in currency or as shares.

    Give ``budget`` (money per year) or ``share`` (of the plan's total cost, summing to 1),
    one value per year.
    """

    years: tuple[int, ...] = spec(doc="the plan's build years, increasing, e.g. "
                                  "[2022, 2023, 2024, 2025]")
    budget: tuple[float, ...] = spec((), doc="money of each year (the same currency as the "
                                     "tiers' costs), one per year")
    share: tuple[float, ...] = spec((), doc="share of the plan's total cost spent in each "
                                    "year, one per year, summing to 1")
    carry_over: bool = spec(True, doc="a year's unspent money may be spent in later years")
    discount_rate: float = spec(0.0, check=non_negative, need=">= 0",
                                doc="yearly discount of coverage (0: every year counts the same)")

    def __post_init__(self) -> None:
        problems = _phasing_problems(self)
        if problems:
            raise ValueError("; ".join(problems))

    def money(self, total: float) -> tuple[float, ...]:
        """Each year's money: ``budget``, or ``share`` of the plan's ``total`` cost."""
        return self.budget if self.budget else tuple(s * total for s in self.share)


SHARE_TOLERANCE = 1e-6
"""How far [phasing] shares may sum from 1 (rounding in a hand-written file)."""


def _phasing_problems(p: PhasingConfig) -> list[str]:
    """Every problem of a [phasing] table: years, and budget or share, one per year."""
    out = []
    if not p.years:
        out.append("years is empty: list the build years, e.g. years = [2022, 2023, 2024, 2025]")
    bad = [f"{a} then {b}" for a, b in zip(p.years, p.years[1:], strict=False) if b <= a]
    if bad:
        out.append(f"years must increase, but {', '.join(bad)}: list each year once, in order")
    if bool(p.budget) == bool(p.share):
        out.append("give either budget = [...] (money per year) or share = [...] (shares of "
                   "the plan's cost), not " + ("both" if p.budget else "neither"))
    for key, values in (("budget", p.budget), ("share", p.share)):
        if values and len(values) != len(p.years):
            out.append(f"{key} has {len(values)} values for {len(p.years)} years: give one "
                       "per year")
        neg = [f"{y}: {v:g}" for y, v in zip(p.years, values, strict=False) if v < 0]
        if neg:
            out.append(f"{key} is negative for {', '.join(neg)}: give 0 or more")
    if p.share and abs(sum(p.share) - 1.0) > SHARE_TOLERANCE:
        out.append(f"share sums to {sum(p.share):g}, not 1: the shares split the plan's cost "
                   "over the years")
    return out


@dataclass(frozen=True)
class Scenario:
    """A validated, frozen run configuration."""

    name: str = spec(check=lambda s: s.replace("-", "").replace("_", "").isalnum(),
                     need="letters, digits, '-' or '_' (it names the output folder)")
    network: NetworkConfig = spec()
    tiers: dict[str, TierConfig] = spec()
    title: str = ""
    lang: Literal["zh", "en"] = "zh"
    county: str | None = spec(None, doc="NBS code of the county, e.g. '410122'")
    inputs: InputsConfig | None = None
    layers: dict[str, LayerConfig] = spec(None, doc="[layers.townships], [layers.villages], "
                                          "[layers.areas]")
    facilities: FacilitiesConfig | None = None
    objective: Literal["min_cost", "max_coverage", "p_median"] = spec(
        "min_cost", doc="min_cost: every hard target at least cost; max_coverage: most reach "
        "within [budget]; p_median: least population-weighted distance for the counts")
    budget: float | None = spec(None, check=non_negative, need=">= 0",
                                doc="max_coverage: the most the new sites may cost")
    candidates: CandidateConfig = field(default_factory=CandidateConfig)
    existing: ExistingConfig = field(default_factory=ExistingConfig)
    buildings: BuildingConfig = field(default_factory=BuildingConfig)
    colocation: ColocationConfig | None = None
    solver: SolverConfig = field(default_factory=SolverConfig)
    map: MapConfig = field(default_factory=MapConfig)
    report: ReportConfig = field(default_factory=ReportConfig)
    phasing: PhasingConfig | None = spec(None, doc="a build order over the plan's years "
                                         "([phasing] years, budget or share)")
    chain: ChainConfig | None = None
    path: Path = field(default=Path(), compare=False, metadata={"internal": True})
    data_dir: Path = field(default=Path(), compare=False, metadata={"internal": True})
    generated: bool = field(default=False, compare=False, metadata={"internal": True})

    @property
    def gcj02(self) -> bool:
        """Whether the outputs give GCJ-02 coordinates beside WGS84 (``[report] gcj02``)."""
        return self.report.gcj02 if self.report.gcj02 is not None else self.lang in GCJ02_LANGS

    def input_files(self) -> dict[str, Path]:
        """Every input file of the run, by role (for hashing and validation)."""
        files = {"network.osm": self.network.osm}
        for key, layer in (self.layers or {}).items():
            files[f"layers.{key}"] = layer.path
        if self.facilities is not None:
            files["facilities"] = self.facilities.path
        return files

    def layer(self, key: str) -> LayerConfig:
        """The [layers.<key>] section."""
        return (self.layers or {})[key]


def load(path: str | Path, *, cache: str | Path | None = None,
         overrides: Mapping[str, Any] | None = None) -> Scenario:
    """Read and validate a scenario file.

    Parameters
    ----------
    path
        The scenario's TOML file.
    cache
        The cache folder holding generated inputs (``--cache``); None: $SITING_CACHE, else
        the default (see :func:`siting.config.discovery.cache_dir`).
    overrides
        Dotted keys set before validation (a sweep's variant,
        :func:`siting.config.overrides.apply`), e.g. ``{"tiers.village.radius_m": 3000}``.

    Returns
    -------
    Scenario
        The validated scenario. Input paths are resolved against the inputs folder in use
        (see :func:`siting.config.discovery.choose_inputs`), or the scenario's folder when
        there is no [inputs].

    Raises
    ------
    ScenarioError
        When the file is missing, is not TOML, or holds any invalid key or value; all the
        problems are listed in one message.
    """
    path = Path(path)
    table = _read_toml(path)
    if overrides:
        table = _overrides.apply(table, overrides, source=str(path))
    data_dir, generated = discovery.choose_inputs(table, path, cache=cache)
    problems: list[str] = []
    built = _schema.build(Scenario, table, "", problems, base=data_dir)
    if built is not None:
        problems.extend(_cross_checks(built))
    if problems:
        lines = "\n".join(f"  - {p}" for p in problems)
        raise ScenarioError(f"{path}: {len(problems)} problem(s) in the scenario:\n{lines}\n"
                            "Fix these keys in the file and run again.")
    assert built is not None
    built = replace(built, path=path, data_dir=data_dir, generated=generated)
    return replace(built, network=replace(built.network, osm=_glob(built.network.osm, path)))


def generated_fallback(path: str | Path, *,
                       cache: str | Path | None = None) -> tuple[str, Path, int] | None:
    """(county slug, folder, seed) when the scenario runs on generated data (no real files).

    The folder is in the cache (see :func:`siting.config.discovery.cache_dir`).
    """
    path = Path(path)
    return discovery.fallback(_read_toml(path), path, cache=cache)


def _glob(p: Path, scenario: Path) -> Path:
    """Resolve a path that may hold a wildcard (roads.osm* → roads.osm.pbf)."""
    if not any(ch in p.name for ch in "*?["):
        return p
    hits = sorted(p.parent.glob(p.name))
    if len(hits) == 1:
        return hits[0]
    if not hits:
        return p            # reported as missing by the reader, with the pattern
    raise ScenarioError(f"{scenario}: [network] osm = '{p.name}' matches several files in "
                        f"{p.parent}: {', '.join(h.name for h in hits)}. Keep one, or name it.")


def _read_toml(path: Path) -> dict[str, object]:
    if not path.is_file():
        raise ScenarioError(f"{path}: scenario file not found. Give the path of a .toml file, "
                            "e.g. models/demo.toml.")
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        raise ScenarioError(f"{path}: not valid TOML ({e}). Fix the line named and run "
                            "again.") from e
    except UnicodeDecodeError as e:
        raise ScenarioError(f"{path}: not UTF-8 text ({e}). Save the file as UTF-8.") from e


def _cross_checks(s: Scenario) -> list[str]:
    problems = []
    layers = s.layers or {}
    for key in layers:
        if key not in LAYERS:
            problems.append(f"unknown layer [layers.{key}]: {_nearest('layers', key, LAYERS)}")
    for name, tier in s.tiers.items():
        if name not in TIERS:
            problems.append(f"unknown tier [tiers.{name}]: {_nearest('tiers', name, TIERS)}")
            continue
        problems += _tier_checks(s, name, tier)
    used = set(s.existing.osm_post_offices) | set(s.colocation.tiers if s.colocation else ())
    if s.facilities is not None:
        for tiers in (s.facilities.types or {}).values():
            used |= set(tiers)
    for name in sorted(used - set(s.tiers)):
        problems.append(f"tier '{name}' is referred to (existing, facilities or colocation) "
                        f"but has no [tiers.{name}] section")
    if not s.tiers:
        problems.append("[tiers] is empty: configure at least one tier")
    if s.chain is not None and not {"township", "village"} <= set(s.tiers):
        problems.append("[chain] links village outlets to township outlets: it needs "
                        "[tiers.township] and [tiers.village]")
    for name, t in s.tiers.items():
        if t.compartments_from_plan is not None and s.county is None:
            problems.append(f"[tiers.{name}] compartments_from_plan needs the scenario's "
                            "county (top-level county = \"4101xx\")")
    if s.objective == "p_median":
        if len(s.tiers) != 1:
            problems.append("objective = 'p_median' sites one tier: keep one [tiers.*] section")
        for name, t in s.tiers.items():
            if t.reach != "road" or (t.count is None and t.count_from_plan is None):
                problems.append(f"objective = 'p_median': [tiers.{name}] needs reach = 'road' "
                                "and a count (the p of the p-median)")
    if s.objective == "max_coverage" and s.budget is None and any(
            t.max_count is None for t in s.tiers.values()):
        problems.append("objective = 'max_coverage' needs a budget (top-level budget = …) or a "
                        "max_count for every tier; otherwise everything would be opened")
    return problems


LAYERS = ("townships", "villages", "areas")


def _nearest(section: str, name: str, known: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    listed = f"the {section} are {', '.join(known)}"
    return f"did you mean [{section}.{close[0]}]? ({listed})" if close else listed


def classes_of(s: Scenario, demand: str) -> tuple[str, ...]:
    """The classes a demand source offers."""
    if demand == "osm_buildings":
        return BUILDING_CLASSES
    if demand == "townships":
        return ("township",)
    layer = (s.layers or {}).get(demand)
    return tuple((layer.classes or {}).keys()) if layer is not None else ()


def _tier_checks(s: Scenario, name: str, tier: TierConfig) -> list[str]:
    problems = []
    if tier.demand != "osm_buildings" and tier.demand not in (s.layers or {}):
        problems.append(f"[tiers.{name}] demand = '{tier.demand}' needs a [layers.{tier.demand}] "
                        "section naming the layer file")
        return problems
    offered = classes_of(s, tier.demand)
    unknown = [c for c in tier.classes if c not in offered]
    if unknown:
        problems.append(f"[tiers.{name}] classes {unknown} are not classes of '{tier.demand}' "
                        f"(it has {list(offered)}); fix classes or the layer's classes map")
    if tier.one_in_each is not None:
        holders = [k for k in (s.layers or {}) if tier.one_in_each in classes_of(s, k)]
        if not holders:
            problems.append(f"[tiers.{name}] one_in_each = '{tier.one_in_each}' is not a class "
                            "of any layer; add it to a layer's classes map")
    if tier.count_from_plan is not None and s.county is None:
        problems.append(f"[tiers.{name}] count_from_plan needs the scenario's county "
                        "(top-level county = \"4101xx\")")
    if tier.weight == "floor_area" and tier.demand != "osm_buildings":
        problems.append(f"[tiers.{name}] weight = 'floor_area' needs demand = 'osm_buildings'; "
                        "use 'population' or 'count' for layers")
    return problems
