"""Server-side CPU cost of a page view of the running app, measured in a real browser.

    .venv/bin/python bench/bench_page_views.py                      # seeds a fresh demo first (~1 min)
    .venv/bin/python bench/bench_page_views.py --database sqlite:////tmp/demo.db --views 5
    .venv/bin/python bench/bench_page_views.py --pages overview,checklist --model credit --sessions 4

It starts ``streamlit run app.py`` on a free port (against --database, or the demo seeded into
a temporary file that is deleted afterwards) and opens each page in headless Chromium
(Playwright, Debian's /usr/bin/chromium). Every view is a fresh page load in a new tab, so a new
Streamlit session. By default the tabs share one browser context whose HTTP cache is first
filled with the frontend's files (with the websocket mocked, so no session runs), as for a
returning visitor; --fresh-browser gives each view an empty context, so the server also serves
the frontend's JavaScript every time, as for a first visit.

A view ends when the app's root element says ``data-test-script-state="notRunning"`` (it says
``initial`` until the first run starts), with no exception shown, and the page's ``h1`` title
is visible; the server is then polled until its CPU time has not grown for 0.3 s, so trailing
work counts too. The cost of a view is the server process's CPU time (user + system, children
included, from /proc/<pid>/stat) from an idle server before the navigation to an idle server
after it; the browser's CPU is not counted.

The first view of each page after the server starts is "cold", the following --views are
"warm". The very first view also pays the server's own warm-up (imports, opening the store),
and later pages' cold views profit from what earlier pages cached. With --sessions K, K overview
tabs are then opened at once and the server's CPU for all K views is reported. Linux only
(/proc); CPU times have the kernel's clock-tick resolution (usually 10 ms). Exit status 1 when
the model is not in the database or a page fails (an exception shown, a timeout).
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize

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
PAGES = {  # page -> (URL path, the h1 title it shows)
    "overview": ("/", "Model readiness"),
    "checklist": ("/checklist", "Checklist"),
    "drift": ("/drift", "Drift"),
    "performance": ("/performance", "Performance"),
    "report": ("/report", "Report"),
    "settings": ("/settings", "Settings"),
    "data": ("/data", "Data"),
}
EXCEPTION = '[data-testid="stException"]'
RUN_DONE = """title => {
    const app = document.querySelector('[data-testid="stApp"][data-test-script-state="notRunning"]');
    const titled = h => h.textContent.includes(title) && h.getClientRects().length > 0;
    return app !== null && (document.querySelector('[data-testid="stException"]') !== null
        || [...document.querySelectorAll('[data-testid="stMain"] h1')].some(titled));
}"""  # the script ran to the end (its state is "initial" before the first run) and the page shows its title
COUNT_STATE_CHANGES = """
    window.__benchStateChanges = 0;
    new MutationObserver(records => { window.__benchStateChanges += records.length; })
        .observe(document, {subtree: true, attributeFilter: ["data-test-script-state"]});
"""  # so a rerun that starts after the wait (e.g. st.rerun) is noticed
MAX_RERUNS = 10
CLOCK_TICK = os.sysconf("SC_CLK_TCK")
SETTLE_QUIET = 0.3  # seconds without CPU growth that count as idle
SETTLE_BOUND = 10.0  # give up waiting for idle after this long
POLL = 0.05
VIEWPORT: ViewportSize = {"width": 1400, "height": 1000}


@dataclass
class View:
    """One page view: the server's CPU seconds and the wall seconds until the page was done."""

    cpu: float
    wall: float


# --- server CPU time ----------------------------------------------------------------------------


def _stat_fields(pid: int) -> list[str]:
    """The fields of /proc/<pid>/stat after the command name (field 3, the state, comes first)."""
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2 :].split()


