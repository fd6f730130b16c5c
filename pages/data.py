"""Data: upload a baseline, live predictions or delayed labels; confirm the mapping; store."""

from collections.abc import Callable
from typing import Any

import streamlit as st

from readiness.analysis.ingest import (
    DATE_FORMATS,
    REQUIRED_ROLES,
    ROLES_BY_KIND,
    TASKS,
    ColumnMapping,
    ModelSpec,
    check_upload,
    ingest_csv,
    lake_refusal,
    log_has_ended,
    max_upload_mb,
    megabytes,
    missing_roles,
    model_classes,
    model_positive_class,
    preview_upload,
    probability_roles,
)
from readiness.analysis.records import Action
from readiness.errors import ReadinessError
from shell import allowed, current_actor, inert, require_shell, table

KINDS = {
    "Baseline (reference data)": "baseline",
    "Live predictions": "live",
    "Delayed labels": "labels",
}
ROLE_TITLES = {
    "timestamp": "Timestamp",
    "prediction": "Prediction",
    "score": "Score (probability of the positive class)",
    "label": "Label (ground truth)",
    "request_id": "Request id",
    "model_version": "Model version",
    "latency_ms": "Latency (ms)",
    "label_time": "Label arrival time (when it became known)",
}
NONE = "(none)"
DATE_CHOICES = {"Automatic": "", **{f"{k.capitalize()} ({v})": v for k, v in DATE_FORMATS.items()}}
NEW_MODEL = "New model..."

store = require_shell()
st.title("Data")
st.caption(
    "Upload a baseline (the data the model was developed on), then live prediction logs and, "
    "as they arrive, delayed labels (request_id, label). CSV (comma, semicolon or tab separated) or Parquet."
)

NEXT_STEP = {  # after storing a kind of file: what to upload next, and the choice that does it
    "baseline": ("Now upload live predictions for {model}.", "Live predictions"),
    "live": (
        "Next, upload delayed labels for {model} as they arrive, or see it on the Drift page.",
        "Delayed labels",
    ),
}


def _once(key: tuple, compute: Callable[[], Any]) -> Any:
    """A check over the whole file, kept until the file, model or mapping changes (not redone per widget click)."""
    memo = st.session_state.setdefault("upload_checks", {})
    if key not in memo:
        if len(memo) > 20:  # a few files and mappings a session; never a growing pile
            memo.clear()
        memo[key] = compute()
    return memo[key]


def _problem_of(model_name: str, preview, mapping, spec) -> str:
    """What storing the upload would refuse, in its own words, or "" when it would store."""
    try:
        check_upload(store, model_name, preview, mapping, spec)  # as Confirm would, storing nothing
    except ReadinessError as exc:
        return str(exc)
    return ""


def _go_to(kind_label: str) -> None:
    st.session_state["upload_kind"] = kind_label


last = st.session_state.pop("last_ingest", None)
if last is not None:
    (st.info if last.already_ingested else st.success)(inert(last.message))
    st.toast(inert(last.message), icon=":material/check_circle:")  # seen where Confirm was, however far down
    if last.features:
        table(
            {"Feature": [f.name for f in last.features], "Type": [f.kind for f in last.features]},
            hide_index=True,
        )
    if last.kind in NEXT_STEP:
        text, next_kind = NEXT_STEP[last.kind]
        st.info(text.format(model=last.model), icon=":material/arrow_forward:")
        st.button(f"Upload {next_kind.lower()}", key="next_step", on_click=_go_to, args=(next_kind,))

kind = KINDS[st.radio("What are you uploading?", list(KINDS), horizontal=True, key="upload_kind")]
names = [m.name for m in store.list_models()]
options = names + ([NEW_MODEL] if kind == "baseline" else [])
if not options:
    st.info("Upload a baseline first: it creates the model that live logs and labels belong to.")
    st.stop()
current = st.session_state.get("model_choice")
target = st.selectbox(
    "Model", options, index=options.index(current) if current in options else 0, key=f"upload_model_{kind}"
)
spec = None
model_name = target
if target == NEW_MODEL:
    model_name = st.text_input("New model name", placeholder="e.g. churn-v1", key="new_model_name").strip()

