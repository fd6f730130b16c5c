"""Sign-in and roles on every page (AppTest with a simulated provider and st.user)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from readiness.analysis.settings import audit_trail
from readiness.storage.settings import current_attestations, load_config
from tests import test_pages

# The page tests' fixtures: a store with model "fraud" for the app, and app.py run as st.navigation.
db_url, fraud_store, navigation_only = test_pages.db_url, test_pages.fraud_store, test_pages.navigation_only

ROOT = Path(__file__).resolve().parent.parent
AUTH = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "a-long-random-string-for-the-tests-only",
    "client_id": "readiness",
    "client_secret": "secret",
    "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration",
}
ROLES = {
    "admin": ["ana@example.com"],
    "editor": ["eve@example.com"],
    "viewer": ["vic@example.com"],
    "owners": {"fraud": ["olu@example.com"]},
}
PAGES = ["overview", "checklist", "alerts", "drift", "performance", "data", "settings", "report"]


def signed_in(email: str | None, page: str | None = None, roles: dict | None = None) -> AppTest:
    """The app with a provider configured, as ``email`` (None: nobody signed in), on ``page``."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    at.secrets["auth"] = AUTH
    at.secrets["roles"] = ROLES if roles is None else roles
    at.user = (
        {"is_logged_in": False} if email is None else {"is_logged_in": True, "email": email, "sub": email}
    )
    at.query_params["model"] = "fraud"
    at.run()
    if page is not None:
        at.switch_page(f"pages/{page}.py").run()
    assert not at.exception, at.exception
    return at


def texts(at: AppTest) -> str:
    return " ".join(str(e.value) for e in [*at.markdown, *at.caption, *at.info, *at.warning, *at.error])


def test_without_a_provider_the_app_runs_in_local_mode_and_says_so(fraud_store):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30).run()
    assert not at.exception
    assert [m.value for m in at.sidebar.markdown] == [
        ":orange-badge[:material/lock_open: Local mode: no sign-in]"
    ]
    assert not [b for b in at.sidebar.button if b.key == "sign_out"]


def test_with_a_provider_nobody_sees_a_model_before_signing_in(fraud_store):
    at = signed_in(None)
    assert [t.value for t in at.title] == ["Model readiness"]
    assert [b.label for b in at.button] == ["Sign in"]
    assert "fraud" not in texts(at) and not at.sidebar.selectbox


def test_a_signed_in_identity_without_a_role_sees_no_model(fraud_store):
    at = signed_in("stranger@gmail.com")
    assert [t.value for t in at.title] == ["No access yet"]
    assert "stranger@gmail.com, who has no role" in at.warning[0].value
    assert not at.sidebar.selectbox


@pytest.mark.parametrize("page", PAGES)
def test_a_viewer_reads_every_page_without_error(fraud_store, page):
    at = signed_in("vic@example.com", page)
    assert not at.error, [e.value for e in at.error]
    assert "vic@example.com · viewer" in " ".join(c.value for c in at.sidebar.caption)
    assert not [m for m in at.sidebar.markdown if "Local mode" in m.value]


def test_a_viewer_cannot_attest_withdraw_or_exclude(fraud_store):
    at = signed_in("vic@example.com", "checklist")
    assert at.button(key="attest_submit").disabled
    assert at.button(key="exclude_submit").disabled
    assert "to attest or withdraw attestations you need the owner role" in texts(at)
    assert fraud_store.count_rows("attestations") == 0  # a forged request meets the check in test_access.py


def test_a_viewer_cannot_upload_or_change_criteria(fraud_store):
    at = signed_in("vic@example.com", "data")
    assert at.get("file_uploader")[0].proto.disabled
    assert "to upload files you need the editor role" in texts(at)
    at = signed_in("vic@example.com", "settings")
    assert at.button(key="criterion_add").disabled
    assert at.toggle(key="historical_fraud").disabled


def test_an_editor_sets_criteria_but_cannot_attest_and_is_named_in_the_audit(fraud_store):
    at = signed_in("eve@example.com", "settings")
    at.selectbox(key="criterion_metric").set_value("recall")
    at.number_input(key="criterion_threshold").set_value(0.8)
    at.button(key="criterion_add").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert audit_trail(fraud_store, fraud_store.get_model("fraud"))[0].actor == "eve@example.com"
    assert at.toggle(key="historical_fraud").disabled  # judging the log is the owner's call
    at = signed_in("eve@example.com", "checklist")
    assert at.button(key="attest_submit").disabled


def test_an_owner_attests_but_only_an_admin_exempts_a_critical_item(fraud_store):
    model = fraud_store.get_model("fraud")
    at = signed_in("olu@example.com", "checklist")
    at.selectbox(key="attest_item").set_value("model_card")
    at.text_input(key="attest_owner").input("Olu")
    at.text_input(key="attest_url").input("https://wiki.example.com/card")
    at.button(key="attest_submit").click().run()
    assert not at.error, [e.value for e in at.error]
    assert "model_card" in current_attestations(fraud_store, model.id)
    assert audit_trail(fraud_store, model)[0].actor == "olu@example.com"

    at.selectbox(key="exclude_item_fraud").set_value("criteria_met").run()
    assert at.button(key="exclude_submit").disabled
    assert "only an admin may mark it not applicable" in texts(at)
    at.selectbox(key="exclude_item_fraud").set_value("fairness_review").run()
    assert not at.button(key="exclude_submit").disabled

    at = signed_in("ana@example.com", "checklist")
    at.selectbox(key="exclude_item_fraud").set_value("criteria_met").run()
    at.text_input(key="exclude_reason").input("Shadow mode: no decisions are made")
    at.button(key="exclude_submit").click().run()
    assert not at.error, [e.value for e in at.error]
    assert "criteria_met" in load_config(fraud_store, model.id).not_applicable


def test_an_owner_of_another_model_is_a_viewer_here_only_if_listed(fraud_store):
    roles = {**ROLES, "owners": {"credit": ["olu@example.com"]}}
    at = signed_in("olu@example.com", "checklist", roles=roles)
    assert at.button(key="attest_submit").disabled
    assert "You have no role here" in texts(at)


def test_a_roles_configuration_that_cannot_be_read_stops_the_app_with_its_reason(fraud_store):
    at = signed_in("ana@example.com", roles={"admins": ["ana@example.com"]})
    assert "unknown key(s) 'admins'" in at.error[0].value
    assert not at.sidebar.selectbox
