"""Names a person can say for every open site, in the run's language.

An existing outlet keeps its own name; an OpenStreetMap outlet mapped without a name is
"未命名邮政网点" (unnamed post office); a new site is named for its nearest named road, else
for the village or community (or township) that holds it: 华山路智能快件箱（新建）.
"""

from __future__ import annotations

import pandas as pd

from siting.outputs import labels


def site_names(rows: pd.DataFrame, lang: str) -> list[str]:
    """The name of each row of :func:`siting.outputs.tables.open_sites`."""
    return [site_name(r, lang) for r in rows.itertuples(index=False)]


def site_name(r: object, lang: str) -> str:
    """One site's name (``r`` a row of :func:`siting.outputs.tables.open_sites`)."""
    w = labels.Words(lang)
    own = str(getattr(r, "name", "") or "").strip()
    if own:
        return own
    tier = w(str(getattr(r, "tier", "")))
    if getattr(r, "status", "") == "existing":
        osm = str(getattr(r, "source", "")).startswith("OSM")
        return w("unnamed_osm" if osm else "unnamed")
    road = str(getattr(r, "road", "") or "")
    place = labels.short_name(str(getattr(r, "village", "") or "")) \
        or str(getattr(r, "township", "") or "")
    if road:
        return w.fill("new_site_on", road=road, tier=tier)
    if place:
        return w.fill("new_site_in", place=place, tier=tier)
    return w.fill("new_site", tier=tier)
