"""Baseline web hygiene over every response the site gives, found by the harness itself.

A crawler starts from every GET route in the app's route table (a new page is covered the day it
is added) plus the error cases, follows every same-site link it finds, and records each response.
Each check then runs over all of them: security headers, cookie flags, CSRF tokens in POST forms,
no stack traces, error pages that are the app's own, and no stored change from reading.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from urllib.parse import urljoin, urlsplit

import pytest
from litestar import get
from litestar.testing import TestClient

from funding.app import create_app
from funding.demo import demo_year, round_slug
from funding.settings import Settings
from tests.fuzz.harness import (
    NOT_PAGES,
    SECRET_KEY,
    DemoSite,
    close_demo_site,
    open_demo_site,
    page_paths,
    routes_with_parameters,
)

HTTPS_BASE_URL = "https://bijdragen.example.nl"
MAX_PAGES = 300
ERROR_REQUESTS = [
    # (method, url, expected status): routing, validation and method errors, pages and API alike.
    ("GET", "/nergens", 404),
    ("GET", "/nergens?lang=en", 404),
    ("GET", "/static/nergens.css", 404),
    ("GET", "/static/site.css/x", 404),
    ("GET", "/static/%00", 404),
    ("GET", "/api/v1/nergens", 404),
    ("POST", "/", 405),
    ("PUT", "/ledger", 405),
    ("DELETE", "/api/v1/ledger", 405),
    ("GET", "/ledger?before=abc", 400),
    ("GET", "/ledger?after=-1&lang=en", 400),
    ("GET", "/api/v1/ledger?limit=0", 400),
]
OPEN_ROUND = round_slug(demo_year(date.today()) + 1)
"""The demo's round that takes pledges now."""
EXAMPLE_URLS: list[str] = [
    f"/rounds/{OPEN_ROUND}/pledge?q=Utrecht",  # the search step, linking to the form for each match
    f"/rounds/{round_slug(demo_year(date.today()))}/pledge",  # a closed round's form: says so
    "/rounds/nergens/pledge",
    f"/api/v1/rounds/{OPEN_ROUND}",  # a round in the API, and its fair-share table: no page links to them
    f"/api/v1/rounds/{OPEN_ROUND}/fair-shares",
    "/pledges/" + "x" * 43,  # a pledge's page is linked from nowhere public: an unknown token's 404
    "/pledges/" + "x" * 43 + "/return",  # where Mollie's checkout sends a pledger back
    "/pledges/" + "x" * 43 + "/invoices/2026-0001",  # an invoice of a pledge: as private as its page
    "/staff/pledges/1/invoices/2026-0001.pdf",  # the back office's, behind its login (401 without)
    "/staff/api/v1/invoices/2026-0001",  # the staff API's, behind its token (401 without)
    "/staff/api/v1/invoices/2026-0001/pdf",
    "/tile/0/000.p/1",  # the log's tiles: for mirrors, linked from no page (a partial one, and a
    "/tile/entries/000.p/1",  # full one the demo's few entries do not fill yet: a 404)
    "/tile/0/000",
    "/tile/entries/000",
]
"""Pages no link leads to and no parameterless route names: add one URL per such route here."""

SECURITY_HEADERS = ("content-security-policy", "x-content-type-options", "referrer-policy")
LEAKS = re.compile(r"Traceback|File \"|\.py\b|/site-packages/|/work/|litestar\.|Exception:", re.IGNORECASE)


@dataclass
class Visit:
    method: str
    url: str
    status: int
    headers: object  # httpx.Headers
    text: str
    changed_state: bool

    @property
    def is_html(self) -> bool:
        return self.headers.get("content-type", "").startswith("text/html")


# -- checkers (pure, so they are tested on snippets below) ------------------------------------------


class _PageParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.forms: list[dict] = []
        self._form: dict | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        for name in ("href", "src"):
            if attributes.get(name):
                self.links.append(attributes[name])
        if tag == "form":
            method = attributes.get("method", "get").lower()
            self._form = {"method": method, "action": attributes.get("action", ""), "inputs": []}
            self.forms.append(self._form)
            if attributes.get("action"):
                self.links.append(attributes["action"])
        elif tag in ("input", "button", "select", "textarea") and self._form is not None:
            self._form["inputs"].append(attributes)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None


def parse_page(html: str) -> _PageParser:
    parser = _PageParser()
    parser.feed(html)
    parser.close()
    return parser


