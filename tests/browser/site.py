"""What the browser tests visit: the app's own route table, then every same-origin link from there.

Nobody keeps a list of pages. `html_routes()` reads `create_app().routes`, keeps the GET routes
that render HTML and fills their path parameters from `PATH_SAMPLES`; a route with a parameter
that has no sample fails loudly, so whoever adds `/entries/{seq}` also adds a sample.
A filled-in route shows the demo's data, so a site without that data must answer it with a 404
(`expected_statuses`).
`crawl()` then opens each of them in a real browser and follows every same-origin link it finds
(bounded), so paginated and linked pages are covered too, and hands each page to the checks.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit
from urllib.request import urlopen

import httpx
from litestar import Litestar
from litestar.routes import HTTPRoute
from playwright.sync_api import BrowserContext, Page, Response
from playwright.sync_api import Error as PlaywrightError

from funding.app import create_app
from funding.i18n import gettext, use_locale
from funding.settings import ROOT, Settings

ARTIFACTS = ROOT / "artifacts" / "browser"
"""Screenshots and HTML of failing pages; CI keeps `artifacts/`."""

MAX_PAGES = 200
"""Per crawl; a site that links more pages than this is probably generating links without end."""

EXCLUDED_PREFIXES = ("/schema", "/static", "/api/", "/health")
"""Not our HTML: the OpenAPI viewer (third-party, from a CDN), files, JSON interfaces."""


def demo_round_slug(base_url: str) -> str:
    """A round of the demo, looked up through the API when the crawl starts (the demo's rounds
    change with it): the first that takes pledges, so its pledge link is followed too, else the
    first there is."""
    with urlopen(f"{base_url}/api/v1/rounds", timeout=10) as response:
        rounds = json.load(response)
    if not rounds:
        raise LookupError("the demo has no funding rounds, so /rounds/{slug} pages cannot be checked")
    return next((r for r in rounds if r["accepts_pledges"]), rounds[0])["slug"]


def demo_pledge_token(base_url: str) -> str:
    """The token of a pledge made for this run, the way a pledger makes one: the pledge form of
    the open round, for an organisation the fair-share table shows without a pledge, posted with
    the form's own values, CSRF token and cookie; the token is read from the 303's address.

    This is the one write to a shared server, made while the routes are discovered, before any
    test reads a page: one more conditional pledge in the open round (not booked in the ledger).
    """
    slug = demo_round_slug(base_url)
    with httpx.Client(base_url=base_url, timeout=10) as client:
        rows = client.get(f"/api/v1/rounds/{slug}/fair-shares").raise_for_status().json()["rows"]
        free = next((row for row in rows if row["status"] == "none" and row["organisation_id"]), None)
        if free is None:
            raise LookupError(f"every organisation has pledged to {slug}: no pledge page can be made for the check")
        form_path = f"/rounds/{slug}/pledge"
        page = client.get(form_path, params={"organisation": free["organisation_id"]}).raise_for_status()
        fields = form_fields(page.text, form_path)
        fields |= {"contact_name": "Route Discovery", "contact_email": "routes@example.org"}
        answer = client.post(form_path, data=fields)
    location = answer.headers.get("location", "")
    if answer.status_code != 303 or not location.startswith("/pledges/"):
        raise LookupError(f"pledging for {free['name']} answered {answer.status_code}, not a 303 to its page")
    return location.removeprefix("/pledges/")


class _FormFields(HTMLParser):
    """What a browser would send for the form posting to `action`, as the page fills it in."""

    def __init__(self, action: str) -> None:
        super().__init__()
        self.action, self.inside, self.fields = action, False, {}
        self._textarea: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.inside = a.get("action") == self.action and a.get("method", "").lower() == "post"
        elif not self.inside or "name" not in a:
            return
        elif tag == "input" and (a.get("type") not in ("checkbox", "radio") or "checked" in a):
            self.fields[a["name"]] = a.get("value", "on")
        elif tag == "textarea":
            self._textarea = a["name"]
            self.fields[a["name"]] = ""
        elif tag == "select":
            self._select = a["name"]
            self.fields[a["name"]] = ""
        elif tag == "option" and self._select and "selected" in a:
            self.fields[self._select] = a.get("value", "")

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.fields[self._textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None


def form_fields(html: str, action: str) -> dict[str, str]:
    """The fields (hidden ones too) of the POST form with `action` on a page, as filled in there."""
    parser = _FormFields(action)
    parser.feed(html)
    if "_csrf_token" not in parser.fields:
        raise LookupError(f"no POST form to {action} with a CSRF token on the page")
    return parser.fields


PATH_SAMPLES: dict[str, str | Callable[[str], str]] = {"slug": demo_round_slug, "token": demo_pledge_token}
"""A value for each path parameter name any HTML route uses, taken from the demo data.

