"""Performance: metrics per window against success criteria, with uncertainty."""

import streamlit as st

st.title("Performance")
