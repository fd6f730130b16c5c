"""The drift tests and distances by name, with their defaults: light enough for the CLI to list without numpy.

:mod:`readiness.core.drift` implements them.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

ALPHA = 0.05
RULES = ("test", "cutoff")
MIN_EFFECT = MappingProxyType({"numeric": 0.05, "categorical": 0.02})
P_VALUE_METHODS = ("ks_chisquare", "ks", "chisquare", "z", "anderson", "cramer_von_mises")
DISTANCE_THRESHOLDS: Mapping[str, float] = MappingProxyType(
    {
        "wasserstein": 0.1,
        "jensenshannon": 0.1,
        "psi": 0.2,
        "hellinger": 0.1,
        "kl_div": 0.1,
        "tvd": 0.1,
    }
)
METHODS = P_VALUE_METHODS + tuple(DISTANCE_THRESHOLDS)
NUMERIC_ONLY = frozenset({"ks_chisquare", "ks", "wasserstein", "anderson", "cramer_von_mises"})
NEEDS_RAW = frozenset({"anderson", "cramer_von_mises"})
AGAINST = ("rest", "full")
METHOD_NAMES: Mapping[str, str] = MappingProxyType(
    {
        "ks_chisquare": "KS and chi-square",
        "ks": "KS",
        "chisquare": "chi-square",
        "z": "two-proportion z",
        "anderson": "Anderson-Darling",
        "cramer_von_mises": "Cramér-von Mises",
        "wasserstein": "normed Wasserstein distance",
        "jensenshannon": "Jensen-Shannon distance",
        "psi": "PSI",
        "hellinger": "Hellinger distance",
        "kl_div": "KL divergence",
        "tvd": "total variation distance",
    }
)