A string, or a function of the server's base URL (to look a value up, e.g. via the API, or to
make one, as a pledge is made). Each is looked up once per discovery.
"""

NOT_PAGES: dict[str, str] = {
    "/pledges/{token:str}/return": "a redirect: back from Mollie's checkout it syncs the payment and goes on "
    "to the pledge page (test_paying.py comes back through it)",
    "/pledges/{token:str}/invoices/{file:str}": "an invoice of that very pledge, which the discovery's new pledge "
    "has not got: test_invoices.py asks for one and checks its page",
}
"""Route paths (as in the route table) that answer GET with something other than a page to check,
e.g. a redirect to a payment provider, each with the reason. Everything else is visited."""

ERROR_STATES: dict[str, int] = {
    "/this-page-does-not-exist": 404,
    "/ledger?before=abc": 400,
    "/ledger?before=1": 200,  # empty state: "no entries on this page"
}
"""Pages no link leads to, with the status each must answer: error and empty states."""

SUMMARY: list[str] = []
"""Counts the tests report (pages checked, violations, forms), printed at the end of the run."""

CONTEXTS_AT_ONCE = 2
"""Pages a crawl checks at the same time (one per browser context); this machine has two cores."""

HTML_MEDIA_TYPES = {"", "text/html"}  # a Template response leaves the handler's media type empty


def t(locale: str, message: str) -> str:
    """`message` as the site shows it in `locale` (the tests never hard-code Dutch)."""
    with use_locale(locale):
        return gettext(message)


BEHIND_LOGIN = ("/staff",)
"""The back office, but for its login page: test_back_office.py logs in as each role and checks it."""


def excluded(path: str) -> bool:
    behind_login = path.startswith(BEHIND_LOGIN) and path != "/staff/login"
    return path.startswith(EXCLUDED_PREFIXES) or path.endswith(".json") or behind_login


def html_routes(app: Litestar, base_url: str = "") -> list[str]:
    """Every GET route of `app` that renders HTML, with sample path parameters filled in."""
    return sorted(set(route_table(app, base_url).values()))


def route_table(app: Litestar, base_url: str = "") -> dict[str, str]:
    """`html_routes` as route path (`/rounds/{slug:str}`) to the path visited (`/rounds/bijdragen-2027`)."""
    values: dict[str, str] = {}  # each sample looked up (or made) once, however many routes use it
    table = {}
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or excluded(route.path) or route.path in NOT_PAGES:
            continue
        for handler in route.route_handlers:
            if "GET" in handler.http_methods and str(handler.media_type) in HTML_MEDIA_TYPES:
                table[route.path] = _fill(route, base_url, values)
    return table


def _fill(route: HTTPRoute, base_url: str, values: dict[str, str]) -> str:
    path = route.path
    for name in route.path_parameters:
        if name not in PATH_SAMPLES:
            raise LookupError(
                f"route {route.path} has path parameter {name!r} and tests/browser/site.py PATH_SAMPLES "
                f"has no sample value for it: add one from the demo data so the page gets checked"
            )
        if name not in values:
            sample = PATH_SAMPLES[name]
            values[name] = str(sample(base_url) if callable(sample) else sample)
        path = re.sub(r"\{" + re.escape(name) + r"(:[^}]*)?\}", values[name], path)
    return path


def server_routes(database_url: str, base_url: str) -> dict[str, str]:
    """`route_table` of the app a live server on `database_url` runs, samples from its own data."""
    settings = Settings(database_url=database_url, secret_key="routes", database_pool_size=0)
    return route_table(create_app(settings), base_url)


def expected_statuses(table: dict[str, str], has_demo_data: bool) -> dict[str, int]:
    """What a crawl expects each route to answer: 200, except that a route whose path parameters
    were filled from the demo's data (a round, a pledge) is a 404 on a site without that data."""
    return {path: 200 if has_demo_data or "{" not in route else 404 for route, path in table.items()}


