"""Running the real app and a real Chromium for browser tests (Playwright, Debian's chromium)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path(os.environ.get("READINESS_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = ROOT / "test-artifacts"
SLOW_MS = 60_000  # what a wait after a script run allows on a busy CI machine (a cold analysis, a rerun)
# Streamlit (1.5x and later) marks the app root with the script's run state: "initial" before the
# first run, then "running" / "rerunRequested" / "notRunning" (see the frontend's ScriptRunState).
SCRIPT_DONE = "[data-testid='stApp'][data-test-script-state='notRunning']"
# `python -c` boot for `streamlit run` with the demo seeded at a smaller scale: seed_demo is looked
# up when app.py calls it, so the first start still goes through app.py's own seeding path.
SCALED_DEMO_BOOT = (
    "import functools, sys\n"
    "import readiness.analysis.demo as demo\n"
    "demo.seed_demo = functools.partial(demo.seed_demo, scale=float(sys.argv.pop(1)))\n"
    "from streamlit.web.cli import main\n"
    "sys.argv[0] = 'streamlit'\n"
    "main(prog_name='streamlit')\n"
)


def require_chromium() -> None:
    """Skip (or, under CI=true, fail) when Playwright or Debian's Chromium is missing."""
    reason = None
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        reason = "the playwright package is not installed (pip install -r requirements-dev.txt)"
    if reason is None and not CHROMIUM.exists():
        reason = f"no Chromium at {CHROMIUM} (apt-get install -y chromium)"
    if reason is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"Browser tests cannot run in CI: {reason}.")
    pytest.skip(f"Browser test skipped: {reason}.")


def free_port() -> int:
    """An unused TCP port on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_answering(
    url: str, process: subprocess.Popen, timeout: float = 120.0, body: bytes | None = None
) -> None:
    """Poll ``url`` until it answers 200 (with ``body``, when given), the process dies, or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"{process.args[0]} exited with code {process.returncode} before {url} answered"
            )
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200 and (body is None or response.read().strip() == body):
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"nothing answered at {url} within {timeout:.0f}s")


@contextmanager
def background_process(
    command: list[str], log_name: str, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen]:
    """Run ``command`` from the project folder with its output in test-artifacts/``log_name``; stop it afterwards."""
    ARTIFACTS.mkdir(exist_ok=True)
    with (ARTIFACTS / log_name).open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


@contextmanager
def running_app(
    database_url: str,
    auto_demo: bool = False,
    demo_scale: float | None = None,
    port: int | None = None,
    extra_env: dict[str, str] | None = None,
    extra_args: tuple[str, ...] = (),
) -> Iterator[str]:
    """Start ``streamlit run app.py`` on a free port (or ``port``) against a database; yield its base URL.

    ``demo_scale`` (with ``auto_demo``) seeds the first start's demo at that scale instead of
    the full one: the same path through app.py, with fewer rows to generate. ``extra_env`` and
    ``extra_args`` (e.g. ``--secrets.files``) go to the server.
    """
    port = port or free_port()
    env = {
        **os.environ,
        "READINESS_DATABASE_URL": database_url,
        "READINESS_AUTO_DEMO": "1" if auto_demo else "0",
        **(extra_env or {}),
    }
    boot = ["-m", "streamlit"] if demo_scale is None else ["-c", SCALED_DEMO_BOOT, str(demo_scale)]
    command = [
        sys.executable,
        *boot,
        "run",
        str(ROOT / "app.py"),
        "--server.headless",
        "true",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
        *extra_args,
    ]
    url = f"http://127.0.0.1:{port}"
    with background_process(command, f"streamlit-{port}.log", env) as process:
        wait_until_answering(f"{url}/_stcore/health", process, body=b"ok")
        yield url


def wait_for_script(page, timeout: float = SLOW_MS) -> None:
    """Wait until Streamlit has finished running the page's script (no fixed sleeps).

    Only a first signal after a page load: a click's rerun may not have started yet when this
    returns, so what a rerun should show is awaited with ``expect(...)`` and a timeout.
    """
    page.locator(SCRIPT_DONE).wait_for(timeout=timeout)


def open_app(page, url: str, timeout: float = SLOW_MS) -> None:
    """Load a page of the app and wait for its first script run to finish."""
    page.goto(url)
    wait_for_script(page, timeout)


@contextmanager
def chromium() -> Iterator[object]:
    """A headless Debian Chromium driven by Playwright, for several pages in a row."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def new_page(browser, width: int = 1400, height: int = 1000) -> Iterator[object]:
    """A page in a fresh browser context (its own cookies and storage) of a running Chromium."""
    context = browser.new_context(viewport={"width": width, "height": height})
    try:
        page = context.new_page()
        page.set_default_timeout(30_000)
        yield page
    finally:
        context.close()


@contextmanager
def chromium_page(width: int = 1400, height: int = 1000) -> Iterator[object]:
    """A Playwright page in headless Debian Chromium."""
    with chromium() as browser, new_page(browser, width, height) as page:
        yield page


def selectbox(page, scope, label: str):
    """The Streamlit selectbox whose label is exactly ``label``."""
    return scope.get_by_test_id("stSelectbox").filter(
        has=page.get_by_test_id("stWidgetLabel").get_by_text(label, exact=True)
    )


def choose(page, scope, label: str, option: str) -> None:
    """Pick an option in a Streamlit selectbox found by its label (after the script run has settled)."""
    wait_for_script(page)
    box = selectbox(page, scope, label).get_by_role("combobox")
    box.focus()
    box.press("ArrowDown")  # opens the list whether or not a click would (a click may only focus it)
    page.get_by_role("option", name=option, exact=True).click()


def sidebar_link(page, name: str):
    return page.get_by_test_id("stSidebarNav").get_by_role("link", name=name, exact=True)


def sidebar_model(page):
    return page.get_by_test_id("stSidebar").get_by_role("combobox", name="Model")


def upload_and_store(
    page, kind_label: str, uploader_label: str, path, kind: str, before_confirm=None
) -> None:
    """Choose the kind of file, upload it, confirm the proposed mapping unchanged, and wait for "Stored"."""
    from playwright.sync_api import expect

    main = page.get_by_test_id("stMain")
    main.get_by_text(kind_label, exact=True).click()
    uploader = main.get_by_test_id("stFileUploader").filter(has_text=uploader_label)
    uploader.locator("input[type=file]").set_input_files(str(path))
    button = main.get_by_role("button", name=f"Confirm mapping and store {kind}", exact=True)
    try:
        button.wait_for(timeout=SLOW_MS)
        expect(button).to_be_enabled(timeout=SLOW_MS)  # the whole-file check at preview passed
    finally:
        page.screenshot(path=str(ARTIFACTS / f"upload-{kind}.png"), full_page=True)
    if before_confirm is not None:
        before_confirm(main)
    button.click()
    stored = r"label\(s\)" if kind == "labels" else f"{kind} row"
    expect(main.get_by_text(re.compile(rf"Stored [\d,]+ {stored}"))).to_be_visible(timeout=SLOW_MS)
