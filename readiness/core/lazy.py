"""A module imported on first use, so commands that never touch pandas or scipy do not pay to import them.

``python -m readiness gate`` reads stored aggregates and judges them; importing pandas (with
pyarrow) and scipy.special took about 0.5 s of its start-up though most modules only need them
in functions the gate never calls. A module declares the dependency once, at the top::

    from typing import TYPE_CHECKING

    if TYPE_CHECKING:  # type checkers see the real module
        import pandas as pd
    else:
        pd = lazy_module("pandas")

and ``pd.DataFrame(...)`` imports pandas the first time it runs. ``tests/test_cli.py`` checks
that the gate, checklist and models commands still never import what they do not need.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class LazyModule:
    """Stands for a module until an attribute is read, then imports it and hands out its attributes.

    >>> json = LazyModule("json")
    >>> json.dumps([1])
    '[1]'
    """

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attribute: str) -> Any:
        module = self._module
        if module is None:
            module = self._module = importlib.import_module(self._name)
        return getattr(module, attribute)

    def __repr__(self) -> str:
        state = "imported" if self._module is not None else "not imported yet"
        return f"<lazy module {self._name!r} ({state})>"


def lazy_module(name: str) -> Any:
    """A stand-in for module ``name`` that imports it when first used (typed ``Any``: import it under TYPE_CHECKING)."""
    return LazyModule(name)