def _descendants(pid: int) -> list[int]:
    """Live descendants of a process, found through the parent ids in /proc."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents.setdefault(int(_stat_fields(int(entry.name))[1]), []).append(int(entry.name))
            except (OSError, ValueError, IndexError):
                continue  # the process ended while we looked
    found, todo = [], [pid]
    while todo:
        children = parents.get(todo.pop(), [])
        found += children
        todo += children
    return found


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process, of its reaped children and of its live descendants."""
    total = 0
    for index, each in enumerate([pid, *_descendants(pid)]):
        try:
            fields = _stat_fields(each)
        except OSError:
            if index == 0:
                raise
            continue
        total += sum(int(value) for value in fields[11:15])  # utime, stime, cutime, cstime
    return total / CLOCK_TICK


def settle(pid: int, quiet: float = SETTLE_QUIET, bound: float = SETTLE_BOUND) -> float:
    """Poll until the CPU time has not grown for ``quiet`` seconds (at most ``bound``); return it."""
    deadline = time.monotonic() + bound
    last = cpu_seconds(pid)
    quiet_since = time.monotonic()
    while time.monotonic() - quiet_since < quiet and time.monotonic() < deadline:
        time.sleep(POLL)
        now = cpu_seconds(pid)
        if now > last:
            last, quiet_since = now, time.monotonic()
    return last


# --- database and server ------------------------------------------------------------------------


def seed_demo(workdir: Path) -> str:
    """Seed the demo into a fresh SQLite file under ``workdir``; return its URL."""
    url = f"sqlite:///{workdir / 'demo.db'}"
    print(f"No --database: seeding a fresh demo into {workdir / 'demo.db'} (about a minute)...", flush=True)
    started = time.monotonic()
    subprocess.run(
        [sys.executable, "-m", "readiness", "--database", url, "demo"],
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    print(f"Demo seeded in {time.monotonic() - started:.0f} s.", flush=True)
    return url


def check_model(database_url: str, model: str) -> None:
    """Fail unless the model is in the database (the app would silently show another one)."""
    sys.path.insert(0, str(ROOT))
    from readiness import Store

    store = Store.open(database_url)
    try:
        names = [m.name for m in store.list_models()]
    finally:
        store.engine.dispose()
    if model not in names:
        raise RuntimeError(f"no model {model!r} in {database_url}; it has: {', '.join(names) or 'none'}")


def free_port() -> int:
    """An unused TCP port on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_healthy(url: str, process: subprocess.Popen, timeout: float) -> None:
    """Poll Streamlit's health endpoint until it answers ok; fail if the server exits or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {process.returncode} before it was healthy")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read().strip() == b"ok":
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"streamlit did not become healthy at {url} within {timeout:.0f} s")


def _tail(path: Path, lines: int = 30) -> str:
    """The last lines of a text file, for an error message."""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