def forms_without_csrf_token(html: str) -> list[str]:
    """The actions of POST forms (browsers send any other method as GET) without a `_csrf_token`."""
    return [
        form["action"] or "(no action)"
        for form in parse_page(html).forms
        if form["method"] == "post"
        and not any(field.get("name") == "_csrf_token" and field.get("value") for field in form["inputs"])
    ]


def cookie_problems(set_cookie_headers: list[str], https: bool) -> list[str]:
    problems, names = [], []
    for header in set_cookie_headers:
        jar = SimpleCookie()
        jar.load(header)
        for name, morsel in jar.items():
            if name in names:
                problems.append(f"{name}: set twice in one response")
            names.append(name)
            if not morsel["httponly"]:
                problems.append(f"{name}: no HttpOnly")
            if morsel["samesite"].lower() not in ("lax", "strict"):
                problems.append(f"{name}: no SameSite=Lax/Strict")
            if https and not morsel["secure"]:
                problems.append(f"{name}: no Secure on an https site")
    return problems


def header_problems(headers, https: bool) -> list[str]:
    problems = [f"no {name}" for name in SECURITY_HEADERS if not headers.get(name)]
    problems += [f"{name} sent {n} times" for name in SECURITY_HEADERS if (n := len(headers.get_list(name))) > 1]
    if headers.get("x-content-type-options", "").lower() != "nosniff":
        problems.append("x-content-type-options is not nosniff")
    framing = headers.get("x-frame-options", "").upper() in ("DENY", "SAMEORIGIN")
    if not framing and "frame-ancestors" not in headers.get("content-security-policy", ""):
        problems.append("neither X-Frame-Options nor CSP frame-ancestors")
    if https and "max-age=" not in headers.get("strict-transport-security", ""):
        problems.append("no Strict-Transport-Security on an https site")
    if headers.get("content-type", "").lower().count("charset=") > 1:
        problems.append(f"content-type names its charset twice: {headers['content-type']}")
    return problems


def same_site_links(page_url: str, html: str) -> Iterator[str]:
    for link in parse_page(html).links:
        absolute = urlsplit(urljoin("http://testserver" + page_url, link))
        if absolute.netloc == "testserver" and absolute.scheme in ("http", "https"):
            yield absolute.path + (f"?{absolute.query}" if absolute.query else "")


# -- the crawl ------------------------------------------------------------------------------------


def crawl(client: TestClient, site: DemoSite) -> list[Visit]:
    """Every page reachable from the route table and the examples, then the error requests."""
    queue = [*page_paths(site.app), *EXAMPLE_URLS]
    seen: set[str] = set(queue)
    visits: list[Visit] = []

    def visit(method: str, url: str) -> Visit:
        client.cookies.clear()  # each request on its own: no language or CSRF cookie carried over
        before = site.snapshot()
        response = client.request(method, url)
        changed = method == "GET" and site.snapshot() != before
        result = Visit(method, url, response.status_code, response.headers, response.text, changed)
        visits.append(result)
        return result

    while queue and len(visits) < MAX_PAGES:
        url = queue.pop(0)
        page = visit("GET", url)
        if page.is_html:
            for link in same_site_links(url, page.text):
                if link not in seen:
                    seen.add(link)
                    queue.append(link)
    assert not queue, f"more than {MAX_PAGES} pages: raise MAX_PAGES or narrow the crawl"
    for method, url, _status in ERROR_REQUESTS:
        visit(method, url)
    return visits


@pytest.fixture(scope="module")
def site() -> Iterator[DemoSite]:
    site = open_demo_site()
    yield site
    close_demo_site(site)


def _crawl_with(site: DemoSite, **settings) -> list[Visit]:
    app = create_app(Settings(database_url=site.url, secret_key=SECRET_KEY, database_pool_size=0, **settings))
    with TestClient(app=app) as client:
        return crawl(client, site)


@pytest.fixture(scope="module")
def visits(site: DemoSite) -> list[Visit]:
    return _crawl_with(site)


@pytest.fixture(scope="module")
def https_visits(site: DemoSite) -> list[Visit]:
    return _crawl_with(site, base_url=HTTPS_BASE_URL)


@pytest.fixture(autouse=True)
def bound(site: DemoSite) -> None:
    site.bind()


# -- the checks over everything crawled ------------------------------------------------------------


def test_the_crawl_reaches_every_route(site: DemoSite, visits: list[Visit]) -> None:
    visited = {urlsplit(v.url).path for v in visits}
    assert set(page_paths(site.app)) <= visited
    for route in routes_with_parameters(site.app):
        pattern = re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", route) + "$")
        assert any(pattern.match(path) for path in visited), (
            f"no page links to {route}: add an example URL for it to EXAMPLE_URLS"
        )
    assert len([v for v in visits if v.is_html and v.status == 200]) >= 5, "the crawl found hardly any pages"


