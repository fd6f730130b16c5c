"""Sign-in through a real OpenID Connect provider on 127.0.0.1, in Chromium: a viewer cannot change anything, an owner can.

The provider is oidc-provider-mock, started by the test in its own process; the app gets an
[auth] table in a secrets file and a roles file, exactly as a deployment would.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from conftest import copy_store

from readiness.storage.store import Store
from tests.browser import (
    ARTIFACTS,
    SLOW_MS,
    background_process,
    choose,
    chromium,
    free_port,
    new_page,
    require_chromium,
    running_app,
    sidebar_link,
    wait_for_script,
    wait_until_answering,
)

pytestmark = pytest.mark.browser

VIEWER, OWNER = "vic@example.com", "olu@example.com"
ROLES = f"""
[roles]
viewer = ["{VIEWER}"]

[roles.owners]
demand = ["{OWNER}"]
"""
ROLLBACK_TITLE = "Rolling back to the previous model has been rehearsed"


@contextmanager
def oidc_provider() -> Iterator[str]:
    """oidc-provider-mock on a free 127.0.0.1 port, offering the viewer and the owner; yield its issuer URL."""
    port = free_port()
    command = [sys.executable, "-m", "oidc_provider_mock", "--host", "127.0.0.1", "--port", str(port)]
    for who in (VIEWER, OWNER):
        command += ["--user-claims", json.dumps({"sub": who, "email": who, "email_verified": True})]
    issuer = f"http://127.0.0.1:{port}"
    with background_process(command, f"oidc-{port}.log") as process:
        wait_until_answering(f"{issuer}/.well-known/openid-configuration", process, timeout=60)
        yield issuer


@pytest.fixture(scope="module")
def browser():
    require_chromium()
    with chromium() as running:
        yield running


@pytest.fixture
def signed_app(live_demo_path, tmp_path) -> Iterator[str]:
    """The app on a copy of the demo, behind sign-in with the provider and the roles above; yield its URL."""
    copy_store(live_demo_path, tmp_path, "demo.db").engine.dispose()
    port = free_port()
    with oidc_provider() as issuer:
        secrets = tmp_path / "secrets.toml"
        secrets.write_text(
            "[auth]\n"
            f'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
            'cookie_secret = "a-long-random-cookie-secret-for-this-test-only"\n'
            'client_id = "readiness-dashboard"\n'
            'client_secret = "not-a-secret-in-a-test"\n'
            f'server_metadata_url = "{issuer}/.well-known/openid-configuration"\n'
        )
        roles = tmp_path / "roles.toml"
        roles.write_text(ROLES)
        with running_app(
            f"sqlite:///{tmp_path / 'demo.db'}",
            port=port,
            extra_env={"READINESS_ROLES_FILE": str(roles)},
            extra_args=("--secrets.files", str(secrets)),
        ) as url:
            yield url


def sign_in(page, url: str, who: str) -> None:
    """Open the app, press Sign in, choose ``who`` on the provider's page, and wait to be back and signed in."""
    from playwright.sync_api import expect

    page.goto(f"{url}/checklist?model=demand")  # a deep link shows the sign-in page too
    page.get_by_role("button", name="Sign in", exact=True).click(timeout=SLOW_MS)
    page.get_by_role("button", name=who, exact=True).click(timeout=SLOW_MS)  # the provider's page
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar.get_by_text(re.compile(rf"{re.escape(who)} · "))).to_be_visible(timeout=SLOW_MS)
    page.goto(f"{url}/checklist?model=demand")  # the session cookie now opens it
    expect(page.get_by_test_id("stMain").get_by_test_id("stForm")).to_be_visible(timeout=SLOW_MS)
    wait_for_script(page)


def test_a_viewer_signed_in_through_the_provider_cannot_change_anything(browser, signed_app, tmp_path):
    from playwright.sync_api import expect

    with new_page(browser) as page:
        page.goto(signed_app)
        expect(page.get_by_role("button", name="Sign in", exact=True)).to_be_visible(timeout=SLOW_MS)
        expect(page.get_by_test_id("stSidebar").get_by_role("combobox", name="Model")).to_have_count(0)

        sign_in(page, signed_app, VIEWER)
        sidebar = page.get_by_test_id("stSidebar")
        expect(sidebar.get_by_text(re.compile(rf"{re.escape(VIEWER)} · viewer$"))).to_be_visible(
            timeout=SLOW_MS
        )
        main = page.get_by_test_id("stMain")
        form = main.get_by_test_id("stForm")
        expect(form.get_by_role("button", name="Attest", exact=True)).to_be_disabled(timeout=SLOW_MS)
        expect(main.get_by_text(re.compile(r"You have the viewer role here; to attest"))).to_be_visible()
        main.get_by_role("tab", name="Not applicable", exact=True).click()
        not_applicable = main.get_by_role("button", name="Mark not applicable", exact=True)
        expect(not_applicable).to_be_disabled(timeout=SLOW_MS)
        page.screenshot(path=str(ARTIFACTS / "signin-viewer-checklist.png"), full_page=True)

        sidebar_link(page, "Data").click()
        expect(main.get_by_text(re.compile(r"You have the viewer role here; to upload files"))).to_be_visible(
            timeout=SLOW_MS
        )
        expect(main.get_by_test_id("stFileUploaderDropzoneInput")).to_be_disabled()

        sidebar_link(page, "Settings").click()
        settings_form = main.get_by_test_id("stForm")
        expect(settings_form.get_by_role("button", name="Add criterion", exact=True)).to_be_disabled(
            timeout=SLOW_MS
        )
    store = Store.open(f"sqlite:///{tmp_path / 'demo.db'}")
    assert VIEWER not in set(store.audit_entries(None, 500).actor)


def test_an_owner_signed_in_through_the_provider_attests_and_is_named_in_the_audit(
    browser, signed_app, tmp_path
):
    from playwright.sync_api import expect

    with new_page(browser) as page:
        sign_in(page, signed_app, OWNER)
        sidebar = page.get_by_test_id("stSidebar")
        expect(sidebar.get_by_text(re.compile(rf"{re.escape(OWNER)} · owner$"))).to_be_visible(
            timeout=SLOW_MS
        )
        main = page.get_by_test_id("stMain")
        form = main.get_by_test_id("stForm")
        form.scroll_into_view_if_needed()
        choose(page, form, "Item", ROLLBACK_TITLE)
        form.get_by_role("textbox", name="Owner (who attests)", exact=True).fill("R. Diaz")
        form.get_by_role("textbox", name="Evidence link", exact=True).fill("https://wiki.example.com/drill")
        form.get_by_role("button", name="Attest", exact=True).click()
        done = main.get_by_test_id("stAlert").filter(has_text="Attested:")
        expect(done).to_contain_text("The score is now 75 (Ready).", timeout=SLOW_MS)

        sidebar_link(page, "Settings").click()
        audit = main.get_by_test_id("stDataFrame")
        expect(audit.last).to_be_visible(timeout=SLOW_MS)
        page.screenshot(path=str(ARTIFACTS / "signin-owner-settings.png"), full_page=True)
    store = Store.open(f"sqlite:///{tmp_path / 'demo.db'}")
    newest = store.audit_entries(store.get_model("demand"), 1)
    assert (newest.actor.iloc[0], newest.action.iloc[0]) == (OWNER, "checklist.attest")
