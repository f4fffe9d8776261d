"""Named overrides of scenario keys, as a sweep's variants give them.

``{"tiers.village.radius_m": 3000}`` sets ``radius_m`` in ``[tiers.village]`` of the parsed
scenario table before it is validated, so a mistyped key is reported by the schema as in the
file itself (with the nearest known key suggested).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from siting._errors import ScenarioError


def apply(table: dict[str, Any], overrides: Mapping[str, Any], *,
          source: str) -> dict[str, Any]:
    """A copy of ``table`` with each dotted key of ``overrides`` set."""
    out = copy.deepcopy(table)
    for dotted, value in overrides.items():
        parts = dotted.split(".")
        if not all(parts):
            raise ScenarioError(f"{source}: override '{dotted}' is not a dotted scenario key; "
                                "write it as in the file, e.g. \"tiers.village.radius_m\".")
        node = out
        for k, part in enumerate(parts[:-1]):
            nxt = node.setdefault(part, {})
            if not isinstance(nxt, dict):
                raise ScenarioError(f"{source}: override '{dotted}': "
                                    f"'{'.'.join(parts[:k + 1])}' is a value, not a section. "
                                    "Name a key inside a [section].")
            node = nxt
        node[parts[-1]] = copy.deepcopy(value)
    return out
