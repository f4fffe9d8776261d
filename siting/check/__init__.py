"""Verification of every target.

Verification: the in-run checker of every target, and ``siting check``, which recomputes
every target from the written plan on its own graph, snapping and searches, sharing nothing
with the model below the file readers.
"""
