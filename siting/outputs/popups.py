"""What a map popup says about a site or a demand unit, row by row, in the run's language.

A site: its name, id, type and status, where it is (township and village or community, the
nearest named road as an address hint, WGS84 coordinates with the datum stated and GCJ-02
for Gaode and Tencent when ``[report] gcj02`` is on), a locker bank's size and compartments,
its cost with its parts, what the allocation gives it (units, residents, compartments) and a
bank's spare compartments (a new bank taking no parcels says why it stands).
A unit: its name and code (labelled as what it is: a village code, an OSM id), class,
population and floor area where known, covered or not, and the site serving it or why none.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from siting.outputs import labels, naming, render, workbook
from siting.run.results import RunResult

Rows = list[tuple[str, str]]
"""(label key, value) pairs, rendered by ``popup.html.j2`` (values escaped there)."""


def site_rows(r: Any, lang: str, *, gcj02: bool, compartment_target: bool = False) -> Rows:
    """The popup of one row of :func:`siting.outputs.tables.open_sites`.

    ``compartment_target``: the tier must open a number of compartments, so a new bank whose
    neighbours take all nearby parcels is there for that target.
    """
    w = labels.Words(lang)
    rows: Rows = [("site_name", naming.site_name(r, lang)), ("site", r.site_id),
                  ("tier", w(r.tier)), ("status", w(r.status))]
    if r.status == "existing":
        rows.append(("source", labels.source(str(r.source), lang)))
    place = " · ".join(x for x in (r.township, r.village) if x)
    rows.append(("place", place or "—"))
    if r.road:
        rows.append(("address_hint", w.fill("road_at", road=r.road, m=float(r.road_m))))
    rows.append(("coords_wgs84", f"{r.lon:.6f}, {r.lat:.6f}"))
    if gcj02 and np.isfinite(r.gcj02_lon):
        rows.append(("coords_gcj02", f"{r.gcj02_lon:.6f}, {r.gcj02_lat:.6f}"))
    if np.isfinite(r.bank_size):
        rows.append(("bank", w.fill("bank_of", n=float(r.bank_size))))
    if np.isfinite(r.compartments):
        rows.append(("compartments_open", f"{r.compartments:,.0f}"))
    rows.append(("cost", _cost(r, w)))
    serves = w.fill("serves_units", units=int(r.served_units), pop=float(r.served_population))
    if np.isfinite(r.served_compartments):
        serves += w.fill("serves_compartments", n=float(r.served_compartments))
    rows.append(("serves", serves))
    if np.isfinite(r.spare_compartments):
        rows.append(("spare", _spare(r, w, compartment_target)))
    rows.append(("reach", f"{r.reach_units:,}"))
    return rows


def _spare(r: Any, w: labels.Words, compartment_target: bool) -> str:
    """A bank's free compartments, and why a new bank takes no parcels at all."""
    spare = f"{r.spare_compartments:,.0f}"
    if r.status != "new" or r.served_units:
        return spare
    why = w("spare_for_target" if compartment_target else "spare_unneeded")
    return w.fill("value_why", value=spare, why=why)


def _cost(r: Any, w: labels.Words) -> str:
    total = f"{r.cost:,.0f}"
    if r.bank_cost or r.colocation_saving:
        return w.fill("cost_parts", total=total, site=f"{r.site_cost:,.0f}",
                      bank=f"{r.bank_cost:,.0f}", saving=f"{r.colocation_saving:,.0f}")
    return total


def unit_rows(result: RunResult, tier: str, unit: int, site_names: dict[int, str]) -> Rows:
    """The popup of demand unit ``unit`` (its row) in ``tier``'s layer.

    ``site_names``: the name of each open site of the tier, by its row in ``Sites``.
    """
    lang = result.scenario.lang
    w = labels.Words(lang)
    u = result.demand.iloc[unit]
    layer = str(u["layer"])
    rows: Rows = [("name", str(u["name"] or "") or "—"),
                  (f"code_{layer}", str(u["code"])), ("class", w.unit(str(u["class"])))]
    if u["population"] and np.isfinite(u["population"]):
        rows.append(("population", f"{float(u['population']):,.0f}"))
    if u["floor_m2"] and np.isfinite(u["floor_m2"]):
        rows.append(("floor_area", f"{float(u['floor_m2']):,.0f} m²"))
    outcome = result.outcomes[tier]
    served = bool(outcome.served[unit])
    rows.append(("status", w("covered" if served else "uncovered")))
    site = int(outcome.allocation.site[unit])
    if site >= 0:
        d = outcome.allocation.dist_m[unit]
        rows.append(("served_by", w.fill(
            "served_by_site", site=str(result.sites.site_id[site]),
            name=site_names.get(site, ""),
            d=w("inside_unit") if np.isnan(d) else f"{d:,.0f} m")))
    elif not served:
        rows.append(("why_not", workbook.reason(result, tier, unit, lang)))
    return rows


def html(rows: Rows, lang: str) -> str:
    """The popup's HTML: a two-column table, every value escaped."""
    return render.render("popup.html.j2", lang=lang, rows=rows).rstrip("\n")
