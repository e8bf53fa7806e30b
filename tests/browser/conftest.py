"""Chromium driven by Playwright against real `funding serve` processes.

The browser is `FUNDING_CHROMIUM` when set (and only that), else Debian's `/usr/bin/chromium`,
else Playwright's own build (`python -m playwright install chromium`). Without one, every test
that needs it skips on one summary line; with `CI` set the run stops instead.

One browser and two servers serve the whole folder: the demo programme on its own fresh database,
and a server on an empty database for empty states. The tests only read, so they share them
(a test that writes starts its own with `start_fresh_demo_server`, or a module of such tests
shares `own_demo_server`); the one write to the shared demo server is the pledge whose page
route discovery samples, made before any test reads (`site.demo_pledge_token`). Each site is
crawled once per language (`survey`); each test gets new browser contexts (no cookies carried
over), and when a test fails every page it still has open is saved under artifacts/browser/.
"""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.browser.axe import AxeCheck
from tests.browser.forms import FormCount
from tests.browser.site import (
    CONTEXTS_AT_ONCE,
    ERROR_STATES,
    SUMMARY,
    CrawlReport,
    ReflowCheck,
    crawl,
    expected_statuses,
    save_artifacts,
    server_routes,
)
from tests.conftest import DATABASES, ON_CI
from tests.live import LiveServer

DEBIAN_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 15_000
SERVER_ENV = {"FUNDING_RATE_LIMIT": "1000"}
"""The browser tests post many forms from one address within a minute; the default limit (20 a
minute) is for visitors, and has tests of its own (tests/web)."""
DESKTOP = {"width": 1280, "height": 800}
CONTEXTS = pytest.StashKey[list]()
CHROMIUM = pytest.StashKey[str]()
"""The browser found at collection, for the `browser` fixture."""
NO_CHROMIUM = pytest.StashKey[str]()
"""Why the browser tests skip, when no browser was found."""


def find_chromium() -> tuple[str | None, str]:
    """The Chromium to drive, or None and where none was found."""
    if named := os.environ.get("FUNDING_CHROMIUM"):
        return (named, "") if Path(named).exists() else (None, f"FUNDING_CHROMIUM={named} does not exist")
    if Path(DEBIAN_CHROMIUM).exists():
        return DEBIAN_CHROMIUM, ""
    with sync_playwright() as playwright:  # where `playwright install chromium` puts its build
        own = playwright.chromium.executable_path
    return (own, "") if Path(own).exists() else (None, f"neither {DEBIAN_CHROMIUM} nor Playwright's {own}")


def pytest_collection_modifyitems(config, items) -> None:
    if not any("browser" in getattr(item, "fixturenames", ()) for item in items):
        return  # nothing selected needs a browser: don't look (Playwright's lookup starts its driver)
    chromium, missing = find_chromium()
    if chromium:
        config.stash[CHROMIUM] = chromium
    elif ON_CI:
        pytest.exit(
            f"no Chromium ({missing}), and CI must not skip the browser tests: "
            "apt-get install chromium (.ci/run does), or set FUNDING_CHROMIUM",
            returncode=pytest.ExitCode.USAGE_ERROR,
        )
    else:
        config.stash[NO_CHROMIUM] = (
            f"no Chromium ({missing}): apt-get install chromium, or python -m playwright install chromium "
            "where this machine may download it, or set FUNDING_CHROMIUM"
        )


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item) -> None:
    if "browser" in item.fixturenames and NO_CHROMIUM in item.config.stash:
        pytest.skip(item.config.stash[NO_CHROMIUM])  # raised here: one summary line for all, no setup


@pytest.fixture(scope="package")
def browser(pytestconfig) -> Browser:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=pytestconfig.stash[CHROMIUM], headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


def run_async(coroutine):
    """Runs `coroutine` to the end on a loop of its own in another thread.

    Playwright's sync API marks its own event loop as running in this thread from the moment
    the browser starts, so `asyncio.run` (and async fixtures) cannot be used here until it stops.
    """
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def serve(log_folder: Path, demo: bool):
    """A `funding serve` on a fresh database, dropped afterwards (a generator for fixtures)."""
    url = run_async(DATABASES.fresh())
    try:
        env = SERVER_ENV | {"FUNDING_OUTBOX": str(log_folder / "outbox")}  # pledges send mail
        with LiveServer(url, demo=demo, env=env, log_path=log_folder / "server.log") as server:
            yield server
    finally:
        run_async(DATABASES.drop(url))


