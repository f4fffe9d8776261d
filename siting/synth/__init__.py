"""Generated stand-in inputs.

The seeded generator: stand-in inputs in the formats users supply (an ``.osm`` road file,
Gauss–Krüger shapefiles with GBK DBFs, a facilities CSV), laid over the real frame.
"""