def test_every_response_has_the_security_headers(visits: list[Visit]) -> None:
    problems = {f"{v.method} {v.url} ({v.status})": p for v in visits if (p := header_problems(v.headers, https=False))}
    assert not problems


def test_https_sites_add_hsts_and_secure_cookies(https_visits: list[Visit]) -> None:
    problems = {
        f"{v.method} {v.url} ({v.status})": p
        for v in https_visits
        if (p := header_problems(v.headers, https=True) + cookie_problems(v.headers.get_list("set-cookie"), https=True))
    }
    assert not problems
    assert any(v.headers.get_list("set-cookie") for v in https_visits), "no cookie was set at all: nothing checked"


def cached_page_paths(app) -> list[str]:
    """Pages whose handler caches its answer (what one visitor is sent, the next one gets too)."""
    return [
        path
        for path in page_paths(app)
        for route in app.routes
        if route.path == path and any(getattr(h, "cache", False) for h in getattr(route, "route_handlers", ()))
    ]


def test_no_visitor_is_handed_another_visitors_cookie(site: DemoSite) -> None:
    app = create_app(Settings(database_url=site.url, secret_key=SECRET_KEY, database_pool_size=0))
    cookie = app.csrf_config.cookie_name
    paths = cached_page_paths(app)
    assert paths, "no cached pages found: the check proves nothing"
    with TestClient(app=app) as client:
        for path in paths:
            tokens = []
            for _visitor in range(2):
                client.cookies.clear()
                response = client.get(path)
                jar = SimpleCookie()
                for header in response.headers.get_list("set-cookie"):
                    jar.load(header)
                tokens.append(jar[cookie].value if cookie in jar else None)
                assert not cookie_problems(response.headers.get_list("set-cookie"), https=False), path
            # Cached pages set no CSRF cookie at all; if one ever does, it must be each visitor's own.
            assert tokens == [None, None] or tokens[0] != tokens[1], (
                f"{path}: two visitors were given the same {cookie} cookie"
            )


def test_no_cached_page_replays_the_cookie_its_first_visitor_was_given(site: DemoSite) -> None:
    """`?lang=en` sets the language cookie; the next visitor who only has that cookie gets the
    same cache entry, and must not be sent the first visitor's Set-Cookie with it."""
    app = create_app(Settings(database_url=site.url, secret_key=SECRET_KEY, database_pool_size=0))
    paths = cached_page_paths(app)
    assert paths, "no cached pages found: the check proves nothing"
    with TestClient(app=app) as client:
        for _ in range(200):  # on PostgreSQL pages are cached once the change listener is connected
            if app.state.data_version.trusted:
                break
            time.sleep(0.01)
        for path in paths:
            client.cookies.clear()
            assert client.get(path, params={"lang": "en"}).headers.get_list("set-cookie"), path
            for _visitor in range(2):
                client.cookies.clear()
                client.cookies.set("lang", "en")
                response = client.get(path)
                assert response.status_code == 200, path
                if response.headers["content-type"].startswith("text/html"):
                    assert 'lang="en"' in response.text, path
                assert response.headers.get_list("set-cookie") == [], f"{path} replayed a cookie"


def test_cached_pages_have_no_post_forms(site: DemoSite, visits: list[Visit]) -> None:
    """A cached form would carry the first visitor's CSRF token to everyone."""
    cached = set(cached_page_paths(site.app))
    assert [v.url for v in visits if urlsplit(v.url).path in cached and 'method="post' in v.text.lower()] == []


def test_every_cookie_is_httponly_and_samesite(visits: list[Visit]) -> None:
    cookies = [(v, c) for v in visits for c in v.headers.get_list("set-cookie")]
    assert cookies, "no page set a cookie: the check proves nothing"  # ?lang= and the CSRF cookie do
    problems = {
        f"{v.method} {v.url}": p
        for v in visits
        if (p := cookie_problems(v.headers.get_list("set-cookie"), https=False))
    }
    assert not problems


def test_reading_changes_nothing_stored(visits: list[Visit]) -> None:
    assert [f"{v.method} {v.url}" for v in visits if v.changed_state] == []


def test_every_post_form_carries_a_csrf_token(visits: list[Visit]) -> None:
    problems = {v.url: forms for v in visits if v.is_html and (forms := forms_without_csrf_token(v.text))}
    assert not problems


