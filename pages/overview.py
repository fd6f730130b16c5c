"""Overview: every model with its task, owner, volume, time range, label coverage and freshness."""

import streamlit as st

from readiness.overview import portfolio_overview
from shell import require_shell

st.title("Model readiness")
st.caption("Is each model ready for, and healthy in, production? Pick a model in the sidebar for details.")

portfolio = portfolio_overview(require_shell())

if not portfolio.models:
    st.info(
        "No models yet. Upload a baseline on the **Data** page, or seed the demo with "
        "`python -m readiness demo`."
    )
    st.page_link("pages/data.py", label="Upload data", icon=":material/upload_file:")
    st.stop()

left, middle, right = st.columns(3)
left.metric("Models", len(portfolio.models))
middle.metric("Predictions logged", f"{portfolio.total_predictions:,}")
right.metric("Stale models", sum(m.freshness == "stale" for m in portfolio.models),
             help="No prediction logged in the last 24 hours.")

st.dataframe(
    portfolio.as_frame(),
    hide_index=True,
    width="stretch",
    column_config={
        "Predictions": st.column_config.NumberColumn(format="localized"),
        "First prediction": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
        "Last prediction": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
        "Label coverage": st.column_config.ProgressColumn(
            min_value=0.0, max_value=1.0, format="percent",
            help="Share of predictions whose ground truth has arrived."),
        "Hours since last prediction": st.column_config.NumberColumn(format="%.1f"),
    },
)

columns = st.columns(min(len(portfolio.models), 3))
for i, model in enumerate(portfolio.models):
    with columns[i % len(columns)].container(border=True):
        st.subheader(model.name, anchor=False)
        st.caption(f"{model.task} · owner: {model.owner or 'unassigned'}")
        if model.description:
            st.write(model.description)
        st.write(model.summary)