def same_site_path(base_url: str, href: str) -> str | None:
    """`href` as a path with query (no fragment, no `lang`), or None if the crawl does not follow it."""
    url = urlsplit(urljoin(base_url + "/", href))
    origin = urlsplit(base_url)
    if url.scheme not in ("http", "https") or url.netloc != origin.netloc or excluded(url.path):
        return None
    query = urlencode([(k, v) for k, v in parse_qsl(url.query, keep_blank_values=True) if k != "lang"])
    return urlunsplit(("", "", url.path or "/", query, ""))


def with_locale(base_url: str, path: str, locale: str) -> str:
    url = urlsplit(base_url + path)
    query = [*parse_qsl(url.query, keep_blank_values=True), ("lang", locale)]
    return urlunsplit(url._replace(query=urlencode(query)))


@dataclass
class Visit:
    path: str
    locale: str
    status: int
    page: Page


class Check:
    """Work done on each crawled page, in two steps so that several pages can work at once.

    `start` may set something running inside the page; `finish` waits for it and returns the
    problems found (strings), which the crawl keeps in `problems`, each saying where.
    """

    def __init__(self) -> None:
        self.problems: list[str] = []

    def start(self, visit: Visit) -> None:
        pass

    def finish(self, visit: Visit) -> list[str]:
        return []


class ReflowCheck(Check):
    """WCAG 1.4.10: in a 320 CSS px wide window, the page must not need sideways scrolling.

    Content in its own scrollable region (a wide table in a focusable `overflow-x: auto` box)
    is allowed; it does not widen the page. The window is narrowed for the check and put back.
    """

    WIDTH = 320

    def __init__(self, save: bool = True) -> None:
        super().__init__()
        self.save = save

    def finish(self, visit: Visit) -> list[str]:
        page = visit.page
        size = page.viewport_size
        page.set_viewport_size({"width": self.WIDTH, "height": 640})
        found = page.evaluate(_OVERFLOW)
        if found and self.save:
            save_artifacts(page, f"reflow-{visit.locale}-{visit.path}")
        page.set_viewport_size(size)
        if not found:
            return []
        return [
            f"reflow: {found['scrollWidth']} px wide in a {found['width']} px window; sticking out: {found['culprits']}"
        ]


_OVERFLOW = """() => {
  const root = document.documentElement, width = root.clientWidth;
  if (root.scrollWidth <= width) return null;
  const sticksOut = el => el.getBoundingClientRect().right > width + 1;
  const clipped = el => {
    for (let node = el.parentElement; node && node !== document.body; node = node.parentElement) {
      if (getComputedStyle(node).overflowX !== 'visible') return true;
    }
    return false;
  };
  const culprits = [...document.body.querySelectorAll('*')]
    .filter(el => sticksOut(el) && !clipped(el) && ![...el.children].some(sticksOut))
    .slice(0, 5)
    .map(el => el.tagName.toLowerCase() + (el.className ? '.' + el.className : '')
      + ' "' + el.textContent.trim().slice(0, 40) + '"');
  return {width, scrollWidth: root.scrollWidth, culprits};
}"""


@dataclass
class CrawlReport:
    visited: dict[str, int] = field(default_factory=dict)
    """Path (with query) to the status it answered."""
    found_on: dict[str, str] = field(default_factory=dict)
    """Path to the page that first linked to it."""
    downloads: list[str] = field(default_factory=list)
    """Linked paths that answered something other than HTML (files, exports)."""
    checked: dict[str, str] = field(default_factory=dict)
    """Fingerprint (SHA-256 of the HTML) to the path of the page the checks looked at."""
    same_as: dict[str, str] = field(default_factory=dict)
    """Path to the checked path whose HTML it repeats exactly; the checks skip such pages."""
    problems: list[str] = field(default_factory=list)
    """Pages that did not answer as expected: wrong status, not in the crawl's language, broken."""
    seconds: float = 0.0

    def where(self, path: str, locale: str) -> str:
        linked = f" (linked from {self.found_on[path]})" if path in self.found_on else ""
        return f"{path} [{locale}]{linked}"


