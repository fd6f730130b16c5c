"""Report: a one-page HTML readiness report to hand out, for the selected model or for every model."""

import shlex

import streamlit as st

from readiness.analysis.records import utcnow
from readiness.analysis.report import model_report_html, portfolio_report_html, report_filename
from readiness.errors import ReadinessError
from shell import inert, require_shell, selected_model

store = require_shell()
st.title("Report")
st.caption(
    "A self-contained HTML page to hand out or attach to a release: status, score, what holds the "
    "model back, criteria and charts. It opens offline in any browser and prints."
)
model = selected_model("No models yet: upload a baseline and live predictions on the Data page for a report.")
name = model.name

try:
    with st.spinner("Writing the reports..."):
        reports = {name: model_report_html(store, model), None: portfolio_report_html(store)}
except ReadinessError as exc:
    st.error(inert(exc))
    st.stop()
today = utcnow().date()
files = {target: report_filename(target, today) for target in reports}

model_col, portfolio_col = st.columns(2)
with model_col.container(border=True):
    st.markdown(f"**{name}**: this model's checklist, criteria, drift and trends.")
    st.download_button(
        f"Download the report of {name}",
        lambda: reports[name],
        files[name],
        "text/html",
        key="report_model_download",
        type="primary",
        icon=":material/download:",
        on_click="ignore",
    )
    st.caption(f"{files[name]} · {len(reports[name].encode()) / 1e6:.1f} MB")
with portfolio_col.container(border=True):
    st.markdown("**All models**: every model's status, score and what holds it back, on one page.")
    st.download_button(
        "Download the portfolio report",
        lambda: reports[None],
        files[None],
        "text/html",
        key="report_portfolio_download",
        icon=":material/download:",
        on_click="ignore",
    )
    st.caption(f"{files[None]} · {len(reports[None].encode()) / 1e3:.0f} kB")

st.markdown("**From the command line** (same database: `$READINESS_DATABASE_URL`, or add `--database URL`)")
st.code(
    f"python -m readiness report --model {shlex.quote(name)} --out {files[name]}\n"
    f"python -m readiness report --all --out {files[None]}",
    language="bash",
)

st.subheader("Preview", anchor=False)
choices = {f"Report of {name}": name, "Portfolio report": None}
shown = st.segmented_control(
    "Preview",
    list(choices),
    default=f"Report of {name}",
    key=f"report_preview_{name}",
    label_visibility="collapsed",
)
if shown is not None:
    st.iframe(reports[choices[shown]], height=720)
