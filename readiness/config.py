"""Where the store lives and the limits that protect it, read from the environment."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB_PATH = PROJECT_ROOT / "data" / "readiness.db"
DATABASE_URL_ENV = "READINESS_DATABASE_URL"
MAX_UPLOAD_MB_ENV = "READINESS_MAX_UPLOAD_MB"
DEFAULT_MAX_UPLOAD_MB = 200


def database_url(explicit: str | None = None) -> str:
    """Return the database URL: the explicit one, else ``$READINESS_DATABASE_URL``, else the demo file.

    >>> database_url("sqlite:///:memory:")
    'sqlite:///:memory:'
    """
    if explicit:
        return explicit
    from_env = os.environ.get(DATABASE_URL_ENV, "").strip()
    if from_env:
        return from_env
    return f"sqlite:///{DEFAULT_DB_PATH}"


def max_upload_bytes() -> int:
    """Return the largest CSV size accepted for ingestion, in bytes (``$READINESS_MAX_UPLOAD_MB``)."""
    raw = os.environ.get(MAX_UPLOAD_MB_ENV, "").strip()
    megabytes = float(raw) if raw else DEFAULT_MAX_UPLOAD_MB
    return int(megabytes * 1024 * 1024)
