"""The storage layer: the only code that speaks SQL (SQLAlchemy Core, bound parameters).

Models and baselines, the prediction log and delayed labels, the per-day aggregates and their
incremental refresh, settings, the score history and the audit trail.
"""
