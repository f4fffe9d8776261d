"""The outputs.

What a planner receives, built from the typed run results: the map, the GeoPackage, the CSV,
the reports (md, html, json), the city outputs; every word from :mod:`.labels`, the
palette and CSS from :mod:`.style`, the reports from jinja2 templates.
"""
