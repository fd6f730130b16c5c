#!/usr/bin/env python3
"""Set up what the project needs, then start the app or run the tests.

    python3 dev.py app    # venv + requirements, streamlit run app.py (an empty database gets the demo, seeded in the background)
    python3 dev.py test   # venv + dev requirements, then the whole test suite (pytest)
    python3 dev.py lint   # venv + dev requirements, then ruff (lint and format check) and mypy

Needs only Python 3.11+. Installs into .venv beside this file, once per change of the
requirements files (a stamp holds their hash).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PYTHON = VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def ensure_env(requirements: str) -> None:
    """Create .venv and install a requirements file unless its hash is already installed."""
    files = sorted(ROOT.glob("requirements*.txt"))
    digest = hashlib.sha256(b"".join(f.read_bytes() for f in files)).hexdigest()
    stamp = VENV / f".installed-{requirements}"
    if stamp.exists() and stamp.read_text() == digest and PYTHON.exists():
        return
    if not PYTHON.exists():
        print("Creating .venv ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print(f"Installing {requirements} into .venv ...", flush=True)
    subprocess.run([str(PYTHON), "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True)
    subprocess.run(
        [str(PYTHON), "-m", "pip", "install", "--quiet", "-r", str(ROOT / requirements)], check=True
    )
    stamp.write_text(digest)


def main(argv: list[str]) -> int:
    """Dispatch ``app``, ``test`` or ``lint``; extra arguments go to streamlit or pytest."""
    if not argv or argv[0] not in {"app", "test", "lint"}:
        print(__doc__)
        return 2
    command, rest = argv[0], argv[1:]
    os.chdir(ROOT)
    if command == "app":
        ensure_env("requirements.txt")
        # no seeding here: the app answers at once and seeds an empty database in the background
        return subprocess.call([str(PYTHON), "-m", "streamlit", "run", "app.py", *rest])
    ensure_env("requirements-dev.txt")
    if command == "lint":
        checks = (["ruff", "check", "."], ["ruff", "format", "--check", "."], ["mypy"])
        return max(subprocess.call([str(PYTHON), "-m", *check]) for check in checks)
    return subprocess.call([str(PYTHON), "-m", "pytest", *rest])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