@contextmanager
def streamlit_server(database_url: str, log: Path, timeout: float) -> Iterator[tuple[str, int]]:
    """Run the app on a free port; yield its base URL and the server's pid; stop it on the way out."""
    port = free_port()
    env = {**os.environ, "READINESS_DATABASE_URL": database_url, "READINESS_AUTO_DEMO": "0"}
    command = [
        sys.executable,
        "-m",
        "streamlit",
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
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            url = f"http://127.0.0.1:{port}"
            wait_until_healthy(url, process, timeout)
            yield url, process.pid
        except BaseException:
            out.flush()
            print(f"Server log ({log}), last lines:\n{_tail(log)}", file=sys.stderr)
            raise
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextmanager
def chromium() -> Iterator[Browser]:
    """A headless Debian Chromium driven by Playwright; closed on the way out."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


# --- views --------------------------------------------------------------------------------------


@dataclass
class Viewer:
    """What a view needs: the browser, its shared context (None: one per tab), the server, the model."""

    browser: Browser
    shared: BrowserContext | None
    pid: int
    base: str
    model: str
    timeout_ms: float

    def url(self, name: str) -> str:
        """The address of a page for the model, e.g. http://host/checklist?model=fraud."""
        return f"{self.base}{PAGES[name][0]}?model={self.model}"


def wait_until_done(page: Page, name: str, timeout_ms: float) -> None:
    """Wait until a script run finished with the page's title shown; fail on an app exception."""
    page.wait_for_function(RUN_DONE, arg=PAGES[name][1], timeout=timeout_ms)
    if page.locator(EXCEPTION).count():
        first_line = page.locator(EXCEPTION).first.inner_text().strip().splitlines()[0]
        raise RuntimeError(f"the {name} page raised {first_line} (traceback in the server log above)")


def state_changes(pages: list[Page]) -> int:
    """How often the script state changed in these tabs so far (counted by the COUNT_STATE_CHANGES script)."""
    return sum(page.evaluate("window.__benchStateChanges || 0") for page in pages)


@contextmanager
def new_tabs(viewer: Viewer, count: int) -> Iterator[list[Page]]:
    """New tabs (each a new Streamlit session): in the shared context, else each in a context of its own."""
    with ExitStack() as closing:  # closes the tabs, then their own contexts, even on error
        pages = []
        for _ in range(count):
            context = viewer.shared
            if context is None:
                context = viewer.browser.new_context(viewport=VIEWPORT)
                closing.callback(context.close)
            page = context.new_page()
            closing.callback(page.close)
            page.set_default_timeout(viewer.timeout_ms)
            page.add_init_script(COUNT_STATE_CHANGES)
            pages.append(page)
        yield pages


def measure(
    pid: int, start: Callable[[], object], finish: Callable[[], object], changes: Callable[[], int]
) -> View:
    """Server CPU and wall seconds from an idle server through ``start`` and ``finish`` to an idle server.

    When ``changes()`` moved while the server settled (the app ran the script again), wait with
    ``finish`` and settle once more, so the extra run is counted too.
    """
    before = settle(pid)
    started = time.monotonic()
    start()
    for _ in range(MAX_RERUNS):
        finish()
        wall = time.monotonic() - started
        seen = changes()
        after = settle(pid)
        if changes() == seen:
            return View(cpu=after - before, wall=wall)
    raise RuntimeError(f"the app was still rerunning after {MAX_RERUNS} waits")


def view(viewer: Viewer, name: str, sessions: int = 1) -> View:
    """Open ``sessions`` new tabs on a page at once and measure the server's work for all of them."""
    with new_tabs(viewer, sessions) as pages:

        def start() -> None:
            for page in pages:
                page.goto(viewer.url(name), wait_until="commit")

        def finish() -> None:
            for page in pages:
                wait_until_done(page, name, viewer.timeout_ms)

        return measure(viewer.pid, start, finish, lambda: state_changes(pages))


def prime_cache(viewer: Viewer) -> View:
    """Load the frontend into the shared context's HTTP cache without a server session (websocket mocked)."""
    with new_tabs(viewer, 1) as (page,):
        page.route_web_socket("**/_stcore/stream", lambda socket: None)  # never connected to the server
        return measure(
            viewer.pid,
            lambda: page.goto(f"{viewer.base}/", wait_until="networkidle"),
            lambda: page.get_by_test_id("stApp").wait_for(state="attached"),
            lambda: 0,
        )


# --- report -------------------------------------------------------------------------------------


def warm_median(views: list[View]) -> float:
    """Median CPU seconds of the warm views (all but the first)."""
    return statistics.median(v.cpu for v in views[1:])


def table(results: dict[str, list[View]]) -> str:
    """A markdown table: cold CPU, warm median and max CPU, cold and warm median wall seconds."""
    rows = [
        "| page | cold CPU-s | warm median CPU-s | warm max CPU-s | cold wall-s | warm median wall-s |",
        "|---|---|---|---|---|---|",
    ]
    for name, views in results.items():
        cold, warm = views[0], views[1:]
        rows.append(
            f"| {name} | {cold.cpu:.2f} | {warm_median(views):.2f} | "
            f"{max(v.cpu for v in warm):.2f} | {cold.wall:.2f} | "
            f"{statistics.median(v.wall for v in warm):.2f} |"
        )
    return "\n".join(rows)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database", metavar="URL", help="SQLAlchemy URL (default: seed the demo into a temporary file)"
    )
    parser.add_argument(
        "--views", type=int, default=5, help="warm views per page, after the cold one (default 5)"
    )
    parser.add_argument("--pages", default=",".join(PAGES), help=f"comma-separated, from {','.join(PAGES)}")
    parser.add_argument("--model", default="fraud", help="model to show (default fraud)")
    parser.add_argument(
        "--sessions",
        type=int,
        default=0,
        metavar="K",
        help="also open K overview tabs at once and report their total (default off)",
    )
    parser.add_argument(
        "--fresh-browser",
        action="store_true",
        help="each view in a new browser context with an empty cache, so the server also "
        "serves the frontend's static files every time (default: one primed context)",
    )
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds a view may take (default 120)")
    args = parser.parse_args(argv)
    args.pages = [name.strip() for name in args.pages.split(",") if name.strip()]
    unknown = sorted(set(args.pages) - set(PAGES))
    if unknown or not args.pages:
        parser.error(f"unknown page(s) {', '.join(unknown)}; choose from {', '.join(PAGES)}")
    if args.views < 1 or args.sessions < 0:
        parser.error("--views must be at least 1 and --sessions at least 0")
    return args


