"""Readiness dashboard: the Streamlit entrypoint (``streamlit run app.py``).

Builds the navigation, opens the store (seeding the demo into an empty database once),
and keeps the sidebar model picker in the URL (``?model=fraud``) across pages.
"""

from __future__ import annotations

import os

import streamlit as st

from readiness.config import DATABASE_URL_ENV, database_url
from readiness.storage.store import Store

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


@st.cache_resource(show_spinner=False)
def ensure_demo(url: str) -> bool:
    """Seed the demo once per process when the database is empty (off with READINESS_AUTO_DEMO=0)."""
    store = open_store(url)
    if os.environ.get("READINESS_AUTO_DEMO", "1") == "0" or not store.is_empty():
        return False
    from readiness.analysis.demo import seed_demo

    seed_demo(store)
    return True


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


url = configured_url()
store = open_store(url)
with st.spinner("Seeding the demo database (first start only)..."):
    ensure_demo(url)
st.session_state["store"] = store

pages = [
    st.Page("pages/overview.py", title="Overview", icon=":material/dashboard:", default=True),
    st.Page("pages/checklist.py", title="Checklist", icon=":material/checklist:"),
    st.Page("pages/drift.py", title="Drift", icon=":material/ssid_chart:"),
    st.Page("pages/performance.py", title="Performance", icon=":material/speed:"),
    st.Page("pages/data.py", title="Data", icon=":material/upload_file:"),
    st.Page("pages/settings.py", title="Settings", icon=":material/tune:"),
    st.Page("pages/report.py", title="Report", icon=":material/description:"),
]
navigation = st.navigation(pages)
st.session_state["model_choice"] = model_picker(store)
navigation.run()
