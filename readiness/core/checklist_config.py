"""Per-model checklist configuration: margins, status bands, not-applicable and critical items.

The defaults need no configuration: a model without a stored configuration is judged with
``ChecklistConfig()``. A stored configuration is one JSON object per model; every change is
one transaction, audited as "checklist.configure".
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from types import MappingProxyType
from typing import Any

from readiness.core.checklist import ITEMS_BY_KEY, Bands, ChecklistError

MAX_REASON = 500


@dataclass(frozen=True)
class Margins:
    """The numbers the automatic checks compare against; every one can be set per model.

    Periods: drift, quality, schema and latency are judged on the newest ``recent_days`` of
    the log; performance, volume, validity and versions on the newest ``lookback_days``.
    """

    recent_days: int = 7
    lookback_days: int = 42
    missing_margin: float = 0.05  # missing share may exceed the baseline's by this much
    out_of_range_share: float = 0.01  # numeric values outside the baseline's range
    unseen_share: float = 0.01  # categories the baseline never had
    criteria_windows: int = 2  # each criterion must pass in its newest N judged windows
    min_label_coverage: float = 0.10
    label_grace_days: int = 7  # predictions younger than this are not expected to have labels yet
    max_label_age_days: int = 42  # newest judged window of every criterion starts within this
    max_ece: float = 0.05  # binary: expected calibration error
    max_bias_share: float = 0.05  # regression: |mean error| as a share of the mean label
    dev_gap: float = 0.10  # relative shortfall of production against development
    regression_margin: float = 0.05  # relative drop of the newest judged window against earlier ones
    regression_windows: int = 4  # earlier judged windows the newest is compared with
    latency_slo_ms: float | None = None  # None: the model's latency_p95 criterion, else 500 ms
    max_invalid_share: float = 0.001
    min_day_volume_share: float = 0.10  # a day below this share of the median day is a gap
    freshness_hours: float = 36.0
    schema_sample_rows: int = 300

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "latency_slo_ms" and value is None:
                continue
            _check_margin(f.name, value, whole=f.type == "int")


_SHARES = frozenset(
    {
        "missing_margin",
        "out_of_range_share",
        "unseen_share",
        "min_label_coverage",
        "max_ece",
        "max_bias_share",
        "dev_gap",
        "regression_margin",
        "max_invalid_share",
        "min_day_volume_share",
    }
)
_POSITIVE = frozenset(
    {
        "recent_days",
        "lookback_days",
        "criteria_windows",
        "max_label_age_days",
        "regression_windows",
        "latency_slo_ms",
        "freshness_hours",
        "schema_sample_rows",
    }
)


def _check_margin(name: str, value: Any, whole: bool) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ChecklistError(
            f"The checklist margin {name} is {value!r}, not a number: enter a finite number."
        )
    if whole and value != int(value):
        raise ChecklistError(f"The checklist margin {name} is {value!r}: enter a whole number.")
    if name in _SHARES and not 0 <= value <= 1:
        raise ChecklistError(
            f"The checklist margin {name} is {value:g}, but it is a share: enter a value "
            f"between 0 and 1 (for {value:g}% write {value / 100:g})."
        )
    if name in _POSITIVE and value <= 0:
        raise ChecklistError(f"The checklist margin {name} is {value:g}: enter a value above 0.")
    if name not in _SHARES | _POSITIVE and value < 0:
        raise ChecklistError(f"The checklist margin {name} is {value:g}: enter 0 or more.")


@dataclass(frozen=True)
class ChecklistConfig:
    """How one model's checklist is judged: margins, bands, items not applicable, criticality."""

    margins: Margins = field(default_factory=Margins)
    bands: Bands = field(default_factory=Bands)
    not_applicable: Mapping[str, str] = field(default_factory=dict)  # item key -> reason
    critical: Mapping[str, bool] = field(default_factory=dict)  # item key -> override
    historical: bool = False  # a finished log: judged as of its own end, freshness does not apply

    def __post_init__(self) -> None:
        for key, reason in self.not_applicable.items():
            _known(key)
            if not isinstance(reason, str) or not reason.strip():
                raise ChecklistError(
                    f"Checklist item {key!r} is marked not applicable without a reason. "
                    "Say why it does not apply to this model."
                )
            if len(reason) > MAX_REASON:
                raise ChecklistError(
                    f"The reason why {key!r} does not apply is {len(reason)} characters long; "
                    f"use at most {MAX_REASON}."
                )
        for key, value in self.critical.items():
            _known(key)
            if not isinstance(value, bool):
                raise ChecklistError(f"Criticality of {key!r} is {value!r}: use true or false.")
        object.__setattr__(self, "not_applicable", MappingProxyType(dict(self.not_applicable)))
        object.__setattr__(self, "critical", MappingProxyType(dict(self.critical)))

    def __hash__(self) -> int:
        return hash(
            (
                self.margins,
                self.bands,
                tuple(sorted(self.not_applicable.items())),
                tuple(sorted(self.critical.items())),
                self.historical,
            )
        )

    def __reduce__(self) -> tuple[Any, ...]:  # mappingproxy cannot be pickled
        return (
            ChecklistConfig,
            (self.margins, self.bands, dict(self.not_applicable), dict(self.critical), self.historical),
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form (what is stored)."""
        return {
            "margins": asdict(self.margins),
            "bands": asdict(self.bands),
            "not_applicable": dict(self.not_applicable),
            "critical": dict(self.critical),
            "historical": self.historical,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ChecklistConfig:
        """Read back what ``to_dict`` wrote (unknown margins are refused, missing ones default)."""
        margins = dict(data.get("margins") or {})
        unknown = sorted(set(margins) - {f.name for f in fields(Margins)})
        if unknown:
            raise ChecklistError(
                f"Unknown checklist margin(s) {', '.join(map(repr, unknown))}. Known: "
                f"{', '.join(f.name for f in fields(Margins))}."
            )
        return cls(
            Margins(**margins),
            Bands(**dict(data.get("bands") or {})),
            dict(data.get("not_applicable") or {}),
            dict(data.get("critical") or {}),
            bool(data.get("historical", False)),
        )


def _known(key: str) -> None:
    if key not in ITEMS_BY_KEY:
        raise ChecklistError(
            f"There is no checklist item {key!r}. Use one of: {', '.join(sorted(ITEMS_BY_KEY))}."
        )


def is_critical(config: ChecklistConfig, item_key: str) -> bool:
    """Whether a failure of the item means Not ready for this configuration (its override, else the item's default)."""
    _known(item_key)
    return bool(config.critical.get(item_key, ITEMS_BY_KEY[item_key].critical))


def with_not_applicable(config: ChecklistConfig, item_key: str, reason: str) -> ChecklistConfig:
    """The configuration with one item marked not applicable, for the reason given (it leaves the score)."""
    return replace(config, not_applicable={**config.not_applicable, item_key: reason.strip()})


def without_not_applicable(config: ChecklistConfig, item_key: str, model_name: str) -> ChecklistConfig:
    """Undo :func:`with_not_applicable` for one item; raise ChecklistError when it was not marked."""
    _known(item_key)
    if item_key not in config.not_applicable:
        raise ChecklistError(
            f"Checklist item {item_key!r} of model {model_name!r} is not marked not applicable, "
            "so there is nothing to undo."
        )
    return replace(config, not_applicable={k: v for k, v in config.not_applicable.items() if k != item_key})


def with_margins(config: ChecklistConfig, **values: Any) -> ChecklistConfig:
    """The configuration with some margins changed, e.g. ``with_margins(c, max_ece=0.03)``."""
    known = {f.name for f in fields(Margins)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ChecklistError(
            f"Unknown checklist margin(s) {', '.join(map(repr, unknown))}. Known: {', '.join(sorted(known))}."
        )
    return replace(config, margins=replace(config.margins, **values))


# No configuration may call a model Ready on less than half its points, or merely At risk on
# less than a quarter: the bands are a team's strictness, not a way to wave a gate through.
MIN_READY_BAND, MIN_AT_RISK_BAND = 50.0, 25.0


def with_bands(config: ChecklistConfig, ready: float, at_risk: float) -> ChecklistConfig:
    """The configuration with new status bands (Ready from ``ready``, At risk from ``at_risk``), never below the floors."""
    bands = Bands(float(ready), float(at_risk))  # numbers, in order
    if bands.ready < MIN_READY_BAND or bands.at_risk < MIN_AT_RISK_BAND:
        raise ChecklistError(
            f"The bands ready {bands.ready:g}, at risk {bands.at_risk:g} are below the floor: Ready needs at least "
            f"{MIN_READY_BAND:g} and At risk at least {MIN_AT_RISK_BAND:g}, so no setting calls a model with few "
            "points Ready. Raise them (the defaults are 75 and 50)."
        )
    return replace(config, bands=bands)


def with_critical(config: ChecklistConfig, item_key: str, critical: bool) -> ChecklistConfig:
    """The configuration with one item made critical (a failure means Not ready) or not."""
    _known(item_key)
    return replace(config, critical={**config.critical, item_key: bool(critical)})
