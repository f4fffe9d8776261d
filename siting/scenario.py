"""Scenario files: TOML in, a validated frozen :class:`Scenario` out.

A scenario names every input and every setting of one run. Relative paths are taken from
the scenario file's folder. Unknown keys, wrong types and out-of-range values are all
reported together in one :class:`~siting._errors.ScenarioError`.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from siting import _schema
from siting._errors import ScenarioError
from siting._schema import fraction, non_negative, positive, spec

TIERS = ("township", "village", "community", "locker")
"""The plan's facility tiers, from the largest to the smallest."""

BUILDING_CLASSES = ("residential", "commercial", "government")


@dataclass(frozen=True)
class NetworkConfig:
    """The road network and how points are attached to it."""

    osm: Path = spec(doc="road network: .osm, .osm.bz2, .osm.pbf or .graphml")
    max_snap_m: float = spec(250.0, check=positive, need="> 0 metres",
                             doc="a point farther than this from any road is reported, not used")


@dataclass(frozen=True)
class CandidateConfig:
    """Where new sites may go."""

    source: Literal["graph_nodes"] = "graph_nodes"
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
class TierConfig:
    """One facility tier: whom it serves, how far, at what cost, how many."""

    cost: float = spec(check=non_negative, need=">= 0 (currency units per new site)",
                       doc="opening cost of one new site")
    demand: Literal["osm_buildings"] = spec("osm_buildings", doc="what the tier serves")
    radius_m: float | None = spec(None, check=positive, need="> 0 metres")
    network: Literal["walk", "drive"] = "walk"
    classes: tuple[str, ...] = spec(BUILDING_CLASSES, check=lambda v: bool(v) and set(v) <= set(
        BUILDING_CLASSES), need=f"a non-empty list drawn from {list(BUILDING_CLASSES)}")
    coverage: Literal["all", "maximise"] = spec(
        "all", doc="'all': every demand unit reached (hard); 'maximise': most weight reached")
    weight: Literal["floor_area", "count"] = spec(
        "floor_area", doc="what a demand unit weighs in 'maximise': floor area or 1 each")
    count: int | None = spec(None, check=non_negative, need=">= 0",
                             doc="at least this many sites, existing ones included")
    max_count: int | None = spec(None, check=non_negative, need=">= 0")

    def __post_init__(self) -> None:
        if self.count is not None and self.max_count is not None and self.max_count < self.count:
            raise ValueError(f"max_count = {self.max_count} is below count = {self.count}; "
                             "raise max_count or lower count")
        if self.coverage == "maximise" and self.count is None and self.max_count is None:
            raise ValueError("coverage = 'maximise' needs a number of sites: set count "
                             "(and/or max_count), or use coverage = 'all'")


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
    rel_gap: float = spec(0.0, check=fraction, need="in [0, 1)")
    threads: int = spec(1, check=positive, need=">= 1")


@dataclass(frozen=True)
class MapConfig:
    """Map appearance."""

    tiles: str = spec("none", doc="'none', 'osm', or a tile URL template with {z}/{x}/{y}")


@dataclass(frozen=True)
class Scenario:
    """A validated, frozen run configuration."""

    name: str = spec(check=lambda s: s.replace("-", "").replace("_", "").isalnum(),
                     need="letters, digits, '-' or '_' (it names the output folder)")
    network: NetworkConfig = spec()
    tiers: dict[str, TierConfig] = spec()
    title: str = ""
    lang: Literal["zh", "en"] = "zh"
    objective: Literal["min_cost"] = "min_cost"
    candidates: CandidateConfig = field(default_factory=CandidateConfig)
    existing: ExistingConfig = field(default_factory=ExistingConfig)
    buildings: BuildingConfig = field(default_factory=BuildingConfig)
    colocation: ColocationConfig | None = None
    solver: SolverConfig = field(default_factory=SolverConfig)
    map: MapConfig = field(default_factory=MapConfig)
    path: Path = field(default=Path(), compare=False, metadata={"internal": True})

    def input_files(self) -> dict[str, Path]:
        """Every input file of the run, by role (for hashing and validation)."""
        return {"network.osm": self.network.osm}


def load(path: str | Path) -> Scenario:
    """Read and validate a scenario file.

    Parameters
    ----------
    path
        The scenario's TOML file.

    Returns
    -------
    Scenario
        The validated scenario, with relative paths resolved against the file's folder.

    Raises
    ------
    ScenarioError
        When the file is missing, is not TOML, or holds any invalid key or value; all the
        problems are listed in one message.
    """
    path = Path(path)
    table = _read_toml(path)
    problems: list[str] = []
    built = _schema.build(Scenario, table, "", problems, base=path.resolve().parent)
    if built is not None:
        problems.extend(_cross_checks(built))
    if problems:
        lines = "\n".join(f"  - {p}" for p in problems)
        raise ScenarioError(f"{path}: {len(problems)} problem(s) in the scenario:\n{lines}\n"
                            "Fix these keys in the file and run again.")
    assert built is not None
    return replace(built, path=path)


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
    for name, tier in s.tiers.items():
        if name not in TIERS:
            problems.append(f"unknown tier [tiers.{name}]: the tiers are {', '.join(TIERS)}")
        elif name in ("village", "community", "locker") and tier.radius_m is None:
            problems.append(f"[tiers.{name}] needs radius_m (the reach in metres by road)")
    used = set(s.existing.osm_post_offices) | set(s.colocation.tiers if s.colocation else ())
    for name in sorted(used - set(s.tiers)):
        problems.append(f"tier '{name}' is referred to (existing or colocation) but has no "
                        f"[tiers.{name}] section")
    if not s.tiers:
        problems.append("[tiers] is empty: configure at least one tier")
    return problems
