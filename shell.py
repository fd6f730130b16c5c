"""What every page needs from the app shell (Streamlit side; the analysis lives in readiness/).

Pages import this module (Streamlit puts app.py's folder on the import path).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal
from urllib.parse import quote

import pandas as pd
import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from readiness.analysis.drift_overview import LogRange, log_range
from readiness.analysis.records import Bands, Model, ReadinessStatus, band_status
from readiness.config import roles_policy
from readiness.core.access import Action, Actor, Role, RolePolicy
from readiness.errors import ReadinessError
from readiness.storage.store import Store

NO_MODEL = "No models yet: upload a baseline and live predictions on the Data page."
# The characters that let text become markup: links and images ([...]), HTML (<...>), math ($),
# emphasis and code (* _ ` ~), headings (#) and tables (|); ">" only closes what "<" opened. Without "[" no link, image or
# Streamlit :colour[...] can form; newlines are flattened, so nothing starts a block.
MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<$#|~])")


def inert(text: object) -> str:
    r"""Text shown literally by st.markdown, st.caption and alerts: every markdown character escaped, newlines flattened.

    A column name, owner, reason or message from a user file cannot add an image, a link, a
    heading or a colour to the page.

    >>> print(inert("![x](http://evil/img.png)\n# hi"))
    !\[x\](http://evil/img.png) \# hi
    """
    return MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet runs as a formula (OWASP CSV injection)
PLAIN_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")  # "-0.62": a number, not a formula


def formula_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells that a spreadsheet would run as a formula start with a quote ('=1+1).

    What st.dataframe shows is what its "Download as CSV" writes, so every table goes through this.
    Numbers stay numbers, and so does text that is a plain number ("-0.62" in a preview of an upload).
    """
    safe = frame.copy()
    for column in safe.columns:
        values = safe[column]
        if values.dtype == object or pd.api.types.is_string_dtype(values):
            risky = values.map(_runs_as_formula)
            if risky.any():
                safe[column] = values.where(~risky, "'" + values.astype(str))
    safe.columns = [
        ("'" + c) if isinstance(c, str) and c.startswith(FORMULA_START) else c for c in safe.columns
    ]
    return safe


def _runs_as_formula(value: object) -> bool:
    """Text a spreadsheet would run: it starts like a formula and is not a plain number."""
    return isinstance(value, str) and value.startswith(FORMULA_START) and not PLAIN_NUMBER.fullmatch(value)


def table(data: pd.DataFrame | dict, **kwargs: Any) -> Any:
    """st.dataframe of a formula-safe copy: the one way pages show a table."""
    frame = data if isinstance(data, pd.DataFrame) else pd.DataFrame(data)
    return st.dataframe(formula_safe(frame), **kwargs)


def link(url: str) -> str:
    """A markdown link that shows its own URL, for http(s) URLs only (anything else is shown as plain text)."""
    if not re.match(r"https?://", url, re.IGNORECASE):
        return inert(url)
    target = quote(url, safe=":/?#@!$&'*+,;=%~")  # brackets, parentheses and spaces encoded: no break-out
    return f"[{inert(url)}]({target})"


def require_shell() -> Store:
    """The store app.py opened for this session.

    A fresh server's first request, deep-linked to a page, runs that page without app.py
    (Streamlit's legacy runner takes over because a pages/ folder exists); hand it back to
    app.py's st.navigation and rerun.
    """
    if "store" not in st.session_state:
        PagesManager.uses_pages_directory = False
        st.rerun()
    return st.session_state["store"]


def selected_model(message: str = NO_MODEL) -> Model:
    """The model picked in the sidebar, resolved once per run; without one, say what to do and stop the page."""
    name = st.session_state.get("model_choice")
    if name is None:
        st.info(message)
        st.stop()
    try:
        return require_shell().get_model(name)
    except ReadinessError as exc:  # deleted meanwhile by another session
        st.error(inert(exc))
        st.stop()


def model_log_range(store: Store, model: Model) -> LogRange:
    """The days the model's log covers; without predictions, say what to upload and stop the page."""
    try:
        span = log_range(store, model)
    except ReadinessError as exc:
        st.error(inert(exc))
        st.stop()
    if span.first_day is None:
        st.info(f"Model **{model.name}** has no live predictions yet. Upload a live CSV on the Data page.")
        st.stop()
    return span


# -- readiness status, shown the same way on every page ------------------------------------

StatusColour = Literal["green", "orange", "red"]  # colours Streamlit's metric deltas and badges know
STATUS_STYLE: dict[ReadinessStatus, tuple[StatusColour, str]] = {  # readiness status -> (colour, icon)
    ReadinessStatus.READY: ("green", ":material/check_circle:"),
    ReadinessStatus.AT_RISK: ("orange", ":material/warning:"),
    ReadinessStatus.NOT_READY: ("red", ":material/cancel:"),
}
EVIDENCE_PAGES = {  # Evidence.page -> the page file that shows the figure
    "Overview": "pages/overview.py",
    "Checklist": "pages/checklist.py",
    "Drift": "pages/drift.py",
    "Performance": "pages/performance.py",
    "Data": "pages/data.py",
    "Settings": "pages/settings.py",
}


def band_colour(percent: float | None, bands: Bands) -> str:
    """The colour of a 0-100 score in the model's status bands (gray when nothing applies)."""
    return "gray" if percent is None else STATUS_STYLE[band_status(percent, bands)][0]


# -- who is looking: sign-in, roles and local mode ---------------------------------------------

LOCAL_ACTOR = "dashboard (local mode)"  # what the audit trail records when nobody signs in


def secrets_table(name: str) -> Mapping[str, Any] | None:
    """A table of the Streamlit secrets, or None (no secrets file is the common case)."""
    try:
        value = st.secrets.get(name)
    except Exception:  # no secrets file, or one that cannot be parsed: Streamlit says which on its own
        return None
    return value if isinstance(value, Mapping) else None


def sign_in_configured() -> bool:
    """Whether an OIDC provider is configured (an [auth] table in the secrets): then everyone signs in."""
    return secrets_table("auth") is not None


def signed_in_actor() -> Actor | None:
    """The actor for this run: the signed-in person with their roles, local mode, or None (sign-in needed).

    The identity is the provider's verified email, else its subject id; roles come from
    $READINESS_ROLES_FILE, else the secrets' [roles] table, else nobody has one.
    """
    if not sign_in_configured():
        return Actor.local(LOCAL_ACTOR)
    if not st.user.is_logged_in:
        return None
    email, subject = st.user.get("email"), st.user.get("sub")
    identity = email if email and st.user.get("email_verified") is not False else subject
    roles = secrets_table("roles")
    policy = roles_policy(dict(roles) if roles is not None else None) or RolePolicy()
    return Actor(str(identity or ""), policy)


def current_actor() -> Actor:
    """Who is using the page (app.py resolves it on every run, from the sign-in, before any page runs)."""
    require_shell()
    return st.session_state["actor"]


def sign_in_providers() -> list[str | None]:
    """The providers to offer: None for one unnamed provider, else each named [auth.NAME] table."""
    auth = secrets_table("auth") or {}
    if "client_id" in auth:
        return [None]
    return [name for name, value in auth.items() if isinstance(value, Mapping)]


def show_identity(actor: Actor, model: str | None) -> None:
    """The sidebar's note of who is signed in, with what role, or the local-mode badge."""
    if actor.is_local:
        st.sidebar.badge("Local mode: no sign-in", icon=":material/lock_open:", color="orange")
        st.sidebar.caption(
            "Anyone who opens this address may change everything. To require sign-in and roles, "
            "configure a provider (docs/security.md)."
        )
        return
    role = actor.role(model)
    st.sidebar.caption(f":material/account_circle: {inert(actor.name)} · {role.label}")
    st.sidebar.button("Sign out", key="sign_out", on_click=st.logout, icon=":material/logout:")


def allowed(action: Action, model: str | None) -> bool:
    """Whether the person may do ``action`` on ``model``; when not, say so where the control is (it shows disabled).

    The analysis layer checks again on every change: this only keeps the page honest.
    """
    actor = current_actor()
    if actor.may(action, model):
        return True
    role = actor.role(model)
    has = "no role" if role is Role.NONE else f"the {role.label} role"
    st.caption(
        f":material/lock: You have {has} here; to {action.words} you need the {action.least.label} role. "
        "Ask an admin to add you to the roles configuration."
    )
    return False
