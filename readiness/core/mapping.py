"""Which file column plays which role of the log contract, proposed from common names.

Real files say ``y_pred`` or ``target`` rather than ``prediction`` or ``label``; a
``ColumnMapping`` records the user's confirmed choice. Unmapped, unignored columns are features.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from readiness.errors import MappingError

LOG_ROLES = ("timestamp", "prediction", "score", "label", "request_id", "model_version", "latency_ms")
ROLES = (*LOG_ROLES, "label_time")
KINDS = ("baseline", "live", "labels")
REQUIRED_ROLES = {
    "baseline": ("prediction",),
    "live": ("timestamp", "prediction"),
    "labels": ("request_id", "label"),
}
ROLES_BY_KIND = {
    "baseline": ("timestamp", "prediction", "score", "label", "request_id", "model_version", "latency_ms"),
    "live": LOG_ROLES,
    "labels": ("request_id", "label", "label_time"),  # label_time: when the label became known
}
# Candidate names per role, best first; compared after lower-casing and folding spaces/dashes.
ROLE_ALIASES: dict[str, tuple[str, ...]] = {
    "timestamp": (
        "timestamp",
        "ts",
        "time",
        "datetime",
        "date_time",
        "event_time",
        "event_timestamp",
        "prediction_time",
        "predicted_at",
        "scored_at",
        "created_at",
        "date",
    ),
    "prediction": (
        "prediction",
        "y_pred",
        "pred",
        "predicted",
        "predicted_class",
        "predicted_label",
        "prediction_label",
        "yhat",
        "y_hat",
        "forecast",
        "output",
    ),
    "score": (
        "score",
        "y_pred_proba",
        "y_proba",
        "y_score",
        "pred_proba",
        "proba",
        "probability",
        "prob",
        "predicted_probability",
        "prediction_score",
        "confidence",
    ),
    "label": (
        "label",
        "y_true",
        "target",
        "y",
        "actual",
        "ground_truth",
        "truth",
        "outcome",
        "true_label",
        "class",
    ),
    "request_id": (
        "request_id",
        "id",
        "prediction_id",
        "request",
        "event_id",
        "uuid",
        "row_id",
        "record_id",
        "transaction_id",
    ),
    "model_version": ("model_version", "version", "model_ver"),
    "latency_ms": ("latency_ms", "latency", "duration_ms", "response_time_ms", "elapsed_ms"),
    "label_time": (
        "label_time",
        "label_timestamp",
        "labelled_at",
        "labeled_at",
        "label_date",
        "label_received_at",
        "received_at",
        "arrived_at",
        "arrival_time",
        "resolved_at",
        "observed_at",
        "outcome_time",
        "outcome_date",
        "confirmed_at",
        "verified_at",
        "known_at",
    ),  # never a bare "timestamp": in a labels file that is as often the prediction's time
}
MAPPING_WORDS = (*ROLES, "ignore", "categorical", "numeric")
PROBA = "proba:"  # role prefix: "proba:<class>" is the column holding that class's probability (multiclass)
PROBA_KINDS = ("baseline", "live")
# Name prefixes of per-class probability columns, best first ("y_pred_proba_<class>", "p_<class>"...)
PROBA_PREFIXES = (
    "y_pred_proba",
    "y_proba",
    "pred_proba",
    "predict_proba",
    "proba",
    "probability",
    "prob",
    "p",
    "score",
    "y_score",
    "confidence",
)


def proba_role(class_label: str) -> str:
    """The role of the column holding one class's probability.

    >>> proba_role("prepaid_card")
    'proba:prepaid_card'
    """
    return f"{PROBA}{class_label}"


def proba_class(role: str) -> str | None:
    """The class a ``proba:<class>`` role is for, None for any other role.

    >>> proba_class("proba:refund"), proba_class("score")
    ('refund', None)
    """
    return role[len(PROBA) :] if role.startswith(PROBA) else None


def normalize_name(name: str) -> str:
    """Lower-case a column name and fold spaces and dashes to underscores.

    >>> normalize_name(" Y-Pred Proba ")
    'y_pred_proba'
    """
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


@dataclass(frozen=True)
class ColumnMapping:
    """Role -> file column, plus columns to ignore and features to treat as categorical."""

    roles: dict[str, str] = field(default_factory=dict)
    ignore: tuple[str, ...] = ()
    categorical: tuple[str, ...] = ()
    numeric: tuple[str, ...] = ()
    date_format: str = (
        ""  # strptime format for the timestamp column; "" reads ISO 8601 or what the file proves
    )

    def column_for(self, role: str) -> str | None:
        """The file column mapped to a role, or None."""
        return self.roles.get(role)

    @property
    def class_probabilities(self) -> dict[str, str]:
        """Class -> the column holding its probability (multiclass), in mapping order."""
        return {cls: column for role, column in self.roles.items() if (cls := proba_class(role)) is not None}

    def feature_columns(self, columns: Sequence[str]) -> list[str]:
        """Columns that are neither mapped to a role nor ignored, in file order."""
        taken = set(self.roles.values()) | set(self.ignore)
        return [c for c in columns if c not in taken]

    def with_role(self, role: str, column: str | None) -> ColumnMapping:
        """A copy with one role set (or cleared with None)."""
        roles = {r: c for r, c in self.roles.items() if r != role}
        if column:
            roles[role] = column
        return replace(self, roles=roles)

    def as_pairs(self) -> list[str]:
        """The mapping as CLI ``column=role`` pairs."""
        pairs = [f"{c}={r}" for r, c in self.roles.items()]
        pairs += [f"{c}=ignore" for c in self.ignore]
        pairs += [f"{c}=categorical" for c in self.categorical]
        pairs += [f"{c}=numeric" for c in self.numeric]
        return pairs


def propose_mapping(columns: Sequence[str], kind: str, request_id: str | None = None) -> ColumnMapping:
    """Propose roles from common column names; the user confirms or edits the result.

    ``request_id`` names the id column when it was found another way (by its values).

    >>> propose_mapping(["ts", "amount", "y_pred", "y_pred_proba", "y_true"], "live").roles
    {'timestamp': 'ts', 'prediction': 'y_pred', 'score': 'y_pred_proba', 'label': 'y_true'}
    """
    _check_kind(kind)
    by_normal: dict[str, str] = {}
    for column in columns:
        by_normal.setdefault(normalize_name(column), column)
    roles: dict[str, str] = {"request_id": request_id} if request_id is not None else {}
    for role in ROLES_BY_KIND[kind]:
        if role in roles:
            continue
        for alias in ROLE_ALIASES[role]:
            found = by_normal.get(alias)
            if found is not None and found not in roles.values():
                roles[role] = found
                break
    ignore: tuple[str, ...] = ()
    if kind == "labels":
        rest = [c for c in columns if c not in roles.values()]
        if "label" not in roles and "request_id" in roles and len(rest) == 1:
            roles["label"] = rest[0]  # a labels file's only column besides the id is its label
        ignore = tuple(c for c in columns if c not in roles.values())
    return ColumnMapping(roles=roles, ignore=ignore)


def missing_roles(mapping: ColumnMapping, kind: str) -> tuple[str, ...]:
    """Required roles of a file kind that the mapping leaves unset.

    >>> missing_roles(ColumnMapping(roles={"prediction": "y"}), "live")
    ('timestamp',)
    """
    _check_kind(kind)
    return tuple(role for role in REQUIRED_ROLES[kind] if role not in mapping.roles)


def parse_mapping_pairs(pairs: Iterable[str], base: ColumnMapping | None = None) -> ColumnMapping:
    """Apply CLI pairs like ``y_hat=prediction`` or ``notes=ignore`` on top of a mapping.

    >>> parse_mapping_pairs(["y_hat=prediction", "zip=categorical"]).roles
    {'prediction': 'y_hat'}
    """
    mapping = base or ColumnMapping()
    given: dict[str, str] = {}  # role -> column, as the pairs set them
    for pair in pairs:
        column, sep, word = pair.rpartition("=")
        column, word = column.strip(), word.strip()  # header names are stripped too
        if word.lower().startswith(PROBA):  # the class keeps its case: "proba:Refund" is class "Refund"
            word = proba_role(word[len(PROBA) :].strip())
            if not proba_class(word):
                raise MappingError(
                    f"Cannot read mapping {pair!r}: a class probability names its class, for example "
                    f"{column or 'y_pred_proba_refund'}=proba:refund."
                )
        else:
            word = word.lower()
        if not sep or not column or (word not in MAPPING_WORDS and proba_class(word) is None):
            raise MappingError(
                f"Cannot read mapping {pair!r}: write COLUMN=ROLE where ROLE is one of "
                f"{', '.join(MAPPING_WORDS)} or proba:CLASS (for example y_hat=prediction, or "
                "y_pred_proba_refund=proba:refund for one class's probability)."
            )
        if word == "ignore":
            roles = {r: c for r, c in mapping.roles.items() if c != column}
            mapping = replace(mapping, roles=roles, ignore=(*mapping.ignore, column))
        elif word in ("categorical", "numeric"):  # a feature after all: it leaves any proposed role
            roles = {r: c for r, c in mapping.roles.items() if c != column}
            if word == "categorical":
                mapping = replace(mapping, roles=roles, categorical=(*mapping.categorical, column))
            else:
                mapping = replace(mapping, roles=roles, numeric=(*mapping.numeric, column))
        else:
            if word in given and given[word] != column:
                raise MappingError(
                    f"Both {given[word]!r} and {column!r} are mapped to {word!r}, which takes one column. "
                    f"Keep one of the two (map the other to ignore, or leave it a feature)."
                )
            given[word] = column
            cleared = {r: c for r, c in mapping.roles.items() if c != column}
            mapping = replace(mapping, roles=cleared).with_role(word, column)
    return mapping


def check_mapping(mapping: ColumnMapping, columns: Sequence[str], kind: str, filename: str) -> None:
    """Raise MappingError if a mapped column is absent, reused, or a required role is unmapped."""
    _check_kind(kind)
    available = ", ".join(repr(c) for c in columns)
    named = [*mapping.roles.values(), *mapping.ignore, *mapping.categorical, *mapping.numeric]
    absent = [c for c in dict.fromkeys(named) if c not in columns]
    if absent:
        raise MappingError(
            f"The mapping names column(s) {', '.join(map(repr, absent))} that {filename} does not have. "
            f"Its columns are: {available}."
        )
    used: dict[str, str] = {}
    for role, column in mapping.roles.items():
        if proba_class(role) is not None:
            if kind not in PROBA_KINDS:
                raise MappingError(
                    f"Column {column!r} is mapped to {role!r}, but class probabilities belong in a baseline or "
                    f"live file, not a {kind} file; clear it from the mapping."
                )
        elif role not in ROLES_BY_KIND[kind]:
            raise MappingError(f"Role {role!r} does not apply to a {kind} file; clear it from the mapping.")
        if column in used:
            raise MappingError(
                f"Column {column!r} is mapped to both {used[column]!r} and {role!r}; map each role to its own column."
            )
        used[column] = role
    if mapping.class_probabilities and mapping.column_for("score"):
        raise MappingError(
            f"{filename} maps a score column ({mapping.column_for('score')!r}) and per-class probabilities "
            f"({', '.join(map(repr, mapping.class_probabilities.values()))}): a binary model has one score, "
            "a multiclass model one probability per class. Keep the one that fits the model's task."
        )
    for role in REQUIRED_ROLES[kind]:
        if role not in mapping.roles:
            raise MappingError(
                f"{filename} has no column for the required {role!r} of a {kind} file. "
                f"Its columns are: {available}. Map one with {role}=<column> "
                f"(or rename it to {role!r})."
            )
    both = set(mapping.categorical) & set(mapping.numeric)
    if both:
        raise MappingError(
            f"Column(s) {', '.join(map(repr, sorted(both)))} are marked both categorical and numeric."
        )


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise MappingError(f"Unknown file kind {kind!r}: choose one of {', '.join(KINDS)}.")


def propose_class_probabilities(columns: Sequence[str], classes: Sequence[str]) -> dict[str, str]:
    """Class -> column for a multiclass file whose columns hold one probability per class, by name.

    ``classes`` are the classes seen (in the predictions or labels): a prefix with a column for
    each of them wins (``y_pred_proba_<class>``, ``p_<class>``, any ``<prefix>_<class>``), the
    best known prefix first, and then every column with that prefix is a class's probability
    (a class the sample never predicted included). A prefix naming more than half the classes
    seen is still proposed, so the class it misses is reported rather than its columns taken for
    features. Nothing is proposed for fewer than three classes (a binary model has one score).
    The user confirms the proposal.

    >>> propose_class_probabilities(["x", "p_card", "p_cash", "p_wire", "p_other", "y"], ["card", "cash", "wire"])
    {'card': 'p_card', 'cash': 'p_cash', 'other': 'p_other', 'wire': 'p_wire'}
    """
    seen = {normalize_name(str(c)): str(c) for c in classes}
    if len(seen) < 3:
        return {}
    by_prefix: dict[str, dict[str, str]] = {}
    for column in columns:
        normal = normalize_name(column)
        prefix, sep, tail = normal.rpartition("_")
        while sep:
            if tail and prefix:
                by_prefix.setdefault(prefix, {}).setdefault(tail, column)
            prefix, sep, rest = prefix.rpartition("_")
            tail = f"{rest}_{tail}"
    # a prefix naming most of the classes seen: a class left without its column is then an error
    # that says how to map it, rather than probability columns silently taken for features
    covering = {p: len(set(seen) & set(found)) for p, found in by_prefix.items()}
    candidates = {p: n for p, n in covering.items() if n >= 2 and n * 2 > len(seen)}
    if not candidates:
        return {}
    rank = {prefix: i for i, prefix in enumerate(PROBA_PREFIXES)}
    best = min(candidates, key=lambda p: (-candidates[p], rank.get(p, len(rank)), len(p), p))
    found = by_prefix[best]
    return {seen.get(tail, _tail_of(found[tail], tail)): found[tail] for tail in sorted(found)}


def _tail_of(column: str, normal_tail: str) -> str:
    """The class part of a column's name as written (``p_Gift Card`` -> ``Gift Card``)."""
    text = column.strip()
    return text[len(text) - len(normal_tail) :] if len(text) >= len(normal_tail) else normal_tail