def test_no_response_shows_a_stack_trace(visits: list[Visit]) -> None:
    leaks = {
        f"{v.method} {v.url} ({v.status})": match.group(0)
        for v in visits
        if v.status >= 400 and (match := LEAKS.search(v.text))
    }
    assert not leaks


def test_every_html_page_declares_its_language(visits: list[Visit]) -> None:
    pages = [v for v in visits if v.is_html and not v.url.startswith(NOT_PAGES)]  # /schema is Litestar's viewer
    assert [v.url for v in pages if not re.search(r'<html lang="(nl|en)">', v.text)] == []


@pytest.mark.parametrize(("method", "url", "status"), ERROR_REQUESTS, ids=[f"{m} {u}" for m, u, _ in ERROR_REQUESTS])
def test_errors_are_the_apps_own(visits: list[Visit], method: str, url: str, status: int) -> None:
    [visit] = [v for v in visits if (v.method, v.url) == (method, url)]
    assert visit.status == status
    if urlsplit(url).path.startswith("/api/"):
        assert visit.headers["content-type"].startswith("application/json")
        return
    assert visit.is_html, visit.headers
    assert f"<title>{status} ·" in visit.text and 'class="site-header"' in visit.text
    if "lang=en" in url:
        assert '<html lang="en">' in visit.text


def test_error_pages_follow_the_language_cookie(site: DemoSite) -> None:
    app = create_app(Settings(database_url=site.url, secret_key=SECRET_KEY, database_pool_size=0))
    with TestClient(app=app) as client:
        client.cookies.set("lang", "en")
        response = client.get("/nergens")
    assert response.status_code == 404 and '<html lang="en">' in response.text
    assert "Page not found" in response.text


@pytest.mark.parametrize("path", ["/boom", "/api/v1/boom"])
async def test_a_crash_is_the_apps_own_500_without_a_trace(settings: Settings, path: str) -> None:
    from litestar.testing import AsyncTestClient

    app = create_app(settings)

    @get(path, name="boom", include_in_schema=False)
    async def boom() -> str:
        raise RuntimeError(f"secret detail in {__file__}")

    app.register(boom)
    async with AsyncTestClient(app=app) as client:
        response = await client.get(path)
    assert response.status_code == 500
    assert not LEAKS.search(response.text) and "secret detail" not in response.text
    assert not header_problems(response.headers, https=False)
    if path.startswith("/api/"):
        assert response.json() == {"status_code": 500, "detail": "Internal Server Error"}
    else:
        assert "<title>500 ·" in response.text and 'class="site-header"' in response.text


# -- the checkers themselves, on snippets ----------------------------------------------------------


def test_the_form_check_finds_a_post_form_without_a_token() -> None:
    page = """
    <form method="get" action="/ledger"><input name="before"></form>
    <form method="post" action="/pledges"><input name="amount"><button>Give</button></form>
    <form method="POST" action="/ok"><input type="hidden" name="_csrf_token" value="abc"></form>
    <form method="post" action="/empty"><input type="hidden" name="_csrf_token" value=""></form>
    """
    assert forms_without_csrf_token(page) == ["/pledges", "/empty"]
    assert forms_without_csrf_token("<p>no forms</p>") == []


def test_the_cookie_check_finds_missing_flags() -> None:
    good = "csrftoken=x; HttpOnly; Path=/; SameSite=lax; Secure"
    assert cookie_problems([good], https=True) == []
    assert cookie_problems(["a=1; Path=/"], https=True) == [
        "a: no HttpOnly",
        "a: no SameSite=Lax/Strict",
        "a: no Secure on an https site",
    ]
    assert cookie_problems(["b=1; HttpOnly; SameSite=None"], https=False) == ["b: no SameSite=Lax/Strict"]
    assert cookie_problems(["c=1; HttpOnly; SameSite=Lax", "c=2; HttpOnly; SameSite=Lax"], https=False) == [
        "c: set twice in one response"
    ]


def test_the_header_check_finds_missing_headers() -> None:
    from httpx import Headers

    assert set(header_problems(Headers({"content-type": "text/html"}), https=True)) == {
        "no content-security-policy",
        "no x-content-type-options",
        "no referrer-policy",
        "x-content-type-options is not nosniff",
        "neither X-Frame-Options nor CSP frame-ancestors",
        "no Strict-Transport-Security on an https site",
    }
    doubled = Headers(
        [("content-security-policy", "frame-ancestors 'none'")] * 2
        + [("x-content-type-options", "nosniff"), ("referrer-policy", "same-origin")]
    )
    assert header_problems(doubled, https=False) == ["content-security-policy sent 2 times"]