refusal = lake_refusal(store, model_name, kind) if target != NEW_MODEL else None
if refusal:
    st.info(refusal, icon=":material/cloud:")
    st.stop()

UPLOAD_LABELS = {
    "baseline": "Baseline file (CSV or Parquet)",
    "live": "Live predictions file (CSV or Parquet)",
    "labels": "Delayed labels file (request_id, label; CSV or Parquet)",
}
actor = current_actor()
may_upload = allowed(Action.UPLOAD, model_name or None)
upload = st.file_uploader(
    UPLOAD_LABELS[kind],
    type=["csv", "tsv", "txt", "parquet", "pq"],
    key=f"upload_file_{kind}",
    max_upload_size=max_upload_mb(),  # the limit ingestion enforces, so the widget never promises more
    disabled=not may_upload,
)
if upload is None or not may_upload:
    st.stop()

try:
    preview = preview_upload(
        upload.getvalue(),
        kind,
        upload.name,
        model_classes(store, model_name),
        model_positive_class(store, model_name),
    )
except ReadinessError as exc:
    st.error(inert(exc))
    st.stop()

read = (
    f"Read {preview.n_rows:,} rows and {len(preview.columns)} columns"
    if preview.complete
    else f"Read the first {preview.n_rows:,} rows of this {megabytes(preview.table.n_bytes)} MB file and its "
    f"{len(preview.columns)} columns; the checks below are on those rows. Storing reads, checks and stores the "
    "rest block by block, and stores nothing if any row is bad"
)
st.caption(
    f"{read} ({preview.table.described})."
    + (
        " Lines in messages count as in a CSV export of it (the header is line 1)."
        if preview.table.format == "parquet"
        else ""
    )
)

if target == NEW_MODEL:
    st.subheader("New model")
    left, right = st.columns(2)
    proposed = preview.proposed_task or "binary"
    task = left.selectbox(
        "Task",
        TASKS,
        index=TASKS.index(proposed),
        key="new_model_task",
        help="Proposed from the label values; change it if it is wrong.",
    )
    positive = right.text_input(
        "Positive class",
        value=preview.proposed_positive_class or "",
        key="new_model_positive",
        disabled=task != "binary",
        help="The label value that means 'yes' (binary models only).",
    )
    owner = left.text_input("Owner", key="new_model_owner")
    description = right.text_input("Description", key="new_model_description")
    spec = ModelSpec(task, positive.strip() or None, owner.strip(), description.strip())

st.subheader("Column mapping")
st.caption("Proposed from the column names. Confirm or change it; unmapped columns are features.")
roles = {}
role_columns = st.columns(3)
for i, role in enumerate(ROLES_BY_KIND[kind]):
    proposed_column = preview.mapping.column_for(role)
    choices = [NONE, *preview.columns]
    required = " (required)" if role in REQUIRED_ROLES[kind] else ""
    chosen = role_columns[i % 3].selectbox(
        ROLE_TITLES[role] + required,
        choices,
        index=choices.index(proposed_column) if proposed_column else 0,
        key=f"map_{kind}_{role}_{upload.file_id}",
    )
    if chosen != NONE:
        roles[role] = chosen
ignore: list[str] = list(preview.mapping.ignore)
categorical: list[str] = []
if kind != "labels":
    candidates = [c for c in preview.columns if c not in roles.values()]
    proposed_probabilities = [c for c in preview.mapping.class_probabilities.values() if c in candidates]
    chosen_probabilities = st.multiselect(
        "Class probabilities (multiclass)",
        candidates,
        default=proposed_probabilities,
        key=f"proba_{kind}_{upload.file_id}",
        help="One column per class holding the model's probability of that class (y_pred_proba_<class>, "
        "p_<class>...). They are model outputs, never features.",
    )
    classes_by_role = probability_roles(chosen_probabilities, preview.mapping)
    roles |= classes_by_role
    if classes_by_role:
        st.caption(
            "Class of each probability column: "
            + inert(
                ", ".join(f"{column} → {role.split(':', 1)[1]}" for role, column in classes_by_role.items())
            )
        )
    unmapped = [c for c in preview.columns if c not in roles.values()]
    ignore = st.multiselect("Ignore these columns", unmapped, key=f"ignore_{kind}_{upload.file_id}")
    if kind == "baseline":
        categorical = st.multiselect(
            "Treat as categorical",
            [c for c in unmapped if c not in ignore],
            key=f"categorical_{upload.file_id}",
            help="Numbers that are really codes (zip, store id). Text columns are categorical anyway.",
        )
