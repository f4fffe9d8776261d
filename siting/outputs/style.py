"""The look shared by the map, the reports and the city map: the palette and the CSS, once."""

from __future__ import annotations

TIER_COLOR = {"township": "#0b3d91", "village": "#2b8a3e", "community": "#7048e8",
              "locker": "#f08c00"}
"""Each tier's colour: new-site markers, chart lines and bars, service areas, legend icons."""

TIER_MARKER = {  # Folium marker colour name (new sites), icon (Font Awesome 4 name)
    "township": ("darkblue", "building"),
    "village": ("green", "home"),
    "community": ("purple", "users"),
    "locker": ("orange", "archive"),
}
NEUTRAL = "#495057"
"""Anything without a tier colour; also text that is quieter than the body."""
COVERED, UNCOVERED, GREY = "#2b8a3e", "#e03131", "#868e96"
EXISTING_MARKER = "gray"
"""Folium's marker colour for an existing site (any tier)."""
EXISTING_SWATCH = "#575757"
"""The legend's swatch for Folium's grey marker."""
CITY_NEW, CITY_EXISTING = "#e8590c", NEUTRAL
"""Site dots of the city map."""
ROAD_MAJOR, ROAD_MINOR, OUTLINE, BOUNDARY = NEUTRAL, "#adb5bd", "#343a40", "#212529"
MAJOR_ROADS = ("motorway", "trunk", "primary", "secondary", "tertiary", "motorway_link",
               "trunk_link", "primary_link", "secondary_link")
"""OSM ``highway`` classes drawn as major roads (both maps)."""
TIER_GLYPH = {"township": "s", "village": "^", "community": "o", "locker": "D"}
"""Each tier's marker shape on the printed plan (``map.pdf``, matplotlib markers)."""
SERIES = ("#1c7ed6", "#e8590c", "#2b8a3e", "#7048e8", "#c2255c", "#0b7285", "#5c940d",
          "#862e9c", "#d9480f", "#364fc7")
"""One colour per series (a sweep's variants), in order."""
DIFF_ADDED, DIFF_REMOVED, DIFF_KEPT = COVERED, UNCOVERED, GREY
"""The comparison map's sites: added in the other plan, removed from the base, kept."""


CHAIN_STEPS = ("#2b8a3e", "#94d82d", "#fcc419", "#f76707", "#e03131")
"""The chain layer's lines, short to long (the last: at or beyond the scenario's limit)."""


def chain_color(share: float) -> str:
    """A chain's colour by its length as a share of the limit (or of the longest)."""
    k = int(min(max(share, 0.0), 1.0) * (len(CHAIN_STEPS) - 1) + 1e-9)
    return CHAIN_STEPS[k]


def tier_color(tier: str) -> str:
    """A tier's colour, neutral grey for an unknown tier."""
    return TIER_COLOR.get(tier, NEUTRAL)


REPORT_CSS = f"""
body {{font:14px/1.5 sans-serif; margin:24px auto; max-width:1100px; color:{BOUNDARY};}}
table {{border-collapse:collapse; margin:8px 0 16px;}}
th, td {{border:1px solid #dee2e6; padding:4px 8px; text-align:left; vertical-align:top;}}
td.num {{text-align:right; font-variant-numeric:tabular-nums;}}
.met {{color:{COVERED}; font-weight:600;}} .notmet {{color:{UNCOVERED}; font-weight:600;}}
.generated {{background:#fff3bf; padding:6px 10px; font-weight:600;}}
.src {{color:{NEUTRAL};}} .failing {{font-size:12px; color:{NEUTRAL}; max-width:700px;}}
svg text {{font:11px sans-serif;}}
"""
"""The stylesheet of ``report.html`` (a run's and the city's)."""

