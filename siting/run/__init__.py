"""One siting run.

One run, stage by stage: typed stage results (:mod:`.results`), reading and preparing,
assembling the core's problem (:mod:`.assemble`), validation, the driver (:mod:`.pipeline`)
and the city roll-up (:mod:`.city`).
"""