def run(args: argparse.Namespace, workdir: Path) -> None:
    """Start the server and the browser, view every page cold then warm, print the results."""
    database = args.database or seed_demo(workdir)
    check_model(database, args.model)
    results: dict[str, list[View]] = {}
    together = None
    server = streamlit_server(database, workdir / "streamlit.log", args.timeout)
    with server as (base, pid), chromium() as browser:
        shared = None if args.fresh_browser else browser.new_context(viewport=VIEWPORT)
        viewer = Viewer(browser, shared, pid, base, args.model, args.timeout * 1000)
        where = "browser context" if shared is None else "tab of one browser context"
        print(
            f"Server pid {pid} at {base}; model {args.model}; a cold view, then {args.views} warm "
            f"view(s) per page, each in a new {where}.",
            flush=True,
        )
        if shared is not None:
            primed = prime_cache(viewer)
            print(f"  frontend files into the browser cache (no session): {primed.cpu:.2f} CPU-s", flush=True)
        for name in args.pages:
            results[name] = [view(viewer, name) for _ in range(1 + args.views)]
            cpus = ", ".join(f"{v.cpu:.2f}" for v in results[name])
            print(f"  {name}: {cpus} CPU-s (cold first)", flush=True)
        if args.sessions:
            if "overview" not in results:
                view(viewer, "overview")  # so the K sessions are warm views, as in the table
            together = view(viewer, "overview", sessions=args.sessions)
    print(f"\n{table(results)}\n")
    if together is not None:
        print(
            f"{args.sessions} overview sessions at once: {together.cpu:.2f} CPU-s in total "
            f"({together.cpu / args.sessions:.2f} per view), all done after {together.wall:.2f} s"
        )
    worst = max(results, key=lambda name: warm_median(results[name]))
    print(f"Max warm median across pages: {warm_median(results[worst]):.2f} CPU-s ({worst})")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark in a temporary working directory (demo database, server log)."""
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))  # unwind: stop the server
    from playwright.sync_api import Error as PlaywrightError

    with tempfile.TemporaryDirectory(prefix="bench-page-views-") as workdir:
        try:
            run(args, Path(workdir))
        except (RuntimeError, TimeoutError, subprocess.CalledProcessError, PlaywrightError) as exc:
            print(f"{Path(__file__).name}: {type(exc).__name__}: {exc}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
