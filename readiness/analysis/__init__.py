"""The analyses the pages, the CLI and the report call, each with a model resolved once.

They combine the core's pure functions with the storage layer's reads, keep results in the
one cache (:mod:`readiness.analysis.cache`) and never write, except the explicit actions:
ingestion, logging, refresh, recording the score and changing settings.
"""