@pytest.fixture(scope="package")
def servers(tmp_path_factory) -> dict[str, LiveServer]:
    """The demo site and an empty site, started side by side (each takes seconds to start)."""
    runs = {
        "demo": serve(tmp_path_factory.mktemp("demo-server"), demo=True),
        "empty": serve(tmp_path_factory.mktemp("empty-server"), demo=False),
    }
    try:
        with ThreadPoolExecutor(len(runs)) as pool:
            started = {name: pool.submit(next, run) for name, run in runs.items()}
        yield {name: future.result() for name, future in started.items()}
    finally:
        for run in runs.values():
            run.close()


@pytest.fixture(scope="package")
def demo_server(servers) -> LiveServer:
    """`funding serve --demo`: the site as the README shows it."""
    return servers["demo"]


@pytest.fixture(scope="package")
def empty_server(servers) -> LiveServer:
    """`funding serve` on a migrated, empty database: no programme, no budget, no entries."""
    return servers["empty"]


@pytest.fixture
def start_fresh_demo_server(tmp_path):
    """Starts, when called, a demo server of this test's own, for tests that write (forms)."""
    started = []

    def start() -> LiveServer:
        server = serve(tmp_path, demo=True)
        started.append(server)
        return next(server)

    yield start
    for server in started:
        server.close()  # leaves the `with`: stops the server and drops its database


@pytest.fixture(scope="module")
def own_demo_server(tmp_path_factory) -> LiveServer:
    """A demo server of one test module's own, for a module whose tests write (pledge, change …)."""
    run = serve(tmp_path_factory.mktemp("own-demo-server"), demo=True)
    try:
        yield next(run)
    finally:
        run.close()


@pytest.fixture(scope="package")
def demo_routes(demo_server: LiveServer) -> dict[str, str]:
    """The demo server's GET HTML routes, route path (`/pledges/{token:str}`) to the path visited."""
    return server_routes(demo_server.database_url, demo_server.url)


@pytest.fixture(scope="package")
def routes(demo_routes: dict[str, str]) -> list[str]:
    """The app's GET HTML routes, read from its route table, path parameters filled in."""
    return sorted(set(demo_routes.values()))


@dataclass
class Survey:
    """One crawl of one site in one language, with every check a page gets on the way."""

    site: str
    locale: str
    routes: list[str]
    report: CrawlReport
    axe: AxeCheck
    reflow: ReflowCheck
    forms: FormCount


@pytest.fixture(scope="package")
def survey(browser: Browser, routes: list[str], demo_routes: dict[str, str], request):
    """`survey("demo_server", "en")`: that site crawled in that language, once per run.

    Crawling is most of the suite's time, so one crawl serves every test that asks about the
    same site and language; each test then asserts on its own part (axe, reflow, forms …).
    """
    done: dict[tuple[str, str], Survey] = {}

    def get(site: str, locale: str) -> Survey:
        if (site, locale) not in done:
            server: LiveServer = request.getfixturevalue(site)
            contexts = [browser.new_context(base_url=server.url, viewport=DESKTOP) for _ in range(CONTEXTS_AT_ONCE)]
            for context in contexts:
                context.set_default_timeout(TIMEOUT_MS)
            checks = AxeCheck(f"{site}-{locale}"), ReflowCheck(), FormCount()
            try:
                seeds = expected_statuses(demo_routes, has_demo_data=server.demo) | ERROR_STATES
                report = crawl(contexts, server.url, locale, seeds, checks)
            finally:
                for context in contexts:
                    context.close()
            done[site, locale] = Survey(site, locale, routes, report, *checks)
        return done[site, locale]

    return get


@pytest.fixture
def open_context(browser: Browser, request):
    """Makes browser contexts (separate cookie jars) for this test, and closes them afterwards."""
    opened: list[BrowserContext] = request.node.stash.setdefault(CONTEXTS, [])

    def open_(base_url: str, **options) -> BrowserContext:
        context = browser.new_context(base_url=base_url, **({"viewport": DESKTOP} | options))
        context.set_default_timeout(TIMEOUT_MS)
        opened.append(context)
        return context

    yield open_
    for context in opened:
        context.close()


@pytest.fixture
def page(open_context, demo_server: LiveServer) -> Page:
    """A fresh page on the demo server, with no language chosen yet."""
    return open_context(demo_server.url).new_page()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.failed and report.when in ("setup", "call"):
        saved = []
        for number, context in enumerate(item.stash.get(CONTEXTS, [])):
            for index, open_page in enumerate(context.pages):
                if not open_page.is_closed():
                    saved += save_artifacts(open_page, f"{item.nodeid}-{number}-{index}")
        if saved:
            report.sections.append(("browser artifacts", "\n".join(str(path) for path in saved)))
    return report


def pytest_terminal_summary(terminalreporter) -> None:
    if SUMMARY:
        terminalreporter.section("browser checks")
        for line in SUMMARY:
            terminalreporter.write_line(line)