def crawl(
    contexts: list[BrowserContext],
    base_url: str,
    locale: str,
    seeds: dict[str, int],
    checks: tuple[Check, ...] = (),
    max_pages: int = MAX_PAGES,
) -> CrawlReport:
    """Opens every seed (path → expected status) and every page they link to, in `locale`.

    Each page must answer its expected status (a link must answer 200) and be HTML with `<html
    lang>` set to `locale`; then each check looks at it, unless the page's HTML repeats one already
    checked byte for byte (another URL for the same page). One page per context is open at a time,
    so two contexts check two pages at once (Chromium gives each context its own renderer).
    Nothing is raised: the caller asserts on `report.problems` and each check's `problems`.
    """
    started = time.monotonic()
    report = CrawlReport()
    queue = list(seeds.items())
    queued = set(seeds)
    pages = [context.new_page() for context in contexts]
    while queue:
        batch = []
        for page in pages:
            if not queue:
                break
            if len(report.visited) >= max_pages:
                report.problems.append(f"stopped after {max_pages} pages; {len(queue)} more were linked")
                queue.clear()
                break
            path, expected = queue.pop(0)
            visit = _open(page, base_url, path, locale, expected, report)
            if visit is None:
                continue
            batch.append(visit)
            fingerprint = hashlib.sha256(page.content().encode()).hexdigest()
            if fingerprint in report.checked:  # e.g. /ledger?after=63 is /ledger again
                report.same_as[path] = report.checked[fingerprint]
                continue
            report.checked[fingerprint] = path
            for check in checks:
                check.start(visit)
        for visit in batch:
            if visit.path not in report.same_as:
                for check in checks:
                    check.problems += [f"{report.where(visit.path, locale)}: {p}" for p in check.finish(visit)]
            for href in visit.page.eval_on_selector_all("a[href]", "links => links.map(a => a.getAttribute('href'))"):
                target = same_site_path(base_url, href)
                if target is not None and target not in queued:
                    queued.add(target)
                    report.found_on[target] = visit.path
                    queue.append((target, 200))
    for page in pages:
        page.close()
    report.seconds = time.monotonic() - started
    return report


def _open(page: Page, base_url: str, path: str, locale: str, expected: int, report: CrawlReport) -> Visit | None:
    where = report.where(path, locale)
    try:
        response: Response | None = page.goto(with_locale(base_url, path, locale))
    except PlaywrightError as exc:
        report.visited[path] = 0
        if "Download is starting" in str(exc):
            report.downloads.append(path)
        else:
            report.problems.append(f"{where}: {exc}")
        return None
    status = response.status if response else 0
    report.visited[path] = status
    problems = []
    if status != expected:
        hint = " (a staff page? the crawl needs a logged-in context for it)" if status in (401, 403) else ""
        problems.append(f"answered {status}, expected {expected}{hint}")
    if response and response.request.redirected_from and urlsplit(page.url).path != urlsplit(path).path:
        problems.append(f"redirected to {page.url}, so the page itself was never checked (a login page?)")
    content_type = (response.headers.get("content-type", "") if response else "").split(";")[0].strip()
    if content_type != "text/html":
        report.downloads.append(path)
    elif (html_lang := page.evaluate("document.documentElement.lang")) != locale:
        problems.append(f"<html lang={html_lang!r}>, expected {locale!r}")
    if problems:
        save_artifacts(page, f"crawl-{locale}-{path}")
        report.problems += [f"{where}: {problem}" for problem in problems]
    return Visit(path, locale, status, page) if content_type == "text/html" else None


def save_artifacts(page: Page, name: str) -> list[Path]:
    """A full-page screenshot and the HTML of `page` under artifacts/browser/, named after `name`."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    stem = ARTIFACTS / re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_")[:150]
    saved = []
    try:
        page.screenshot(path=f"{stem}.png", full_page=True)
        saved.append(Path(f"{stem}.png"))
        Path(f"{stem}.html").write_text(page.content(), encoding="utf-8")
        saved.append(Path(f"{stem}.html"))
    except PlaywrightError:  # the page or browser is gone: nothing more to save
        pass
    return saved
