"""Route discovery finds the HTML pages in a route table and insists on samples for path parameters."""

from __future__ import annotations

import pytest
from litestar import Litestar, MediaType, get
from litestar.params import FromPath
from litestar.response import Template
from litestar.static_files import create_static_files_router

from funding.settings import ROOT
from tests.browser import site


@get("/", name="home", sync_to_thread=False)
def home() -> Template:
    return Template("public/home.html")


@get("/pledges/{pledge_id:int}", name="pledge", sync_to_thread=False)
def pledge(pledge_id: FromPath[int]) -> Template:
    return Template("public/home.html")


@get("/pledges/{pledge_id:int}/receipt.json", sync_to_thread=False, media_type=MediaType.JSON)
def receipt(pledge_id: FromPath[int]) -> dict:
    return {}


@get("/api/v1/things", sync_to_thread=False)
def things() -> list:
    return []


@get("/export.csv", sync_to_thread=False, media_type="text/csv")
def export() -> str:
    return ""


def app(*handlers) -> Litestar:
    static = create_static_files_router(path="/static", directories=[ROOT / "static"])
    return Litestar(route_handlers=[*handlers, receipt, things, export, static], openapi_config=None)


def test_html_get_routes_are_found_and_json_static_and_api_routes_left_out():
    assert site.html_routes(app(home)) == ["/"]


def test_a_path_parameter_without_a_sample_fails_loudly(monkeypatch):
    monkeypatch.setattr(site, "PATH_SAMPLES", {})
    with pytest.raises(LookupError, match=r"pledge_id.*PATH_SAMPLES"):
        site.html_routes(app(home, pledge))


def test_path_parameters_are_filled_from_samples_fixed_or_looked_up(monkeypatch):
    monkeypatch.setattr(site, "PATH_SAMPLES", {"pledge_id": lambda base_url: f"{len(base_url)}"})
    assert site.html_routes(app(home, pledge), base_url="http://x") == ["/", "/pledges/8"]


def test_the_apps_own_route_table_yields_its_public_pages(routes):
    assert "/" in routes and all(not site.excluded(path) for path in routes)
