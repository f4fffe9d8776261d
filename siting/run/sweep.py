"""A sweep's data: the sweep file, its variants, and each variant × county's place in the chart.

``siting sweep SWEEP.toml`` runs a base — one scenario file, or the city file and so every
county it lists — once per *variant*, a named set of overrides of scenario keys
(:mod:`siting.config.overrides`)::

    base = "city.toml"
    variants = [{ name = "村2km", set = { "tiers.village.radius_m" = 2000 } },
                { name = "村3km", set = { "tiers.village.radius_m" = 3000 } }]

or a grid, every combination of the values of each key::

    [grid]
    "tiers.village.radius_m" = [2000, 3000]
    "tiers.township.cost" = [300000, 240000]

The tasks (variant × county) are run by the command line (``siting.cli.sweep``); this module
has no words: ``siting.outputs.sweep`` writes the sweep report.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from siting._errors import ScenarioError
from siting.config import _schema, scenario
from siting.config._schema import spec
from siting.run.city import ClusterConfig

RESERVED = ("report", "city")
"""Folder names a variant may not take (the sweep report's, the city report's)."""


@dataclass(frozen=True)
class Variant:
    """One variant: its name (a folder name) and the scenario keys it sets."""

    name: str
    set: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SweepConfig:
    """The sweep file."""

    base: Path = spec(doc="a scenario file or the city file, relative to this file")
    name: str = "sweep"
    title: str = ""
    lang: Literal["zh", "en"] = "zh"
    variants: tuple[Variant, ...] = ()
    grid: dict[str, Any] = field(default_factory=dict)
    cluster: ClusterConfig = ClusterConfig()
    path: Path = field(default=Path(), compare=False, metadata={"internal": True})


def load(path: str | Path) -> SweepConfig:
    """Read and validate a sweep file; the grid is expanded into its variants."""
    path = Path(path)
    table = scenario._read_toml(path)
    problems: list[str] = []
    built = _schema.build(SweepConfig, table, "", problems, base=path.resolve().parent)
    if built is not None:
        built = replace(built, variants=built.variants + _grid(built.grid, problems), grid={})
        problems += _checks(built)
    if problems or built is None:
        lines = "\n".join(f"  - {p}" for p in problems)
        raise ScenarioError(f"{path}: {len(problems)} problem(s) in the sweep file:\n{lines}\n"
                            "Fix them and run again.")
    return replace(built, path=path)


def _grid(grid: dict[str, Any], problems: list[str]) -> tuple[Variant, ...]:
    """Every combination of the grid's values, named ``key=value,…`` by the last key part."""
    for key, values in grid.items():
        if not isinstance(values, list) or not values:
            problems.append(f"[grid] '{key}' must be a list of values, e.g. [2000, 3000]")
    if problems or not grid:
        return ()
    keys = list(grid)
    out = []
    for combo in itertools.product(*(grid[k] for k in keys)):
        name = ",".join(f"{k.rsplit('.', 1)[-1]}={v}" for k, v in zip(keys, combo, strict=True))
        out.append(Variant(name, dict(zip(keys, combo, strict=True))))
    return tuple(out)


def _checks(cfg: SweepConfig) -> list[str]:
    problems = []
    if not cfg.variants:
        problems.append("no variants: add variants = [{ name = \"…\", set = { \"key\" = value "
                        "} }] or a [grid] of keys and values")
    names = [v.name for v in cfg.variants]
    for n in sorted({n for n in names if names.count(n) > 1}):
        problems.append(f"variant name '{n}' is used twice: give each variant its own name")
    for n in names:
        if not n or n.startswith(".") or any(c in n for c in "/\\:") or n in RESERVED:
            problems.append(f"variant name '{n}' cannot be a folder name: no /, \\, : or "
                            f"leading dot, and not {' or '.join(RESERVED)}")
    if not cfg.base.is_file():
        problems.append(f"base = '{cfg.base}': file not found (a scenario or the city file)")
    return problems


def is_city(path: Path) -> bool:
    """Whether a base file is the city file (it lists counties) rather than a scenario."""
    return "counties" in scenario._read_toml(path)


@dataclass(frozen=True)
class Point:
    """One variant × county: its cost and the share of the target units it meets."""

    variant: str
    county: str
    cost: float
    coverage: float


def point(variant: str, county: str, summary: dict[str, Any]) -> Point:
    """Cost and coverage of one run's summary (``report.json``).

    Coverage is the units the cover targets reach (townships, villages, communities, areas)
    over the units they ask for, as the checker counted them.
    """
    units = [t for t in summary["targets"] if t.get("unit") == "units" and t["required"]]
    asked = sum(float(t["required"]) for t in units)
    got = sum(min(float(t["achieved"]), float(t["required"])) for t in units)
    return Point(variant, county, float(summary["cost"]["total"]), got / asked if asked else 1.0)
