"""Entry point for ``python -m readiness``."""

import sys

from readiness.cli import main

sys.exit(main())
