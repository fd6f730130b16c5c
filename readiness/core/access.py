"""Who may change what: roles, the policy that gives people roles, and the actor behind every change.

Four roles, each allowed what the one before it is, and more:

- ``viewer`` reads every page and report;
- ``editor`` uploads baselines, live logs and labels, and sets success criteria;
- ``owner`` (of a model) attests its checklist items, withdraws attestations, marks items not
  applicable and configures its checklist;
- ``admin`` does all of that on every model, and alone may mark a *critical* item not applicable
  or make it not critical.

A :class:`RolePolicy` gives roles to identities (email addresses, or ``*@domain`` patterns).
An :class:`Actor` is who makes a change: with a policy, what it may do is the policy's answer;
without one (local mode, no sign-in), it may do everything, as on a laptop or in the demo.
The analysis layer checks every change with :func:`require` whatever a page already hid.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum, IntEnum
from types import MappingProxyType
from typing import Any

from readiness.errors import AccessDenied, RolesConfigError

__all__ = [
    "AccessDenied",
    "Action",
    "Actor",
    "Role",
    "RolePolicy",
    "RolesConfigError",
    "policy_from_mapping",
    "require",
]


class Role(IntEnum):
    """A role; a higher role may do everything a lower one may."""

    NONE = 0  # signed in, but given no role: sees nothing
    VIEWER = 1
    EDITOR = 2
    OWNER = 3
    ADMIN = 4

    @property
    def label(self) -> str:
        """The role's name as the configuration writes it, e.g. ``"editor"``."""
        return self.name.lower()


ROLE_NAMES = {role.label: role for role in Role}


class Action(Enum):
    """What a change does, with the least role allowed to do it."""

    UPLOAD = ("upload files", Role.EDITOR)
    SET_CRITERIA = ("change success criteria", Role.EDITOR)
    ATTEST = ("attest or withdraw attestations", Role.OWNER)
    NOT_APPLICABLE = ("mark items not applicable", Role.OWNER)
    CONFIGURE = ("configure the checklist", Role.OWNER)
    CRITICAL_EXEMPTION = ("mark a critical item not applicable or not critical", Role.ADMIN)
    ACKNOWLEDGE = ("acknowledge or snooze alerts", Role.EDITOR)
    ALERT_CHANNELS = ("configure alert channels", Role.OWNER)

    def __init__(self, words: str, least: Role) -> None:
        self.words = words
        self.least = least


def _pattern_ok(pattern: str) -> bool:
    body = pattern[2:] if pattern.startswith("*@") else pattern  # *@ needs a domain after it
    return bool(body) and "*" not in body and "@" not in body[:1] and not any(c.isspace() for c in pattern)


def _matches(pattern: str, identity: str) -> bool:
    if pattern.startswith("*@"):
        return identity.endswith(pattern[1:])
    return identity == pattern


def _identities(value: Any, where: str) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)) or not all(isinstance(i, str) for i in items):
        raise RolesConfigError(
            f"Roles configuration: {where} must be a list of identities, found {value!r}; "
            'write e.g. ["ana@example.com", "*@ml.example.com"].'
        )
    cleaned = tuple(i.strip().lower() for i in items)
    for identity in cleaned:
        if not _pattern_ok(identity):
            raise RolesConfigError(
                f"Roles configuration: {where} holds {identity!r}, which is not an identity; "
                "write an email address, a user name, or *@domain for everyone of a domain."
            )
    return cleaned