def classes_of_probability_columns(columns: Sequence[str]) -> dict[str, str]:
    """Class -> column for columns chosen as class probabilities: each column's name past their shared prefix.

    >>> classes_of_probability_columns(["y_pred_proba_card", "y_pred_proba_cash"])
    {'card': 'y_pred_proba_card', 'cash': 'y_pred_proba_cash'}
    """
    names = [c.strip() for c in columns]
    if len(names) < 2:
        return {n: c for n, c in zip(names, columns, strict=True)}
    shared = names[0]
    for name in names[1:]:  # the characters every name starts with
        while not name.startswith(shared):
            shared = shared[:-1]
    cut = max(shared.rfind(ch) for ch in "_-. :") + 1  # up to the last separator of the shared part
    out = {}
    for name, column in zip(names, columns, strict=True):
        out[name[cut:] or name] = column
    return out


def probability_roles(chosen: Sequence[str], proposed: ColumnMapping) -> dict[str, str]:
    """``proba:<class>`` role -> column for the columns a user chose as class probabilities.

    A proposed column keeps the class the proposal gave it; any other is named by
    :func:`classes_of_probability_columns`.

    >>> probability_roles(["p_card", "p_cash"], ColumnMapping(roles={"proba:Card": "p_card"}))
    {'proba:Card': 'p_card', 'proba:cash': 'p_cash'}
    """
    given = {column: cls for cls, column in proposed.class_probabilities.items()}
    derived = {column: cls for cls, column in classes_of_probability_columns(list(chosen)).items()}
    return {proba_role(given.get(column, derived.get(column, column))): column for column in chosen}
