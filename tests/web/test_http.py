"""Odd and hostile requests get a clean 4xx in the asker's format: the app's error page for
pages and files, a JSON body for the API. Never a 500."""

import re

import httpx
import pytest

from tests.factories import STAFF_AUTH


@pytest.mark.parametrize(
    "path",
    ["/static/site.css/x", "/static/%00", "/static/.%00./", "/static/site.css%00.png", "/static/" + "a" * 300],
)
async def test_static_paths_that_name_no_file_are_the_apps_404(client, path):
    response = await client.get(path)
    assert response.status_code == 404
    assert "<title>404 ·" in response.text and 'class="site-header"' in response.text


async def test_static_files_are_still_served(client):
    response = await client.get("/static/site.css")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/css")


@pytest.mark.parametrize("depth", [1_000, 100_000])
@pytest.mark.parametrize(("opening", "closing"), [("[", "]"), ('{"a":', "}")])
async def test_deeply_nested_json_to_the_staff_api_is_a_400(staff, ledger, depth, opening, closing):
    body = opening * depth + "1" * (opening != "[") + closing * depth
    response = await staff.post(
        "/staff/api/v1/journal/entries",
        content=body,
        headers={**STAFF_AUTH, "content-type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json() == {"status_code": 400, "detail": "The request body is nested too deeply"}
    assert (await ledger.head()).seq == 0


@pytest.mark.parametrize(
    "raw_path",
    [b"//evil.example/x", b"///evil.example/x", b"/\\evil.example/x", b"/%2F/evil.example/x", b"/%09/evil.example/x"],
)
async def test_links_on_a_page_with_an_odd_path_stay_on_the_site(client, raw_path):
    from tests.web.test_hygiene import parse_page

    response = await client.get(httpx.URL("http://testserver.local").copy_with(raw_path=raw_path))
    assert response.status_code == 404
    links = parse_page(response.text).links
    assert any("lang=" in link for link in links), "no language switch on the page: nothing checked"
    # Browsers drop tabs and line breaks from a link, read `\\` as `/`, and take what follows
    # `//` (or `///`) as a host: a root-relative link is local only with one slash and neither.
    assert [link for link in links if not re.fullmatch(r"/(?![/\\])[^\t\n\r]*|#[^\t\n\r]*", link)] == []
    if raw_path == b"//evil.example/x":
        assert 'href="/evil.example/x?lang=en"' in response.text


async def test_the_openapi_viewer_loads_only_the_apps_own_files_under_the_site_policy(client):
    from tests.web.test_hygiene import parse_page

    page = await client.get("/schema")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert not re.search(r"https?:|//|\*", policy), policy
    assert "script-src 'self'" in policy and "style-src 'self'" in policy
    assert "<script>" not in page.text.replace(" ", "") and " style=" not in page.text  # nothing inline
    files = [link for link in parse_page(page.text).links if not link.startswith("data:")]  # the empty icon
    assert any(f.endswith(".js") for f in files) and any(f.endswith(".css") for f in files)
    for url in files:
        assert re.fullmatch(r"/(?![/\\])\S*", url), f"{url} is not on this site"
        response = await client.get(url)
        assert response.status_code == 200, url
        assert response.headers["content-type"].startswith(("text/css", "text/javascript", "application/javascript"))
    spec = await client.get(re.search(r'data-url="([^"]+)"', page.text).group(1))
    assert spec.status_code == 200 and spec.json()["openapi"].startswith("3.")


@pytest.mark.parametrize("name", ["index.html", "swagger-initializer.js", "..%2F__init__.py", "nergens.js"])
async def test_the_viewer_serves_no_other_vendored_file(client, name):
    assert (await client.get(f"/schema/assets/{name}")).status_code == 404
