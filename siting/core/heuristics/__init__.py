"""Heuristics that give the solver a start.

Greedy and local search (:mod:`.greedy`), and the Lagrangian relaxation of the p-median
(:mod:`.lagrange`: a bound, a better start, sites proven closed or open).
"""
