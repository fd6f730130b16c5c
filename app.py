"""Readiness dashboard: the Streamlit entrypoint (``streamlit run app.py``).

Builds the navigation, opens the store (an empty database gets the demo, seeded in the
background while every page shows its progress), and keeps the sidebar model picker in the
URL (``?model=fraud``) across pages.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

import streamlit as st

from readiness.analysis.seeding import SeedProgress, demo_seeding
from readiness.config import DATABASE_URL_ENV, auto_demo, check_settings, database_url
from readiness.core.access import Actor
from readiness.errors import ReadinessError
from readiness.storage.store import Store
from shell import inert, show_identity, sign_in_providers, signed_in_actor

st.set_page_config(page_title="Model readiness", page_icon=":material/verified:", layout="wide")


def configured_url() -> str:
    """The database URL: $READINESS_DATABASE_URL, else Streamlit secrets, else data/readiness.db."""
    if os.environ.get(DATABASE_URL_ENV):
        return database_url()
    try:
        secret = st.secrets.get(DATABASE_URL_ENV)
    except Exception:  # no secrets file at all is the common case
        secret = None
    return database_url(secret)


@st.cache_resource(show_spinner=False)
def open_store(url: str) -> Store:
    """One store per database URL per server process."""
    return Store.open(url)


def ensure_demo(url: str, store: Store) -> SeedProgress | None:
    """Seed the demo in the background if the database is empty (once per process; READINESS_AUTO_DEMO=0: never); its progress."""
    seeding = demo_seeding(url)
    seeding.start_if(lambda: auto_demo() and store.is_empty(), store)
    return seeding.progress()


SEEDING_POLL_SECONDS = 0.5


def seeding_page(url: str) -> None:
    """What every address shows while the demo seeds: the step it is on and a progress bar."""
    st.title("Model readiness")
    st.write(
        "First start: the demo (four models, 90 days of prediction logs) is being written into the "
        "empty database. This page turns into the dashboard by itself when it is done."
    )
    seeding_progress(url)


@st.fragment(run_every=SEEDING_POLL_SECONDS)
def seeding_progress(url: str) -> None:
    """The seed's progress, redrawn every half second; once it has finished, the whole app runs again."""
    progress = demo_seeding(url).progress()
    if progress is None or progress.finished:
        st.rerun()  # the pages (or the failure) show
    st.progress(progress.fraction, text=progress.headline)
    st.caption(f"{progress.elapsed:.0f} s so far.")


def model_picker(store: Store) -> str | None:
    """Sidebar model choice, initialised from ?model= and written back to the URL."""
    names = [m.name for m in store.list_models()]
    if not names:
        st.sidebar.caption("No models yet.")
        st.session_state.pop("model", None)
        return None
    pending = st.session_state.pop("select_model_next", None)
    from_url = st.query_params.get("model")
    if pending in names:
        st.session_state["model"] = pending
    elif from_url in names and from_url != st.session_state.get("model_in_url"):
        st.session_state["model"] = from_url  # a link (st.page_link with ?model=) chose another model
    elif st.session_state.get("model") not in names:
        st.session_state["model"] = from_url if from_url in names else names[0]
    choice = st.sidebar.selectbox("Model", names, key="model", help="Every page shows this model.")
    if from_url is not None and from_url not in names:
        st.warning(
            f"There is no model named {from_url!r} (the link may be old or mistyped); showing {choice!r}. "
            f"Models: {', '.join(names)}."
        )
    st.query_params["model"] = choice
    st.session_state["model_in_url"] = choice
    return choice


PAGES = [  # (file, title, icon); the first is the default
    ("pages/overview.py", "Overview", ":material/dashboard:"),
    ("pages/checklist.py", "Checklist", ":material/checklist:"),
    ("pages/alerts.py", "Alerts", ":material/notifications:"),
    ("pages/drift.py", "Drift", ":material/ssid_chart:"),
    ("pages/performance.py", "Performance", ":material/speed:"),
    ("pages/data.py", "Data", ":material/upload_file:"),
    ("pages/settings.py", "Settings", ":material/tune:"),
    ("pages/report.py", "Report", ":material/description:"),
]


def sign_in_page() -> None:
    """What someone who has not signed in sees, when a provider is configured: a way to sign in."""
    st.title("Model readiness")
    st.write("Sign in to see whether each model is ready for, and healthy in, production.")
    for provider in sign_in_providers():
        label = "Sign in" if provider is None else f"Sign in with {provider}"
        st.button(
            label,
            type="primary",
            on_click=st.login,
            args=(provider,) if provider else (),
            key=f"login_{provider}",
        )


def no_role_page(actor: Actor) -> None:
    """What a signed-in identity with no role sees: who it is, and how to get a role."""
    st.title("No access yet")
    st.warning(
        f"You are signed in as {inert(actor.name)}, who has no role on this dashboard. "
        "Ask an admin to add you to the roles configuration, then reload."
    )
    st.button("Sign out", on_click=st.logout, icon=":material/logout:")


def resolve_actor() -> Actor:
    """The signed-in person (or local mode); a page to sign in, or to say there is no role, stops the run."""
    try:
        actor = signed_in_actor()
    except ReadinessError as exc:  # a roles configuration that cannot be read: nobody gets a role by mistake
        st.error(inert(exc))
        st.stop()
    if actor is None:
        only_page(sign_in_page, "Sign in")
    elif actor.policy is not None and not actor.policy.has_role(actor.name):
        only_page(lambda: no_role_page(actor), "No access")
    assert actor is not None
    return actor


def only_page(show: Callable[[], None], title: str) -> NoReturn:
    """Show one page whatever the address asks for (a deep link included), and stop the run."""
    st.session_state.pop("actor", None)
    stand_ins = [st.Page(show, title=title, default=True)]
    stand_ins += [st.Page(show, title=title, url_path=Path(path).stem) for path, _, _ in PAGES[1:]]
    st.navigation(stand_ins, position="hidden").run()
    st.stop()


try:
    check_settings()  # every setting read once, so a typo stops the app here with its name
except ReadinessError as exc:
    st.error(inert(exc))
    st.stop()
url = configured_url()
store = open_store(url)
seed = ensure_demo(url, store)
if seed is not None and not seed.finished:  # deep links wait here too, then open their page
    only_page(lambda: seeding_page(url), "Seeding the demo")
if seed is not None and seed.error:
    st.error(
        f"{inert(seed.headline)}. The pages show what was stored before it stopped; to try again, "
        "point READINESS_DATABASE_URL at an empty database and restart."
    )
st.session_state["store"] = store
st.session_state["actor"] = resolve_actor()

navigation = st.navigation(
    [st.Page(path, title=title, icon=icon, default=i == 0) for i, (path, title, icon) in enumerate(PAGES)]
)
st.session_state["model_choice"] = model_picker(store)
show_identity(st.session_state["actor"], st.session_state["model_choice"])
navigation.run()