_BOX_CSS = f"""
.siting-box {{position:fixed; z-index:9999; background:rgba(255,255,255,.93); padding:6px 10px;
  border-radius:6px; box-shadow:0 1px 4px rgba(0,0,0,.3); font:13px/1.5 sans-serif;}}
#siting-title {{top:10px; left:60px; font-size:16px; font-weight:600; max-width:60%;}}
#siting-title .sub {{font-size:12px; font-weight:400; color:{NEUTRAL};}}
#siting-legend {{bottom:44px; left:10px;}}
#siting-legend .sw {{display:inline-block; width:12px; height:12px; margin-right:6px;
  border-radius:2px; vertical-align:-1px;}}
"""

MAP_CSS = _BOX_CSS + f"""
.leaflet-control-search .search-input {{width:200px;}}
#siting-legend i {{width:16px; text-align:center;}}
.siting-attr {{position:fixed; bottom:2px; right:6px; z-index:9999; font:11px sans-serif;
  color:{NEUTRAL}; background:rgba(255,255,255,.7); padding:0 4px;}}
table.siting-popup th {{text-align:left; padding-right:8px; color:{NEUTRAL}; white-space:nowrap;}}
#siting-title .unmet {{font-size:12px; font-weight:400; color:{UNCOVERED};}}
#siting-north {{bottom:44px; right:10px; text-align:center; font-weight:700; line-height:1.1;
  padding:4px 8px;}}
#siting-north .arrow {{font-size:20px;}}
.print-only {{display:none;}}
.siting-pin {{width:22px; height:22px; border-radius:50%; border:2px solid #fff;
  box-sizing:border-box; box-shadow:0 1px 3px rgba(0,0,0,.45); color:#fff; font-size:11px;
  display:flex; align-items:center; justify-content:center;}}
#siting-legend .siting-pin {{display:inline-flex; width:18px; height:18px; font-size:9px;
  margin-right:6px; vertical-align:-4px; box-shadow:none;}}
.siting-cluster {{background:transparent;}}
.siting-cluster div {{width:100%; height:100%; border-radius:50%; color:#fff; opacity:.92;
  border:3px solid rgba(255,255,255,.8); box-sizing:border-box; display:flex;
  flex-direction:column; align-items:center; justify-content:center; font:600 11px/1.1 sans-serif;
  margin:0;}}
.siting-cluster i {{font-size:10px;}}
.siting-cluster span {{line-height:1.1;}}
.siting-label span {{position:absolute; transform:translate(-50%,-50%); white-space:nowrap;
  pointer-events:none; color:{BOUNDARY}; font:12px/1.2 sans-serif;
  text-shadow:0 0 2px #fff, 0 0 3px #fff, 0 0 4px #fff;}}
.siting-label-town span {{font-size:15px; font-weight:700;}}
.siting-label-unit span {{color:#343a40;}}
.siting-label-site span {{font-size:11px; color:{NEUTRAL}; transform:translate(-50%,12px);}}
@page {{size:A3 landscape; margin:8mm;}}
@media print {{
  html, body {{width:100%; height:100%; margin:0;}}
  .folium-map {{position:fixed !important; top:0; left:0; right:0; bottom:0;
    width:100% !important; height:100% !important; background:#e9ecef !important;
    -webkit-print-color-adjust:exact; print-color-adjust:exact;}}
  .leaflet-control-zoom, .leaflet-control-layers, .leaflet-control-search,
  .leaflet-control-fullscreen, .leaflet-control-attribution {{display:none !important;}}
  .print-only {{display:block;}}
  .siting-box {{box-shadow:none; border:1px solid #adb5bd;}}
  #siting-title {{max-width:80%;}}
}}
"""
"""The title box, legend, north arrow, credit, markers, clusters, place names and popups of a
run's ``map.html``, and its print sheet: A3 landscape, the map filling the page, the controls
hidden (title, legend, scale bar, north arrow, credit and print date kept)."""

CITY_MAP_CSS = _BOX_CSS + f"""
#siting-legend .sub {{font-size:11px; color:{NEUTRAL};}}
"""
"""The title box and legend of the city's ``map.html``."""