date_format = ""
if "timestamp" in roles or "label_time" in roles:
    date_format = DATE_CHOICES[
        st.selectbox(
            "Date format",
            list(DATE_CHOICES),
            key=f"date_format_{upload.file_id}",
            help="How the time column writes dates. Automatic reads ISO 8601 (2026-02-13T14:05:00Z), "
            "and dates like 13/02/2026 when the file shows which part is the day.",
        )
    ]
if preview.label_guess is not None and roles.get("label") == preview.label_guess.column:
    st.caption(inert(preview.label_guess.reason))
score_guess = preview.score_guess
if score_guess is not None and roles.get("score") == score_guess.column:
    st.caption(inert(score_guess.reason))
    if spec is not None and spec.positive_class not in (None, score_guess.positive):
        st.warning(
            inert(
                f"The positive class is now {spec.positive_class!r}, but {score_guess.column!r} was proposed as "
                f"the probability of {score_guess.positive!r}. Map it as the score only if it is the positive "
                "class's probability; otherwise set Score to (none)."
            )
        )
mapping = ColumnMapping(
    roles=roles, ignore=tuple(ignore), categorical=tuple(categorical), date_format=date_format
)
if kind != "labels":
    st.caption("Features: " + (inert(", ".join(mapping.feature_columns(preview.columns))) or "none"))

st.subheader("Preview")
table(preview.head, hide_index=True)

historical = None
checked = (upload.file_id, kind, model_name, repr(mapping), repr(spec))  # what the checks below depend on
ended = _once(("ended", *checked), lambda: log_has_ended(preview, mapping))
if ended is not None and not actor.may(Action.CONFIGURE, model_name):
    st.caption(
        f"This log has ended (its newest prediction is from {ended.day} {ended:%b %Y}). The model's owner can "
        "judge it as a historical log, as of its own end, in Settings."
    )
elif ended is not None:
    historical = st.checkbox(
        f"This log has ended (its newest prediction is from {ended.day} {ended:%b %Y}): judge it as a "
        "historical log, as of its own end",
        value=True,
        key=f"historical_{upload.file_id}",
        help="Windows, drift and criteria are then judged up to the log's last day, and freshness does not "
        "apply. Untick for a live service that stopped logging; Settings changes it later.",
    )

problem = ""
still_needed = missing_roles(mapping, kind)
if not still_needed and model_name:
    problem = _once(("check", *checked), lambda: _problem_of(model_name, preview, mapping, spec))
    if problem:
        st.error(f"Before storing: {inert(problem)}")
if still_needed:
    st.warning(
        "Choose the column that holds the "
        + " and the ".join(ROLE_TITLES[r].lower() for r in still_needed)
        + " above: a "
        + {"baseline": "baseline", "live": "live log", "labels": "labels file"}[kind]
        + " needs it."
    )
if st.button(
    f"Confirm mapping and store {kind}",
    type="primary",
    disabled=not model_name or bool(still_needed) or bool(problem),
):
    bar = st.progress(0.0, text="Starting")
    try:
        result = ingest_csv(
            store,
            model_name,
            kind,
            preview.source,  # the preview's first block is not read again
            upload.name,
            mapping,
            spec,
            actor=actor,
            progress=lambda f, text: bar.progress(f, text=text),
            historical=historical,
        )
    except ReadinessError as exc:
        bar.empty()
        st.error(inert(exc))
    else:
        st.session_state.pop("upload_checks", None)
        st.session_state["last_ingest"] = result
        st.session_state["select_model_next"] = result.model
        st.rerun()
