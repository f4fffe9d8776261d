"""Roads and distances.

The road graph, snapping to segments, candidate sites and bounded shortest paths: sparse
coverage matrices per tier, never a dense demand × candidate matrix.
"""
