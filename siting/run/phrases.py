"""What each target asks, as data: the outputs word it (``siting.outputs.labels.phrase``).

The run knows the numbers a target is made of (tier, radius, classes, count) but no words;
a :class:`Phrase` carries them to the outputs, which write the sentence in the run's language.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from siting.config.scenario import TierConfig

Kind = Literal["cover", "each", "count", "capacity", "compartments", "chain",
               "city_township_cover",
               "city_village_cover", "city_community_plan", "city_community_each",
               "city_locker_cover", "city_compartments", "city_chain"]


@dataclass(frozen=True)
class Phrase:
    """One target's parameters: enough for the outputs to say what it asks."""

    kind: Kind
    tier: str = ""
    radius_m: float = 0.0
    classes: tuple[str, ...] = ()
    demand: str = ""
    network: str = "walk"
    weight: str = "count"
    reach: str = "road"
    coverage: str = "all"
    n: int = 0


def of_tier(kind: Kind, tier: str, cfg: TierConfig, *, n: int = 0) -> Phrase:
    """The phrase of one of a tier's targets (``cover``, ``each``, ``count``, ``capacity``)."""
    classes = (cfg.one_in_each or "",) if kind == "each" else tuple(cfg.classes or ())
    return Phrase(kind=kind, tier=tier, radius_m=float(cfg.radius_m or 0.0), classes=classes,
                  demand=cfg.demand, network=cfg.network, weight=cfg.weight, reach=cfg.reach,
                  coverage=cfg.coverage, n=n)
