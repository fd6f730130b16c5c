"""Settings: success criteria per model, and the audit trail of changes."""

import streamlit as st

st.title("Settings")