@dataclass(frozen=True)
class RolePolicy:
    """Roles by identity: admins, editors and viewers everywhere, owners per model, and a default.

    ``default`` is the role of a signed-in identity that no list names (``Role.NONE`` unless set:
    a public provider lets anyone sign in).

    >>> policy = RolePolicy(editors=("*@ml.example.com",), owners={"fraud": ("jo@ml.example.com",)})
    >>> policy.role_for("jo@ml.example.com", "fraud").label, policy.role_for("jo@ml.example.com", "credit").label
    ('owner', 'editor')
    """

    admins: tuple[str, ...] = ()
    editors: tuple[str, ...] = ()
    viewers: tuple[str, ...] = ()
    owners: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    default: Role = Role.NONE

    def __post_init__(self) -> None:
        object.__setattr__(self, "owners", MappingProxyType(dict(self.owners)))

    def __hash__(self) -> int:
        return hash(
            (self.admins, self.editors, self.viewers, tuple(sorted(self.owners.items())), self.default)
        )

    def has_role(self, identity: str) -> bool:
        """Whether the identity has any role at all: named in a list (an owner of any model counts) or by default."""
        who = identity.strip().lower()
        if not who:  # a provider that names nobody signs nobody in
            return False
        named = (*self.admins, *self.editors, *self.viewers, *(p for ps in self.owners.values() for p in ps))
        return self.default > Role.NONE or any(_matches(p, who) for p in named)

    def role_for(self, identity: str, model: str | None = None) -> Role:
        """The identity's role on ``model`` (on no model in particular when None): the highest that applies."""
        who = identity.strip().lower()
        if not who:
            return Role.NONE
        named = [
            (self.admins, Role.ADMIN),
            (self.owners.get(model, ()) if model is not None else (), Role.OWNER),
            (self.owners.get("*", ()), Role.OWNER),
            (self.editors, Role.EDITOR),
            (self.viewers, Role.VIEWER),
        ]
        for patterns, role in named:
            if any(_matches(p, who) for p in patterns):
                return role
        return self.default


def policy_from_mapping(data: Mapping[str, Any]) -> RolePolicy:
    """A :class:`RolePolicy` from the ``[roles]`` table of a TOML file or of Streamlit secrets.

    >>> policy_from_mapping({"admin": ["ana@example.com"], "owners": {"fraud": ["jo@example.com"]}}).admins
    ('ana@example.com',)
    """
    known = {"admin", "editor", "viewer", "owners", "default"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise RolesConfigError(
            f"Roles configuration: unknown key(s) {', '.join(map(repr, unknown))}; "
            f"the keys are {', '.join(sorted(known))}."
        )
    owners = data.get("owners") or {}
    if not isinstance(owners, Mapping):
        raise RolesConfigError(
            f"Roles configuration: owners must be a table of model = [identities], found {owners!r}; "
            'write e.g. [roles.owners] then fraud = ["jo@example.com"].'
        )
    default = str(data.get("default", "none")).strip().lower()
    if default not in ROLE_NAMES or default == "admin":
        raise RolesConfigError(
            f"Roles configuration: default = {default!r} is not a role it can give; "
            "use none, viewer, editor or owner."
        )
    return RolePolicy(
        admins=_identities(data.get("admin", []), "admin"),
        editors=_identities(data.get("editor", []), "editor"),
        viewers=_identities(data.get("viewer", []), "viewer"),
        owners={str(m): _identities(v, f"owners.{m}") for m, v in owners.items()},
        default=ROLE_NAMES[default],
    )


@dataclass(frozen=True)
class Actor:
    """Who makes a change: the name the audit trail records, and the policy that says what it may do.

    ``policy`` None is local mode: no sign-in and no roles, every change allowed.

    >>> Actor.local("cli:ana").may(Action.CRITICAL_EXEMPTION, "fraud")
    True
    """

    name: str
    policy: RolePolicy | None = None

    @classmethod
    def local(cls, name: str) -> Actor:
        """An actor in local mode (no sign-in configured): allowed everything, recorded by name."""
        return cls(name, None)

    @property
    def is_local(self) -> bool:
        """True in local mode, where nobody signs in and nothing is restricted."""
        return self.policy is None

    def role(self, model: str | None = None) -> Role:
        """The actor's role on ``model`` (admin in local mode)."""
        return Role.ADMIN if self.policy is None else self.policy.role_for(self.name, model)

    def may(self, action: Action, model: str | None = None) -> bool:
        """Whether the actor may do ``action`` on ``model``."""
        return self.role(model) >= action.least


def as_actor(actor: Actor | str) -> Actor:
    """An :class:`Actor`; a plain name is a caller in local mode (a script or test with the store in hand)."""
    return actor if isinstance(actor, Actor) else Actor.local(actor)


def require(actor: Actor | str, action: Action, model: str | None = None) -> Actor:
    """Return the actor when it may do ``action`` on ``model``; raise :class:`AccessDenied` otherwise."""
    who = as_actor(actor)
    if who.may(action, model):
        return who
    role = who.role(model)
    on = f" on model {model!r}" if model is not None else ""
    raise AccessDenied(
        f"{who.name!r} may not {action.words}{on}: that needs the {action.least.label} role, "
        f"and {who.name!r} has {'no role' if role is Role.NONE else 'the ' + role.label + ' role'}. "
        "Ask an admin to add you to the roles configuration."
    )
